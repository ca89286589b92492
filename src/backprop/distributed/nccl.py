"""How GPU ranks exchange gradients: NCCL (through CuPy) when every rank has a GPU of its own,
host memory over MPI otherwise.

NCCL all-reduces device memory directly, GPU to GPU, on a CUDA stream, so a bucket's exchange
overlaps the rest of backward without a copy to the host. NCCL refuses two ranks on one GPU,
and the ``mpich`` wheel is not CUDA-aware, so ranks that share a GPU, or are not all on CUDA,
copy each bucket to the host and all-reduce it over MPI. ``transport_for`` decides, the same
way on every rank, from every rank's (host name, GPU bus id). ``BACKPROP_NCCL=0`` forces the
host path.

NCCL's waits have no deadline: a rank that dies mid-exchange is caught by MPI (the job aborts
on an error in any rank, see ``failure.py``), not by ``BACKPROP_DIST_TIMEOUT``.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import numpy as np

from .. import backend
from .group import _Group
from .waiting import wait_all

_NAME_BYTES = 256  # a rank's "host/bus id", padded


def transport_for(device: backend.device, group: _Group) -> NcclTransport | None:
    """NCCL for a model on ``device`` if every rank is on a CUDA GPU of its own, else None (the
    host path). Collective: every rank must call it, in the same order."""
    mine = "host"
    if device.type == "cuda" and os.environ.get("BACKPROP_NCCL") != "0":
        cupy = backend.backend_for("cuda").module
        mine = f"{socket.gethostname()}/{cupy.cuda.Device(device.index).pci_bus_id}"
    everyone = _all_gather_names(mine, group)
    if "host" in everyone or len(set(everyone)) < len(everyone):
        return None
    return NcclTransport(device, group)


def _all_gather_names(name: str, group: _Group) -> list[str]:
    """Every rank's ``name``, in rank order (as fixed-size bytes: nothing is pickled)."""
    send = np.zeros(_NAME_BYTES, np.uint8)
    encoded = name.encode()[:_NAME_BYTES]
    send[:len(encoded)] = np.frombuffer(encoded, np.uint8)
    received = np.zeros(_NAME_BYTES * group.world_size, np.uint8)
    request = group.comm.Iallgather(send, received)
    wait_all([request], "DistributedDataParallel: comparing the ranks' GPUs", group.mpi,
             group.rank, group.world_size, group.timeout)
    return [bytes(row).rstrip(b"\0").decode() for row in received.reshape(group.world_size, -1)]


class NcclTransport:
    """An NCCL communicator over the group's ranks, one GPU each: ``all_reduce`` sums a device
    buffer in place (queued on the current stream), ``wait`` waits for the queued sums."""

    def __init__(self, device: backend.device, group: _Group) -> None:
        cupy = backend.backend_for("cuda").module
        from cupy.cuda import nccl  # noqa: PLC0415 - part of CuPy, present only with it

        self.cupy, self.nccl, self.device = cupy, nccl, device
        self.types = {np.dtype(np.float16): nccl.NCCL_FLOAT16,
                      np.dtype(np.float32): nccl.NCCL_FLOAT32,
                      np.dtype(np.float64): nccl.NCCL_FLOAT64}
        # Rank 0's id names the communicator; MPI carries its bytes to the others. (CuPy 14 gives
        # the id as bytes, older CuPy as a tuple of signed chars.)
        local_id = nccl.get_unique_id()
        as_bytes = local_id if isinstance(local_id, bytes) else bytes(b % 256 for b in local_id)
        buffer = np.frombuffer(as_bytes, np.uint8).copy()
        request = group.comm.Ibcast(buffer, root=0)
        wait_all([request], "DistributedDataParallel: sharing the NCCL id", group.mpi,
                 group.rank, group.world_size, group.timeout)
        shared_id = (buffer.tobytes() if isinstance(local_id, bytes)
                     else tuple(int(b) for b in buffer.view(np.int8)))
        with cupy.cuda.Device(device.index):
            self.comm = nccl.NcclCommunicator(group.world_size, shared_id, group.rank)

    def new_buffer(self, numel: int, dtype: np.dtype) -> Any:
        with self.cupy.cuda.Device(self.device.index):
            return self.cupy.empty(numel, dtype)

    def all_reduce(self, buffer: Any) -> None:
        if buffer.dtype not in self.types:
            raise TypeError(f"DistributedDataParallel: NCCL cannot sum {buffer.dtype} gradients; "
                            "use a floating-point dtype, or BACKPROP_NCCL=0")
        stream = self.cupy.cuda.get_current_stream()
        self.comm.allReduce(buffer.data.ptr, buffer.data.ptr, buffer.size,
                            self.types[buffer.dtype], self.nccl.NCCL_SUM, stream.ptr)

    def wait(self) -> None:
        self.cupy.cuda.get_current_stream().synchronize()
