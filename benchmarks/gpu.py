"""GPU against CPU: the four workloads' step time with backprop on the CPU and on a CUDA device
(CuPy), beside PyTorch on the same GPU when it has CUDA. Not part of ``make bench``: run it on a
machine with a GPU.

Usage: python -m benchmarks.gpu [--steps 20] [--blocks 5] [--out FILE]

Each contender runs ``blocks`` blocks of ``steps`` training steps after a warm-up; a block ends
with ``loss.item()``, which waits for the GPU, so a block's time covers its kernels. The median
block time per step is reported.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from . import w1_mlp, w2_tiny, w3_cnn, w4_transformer
from .common import Lib

# The four workloads as ``make bench`` runs them, then two at batches where a GPU has work to do.
WORKLOADS = [(w, {}, w.TITLE) for w in (w1_mlp, w2_tiny, w3_cnn, w4_transformer)] + [
    (w1_mlp, {"batch": 4096}, "W1 MLP at batch 4096"),
    (w3_cnn, {"batch": 1024}, "W3 CNN at batch 1024"),
]


class DeviceLib(Lib):
    """A library whose tensors, parameters and buffers live on ``device``."""

    def __init__(self, name: str, device: str) -> None:
        super().__init__(name)
        self.device = device

    def tensor(self, array: np.ndarray) -> Any:
        return super().tensor(array).to(self.device)

    def load(self, model: Any, params: dict[str, np.ndarray]) -> None:
        super().load(model, params)
        model.to(self.device)


def contenders() -> dict[str, Callable[[], Lib]]:
    found: dict[str, Callable[[], Lib]] = {"backprop cpu": lambda: Lib("backprop")}
    import backprop as bp

    if bp.cuda.is_available():
        found["backprop cuda"] = lambda: DeviceLib("backprop", "cuda")
    try:
        import torch
    except ImportError:
        return found
    if torch.cuda.is_available():
        found["torch cuda"] = lambda: DeviceLib("torch", "cuda")
    return found


def time_steps(step: Callable[[], Any], steps: int, blocks: int, warmup: int = 5) -> float:
    """The median seconds per step over ``blocks`` blocks."""
    for _ in range(warmup):
        float(step().item())
    per_step = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(steps - 1):
            step()
        float(step().item())  # waits for the device
        per_step.append((time.perf_counter() - start) / steps)
    return statistics.median(per_step)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--out", default=None, help="also write the table to this file")
    args = parser.parse_args(argv)
    libs = contenders()
    names = list(libs)
    lines = [f"machine: {platform.processor() or platform.machine()}, "
             f"{args.blocks} blocks of {args.steps} steps, median ms per step", "",
             "| workload | " + " | ".join(names) + " | cuda vs cpu |",
             "|---|" + "---|" * (len(names) + 1)]
    for workload, sizes, title in WORKLOADS:
        problem = workload.make_problem(**sizes)
        times = {name: time_steps(workload.build(make(), problem), args.steps, args.blocks)
                 for name, make in libs.items()}
        speedup = ""
        if "backprop cuda" in times:
            speedup = f"{times['backprop cpu'] / times['backprop cuda']:.2f}x"
        cells = " | ".join(f"{times[n] * 1e3:.3f}" for n in names)
        lines.append(f"| {title} | {cells} | {speedup} |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")
    return table


if __name__ == "__main__":
    main()
