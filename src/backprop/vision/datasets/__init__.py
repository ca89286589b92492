"""``torchvision.datasets`` as backprop serves it: ``MNIST``, ``FashionMNIST``, ``CIFAR10``,
``CIFAR100``, ``FakeData`` and ``ImageFolder``/``DatasetFolder``, with torchvision's signatures
and samples. Files are read from ``root``; nothing is ever downloaded (``DatasetNotFoundError``
says what to put where). A data set torchvision has and backprop does not raises an
AttributeError that says so.
"""

from __future__ import annotations

from typing import Any

from .._out_of_scope import missing_name
from ._cifar_batch import CIFARFormatError
from ._common import DatasetNotFoundError
from .cifar import CIFAR10, CIFAR100
from .fakedata import FakeData
from .folder import DatasetFolder, ImageFolder
from .mnist import MNIST, FashionMNIST
from .vision import StandardTransform, VisionDataset

__all__ = ["CIFAR10", "CIFAR100", "MNIST", "CIFARFormatError", "DatasetFolder",
           "DatasetNotFoundError", "FakeData", "FashionMNIST", "ImageFolder", "StandardTransform",
           "VisionDataset"]


def __getattr__(name: str) -> Any:
    # A data set torchvision has and we do not (LSUN, ImageNet, ...) gets a clear sentence,
    # not a bare AttributeError.
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise missing_name("datasets", name, [n for n in __all__ if not n.endswith("Error")
                                          and n not in ("StandardTransform", "VisionDataset")])
