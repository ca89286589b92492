"""``bp.distributed``: many processes training one model over MPI (``torch.distributed``'s API).

Launch N copies of a script with ``mpiexec -n N python train.py``; each calls ``init()`` and
learns its rank. ``bp.nn.parallel.DistributedDataParallel`` keeps the copies of the model equal
by averaging gradients, and ``bp.utils.data.DistributedSampler`` gives each rank its share of
the data. Started without ``mpiexec``, the same script runs as a single rank.

mpi4py is imported when ``init()`` first runs, never by ``import backprop``; it comes with the
``[mpi]`` extra (``pip install 'backprop[mpi]'``: mpi4py and the ``mpich`` wheel, whose
``mpiexec`` lands next to Python in the virtual environment).

A rank that fails stops the whole job: an uncaught exception calls ``MPI_Abort``, and a
collective whose partners never arrive raises ``DistributedTimeoutError`` after
``$BACKPROP_DIST_TIMEOUT`` seconds (default 300).

>>> import backprop as bp
>>> import backprop.distributed as dist
>>> rank, world_size = dist.init()
>>> total = bp.tensor([float(rank + 1)])
>>> dist.all_reduce(total)          # sum over ranks: 1 + 2 + ... + world_size
>>> total.item() == world_size * (world_size + 1) / 2
True
"""

from __future__ import annotations

from .collectives import ReduceOp, Work, all_reduce, barrier, broadcast
from .errors import DistributedError, DistributedTimeoutError
from .failure import abort_on_error
from .group import (
                    RankInfo,
                    destroy_process_group,
                    get_rank,
                    get_world_size,
                    init,
                    init_process_group,
                    is_available,
                    is_initialized,
)

__all__ = [
    "init", "init_process_group", "is_available", "is_initialized", "get_rank", "get_world_size",
    "destroy_process_group", "RankInfo",
    "all_reduce", "broadcast", "barrier", "ReduceOp", "Work",
    "abort_on_error", "DistributedError", "DistributedTimeoutError",
]
