"""Train a GAN on the embedded 8x8 digits, then ask a digits classifier what it drew.

Usage: python examples/digits_gan.py [--epochs 200] [--out DIR] [--no-conditional]

The same program as `backprop gan`, as a script: a generator and a discriminator trained
against each other (non-saturating loss, Adam with beta1 = 0.5), a grid of samples written every
epoch into OUT/samples/ (OUT: a new runs/gan/DATE-TIME unless --out names one), then a small CNN
trained by `backprop train`'s loop (30 epochs, about 15 s) classifies 1,000 samples.
"""

from __future__ import annotations

import argparse
import time
from typing import Sequence

from backprop.apps.gan import GANConfig, evaluate_gan, train_gan
from backprop.train.config import TrainConfig
from backprop.train.loop import train


def main(argv: Sequence[str] | None = None, classifier_epochs: int = TrainConfig.epochs) -> None:
    """Train the GAN as the flags in ``argv`` say, then score it with a classifier trained
    for ``classifier_epochs``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=GANConfig.epochs)
    parser.add_argument("--out", help="folder for the run (default: a new runs/gan/DATE-TIME)")
    parser.add_argument("--conditional", action=argparse.BooleanOptionalAction, default=True,
                        help="tell both networks which digit (--no-conditional: harder)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    config = GANConfig(epochs=args.epochs, out=args.out, conditional=args.conditional)
    result = train_gan(config, log=lambda line: None)
    last = result.history[-1]
    print(f"trained {args.epochs} epochs in {time.perf_counter() - start:.0f} s: loss D "
          f"{last['loss_d']:.3f}, loss G {last['loss_g']:.3f}; samples in {result.samples}")
    folder = result.checkpoint.parent / "classifier"
    print(f"training a digits CNN for {classifier_epochs} epochs (30 take about 15 s) into "
          f"{folder}, to classify the samples...", flush=True)
    classifier = train(TrainConfig(model="cnn", out=str(folder), epochs=classifier_epochs,
                                   progress=False), log=lambda line: None)
    print(f"classifier test accuracy {classifier.test_accuracy:.4f}")
    scores = evaluate_gan(result.checkpoint, classifier.checkpoint)
    print(f"{100 * scores['confident_fraction']:.1f}% of 1,000 samples classified with "
          f"confidence >= 0.9; per digit: {scores['confident_histogram']}")


if __name__ == "__main__":
    main()
