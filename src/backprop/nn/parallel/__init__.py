"""``bp.nn.parallel``: data-parallel training over many processes (``torch.nn.parallel``).

Importing it does not import mpi4py; ``DistributedDataParallel`` needs ``bp.distributed.init()``.

>>> from backprop.nn.parallel import DistributedDataParallel
>>> DistributedDataParallel.__name__
'DistributedDataParallel'
"""

from __future__ import annotations

from .data_parallel import DataParallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
