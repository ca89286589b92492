"""``torchvision.datasets`` as backprop serves it: ``MNIST``, ``FashionMNIST``, ``CIFAR10`` and
``FakeData``, with torchvision's signatures and samples. Files are read from ``root``; nothing is
ever downloaded (``DatasetNotFoundError`` says what to put where).
"""

from __future__ import annotations

from ._cifar_batch import CIFARFormatError
from ._common import DatasetNotFoundError
from .cifar import CIFAR10
from .fakedata import FakeData
from .mnist import MNIST, FashionMNIST

__all__ = ["CIFAR10", "MNIST", "CIFARFormatError", "DatasetNotFoundError", "FakeData",
           "FashionMNIST"]
