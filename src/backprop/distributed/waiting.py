"""Waiting for non-blocking MPI requests with a deadline.

A blocking ``MPI_Allreduce`` whose partner died waits forever: MPI only notices a rank that was
killed (the launcher then stops the job), not one that raised and is stuck in ``MPI_Finalize``,
left the loop early or hangs. So every collective here is started non-blocking and polled: a
short spin first (the partner is usually microseconds away and sleeping would add latency), then
sleeps that grow to a few milliseconds, until the deadline, when it raises
``DistributedTimeoutError``. Polling is also what makes MPI progress the transfer: without a
progress thread, a non-blocking collective advances only while some MPI call is running.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

from .errors import DistributedTimeoutError

# The environment variable that sets how long a rank waits for the others (seconds).
TIMEOUT_VARIABLE = "BACKPROP_DIST_TIMEOUT"

_SPIN_SECONDS = 0.002
_FIRST_SLEEP = 20e-6
_LONGEST_SLEEP = 0.005


def wait_all(requests: Sequence[Any], what: str, mpi: Any, rank: int, world_size: int,
             timeout: float) -> None:
    """Return once every request is complete, or raise ``DistributedTimeoutError`` after
    ``timeout`` seconds naming ``what`` was waited for, and by which rank."""
    requests = list(requests)
    if mpi.Request.Testall(requests):
        return
    start = time.monotonic()
    spin_until, deadline = start + _SPIN_SECONDS, start + timeout
    while time.monotonic() < spin_until:
        if mpi.Request.Testall(requests):
            return
    pause = _FIRST_SLEEP
    while not mpi.Request.Testall(requests):
        now = time.monotonic()
        if now >= deadline:
            raise DistributedTimeoutError(
                f"{what}: rank {rank} of {world_size} waited {now - start:.0f} s for the other "
                "ranks, which did not join: one of them crashed, hangs, or left the training "
                "loop early (every rank must run the same collectives in the same order). Set "
                f"${TIMEOUT_VARIABLE} (seconds) to wait longer")
        time.sleep(pause)
        pause = min(pause * 2, _LONGEST_SLEEP)


def all_done(requests: Sequence[Any], mpi: Any) -> bool:
    """Whether every request is complete, without waiting; also lets MPI progress the ones in
    flight."""
    return bool(requests) and mpi.Request.Testall(list(requests))


__all__ = ["all_done", "wait_all"]
