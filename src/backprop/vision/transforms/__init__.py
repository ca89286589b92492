"""``torchvision.transforms``: the transform classes and, as a submodule, ``functional``
(``import torchvision.transforms.functional as TF``). ``transforms.v2`` is not served."""

from __future__ import annotations

from typing import Any

from .._out_of_scope import missing_name
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
    RandomApply,
    RandomCrop,
    RandomHorizontalFlip,
    RandomResizedCrop,
    RandomVerticalFlip,
    Resize,
    ToPILImage,
    ToTensor,
)

__all__ = ["CenterCrop", "Compose", "ConvertImageDtype", "Grayscale", "InterpolationMode", "Lambda",
           "Normalize", "PILToTensor", "Pad", "RandomApply", "RandomCrop", "RandomHorizontalFlip",
           "RandomResizedCrop", "RandomVerticalFlip", "Resize", "ToPILImage", "ToTensor",
           "functional"]


def __getattr__(name: str) -> Any:
    # A transform torchvision has and we do not (ColorJitter, RandomResizedCrop, ...) gets a
    # clear sentence, not a bare AttributeError.
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise missing_name("transforms", name, [n for n in __all__ if n != "functional"])
