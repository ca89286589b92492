"""Convolution and pooling: conv1d/2d, conv_transpose1d/2d, max/avg pools, adaptive average
pools and pixel (un)shuffle, with PyTorch's signatures (exported as ``bp.X`` and ``F.X``).

Three primitives do all convolution work and are each other's VJPs, which keeps grad-of-grad
exact: ``convolution`` (the forward), ``conv_transpose`` (its adjoint in the input: the input
gradient of a convolution *is* a transposed convolution, and vice versa) and ``conv_weight_grad``
(the weight gradient, bilinear in the input and the output gradient).

How they run fast on NumPy: the input is copied once into zero-padded per-channel planes laid out
``(C, N, plane)``; one strided view gives every kernel offset's window, made contiguous in one
copy (im2col), and a single (grouped) matmul contracts it with the weight. The adjoint
(col2im) adds each kernel offset's slab into a strided view of the planes: ``prod(kernel)``
vectorised adds, no ``np.add.at``. With stride 1 in the last dim, windows are taken over whole
padded rows ("wide" rows: the few extra columns are computed and dropped), so every copy and add
runs over long contiguous stretches instead of rows of a few elements.

Pools work on strided views of the (padded) input too, a few vectorised passes per kernel
offset: max pooling finds each window's maximum and its index (ties: the first, as PyTorch), and
its gradient is a scatter to those indices whose own VJP is the matching gather; average pooling
sums the offsets and divides by PyTorch's divisor, its VJP (the spread-back) and it being each
other's VJPs. Adaptive average pooling with uneven windows is a product with one averaging matrix
per spatial dim; pixel (un)shuffle is reshape and permute.

Spatial geometry travels as tuples with one entry per spatial dim; ``padding`` as
``((before, after), ...)`` pairs, where a negative ``after`` crops (the adjoint of the rows a
strided convolution never reads) or, for a transposed convolution, appends (``output_padding``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..errors import ShapeError, format_shape
from ..tensor import Tensor
from .linalg import matmul
from .primitive import primitive
from .reduction import _sum
from .shape import permute, reshape

Sizes = tuple[int, ...]  # one entry per spatial dim: kernel, stride, dilation, sizes
Pairs = tuple[tuple[int, int], ...]  # (before, after) padding per spatial dim


# -- array helpers (NumPy only; the primitives' forwards) ----------------------------------------

def _prod(sizes: Sequence[int]) -> int:
    return math.prod(sizes)


def _row_major(sizes: Sequence[int]) -> Sizes:
    """Element strides of a C-ordered array of ``sizes``."""
    strides, step = [], 1
    for n in reversed(sizes):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def _row_geometry(padded: Sizes, out: Sizes, kernel: Sizes, stride: Sizes,
                  dilation: Sizes) -> tuple[Sizes, int]:
    """The computed output sizes and the slack a plane needs after it. With rows (2-d and up)
    and stride 1 in the last dim, outputs are computed over whole padded rows ("wide"): every
    copy and add then runs over long contiguous stretches, at the price of computing (and
    dropping) a few extra columns; the slack keeps the last wide windows inside the buffer.
    Measured against exact rows, wide rows were as fast for rows of 14 to 28 outputs and up to
    1.3x faster for rows of 8."""
    if len(stride) >= 2 and stride[-1] == 1:
        return out[:-1] + (padded[-1],), (kernel[-1] - 1) * dilation[-1]
    return out, 0


def _to_planes(x: np.ndarray, padding: Pairs, slack: int) -> np.ndarray:
    """``x`` (N, C, *S) as zero-padded planes ``(C, N, prod(padded) + slack)`` (negative
    ``after`` widths crop)."""
    n, c = x.shape[:2]
    sizes = x.shape[2:]
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(sizes, padding))
    area = _prod(padded)
    if slack == 0 and all(lo == 0 and hi == 0 for lo, hi in padding):
        buf = np.empty((c, n, area), x.dtype)
    else:
        buf = np.zeros((c, n, area + slack), x.dtype)
    inner = buf[:, :, :area].reshape((c, n) + padded)
    source = tuple(slice(0, s + min(hi, 0)) for s, (lo, hi) in zip(sizes, padding))
    target = tuple(slice(lo, lo + s + min(hi, 0)) for s, (lo, hi) in zip(sizes, padding))
    both = (slice(None), slice(None))
    inner[both + target] = x[both + source].swapaxes(0, 1)
    return buf


def _windows(buf: np.ndarray, groups: int, padded: Sizes, kernel: Sizes,
             stride: Sizes, dilation: Sizes, rows: Sizes,
             writeable: bool = False) -> np.ndarray:
    """The view ``(G, *kernel, C / G, N, *rows)`` of planes ``buf`` (C, N, P) whose element
    ``[g, k, c, n, l]`` is ``plane[g * C / G + c, n][l * stride + k * dilation]``. Kernel
    offsets come before channels so that each offset's slab is contiguous once copied (the
    col2im adds then read memory in order)."""
    item = buf.itemsize
    plane = _row_major(padded)
    channels, n = buf.shape[:2]
    per_group = channels // groups
    shape = (groups,) + kernel + (per_group, n) + rows
    strides = ((per_group * buf.strides[0],)
               + tuple(d * p * item for d, p in zip(dilation, plane))
               + (buf.strides[0], buf.strides[1])
               + tuple(s * p * item for s, p in zip(stride, plane)))
    return as_strided(buf, shape, strides, writeable=writeable)


def _widen(g: np.ndarray, rows: Sizes) -> np.ndarray:
    """``g`` (N, O, *L) as ``(O, N, *rows)``, zero in the extra columns of wide rows (so the
    columns computed past the valid output contribute nothing)."""
    n, o = g.shape[:2]
    if g.shape[2:] == rows:
        return np.ascontiguousarray(g.swapaxes(0, 1))
    out = np.zeros((o, n) + rows, g.dtype)
    out[..., :g.shape[-1]] = g.swapaxes(0, 1)
    return out


def _batch_first(y: np.ndarray, bias: Any) -> np.ndarray:
    """``y`` (C, N, *L), any strides, as a contiguous (N, C, *L) array, plus ``bias`` per C."""
    out = np.empty((y.shape[1], y.shape[0]) + y.shape[2:], y.dtype)
    if bias is None:
        np.copyto(out, y.swapaxes(0, 1))
    else:
        np.add(y.swapaxes(0, 1), bias.reshape((-1,) + (1,) * (y.ndim - 2)), out=out,
               casting="same_kind")
    return out


def _geometry(sizes: Sizes, kernel: Sizes, stride: Sizes,
              padding: Pairs, dilation: Sizes) -> tuple[Sizes, Sizes]:
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(sizes, padding))
    out = tuple((p - d * (k - 1) - 1) // st + 1
                for p, k, st, d in zip(padded, kernel, stride, dilation))
    return padded, out


def _unfold(x: np.ndarray, groups: int, kernel: Sizes, stride: Sizes,
            padding: Pairs, dilation: Sizes) -> tuple[np.ndarray, Sizes, Sizes]:
    """im2col: the contiguous windows ``(G, *kernel, C / G, N, *rows)``, the output sizes and
    the computed rows."""
    padded, out = _geometry(x.shape[2:], kernel, stride, padding, dilation)
    rows, slack = _row_geometry(padded, out, kernel, stride, dilation)
    buf = _to_planes(x, padding, slack)
    view = _windows(buf, groups, padded, kernel, stride, dilation, rows)
    return np.ascontiguousarray(view), out, rows


def _fold(cols: np.ndarray, groups: int, channels: int, n: int, padded: Sizes,
          kernel: Sizes, stride: Sizes, dilation: Sizes,
          rows: Sizes, slack: int) -> np.ndarray:
    """col2im: planes ``(C, N, P)`` with every kernel offset's slab of ``cols``
    ``(G, *kernel, C / G, N, *rows)`` added at its place (one strided add per offset)."""
    buf = np.zeros((channels, n, _prod(padded) + slack), cols.dtype)
    view = _windows(buf, groups, padded, kernel, stride, dilation, rows, writeable=True)
    for k in np.ndindex(*kernel):
        at = (slice(None),) + k
        target = view[at]
        np.add(target, cols[at], out=target)
    return buf


def _kernel_major(weight: np.ndarray, groups: int) -> np.ndarray:
    """``weight`` (O, C / G, *kernel) as (G, O / G, kernel * C / G): columns ordered like the
    windows' rows (kernel offset first, then channel)."""
    o, per_group = weight.shape[:2]
    taps = _prod(weight.shape[2:])
    w = weight.reshape(groups, o // groups, per_group, taps).swapaxes(2, 3)
    return w.reshape(groups, o // groups, taps * per_group)


def _from_planes(buf: np.ndarray, padded: Sizes, padding: Pairs, bias: Any) -> np.ndarray:
    """Planes (C, N, P) cropped by ``padding`` (negative ``after``: zeros appended) as a
    contiguous (N, C, *sizes) array, plus ``bias`` per channel."""
    c, n = buf.shape[:2]
    inner = buf[:, :, :_prod(padded)].reshape((c, n) + padded)
    kept = inner[(slice(None), slice(None))
                 + tuple(slice(lo, p - max(hi, 0)) for p, (lo, hi) in zip(padded, padding))]
    if all(hi >= 0 for _, hi in padding):
        return _batch_first(kept, bias)
    sizes = tuple(p - lo - hi for p, (lo, hi) in zip(padded, padding))
    out = np.zeros((n, c) + sizes, buf.dtype)
    out[(slice(None), slice(None)) + tuple(map(slice, kept.shape[2:]))] = kept.swapaxes(0, 1)
    if bias is not None:
        out += bias.reshape((-1,) + (1,) * len(sizes))
    return out


# -- the three convolution primitives -----------------------------------------------------------

@primitive("convolution", save=("input", "weight"))
def _conv(input: Any, weight: Any, bias: Any, stride: Sizes, padding: Pairs,
          dilation: Sizes, groups: int) -> Any:
    """Cross-correlate ``input`` (N, C, *S) with ``weight`` (O, C / groups, *kernel)."""
    dtype = np.result_type(input, weight)
    kernel = weight.shape[2:]
    n, o = input.shape[0], weight.shape[0]
    cols, out, rows = _unfold(input.astype(dtype, copy=False), groups, kernel, stride, padding,
                              dilation)
    y = np.matmul(_kernel_major(weight.astype(dtype, copy=False), groups),
                  cols.reshape(groups, -1, n * _prod(rows)))
    y = y.reshape((o, n) + rows)
    if rows != out:
        y = y[..., :out[-1]]
    return _batch_first(y, bias)


@primitive("conv_transpose", save=("input", "weight"))
def _conv_transpose(input: Any, weight: Any, bias: Any, stride: Sizes, padding: Pairs,
                    dilation: Sizes, groups: int) -> Any:
    """The adjoint of ``convolution`` in its input: ``input`` (N, C_in, *L) spread through
    ``weight`` (C_in, C_out / groups, *kernel) onto the full (uncropped) output, then cropped by
    ``padding``."""
    dtype = np.result_type(input, weight)
    kernel = weight.shape[2:]
    n, c_in = input.shape[:2]
    c_out = weight.shape[1] * groups
    sizes = input.shape[2:]
    full = tuple((m - 1) * s + d * (k - 1) + 1
                 for m, s, d, k in zip(sizes, stride, dilation, kernel))
    rows, slack = _row_geometry(full, sizes, kernel, stride, dilation)
    x = _widen(input.astype(dtype, copy=False), rows).reshape(groups, c_in // groups, -1)
    # The transposed weight, (G, kernel * C_out / G, C_in / G) with rows kernel-major.
    w = weight.astype(dtype, copy=False).reshape(groups, c_in // groups, weight.shape[1], -1)
    w = w.transpose(0, 3, 2, 1).reshape(groups, -1, c_in // groups)
    cols = np.matmul(w, x).reshape((groups,) + kernel + (c_out // groups, n) + rows)
    buf = _fold(cols, groups, c_out, n, full, kernel, stride, dilation, rows, slack)
    return _from_planes(buf, full, padding, bias)


@primitive("conv_weight_grad", save=("input", "grad"))
def _conv_weight(input: Any, grad: Any, weight_shape: Sizes, stride: Sizes,
                 padding: Pairs, dilation: Sizes, groups: int) -> Any:
    """The gradient of ``convolution`` in its weight: windows of ``input`` contracted with the
    output gradient ``grad`` (N, O, *L) over the batch and positions."""
    dtype = np.result_type(input, grad)
    kernel = weight_shape[2:]
    o, per_group = weight_shape[:2]
    cols, _, rows = _unfold(input.astype(dtype, copy=False), groups, kernel, stride, padding,
                            dilation)
    taps = _prod(kernel) * per_group
    n, area = grad.shape[0], _prod(rows)
    g = _widen(grad.astype(dtype, copy=False), rows).reshape(groups, o // groups, n, area)
    cols = cols.reshape(groups, taps, n, area)
    if taps * (o // groups) <= 512:
        # A tiny result with a very long contraction (a first layer: one channel in) runs
        # faster as one product per image, summed, than as one matmul over all images.
        dw = np.matmul(cols.transpose(2, 0, 1, 3), g.transpose(2, 0, 3, 1)).sum(axis=0)
    else:
        # windows @ g^T: OpenBLAS is faster with the long contraction on this side.
        g = g.reshape(groups, o // groups, n * area)
        dw = np.matmul(cols.reshape(groups, taps, n * area), g.swapaxes(1, 2))
    # (G, kernel, C / G, O / G) back to the weight's (O, C / G, *kernel) order.
    dw = dw.reshape(groups, _prod(kernel), per_group, o // groups)
    return np.ascontiguousarray(dw.transpose(0, 3, 2, 1)).reshape(weight_shape)


def _transpose_padding(padding: Pairs, sizes: Sizes, kernel: Sizes,
                       stride: Sizes, dilation: Sizes,
                       out: Sizes) -> Pairs:
    """Padding for the transposed convolution that maps a convolution's output (sizes ``out``)
    back onto its input (``sizes``): rows the convolution never read get a zero gradient."""
    return tuple((lo, (m - 1) * s + d * (k - 1) + 1 - lo - n)
                 for (lo, _), n, k, s, d, m in zip(padding, sizes, kernel, stride, dilation, out))


def _bias_grad(g: Any) -> Any:
    return _sum(g, (0,) + tuple(range(2, g.ndim)), False)


_conv.defvjp(
    lambda g, out, input, weight, bias, stride, padding, dilation, groups: _conv_transpose(
        g, weight, None, stride, _transpose_padding(padding, input.shape[2:], weight.shape[2:],
                                                    stride, dilation, g.shape[2:]),
        dilation, groups),
    lambda g, out, input, weight, bias, stride, padding, dilation, groups: _conv_weight(
        input, g, weight.shape, stride, padding, dilation, groups),
    lambda g, out, input, weight, bias, stride, padding, dilation, groups: _bias_grad(g))

_conv_transpose.defvjp(
    lambda g, out, input, weight, bias, stride, padding, dilation, groups: _conv(
        g, weight, None, stride, padding, dilation, groups),
    lambda g, out, input, weight, bias, stride, padding, dilation, groups: _conv_weight(
        g, input, weight.shape, stride, padding, dilation, groups),
    lambda g, out, input, weight, bias, stride, padding, dilation, groups: _bias_grad(g))

# conv_weight_grad is linear in each input: <h, W(x, g)> = <g, conv(x, h)> = <x, conv^T(g, h)>.
_conv_weight.defvjp(
    lambda g, out, input, grad, weight_shape, stride, padding, dilation, groups: _conv_transpose(
        grad, g, None, stride, _transpose_padding(padding, input.shape[2:], weight_shape[2:],
                                                  stride, dilation, grad.shape[2:]),
        dilation, groups),
    lambda g, out, input, grad, weight_shape, stride, padding, dilation, groups: _conv(
        input, g, None, stride, padding, dilation, groups))


# -- argument checks shared by the public functions ----------------------------------------------

def _ints(op: str, name: str, value: Any, nd: int) -> Sizes:
    """An int or a sequence of ``nd`` (or 1) ints as a tuple of ``nd`` ints."""
    if isinstance(value, (tuple, list)):
        values = tuple(int(v) for v in value)
        if len(values) == 1:
            values *= nd
        if len(values) != nd:
            raise ValueError(f"{op}: {name} must be an int or a tuple of {nd} ints, got {value}")
        return values
    return (int(value),) * nd


def _positive(op: str, name: str, value: Any, nd: int) -> Sizes:
    values = _ints(op, name, value, nd)
    if any(v <= 0 for v in values):
        raise ValueError(f"{op}: {name} must be positive, got {value}")
    return values


def _batched(op: str, input: Any, nd: int) -> bool:
    """Whether ``input`` has a batch dim; raises unless it is (C, *S) or (N, C, *S)."""
    if input.ndim == nd + 2:
        return True
    if input.ndim == nd + 1:
        return False
    raise ShapeError(f"{op}: expected a {nd + 1}-d (unbatched) or {nd + 2}-d (batched) input, got "
                     f"shape {format_shape(input.shape)}")


def _conv_padding(op: str, padding: Any, kernel: Sizes, stride: Sizes,
                  dilation: Sizes) -> Pairs:
    nd = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride})")
            # PyTorch puts the odd one of an odd total on the after side (right/bottom).
            return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                         for k, d in zip(kernel, dilation))
        raise ValueError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', got "
                         f"{padding!r}")
    pads = _ints(op, "padding", padding, nd)
    if any(p < 0 for p in pads):
        raise ValueError(f"{op}: padding must be non-negative, got {padding}")
    return tuple((p, p) for p in pads)


def _check_conv(op: str, input: Any, weight: Any, bias: Any, groups: int,
                transposed: bool) -> None:
    channels = input.shape[1]
    if groups <= 0:
        raise ValueError(f"{op}: groups must be positive, got {groups}")
    if transposed:
        if channels != weight.shape[0]:
            raise ShapeError(f"{op}: the input has {channels} channels (in_channels) but the "
                             f"weight of shape {format_shape(weight.shape)} expects "
                             f"{weight.shape[0]} (weight.shape[0])")
        if channels % groups:
            raise ShapeError(f"{op}: in_channels ({channels}) must be divisible by groups "
                             f"({groups})")
        out_channels = weight.shape[1] * groups
    else:
        if weight.shape[0] % groups:
            raise ShapeError(f"{op}: out_channels ({weight.shape[0]}, weight.shape[0]) must be "
                             f"divisible by groups ({groups})")
        if channels != weight.shape[1] * groups:
            raise ShapeError(f"{op}: the input has {channels} channels (in_channels) but the "
                             f"weight of shape {format_shape(weight.shape)} with groups={groups} "
                             f"expects {weight.shape[1] * groups} (weight.shape[1] * groups)")
        out_channels = weight.shape[0]
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ShapeError(f"{op}: bias must have shape ({out_channels},) (one per output channel), "
                         f"got {format_shape(bias.shape)}")


def _convnd(op: str, nd: int, input: Any, weight: Any, bias: Any, stride: Any, padding: Any,
            dilation: Any, groups: int) -> Any:
    batched = _batched(op, input, nd)
    if weight.ndim != nd + 2:
        raise ShapeError(f"{op}: weight must be {nd + 2}-d (out_channels, in_channels / groups, "
                         f"*kernel_size), got shape {format_shape(weight.shape)}")
    if not batched:
        input = reshape(input, (1,) + tuple(input.shape))
    groups = int(groups)
    _check_conv(op, input, weight, bias, groups, transposed=False)
    kernel = tuple(weight.shape[2:])
    stride = _positive(op, "stride", stride, nd)
    dilation = _positive(op, "dilation", dilation, nd)
    pads = _conv_padding(op, padding, kernel, stride, dilation)
    sizes = tuple(input.shape[2:])
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(sizes, pads))
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(e > p for e, p in zip(extent, padded)):
        raise ShapeError(f"{op}: the kernel {format_shape(kernel)} (spanning "
                         f"{format_shape(extent)} with dilation {dilation}) is larger than the "
                         f"padded input {format_shape(padded)} (input shape "
                         f"{format_shape(tuple(input.shape))})")
    out = _conv(input, weight, bias, stride, pads, dilation, groups)
    return out if batched else reshape(out, tuple(out.shape[1:]))


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-d convolution (cross-correlation) of ``input`` (N, C_in, L) or (C_in, L) with ``weight``
    (C_out, C_in / groups, k); ``padding`` an int, ``'valid'`` or ``'same'``.

    >>> import backprop as bp
    >>> bp.conv1d(bp.tensor([[[1., 2., 3., 4.]]]), bp.tensor([[[1., -1.]]])).tolist()
    [[[-1.0, -1.0, -1.0]]]
    """
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-d convolution (cross-correlation, as PyTorch) of ``input`` (N, C_in, H, W) or
    (C_in, H, W) with ``weight`` (C_out, C_in / groups, kH, kW), plus ``bias`` (C_out,).
    ``stride``, ``dilation`` and ``padding`` are ints or pairs; ``padding`` may also be
    ``'valid'`` (none) or ``'same'`` (output as large as the input; stride 1 only; an odd total
    puts the extra row/column after, at the bottom/right).

    >>> import backprop as bp
    >>> x = bp.arange(16.).reshape(1, 1, 4, 4)
    >>> bp.conv2d(x, bp.ones(1, 1, 2, 2), stride=2).tolist()
    [[[[10.0, 18.0], [42.0, 50.0]]]]
    >>> bp.conv2d(x, bp.ones(2, 1, 3, 3), padding="same").shape
    (1, 2, 4, 4)
    """
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(op: str, nd: int, input: Any, weight: Any, bias: Any, stride: Any,
                      padding: Any, output_padding: Any, groups: int, dilation: Any) -> Any:
    batched = _batched(op, input, nd)
    if weight.ndim != nd + 2:
        raise ShapeError(f"{op}: weight must be {nd + 2}-d (in_channels, out_channels / groups, "
                         f"*kernel_size), got shape {format_shape(weight.shape)}")
    if not batched:
        input = reshape(input, (1,) + tuple(input.shape))
    groups = int(groups)
    _check_conv(op, input, weight, bias, groups, transposed=True)
    kernel = tuple(weight.shape[2:])
    stride = _positive(op, "stride", stride, nd)
    dilation = _positive(op, "dilation", dilation, nd)
    pads = _ints(op, "padding", padding, nd)
    extra = _ints(op, "output_padding", output_padding, nd)
    if any(p < 0 for p in pads) or any(e < 0 for e in extra):
        raise ValueError(f"{op}: padding and output_padding must be non-negative, got "
                         f"padding={padding}, output_padding={output_padding}")
    if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation)):
        raise ValueError(f"{op}: output_padding {extra} must be smaller than either stride "
                         f"{stride} or dilation {dilation}")
    sizes = tuple(input.shape[2:])
    out = tuple((m - 1) * s - 2 * p + d * (k - 1) + e + 1
                for m, s, p, d, k, e in zip(sizes, stride, pads, dilation, kernel, extra))
    if any(m <= 0 for m in out):
        raise ShapeError(f"{op}: the output size {format_shape(out)} is not positive (input "
                         f"{format_shape(tuple(input.shape))}, kernel {format_shape(kernel)}, "
                         f"padding {pads})")
    result = _conv_transpose(input, weight, bias, stride,
                             tuple((p, p - e) for p, e in zip(pads, extra)), dilation, groups)
    return result if batched else reshape(result, tuple(result.shape[1:]))


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """1-d transposed convolution ("deconvolution"): the input gradient of ``conv1d``, with
    ``weight`` (C_in, C_out / groups, k).

    >>> import backprop as bp
    >>> bp.conv_transpose1d(bp.tensor([[[1., 2.]]]), bp.tensor([[[1., 1., 1.]]])).tolist()
    [[[1.0, 3.0, 3.0, 2.0]]]
    """
    return _conv_transposend("conv_transpose1d", 1, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """2-d transposed convolution of ``input`` (N, C_in, H, W) with ``weight``
    (C_in, C_out / groups, kH, kW): output size ``(H - 1) * stride - 2 * padding +
    dilation * (kH - 1) + output_padding + 1`` (``output_padding`` picks among the sizes a
    strided ``conv2d`` maps to the same output size).

    >>> import backprop as bp
    >>> bp.conv_transpose2d(bp.ones(1, 1, 2, 2), bp.ones(1, 1, 2, 2), stride=2).shape
    (1, 1, 4, 4)
    """
    return _conv_transposend("conv_transpose2d", 2, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


# -- max pooling ----------------------------------------------------------------------------------

def _pool_view(x: np.ndarray, kernel: Sizes, stride: Sizes,
               dilation: Sizes, out: Sizes) -> np.ndarray:
    """The view ``(N, C, *kernel, *out)`` of ``x`` (N, C, *S) with windows at ``l * stride``."""
    spatial = x.strides[2:]
    return as_strided(x, x.shape[:2] + kernel + out,
                      x.strides[:2] + tuple(d * s for d, s in zip(dilation, spatial))
                      + tuple(st * s for st, s in zip(stride, spatial)), writeable=False)


def _padded(x: np.ndarray, padding: Pairs, value: Any) -> np.ndarray:
    """``x`` padded with ``value`` (only when some width is positive; cropping is never needed
    because windows stay inside the covered region)."""
    if all(lo <= 0 and hi <= 0 for lo, hi in padding):
        return x
    widths = ((0, 0), (0, 0)) + tuple((lo, max(hi, 0)) for lo, hi in padding)
    return np.pad(x, widths, constant_values=value)


def _max_pool_argmax(x: np.ndarray, kernel: Sizes, stride: Sizes,
                    padding: Pairs, dilation: Sizes,
                    out: Sizes) -> tuple[np.ndarray, np.ndarray]:
    """Every window's maximum and its flat index into the input plane: the first one where
    values tie, the last NaN where there are NaNs (PyTorch's rule). A few vectorised passes per
    kernel offset over strided views; no window is copied."""
    lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    view = _pool_view(_padded(x, padding, lowest), kernel, stride, dilation, out)
    offsets = list(np.ndindex(*kernel))
    windows = [view[(slice(None), slice(None)) + k] for k in offsets]
    best = windows[0].copy()
    arg = np.zeros(best.shape, np.uint8 if len(offsets) < 256 else np.int32)
    if x.dtype.kind == "f" and not np.isfinite(x.sum()):  # NaNs (or infs): the exact rule
        for j, v in enumerate(windows[1:], 1):
            better = np.greater(v, best) | np.isnan(v)
            np.copyto(best, v, where=better)
            np.copyto(arg, j, where=better)
    else:
        for v in windows[1:]:
            np.maximum(best, v, out=best)
        # The earliest offset holding the max, by Horner's rule on "not the max" flags:
        # arg = m0 (1 + m1 (1 + m2 (...))), where m_j = windows[j] != best.
        for j in range(len(offsets) - 2, -1, -1):
            missed = np.not_equal(windows[j], best)
            arg += 1
            arg *= missed
    sizes = x.shape[2:]
    plane = _row_major(sizes)
    table = np.array([sum(ki * d * p for ki, d, p in zip(k, dilation, plane)) for k in offsets])
    base = np.zeros(out, np.int64)
    for i, (m, s, (lo, _), p) in enumerate(zip(out, stride, padding, plane)):
        base += ((np.arange(m) * s - lo) * p).reshape((m,) + (1,) * (len(out) - 1 - i))
    index = np.take(table, arg)
    index += base
    if any(lo > 0 for lo, _ in padding) and np.isneginf(best).any():
        index = _first_real(index, arg, offsets, sizes, stride, padding, dilation, out)
    return best, index


def _first_real(index: np.ndarray, arg: np.ndarray, offsets: list, sizes: Sizes,
                stride: Sizes, padding: Pairs, dilation: Sizes,
                out: Sizes) -> np.ndarray:
    """A window whose real values are all -inf keeps its first padding slot; PyTorch points at
    the window's first real element instead."""
    offsets_arr = np.array(offsets).reshape(-1, len(sizes))
    inside = np.ones(index.shape, bool)
    first = np.zeros(out, np.int64)
    plane = _row_major(sizes)
    for i, (m, s, (lo, _), d, n, p) in enumerate(zip(out, stride, padding, dilation, sizes, plane)):
        start = (np.arange(m) * s - lo).reshape((m,) + (1,) * (len(out) - 1 - i))
        position = start + offsets_arr[arg, i] * d
        inside &= (position >= 0) & (position < n)
        first = first + (start + (-(-np.maximum(-start, 0) // d)) * d) * p
    return np.where(inside, index, np.broadcast_to(first, index.shape))


@primitive("max_pool")
def _max_pool(input: Any, indices: Any, values: Any) -> Any:
    """Max pooling whose maxima (``values``) and their ``indices`` were found beforehand on the
    raw input (``_max_pool_argmax``); recording it here gives the gradient its destinations."""
    return values


@primitive("max_pool_gather")
def _max_pool_gather(input: Any, indices: Any) -> Any:
    """The input values at ``indices`` (flat within each (n, c) plane)."""
    n, c = input.shape[:2]
    flat = input.reshape(n, c, -1)
    return np.take_along_axis(flat, indices.reshape(n, c, -1), axis=2).reshape(indices.shape)


@primitive("max_pool_backward")
def _max_pool_scatter(grad: Any, indices: Any, shape: Sizes) -> Any:
    """Zeros of ``shape`` with ``grad`` added at ``indices`` (overlapping windows may pick the
    same element: np.add.at sums the repeats)."""
    n, c = shape[:2]
    area = _prod(shape[2:])
    out = np.zeros(n * c * area, grad.dtype)
    flat = (indices.reshape(n * c, -1) + (np.arange(n * c) * area)[:, None]).ravel()
    np.add.at(out, flat, grad.ravel())
    return out.reshape(shape)


# The whole gradient goes to the element each window picked; scatter and gather are each other's
# VJP, so second derivatives go through as well.
_max_pool.defvjp(lambda g, out, input, indices, values: _max_pool_scatter(g, indices, input.shape),
                 None, None)
_max_pool_gather.defvjp(lambda g, out, input, indices: _max_pool_scatter(g, indices, input.shape),
                        None)
_max_pool_scatter.defvjp(lambda g, out, grad, indices, shape: _max_pool_gather(g, indices),
                         None, None)


def _pool_sizes(op: str, sizes: Sizes, kernel: Sizes, stride: Sizes,
                pads: Sizes, dilation: Sizes, ceil_mode: bool,
                shape: Sizes) -> tuple[Sizes, Pairs]:
    """PyTorch's pooling output size, and the padding that covers every window (the after
    side grows in ceil mode and shrinks when the last rows are never reached)."""
    out = []
    for n, k, s, p, d in zip(sizes, kernel, stride, pads, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        m = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (m - 1) * s >= n + p:  # the last window must start inside
            m -= 1
        out.append(m)
    out = tuple(out)
    if any(m <= 0 for m in out):
        raise ShapeError(f"{op}: the output size {format_shape(out)} is too small (input shape "
                         f"{format_shape(shape)}, kernel_size {kernel}, stride {stride}, padding "
                         f"{pads}, dilation {dilation})")
    cover = tuple((p, (m - 1) * s + d * (k - 1) + 1 - n - p)
                  for n, k, s, p, d, m in zip(sizes, kernel, stride, pads, dilation, out))
    return out, cover


def _pool_args(op: str, nd: int, input: Any, kernel_size: Any, stride: Any, padding: Any,
               dilation: Any) -> tuple:
    kernel = _positive(op, "kernel_size", kernel_size, nd)
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        stride = kernel
    stride = _positive(op, "stride", stride, nd)
    pads = _ints(op, "padding", padding, nd)
    dilation = _positive(op, "dilation", dilation, nd)
    if any(p < 0 or p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(f"{op}: padding {pads} must be non-negative and at most half of "
                         f"kernel_size {kernel}")
    return kernel, stride, pads, dilation


def _max_poolnd(op: str, nd: int, input: Any, kernel_size: Any, stride: Any, padding: Any,
                dilation: Any, ceil_mode: bool, return_indices: bool) -> Any:
    batched = _batched(op, input, nd)
    if not batched:
        input = reshape(input, (1,) + tuple(input.shape))
    kernel, stride, pads, dilation = _pool_args(op, nd, input, kernel_size, stride, padding,
                                                dilation)
    out, cover = _pool_sizes(op, tuple(input.shape[2:]), kernel, stride, pads, dilation,
                             bool(ceil_mode), tuple(input.shape))
    data = input._data if isinstance(input, Tensor) else input
    found, indices = _max_pool_argmax(data, kernel, stride, cover, dilation, out)
    values = _max_pool(input, indices, found)
    if not batched:
        values, indices = reshape(values, tuple(values.shape[1:])), indices[0]
    if return_indices:
        return values, Tensor._wrap(indices) if isinstance(input, Tensor) else indices
    return values


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """1-d max pooling over (N, C, L) or (C, L); see ``max_pool2d``.

    >>> import backprop as bp
    >>> bp.max_pool1d(bp.tensor([[1., 3., 2., 5., 4.]]), 2).tolist()
    [[3.0, 5.0]]
    """
    return _max_poolnd("max_pool1d", 1, input, kernel_size, stride, padding, dilation,
                       ceil_mode, return_indices)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """2-d max pooling over (N, C, H, W) or (C, H, W): the largest value of each window
    (``stride`` defaults to ``kernel_size``; padding counts as -inf and is at most half the
    kernel). The gradient goes to the chosen element: the first of tied maxima. With
    ``return_indices`` also returns each maximum's flat index into its H * W plane (int64).

    >>> import backprop as bp
    >>> x = bp.arange(16.).reshape(1, 1, 4, 4)
    >>> bp.max_pool2d(x, 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    >>> bp.max_pool2d(x, 3, stride=2, ceil_mode=True, return_indices=True)[1].tolist()
    [[[[10, 11], [14, 15]]]]
    """
    return _max_poolnd("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                       ceil_mode, return_indices)


# -- average pooling ------------------------------------------------------------------------------

def _as_dtype(divisor: Any, dtype: np.dtype) -> Any:
    return divisor.astype(dtype) if isinstance(divisor, np.ndarray) else divisor


@primitive("avg_pool")
def _avg_pool(input: Any, kernel: Sizes, stride: Sizes, padding: Pairs,
              divisor: Any) -> Any:
    """Window sums of the zero-padded input (one strided add per kernel offset) over
    ``divisor`` (a number or an array of the output's spatial shape)."""
    out = tuple(divisor.shape) if isinstance(divisor, np.ndarray) else None
    if out is None:
        out = tuple((n + lo + hi - k) // s + 1
                    for n, k, s, (lo, hi) in zip(input.shape[2:], kernel, stride, padding))
    view = _pool_view(_padded(input, padding, 0), kernel, stride, (1,) * len(kernel), out)
    offsets = list(np.ndindex(*kernel))
    total = view[(slice(None), slice(None)) + offsets[0]].copy()
    for k in offsets[1:]:
        total += view[(slice(None), slice(None)) + k]
    total /= _as_dtype(divisor, total.dtype)
    return total


@primitive("avg_pool_backward")
def _avg_pool_backward(grad: Any, shape: Sizes, kernel: Sizes,
                       stride: Sizes, padding: Pairs, divisor: Any) -> Any:
    """The adjoint of ``avg_pool``: each output's ``grad / divisor`` added over its window."""
    spread = grad / _as_dtype(divisor, grad.dtype)
    sizes = shape[2:]
    padded = tuple(n + lo + max(hi, 0) for n, (lo, hi) in zip(sizes, padding))
    buf = np.zeros(shape[:2] + padded, grad.dtype)
    out = grad.shape[2:]
    view = as_strided(buf, buf.shape[:2] + kernel + out,
                      buf.strides[:2] + buf.strides[2:]
                      + tuple(s * b for s, b in zip(stride, buf.strides[2:])))
    for k in np.ndindex(*kernel):
        target = view[(slice(None), slice(None)) + k]
        target += spread
    kept = tuple(slice(lo, lo + n) for n, (lo, _) in zip(sizes, padding))
    return np.ascontiguousarray(buf[(slice(None), slice(None)) + kept])


_avg_pool.defvjp(lambda g, out, input, kernel, stride, padding, divisor: _avg_pool_backward(
    g, input.shape, kernel, stride, padding, divisor))
_avg_pool_backward.defvjp(lambda g, out, grad, shape, kernel, stride, padding, divisor: _avg_pool(
    g, kernel, stride, padding, divisor), None)


def _avg_divisor(sizes: Sizes, kernel: Sizes, stride: Sizes,
                 pads: Sizes, out: Sizes, count_include_pad: bool,
                 divisor_override: Any) -> Any:
    """PyTorch's divisor per output position: the window clipped to the padded input (with
    ``count_include_pad``) or to the input itself; a plain number where it is constant."""
    if divisor_override is not None:
        return float(divisor_override)
    factors = []
    for n, k, s, p, m in zip(sizes, kernel, stride, pads, out):
        start = np.arange(m) * s - p
        end = np.minimum(start + k, n + p)
        if count_include_pad:
            factors.append((end - start).astype(np.float64))
        else:
            factors.append((np.minimum(end, n) - np.maximum(start, 0)).astype(np.float64))
    divisor = factors[0]
    for f in factors[1:]:
        divisor = np.multiply.outer(divisor, f)
    first = divisor.flat[0]
    return float(first) if np.all(divisor == first) else divisor


def _avg_poolnd(op: str, nd: int, input: Any, kernel_size: Any, stride: Any, padding: Any,
                ceil_mode: bool, count_include_pad: bool, divisor_override: Any) -> Any:
    batched = _batched(op, input, nd)
    if not batched:
        input = reshape(input, (1,) + tuple(input.shape))
    kernel, stride, pads, _ = _pool_args(op, nd, input, kernel_size, stride, padding, 1)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{op}: divisor_override must be non-zero")
    sizes = tuple(input.shape[2:])
    out, cover = _pool_sizes(op, sizes, kernel, stride, pads, (1,) * nd, bool(ceil_mode),
                             tuple(input.shape))
    divisor = _avg_divisor(sizes, kernel, stride, pads, out, count_include_pad, divisor_override)
    result = _avg_pool(input, kernel, stride, cover, divisor)
    return result if batched else reshape(result, tuple(result.shape[1:]))


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """1-d average pooling over (N, C, L) or (C, L); see ``avg_pool2d``.

    >>> import backprop as bp
    >>> bp.avg_pool1d(bp.tensor([[1., 3., 2., 6.]]), 2).tolist()
    [[2.0, 4.0]]
    """
    return _avg_poolnd("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                       count_include_pad, None)


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """2-d average pooling over (N, C, H, W) or (C, H, W): each window's mean (``stride``
    defaults to ``kernel_size``). Zero padding counts in the mean when ``count_include_pad``;
    windows that ceil mode lets run past the padding are divided by their clipped size.

    >>> import backprop as bp
    >>> bp.avg_pool2d(bp.arange(16.).reshape(1, 4, 4), 2).tolist()
    [[[2.5, 4.5], [10.5, 12.5]]]
    """
    return _avg_poolnd("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                       count_include_pad, divisor_override)


def _adaptive_matrix(n: int, m: int, dtype: np.dtype) -> np.ndarray:
    """(m, n) averaging weights: output i averages inputs floor(i n / m) .. ceil((i + 1) n / m)."""
    matrix = np.zeros((m, n), dtype)
    for i in range(m):
        start, end = (i * n) // m, -(-((i + 1) * n) // m)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def _adaptive_avg_poolnd(op: str, nd: int, input: Any, output_size: Any) -> Any:
    _batched(op, input, nd)
    sizes = tuple(input.shape[-nd:])
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != nd:
            raise ValueError(f"{op}: output_size must be an int or a tuple of {nd}, got "
                             f"{output_size}")
        wanted = tuple(n if m is None else int(m) for n, m in zip(sizes, output_size))
    else:
        wanted = (int(output_size),) * nd
    if any(m <= 0 for m in wanted):
        raise ValueError(f"{op}: output_size must be positive, got {output_size}")
    if all(n % m == 0 for n, m in zip(sizes, wanted)):  # equal windows: a plain average pool
        kernel = tuple(n // m for n, m in zip(sizes, wanted))
        return _avg_poolnd(op, nd, input, kernel, kernel, 0, False, True, None)
    # Uneven windows: the pool is separable, one averaging matrix per spatial dim.
    dtype = input.dtype if input.dtype.kind == "f" else np.dtype(np.float32)
    result = input
    for axis, (n, m) in enumerate(zip(sizes, wanted)):
        matrix = _adaptive_matrix(n, m, dtype)
        if axis == nd - 1:
            result = matmul(result, matrix.T)
        else:
            result = matmul(matrix, result)
    return result


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a fixed length: output i averages inputs
    ``floor(i * L / out) .. ceil((i + 1) * L / out)`` (PyTorch's windows).

    >>> import backprop as bp
    >>> bp.adaptive_avg_pool1d(bp.tensor([[1., 2., 3., 4., 5.]]), 2).tolist()
    [[2.0, 4.0]]
    """
    return _adaptive_avg_poolnd("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling of (N, C, H, W) or (C, H, W) to ``output_size`` (an int, or a pair whose
    None entries keep that size): output (i, j) averages rows ``floor(i * H / h) ..
    ceil((i + 1) * H / h)`` and likewise columns, so windows may overlap when sizes do not divide.

    >>> import backprop as bp
    >>> bp.adaptive_avg_pool2d(bp.arange(16.).reshape(1, 4, 4), 1).tolist()
    [[[7.5]]]
    >>> bp.adaptive_avg_pool2d(bp.ones(2, 5, 5), (3, None)).shape
    (2, 3, 5)
    """
    return _adaptive_avg_poolnd("adaptive_avg_pool2d", 2, input, output_size)


# -- pixel shuffle --------------------------------------------------------------------------------

def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearrange (*, C * r * r, H, W) into (*, C, H * r, W * r) (sub-pixel convolution's
    upsampling; ``r = upscale_factor``).

    >>> import backprop as bp
    >>> bp.pixel_shuffle(bp.arange(4.).reshape(1, 4, 1, 1), 2).tolist()
    [[[[0.0, 1.0], [2.0, 3.0]]]]
    """
    r = int(upscale_factor)
    if input.ndim < 3:
        raise ShapeError(f"pixel_shuffle: expected an input with at least 3 dims (*, C, H, W), "
                         f"got shape {format_shape(input.shape)}")
    if r <= 0:
        raise ValueError(f"pixel_shuffle: upscale_factor must be positive, got {r}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise ShapeError(f"pixel_shuffle: the channel dim ({c}) must be divisible by "
                         f"upscale_factor ** 2 ({r * r}) (input shape {format_shape(input.shape)})")
    k = len(lead)
    x = reshape(input, (*lead, c // (r * r), r, r, h, w))
    x = permute(x, (*range(k), k, k + 3, k + 1, k + 4, k + 2))
    return reshape(x, (*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """The inverse of ``pixel_shuffle``: (*, C, H * r, W * r) into (*, C * r * r, H, W).

    >>> import backprop as bp
    >>> bp.pixel_unshuffle(bp.arange(4.).reshape(1, 1, 2, 2), 2).flatten().tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    r = int(downscale_factor)
    if input.ndim < 3:
        raise ShapeError(f"pixel_unshuffle: expected an input with at least 3 dims (*, C, H, W), "
                         f"got shape {format_shape(input.shape)}")
    if r <= 0:
        raise ValueError(f"pixel_unshuffle: downscale_factor must be positive, got {r}")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise ShapeError(f"pixel_unshuffle: height {h} and width {w} must be divisible by "
                         f"downscale_factor ({r}) (input shape {format_shape(input.shape)})")
    k = len(lead)
    x = reshape(input, (*lead, c, h // r, r, w // r, r))
    x = permute(x, (*range(k), k, k + 2, k + 4, k + 1, k + 3))
    return reshape(x, (*lead, c * r * r, h // r, w // r))


TENSOR_METHODS: dict = {}

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d",
           "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "pixel_shuffle", "pixel_unshuffle"]
