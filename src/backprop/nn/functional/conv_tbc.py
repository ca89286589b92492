"""``conv_tbc``: 1-d convolution over time-batch-channel input (fairseq's layout, PyTorch's
``torch.conv_tbc``), written with ``conv1d``."""

from __future__ import annotations

from ...errors import ShapeError, format_shape
from ...ops.conv import conv1d
from ...ops.shape import permute
from ...tensor import Tensor

__all__ = ["conv_tbc"]


def conv_tbc(input: Tensor, weight: Tensor, bias: Tensor, pad: int = 0) -> Tensor:
    """Cross-correlation of ``input`` (time, batch, in_channels) with ``weight`` (kernel width,
    in_channels, out_channels) plus ``bias`` (out_channels,), ``pad`` steps of zeros at both
    ends of time; the result is (time + 2 * pad - width + 1, batch, out_channels).

    >>> import backprop as bp
    >>> conv_tbc(bp.randn(5, 2, 3), bp.randn(3, 3, 4), bp.zeros(4), pad=1).shape
    (5, 2, 4)
    """
    if input.ndim != 3:
        raise ShapeError(f"conv_tbc: input must have 3 dims: time, batch, in_channel; got shape "
                         f"{format_shape(input.shape)}")
    if weight.ndim != 3:
        raise ShapeError(f"conv_tbc: weight must have 3 dims: kernel width, in_channels, "
                         f"out_channels; got shape {format_shape(weight.shape)}")
    if input.shape[2] != weight.shape[1]:
        raise ShapeError(f"conv_tbc: input dim 2 (in_channels) is {input.shape[2]} but weight "
                         f"{format_shape(weight.shape)} has {weight.shape[1]} in dim 1")
    if bias.ndim != 1 or bias.shape[0] != weight.shape[2]:
        raise ShapeError(f"conv_tbc: bias of shape {format_shape(bias.shape)} must be "
                         f"(out_channels,) = ({weight.shape[2]},), dim 2 of the weight")
    out = conv1d(permute(input, (1, 2, 0)), permute(weight, (2, 1, 0)), bias, padding=pad)
    return permute(out, (2, 0, 1))
