"""Usage: PYTHONPATH=. python -m benchmarks.soak [--w1-steps 20000] [--w4-steps 2000]
                                     [--every 1000] [--w4-every 100] [--monitor-every 10]
                                     [--output benchmarks/soak_results.md]

Long runs stay flat (issue 8, part 4): trains the W1 benchmark (MLP 784-256-256-10, SGD with
momentum) and the W4 benchmark (character Transformer, AdamW) for many steps with a
``GradientMonitor`` attached to the model and optimizer, and every ``--every`` steps (W1) or
``--w4-every`` steps (W4) records, between two steps (after the step's loss is dropped):

- the process's resident set (``VmRSS`` from /proc/self/status);
- the live graph objects: ``Node`` instances (recorded ops) and ``Tensor`` instances, counted by
  walking ``gc.get_objects()`` *before* any explicit collection, so a graph kept alive by a
  reference cycle (waiting for the cycle collector) counts as alive;
- the number of unreachable objects an explicit ``gc.collect()`` then finds (0 means nothing of
  the run relies on the cycle collector to be freed);
- the median step time of the window of steps just ended.

RSS growth is measured from the first report at or after 10% of the steps (the warm-up: the
optimizer's state, the monitor's weight snapshots, NumPy's and BLAS's scratch buffers and the
allocator's pools are all created during the first steps) to the last report. The issue's
targets: growth after warm-up under 5 MB, no ``Node`` alive between steps, step time stable
(the windows' medians after warm-up within 25% of each other's median: a shared machine makes
single windows noisy, so the figure is reported, and judged, loosely).

The models are the benchmark modules' own: ``build()`` returns only a step closure, so
``CapturingLib`` (backprop's adapter) keeps the model and optimizer the workload builds as they
pass through it, and the monitor is attached to those.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from . import w1_mlp, w4_transformer
from .common import CapturingLib, to_float
from .memory import status_kb

RESULTS = Path(__file__).resolve().parent / "soak_results.md"
WARMUP_FRACTION = 0.1
GROWTH_LIMIT_KB = 5 * 1024
STABLE_SPREAD = 0.25


def rss_kb() -> int:
    """The process's current resident set in kB (``VmRSS``); -1 where /proc is missing."""
    return status_kb("VmRSS")


def _graph_types() -> tuple[type, type]:
    from backprop.autograd.graph import Node
    from backprop.tensor import Tensor

    return Node, Tensor


def live_graph_objects(ignore: frozenset[int] = frozenset()) -> tuple[int, int]:
    """(Nodes, Tensors) currently alive, found among the objects the garbage collector tracks
    (instances of classes with object references always are), leaving out those whose ``id`` is
    in ``ignore``. No collection runs first."""
    node_type, tensor_type = _graph_types()
    nodes = tensors = 0
    for obj in gc.get_objects():
        if id(obj) in ignore:
            continue
        # type(), not isinstance: isinstance reads ``__class__``, which some lazy proxies
        # (torch's deprecated aliases, when torch is loaded) answer with a warning
        kind = type(obj)
        if issubclass(kind, node_type):
            nodes += 1
        elif issubclass(kind, tensor_type):
            tensors += 1
    return nodes, tensors


def _preexisting() -> list[Any]:
    """The Nodes and Tensors alive before a soak starts (in a test process: what earlier tests
    left), so the counts are of the soak's own objects. The caller holds the list, which keeps
    their ids from being reused by new objects."""
    gc.collect()
    kinds = _graph_types()
    return [obj for obj in gc.get_objects() if issubclass(type(obj), kinds)]


@dataclass
class Report:
    """One look between two steps, after ``step`` steps."""

    step: int
    rss_kb: int
    nodes: int
    tensors: int
    cyclic_garbage: int  # unreachable objects gc.collect() found right after the count
    window_ms: float | None  # median step time of the window that ended here


@dataclass
class SoakResult:
    workload: str
    steps: int
    every: int
    monitor_every: int
    reports: list[Report] = field(default_factory=list)
    monitor_records: int = 0

    @property
    def baseline(self) -> Report:
        """The first report at or after the warm-up (10% of the steps, at least one step)."""
        warmup = max(1, int(WARMUP_FRACTION * self.steps))
        return next(r for r in self.reports if r.step >= warmup)

    @property
    def after_warmup(self) -> list[Report]:
        return [r for r in self.reports if r.step >= self.baseline.step]

    @property
    def growth_kb(self) -> int:
        return self.reports[-1].rss_kb - self.baseline.rss_kb

    @property
    def max_growth_kb(self) -> int:
        return max(r.rss_kb for r in self.after_warmup) - self.baseline.rss_kb

    @property
    def max_nodes(self) -> int:
        """Most Nodes seen alive between steps once training started (step 0 is before it)."""
        return max(r.nodes for r in self.reports if r.step > 0)

    @property
    def tensor_growth(self) -> int:
        return self.reports[-1].tensors - self.baseline.tensors

    @property
    def time_spread(self) -> float:
        """(slowest - fastest) / median of the window medians after warm-up."""
        times = [r.window_ms for r in self.after_warmup if r.window_ms is not None]
        middle = statistics.median(times)
        return (max(times) - min(times)) / middle

    @property
    def time_drift(self) -> float:
        """Median window time of the second half of the run over that of the first half (after
        warm-up): a leak that slows steps shows as a drift above 1."""
        times = [r.window_ms for r in self.after_warmup if r.window_ms is not None]
        half = len(times) // 2
        if half == 0:
            return 1.0
        return statistics.median(times[half:]) / statistics.median(times[:half])


def _look(step: int, window: list[float], ignore: frozenset[int]) -> Report:
    rss = rss_kb()  # first, before the counting walk allocates its list of every object
    nodes, tensors = live_graph_objects(ignore)
    found = gc.collect()
    window_ms = statistics.median(window) * 1e3 if window else None
    return Report(step, rss, nodes, tensors, found, window_ms)


def soak(module: ModuleType, steps: int, every: int, monitor_every: int = 10,
         on_report: Callable[[Report], None] | None = None) -> SoakResult:
    """Train ``module``'s workload (``w1_mlp``, ``w4_transformer``...) for ``steps`` steps with a
    ``GradientMonitor(model, optimizer, every=monitor_every)`` on, looking every ``every`` steps
    (and before the first and after the last)."""
    from backprop.diagnostics.monitor import GradientMonitor

    before = _preexisting()
    ignore = frozenset(map(id, before))
    lib = CapturingLib()
    step = module.build(lib, module.make_problem())
    if lib.model is None or lib.optimizer is None:
        raise RuntimeError(f"soak: {module.__name__}.build did not pass a model through "
                           "lib.load or build an optimizer from lib.optim")
    result = SoakResult(module.NAME, steps, every, monitor_every)
    with GradientMonitor(lib.model, lib.optimizer, every=monitor_every) as monitor:
        result.reports.append(_look(0, [], ignore))
        if on_report is not None:
            on_report(result.reports[-1])
        window: list[float] = []
        clock = time.perf_counter
        for i in range(1, steps + 1):
            start = clock()
            to_float(step())  # the loss tensor is dropped here, before anything is counted
            window.append(clock() - start)
            if i % every == 0 or i == steps:
                result.reports.append(_look(i, window, ignore))
                window = []
                if on_report is not None:
                    on_report(result.reports[-1])
        result.monitor_records = len(monitor.history().grad_norm)
    del before  # held until here so that no id in ``ignore`` could name a new object
    return result


# -- report -----------------------------------------------------------------------------------


def table(result: SoakResult) -> list[str]:
    base = result.baseline
    lines = [("| step | RSS (MB) | vs warm-up (kB) | Nodes alive | Tensors alive | "
             "gc found | median step (ms) |"),
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in result.reports:
        delta = f"{r.rss_kb - base.rss_kb:+d}" if r.step >= base.step else ""
        mark = " (warm-up)" if r is base else ""
        ms = f"{r.window_ms:.2f}" if r.window_ms is not None else ""
        lines.append(f"| {r.step}{mark} | {r.rss_kb / 1024:.1f} | {delta} | {r.nodes} | "
                     f"{r.tensors} | {r.cyclic_garbage} | {ms} |")
    return lines


def verdict(result: SoakResult) -> list[str]:
    def ok(flag: bool) -> str:
        return "met" if flag else "NOT met"

    return [
        (f"- RSS growth after warm-up (step {result.baseline.step} to {result.steps}): "
         f"{result.growth_kb:+d} kB (largest {result.max_growth_kb:+d} kB); target < "
         f"{GROWTH_LIMIT_KB // 1024} MB: {ok(result.max_growth_kb < GROWTH_LIMIT_KB)}"),
        (f"- Nodes alive between steps: at most {result.max_nodes}; target 0: "
         f"{ok(result.max_nodes == 0)}"),
        (f"- Tensors alive: {result.baseline.tensors} at warm-up, {result.reports[-1].tensors} at "
         f"the end ({result.tensor_growth:+d}): {ok(result.tensor_growth <= 0)}"),
        (f"- Step time: window medians after warm-up spread {result.time_spread:.0%} of their "
         f"median, second half / first half {result.time_drift:.2f}; target spread < "
         f"{STABLE_SPREAD:.0%}: {ok(result.time_spread < STABLE_SPREAD)}"),
        (f"- Monitor rows kept at the end: {result.monitor_records} "
         f"(recording every {result.monitor_every} steps; the history thins itself when full)"),
    ]


def environment() -> str:
    import numpy as np

    blas = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    return (f"{time.strftime('%Y-%m-%d %H:%M')}, Python {platform.python_version()}, NumPy "
            f"{np.__version__}, {platform.machine()} with {os.cpu_count()} cores, "
            f"OPENBLAS_NUM_THREADS={blas}")


def write_markdown(results: list[SoakResult], path: Path, command: str) -> None:
    out = ["# Soak: long runs stay flat (issue 8, part 4)", "",
           f"`{command}`; {environment()}.", "",
           ("Each look is taken between two steps, after the step's loss is dropped: RSS is "
            "VmRSS; Nodes and Tensors are counted in `gc.get_objects()` before any collection; "
            "'gc found' is what an explicit `gc.collect()` then frees; the step time is the "
            "median of the steps since the previous look. The warm-up baseline is the first "
            f"look at or after {WARMUP_FRACTION:.0%} of the steps."), ""]
    for result in results:
        out += [(f"## {result.workload}: {result.steps} steps, GradientMonitor every "
                 f"{result.monitor_every}"), ""]
        out += table(result) + [""] + verdict(result) + [""]
    path.write_text("\n".join(out))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--w1-steps", type=int, default=20000)
    parser.add_argument("--w4-steps", type=int, default=2000)
    parser.add_argument("--every", type=int, default=1000, help="W1 steps between looks")
    parser.add_argument("--w4-every", type=int, default=100,
                        help="W4 steps between looks (1000 would give W4 only two looks)")
    parser.add_argument("--monitor-every", type=int, default=10,
                        help="the GradientMonitor records one step in this many")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = []
    for module, steps, every in ((w1_mlp, args.w1_steps, args.every),
                                 (w4_transformer, args.w4_steps, args.w4_every)):
        if steps <= 0:
            continue
        print(f"{module.TITLE}: {steps} steps, look every {every}", flush=True)

        def show(r: Report) -> None:
            ms = f"{r.window_ms:.2f} ms" if r.window_ms is not None else ""
            print(f"  step {r.step:>6}  RSS {r.rss_kb / 1024:8.1f} MB  nodes {r.nodes}  "
                  f"tensors {r.tensors}  gc {r.cyclic_garbage}  {ms}", flush=True)

        result = soak(module, steps, every, args.monitor_every, on_report=show)
        results.append(result)
        print("\n".join(verdict(result)), flush=True)
    command = "python -m benchmarks.soak " + " ".join(sys.argv[1:] if argv is None else argv)
    write_markdown(results, args.output, command.strip())
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
