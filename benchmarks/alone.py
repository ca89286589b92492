"""One contender alone in a fresh process (PyTorch: under the OpenMP wait policy and thread count
it is given).

``BENCH_TORCH_OMP_POLICY=default python -m benchmarks.alone W2 torch 2 15`` (no OMP_WAIT_POLICY in
the environment) prints the median seconds per step as JSON. The side-by-side run needs
OMP_WAIT_POLICY=PASSIVE (spinning threads would slow the next contender), which costs PyTorch on
workloads made of many tiny parallel regions (W2): each one wakes a sleeping thread. Timing
PyTorch alone under libgomp's default policy (spin briefly, then sleep) shows its best figure.
harness.alone_time() sets up the environment.

Options (the cost curves' use, ``benchmarks/cost_curves.py``): ``--size NAME=INT`` (repeated)
passes sizes to the workload's ``make_problem`` (``--size d_model=256 --size layers=4``);
``--block-s``, ``--warmup`` and ``--budget-s`` shape the timing (``harness.time_interleaved``);
``--thread-policy`` makes a backprop contender pick its BLAS threads as the ``backprop`` command
does (one per idle core, ``backprop.threads``). The contender ``backprop-captured`` is backprop
with its step captured by ``bp.compile`` and replayed (``common.CAPTURE``); the JSON then lists
the warnings of steps that ran eagerly instead (``fallbacks``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from typing import Any

from . import common
from .harness import MODULES, SMALL, build_contender, time_interleaved

CAPTURED = "backprop-captured"


def measure(workload: str, contender: str, threads: int, rounds: int,
            small: bool = False) -> float:
    """Median seconds per step of ``contender`` on ``workload`` (the historical entry point)."""
    return measure_point(workload, contender, threads, rounds, small=small)["median_s"]


def measure_point(workload: str, contender: str, threads: int, rounds: int, small: bool = False,
                  sizes: dict[str, int] | None = None, block_s: float = 0.1, warmup: int = 3,
                  budget_s: float | None = None, thread_policy: bool = False) -> dict[str, Any]:
    """Time one contender on one workload size; returns the median and how it ran.

    ``sizes`` override the workload's ``make_problem`` arguments (after ``SMALL`` when
    ``small``); ``budget_s`` stops the timing after the round that passes it (three rounds at
    least, see ``harness.time_interleaved``)."""
    common.TORCH_THREADS = threads
    captured = contender == CAPTURED
    library = "backprop" if captured else contender
    info: dict[str, Any] = {}
    if library == "backprop":
        import backprop

        if thread_policy:
            choice = backprop.threads.apply_command_threads(None)
            info["threads_reason"] = choice.reason
        info["blas_threads"] = backprop.get_num_threads()
    kwargs = {**(SMALL[workload] if small else {}), **(sizes or {})}
    problem = MODULES[workload].make_problem(**kwargs)
    common.CAPTURE = captured
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            step = build_contender(library, problem)
            median = time_interleaved({contender: step}, rounds, warmup=warmup,
                                      block_s=block_s, budget_s=budget_s)[contender]
    finally:
        common.CAPTURE = False  # a caller in the same process builds eager steps again
    if captured:
        # bp.compile's "compile: ... runs eagerly for these inputs: ..." lines
        info["fallbacks"] = sorted({str(w.message).splitlines()[0][:200] for w in caught
                                    if str(w.message).startswith("compile:")})
    return {"median_s": median, "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset)"),
            "sizes": kwargs, **info}


def _size(text: str) -> tuple[str, int]:
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"--size wants NAME=INT, got {text!r}")
    try:
        return name, int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--size {name}: {value!r} is not an int") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.alone",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(MODULES))
    parser.add_argument("contender", choices=["backprop", CAPTURED, "numpy", "torch"])
    parser.add_argument("threads", type=int, help="PyTorch's set_num_threads")
    parser.add_argument("rounds", type=int)
    parser.add_argument("small", nargs="?", choices=["small"], help="the test suite's sizes")
    parser.add_argument("--size", type=_size, action="append", default=[])
    parser.add_argument("--block-s", type=float, default=0.1)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--budget-s", type=float)
    parser.add_argument("--thread-policy", action="store_true")
    args = parser.parse_args(argv)
    print(json.dumps(measure_point(args.workload, args.contender, args.threads, args.rounds,
                                   small=args.small == "small", sizes=dict(args.size),
                                   block_s=args.block_s, warmup=args.warmup,
                                   budget_s=args.budget_s, thread_policy=args.thread_policy)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
