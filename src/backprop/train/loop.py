"""The training loop behind ``backprop train``: feed forward, loss, backward, update, per epoch
evaluation, checkpoints that resume exactly, and the pictures."""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import nn, optim
from ..autograd.anomaly import detect_anomaly
from ..autograd.grad_mode import no_grad
from ..random import Generator, default_generator
from ..serialization import load, save
from ..tensor import Tensor
from ..utils.data import DataLoader, TensorDataset
from .config import TrainConfig
from .data import LoadedData, load_data
from .models import build_model
from .progress import progress_bar

CHECKPOINT_NAME = "checkpoint.safetensors"


@dataclass
class TrainResult:
    """What a run produced: per-epoch history, the final test accuracy and the files written."""

    history: list[dict[str, float]] = field(default_factory=list)
    test_accuracy: float = float("nan")
    checkpoint: Path | None = None
    curves: Path | None = None
    heatmap: Path | None = None


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


def evaluate(model: nn.Module, loader: DataLoader) -> tuple[float, float, np.ndarray]:
    """Mean loss, accuracy and the predicted class of every sample, in eval mode."""
    was_training = model.training
    model.eval()
    total_loss, predictions = 0.0, []
    with no_grad():
        for images, labels in loader:
            logits = model(images)
            total_loss += nn.functional.cross_entropy(logits, labels, reduction="sum").item()
            predictions.append(logits.argmax(dim=1).numpy())
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
          log: Callable[[str], None] = print) -> TrainResult:
    """Train ``config.model`` on ``config.data``; checkpoint after every epoch into
    ``config.out``. With ``resume`` the run continues from a checkpoint exactly where it
    stopped (same parameters, optimizer state, schedule, random streams and data order)."""
    default_generator.manual_seed(config.seed)
    loader_generator = Generator(config.seed)
    data = load_data(config)
    model = build_model(config, data.image_shape, data.num_classes)
    optimizer = make_optimizer(config, model.parameters())
    train_loader, test_loader = make_loaders(data, config, loader_generator)
    scheduler = make_scheduler(config, optimizer, config.epochs * len(train_loader))
    result = TrainResult()
    first_epoch = 1
    if resume is not None:
        state = load(resume)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        default_generator.set_state(state["rng"]["default"])
        loader_generator.set_state(state["rng"]["loader"])
        result.history = list(state["history"])
        first_epoch = int(state["epoch"]) + 1
        log(f"resumed from {resume} after epoch {first_epoch - 1}")
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    loss_fn = nn.CrossEntropyLoss()
    monitor = None
    if config.diagnose:
        from ..diagnostics.monitor import GradientMonitor  # noqa: PLC0415 - only when asked

        monitor = GradientMonitor(model, optimizer, every=config.diagnose_every)
    with detect_anomaly() if config.detect_anomaly else contextlib.nullcontext():
        for epoch in range(first_epoch, config.epochs + 1):
            start = time.perf_counter()
            model.train()
            seen = correct = 0
            total = 0.0
            bar = progress_bar(train_loader, f"epoch {epoch}/{config.epochs}", config.progress)
            for images, labels in bar:
                loss, logits = train_step(model, loss_fn, optimizer, images, labels)
                if scheduler is not None:
                    scheduler.step()
                total += loss.item() * len(labels)
                correct += int((logits.detach().argmax(dim=1) == labels).sum().item())
                seen += len(labels)
            test_loss, test_acc, _ = evaluate(model, test_loader)
            record = {"epoch": epoch, "train_loss": total / seen, "train_accuracy": correct / seen,
                      "test_loss": test_loss, "test_accuracy": test_acc,
                      "lr": optimizer.param_groups[0]["lr"], "seconds": time.perf_counter() - start}
            result.history.append(record)
            log(f"epoch {epoch:3d}  loss {record['train_loss']:.4f}  train acc "
                f"{record['train_accuracy']:.4f}  test loss {test_loss:.4f}  test acc "
                f"{test_acc:.4f}  ({record['seconds']:.1f} s)")
            result.checkpoint = save_checkpoint(out / CHECKPOINT_NAME, config, data, model,
                                                optimizer, scheduler, epoch, result.history,
                                                loader_generator)
    if monitor is not None:
        monitor.close()
        report = monitor.report()
        (out / "diagnosis.txt").write_text(report + "\n")
        log(report)
        result.heatmap = monitor.plot_heatmap(out / "gradients.png")
    result.test_accuracy = result.history[-1]["test_accuracy"] if result.history else float("nan")
    (out / "history.json").write_text(json.dumps(result.history, indent=1))
    from .plots import save_curves  # noqa: PLC0415 - matplotlib is optional and slow to import

    result.curves = save_curves(result.history, out / "curves.png")
    return result


def train_step(model: nn.Module, loss_fn: Callable[[Tensor, Tensor], Tensor],
               optimizer: optim.Optimizer, images: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """One step of gradient descent: feed forward, loss, backward, update; the loss and logits."""
    logits = model(images)
    loss = loss_fn(logits, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss, logits


def save_checkpoint(path: Path, config: TrainConfig, data: LoadedData, model: nn.Module,
                    optimizer: optim.Optimizer, scheduler: Any, epoch: int,
                    history: list[dict[str, float]], loader_generator: Generator) -> Path:
    """Everything needed to evaluate, predict or resume, written atomically."""
    save({"format": "backprop-train-1", "config": config.to_dict(), "epoch": epoch,
          "classes": list(data.classes), "image_shape": list(data.image_shape),
          "normalize": [data.mean, data.std], "model": model.state_dict(),
          "optimizer": optimizer.state_dict(),
          "scheduler": None if scheduler is None else scheduler.state_dict(),
          "rng": {"default": default_generator.get_state(), "loader": loader_generator.get_state()},
          "history": history}, path)
    return path


def load_trained(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """The model saved in a ``backprop train`` checkpoint, in eval mode, and the checkpoint."""
    state = load(path)
    if not isinstance(state, dict) or state.get("format") != "backprop-train-1":
        raise ValueError(f"{path} is a checkpoint, but not one written by `backprop train`")
    config = TrainConfig.from_dict(state["config"], source=str(path))
    model = build_model(config, tuple(state["image_shape"]), len(state["classes"]))
    model.load_state_dict(state["model"])
    model.eval()
    return model, state


def predict(model: nn.Module, images: Tensor) -> np.ndarray:
    """Class probabilities for a batch of normalised images."""
    with no_grad():
        return nn.functional.softmax(model(images), dim=1).numpy()
