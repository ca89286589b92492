"""One contender alone in a fresh process (PyTorch: under the OpenMP wait policy and thread count
it is given).

``BENCH_TORCH_OMP_POLICY=default python -m benchmarks.alone W2 torch 2 15`` (no OMP_WAIT_POLICY in
the environment) prints the median seconds per step as JSON. The side-by-side run needs
OMP_WAIT_POLICY=PASSIVE (spinning threads would slow the next contender), which costs PyTorch on
workloads made of many tiny parallel regions (W2): each one wakes a sleeping thread. Timing
PyTorch alone under libgomp's default policy (spin briefly, then sleep) shows its best figure.
harness.alone_time() sets up the environment."""

from __future__ import annotations

import json
import os
import sys

from . import common
from .harness import MODULES, SMALL, build_contender, time_interleaved


def measure(workload: str, contender: str, threads: int, rounds: int,
            small: bool = False) -> float:
    common.TORCH_THREADS = threads
    problem = MODULES[workload].make_problem(**(SMALL[workload] if small else {}))
    step = build_contender(contender, problem)
    return time_interleaved({contender: step}, rounds, block_s=0.1)[contender]


if __name__ == "__main__":
    name, who = sys.argv[1], sys.argv[2]
    n_threads, n_rounds = int(sys.argv[3]), int(sys.argv[4])
    is_small = len(sys.argv) > 5 and sys.argv[5] == "small"
    print(json.dumps({"median_s": measure(name, who, n_threads, n_rounds, is_small),
                      "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset)")}))
