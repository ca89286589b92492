"""Train a small residual network with batch normalization on the embedded 8x8 digits, then draw
its confusion matrix on the test split.

Usage: python examples/digits_resnet.py [--epochs 30] [--channels 16,32] [--blocks 2]
                                        [--out DIR]

The same as `backprop train --model resnet` followed by `backprop evaluate`: a stem convolution,
two stages of residual blocks (conv-BN-ReLU-conv-BN plus an identity or 1x1-projection shortcut,
ReLU after the addition; the second stage halves the image to 4x4), global average pooling and
a linear head, He-initialised; Adam with a cosine schedule.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from backprop.random import Generator
from backprop.train.config import TrainConfig, merged
from backprop.train.data import load_data
from backprop.train.loop import TrainResult, evaluate, load_trained, make_loaders, train
from backprop.train.plots import confusion_matrix, save_confusion


def train_resnet(out: str | None = None, **settings: object) -> TrainResult:
    """Train ``backprop train``'s resnet (its defaults, overridden by ``settings``) into
    ``out`` (None: a new runs/train/DATE-TIME folder)."""
    config = merged(None, {"model": "resnet", "out": out, "progress": False, **settings})
    return train(config, log=lambda line: print("  ", line, flush=True))


def draw_confusion(checkpoint: Path, picture: Path) -> tuple[float, Path | None]:
    """The checkpoint's test accuracy and its confusion matrix as a PNG (None without
    matplotlib)."""
    model, state = load_trained(checkpoint)
    config = TrainConfig.from_dict(state["config"])
    data = load_data(config)
    _, test_loader = make_loaders(data, config, Generator(0))
    _, accuracy, predicted = evaluate(model, test_loader)
    matrix = confusion_matrix(data.test_y.numpy(), predicted, data.num_classes)
    return accuracy, save_confusion(matrix, data.classes, picture)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--channels", help="channels of each stage, e.g. 16,32")
    parser.add_argument("--blocks", type=int, help="residual blocks per stage")
    parser.add_argument("--out", help="folder for the run (default: a new runs/train/DATE-TIME)")
    args = parser.parse_args()
    start = time.perf_counter()
    result = train_resnet(args.out, epochs=args.epochs, channels=args.channels,
                          blocks=args.blocks)
    print(f"test accuracy {result.test_accuracy:.4f} after {time.perf_counter() - start:.0f} s; "
          f"checkpoint {result.checkpoint}")
    accuracy, picture = draw_confusion(result.checkpoint,
                                       result.checkpoint.parent / "confusion.png")
    print(f"confusion matrix {picture or '(needs matplotlib)'}; accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
