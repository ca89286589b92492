"""Measure what `backprop train` reaches: test accuracy and wall time for the MLP and the CNN on
the embedded digits data and on Fashion-MNIST (Debian's dataset-fashion-mnist package).

Usage: python benchmarks/training_accuracy.py [--only digits|fashion-mnist] [--out FILE.md]
Writes a Markdown table (to stdout and FILE.md) for the README.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

from backprop.train.config import TrainConfig
from backprop.train.loop import train

# The settings measured: `backprop train` defaults, and the Fashion-MNIST runs' epochs.
RUNS = [
    ("digits", "mlp", {}),
    ("digits", "cnn", {}),
    ("fashion-mnist", "mlp", {"epochs": 10}),
    ("fashion-mnist", "cnn", {"epochs": 5}),
]


def measure(data: str, model: str, overrides: dict) -> dict:
    with tempfile.TemporaryDirectory() as out:
        config = TrainConfig(data=data, model=model, progress=False, out=out, **overrides)
        start = time.perf_counter()
        result = train(config, log=lambda line: print("   ", line, flush=True))
        seconds = time.perf_counter() - start
    return {"data": data, "model": model, "epochs": config.epochs,
            "accuracy": result.test_accuracy, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["digits", "fashion-mnist"])
    parser.add_argument("--out", default="benchmarks/training_results.md")
    args = parser.parse_args()
    rows = []
    for data, model, overrides in RUNS:
        if args.only and data != args.only:
            continue
        print(f"{data} {model} ...", flush=True)
        rows.append(measure(data, model, overrides))
    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {platform.processor() or platform.machine()}"
             f" ({os.cpu_count()} cores), `backprop train` settings otherwise default.", "",
             "| data | model | epochs | test accuracy | wall time |", "|---|---|---|---|---|"]
    lines += [f"| {r['data']} | {r['model']} | {r['epochs']} | {100 * r['accuracy']:.2f}% | "
              f"{r['seconds']:.0f} s |" for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(args.out, "w") as handle:
        handle.write(text)


if __name__ == "__main__":
    main()
