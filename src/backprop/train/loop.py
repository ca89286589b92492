"""The training loop behind ``backprop train``: feed forward, loss, backward, update, per epoch
evaluation, checkpoints that resume exactly, and the pictures."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import backend, nn, optim
from ..atomic import atomic_write_text
from ..autograd.grad_mode import no_grad
from ..console import format_duration, say
from ..diagnostics.anomaly import detect_anomaly
from ..random import Generator, default_generator
from ..serialization import load, load_tagged, save
from ..tensor import Tensor
from ..utils.data import DataLoader, TensorDataset
from .checkpointing import (Checkpointer, Position, remove_partial_writes, restore_rng_states,
                            resume_command, rng_states)
from .config import ConfigError, TrainConfig
from .data import LoadedData, load_data
from .fit import Period, fit, update
from .models import build_model
from .run_folder import prepare

CHECKPOINT_NAME = "checkpoint.safetensors"
TRAIN_FORMAT = "backprop-train-1"  # the "format" of the checkpoints `backprop train` writes
NOT_TRAINED = "is a checkpoint, but not one written by `backprop train`"


@dataclass
class TrainResult:
    """What a run produced: per-epoch history, the final test accuracy and the files written."""

    history: list[dict[str, float]] = field(default_factory=list)
    checkpoint: Path | None = None
    curves: Path | None = None
    heatmap: Path | None = None

    @property
    def test_accuracy(self) -> float:
        """The last epoch's test accuracy (NaN before the first)."""
        return self.history[-1]["test_accuracy"] if self.history else float("nan")


def make_optimizer(config: TrainConfig, params: Any) -> optim.Optimizer:
    """The optimizer named in ``config`` with its hyper-parameters."""
    if config.optimizer == "sgd":
        return optim.SGD(params, lr=config.lr, momentum=config.momentum,
                         weight_decay=config.weight_decay)
    if config.optimizer == "rmsprop":
        return optim.RMSprop(params, lr=config.lr, momentum=config.momentum,
                             weight_decay=config.weight_decay)
    if config.optimizer == "adagrad":
        return optim.Adagrad(params, lr=config.lr, weight_decay=config.weight_decay)
    kind = optim.AdamW if config.optimizer == "adamw" else optim.Adam
    return kind(params, lr=config.lr, weight_decay=config.weight_decay)


def make_scheduler(config: TrainConfig, optimizer: optim.Optimizer, total_steps: int) -> Any:
    """A per-step learning-rate schedule over the whole run (or None)."""
    scheduler = optim.lr_scheduler
    if config.scheduler == "cosine":
        return scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if config.scheduler == "step":
        return scheduler.StepLR(optimizer, step_size=max(1, total_steps // 3), gamma=0.1)
    if config.scheduler == "onecycle":
        return scheduler.OneCycleLR(optimizer, max_lr=config.lr, total_steps=total_steps)
    return None


def evaluate(model: nn.Module, loader: DataLoader, device: Any = None
             ) -> tuple[float, float, np.ndarray]:
    """Mean loss, accuracy and the predicted class of every sample, in eval mode (batches are
    moved to ``device``, the model's)."""
    was_training = model.training
    model.eval()
    total_loss, predictions = 0.0, []
    with no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            total_loss += nn.functional.cross_entropy(logits, labels, reduction="sum").item()
            predictions.append(logits.argmax(dim=1).cpu().numpy())
    model.train(was_training)
    predicted = np.concatenate(predictions)
    targets = loader.dataset.tensors[1].numpy()
    return total_loss / len(predicted), float((predicted == targets).mean()), predicted


def make_loaders(data: LoadedData, config: TrainConfig, generator: Generator
                 ) -> tuple[DataLoader, DataLoader]:
    """The shuffled training loader (drawing its order from ``generator``) and the test loader."""
    train = DataLoader(TensorDataset(data.train_x, data.train_y), batch_size=config.batch_size,
                       shuffle=True, generator=generator)
    test = DataLoader(TensorDataset(data.test_x, data.test_y), batch_size=512)
    return train, test


def train(config: TrainConfig, resume: str | Path | None = None,
          log: Callable[[str], None] = say) -> TrainResult:
    """Train ``config.model`` on ``config.data``; checkpoint after every epoch (and every
    ``config.checkpoint_every`` steps) into ``config.out`` (None: a new folder
    ``runs/train/<date>-<time>``; see ``run_folder``). With ``resume`` the run continues
    from a checkpoint exactly where it stopped, mid-epoch included (same parameters, optimizer
    state, schedule, random streams and data order: the same final parameters, bit for bit),
    writing next to that checkpoint unless ``config.out`` names another (new) folder; a finished
    run is left as it is. Ctrl-C saves a checkpoint at the end of the current step and raises
    ``checkpointing.TrainingInterrupted`` (a ``KeyboardInterrupt``) whose message is the
    command that resumes it.
    With ``config.distributed`` this process is one rank of an ``mpiexec`` job (see
    ``_Ranks``)."""
    ranks = _Ranks(config)
    if not ranks.is_main:  # rank 0 alone logs and shows progress
        config, log = dataclasses.replace(config, progress=False), _quiet
    with ranks.abort_on_error():
        return _train(config, resume, log, ranks)


def _train(config: TrainConfig, resume: str | Path | None, log: Callable[[str], None],
           ranks: _Ranks) -> TrainResult:
    device = ranks.device(config.device)
    # Rank 0 alone writes: only it checks and makes the folder.
    folder = prepare(config.out, "train", resume=resume) if ranks.is_main else None
    default_generator.manual_seed(config.seed)
    loader_generator = Generator(config.seed)
    data = load_data(config)
    config = dataclasses.replace(config, data_root=data.root)  # found again from anywhere
    model = build_model(config, data.image_shape, data.num_classes).to(device)
    optimizer = make_optimizer(config, model.parameters())
    train_loader, test_loader = make_loaders(data, config, loader_generator)
    train_loader = ranks.shard(train_loader, config)
    scheduler = make_scheduler(config, optimizer, config.epochs * len(train_loader))
    result = TrainResult()
    position = Position(epoch=1, batches=0, step=0)  # where training starts (or resumes)
    if resume is not None:
        state = load(resume, map_location="cpu")  # then onto this run's device, wherever saved
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        restore_rng_states(state["rng"], loader_generator)
        result.history = list(state["history"])
        position = Position.of_checkpoint(state, len(train_loader))
        if position.epoch > config.epochs:
            return _finished(resume, position, config, result, log, write=ranks.is_main)
        log(f"resumed from {resume} at epoch {position.epoch} step {position.step}")
    out = Path(".") if folder is None else folder.create(log)
    config = dataclasses.replace(config, out=str(out))
    if ranks.is_main:
        for partial in remove_partial_writes(out / CHECKPOINT_NAME):
            log(f"removed {partial}, a checkpoint write cut short")
    step_model = ranks.wrap(model)  # `model` itself stays bare: checkpoints, evaluation, monitor

    def checkpoint(at: Position) -> Path:
        if folder is None:
            return out / CHECKPOINT_NAME  # rank 0 writes it
        path = save_checkpoint(out / CHECKPOINT_NAME, config, data, model, optimizer, scheduler,
                               at.epoch - 1, result.history, loader_generator, position=at)
        folder.mark_latest()
        return path

    checkpointer = Checkpointer(checkpoint, config.checkpoint_every, position.step,
                                lambda path: resume_command(config, path))
    steps_per_epoch = len(train_loader)
    loss_fn = nn.CrossEntropyLoss()
    epoch_start: dict | None = None  # the loader generator's state when the epoch began
    monitor = None
    if config.diagnose:
        from ..diagnostics.monitor import GradientMonitor  # noqa: PLC0415 - only when asked

        monitor = GradientMonitor(model, optimizer, every=config.diagnose_every)

    def batches(epoch: int) -> DataLoader:
        nonlocal epoch_start
        model.train()
        ranks.set_epoch(train_loader, epoch)
        remaining = position.remaining_batches(train_loader, loader_generator)
        epoch_start = loader_generator.get_state()  # replays this epoch's order on resume
        return remaining

    def step(batch: tuple[Tensor, Tensor]) -> dict[str, float]:
        images, labels = batch[0].to(device), batch[1].to(device)
        loss, logits = train_step(step_model, loss_fn, optimizer, images, labels, scheduler)
        return {"loss": loss.item() * len(labels),
                "correct": int((logits.detach().argmax(dim=1) == labels).sum().item()),
                "seen": len(labels)}

    def after_step(period: Period) -> bool:
        at = position.step + period.steps
        if at >= checkpointer.next_step:  # never, with checkpoint_every=0 and no Ctrl-C
            checkpointer.step_done(Position(period.number, position.batches + period.steps, at,
                                            epoch_start, period.sums["loss"],
                                            period.sums["correct"], period.sums["seen"]),
                                   steps_per_epoch)
        return False  # Ctrl-C stops by raising, from step_done

    def end_epoch(period: Period) -> None:
        nonlocal position
        total, correct, seen = ranks.sum(period.sums["loss"], period.sums["correct"],
                                         period.sums["seen"])
        test_loss, test_acc, _ = evaluate(model, test_loader, device)
        record = {"epoch": period.number, "train_loss": total / seen,
                  "train_accuracy": correct / seen, "test_loss": test_loss,
                  "test_accuracy": test_acc, "lr": optimizer.param_groups[0]["lr"],
                  "seconds": period.seconds}
        result.history.append(record)
        log(f"epoch {period.number:3d}  loss {record['train_loss']:.4f}  train acc "
            f"{record['train_accuracy']:.4f}  test loss {test_loss:.4f}  test acc "
            f"{test_acc:.4f}  ({format_duration(record['seconds'])})")
        position = Position(period.number + 1, batches=0, step=position.step + period.steps)
        result.checkpoint = checkpointer.epoch_done(position)

    # A resumed epoch's sums so far are rank 0's: the other ranks start theirs from zero.
    so_far = position if ranks.is_main else Position(position.epoch, batches=0, step=0)
    with detect_anomaly() if config.detect_anomaly else contextlib.nullcontext(), checkpointer:
        fit(range(position.epoch, config.epochs + 1), batches, step, end_epoch,
            after_step=after_step, progress=config.progress,
            first_sums={"loss": so_far.loss_sum, "correct": so_far.correct, "seen": so_far.seen})
    if not ranks.is_main:  # rank 0 alone writes the report, the history and the pictures
        if monitor is not None:
            monitor.close()
        result.checkpoint = None  # rank 0 wrote it, maybe on another machine
        return result
    if monitor is not None:
        monitor.close()
        report = monitor.report()
        atomic_write_text(out / "diagnosis.txt", report + "\n", "train")
        log(report)
        result.heatmap = monitor.plot_heatmap(out / "gradients.png")
    return _write_history(out, result)


def _write_history(out: Path, result: TrainResult) -> TrainResult:
    """The end of a run: ``history.json`` and ``curves.png``."""
    atomic_write_text(out / "history.json", json.dumps(result.history, indent=1), "train")
    from .plots import save_curves  # noqa: PLC0415 - matplotlib is optional and slow to import

    result.curves = save_curves(result.history, out / "curves.png")
    return result


def _finished(checkpoint: str | Path, position: Position, config: TrainConfig,
              result: TrainResult, log: Callable[[str], None], write: bool) -> TrainResult:
    """Resuming a run that trained all its epochs: say so and leave it as it is, except for
    the history and curves of a run killed after its last checkpoint, before it wrote them
    (when ``write``: rank 0 of a distributed run)."""
    log(f"nothing to resume: {checkpoint} is a finished run, {position.epoch - 1} epochs "
        f"trained of --epochs {config.epochs}; give a larger --epochs to train it further")
    result.checkpoint = Path(checkpoint)
    if write and not (result.checkpoint.parent / "history.json").exists():
        return _write_history(result.checkpoint.parent, result)
    return result


def train_step(model: nn.Module, loss_fn: Callable[[Tensor, Tensor], Tensor],
               optimizer: optim.Optimizer, images: Tensor, labels: Tensor,
               scheduler: Any = None) -> tuple[Tensor, Tensor]:
    """One step of gradient descent: feed forward, loss, ``fit.update``; the loss and logits."""
    logits = model(images)
    loss = loss_fn(logits, labels)
    update(loss, optimizer, scheduler)
    return loss, logits


def save_checkpoint(path: Path, config: TrainConfig, data: LoadedData, model: nn.Module,
                    optimizer: optim.Optimizer, scheduler: Any, epoch: int,
                    history: list[dict[str, float]], loader_generator: Generator,
                    position: Position | None = None) -> Path:
    """Everything needed to evaluate, predict or resume, written atomically: ``epoch`` is the
    number of finished epochs, ``position`` where in the data training stands (see
    ``checkpointing.Position``; ``None``: at the start of epoch ``epoch + 1``)."""
    save({"format": TRAIN_FORMAT, "config": config.to_dict(), "epoch": epoch,
          "step": None if position is None else position.step,
          "position": None if position is None else position.to_state(),
          "classes": list(data.classes), "image_shape": list(data.image_shape),
          "normalize": [data.mean, data.std], "model": model.state_dict(),
          "optimizer": optimizer.state_dict(),
          "scheduler": None if scheduler is None else scheduler.state_dict(),
          "rng": rng_states(loader_generator),
          "history": history}, path)
    return path


def load_trained(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """The model saved in a ``backprop train`` checkpoint, in eval mode, and the checkpoint."""
    state = load_tagged(path, TRAIN_FORMAT, "load_trained", NOT_TRAINED)
    config = TrainConfig.from_dict(state["config"], source=str(path))
    model = build_model(config, tuple(state["image_shape"]), len(state["classes"]))
    model.load_state_dict(state["model"])
    model.eval()
    return model, state


def trained_config(state: dict[str, Any], source: str | Path,
                   data_root: str | None = None) -> TrainConfig:
    """The settings a ``backprop train`` checkpoint was written with, its data read from
    ``data_root`` when given (the data moved, or the checkpoint did) instead of the folder it
    recorded."""
    saved = dict(state["config"])
    if data_root is not None:
        saved["data_root"] = data_root
    return TrainConfig.from_dict(saved, source=str(source))


def predict(model: nn.Module, images: Tensor) -> np.ndarray:
    """Class probabilities for a batch of normalised images."""
    with no_grad():
        return nn.functional.softmax(model(images), dim=1).numpy()


# -- `backprop train --distributed` ---------------------------------------------------------------

def _quiet(message: str) -> None:
    """The log of ranks other than 0."""


class _Ranks:
    """This process's part in a ``--distributed`` run (``mpiexec -n N backprop train
    --distributed``); without it, rank 0 of 1 and every method is a no-op.

    Each rank trains the same model (``DistributedDataParallel`` averages the gradients) on its
    share of every batch: ``batch_size`` stays the global batch, split evenly over the ranks, so
    the hyper-parameters mean the same whatever N. The shares come from a
    ``DistributedSampler`` seeded with ``config.seed`` and set to each epoch. Every rank
    evaluates the full test set (their models are equal); the training loss and accuracy are
    summed over the ranks. Rank 0 alone logs and writes files. An error in any rank stops the
    whole job (``abort_on_error``) instead of leaving the others waiting.
    """

    def __init__(self, config: TrainConfig) -> None:
        self.enabled = config.distributed
        self.rank, self.world_size = 0, 1
        if not self.enabled:
            return
        from .. import distributed  # noqa: PLC0415 - imports mpi4py: only when asked

        self.rank, self.world_size = distributed.init()
        if config.batch_size % self.world_size:
            raise ConfigError(f"batch_size {config.batch_size} cannot be split evenly over "
                              f"{self.world_size} processes; use a multiple of {self.world_size}")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self, name: str) -> backend.device:
        """The device this rank trains on; a bare ``cuda`` gives the ranks one GPU each, in
        turn (rank r takes GPU r mod the number of GPUs)."""
        op = f"--device {name}"
        try:  # a missing CuPy, driver or card is the user's setting: refused before any work
            wanted = backend.device(name)
            if self.enabled and wanted.type != "cpu" and wanted.index is None:
                count = backend.backend_for(wanted.type, op).device_count()
                wanted = backend.device(wanted.type, self.rank % max(count, 1))
            return backend.as_device(wanted, op)
        except (ImportError, RuntimeError, ValueError) as err:
            raise ConfigError(str(err)) from None

    def abort_on_error(self) -> Any:
        if not self.enabled:
            return contextlib.nullcontext()
        from ..distributed import abort_on_error  # noqa: PLC0415

        return abort_on_error()

    def shard(self, loader: DataLoader, config: TrainConfig) -> DataLoader:
        """This rank's loader: its share of each batch of ``loader``'s data set."""
        if not self.enabled:
            return loader
        from ..utils.data import DistributedSampler  # noqa: PLC0415

        sampler = DistributedSampler(loader.dataset, self.world_size, self.rank, shuffle=True,
                                     seed=config.seed)
        return DataLoader(loader.dataset, batch_size=config.batch_size // self.world_size,
                          sampler=sampler)

    def set_epoch(self, loader: DataLoader, epoch: int) -> None:
        if self.enabled:
            loader.sampler.set_epoch(epoch)

    def wrap(self, model: nn.Module) -> nn.Module:
        if not self.enabled:
            return model
        from ..nn.parallel import DistributedDataParallel  # noqa: PLC0415

        return DistributedDataParallel(model)

    def sum(self, *values: float) -> tuple[float, ...]:
        """Each value summed over the ranks."""
        if not self.enabled:
            return values
        from .. import distributed  # noqa: PLC0415

        totals = Tensor._wrap(np.array(values, dtype=np.float64))
        distributed.all_reduce(totals, op="sum")
        return tuple(totals.tolist())
