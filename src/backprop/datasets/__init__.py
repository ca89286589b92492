"""``bp.datasets``: the embedded handwritten digits and loaders for the user's own data.

- ``Digits``: 1,797 real 8x8 handwritten digits shipped inside the package (UCI, CC BY 4.0).
- ``MNIST`` / ``FashionMNIST``: the four IDX files of a folder; ``FashionMNIST()`` finds Debian's
  ``dataset-fashion-mnist`` package by default. Nothing is ever downloaded.
- ``NpzDataset`` / ``load_npz`` and ``CsvDataset``: ``.npz`` archives and numeric CSV tables.
- ``read_idx`` / ``write_idx``: the IDX format itself.

>>> import backprop as bp
>>> train = bp.datasets.Digits(train=True)
>>> len(train), train.data.shape, train.targets.dtype
(1442, (1442, 1, 8, 8), dtype('int64'))
"""

from __future__ import annotations

from .digits import Digits
from .files import CsvDataset, NpzDataset, load_npz
from .idx import IDXError, read_idx, write_idx
from .mnist import MNIST, FashionMNIST

__all__ = ["Digits", "MNIST", "FashionMNIST", "NpzDataset", "CsvDataset", "load_npz",
           "read_idx", "write_idx", "IDXError"]
