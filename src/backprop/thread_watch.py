"""Following the machine's load while training: one BLAS thread per idle core, re-checked as
other work on the machine starts and stops.

Why: threads that meet at every matrix product need a core each. On a 2-core machine with one
core taken by another process (``yes > /dev/null``), a W4 (character Transformer) step took
72 ms with OpenBLAS's default of two threads and 44 ms with one; W1 (MLP) 4.2 and 2.2 ms. The
``backprop`` command picks its count when it starts (``threads.command_threads``), but a script
run with ``python`` had no policy at all, and neither saw work that started later.

How: every backward pass, and every replay of a captured step, calls ``tick()``, which returns
at once unless ``INTERVAL_S`` has passed since its last reading. A reading takes the busy time
of this process's cores from ``/proc/stat`` and this process's own CPU time
(``time.process_time``: all its threads, BLAS's included). Over the interval, their difference
is the share of the cores that other work keeps busy, which ``threads.choose_num_threads`` turns
into a count; the BLAS thread count changes (threadpoolctl) only when that count differs. A
reading costs about 50 us.

It stays off where the user chose a count (``bp.set_num_threads``, the command's ``--threads``,
``BACKPROP_NUM_THREADS``, or ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` in
the environment), with ``BACKPROP_ADAPTIVE_THREADS=0``, without threadpoolctl (the
``[threads]`` extra, included in ``[train]``), without ``/proc/stat`` (not Linux), and on one
core.

>>> others_busy(previous=Reading(wall=0.0, busy=0.0, own=0.0),
...             current=Reading(wall=0.5, busy=0.9, own=0.4))  # 0.5 s of others' work in 0.5 s
1.0
"""

from __future__ import annotations

import importlib.util
import os
import time
from typing import NamedTuple

from . import threads

ENV = "BACKPROP_ADAPTIVE_THREADS"
INTERVAL_S = 0.5

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class Reading(NamedTuple):
    """One reading: ``wall`` (monotonic seconds), ``busy`` (seconds the process's cores have
    spent busy, all processes together, since boot) and ``own`` (this process's CPU seconds)."""

    wall: float
    busy: float
    own: float


def others_busy(previous: Reading, current: Reading) -> float:
    """How many cores other work kept busy between two readings (0 or more)."""
    elapsed = current.wall - previous.wall
    if elapsed <= 0:
        return 0.0
    others = (current.busy - previous.busy) - (current.own - previous.own)
    return max(0.0, others / elapsed)


_active: bool | None = None  # None: not decided yet (the first tick decides)
_next_at = 0.0
_last: Reading | None = None
_cores = 1
_cpus: set[int] | None = None
_threads = 1


def tick() -> None:
    """Read the load if ``INTERVAL_S`` has passed, and follow it (see the module docstring)."""
    if _active is False or time.monotonic() < _next_at:
        return
    _follow()


def _follow() -> None:
    global _active, _next_at, _last, _threads
    if _active is None:
        _active = _should_follow()
    if not _active or threads.user_chose_count:
        _active = False
        return
    current = _read()
    if current is None:
        _active = False
        return
    _next_at = current.wall + INTERVAL_S
    previous, _last = _last, current
    if previous is None:
        return
    wanted = threads.choose_num_threads(_cores, others_busy(previous, current))
    if wanted != _threads:
        threads.limit_blas_threads(wanted)
        threads.limit_kernel_threads(wanted)
        _threads = wanted


def _should_follow() -> bool:
    global _cores, _cpus, _threads
    if os.environ.get(ENV, "").strip().lower() in ("0", "false", "off", "no"):
        return False
    if any(os.environ.get(name) for name in (threads.ENV, *threads.BLAS_ENV)):
        return False
    _cores = threads.available_cores()
    if _cores < 2 or importlib.util.find_spec("threadpoolctl") is None:
        return False
    _cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    _threads = threads.get_num_threads()
    return True


def _read() -> Reading | None:
    times = threads.cpu_times(_cpus)
    if not times:
        return None
    busy_ticks = sum(total - idle for idle, total in times.values())
    return Reading(time.monotonic(), busy_ticks / _CLOCK_TICKS, time.process_time())
