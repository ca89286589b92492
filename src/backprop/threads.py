"""How many threads the compute libraries under backprop use, and the ``backprop`` command's
choice: one thread per idle core.

``set_num_threads``/``get_num_threads`` are ``torch.set_num_threads``/``torch.get_num_threads``
for the two thread pools a backprop process can have: OpenBLAS's (NumPy's matrix products) and
Numba's (small convolutions spread their images over it; the other ``[fast]`` kernels run on
one thread).
threadpoolctl (the ``[threads]`` extra, included in ``[train]``) changes the thread count of the
BLAS already loaded; it is imported on first use, never by ``import backprop``.

Why a policy: threads that wait for each other at every product need a core each. On a 2-core
machine with one core busy (``benchmarks/threads_results.md``), OpenBLAS's default of two
threads made ``backprop profile --model cnn`` 3-11 times, ``backprop generate`` 1.5-4.5 times
and a Fashion-MNIST epoch 3.6-12 times slower than one thread; on the idle machine the two were
within 5% on those commands, but two threads trained a batch-1024 MLP 1.5 times faster. So
the command counts the cores idle right now (a 0.1 s sample of ``/proc/stat``; the load
average lags by a minute and counts our own earlier runs) and uses one thread per idle core.
``--threads N`` or ``BACKPROP_NUM_THREADS=N`` overrides it, and an ``OPENBLAS_NUM_THREADS``/
``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` already set is left to rule. From then on the count
follows the load (``thread_watch``), in the command and in any script.

>>> choose_num_threads(cores=2, busy=1.0)    # one core busy: one thread
1
>>> choose_num_threads(cores=16, busy=0.1)
16
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["get_num_interop_threads", "get_num_threads", "set_num_interop_threads",
           "set_num_threads"]

ENV = "BACKPROP_NUM_THREADS"
# What OpenBLAS (and MKL, for a NumPy built on it) reads when it loads: a user who set one
# chose the count, and the command leaves it.
BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
SAMPLE_S = 0.1
# A core counts as idle when at least this share of it is: a thread sharing a core keeps the
# others waiting at every synchronisation, so err towards fewer threads.
IDLE_ENOUGH = 0.8

#: Set by ``set_num_threads``: the user's count stays, and ``thread_watch`` stops following the
#: load.
user_chose_count = False

_INSTALL_HINT = ("pip install threadpoolctl (it comes with 'backprop[train]' and "
                 "'backprop[threads]')")


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in BLAS (NumPy's matrix products) and in Numba kernels.

    As ``torch.set_num_threads``, for the whole process. Needs threadpoolctl for BLAS, whose
    threads are started when NumPy loads. Numba's pool cannot grow past the size it started
    with (``NUMBA_NUM_THREADS``, set here when Numba is not loaded yet).

    >>> import backprop as bp
    >>> before = bp.get_num_threads()
    >>> bp.set_num_threads(1)
    >>> bp.get_num_threads()
    1
    >>> bp.set_num_threads(before)
    """
    global user_chose_count
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be an int of at least 1, got {n!r}")
    try:
        _use_threads(n)
    except ImportError as err:
        raise ImportError(f"set_num_threads: {err}") from None
    user_chose_count = True


def limit_blas_threads(n: int) -> None:
    """Give BLAS ``n`` threads from now on (threadpoolctl; ImportError without it)."""
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 - an optional extra
    except ImportError:
        raise ImportError(f"changing the BLAS threads of a running process needs threadpoolctl: "
                          f"{_INSTALL_HINT}; or start Python with OPENBLAS_NUM_THREADS={n}"
                          ) from None
    threadpool_limits(limits=n, user_api="blas")  # stays in force: not used as a `with` block


def env_threads() -> int | None:
    """The thread count the environment asks for: ``BACKPROP_NUM_THREADS``, else the first of
    ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` that is a whole number;
    None when none is set.

    >>> env_threads() is None or env_threads() >= 1
    True
    """
    for name in (ENV, *BLAS_ENV):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) >= 1:
            return int(value)
    return None


def limit_kernel_threads(n: int) -> None:
    """Give Numba's pool ``n`` threads from now on (at most the size it started with), when
    Numba is loaded."""
    numba = sys.modules.get("numba")
    if numba is not None:
        numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))


def _use_threads(n: int) -> None:
    """``n`` threads for BLAS and for Numba's pool."""
    limit_blas_threads(n)
    if "numba" not in sys.modules:
        os.environ["NUMBA_NUM_THREADS"] = str(n)  # read when Numba is imported
    limit_kernel_threads(n)


def get_num_threads() -> int:
    """The number of BLAS threads, as ``torch.get_num_threads``.

    Without threadpoolctl, the count OpenBLAS reads when it loads: ``OPENBLAS_NUM_THREADS``,
    else ``OMP_NUM_THREADS``, else one per core this process may run on.

    >>> import backprop as bp
    >>> bp.get_num_threads() >= 1
    True
    """
    try:
        from threadpoolctl import threadpool_info  # noqa: PLC0415 - an optional extra
    except ImportError:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
            if os.environ.get(name, "").strip().isdigit():
                return max(1, int(os.environ[name]))
        return available_cores()
    return max((pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"),
               default=1)


# torch.set_num_interop_threads's count: recorded only (None: not set, one per core)
_interop_threads: int | None = None


def set_num_interop_threads(n: int) -> None:
    """Record the inter-op thread count, as ``torch.set_num_interop_threads``.

    PyTorch may run independent ops of a TorchScript graph on a pool of that many threads;
    backprop runs ops one after the other on the caller's thread, so the number changes
    nothing (``set_num_threads`` is the count that matters: the threads inside each op).

    >>> import backprop as bp
    >>> before = bp.get_num_interop_threads()
    >>> bp.set_num_interop_threads(2)
    >>> bp.get_num_interop_threads()
    2
    >>> bp.set_num_interop_threads(before)
    """
    global _interop_threads
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_interop_threads: n must be an int of at least 1, got {n!r}")
    _interop_threads = n


def get_num_interop_threads() -> int:
    """The inter-op thread count last set, else one per core this process may use (PyTorch's
    default).

    >>> import backprop as bp
    >>> bp.get_num_interop_threads() >= 1
    True
    """
    return available_cores() if _interop_threads is None else _interop_threads


def choose_num_threads(cores: int, busy: float) -> int:
    """One thread per idle core: ``cores`` this process may use, ``busy`` of them (a float)
    taken by other work; a core counts as idle when it is at least 80% idle. At least 1.

    >>> choose_num_threads(cores=2, busy=0.0), choose_num_threads(cores=2, busy=0.5)
    (2, 1)
    """
    return max(1, min(cores, math.floor(cores - busy + (1 - IDLE_ENOUGH))))


def available_cores() -> int:
    """Cores this process may run on: its CPU affinity, within a cgroup CPU quota (a container
    limited to ``--cpus 1.5`` gets 1)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cores = min(cores, int(quota) // int(period))
    except (OSError, ValueError):
        pass  # no cgroup v2 quota (or not Linux)
    return max(1, cores or 1)


def busy_cores(sample_s: float = SAMPLE_S) -> float | None:
    """How many of this process's cores other work keeps busy: from two readings of
    ``/proc/stat`` ``sample_s`` apart (this process sleeps meanwhile, so it is not counted),
    else the 1-minute load average; None when neither can be read."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    before = cpu_times(cpus)
    if before is None:
        try:
            return os.getloadavg()[0]
        except (AttributeError, OSError):
            return None
    time.sleep(sample_s)
    after = cpu_times(cpus) or {}
    busy = 0.0
    for cpu, (idle, total) in after.items():
        idle0, total0 = before.get(cpu, (idle, total))
        if total > total0:
            busy += 1 - (idle - idle0) / (total - total0)
    return busy


def cpu_times(cpus: set[int] | None) -> dict[int, tuple[int, int]] | None:
    """``cpu -> (idle ticks, all ticks)`` from ``/proc/stat`` for the given CPUs (None: all)."""
    try:
        with open("/proc/stat") as stat:
            lines = stat.readlines()
    except OSError:
        return None
    times = {}
    for line in lines:
        name, *fields = line.split()
        if name.startswith("cpu") and name != "cpu":
            cpu = int(name[3:])
            if cpus is None or cpu in cpus:
                # user nice system idle iowait irq softirq steal (guest time is inside user)
                ticks = [int(f) for f in fields[:8]]
                times[cpu] = (ticks[3] + ticks[4], sum(ticks))
    return times


@dataclass(frozen=True)
class ThreadChoice:
    """What the command chose: ``threads`` (None: left as the libraries started) and why."""

    threads: int | None
    reason: str


def command_threads(flag: int | None, environ: Any = os.environ) -> ThreadChoice:
    """The command's thread count: ``--threads``, else ``BACKPROP_NUM_THREADS``, else nothing
    when a BLAS variable is set, else one per idle core (see ``choose_num_threads``)."""
    if flag is not None:
        return ThreadChoice(flag, f"--threads {flag}")
    value = environ.get(ENV, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"{ENV} must be a whole number of at least 1, got {value!r}")
        return ThreadChoice(int(value), f"{ENV}={value}")
    for name in BLAS_ENV:
        if environ.get(name):
            return ThreadChoice(None, f"{name}={environ[name]} is set")
    cores = available_cores()
    busy = busy_cores() if cores > 1 else 0.0
    if busy is None:
        return ThreadChoice(None, "the load cannot be read")
    n = choose_num_threads(cores, busy)
    return ThreadChoice(n, f"{cores - busy:.1f} of {cores} cores idle")


def apply_command_threads(flag: int | None) -> ThreadChoice:
    """Apply ``command_threads``: an explicit count needs threadpoolctl (an error says so);
    the automatic one without it says, on stderr, what to set instead."""
    choice = command_threads(flag)
    if choice.threads is None:
        return choice
    explicit = choice.reason.startswith(("--threads", ENV))
    try:
        if explicit:
            set_num_threads(choice.threads)
        else:  # one per idle core now; thread_watch follows the load from here on
            _use_threads(choice.threads)
    except ImportError as err:
        if explicit:
            raise ImportError(f"{choice.reason}: {err}") from None
        if choice.threads < get_num_threads():  # only when it matters: a busy machine
            print(f"backprop: note: {choice.reason}: the command would use {choice.threads} "
                  f"BLAS thread(s) with threadpoolctl ({_INSTALL_HINT}); or set "
                  f"OPENBLAS_NUM_THREADS={choice.threads}", file=sys.stderr)
        return ThreadChoice(None, choice.reason)
    return choice


def add_threads_flag(commands: Any) -> None:
    """Give every sub-command of ``commands`` (argparse sub-parsers) ``--threads N``."""
    for parser in commands.choices.values():
        parser.add_argument("--threads", type=_positive_int, metavar="N",
                            help="BLAS and Numba threads (default: one per idle core, or "
                                 f"{ENV})")


def _positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return int(text)
