"""``bp.utils.data``: data sets, samplers and the ``DataLoader`` (PyTorch's ``torch.utils.data``).

>>> import backprop as bp
>>> from backprop.utils.data import DataLoader, TensorDataset
>>> ds = TensorDataset(bp.arange(10).float(), bp.arange(10))
>>> [x.shape for x, y in DataLoader(ds, batch_size=4)]
[(4,), (4,), (2,)]
"""

from __future__ import annotations

from .dataloader import DataLoader, collate, default_collate, default_convert, get_worker_info
from .dataset import (
                      ChainDataset,
                      ConcatDataset,
                      Dataset,
                      IterableDataset,
                      Subset,
                      TensorDataset,
                      random_split,
)
from .distributed import DistributedSampler
from .sampler import (
                      BatchSampler,
                      RandomSampler,
                      Sampler,
                      SequentialSampler,
                      SubsetRandomSampler,
                      WeightedRandomSampler,
)

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "ChainDataset",
    "random_split",
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
    "WeightedRandomSampler", "BatchSampler", "DistributedSampler",
    "DataLoader", "default_collate", "default_convert", "collate", "get_worker_info",
]
