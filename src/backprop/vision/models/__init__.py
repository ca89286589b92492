"""``torchvision.models``, the part programs build from scratch: the ResNets, with
torchvision's layer names (a ``state_dict`` from one loads into the other). Pretrained weights
are not served (nothing is downloaded): ``weights`` must be None.

>>> from backprop.vision import models
>>> sum(p.numel() for p in models.resnet18().parameters())
11689512
"""

from __future__ import annotations

from typing import Any

from .._out_of_scope import missing_name
from .resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
)

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34", "resnet50", "resnet101",
           "resnet152"]


def __getattr__(name: str) -> Any:
    raise missing_name("models", name, __all__)
