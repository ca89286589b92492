"""The ``backprop`` command.

Usage: backprop train [--model cnn] [--epochs 20] ...  |  backprop evaluate CHECKPOINT  |
       backprop predict CHECKPOINT IMAGE.png|ARRAY.npy  |  backprop profile [--model cnn] ...  |
       backprop landscape CHECKPOINT  |  backprop train-lm  |  backprop generate CHECKPOINT  |
       backprop gan  |  backprop superres  |  backprop tune  |  backprop stream  |
       backprop compare-methods  |  backprop run SCRIPT [ARGS...]

A user error (a bad flag, a missing file, a wrong shape) ends with one line on stderr and exit
code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import os
import struct
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from .console import say
from .diagnostics.anomaly import AnomalyError
from .threads import add_threads_flag, apply_command_threads
from .train.config import ConfigError, add_data_root_flag, add_setting_flags, flag_names
from .train.run_folder import existing_file, writable_folder


class UsageError(Exception):
    """A mistake in how the command was called."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints the usage too)
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="backprop", description="Train, evaluate and use neural networks "
                     "with backprop.")
    parser.add_argument("--version", action="version", version=f"backprop {_version()}")
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
    evaluate.add_argument("--out", metavar="DIR",
                          help="folder for confusion.png (default: the checkpoint's)")
    add_data_root_flag(evaluate)
    predict = commands.add_parser("predict", help="classify an image (.png) or array (.npy)")
    predict.add_argument("checkpoint")
    predict.add_argument("input", help="an 8-bit PNG image the size of the model's images, or "
                         "a .npy array of one or more images")
    predict.add_argument("--resize", action="store_true",
                         help="scale a PNG of another size to the model's image size")
    predict.set_defaults(run=_predict)
    for module in _COMMAND_MODULES:  # each adds its sub-commands, run through args.run
        importlib.import_module(module, __package__).register(commands)
    add_threads_flag(commands)
    return parser


# Modules that add sub-commands (each imports its heavy parts only when run).
_COMMAND_MODULES = (".profiler.command", ".diagnostics.landscape_command", ".apps.language",
                    ".apps.gan", ".apps.superres", ".train.tune", ".run",
                    ".streaming.command", ".alternatives.command")


def _train(args: argparse.Namespace) -> None:
    from .train.config import merged  # noqa: PLC0415 - keep `backprop --help` fast
    from .train.loop import train  # noqa: PLC0415

    flags = {name: getattr(args, name) for name, _, _ in flag_names()}
    saved = None
    if args.resume:  # the run's own settings, so `--resume PATH` alone continues it
        from .serialization import load_tagged  # noqa: PLC0415
        from .train.loop import NOT_TRAINED, TRAIN_FORMAT  # noqa: PLC0415

        saved = load_tagged(args.resume, TRAIN_FORMAT, "--resume", NOT_TRAINED)["config"]
        saved.pop("out", None)  # it writes next to the checkpoint it was given, or to --out
    config = merged(args.config, flags, base=saved)
    result = train(config, resume=args.resume)
    if result.checkpoint is None:  # a --distributed rank other than 0: rank 0 reports
        return
    say(f"test accuracy {result.test_accuracy:.4f}")
    say(f"checkpoint {result.checkpoint}")
    if result.curves is not None:
        say(f"curves {result.curves}")


def _evaluate(args: argparse.Namespace) -> None:
    from .train.data import load_data  # noqa: PLC0415
    from .train.loop import evaluate, load_trained, make_loaders, trained_config  # noqa: PLC0415
    from .train.plots import confusion_matrix, save_confusion  # noqa: PLC0415
    from .random import Generator  # noqa: PLC0415

    checkpoint = existing_file(args.checkpoint, "CHECKPOINT")
    folder = writable_folder(args.out or checkpoint.parent, "--out")
    model, state = load_trained(checkpoint)
    config = trained_config(state, args.checkpoint, args.data_root)
    data = load_data(config)
    _, test_loader = make_loaders(data, config, Generator(0))
    loss, accuracy, predicted = evaluate(model, test_loader)
    matrix = confusion_matrix(data.test_y.numpy(), predicted, data.num_classes)
    say(f"test accuracy {accuracy:.4f}  test loss {loss:.4f}  ({len(predicted)} samples)")
    width = max(len(c) for c in data.classes)
    say(" " * (width + 2) + " ".join(f"{c[:5]:>5}" for c in data.classes) + "   <- predicted")
    for name, row in zip(data.classes, matrix):
        say(f"{name:>{width}}  " + " ".join(f"{n:5d}" for n in row))
    folder.mkdir(parents=True, exist_ok=True)
    picture = save_confusion(matrix, data.classes, folder / "confusion.png")
    if picture is not None:
        say(f"confusion matrix {picture}")


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The first bytes of the picture formats people are likely to try instead.
_OTHER_FORMATS = {b"\xff\xd8\xff": "a JPEG", b"GIF8": "a GIF", b"BM": "a BMP",
                  b"II*\x00": "a TIFF", b"MM\x00*": "a TIFF", b"RIFF": "a WebP (or other RIFF)"}


def _read_input(path: Path, image_shape: tuple[int, ...], resize: bool = False) -> np.ndarray:
    """Images in [0, 1] shaped (N, C, H, W) from a .npy array or an 8-bit PNG picture."""
    if path.suffix == ".npy":
        array = np.load(path, allow_pickle=False).astype(np.float32)
        if not np.isfinite(array).all():
            raise UsageError(f"predict: {path} holds NaN or infinite values; give images with "
                             "values in [0, 1] (or 0-255)")
        if array.max(initial=0) > 1:
            array = array / (255.0 if array.max() > 16 else 16.0)
    else:
        array = _read_png(path, image_shape[1:], resize)
    expected = int(np.prod(image_shape))
    if array.size % expected:
        raise UsageError(f"predict: {path} holds {array.size} values of shape {array.shape}, "
                         f"not a whole number of {'x'.join(map(str, image_shape))} images")
    return array.reshape((-1, *image_shape))


def _read_png(path: Path, size: tuple[int, ...], resize: bool) -> np.ndarray:
    """One grey image (H, W) in [0, 1], light ink on dark as the data sets are, from an 8-bit
    PNG of exactly ``size`` (or any size, scaled, with ``resize``). The header is checked
    first, so a picture of the wrong kind is refused by name rather than silently converted."""
    with path.open("rb") as file:
        head = file.read(26)  # the signature and the IHDR chunk's size, depth and colour type
    if len(head) < 26 or not head.startswith(_PNG_SIGNATURE) or head[12:16] != b"IHDR":
        kind = next((name for magic, name in _OTHER_FORMATS.items() if head.startswith(magic)),
                    "not a PNG")
        raise UsageError(f"predict: {path} is {kind} file; predict reads PNG images and .npy "
                         "arrays (convert the picture to PNG)")
    width, height, depth = struct.unpack(">IIB", head[16:25])
    if depth > 8:
        raise UsageError(f"predict: {path} is a {depth}-bit PNG; give an 8-bit PNG")
    if (height, width) != tuple(size) and not resize:
        raise UsageError(f"predict: {path} is {width}x{height} pixels, but the model takes "
                         f"{size[1]}x{size[0]} images; give an image of that size, or pass "
                         "--resize to scale it")
    try:
        from PIL import Image  # noqa: PLC0415 - comes with the [plot] extra
    except ImportError:
        raise UsageError("predict: reading PNG files needs Pillow (pip install "
                         "'backprop[plot]'); or give a .npy array") from None
    try:
        picture = Image.open(path).convert("L").resize(size[::-1])
    except OSError as err:
        raise UsageError(f"predict: cannot read {path} as an image: {err}") from None
    array = np.asarray(picture, dtype=np.float32) / 255.0
    if array.mean() > 0.5:  # dark ink on white paper: the data sets are light on dark
        array = 1.0 - array
    return array


def _predict(args: argparse.Namespace) -> None:
    from .tensor import Tensor  # noqa: PLC0415
    from .train.data import standardize  # noqa: PLC0415
    from .train.loop import load_trained, predict  # noqa: PLC0415

    model, state = load_trained(existing_file(args.checkpoint, "CHECKPOINT"))
    images = _read_input(existing_file(args.input, "INPUT"), tuple(state["image_shape"]),
                         args.resize)
    mean, std = state["normalize"]
    probabilities = predict(model, Tensor._wrap(standardize(images, mean, std)))
    classes = state["classes"]
    for i, row in enumerate(probabilities):
        best = np.argsort(row)[::-1][:3]
        ranked = ", ".join(f"{classes[k]} {row[k]:.3f}" for k in best)
        say(f"{i}: {classes[best[0]]}  ({ranked})")


def _version() -> str:
    try:
        return importlib.metadata.version("backprop")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "(not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (0, 2 for user errors, 130 on Ctrl-C)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["run"]:  # before argparse: the script's own flags reach it untouched
        from .run import main as run  # noqa: PLC0415

        return run(argv[1:])
    try:
        args = _parser().parse_args(argv)
        apply_command_threads(args.threads)
        args.run(args)
    except AnomalyError as err:  # training produced a NaN: the full report, it is not a bug
        say(f"backprop: {err}", file=sys.stderr)
        return 1
    except (UsageError, ConfigError, OSError, ValueError, ImportError) as err:
        say(f"backprop: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:  # training saved a checkpoint and says how to resume
        say(f"backprop: {err or 'interrupted'}", file=sys.stderr)
        return 130
    except Exception as err:  # a bug, not the user's mistake: still one line unless debugging
        if os.environ.get("BACKPROP_DEBUG"):
            raise
        say(f"backprop: internal error: {type(err).__name__}: {_one_line(err)} (set "
            "BACKPROP_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1
    return 0


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def entry_point() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
