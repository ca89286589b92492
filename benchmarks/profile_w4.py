"""Where a W4 (char Transformer, batch 16) training step spends its time, in backprop and PyTorch.

Usage: ``PYTHONPATH=.:src python -m benchmarks.profile_w4 [--steps 20] [--threads 2] [--rows 25]``

The W3 profile's pieces (``benchmarks.profile_w3``) applied to W4: both libraries build W4 from
the same weights and batches (``benchmarks.w4_transformer``), warm up, run ``--steps`` steps under
their own profiler (``bp.profiler``: per op and phase; ``torch.profiler``: per ATen op) and print
the top ``--rows`` rows by self time. Last, both are timed unprofiled, interleaved: median wall
ms per step, and the main thread's CPU ms per step (``time.thread_time``), which a loaded
machine disturbs less than wall time (helper threads, BLAS's or OpenMP's, are not counted).
"""

from __future__ import annotations

import argparse
import time

from . import common, w4_transformer
from .profile_w3 import median_step_ms, profile_backprop, profile_torch


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="profiled steps (default 20)")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch threads (default 2)")
    parser.add_argument("--rows", type=int, default=25, help="rows per table (default 25)")
    args = parser.parse_args(argv)
    common.TORCH_THREADS = args.threads
    problem = w4_transformer.make_problem()
    steps = {name: w4_transformer.build(common.Lib(name), problem)
             for name in common.available_libs() if name in ("backprop", "torch")}
    for step in steps.values():
        for _ in range(10):  # warm up: caches, compiled kernels, allocator
            step()
    print(profile_backprop(steps["backprop"], args.steps, args.rows))
    if "torch" in steps:
        print()
        print(profile_torch(steps["torch"], args.steps, args.rows))
    print()
    timed = median_step_ms(steps)
    print("unprofiled median ms/step (wall): "
          + ", ".join(f"{k} {v:.2f}" for k, v in timed.items()))
    cpu = median_step_ms(steps, block=10, clock=time.thread_time)
    print("unprofiled median ms/step (main thread CPU): "
          + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()))


if __name__ == "__main__":
    main()
