"""Peak memory of one contender on one workload, measured in a fresh subprocess.

``python -m benchmarks.memory W1 torch 30`` imports the library, builds the problem, records the
process's peak resident set so far, runs the steps and records it again; it prints both as JSON
(kB). tracemalloc would miss PyTorch's own allocator, RSS does not.

The peak is ``VmHWM`` from /proc/self/status (Linux), else ``ru_maxrss``. On Linux ``ru_maxrss``
survives fork+exec: a child started by a process that already holds torch (300 MB) reports at
least the parent's RSS, which is why VmHWM (per address space, reset by exec) comes first."""

from __future__ import annotations

import json
import resource
import sys

from . import common
from .harness import MODULES, SMALL, build_contender


def status_kb(field: str) -> int:
    """A ``/proc/self/status`` figure in kB (``VmHWM``, ``VmRSS``); -1 where /proc is missing."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def peak_rss_kb() -> int:
    peak = status_kb("VmHWM")
    return peak if peak >= 0 else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(workload: str, contender: str, steps: int, small: bool = False) -> dict:
    if contender != "numpy":
        common.Lib(contender)  # import before the baseline, so import cost is not "growth"
    problem = MODULES[workload].make_problem(**(SMALL[workload] if small else {}))
    base = peak_rss_kb()
    step = build_contender(contender, problem)
    for _ in range(steps):
        common.to_float(step())
    peak = peak_rss_kb()
    return {"base_kb": base, "peak_kb": peak}


if __name__ == "__main__":
    name, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    small = len(sys.argv) > 4 and sys.argv[4] == "small"
    print(json.dumps(measure(name, who, n, small)))
