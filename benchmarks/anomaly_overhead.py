"""Usage: python -m benchmarks.anomaly_overhead [--rounds N] [--small]

What ``bp.autograd.detect_anomaly`` costs (issue 5): the step time of W1 (MLP) and W4 (char
Transformer) with and without it, as interleaved medians (plain, checked, plain, checked...), so
drifts in machine load hit both alike. The checked step opens the block around each step (its
set-up, about 40 us, is counted). Both copies of a workload start from the same weights
and batches; their losses are compared first, since anomaly mode must not change any result.
Times are given by wall clock and by this process's CPU time. On a shared machine, BLAS threads
fighting other processes make both swing wildly; ``OPENBLAS_NUM_THREADS=1`` gives steadier ratios.
Aim: under 2x (PyTorch's anomaly mode is known to be far slower).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from . import harness, w1_mlp, w4_transformer
from .common import Lib, to_float

WORKLOADS = (w1_mlp, w4_transformer)


def steps_for(mod: Any, small: bool = False) -> dict[str, Callable[[], Any]]:
    """Two step closures over identical copies of a workload: plain, and inside detect_anomaly."""
    from backprop.diagnostics.anomaly import detect_anomaly

    problem = mod.make_problem(**(harness.SMALL[mod.NAME] if small else {}))
    lib = Lib("backprop")
    plain = mod.build(lib, problem)
    inner = mod.build(lib, problem)

    def checked() -> Any:
        with detect_anomaly():
            return inner()

    return {"plain": plain, "detect_anomaly": checked}


def time_both_clocks(steps: dict[str, Callable[[], Any]], rounds: int, block_s: float,
                     warmup: int = 3) -> dict[str, dict[str, float]]:
    """Median seconds per step by wall clock and by this process's CPU time, interleaved like
    ``harness.time_interleaved``. On a shared machine the CPU time is the steadier of the two:
    other processes delay our wall clock but do not add to our CPU time."""
    blocks = harness.block_sizes(steps, warmup, block_s)
    wall: dict[str, list[float]] = {name: [] for name in steps}
    cpu: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            k = blocks[name]
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(k):
                step()
            wall[name].append((time.perf_counter() - t0) / k)
            cpu[name].append((time.process_time() - c0) / k)
    return {"wall": {n: statistics.median(v) for n, v in wall.items()},
            "cpu": {n: statistics.median(v) for n, v in cpu.items()}}


def measure(rounds: int = 7, small: bool = False, block_s: float = 0.2,
            check_steps: int = 3) -> list[dict[str, Any]]:
    """One row per workload: median seconds per step of each variant by wall clock and by CPU
    time, the ratios, the outside CPU load during the timing (cores) and whether the losses
    agreed exactly."""
    rows = []
    for mod in WORKLOADS:
        steps = steps_for(mod, small)
        losses = {name: [to_float(step()) for _ in range(check_steps)]
                  for name, step in steps.items()}
        row: dict[str, Any] = {"workload": mod.TITLE,
                               "same_losses": losses["plain"] == losses["detect_anomaly"]}
        if rounds:
            start = harness.cpu_now()
            row.update(time_both_clocks(steps, rounds, block_s))
            row["other_load"] = harness.other_load(start)
            for clock in ("wall", "cpu"):
                row[f"{clock}_ratio"] = row[clock]["detect_anomaly"] / row[clock]["plain"]
        rows.append(row)
    return rows


def report(rows: list[dict[str, Any]]) -> str:
    header = ("| workload | plain ms/step (wall / CPU) | detect_anomaly ms/step (wall / CPU) | "
              "ratio (wall / CPU) | other load (cores) | same losses |")
    lines = [header, "|---|---|---|---|---|---|"]
    for r in rows:
        wall, cpu = r["wall"], r["cpu"]
        lines.append(f"| {r['workload']} | {wall['plain'] * 1e3:.2f} / {cpu['plain'] * 1e3:.2f} "
                     f"| {wall['detect_anomaly'] * 1e3:.2f} / {cpu['detect_anomaly'] * 1e3:.2f} "
                     f"| {r['wall_ratio']:.2f}x / {r['cpu_ratio']:.2f}x | {r['other_load']:.2f} "
                     f"| {'yes' if r['same_losses'] else 'NO'} |")
    return "\n".join(lines)


def block_cost(n: int = 2000) -> float:
    """Seconds to open and close an empty ``detect_anomaly`` block (registering its observer)."""
    from backprop.diagnostics.anomaly import detect_anomaly

    t0 = time.perf_counter()
    for _ in range(n):
        with detect_anomaly():
            pass
    return (time.perf_counter() - t0) / n


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--small", action="store_true", help="small batches (a smoke run)")
    args = parser.parse_args(argv)
    print(report(measure(rounds=args.rounds, small=args.small)))
    print(f"opening and closing the block: {block_cost() * 1e6:.0f} us (counted in every step "
          "above; a training run opens it once)")


if __name__ == "__main__":
    main()
