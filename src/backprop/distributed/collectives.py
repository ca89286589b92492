"""Collectives on tensors: ``all_reduce``, ``broadcast`` and ``barrier`` (PyTorch's semantics:
in place, every rank calls them in the same order, ``async_op=True`` returns a ``Work``).

Each is a non-blocking MPI call waited on with the group's timeout (see ``waiting.py``). The
array-level helpers at the bottom are what ``DistributedDataParallel`` builds on.
"""

from __future__ import annotations

import enum
from typing import Any, Callable, Sequence

import numpy as np

from .. import backend
from ..autograd.graph import VersionCounter
from ..tensor import Tensor
from .errors import DistributedError
from .group import _Group, current
from .waiting import all_done, wait_all


class ReduceOp(str, enum.Enum):
    """How ``all_reduce`` combines the ranks' values; ``"sum"`` and ``ReduceOp.SUM`` are the same.

    >>> from backprop.distributed import ReduceOp
    >>> ReduceOp("avg") is ReduceOp.AVG
    True
    """

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


class Work:
    """A collective started with ``async_op=True``: ``wait()`` for it (with the group's timeout),
    or ask ``is_completed()``. The tensor holds the result only after one of them says so."""

    def __init__(self, requests: Sequence[Any], what: str, group: _Group,
                 finish: Callable[[], None] | None = None) -> None:
        self._requests = list(requests)
        self._what = what
        self._group = group
        self._finish = finish
        self._done = False

    def _complete(self) -> None:
        if not self._done:
            self._done = True
            if self._finish is not None:
                self._finish()

    def is_completed(self) -> bool:
        """Whether the collective has finished (checking lets MPI move it along)."""
        if not self._done and all_done(self._requests, self._group.mpi):
            self._complete()
        return self._done

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the collective finishes; ``DistributedTimeoutError`` after ``timeout``
        seconds (default: the group's). Returns True, as PyTorch's ``Work.wait``."""
        if not self._done:
            group = self._group
            wait_all(self._requests, self._what, group.mpi, group.rank, group.world_size,
                     group.timeout if timeout is None else timeout)
            self._complete()
        return True


# -- checks ----------------------------------------------------------------------------------------

def _check_group(group: Any, caller: str) -> _Group:
    if group is not None:
        raise DistributedError(f"{caller}: sub-groups are not supported; leave group=None (the "
                               "collective runs over every rank)")
    return current(caller)


def _array(tensor: Any, caller: str) -> np.ndarray:
    """The host array MPI exchanges: the tensor's own, or for a device tensor a host copy that
    ``_write_back`` returns to the device (MPI here is not CUDA-aware)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{caller}: tensor must be a bp.Tensor, got {type(tensor).__name__}")
    if type(tensor._data) is not np.ndarray:
        return backend.to_host(tensor._data)
    if not tensor._data.flags.writeable:
        raise ValueError(f"{caller}: the tensor's memory is read-only (a broadcast view?), so "
                         "it cannot receive the result in place; .clone() it first")
    return tensor._data


def _as_op(op: ReduceOp | str, dtype: np.dtype) -> ReduceOp:
    try:
        op = ReduceOp(op.lower() if isinstance(op, str) else op)
    except ValueError:
        raise ValueError(f"all_reduce: op must be one of "
                         f"{', '.join(repr(o.value) for o in ReduceOp)}; got {op!r}") from None
    if op is ReduceOp.AVG and dtype.kind not in "fc":
        raise TypeError(f"all_reduce: op='avg' needs a floating-point tensor, got {dtype}; "
                        "use 'sum' and divide")
    return op


def _write_back(tensor: Tensor, host: np.ndarray) -> None:
    if host is not tensor._data:  # a device tensor: its result came back through the host
        tensor._data[...] = backend.to_device(host, tensor.device)


def _bump(tensor: Tensor, op: str) -> None:
    """Count the in-place write, so a graph that saved the old values refuses to use them."""
    if tensor._version is None:
        tensor._version = VersionCounter()
    tensor._version.bump(op)


# -- the collectives ---------------------------------------------------------------------------

def all_reduce(tensor: Tensor, op: ReduceOp | str = ReduceOp.SUM, group: Any = None,
               async_op: bool = False) -> Work | None:
    """Combine ``tensor`` across all ranks (sum, average, product, min or max) and leave the
    result in every rank's ``tensor``, in place.

    >>> import backprop as bp
    >>> import backprop.distributed as dist
    >>> _ = dist.init()
    >>> t = bp.tensor([1.0, 2.0])
    >>> dist.all_reduce(t, op="sum"); t.tolist()   # one rank: the sum is its own value
    [1.0, 2.0]
    """
    array = _array(tensor, "all_reduce")
    op = _as_op(op, array.dtype)
    group = _check_group(group, "all_reduce")
    buffer, finish = _reduce_buffer(array, op, group.world_size)

    def done() -> None:
        finish()
        _write_back(tensor, array)
        _bump(tensor, "all_reduce")

    request = start_all_reduce(buffer, op, group)
    work = Work([request], "all_reduce", group, done)
    if async_op:
        return work
    work.wait()
    return None


def broadcast(tensor: Tensor, src: int = 0, group: Any = None,
              async_op: bool = False) -> Work | None:
    """Copy rank ``src``'s ``tensor`` into every other rank's ``tensor``, in place.

    >>> import backprop as bp
    >>> import backprop.distributed as dist
    >>> _ = dist.init()
    >>> t = bp.tensor([3.0]); dist.broadcast(t, src=0); t.tolist()
    [3.0]
    """
    array = _array(tensor, "broadcast")
    group = _check_group(group, "broadcast")
    if isinstance(src, bool) or not isinstance(src, (int, np.integer)) or \
            not 0 <= src < group.world_size:
        raise ValueError(f"broadcast: src must be a rank in [0, {group.world_size - 1}]; got "
                         f"{src!r}")
    buffer = array if array.flags.c_contiguous else np.ascontiguousarray(array)

    def done() -> None:
        if buffer is not array:
            array[...] = buffer
        _write_back(tensor, array)
        _bump(tensor, "broadcast")

    request = group.comm.Ibcast(_mpi_view(buffer), root=int(src))
    work = Work([request], "broadcast", group, done)
    if async_op:
        return work
    work.wait()
    return None


def barrier(group: Any = None, async_op: bool = False) -> Work | None:
    """Wait until every rank has reached this call.

    >>> import backprop.distributed as dist
    >>> _ = dist.init(); dist.barrier()
    """
    group = _check_group(group, "barrier")
    work = Work([group.comm.Ibarrier()], "barrier", group)
    if async_op:
        return work
    work.wait()
    return None


# -- on arrays, for DistributedDataParallel ------------------------------------------------------

_MPI_OPS = {ReduceOp.SUM: "SUM", ReduceOp.AVG: "SUM", ReduceOp.PRODUCT: "PROD",
            ReduceOp.MIN: "MIN", ReduceOp.MAX: "MAX"}
# MPI defines no arithmetic on its boolean type: booleans travel as bytes, where a sum reads as
# "any" (max) and a product as "all" (min), as PyTorch's bool all_reduce behaves.
_BOOL_OPS = {ReduceOp.SUM: ReduceOp.MAX, ReduceOp.PRODUCT: ReduceOp.MIN}


def _mpi_view(buffer: np.ndarray) -> np.ndarray:
    return buffer.view(np.uint8) if buffer.dtype == np.bool_ else buffer


def _reduce_buffer(array: np.ndarray, op: ReduceOp, world_size: int
                   ) -> tuple[np.ndarray, Callable[[], None]]:
    """A contiguous buffer to reduce in place, and what to do with it once reduced (average,
    copy back into a non-contiguous ``array``)."""
    buffer = array if array.flags.c_contiguous else np.ascontiguousarray(array)

    def finish() -> None:
        if op is ReduceOp.AVG:
            np.divide(buffer, world_size, out=buffer)
        if buffer is not array:
            array[...] = buffer

    return buffer, finish


def start_all_reduce(buffer: np.ndarray, op: ReduceOp | str, group: _Group) -> Any:
    """Start summing (or ``op``) the contiguous ``buffer`` over all ranks, in place; returns the
    MPI request. An average is a sum here: the caller divides by the world size."""
    op = ReduceOp(op)
    if buffer.dtype == np.bool_:
        op = _BOOL_OPS.get(op, op)
    mpi_op = getattr(group.mpi, _MPI_OPS[op])
    return group.comm.Iallreduce(group.mpi.IN_PLACE, _mpi_view(buffer), op=mpi_op)


def broadcast_arrays(arrays: Sequence[np.ndarray], src: int, what: str, group: _Group) -> None:
    """Overwrite every rank's ``arrays`` with rank ``src``'s, in one message per dtype."""
    by_dtype: dict[np.dtype, list[np.ndarray]] = {}
    for array in arrays:
        by_dtype.setdefault(array.dtype, []).append(array)
    packed, requests = [], []
    for dtype, members in by_dtype.items():
        flat = np.concatenate([a.ravel() for a in members]) if members else np.zeros(0, dtype)
        packed.append((flat, members))
        requests.append(group.comm.Ibcast(_mpi_view(flat), root=src))
    wait_all(requests, what, group.mpi, group.rank, group.world_size, group.timeout)
    if group.rank == src:
        return
    for flat, members in packed:
        offset = 0
        for array in members:
            array[...] = flat[offset:offset + array.size].reshape(array.shape)
            offset += array.size


def all_reduce_array(array: np.ndarray, op: ReduceOp | str, what: str, group: _Group) -> None:
    """``all_reduce`` on a contiguous array, blocking (with the timeout)."""
    op = ReduceOp(op)
    request = start_all_reduce(array, op, group)
    wait_all([request], what, group.mpi, group.rank, group.world_size, group.timeout)
    if op is ReduceOp.AVG:
        np.divide(array, group.world_size, out=array)


__all__ = ["ReduceOp", "Work", "all_reduce", "all_reduce_array", "barrier", "broadcast",
           "broadcast_arrays", "start_all_reduce"]
