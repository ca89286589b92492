"""The process group: which process this is (rank) among how many (world size), over MPI.

One group per process, made by ``init()``, as PyTorch's default process group. Its collectives
run on a private duplicate of ``MPI.COMM_WORLD``, so a user's own mpi4py messages on
``COMM_WORLD`` can never be matched with ours.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
from dataclasses import dataclass
from typing import Any, NamedTuple

from . import failure
from .errors import DistributedError
from .mpi import check_launch, load_mpi
from .waiting import TIMEOUT_VARIABLE, wait_all

DEFAULT_TIMEOUT = 300.0  # seconds; PyTorch's default is longer (10 min) but a hung job costs


class RankInfo(NamedTuple):
    """What ``init()`` returns: this process's rank and the number of processes."""

    rank: int
    world_size: int


@dataclass
class _Group:
    mpi: Any          # the mpi4py.MPI module
    comm: Any         # our duplicate of COMM_WORLD
    rank: int
    world_size: int
    timeout: float    # seconds a collective may wait for the other ranks


_group: _Group | None = None


def _timeout_seconds(timeout: float | datetime.timedelta | None) -> float:
    """The timeout given, else ``$BACKPROP_DIST_TIMEOUT``, else the default, in seconds."""
    source = "init: timeout"
    if timeout is None:
        value = os.environ.get(TIMEOUT_VARIABLE)
        if value is None:
            return DEFAULT_TIMEOUT
        source = f"${TIMEOUT_VARIABLE}"
        try:
            timeout = float(value)
        except ValueError:
            raise ValueError(f"{source} must be a number of seconds; got {value!r}") from None
    if isinstance(timeout, datetime.timedelta):
        timeout = timeout.total_seconds()
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"{source} must be a positive number of seconds (or a timedelta); got "
                         f"{timeout!r}")
    return float(timeout)


def init(timeout: float | datetime.timedelta | None = None) -> RankInfo:
    """Join the process group: under ``mpiexec -n N`` this process is one of N ranks; started
    without a launcher it is the only one (rank 0 of 1). Returns ``(rank, world_size)``.

    A collective waits at most ``timeout`` seconds (default ``$BACKPROP_DIST_TIMEOUT`` or 300)
    for the other ranks, then raises ``DistributedTimeoutError``. With more than one rank, an
    uncaught exception in any rank aborts the whole job (MPI_Abort), so a failed rank ends the
    job instead of leaving the others waiting. Calling ``init()`` again returns the same group.
    Needs mpi4py (``pip install 'backprop[mpi]'``).

    >>> import backprop.distributed as dist
    >>> dist.init()
    RankInfo(rank=0, world_size=1)
    >>> dist.get_rank(), dist.get_world_size(), dist.is_initialized()
    (0, 1, True)
    """
    global _group
    if _group is not None:
        if timeout is not None:
            _group.timeout = _timeout_seconds(timeout)
        return RankInfo(_group.rank, _group.world_size)
    seconds = _timeout_seconds(timeout)
    mpi = load_mpi("bp.distributed.init", seconds)
    world = mpi.COMM_WORLD
    check_launch(world.Get_size(), "bp.distributed.init")
    rank, size = world.Get_rank(), world.Get_size()
    if size > 1:  # before the first collective, so a rank failing in it aborts the job
        failure.install_excepthook(mpi, rank, size)
    comm, request = world.Idup()  # non-blocking, so a rank that never arrives cannot hang us
    wait_all([request], "init", mpi, rank, size, seconds)
    _group = _Group(mpi, comm, rank, size, seconds)
    return RankInfo(rank, size)


def init_process_group(backend: str | None = None, *,
                       timeout: float | datetime.timedelta | None = None) -> None:
    """PyTorch's spelling of ``init()``, so ported scripts run; only ``backend="mpi"`` (or None)
    exists here.

    >>> import backprop.distributed as dist
    >>> dist.init_process_group("mpi"); dist.get_world_size()
    1
    """
    if backend not in (None, "mpi"):
        raise ValueError(f"init_process_group: backend {backend!r} is not available; backprop "
                         "runs its collectives over MPI (backend='mpi' or leave it out)")
    init(timeout)


def is_available() -> bool:
    """Whether mpi4py is installed (without importing it, which would start MPI).

    >>> import backprop.distributed as dist
    >>> isinstance(dist.is_available(), bool)
    True
    """
    return importlib.util.find_spec("mpi4py") is not None


def is_initialized() -> bool:
    """Whether ``init()`` has made the process group.

    >>> import backprop.distributed as dist
    >>> _ = dist.init(); dist.is_initialized()
    True
    """
    return _group is not None


def current(caller: str) -> _Group:
    """The process group, or an error naming ``caller`` that says to call ``init()`` first."""
    if _group is None:
        raise DistributedError(f"{caller}: the process group is not initialized; call "
                               "bp.distributed.init() first (and launch with mpiexec -n N for "
                               "more than one process)")
    return _group


def get_rank() -> int:
    """This process's rank, 0 to world size - 1 (rank 0 writes checkpoints and logs).

    >>> import backprop.distributed as dist
    >>> _ = dist.init(); dist.get_rank()
    0
    """
    return current("get_rank").rank


def get_world_size() -> int:
    """The number of processes in the group.

    >>> import backprop.distributed as dist
    >>> _ = dist.init(); dist.get_world_size()
    1
    """
    return current("get_world_size").world_size


def destroy_process_group() -> None:
    """Leave the group: collectives need ``init()`` again. MPI itself stays up until the process
    exits (MPI cannot start twice in one process).

    >>> import backprop.distributed as dist
    >>> _ = dist.init(); dist.destroy_process_group(); dist.is_initialized()
    False
    """
    global _group
    if _group is None:
        return
    failure.uninstall_excepthook()
    group, _group = _group, None
    group.comm.Free()


__all__ = ["RankInfo", "destroy_process_group", "get_rank", "get_world_size", "init",
           "init_process_group", "is_available", "is_initialized"]
