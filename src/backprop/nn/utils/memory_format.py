"""``convert_conv2d/3d_weight_memory_format`` (``torch.nn.utils``).

A backprop tensor is always row-major, which is ``contiguous_format``: asking for it (or
``preserve_format``) leaves the module as it is; ``channels_last`` is refused as everywhere else
(``backprop.layout``), rather than silently pretending to change a layout we do not have.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ...layout import check_memory_format
from ..module import Module

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]

M = TypeVar("M", bound=Module)


def convert_conv2d_weight_memory_format(module: M, memory_format: Any) -> M:
    """``module`` with its ``Conv2d``/``ConvTranspose2d`` weights in ``memory_format``
    (returned as it is: our weights are already row-major).

    >>> import backprop as bp
    >>> net = bp.nn.Sequential(bp.nn.Conv2d(1, 2, 3))
    >>> bp.nn.utils.convert_conv2d_weight_memory_format(net, bp.contiguous_format) is net
    True
    """
    check_memory_format("convert_conv2d_weight_memory_format", memory_format)
    return module


def convert_conv3d_weight_memory_format(module: M, memory_format: Any) -> M:
    """``convert_conv2d_weight_memory_format`` for ``Conv3d``/``ConvTranspose3d`` weights.

    >>> import backprop as bp
    >>> net = bp.nn.Linear(2, 2)
    >>> bp.nn.utils.convert_conv3d_weight_memory_format(net, bp.preserve_format) is net
    True
    """
    check_memory_format("convert_conv3d_weight_memory_format", memory_format)
    return module
