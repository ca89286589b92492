"""Where a W3 (LeNet-like CNN, batch 64) training step spends its time, in backprop and PyTorch.

Usage: ``PYTHONPATH=.:src python -m benchmarks.profile_w3 [--steps 20] [--threads 2] [--rows 15]``

Both libraries build W3 from the same weights and batches (``benchmarks.w3_cnn``), warm up, then
run ``--steps`` training steps under their own profiler: ``bp.profiler`` (per op and phase:
forward ops, backward nodes, optimizer) and ``torch.profiler`` (per ATen op). Each prints its
top ``--rows`` rows by self time and the per-step total; last, both are timed unprofiled
(median of 5 blocks, interleaved), since a profiler's own overhead differs between them.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from . import common, w3_cnn


def _per_step_table(rows: list[tuple[str, int, float]], steps: int, limit: int,
                    total_us: float, title: str) -> str:
    """``rows`` (name, calls, self microseconds) as a table per step, largest first."""
    rows = sorted(rows, key=lambda r: r[2], reverse=True)[:limit]
    lines = [title, f"{'op':<44} {'calls/step':>10} {'self us/step':>13} {'share':>7}"]
    for name, calls, us in rows:
        lines.append(f"{name[:44]:<44} {calls / steps:>10.1f} {us / steps:>13.1f} "
                     f"{100 * us / total_us:>6.1f}%")
    lines.append(f"{'total (profiled wall time per step)':<44} {'':>10} "
                 f"{total_us / steps:>13.1f}")
    return "\n".join(lines)


def profile_backprop(step: Callable[[], Any], steps: int, limit: int) -> str:
    """bp.profiler's rows (self time) over ``steps`` steps, per step."""
    from backprop.profiler import profile

    with profile() as prof:
        for _ in range(steps):
            step()
    averages = prof.key_averages()
    rows = [(f"{r.key} [{r.phase}]", r.count, r.self_cpu_time_total) for r in averages]
    return _per_step_table(rows, steps, limit, averages.wall_time_us,
                           "backprop (bp.profiler, self time)")


def profile_torch(step: Callable[[], Any], steps: int, limit: int) -> str:
    """torch.profiler's rows (self CPU time) over ``steps`` steps, per step."""
    import torch

    start = time.perf_counter()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    wall_us = (time.perf_counter() - start) * 1e6
    rows = [(e.key, e.count, e.self_cpu_time_total) for e in prof.key_averages()]
    return _per_step_table(rows, steps, limit, wall_us, "PyTorch (torch.profiler, self CPU time)")


def median_step_ms(steps: dict[str, Callable[[], Any]], blocks: int = 5, block: int = 20,
                   clock: Callable[[], float] = time.perf_counter) -> dict[str, float]:
    """Median ms per step of each contender, blocks interleaved (A B A B ...), by ``clock``
    (the wall clock; ``time.thread_time`` for the main thread's CPU time)."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(blocks):
        for name, step in steps.items():
            t0 = clock()
            for _ in range(block):
                step()
            times[name].append((clock() - t0) / block * 1e3)
    return {name: statistics.median(v) for name, v in times.items()}


def compare(workload: Any, argv: list[str] | None, description: str, rows: int) -> None:
    """The command line of a workload's profile (``workload``: its benchmark module): both
    libraries' tables, then both timed unprofiled, interleaved, by the wall clock and by the
    main thread's CPU time (which a loaded machine disturbs less)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--steps", type=int, default=20, help="profiled steps (default 20)")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch threads (default 2)")
    parser.add_argument("--rows", type=int, default=rows, help=f"rows per table (default {rows})")
    args = parser.parse_args(argv)
    common.TORCH_THREADS = args.threads
    problem = workload.make_problem()
    steps = {name: workload.build(common.Lib(name), problem)
             for name in common.available_libs() if name in ("backprop", "torch")}
    for step in steps.values():
        for _ in range(10):  # warm up: caches, compiled kernels, allocator
            step()
    print(profile_backprop(steps["backprop"], args.steps, args.rows))
    if "torch" in steps:
        print()
        print(profile_torch(steps["torch"], args.steps, args.rows))
    print()
    for label, clock in (("wall", time.perf_counter), ("main thread CPU", time.thread_time)):
        timed = median_step_ms(steps, block=10, clock=clock)
        print(f"unprofiled median ms/step ({label}): "
              + ", ".join(f"{k} {v:.2f}" for k, v in timed.items()))


def main(argv: list[str] | None = None) -> None:
    compare(w3_cnn, argv, __doc__.splitlines()[0], rows=15)


if __name__ == "__main__":
    main()
