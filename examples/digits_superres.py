"""Double the resolution of 4x4 digits with a sub-pixel CNN (ESPCN) and compare with bicubic.

Usage: python examples/digits_superres.py [--epochs 150] [--out DIR]

The same program as `backprop superres`, as a script: each 8x8 digit is averaged over 2x2
blocks into a 4x4 input; the network learns to undo that on the training split; on the test
split its PSNR is compared with bilinear and bicubic interpolation, and OUT/comparison.png
shows input, bicubic, ours and the original side by side.
"""

from __future__ import annotations

import argparse

from backprop.apps.superres import SRConfig, train_superres


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=SRConfig.epochs)
    parser.add_argument("--out", help="folder for the run (default: a new "
                        "runs/superres/DATE-TIME)")
    args = parser.parse_args()
    result = train_superres(SRConfig(epochs=args.epochs, out=args.out),
                            log=lambda line: None)
    scores = result.scores
    for name in ("bilinear", "bicubic", "model"):
        print(f"{name:>9}: {scores[name]:.2f} dB")
    print(f"gain over the better interpolation: {scores['gain']:+.2f} dB; "
          f"picture: {result.comparison}")


if __name__ == "__main__":
    main()
