"""The ``backprop`` command.

Usage: backprop train [--model cnn] [--epochs 20] ...  |  backprop evaluate CHECKPOINT  |
       backprop predict CHECKPOINT IMAGE.png|ARRAY.npy  |  backprop profile [--model cnn] ...  |
       backprop landscape CHECKPOINT  |  backprop train-lm  |  backprop generate CHECKPOINT  |
       backprop gan  |  backprop superres  |  backprop tune

A user error (a bad flag, a missing file, a wrong shape) ends with one line on stderr and exit
code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from .autograd.anomaly import AnomalyError
from .threads import add_threads_flag, apply_command_threads
from .train.config import ConfigError, add_setting_flags, flag_names


class UsageError(Exception):
    """A mistake in how the command was called."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints the usage too)
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="backprop", description="Train, evaluate and use neural networks "
                     "with backprop.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = commands.add_parser("train", help="train a model (default: an MLP on the embedded "
                                "digits data)")
    train.add_argument("--config", help="TOML file with the same settings as the flags")
    train.add_argument("--resume", metavar="CHECKPOINT", help="continue a run from its checkpoint")
    add_setting_flags(train)
    train.set_defaults(run=_train)
    evaluate = commands.add_parser("evaluate", help="accuracy and confusion matrix of a "
                                   "checkpoint on its test split")
    evaluate.add_argument("checkpoint")
    evaluate.set_defaults(run=_evaluate)
    evaluate.add_argument("--out", help="folder for confusion.png (default: the checkpoint's)")
    predict = commands.add_parser("predict", help="classify an image (.png) or array (.npy)")
    predict.add_argument("checkpoint")
    predict.add_argument("input", help="a PNG image or a .npy array of one or more images")
    predict.set_defaults(run=_predict)
    for module in _COMMAND_MODULES:  # each adds its sub-commands, run through args.run
        importlib.import_module(module, __package__).register(commands)
    add_threads_flag(commands)
    return parser


# Modules that add sub-commands (each imports its heavy parts only when run).
_COMMAND_MODULES = (".profiler.command", ".diagnostics.landscape_command", ".apps.language",
                    ".apps.gan", ".apps.superres", ".train.tune")


def _train(args: argparse.Namespace) -> None:
    from .train.config import merged  # noqa: PLC0415 - keep `backprop --help` fast
    from .train.loop import train  # noqa: PLC0415

    flags = {name: getattr(args, name) for name, _, _ in flag_names()}
    saved = None
    if args.resume:  # the run's own settings, so `--resume PATH` alone continues it
        from .serialization import load_tagged  # noqa: PLC0415
        from .train.loop import NOT_TRAINED, TRAIN_FORMAT  # noqa: PLC0415

        saved = load_tagged(args.resume, TRAIN_FORMAT, "--resume", NOT_TRAINED)["config"]
    config = merged(args.config, flags, base=saved)
    result = train(config, resume=args.resume)
    if result.checkpoint is None:  # a --distributed rank other than 0: rank 0 reports
        return
    print(f"test accuracy {result.test_accuracy:.4f}")
    print(f"checkpoint {result.checkpoint}")
    if result.curves is not None:
        print(f"curves {result.curves}")


def _evaluate(args: argparse.Namespace) -> None:
    from .train.config import TrainConfig  # noqa: PLC0415
    from .train.data import load_data  # noqa: PLC0415
    from .train.loop import evaluate, load_trained, make_loaders  # noqa: PLC0415
    from .train.plots import confusion_matrix, save_confusion  # noqa: PLC0415
    from .random import Generator  # noqa: PLC0415

    model, state = load_trained(_existing(args.checkpoint))
    config = TrainConfig.from_dict(state["config"], source=args.checkpoint)
    data = load_data(config)
    _, test_loader = make_loaders(data, config, Generator(0))
    loss, accuracy, predicted = evaluate(model, test_loader)
    matrix = confusion_matrix(data.test_y.numpy(), predicted, data.num_classes)
    print(f"test accuracy {accuracy:.4f}  test loss {loss:.4f}  ({len(predicted)} samples)")
    width = max(len(c) for c in data.classes)
    print(" " * (width + 2) + " ".join(f"{c[:5]:>5}" for c in data.classes) + "   <- predicted")
    for name, row in zip(data.classes, matrix):
        print(f"{name:>{width}}  " + " ".join(f"{n:5d}" for n in row))
    folder = Path(args.out) if args.out else Path(args.checkpoint).parent
    folder.mkdir(parents=True, exist_ok=True)
    picture = save_confusion(matrix, data.classes, folder / "confusion.png")
    if picture is not None:
        print(f"confusion matrix {picture}")


def _read_input(path: Path, image_shape: tuple[int, ...]) -> np.ndarray:
    """Images in [0, 1] shaped (N, C, H, W) from a .npy array or a PNG picture."""
    if path.suffix == ".npy":
        array = np.load(path, allow_pickle=False).astype(np.float32)
        if array.max(initial=0) > 1:
            array = array / (255.0 if array.max() > 16 else 16.0)
    else:
        try:
            from PIL import Image  # noqa: PLC0415 - comes with the [plot] extra
        except ImportError:
            raise UsageError("predict: reading PNG files needs Pillow (pip install "
                             "'backprop[plot]'); or give a .npy array") from None
        try:
            picture = Image.open(path).convert("L").resize(image_shape[:0:-1])
        except OSError as err:
            raise UsageError(f"predict: cannot read {path} as an image: {err}") from None
        array = np.asarray(picture, dtype=np.float32) / 255.0
        if array.mean() > 0.5:  # dark ink on white paper: the data sets are light on dark
            array = 1.0 - array
    expected = int(np.prod(image_shape))
    if array.size % expected:
        raise UsageError(f"predict: {path} holds {array.size} values of shape {array.shape}, "
                         f"not a whole number of {'x'.join(map(str, image_shape))} images")
    return array.reshape((-1, *image_shape))


def _predict(args: argparse.Namespace) -> None:
    from .tensor import Tensor  # noqa: PLC0415
    from .train.data import standardize  # noqa: PLC0415
    from .train.loop import load_trained, predict  # noqa: PLC0415

    model, state = load_trained(_existing(args.checkpoint))
    images = _read_input(_existing(args.input), tuple(state["image_shape"]))
    mean, std = state["normalize"]
    probabilities = predict(model, Tensor._wrap(standardize(images, mean, std)))
    classes = state["classes"]
    for i, row in enumerate(probabilities):
        best = np.argsort(row)[::-1][:3]
        ranked = ", ".join(f"{classes[k]} {row[k]:.3f}" for k in best)
        print(f"{i}: {classes[best[0]]}  ({ranked})")


def _existing(path: str) -> Path:
    if not Path(path).is_file():
        raise FileNotFoundError(f"no such file: {path}")
    return Path(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (0, 2 for user errors, 130 on Ctrl-C)."""
    try:
        args = _parser().parse_args(argv)
        apply_command_threads(args.threads)
        args.run(args)
    except AnomalyError as err:  # training produced a NaN: the full report, it is not a bug
        print(f"backprop: {err}", file=sys.stderr)
        return 1
    except (UsageError, ConfigError, OSError, ValueError, ImportError) as err:
        print(f"backprop: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:  # training saved a checkpoint and says how to resume
        print(f"backprop: {err or 'interrupted'}", file=sys.stderr)
        return 130
    except Exception as err:  # a bug, not the user's mistake: still one line unless debugging
        if os.environ.get("BACKPROP_DEBUG"):
            raise
        print(f"backprop: internal error: {type(err).__name__}: {_one_line(err)} (set "
              "BACKPROP_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1
    return 0


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def entry_point() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
