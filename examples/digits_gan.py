"""Train a GAN on the embedded 8x8 digits, then ask a digits classifier what it drew.

Usage: python examples/digits_gan.py [--epochs 200] [--out runs/gan] [--unconditional]

The same program as `backprop gan`, as a script: a generator and a discriminator trained
against each other (non-saturating loss, Adam with beta1 = 0.5), a grid of samples written every
epoch into OUT/samples/, then a small CNN trained by `backprop train`'s loop classifies 1,000
samples.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from backprop.apps.gan import GANConfig, evaluate_gan, train_gan
from backprop.train.config import TrainConfig
from backprop.train.loop import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=GANConfig.epochs)
    parser.add_argument("--out", default="runs/gan")
    parser.add_argument("--unconditional", action="store_true",
                        help="draw digits without being told which (harder)")
    args = parser.parse_args()
    start = time.perf_counter()
    config = GANConfig(epochs=args.epochs, out=args.out, conditional=not args.unconditional)
    result = train_gan(config, log=lambda line: None)
    last = result.history[-1]
    print(f"trained {args.epochs} epochs in {time.perf_counter() - start:.0f} s: loss D "
          f"{last['loss_d']:.3f}, loss G {last['loss_g']:.3f}; samples in {result.samples}")
    classifier = train(TrainConfig(model="cnn", out=str(Path(args.out) / "classifier"),
                                   progress=False), log=lambda line: None)
    print(f"classifier test accuracy {classifier.test_accuracy:.4f}")
    scores = evaluate_gan(result.checkpoint, classifier.checkpoint)
    print(f"{100 * scores['confident_fraction']:.1f}% of 1,000 samples classified with "
          f"confidence >= 0.9; per digit: {scores['confident_histogram']}")


if __name__ == "__main__":
    main()
