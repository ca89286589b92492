"""``torchvision.transforms``: the transform classes and, as a submodule, ``functional``
(``import torchvision.transforms.functional as TF``). ``transforms.v2`` is not served."""

from __future__ import annotations

from . import functional
from .functional import InterpolationMode
from .transforms import (
    CenterCrop,
    Compose,
    ConvertImageDtype,
    Grayscale,
    Lambda,
    Normalize,
    Pad,
    PILToTensor,
    RandomCrop,
    RandomHorizontalFlip,
    RandomVerticalFlip,
    Resize,
    ToPILImage,
    ToTensor,
)

__all__ = ["CenterCrop", "Compose", "ConvertImageDtype", "Grayscale", "InterpolationMode", "Lambda",
           "Normalize", "PILToTensor", "Pad", "RandomCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "Resize", "ToPILImage", "ToTensor", "functional"]
