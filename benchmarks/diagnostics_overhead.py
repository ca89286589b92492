"""Usage: PYTHONPATH=. python -m benchmarks.diagnostics_overhead [--rounds 30] [--steps 50]
                                                    [--every 10 1] [--wait SECONDS]
                                                    [--clock wall|cpu]

The gradient monitor's cost on W1 (MLP 784-256-256-10, batch 128, SGD): the W1 step with and
without a ``GradientMonitor`` attached (one monitor per ``--every`` value), timed in interleaved
blocks of ``--steps`` steps (the order rotates each round, so drift and neighbours' load hit
every variant alike); the median block time per step of each variant and its ratio to the plain
step are printed. Issue 5 asks for at most 10% overhead with the default settings (every=10).

On a shared machine, ``--wait`` lets each round wait (up to that many seconds in all) until other
processes leave the cores alone. ``--clock cpu`` times the process's CPU seconds instead of
wall-clock seconds: with ``OPENBLAS_NUM_THREADS=1`` in the environment (so no BLAS thread spins
while waiting for another), that figure hardly moves when neighbours take the cores.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from . import harness, w1_mlp
from .common import CapturingLib


def build_variant(every: int | None) -> tuple[Callable[[], Any], Any]:
    """The W1 step closure, with a monitor recording one step in ``every`` (None: no monitor)."""
    from backprop.diagnostics.monitor import GradientMonitor  # noqa: PLC0415

    lib = CapturingLib()
    step = w1_mlp.build(lib, w1_mlp.make_problem())
    monitor = None
    if every is not None:
        monitor = GradientMonitor(lib.model, lib.optimizer, every=every)
    return step, monitor


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def time_block(step: Callable[[], Any], steps: int, clock: Callable[[], float]) -> float:
    """Seconds per step over one block of ``steps`` steps."""
    start = clock()
    for _ in range(steps):
        step()
    return (clock() - start) / steps


def measure(rounds: int, steps: int, everys: list[int], wait: float = 0.0,
            clock: str = "wall") -> dict[str, list[float]]:
    variants: dict[str, Callable[[], Any]] = {}
    monitors = []
    for every in [None, *everys]:
        step, monitor = build_variant(every)
        variants["plain" if every is None else f"every={every}"] = step
        monitors.append(monitor)
        for _ in range(max(steps, 20)):  # warm caches, scratch buffers and snapshots
            step()
    times: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    harness.WAIT_BUDGET["seconds"] = wait
    for r in range(rounds):
        if wait > 0:
            harness.wait_for_quiet(max_wait_s=wait, probe_s=0.5)
        for name in names[r % len(names):] + names[:r % len(names)]:
            times[name].append(time_block(variants[name], steps, CLOCKS[clock]))
    for monitor in monitors:
        if monitor is not None:
            monitor.close()
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--steps", type=int, default=50,
                        help="steps per timed block (a multiple of every --every value)")
    parser.add_argument("--every", type=int, nargs="+", default=[10, 1])
    parser.add_argument("--wait", type=float, default=0.0,
                        help="seconds the run may spend waiting for a quiet machine")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    args = parser.parse_args(argv)
    start = harness.cpu_now()
    times = measure(args.rounds, args.steps, args.every, args.wait, args.clock)
    load = harness.other_load(start)
    plain = statistics.median(times["plain"])
    print(f"W1 step, {args.rounds} interleaved rounds of {args.steps} steps; median "
          f"{args.clock} time per step "
          f"(other processes used {load:.2f} cores meanwhile: a busy machine makes this noisy)")
    for name, values in times.items():
        median = statistics.median(values)
        quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else [median] * 3
        line = (f"  {name:>9}: {median * 1e3:7.3f} ms/step (IQR {quartiles[0] * 1e3:.3f}-"
                f"{quartiles[2] * 1e3:.3f})")
        if name != "plain":
            line += f"  overhead {median / plain - 1:+.1%}"
        print(line)


if __name__ == "__main__":
    main()
