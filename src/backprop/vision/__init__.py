"""``backprop.vision``: torchvision's data side, served as ``torchvision`` by ``backprop run``.

- ``datasets``: ``MNIST``, ``FashionMNIST``, ``CIFAR10``, ``CIFAR100``, ``FakeData``,
  ``ImageFolder`` and ``VisionDataset`` (torchvision's signatures and samples; files are read,
  never downloaded, never unpickled).
- ``transforms`` (and ``transforms.functional``): ``Compose``, ``ToTensor``, ``Normalize``,
  ``Resize``, ``CenterCrop``, ``RandomCrop``, ``RandomHorizontalFlip``, ``Lambda``,
  ``Grayscale``, ``Pad``, ... The random ones draw from backprop's global generator.
- ``utils``: ``make_grid`` and ``save_image``.
- ``models``: the ResNets (``resnet18`` ... ``resnet152``), architectures without pretrained
  weights.

Images are PIL Images when Pillow is installed (``pip install 'backprop[vision]'``), otherwise
uint8 NumPy arrays. The other models, ``ops``, ``io``, ``tv_tensors`` and ``transforms.v2`` are
not served: importing them raises an ImportError that says so.

>>> import backprop.vision as torchvision
>>> data = torchvision.datasets.FakeData(size=2, image_size=(1, 4, 4),
...                                      transform=torchvision.transforms.ToTensor())
>>> data[0][0].shape
(1, 4, 4)
"""

from __future__ import annotations

from typing import Any

from . import datasets, transforms, utils
from ._out_of_scope import refuse

__version__ = "0.0.0+backprop"

__all__ = ["datasets", "transforms", "utils"]


def __getattr__(name: str) -> Any:
    if name == "models":  # imported on first use, as programs reach it: torchvision.models.resnet18
        import importlib

        return importlib.import_module(f"{__name__}.models")
    # torchvision.ops and friends, reached as attributes: the same sentence as their import.
    if name in ("ops", "io", "tv_tensors"):
        raise AttributeError(str(refuse(name)), name=name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
