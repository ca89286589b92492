"""Usage: python -m benchmarks.cost_curves [--busy] [--quick] [--out FILE] [--plot-only]

Cost curves (issue 20, points 4 and 5): backprop's step time against PyTorch's over workload
sizes, on a quiet machine and, with ``--busy``, again with one core kept busy by
``yes > /dev/null`` (users share machines: the thread policy must not fall off a cliff).

- W1 (MLP 784-256-256-10, SGD): batch 32, 64, ..., 4096;
- W3 (LeNet-like CNN, Adam): batch 64, 256, 1024 by channel width x1, x2, x4;
- W4 (char Transformer, batch 16, context 64, AdamW): d_model 128, 256, 512 by 2, 4, 8 layers.

Every contender runs alone in a fresh process at its own defaults (``benchmarks/alone.py``), one
after the other at each point: backprop, backprop with its step captured by ``bp.compile`` and
replayed ("captured"), and PyTorch with ``set_num_threads(2)`` under libgomp's default OpenMP
wait policy. backprop picks its BLAS threads as the ``backprop`` command does (one per idle
core, ``backprop.threads``; ``--blas-default`` leaves OpenBLAS's own count instead); the BLAS,
OpenMP and Numba thread variables are removed from every contender's environment. A figure is
the median over rounds of steps (a round: about 0.1 s of steps, or one step where a step takes
longer) after two warm-up steps; a run stops after the round that passes 1.5 s of timing, three
rounds at least; each contender runs three times at a point, in turn with the others, and its
median run counts (the machine's speed drifts within minutes). A ratio is backprop's (or
captured's) median over PyTorch's: under 1, backprop is ahead. Before each point the run waits
(up to ``--wait`` seconds in all) until other processes leave the cores alone ('other load'
under 0.3 cores quiet, 1.3 busy, ``yes`` counted), and it records the other load during the
point.

Writes ``benchmarks/cost_curves_results.md`` (tables), ``benchmarks/cost_curves.json`` (the raw
numbers; ``--plot-only`` redraws from it without measuring) and ``benchmarks/cost_curves.png``
(matplotlib, when installed); ``--out FILE`` puts them at FILE and FILE's .json and .png.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import signal
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import harness
from .alone import CAPTURED
from .threads import THREAD_VARIABLES, one_core_busy

CONTENDERS = ("backprop", CAPTURED, "torch")
# workload -> (x axis, series or None, points); every point is make_problem's keyword arguments
CURVES: dict[str, tuple[str, str | None, list[dict[str, int]]]] = {
    "W1": ("batch", None, [{"batch": 32 * 2 ** i} for i in range(8)]),
    "W3": ("batch", "width", [{"batch": b, "width": w} for w in (1, 2, 4)
                              for b in (64, 256, 1024)]),
    "W4": ("d_model", "layers", [{"d_model": d, "layers": n} for n in (2, 4, 8)
                                 for d in (128, 256, 512)]),
}
# --quick: one tiny point a workload (the machinery, not the figures)
QUICK_POINTS: dict[str, list[dict[str, int]]] = {
    "W1": [{"batch": 8}], "W3": [{"batch": 4, "width": 2}],
    "W4": [{"batch": 2, "ctx": 16, "d_model": 32, "layers": 1}],
}
# (rounds at most, seconds a round, warm-up steps, seconds of timing before stopping)
TIMING = {"full": (10, 0.1, 2, 1.5), "quick": (1, 0.01, 1, None)}
# Fresh-process runs of each contender at a point, taken in turn (backprop, captured, PyTorch,
# backprop, ...): this machine's speed drifts by tens of percent within minutes, and one run
# each, one after the other, put that drift into the ratios. The median run counts.
REPEATS = {"full": 3, "quick": 1}
# Other load (cores) under which a point may start: none but the neighbours' noise quiet,
# `yes` alone busy.
QUIET_BELOW = {"quiet": 0.3, "busy": 1.3}
HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "cost_curves_results.md"


def label(workload: str, sizes: dict[str, int]) -> str:
    """A point's name in tables and logs.

    >>> label("W4", {"d_model": 256, "layers": 4})
    'd_model 256, layers 4'
    """
    axis, series, _ = CURVES[workload]
    keys = [axis] + ([series] if series else [])
    return ", ".join(f"{k} {sizes[k]}" for k in keys if k in sizes) or str(sizes)


def run_contender(workload: str, contender: str, sizes: dict[str, int], quick: bool,
                  thread_policy: bool) -> dict[str, Any]:
    """One contender alone in a fresh process at one point: ``benchmarks.alone``'s JSON."""
    rounds, block_s, warmup, budget_s = TIMING["quick" if quick else "full"]
    options = [f"--size={k}={v}" for k, v in sizes.items()]
    options += [f"--block-s={block_s}", f"--warmup={warmup}"]
    if budget_s is not None:
        options.append(f"--budget-s={budget_s}")
    if thread_policy and contender != "torch":
        options.append("--thread-policy")
    policy = "default" if contender == "torch" else "PASSIVE"
    return harness.alone_run(workload, contender, policy, 2, rounds, options=options,
                             drop_env=THREAD_VARIABLES)


def measure_point(workload: str, sizes: dict[str, int], quick: bool, thread_policy: bool,
                  run: Callable[..., dict[str, Any]] | None = None) -> dict[str, Any]:
    """Every contender at one point, one after the other (by ``run``, default
    ``run_contender``): ms per step (None where the run failed, with the reason in
    ``errors``), backprop's BLAS threads, the capture's fallbacks, the cores other processes
    used meanwhile and the point's wall seconds."""
    run = run or run_contender
    row: dict[str, Any] = {"workload": workload, "sizes": sizes, "ms": {}, "runs_ms": {},
                           "threads": {}, "fallbacks": [], "errors": {}}
    start = harness.cpu_now(children=True)
    for _ in range(REPEATS["quick" if quick else "full"]):
        for contender in CONTENDERS:
            if contender in row["errors"]:
                continue
            try:
                out = run(workload, contender, sizes, quick, thread_policy)
            except RuntimeError as err:
                row["errors"][contender] = str(err)[-500:]
                continue
            row["runs_ms"].setdefault(contender, []).append(1e3 * out["median_s"])
            if "blas_threads" in out:
                row["threads"][contender] = out["blas_threads"]
            row["fallbacks"] += [f for f in out.get("fallbacks", []) if f not in row["fallbacks"]]
    for contender in CONTENDERS:
        runs = row["runs_ms"].get(contender)
        row["ms"][contender] = statistics.median(runs) if runs else None
    row["other_load"] = harness.other_load(start, children=True)
    row["wall_s"] = time.perf_counter() - start[0]
    return row


def sweep(load: str, points: dict[str, list[dict[str, int]]], quick: bool, thread_policy: bool,
          log: Callable[[str], None] = print,
          run: Callable[..., dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Every point under ``load`` ("quiet", or "busy": ``yes`` holds one core throughout and is
    stopped however the sweep ends)."""
    rows = []
    with one_core_busy(load == "busy"):
        for workload, sizes_list in points.items():
            for sizes in sizes_list:
                if not quick:
                    harness.wait_for_quiet(120, threshold=QUIET_BELOW[load])
                row = measure_point(workload, sizes, quick, thread_policy, run)
                rows.append(row)
                ms = "  ".join(f"{c} {'failed' if t is None else f'{t:.3g} ms'}"
                               for c, t in row["ms"].items())
                log(f"{load}: {workload} {label(workload, sizes)}: {ms}  (other load "
                    f"{row['other_load']:.2f} cores, {row['wall_s']:.0f} s)")
    return rows


def machine() -> dict[str, Any]:
    """Where and when: date, processor, cores, Python, NumPy and PyTorch versions."""
    import numpy as np

    try:  # the installed version, without importing torch here (seconds)
        torch = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        torch = None
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "processor": _cpu_model(), "cores": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__, "torch": torch}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def outputs(out: str | None, quick: bool) -> tuple[Path, Path, Path] | None:
    """The report's, the JSON's and the picture's paths (None: a quick run writes nothing)."""
    if out is None and quick:
        return None
    md = Path(out) if out else DEFAULT_OUT
    if out:
        return md, md.with_suffix(".json"), md.with_suffix(".png")
    return md, HERE / "cost_curves.json", HERE / "cost_curves.png"


def write(result: dict[str, Any], paths: tuple[Path, Path, Path],
          log: Callable[[str], None] = print) -> str:
    """The report, the JSON and (with matplotlib) the picture; returns the report."""
    from .cost_curves_report import plot, report

    md, js, png = paths
    md.parent.mkdir(parents=True, exist_ok=True)
    js.write_text(json.dumps(result, indent=1) + "\n")
    text = report(result, picture=png.name if plot(result, png) else None)
    md.write_text(text)
    log(f"written to {md}, {js}" + (f", {png}" if png.exists() else " (no matplotlib: no picture)"))
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cost_curves",
                                     description="backprop's step time against PyTorch's over "
                                     "workload sizes, quiet and with one core busy")
    parser.add_argument("--busy", action="store_true",
                        help="after the quiet sweep, every point again with one core busy")
    parser.add_argument("--busy-only", action="store_true",
                        help="the busy sweep alone (with --merge: kept beside a quiet one)")
    parser.add_argument("--quick", action="store_true",
                        help="one tiny point a workload, one round (checks the machinery)")
    parser.add_argument("--only", nargs="+", choices=sorted(CURVES), help="these workloads")
    parser.add_argument("--out", help="the report's path (default "
                        "benchmarks/cost_curves_results.md; nothing for --quick)")
    parser.add_argument("--plot-only", action="store_true",
                        help="redraw the report and picture from the JSON, measure nothing")
    parser.add_argument("--merge", action="store_true",
                        help="keep the loads in the JSON that this run does not measure")
    parser.add_argument("--blas-default", action="store_true",
                        help="backprop at OpenBLAS's own thread count, not the command's policy")
    parser.add_argument("--wait", type=float, default=300,
                        help="seconds the whole run may wait for other processes to go quiet "
                        "(default 300; --quick: 0)")
    args = parser.parse_args(argv)
    paths = outputs(args.out, args.quick)
    if args.plot_only:
        if paths is None:
            parser.error("--plot-only with --quick needs --out")
        print(write(json.loads(paths[1].read_text()), paths))
        return 0
    loads = ["busy"] if args.busy_only else ["quiet", "busy"] if args.busy else ["quiet"]
    table = QUICK_POINTS if args.quick else {w: pts for w, (_, _, pts) in CURVES.items()}
    points = {w: table[w] for w in (args.only or table)}
    harness.WAIT_BUDGET["seconds"] = 0.0 if args.quick else args.wait
    timing = dict(zip(("rounds", "block_s", "warmup", "budget_s"),
                      TIMING["quick" if args.quick else "full"]))
    result: dict[str, Any] = {"meta": {**machine(), "quick": args.quick, "timing": timing,
                                       "thread_policy": not args.blas_default,
                                       "command": " ".join([
                                           "python -m benchmarks.cost_curves",
                                           *(sys.argv[1:] if argv is None else argv)])},
                              "loads": {}}
    if args.merge and paths is not None and paths[1].exists():
        earlier = json.loads(paths[1].read_text())
        result["loads"] = {k: v for k, v in earlier["loads"].items() if k not in loads}
        result["meta"]["merged"] = {k: earlier["meta"]["date"] for k in result["loads"]}
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # `yes` stopped on a kill
    try:
        started = time.perf_counter()
        for load in loads:
            result["loads"][load] = sweep(load, points, args.quick, not args.blas_default)
        result["meta"]["run_s"] = time.perf_counter() - started
        result["loads"] = {k: result["loads"][k] for k in ("quiet", "busy") if k in result["loads"]}
    finally:
        signal.signal(signal.SIGTERM, previous)
    if paths is None:
        from .cost_curves_report import report

        print(report(result, picture=None))
    else:
        print(write(result, paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
