"""Spatial rearrangements and normalisation: ``unfold``/``fold`` (im2col and its adjoint),
``channel_shuffle`` and ``local_response_norm``, composed from differentiable ops.

``unfold`` is a grouped convolution with a one-hot weight (one output channel per kernel offset
of each input channel, in PyTorch's channel-major order) and ``fold`` the matching transposed
convolution; multiplying by one and adding zeros is exact, so both give PyTorch's values in every
dtype, and each is the other's VJP through the convolution primitives.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import backend
from ...errors import ShapeError, format_shape
from ...ops import conv as _conv
from ...ops.conv import _ints, _positive, _prod
from ...ops.primitive import primitive
from ...ops.rearrange import pad
from ...ops.shape import permute, reshape
from ...tensor import Tensor

__all__ = ["unfold", "fold", "channel_shuffle", "local_response_norm"]


def _one_hot_kernel(channels: int, kernel: tuple[int, int], like: Any) -> Any:
    """(C * kh * kw, 1, kh, kw): output channel c * K + k picks kernel offset k of channel c."""
    taps = _prod(kernel)
    weight = np.zeros((channels * taps, 1) + kernel, np.dtype(like.dtype))
    weight.reshape(channels, taps, taps)[:, np.arange(taps), np.arange(taps)] = 1
    return backend.on_device_of(weight, backend.array_of(like))


def _fold_args(op: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> tuple:
    kernel = _positive(op, "kernel_size", kernel_size, 2)
    dilation = _positive(op, "dilation", dilation, 2)
    pads = _ints(op, "padding", padding, 2)
    if any(p < 0 for p in pads):
        raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    return kernel, dilation, pads, _positive(op, "stride", stride, 2)


def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
           stride: Any = 1) -> Tensor:
    """Sliding blocks of (N, C, H, W) (or (C, H, W)) as columns: (N, C * kh * kw, L), L the
    number of block positions (im2col).

    >>> import backprop as bp
    >>> bp.nn.functional.unfold(bp.arange(9.).reshape(1, 1, 3, 3), 2)[0, :, 0].tolist()
    [0.0, 1.0, 3.0, 4.0]
    """
    op = "unfold"
    if input.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got shape "
                         f"{format_shape(input.shape)}")
    kernel, dilation, pads, stride = _fold_args(op, kernel_size, dilation, padding, stride)
    batched = input.ndim == 4
    x = input if batched else reshape(input, (1,) + tuple(input.shape))
    blocks = _conv.conv2d(x, _one_hot_kernel(x.shape[1], kernel, x), None, stride, pads,
                          dilation, x.shape[1])
    cols = reshape(blocks, tuple(blocks.shape[:2]) + (_prod(blocks.shape[2:]),))
    return cols if batched else reshape(cols, tuple(cols.shape[1:]))


def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """The adjoint of ``unfold``: columns (N, C * kh * kw, L) summed back into (N, C, *output_size)
    (overlapping blocks add up).

    >>> import backprop as bp
    >>> bp.nn.functional.fold(bp.ones(1, 4, 4), (3, 3), 2).tolist()
    [[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]]
    """
    op = "fold"
    if input.ndim not in (2, 3):
        raise ShapeError(f"{op}: expected a 2-d (C * kh * kw, L) or 3-d (N, C * kh * kw, L) "
                         f"input, got shape {format_shape(input.shape)}")
    kernel, dilation, pads, stride = _fold_args(op, kernel_size, dilation, padding, stride)
    size = _positive(op, "output_size", output_size, 2)
    batched = input.ndim == 3
    x = input if batched else reshape(input, (1,) + tuple(input.shape))
    taps = _prod(kernel)
    if x.shape[1] % taps:
        raise ShapeError(f"{op}: expected the input's dim 1 ({x.shape[1]}) to be divisible by "
                         f"the product of kernel_size {kernel} ({taps})")
    blocks = tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                   for s, p, d, k, st in zip(size, pads, dilation, kernel, stride))
    if any(b <= 0 for b in blocks) or _prod(blocks) != x.shape[2]:
        raise ShapeError(f"{op}: expected the input's last dim ({x.shape[2]}) to be the number "
                         f"of sliding blocks, {format_shape(blocks)} = {_prod(blocks)} for "
                         f"output_size {size}, kernel_size {kernel}, dilation {dilation}, "
                         f"padding {pads}, stride {stride}")
    channels = x.shape[1] // taps
    # The transposed convolution's natural size falls short of output_size by the rows no block
    # reaches (fewer than a stride): output_padding covers them.
    extra = tuple(s + 2 * p - d * (k - 1) - 1 - (b - 1) * st
                  for s, p, d, k, b, st in zip(size, pads, dilation, kernel, blocks, stride))
    planes = reshape(x, (x.shape[0], x.shape[1]) + blocks)
    out = _conv._conv_transposend(op, 2, planes, _one_hot_kernel(channels, kernel, x), None,
                                  stride, pads, extra, channels, dilation)
    return out if batched else reshape(out, tuple(out.shape[1:]))


def _check_channels_first(op: str, input: Tensor) -> None:
    if input.ndim < 3:
        raise ShapeError(f"{op}: expected an input with at least 3 dims (N, C, *), got shape "
                         f"{format_shape(input.shape)}")


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels of (N, C, *) across ``groups``: channel ``g * (C / groups) + i``
    moves to ``i * groups + g`` (ShuffleNet).

    >>> import backprop as bp
    >>> bp.nn.functional.channel_shuffle(bp.arange(4.).reshape(1, 4, 1), 2).flatten().tolist()
    [0.0, 2.0, 1.0, 3.0]
    """
    op = "channel_shuffle"
    _check_channels_first(op, input)
    groups = int(groups)
    if groups <= 0:
        raise ValueError(f"{op}: groups must be positive, got {groups}")
    n, c = input.shape[:2]
    if c % groups:
        raise ShapeError(f"{op}: the number of channels ({c}) must be divisible by groups "
                         f"({groups})")
    rest = tuple(input.shape[2:])
    x = reshape(input, (n, groups, c // groups) + rest)
    x = permute(x, (0, 2, 1) + tuple(range(3, x.ndim)))
    return reshape(x, tuple(input.shape))


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Normalise (N, C, *) across neighbouring channels: ``x / (k + alpha / size * sum of x^2
    over the size channels around it) ** beta`` (zero beyond the edges; the window reaches
    ``size // 2`` channels before and ``(size - 1) // 2`` after).

    >>> import backprop as bp
    >>> bp.nn.functional.local_response_norm(bp.ones(1, 1, 1), 1, alpha=3.0, beta=0.5).tolist()
    [[[0.5]]]
    """
    op = "local_response_norm"
    _check_channels_first(op, input)
    size = int(size)
    if size <= 0:
        raise ValueError(f"{op}: size must be positive, got {size}")
    if input.shape[0] == 0 or input.numel() == 0:
        return input * 1
    channels = input.shape[1]
    squares = input * input
    rest = input.ndim - 2
    padded = pad(squares, (0, 0) * rest + (size // 2, (size - 1) // 2))
    total: Any = None
    for offset in range(size):
        window = padded[:, offset:offset + channels]
        total = window if total is None else total + window
    return input / ((total / size) * alpha + k) ** beta


# -- CrossMapLRN2d (the Lua-Torch layer) ----------------------------------------------------------

def _channel_window_sum(x: Any, before: int, after: int) -> Any:
    """Per channel c, the sum of ``x`` over channels ``c - before .. c + after`` (zero beyond)."""
    channels = x.shape[1]
    padded = pad(x, (0, 0, 0, 0, max(before, 0), max(after, 0)))
    total = None
    for offset in range(before + after + 1):
        window = padded[:, offset:offset + channels]
        total = window if total is None else total + window
    return total


def _cross_map_scale(input: Any, size: int, alpha: float, k: float) -> Any:
    """``k + alpha / size * window sum of squares``, the window PyTorch's CrossMapLRN2d uses:
    ``(size - 1) // 2`` channels either side, and also channel 0 for every channel from
    ``(size - 1) // 2 + 1`` on (its running-sum update never subtracts channel 0)."""
    reach = (size - 1) // 2
    squares = input * input
    total = _channel_window_sum(squares, reach, reach)
    late = backend.on_device_of(
        (np.arange(input.shape[1]) > reach).astype(np.dtype(input.dtype)).reshape(-1, 1, 1),
        backend.array_of(input))
    return (total + squares[:, :1] * late) * (alpha / size) + k


def _cross_map_grad(g: Any, out: Any, input: Any, size: int, alpha: float, beta: float,
                    k: float) -> Any:
    """PyTorch's hand-written CrossMapLRN2d backward (kept for its numbers): the derivative of
    a plain window of ``size`` channels starting ``(size + 1) // 2`` before each channel, which
    is not the forward's window; finite differences of the forward do not give it."""
    scale = _cross_map_scale(input, size, alpha, k)
    ratio = g * out / scale
    before = (size + 1) // 2
    accumulated = _channel_window_sum(ratio, before, size - 1 - before)
    return scale ** -beta * g - (2 * alpha * beta / size) * input * accumulated


@primitive("cross_map_lrn2d", save=("input", "out"), grads={"input": _cross_map_grad})
def _cross_map_lrn2d(input: Any, size: int, alpha: float, beta: float, k: float) -> Any:
    return input * _cross_map_scale(input, size, alpha, k) ** -beta


def cross_map_lrn2d(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                    k: float = 1.0) -> Tensor:
    """``CrossMapLRN2d``'s normalisation of (N, C, H, W) with PyTorch's numbers (a window and
    a gradient of its own; see ``_cross_map_scale``).

    >>> import backprop as bp
    >>> cross_map_lrn2d(bp.ones(1, 1, 1, 1), 1, alpha=3.0, beta=0.5).tolist()
    [[[[0.5]]]]
    """
    if input.ndim != 4:
        raise ShapeError(f"CrossMapLRN2d: expected a 4-d input (N, C, H, W), got shape "
                         f"{format_shape(input.shape)}")
    size = int(size)
    if size <= 0:
        raise ValueError(f"CrossMapLRN2d: size must be positive, got {size}")
    return _cross_map_lrn2d(input, size, float(alpha), float(beta), float(k))
