"""The gradient reducer behind ``DistributedDataParallel``: buckets of gradients averaged over
the ranks while backward is still running.

Parameters are grouped into buckets of about ``bucket_cap_mb`` (one dtype per bucket), in
reverse order of registration, because backward produces the last layers' gradients first. Each
parameter carries a tensor hook; the engine calls it once per backward with the parameter's
whole gradient for that backward (a leaf runs only after all its uses have reported), just
before adding it to ``.grad``. The hook copies ``.grad + gradient`` into the bucket. When a
bucket is full its non-blocking all-reduce starts, buckets always in index order so that every
rank issues the same collectives in the same order, and the remaining backward overlaps with it.
The hook of the last parameter to report waits for all buckets, divides by the world size and
writes the averages into ``.grad``: the other parameters' ``.grad`` directly (the engine has
already accumulated into them), its own by setting ``.grad`` to None and returning the average
as its gradient, which the engine then stores.

A parameter whose hook never runs (not used by the forward, or its gradient is None) would
leave its bucket unsent. With ``find_unused_parameters=True`` the forward output's graph is
walked to find those and mark them ready at once; without it, the next forward raises, naming
them, as PyTorch does.
"""

from __future__ import annotations

import hashlib
from typing import Any, Iterable

import numpy as np

from ... import backend
from ...autograd.graph import Node
from ...distributed.collectives import all_reduce_array, start_all_reduce
from ...distributed.errors import DistributedError
from ...distributed.group import _Group
from ...distributed.nccl import NcclTransport
from ...distributed.waiting import all_done, wait_all
from ...tensor import Tensor
from ..parameter import Parameter


def assign_buckets(params: list[Parameter], cap_bytes: int) -> list[list[int]]:
    """Indices of ``params`` grouped into buckets of at most ``cap_bytes`` each (a larger
    parameter gets a bucket of its own), walking the parameters backwards, one dtype a bucket.

    >>> import backprop as bp
    >>> ps = [bp.nn.Parameter(bp.zeros(n)) for n in (4, 4, 4)]   # float32: 16 bytes each
    >>> assign_buckets(ps, cap_bytes=32)
    [[2, 1], [0]]
    """
    open_buckets: dict[np.dtype, tuple[list[int], int]] = {}
    buckets: list[list[int]] = []
    for index in reversed(range(len(params))):
        data = params[index]._data
        members, size = open_buckets.get(data.dtype, ([], 0))
        if members and size + data.nbytes > cap_bytes:
            buckets.append(members)
            members, size = [], 0
        open_buckets[data.dtype] = (members + [index], size + data.nbytes)
    buckets.extend(members for members, _ in open_buckets.values() if members)
    buckets.sort(key=lambda members: -members[0])  # in the order backward fills them
    return buckets


def model_signature(named: Iterable[tuple[str, Tensor]]) -> int:
    """A number that differs (almost surely) between models with different parameter or buffer
    names, shapes or dtypes; comparing it across ranks catches ranks that built different
    models before their messages get mixed up."""
    digest = hashlib.sha256()
    for name, tensor in named:
        digest.update(f"{name}:{tensor._data.shape}:{tensor._data.dtype};".encode())
    return int.from_bytes(digest.digest()[:7], "little")  # fits an int64, and so does its negation


class _Bucket:
    __slots__ = ("members", "offsets", "numel", "dtype", "buffer", "pending", "request")

    def __init__(self, members: list[int], params: list[Parameter]) -> None:
        self.members = members
        self.offsets: dict[int, int] = {}
        offset = 0
        for index in members:
            self.offsets[index] = offset
            offset += params[index]._data.size
        self.numel = offset
        self.dtype = params[members[0]]._data.dtype
        self.buffer: np.ndarray | None = None
        self.pending = 0
        self.request: Any = None


class Reducer:
    """Averages the gradients of ``params`` over the ranks of ``group`` during backward, after
    each ``prepare()`` (which ``DistributedDataParallel.forward`` calls)."""

    def __init__(self, params: list[Parameter], names: list[str], group: _Group,
                 bucket_cap_bytes: int, transport: NcclTransport | None = None) -> None:
        self.params = params
        self.names = names
        self.group = group
        self.transport = transport  # NCCL between GPUs, or None: buckets on the host, over MPI
        self.buckets = [_Bucket(members, params) for members in
                        assign_buckets(params, bucket_cap_bytes)]
        self.bucket_of = {index: b for b, bucket in enumerate(self.buckets)
                          for index in bucket.members}
        self.armed = False            # a forward asked for this backward's gradients to be synced
        self.ready: list[bool] = []
        self.remaining = 0            # parameters whose gradient has not arrived yet
        self.next_bucket = 0          # the next bucket to launch: buckets go in index order
        self.contributed: np.ndarray | None = None  # with find_unused: who has a gradient
        self.handles = [p.register_hook(self._hook_for(i)) for i, p in enumerate(params)]

    # -- one iteration --------------------------------------------------------------------------

    def prepare(self, unused: set[int] | None) -> None:
        """Get ready for one backward; ``unused`` are the parameters this forward did not use
        (None: assume all are used)."""
        if self.armed and self.remaining < len(self.params):
            missing = [self.names[i] for i, done in enumerate(self.ready) if not done]
            raise DistributedError(
                "DistributedDataParallel: the previous backward did not give every parameter a "
                f"gradient ({', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''} got "
                "none), so their gradients were never averaged across ranks. If the forward "
                "does not use every parameter, pass find_unused_parameters=True")
        self.armed = True
        self.ready = [False] * len(self.params)
        self.remaining = len(self.params)
        self.next_bucket = 0
        for bucket in self.buckets:
            # fresh: last step's .grad views it
            bucket.buffer = (np.empty(bucket.numel, bucket.dtype) if self.transport is None
                             else self.transport.new_buffer(bucket.numel, bucket.dtype))
            bucket.pending = len(bucket.members)
            bucket.request = None
        self.contributed = None
        if unused is None:
            return
        self.contributed = np.zeros(len(self.params), np.int32)
        for index in sorted(unused):
            self._mark_ready(index, None)
        if self.remaining == 0:  # nothing was used: no hook will run, so finish now
            self._finish(None)

    def _hook_for(self, index: int) -> Any:
        def hook(grad: Tensor) -> Tensor | None:
            if not self.armed:
                return None  # no_sync(), evaluation, or a backward that did not come from us
            if self.ready[index]:
                raise DistributedError(
                    f"DistributedDataParallel: parameter {self.names[index]!r} got a gradient "
                    "twice in one iteration (two backward passes through one forward?); run "
                    "the forward again for each backward, or use no_sync() for all but one")
            self._mark_ready(index, grad._data)
            if self.remaining == 0:
                return self._finish(index)
            return None

        return hook

    def _mark_ready(self, index: int, gradient: Any) -> None:
        """Copy this parameter's gradient for the step (its ``.grad`` plus what backward just
        computed) into its bucket; launch every bucket that is now complete, in order."""
        param = self.params[index]
        bucket = self.buckets[self.bucket_of[index]]
        offset = bucket.offsets[index]
        slot = bucket.buffer[offset:offset + param._data.size].reshape(param._data.shape)
        old = None if param.grad is None else param.grad._data
        if self.transport is None:  # buckets live on the host: GPU gradients are copied there
            old = None if old is None else backend.to_host(old)
            gradient = None if gradient is None else backend.to_host(gradient)
        if gradient is None and old is None:
            slot[...] = 0
        elif gradient is None or old is None:
            slot[...] = old if gradient is None else gradient
        else:
            np.add(old, gradient, out=slot)
        if self.contributed is not None:
            self.contributed[index] = int(gradient is not None or old is not None)
        self.ready[index] = True
        self.remaining -= 1
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready_buckets()
        elif self.next_bucket and self.transport is None:
            all_done([b.request for b in self.buckets[:self.next_bucket]], self.group.mpi)

    def _launch_ready_buckets(self) -> None:
        while self.next_bucket < len(self.buckets) and \
                self.buckets[self.next_bucket].pending == 0:
            bucket = self.buckets[self.next_bucket]
            if self.transport is None:
                bucket.request = start_all_reduce(bucket.buffer, "sum", self.group)
            else:  # queued on the GPU's stream: overlaps the rest of backward
                self.transport.all_reduce(bucket.buffer)
            self.next_bucket += 1

    def _finish(self, last: int | None) -> Tensor | None:
        """Wait for every bucket, average, and write the results into ``.grad``; the last
        parameter's average is returned for the engine to store."""
        group = self.group
        self.armed = False
        if self.transport is None:
            wait_all([b.request for b in self.buckets],
                     "DistributedDataParallel gradient all-reduce", group.mpi, group.rank,
                     group.world_size, group.timeout)
        else:
            self.transport.wait()
        keep_none = None
        if self.contributed is not None:  # a parameter without a gradient on every rank
            all_reduce_array(self.contributed, "sum", "DistributedDataParallel unused "
                             "parameters", group)
            keep_none = self.contributed == 0
        result = None
        for bucket in self.buckets:
            np.divide(bucket.buffer, group.world_size, out=bucket.buffer)
            for index in bucket.members:
                param = self.params[index]
                if keep_none is not None and keep_none[index]:
                    continue
                offset = bucket.offsets[index]
                view = bucket.buffer[offset:offset + param._data.size].reshape(param._data.shape)
                if type(param._data) is not np.ndarray:  # host bucket, device parameter
                    view = backend.to_device(view, param.device)
                if index == last:
                    param.grad = None  # the engine stores the returned average as the gradient
                    result = Tensor._wrap(view)
                else:
                    param.grad = Tensor._wrap(view)
        return result

    def remove_hooks(self) -> None:
        for handle in self.handles:
            handle.remove()


def used_parameters(outputs: Any, params: list[Parameter]) -> set[int]:
    """Indices of ``params`` that the graph of ``outputs`` (tensors, possibly nested in
    tuples, lists and dicts) reaches, found by walking the graph without recursion."""
    wanted = {id(p): i for i, p in enumerate(params)}
    found: set[int] = set()
    stack: list[Any] = [outputs]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            if item.grad_fn is None:
                if id(item) in wanted:
                    found.add(wanted[id(item)])
            else:
                stack.append(item.grad_fn)
        elif type(item) is Node:
            if id(item) in seen:
                continue
            seen.add(id(item))
            stack.extend(edge for edge in item.edges if edge is not None)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


__all__ = ["Reducer", "assign_buckets", "model_signature", "used_parameters"]
