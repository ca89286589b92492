"""``backprop tune``: hyper-parameter search for the digits MLP with Optuna (optional extra).

Usage: backprop tune [--trials 50] [--timeout SECONDS] [--epochs 15] [--seed 0]
                     [--storage sqlite:///runs/tune/tune.db] [--study-name mlp-digits]
                     [--out runs/tune] [--val-fraction 0.2]

Each trial trains the MLP with a learning rate (log scale), width, depth, weight decay and
optimizer drawn by Optuna's TPE sampler, on the training split minus a validation part carved
from it. The validation accuracy is reported after every epoch and a median pruner stops trials
that fall below the median of earlier trials at the same epoch. The test split is never seen
while choosing: the best trial's settings are trained once more by ``train`` on the whole
training split, and only that model is evaluated on it, at the end.

The study lives in an SQLite file, so running the same command again continues it: unlike the
other commands' run folders, ``--out`` (default ``runs/tune``) is meant to be used again, and
its ``tune.db`` grows with every run. What each run produces besides trials (the picture of the
search and the best settings trained again) goes into a new folder of its own,
``OUT/STUDY/<date>-<time>/`` (``OUT/STUDY/latest`` points at the newest), so a later run never
replaces an earlier run's best model.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..console import interactive, say
from .config import seed_flag
from .run_folder import prepare, writable_folder

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")


@dataclass
class TuneResult:
    """The study, its best trial's settings and validation accuracy, the test accuracy and
    checkpoint of those settings trained again on the whole training split, and the search's
    picture."""

    study: Any
    best_params: dict[str, Any]
    best_val_accuracy: float
    test_accuracy: float
    checkpoint: Path
    picture: Path | None = None  # validation accuracy per trial (None without matplotlib)
    folder: Path | None = None   # this run's OUT/STUDY/<date>-<time>


def _import_optuna() -> Any:
    try:
        import optuna  # noqa: PLC0415 - optional extra, heavy to import
    except ImportError:
        raise ImportError("backprop tune needs Optuna, an optional dependency: "
                          "pip install 'backprop[tune]'") from None
    return optuna


def split_validation(data: Any, fraction: float, seed: int, subset: int | None = None) -> Any:
    """``data`` (a ``LoadedData``) with its training images split in two: the new training part,
    and a validation part (``fraction`` of them, chosen at random with ``seed``) put in place of
    the test split, so the loaders ``train`` uses serve training and validation batches.
    ``subset`` keeps only that many training images first (quick runs).

    >>> from backprop.train.config import TrainConfig
    >>> from backprop.train.data import load_data
    >>> part = split_validation(load_data(TrainConfig()), 0.25, seed=0, subset=400)
    >>> len(part.train_x), len(part.test_x)
    (300, 100)
    """
    if not 0 < fraction < 1:
        raise ValueError(f"tune: the validation fraction must be between 0 and 1; got {fraction}")
    count = len(data.train_x)
    if subset is not None:
        if subset < 2:
            raise ValueError(f"tune: the subset must hold at least 2 images; got {subset}")
        count = min(count, subset)
    order = np.random.default_rng(seed).permutation(len(data.train_x))[:count]
    held_out = max(1, round(count * fraction))
    if held_out >= count:
        raise ValueError(f"tune: a validation fraction of {fraction} of {count} images leaves "
                         "none to train on")
    validation, training = order[:held_out], order[held_out:]
    return dataclasses.replace(data, train_x=data.train_x[training], train_y=data.train_y[training],
                               test_x=data.train_x[validation], test_y=data.train_y[validation])


def suggest_config(trial: Any, base: Any) -> Any:
    """The MLP settings of one trial: ``base`` (a ``TrainConfig``) with the searched values.

    >>> from backprop.train.config import TrainConfig
    >>> class Lowest:  # any object with Optuna's suggest_* methods, e.g. optuna.trial.FixedTrial
    ...     def suggest_int(self, name, low, high, log=False): return low
    ...     def suggest_float(self, name, low, high, log=False): return low
    ...     def suggest_categorical(self, name, choices): return choices[0]
    >>> config = suggest_config(Lowest(), TrainConfig())
    >>> config.hidden, config.lr, config.optimizer
    ((32,), 0.0001, 'sgd')
    """
    width = trial.suggest_int("width", 32, 512, log=True)
    depth = trial.suggest_int("depth", 1, 3)
    return dataclasses.replace(
        base, model="mlp", hidden=(width,) * depth,
        lr=trial.suggest_float("lr", 1e-4, 1e-1, log=True),
        weight_decay=trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True),
        optimizer=trial.suggest_categorical("optimizer", OPTIMIZERS)).validate()


def run_trial(config: Any, data: Any, report: Callable[[int, float], None]) -> float:
    """Train ``config`` on ``data`` (its training and validation splits) with ``train``'s
    pieces, calling ``report(epoch, validation accuracy)`` after each epoch (it raises to
    prune); the final validation accuracy. Nothing is written: the chosen settings are trained
    again, by ``train`` itself, at the end of the search.

    >>> from backprop.train.config import TrainConfig
    >>> from backprop.train.data import load_data
    >>> config = TrainConfig(hidden=(32,), epochs=2, progress=False)
    >>> split = split_validation(load_data(config), 0.2, seed=0, subset=500)
    >>> epochs = []
    >>> accuracy = run_trial(config, split, lambda epoch, accuracy: epochs.append(epoch))
    >>> epochs, 0.1 < accuracy <= 1
    ([1, 2], True)
    """
    from .. import nn  # noqa: PLC0415 - keep `backprop --help` fast
    from ..random import Generator, default_generator  # noqa: PLC0415
    from .fit import Period, fit  # noqa: PLC0415
    from .loop import (evaluate, make_loaders, make_optimizer, make_scheduler,  # noqa: PLC0415
                       train_step)
    from .models import build_model  # noqa: PLC0415

    default_generator.manual_seed(config.seed)
    model = build_model(config, data.image_shape, data.num_classes)
    optimizer = make_optimizer(config, model.parameters())
    train_loader, val_loader = make_loaders(data, config, Generator(config.seed))
    scheduler = make_scheduler(config, optimizer, config.epochs * len(train_loader))
    loss_fn = nn.CrossEntropyLoss()
    accuracy = float("nan")

    def step(batch: Any) -> dict[str, float]:
        train_step(model, loss_fn, optimizer, *batch, scheduler)
        return {}  # a trial is judged by its validation accuracy alone

    def end_epoch(period: Period) -> None:
        nonlocal accuracy
        _, accuracy, _ = evaluate(model, val_loader)  # back in training mode after it
        report(period.number, accuracy)

    fit(range(1, config.epochs + 1), lambda epoch: train_loader, step, end_epoch,
        progress=False)  # the search's bar counts the trials
    return accuracy


def tune(trials: int | None = 50, timeout: float | None = None, epochs: int = 15, seed: int = 0,
         storage: str | None = None, study_name: str = "mlp-digits", out: str | Path = "runs/tune",
         val_fraction: float = 0.2, subset: int | None = None, startup_trials: int = 5,
         warmup_epochs: int = 2, progress: bool = True,
         log: Callable[[str], None] = say) -> TuneResult:
    """Search the digits MLP's learning rate, width, depth, weight decay and optimizer.

    ``trials`` more trials (or until ``timeout`` seconds) are added to the study ``study_name``
    in ``storage`` (default: ``sqlite:///OUT/tune.db``), created if it does not exist. The median
    pruner prunes from epoch ``warmup_epochs + 1`` on, once ``startup_trials`` trials finished.
    The best trial's settings are then trained once more by ``train`` on the whole training split
    (``subset`` applies to the trials only) into ``OUT/STUDY/<date>-<time>/best/``
    (checkpoint, history, curves), and that model alone is evaluated on the test split. The
    validation accuracy of every trial is drawn in ``OUT/STUDY/<date>-<time>/search.png``.

    >>> import tempfile  # doctest: +SKIP
    >>> result = tune(trials=2, epochs=1, out=tempfile.mkdtemp(), progress=False)  # doctest: +SKIP
    >>> sorted(result.best_params)  # doctest: +SKIP
    ['depth', 'lr', 'optimizer', 'weight_decay', 'width']
    """
    if trials is not None and trials < 1:
        raise ValueError(f"tune: --trials must be at least 1; got {trials}")
    if timeout is not None and timeout <= 0:
        raise ValueError(f"tune: --timeout must be positive; got {timeout}")
    out = writable_folder(out, "--out")
    run_folder = prepare(None, "tune", base=out / study_name)
    optuna = _import_optuna()
    from .config import TrainConfig  # noqa: PLC0415
    from .data import load_data  # noqa: PLC0415
    from .loop import train  # noqa: PLC0415
    from .plots import save_search  # noqa: PLC0415

    out.mkdir(parents=True, exist_ok=True)
    if storage is None:
        storage = f"sqlite:///{out / 'tune.db'}"
    base = TrainConfig(data="digits", model="mlp", epochs=epochs, seed=seed,
                       progress=False).validate()
    data = load_data(base)
    split = split_validation(data, val_fraction, seed, subset)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line a trial, ours
    try:
        study = optuna.create_study(
            study_name=study_name, storage=storage, direction="maximize", load_if_exists=True,
            pruner=optuna.pruners.MedianPruner(n_startup_trials=startup_trials,
                                               n_warmup_steps=warmup_epochs))
    except Exception as err:  # a bad URL or an unreadable file: SQLAlchemy's own exceptions
        if not type(err).__module__.startswith("sqlalchemy"):
            raise
        raise ValueError(f"tune: cannot open the study storage {storage!r}: "
                         f"{str(err).splitlines()[0]}") from None
    # A resumed study must not replay the first run's random draws: seed by the trials so far.
    study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.trials))
    log(f"study {study_name!r} in {storage}: {len(study.trials)} trials so far")

    def objective(trial: Any) -> float:
        config = suggest_config(trial, base)

        def report(epoch: int, accuracy: float) -> None:
            trial.report(accuracy, epoch)
            if trial.should_prune():
                log(f"trial {trial.number:3d}  pruned after epoch {epoch}: validation accuracy "
                    f"{accuracy:.4f}  {_describe(trial.params)}")
                raise optuna.TrialPruned()

        accuracy = run_trial(config, split, report)
        log(f"trial {trial.number:3d}  validation accuracy {accuracy:.4f}  "
            f"{_describe(trial.params)}")
        return accuracy

    study.optimize(objective, n_trials=trials, timeout=timeout,
                   show_progress_bar=progress and interactive())
    finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not finished:
        raise ValueError(f"tune: no trial of study {study_name!r} completed (all pruned or "
                         "failed); run more trials")
    best = study.best_trial
    # The chosen settings, trained once more by `train` on the whole training split (the
    # validation part included), checkpointed like any `backprop train` run; its test accuracy
    # is reported, never used to choose.
    chosen = suggest_config(optuna.trial.FixedTrial(best.params), base)
    folder = run_folder.create(log)
    log(f"best trial {best.number}: training its settings on all {len(data.train_x)} training "
        f"images into {folder / 'best'}")
    final = train(dataclasses.replace(chosen, out=str(folder / "best"), progress=progress),
                  log=lambda line: None)
    run_folder.mark_latest()
    drawn = [(t.number, t.state.name.lower(), _last_value(t)) for t in study.trials
             if t.state.name in ("COMPLETE", "PRUNED")]
    picture = save_search([row for row in drawn if row[2] is not None], folder / "search.png")
    return TuneResult(study, dict(best.params), float(best.value), final.test_accuracy,
                      final.checkpoint, picture, folder)


def _last_value(trial: Any) -> float | None:
    """A finished trial's value, or the last validation accuracy a pruned one reported."""
    if trial.value is not None:
        return float(trial.value)
    steps = trial.intermediate_values
    return float(steps[max(steps)]) if steps else None


def _describe(params: dict[str, Any]) -> str:
    return (f"lr {params['lr']:.2e}  width {params['width']}  depth {params['depth']}  "
            f"weight decay {params['weight_decay']:.1e}  {params['optimizer']}")


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``tune`` sub-command."""
    command = commands.add_parser(
        "tune", help="search the digits MLP's hyper-parameters with Optuna (pip install "
        "'backprop[tune]'), pruning bad trials; resumable",
        description="Optuna's TPE sampler draws the learning rate (log scale), width, depth, "
        "weight decay and optimizer of the digits MLP; a median pruner stops a trial whose "
        "validation accuracy falls below the median of earlier trials at the same epoch (from "
        "epoch 3, once 5 trials finished). The study is stored in SQLite: the same command run "
        "again continues it. The best settings are then trained on the whole training split "
        "(OUT/STUDY/DATE-TIME/best/, a new folder each run) and only that model sees the test "
        "split.")
    command.add_argument("--trials", type=int, default=50, metavar="N",
                         help="trials to add to the study (default: 50)")
    command.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                         help="stop starting trials after this many seconds")
    command.add_argument("--epochs", type=int, default=15, metavar="N",
                         help="epochs a trial (default: 15)")
    command.add_argument("--seed", type=seed_flag, default=0, metavar="N",
                         help="seed of the validation split, the training and the sampler "
                         "(default: 0)")
    command.add_argument("--storage", metavar="URL",
                         help="Optuna storage URL (default: sqlite:///OUT/tune.db)")
    command.add_argument("--study-name", default="mlp-digits", metavar="NAME",
                         help="the same name continues a study (default: mlp-digits)")
    command.add_argument("--out", default="runs/tune", metavar="DIR",
                         help="folder of the study database, used again by every run (default: "
                         "runs/tune); each run's outputs go into a new OUT/STUDY/DATE-TIME")
    command.add_argument("--val-fraction", type=float, default=0.2, metavar="FRACTION",
                         help="share of the training images held out to choose (default: 0.2)")
    command.add_argument("--subset", type=int, default=None, metavar="N",
                         help="trials use only this many training images (quick runs); the "
                         "final training of the best settings uses all")
    command.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                         help="a progress bar over the trials, when stderr is a terminal")
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Run the search and print the best trial."""
    if args.epochs < 1:
        raise ValueError(f"tune: --epochs must be at least 1; got {args.epochs}")
    result = tune(trials=args.trials, timeout=args.timeout, epochs=args.epochs, seed=args.seed,
                  storage=args.storage, study_name=args.study_name, out=args.out,
                  val_fraction=args.val_fraction, subset=args.subset, progress=args.progress)
    states = [t.state.name.lower() for t in result.study.trials]
    counts = ", ".join(f"{states.count(s)} {s}" for s in sorted(set(states)))
    say(f"{len(states)} trials ({counts})")
    say(f"best trial {result.study.best_trial.number}: validation accuracy "
        f"{result.best_val_accuracy:.4f}  {_describe(result.best_params)}")
    say(f"test accuracy {result.test_accuracy:.4f}")
    say(f"checkpoint {result.checkpoint}")
    if result.picture is not None:
        say(f"search {result.picture}")
