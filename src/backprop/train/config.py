"""The training settings: one commented dataclass, filled from defaults, a TOML file and flags."""

from __future__ import annotations

import argparse
import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import backend


class ConfigError(ValueError):
    """A setting that is unknown, of the wrong type, or out of range."""


@dataclass
class TrainConfig:
    """Everything ``backprop train`` needs; each field is also a ``--flag`` and a TOML key."""

    data: str = "digits"                # digits | fashion-mnist | mnist
    data_root: str | None = None        # folder with the IDX files (mnist; fashion-mnist default:
                                        # the Debian package's folder); a checkpoint records
                                        # the absolute folder its data was read from
    model: str = "mlp"                  # mlp | cnn | resnet
    hidden: tuple[int, ...] = (256, 128)  # MLP hidden layer sizes
    channels: tuple[int, ...] = (16, 32)  # CNN: channels of its two conv blocks; ResNet: of each
                                          # stage (each stage after the first halves H and W)
    blocks: int = 2                     # ResNet residual blocks per stage
    activation: str = "relu"            # relu | tanh | sigmoid | gelu | silu | leaky_relu | elu
    init: str = "default"               # default (PyTorch's) | kaiming | xavier
    optimizer: str = "adam"             # sgd | adam | adamw | rmsprop | adagrad
    lr: float = 1e-3                    # resnet: 3e-3 (MODEL_DEFAULTS) unless given
    momentum: float = 0.9               # SGD and RMSprop momentum
    weight_decay: float = 0.0
    scheduler: str = "cosine"           # none | cosine | step | onecycle
    epochs: int = 30
    batch_size: int = 64
    seed: int = 0
    out: str | None = None              # folder for the checkpoint, curves and log (None: a new
                                        # runs/train/<date>-<time>, see train.run_folder)
    progress: bool = True               # show a progress bar (tqdm, when installed)
    diagnose: bool = False              # record gradient health: diagnosis.txt, gradients.png
    diagnose_every: int = 10            # with diagnose: record one step in N
    detect_anomaly: bool = False        # stop at the first NaN/inf, naming its op and line
    checkpoint_every: int = 0           # also checkpoint every N steps (0: at each epoch end only)
    distributed: bool = False           # data-parallel over the ranks of `mpiexec -n N`: each
                                        # takes batch_size / N of every batch; rank 0 writes
    device: str = "cpu"                 # cpu | cuda | cuda:N (CuPy); checkpoints load anywhere

    def validate(self) -> TrainConfig:
        """Check every value; raise ``ConfigError`` naming the ``--flag``."""
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{flag(name)} must be one of {', '.join(allowed)}; got "
                                  f"{getattr(self, name)!r}")
        try:
            backend.device(self.device)
        except ValueError as err:
            raise ConfigError(f"--device: {str(err).removeprefix('device: ')}") from None
        at_least(self, 1, "epochs", "batch_size", "diagnose_every", "blocks")
        at_least(self, 0, "seed")
        if self.checkpoint_every < 0:
            raise ConfigError(f"--checkpoint-every must be 0 (epoch ends only) or a number of "
                              f"steps; got {self.checkpoint_every}")
        positive_finite(self, "lr")
        if not 0 <= self.momentum < 1:
            raise ConfigError(f"--momentum must be in [0, 1); got {self.momentum}")
        if not 0 <= self.weight_decay < math.inf:
            raise ConfigError(f"--weight-decay must be 0 or a positive number; got "
                              f"{self.weight_decay}")
        if any(n < 1 for n in (*self.hidden, *self.channels)):
            raise ConfigError("--hidden and --channels sizes must be positive integers")
        if self.model == "cnn" and len(self.channels) != 2:
            raise ConfigError(f"--channels: the cnn model has two conv blocks, so two channel "
                              f"counts; got {len(self.channels)}: {self.channels}")
        if self.model == "resnet" and not self.channels:
            raise ConfigError("--channels: the resnet model needs at least one stage")
        if self.data == "mnist" and self.data_root is None:
            raise ConfigError("--data mnist needs --data-root DIR, the folder holding MNIST's "
                              "four IDX files (backprop never downloads)")
        return self

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "settings") -> TrainConfig:
        """Build from a dict (a TOML table or a checkpoint's saved settings), checking types."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        converted = {}
        for key, value in values.items():
            key = key.replace("-", "_")
            if key not in known:
                raise ConfigError(f"{source}: unknown setting {key!r}; known: "
                                  f"{', '.join(known)}")
            converted[key] = _convert(key, value, known[key].default, source)
        return cls(**converted).validate()


ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "silu", "leaky_relu", "elu")
# The settings that take one of a few words (the flags list them in --help).
CHOICES = {"data": ("digits", "fashion-mnist", "mnist"), "model": ("mlp", "cnn", "resnet"),
           "activation": ACTIVATIONS, "init": ("default", "kaiming", "xavier"),
           "optimizer": ("sgd", "adam", "adamw", "rmsprop", "adagrad"),
           "scheduler": ("none", "cosine", "step", "onecycle")}
# --help's name for a value, where the setting's own name would not say what to type.
METAVARS = {"data_root": "DIR", "out": "DIR", "hidden": "SIZES", "channels": "SIZES",
            "device": "DEVICE"}
HELP = {"data_root": "folder with the four IDX files (needed for mnist; fashion-mnist default: "
                     "/usr/share/datasets/fashion-mnist)",
        "out": "folder for the checkpoint, history and pictures (default: a new "
               "runs/train/DATE-TIME folder)",
        "hidden": "MLP hidden layer sizes, comma-separated", "device": "cpu, cuda or cuda:N"}


def flag(name: str) -> str:
    """The command-line flag of a setting: ``--weight-decay`` for ``weight_decay``."""
    return "--" + name.replace("_", "-")


def at_least(config: Any, low: int, *names: str) -> None:
    """Raise ``ConfigError`` naming the flag of the first of ``names`` below ``low``."""
    for name in names:
        value = getattr(config, name)
        if value < low:
            bound = "0 or more" if low == 0 else f"at least {low}"
            raise ConfigError(f"{flag(name)} must be {bound}; got {value}")


def positive_finite(config: Any, *names: str) -> None:
    """Raise ``ConfigError`` naming the flag of the first of ``names`` that is not a positive
    finite number (a learning rate of 0, inf or NaN trains nothing, or NaN weights)."""
    for name in names:
        value = getattr(config, name)
        if not 0 < value < math.inf:  # NaN too
            raise ConfigError(f"{flag(name)} must be a positive finite number; got {value}")


def _convert(key: str, value: Any, default: Any, source: str) -> Any:
    if value is None and default is None:  # an optional setting left unset (data_root, out)
        return None
    if isinstance(default, tuple):
        items = value.split(",") if isinstance(value, str) else value
        try:
            return tuple(int(v) for v in items)
        except (TypeError, ValueError):
            raise ConfigError(f"{source}: {flag(key)} must be a list of integers; got "
                              f"{value!r}") from None
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{source}: {flag(key)} must be true or false; got {value!r}")
    kind = type(default) if default is not None else str
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: {flag(key)} must be a{'n' if kind is int else ''} "
                          f"{kind.__name__}; got {value!r}") from None


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML settings file (a flat table, or one under ``[train]``)."""
    try:
        import tomllib  # noqa: PLC0415 - Python 3.11+
    except ImportError:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib  # noqa: PLC0415
        except ImportError:
            raise ConfigError("--config needs Python 3.11+ or the tomli package") from None
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"--config: no such file: {path}")
    try:
        with path.open("rb") as handle:
            table = tomllib.load(handle)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"--config: {path} is not valid TOML: {err}") from None
    return table.get("train", table)


# Settings whose good value depends on the model, used when neither the TOML file nor the flags
# give one. The residual network's He-initialised convolutions under batch norm move slowly at
# Adam's 1e-3: on the digits, 30 epochs at 3e-3 left 2-5 test errors of 355 over five seeds,
# at 1e-3 3-7 errors over four.
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {"resnet": {"lr": 3e-3}}


def merged(config_file: str | None, flags: dict[str, Any],
           base: dict[str, Any] | None = None) -> TrainConfig:
    """Defaults, then the model's own defaults (``MODEL_DEFAULTS``), then ``base`` (a resumed
    checkpoint's settings), then the TOML file, then the flags the user gave.

    >>> merged(None, {"model": "resnet"}).lr, merged(None, {"model": "resnet", "lr": 0.01}).lr
    (0.003, 0.01)
    """
    values: dict[str, Any] = dict(base or {})
    if config_file:
        values.update({k.replace("-", "_"): v for k, v in load_toml(config_file).items()})
    values.update({k: v for k, v in flags.items() if v is not None})
    for key, value in MODEL_DEFAULTS.get(str(values.get("model", TrainConfig.model)), {}).items():
        values.setdefault(key, value)
    return TrainConfig.from_dict(values, source=config_file or "flags")


def flag_names() -> list[tuple[str, Any, str]]:
    """``(name, default, type name)`` for each setting, to build the command's flags."""
    return [(f.name, f.default, type(f.default).__name__) for f in dataclasses.fields(TrainConfig)]


def add_setting_flags(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """One ``--flag`` per setting (``None`` when not given, so a TOML file and the defaults fill
    in the rest), except those in ``skip``."""
    for name, default, kind in flag_names():
        if name in skip:
            continue
        if isinstance(default, bool):
            parser.add_argument(flag(name), action=argparse.BooleanOptionalAction, default=None)
            continue
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        text = HELP.get(name, "")
        if default is not None:
            text += f" (default: {shown})"
        parser.add_argument(flag(name), dest=name, default=None, choices=CHOICES.get(name),
                            metavar=METAVARS.get(name, "N" if kind == "int" else None),
                            help=text.strip())


def seed_flag(text: str) -> int:
    """``--seed``'s value: an integer, 0 or more (argparse names the flag in its error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer; got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more; got {value}")
    return value


def add_run_flags(parser: argparse.ArgumentParser, command: str, defaults: Any) -> None:
    """The flags every training sub-command shares: ``--epochs --seed --out --batch-size --lr
    --progress``, their defaults those of ``defaults`` (the command's config)."""
    def number(flag: str, kind: type, name: str) -> None:
        parser.add_argument(flag, type=kind, default=getattr(defaults, name),
                            metavar="N" if kind is int else None, help="(default: %(default)s)")

    number("--epochs", int, "epochs")
    number("--seed", int, "seed")
    parser.add_argument("--out", metavar="DIR", help=f"folder for the run's files (default: a "
                        f"new runs/{command}/DATE-TIME folder)")
    number("--batch-size", int, "batch_size")
    number("--lr", float, "lr")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                        help="a progress bar, when stderr is a terminal (default: %(default)s)")


def add_data_root_flag(parser: argparse.ArgumentParser) -> None:
    """``--data-root DIR``, for the commands that read a checkpoint's data set again."""
    parser.add_argument("--data-root", metavar="DIR",
                        help="folder with the data set's files (default: the folder the "
                        "checkpoint recorded)")


__all__ = ["CHOICES", "ConfigError", "MODEL_DEFAULTS", "TrainConfig", "add_data_root_flag",
           "add_run_flags", "add_setting_flags", "at_least", "flag", "flag_names", "load_toml",
           "merged", "positive_finite", "seed_flag"]
