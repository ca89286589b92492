"""Convolution: conv1d/2d/3d and conv_transpose1d/2d/3d, with PyTorch's signatures (exported as
``bp.X`` and ``F.X``). Pooling and pixel (un)shuffle are in pooling.py, which shares this
module's geometry helpers and argument checks.

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

Spatial geometry travels as tuples with one entry per spatial dim; ``padding`` as
``((before, after), ...)`` pairs, where a negative ``after`` crops (the adjoint of the rows a
strided convolution never reads) or, for a transposed convolution, appends (``output_padding``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend
from ..backends import numba_conv  # noqa: F401 - registers the compiled 1-d/2-d convolutions
from ..errors import ShapeError, format_shape
from ..tensor import Tensor
from .primitive import primitive
from .reduction import _sum
from .shape import reshape

Sizes = tuple[int, ...]  # one entry per spatial dim: kernel, stride, dilation, sizes
Pairs = tuple[tuple[int, int], ...]  # (before, after) padding per spatial dim


# -- array helpers (the primitives' forwards; new arrays on the input's device) ----------------

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


def _to_planes(x: np.ndarray, padding: Pairs, slack: int,
               batch_first: bool = False) -> np.ndarray:
    """``x`` (N, C, *S) as zero-padded planes ``(C, N, prod(padded) + slack)``, or
    ``(N, C, ...)`` with ``batch_first`` (negative ``after`` widths crop)."""
    n, c = x.shape[:2]
    lead = (n, c) if batch_first else (c, n)
    sizes = x.shape[2:]
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(sizes, padding))
    area = _prod(padded)
    if slack == 0 and all(lo == 0 and hi == 0 for lo, hi in padding):
        if batch_first and x.flags.c_contiguous:
            return x.reshape(lead + (area,))  # already the planes (only read through views)
        buf = backend.empty(lead + (area,), x.dtype, x)
    else:
        buf = backend.zeros(lead + (area + slack,), x.dtype, x)
    inner = buf[:, :, :area].reshape(lead + padded)
    source = tuple(slice(0, s + min(hi, 0)) for s, (lo, hi) in zip(sizes, padding))
    target = tuple(slice(lo, lo + s + min(hi, 0)) for s, (lo, hi) in zip(sizes, padding))
    both = (slice(None), slice(None))
    part = x[both + source]
    inner[both + target] = part if batch_first else part.swapaxes(0, 1)
    return buf


def _windows(buf: np.ndarray, groups: int, padded: Sizes, kernel: Sizes,
             stride: Sizes, dilation: Sizes, rows: Sizes,
             writeable: bool = False, batch_first: bool = False) -> np.ndarray:
    """The view ``(G, *kernel, C / G, N, *rows)`` of planes ``buf`` (C, N, P) whose element
    ``[g, k, c, n, l]`` is ``plane[g * C / G + c, n][l * stride + k * dilation]``. Kernel
    offsets come before channels so that each offset's slab is contiguous once copied (the
    col2im adds then read memory in order). With ``batch_first``, ``buf`` is (N, C, P) and the
    view ``(N, G, *kernel, C / G, *rows)``: one (kernel * C / G, rows) matrix per image."""
    item = buf.itemsize
    plane = _row_major(padded)
    at_c, at_n = (buf.strides[1], buf.strides[0]) if batch_first else buf.strides[:2]
    channels, n = (buf.shape[1], buf.shape[0]) if batch_first else buf.shape[:2]
    per_group = channels // groups
    offsets = tuple(d * p * item for d, p in zip(dilation, plane))
    steps = tuple(s * p * item for s, p in zip(stride, plane))
    if batch_first:
        shape = (n, groups) + kernel + (per_group,) + rows
        strides = (at_n, per_group * at_c) + offsets + (at_c,) + steps
    else:
        shape = (groups,) + kernel + (per_group, n) + rows
        strides = (per_group * at_c,) + offsets + (at_c, at_n) + steps
    return backend.as_strided(buf, shape, strides, writeable=writeable)


def _widen(g: np.ndarray, rows: Sizes) -> np.ndarray:
    """``g`` (N, O, *L) as ``(O, N, *rows)``, zero in the extra columns of wide rows (so the
    columns computed past the valid output contribute nothing)."""
    n, o = g.shape[:2]
    if g.shape[2:] == rows:
        return backend.contiguous(g.swapaxes(0, 1))
    out = backend.zeros((o, n) + rows, g.dtype, g)
    out[..., :g.shape[-1]] = g.swapaxes(0, 1)
    return out


def _batch_first(y: np.ndarray, bias: Any) -> np.ndarray:
    """``y`` (C, N, *L), any strides, as a contiguous (N, C, *L) array, plus ``bias`` per C."""
    out = backend.empty((y.shape[1], y.shape[0]) + y.shape[2:], y.dtype, y)
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
    return backend.contiguous(view), out, rows


def _fold(cols: np.ndarray, groups: int, channels: int, n: int, padded: Sizes,
          kernel: Sizes, stride: Sizes, dilation: Sizes,
          rows: Sizes, slack: int) -> np.ndarray:
    """col2im: planes ``(C, N, P)`` with every kernel offset's slab of ``cols``
    ``(G, *kernel, C / G, N, *rows)`` added at its place (one strided add per offset)."""
    buf = backend.zeros((channels, n, _prod(padded) + slack), cols.dtype, cols)
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
    out = backend.zeros((n, c) + sizes, buf.dtype, buf)
    out[(slice(None), slice(None)) + tuple(map(slice, kept.shape[2:]))] = kept.swapaxes(0, 1)
    if bias is not None:
        out += bias.reshape((-1,) + (1,) * len(sizes))
    return out


# -- the three convolution primitives -----------------------------------------------------------


def _transpose_padding(padding: Pairs, sizes: Sizes, kernel: Sizes,
                       stride: Sizes, dilation: Sizes,
                       out: Sizes) -> Pairs:
    """Padding for the transposed convolution that maps a convolution's output (sizes ``out``)
    back onto its input (``sizes``): rows the convolution never read get a zero gradient."""
    return tuple((lo, (m - 1) * s + d * (k - 1) + 1 - lo - n)
                 for (lo, _), n, k, s, d, m in zip(padding, sizes, kernel, stride, dilation, out))


# Up to this many terms a row, a sum runs as a matrix-vector product. Its float32 accumulators
# round more than the cascaded sum as rows grow: at 4096 terms of one sign and size, 5e-7
# relative (8 ulp) against 1e-8; longer rows stay with the cascaded sum.
_PRODUCT_SUM_TERMS = 4096


def _bias_grad(g: Any) -> Any:
    """``g`` (N, C, *spatial) summed over all but the channels. For a contiguous float array, as
    two matrix-vector products (``(N*C, S) @ ones`` then ``ones @ (N, C)``), which BLAS runs
    4-5x faster than NumPy's sum over those axes (W3's first convolution: 81 -> 16 us)."""
    if (type(g) is np.ndarray and g.dtype.char in "fd" and g.flags.c_contiguous
            and g.size >= 8192):
        n, channels = g.shape[:2]
        area = g.size // (n * channels)
        if area <= _PRODUCT_SUM_TERMS and n <= _PRODUCT_SUM_TERMS:
            per_image = g.reshape(n * channels, area) @ np.ones(area, g.dtype)
            return np.ones(n, g.dtype) @ per_image.reshape(n, channels)
    return _sum(g, (0,) + tuple(range(2, g.ndim)), False)


# Bytes of windows copied and multiplied at a time: small enough to stay in a core's L2 cache
# between the im2col copy and the product that reads it.
_BLOCK_BYTES = 1 << 18


def _blocked_product(w: np.ndarray, view: np.ndarray, rows: Sizes) -> np.ndarray:
    """``w`` (G, O / G, taps) times the windows ``view`` (N, G, *kernel, C / G, *rows), as
    (N, G, O / G, prod(rows)), one image and one band of leading rows at a time (NumPy only).
    With few output channels the product streams the windows once per 8 or 16 rows of ``w``;
    a band of windows that stays in cache is copied (im2col) and multiplied 1.5-2x faster
    than the whole batch's windows, which run out of cache, and never exists in full."""
    n, groups = view.shape[:2]
    y = np.empty((n, groups, w.shape[1], _prod(rows)), view.dtype)
    for i, start, cols in _bands(view, rows, w.shape[-1]):
        np.matmul(w, cols, out=y[i, :, :, start:start + cols.shape[-1]])
    return y


def _bands(view: np.ndarray, rows: Sizes, taps: int) -> Any:
    """The windows ``view`` (N, G, *kernel, C / G, *rows) one image and one cache-sized band of
    leading rows at a time: ``(image, first position, columns (G, taps, positions))``, the
    columns copied into one buffer that each band reuses."""
    n, groups = view.shape[:2]
    inner = _prod(rows[1:])
    step = max(1, min(rows[0], _BLOCK_BYTES // (taps * inner * view.itemsize)))
    band = np.empty(groups * taps * step * inner, view.dtype)
    for i in range(n):
        for r in range(0, rows[0], step):
            part = view[(i, Ellipsis, slice(r, r + step)) + (slice(None),) * (len(rows) - 1)]
            m = part.shape[-len(rows)] * inner
            cols = band[:groups * taps * m]
            np.copyto(cols.reshape(part.shape), part)
            yield i, r * inner, cols.reshape(groups, taps, m)


@primitive("convolution", save=("input", "weight"), grads={
    "input": lambda g, out, input, weight, bias, stride, padding, dilation, groups: _conv_transpose(
    g, weight, None, stride, _transpose_padding(padding, input.shape[2:], weight.shape[2:],
    stride, dilation, g.shape[2:]),
    dilation, groups),
    "weight": lambda g, out, input, weight, bias, stride, padding, dilation, groups: _conv_weight(
    input, g, weight.shape, stride, padding, dilation, groups),
    "bias": lambda g, out, input, weight, bias, stride, padding, dilation, groups: _bias_grad(g),
})
def _conv(input: Any, weight: Any, bias: Any, stride: Sizes, padding: Pairs,
          dilation: Sizes, groups: int) -> Any:
    """Cross-correlate ``input`` (N, C, *S) with ``weight`` (O, C / groups, *kernel)."""
    dtype = np.result_type(input, weight)
    kernel = weight.shape[2:]
    n, o = input.shape[0], weight.shape[0]
    x = input.astype(dtype, copy=False)
    # One image at a time: a (O / G, taps) @ (taps, rows) product per image and group writes
    # that image's (N, C, *rows) block directly, so no (C, N) -> (N, C) transpose copy follows;
    # and the planes are padded batch-first, a contiguous copy. 1.2-1.5x faster than one
    # product over the whole batch (the BLAS runs as fast on 1000-column blocks).
    padded, out = _geometry(x.shape[2:], kernel, stride, padding, dilation)
    banded = type(x) is np.ndarray
    # The bands are copied in cache, where exact rows cost no more than wide ones, and the
    # product then writes the output itself: no cropping pass over it.
    rows, slack = (out, 0) if banded else _row_geometry(padded, out, kernel, stride, dilation)
    buf = _to_planes(x, padding, slack, batch_first=True)
    view = _windows(buf, groups, padded, kernel, stride, dilation, rows, batch_first=True)
    w = _kernel_major(weight.astype(dtype, copy=False), groups)
    if banded:
        y = _blocked_product(w, view, rows)
        if bias is not None:
            # Per-channel bias repeated over one image: two contiguous operands instead of
            # NumPy's slow broadcast loop against (1, O, 1, ...); the same sums.
            flat = y.reshape(n, o * _prod(out))
            np.add(flat, np.repeat(bias.astype(y.dtype, copy=False), _prod(out)), out=flat,
                   casting="same_kind")
        return y.reshape((n, o) + out)
    cols = backend.contiguous(view).reshape(n, groups, w.shape[-1], _prod(rows))
    y = np.matmul(w, cols).reshape((n, o) + rows)
    shape = (1, -1) + (1,) * len(rows)
    if rows == out:
        if bias is not None:
            np.add(y, bias.reshape(shape), out=y, casting="same_kind")
        return y
    result = backend.empty((n, o) + out, y.dtype, y)
    if bias is None:
        np.copyto(result, y[..., :out[-1]])
    else:
        np.add(y[..., :out[-1]], bias.reshape(shape), out=result, casting="same_kind")
    return result


@primitive("conv_transpose", save=("input", "weight"), grads={
    "input": lambda g, out, input, weight, bias, stride, padding, dilation, groups: _conv(
    g, weight, None, stride, padding, dilation, groups),
    "weight": lambda g, out, input, weight, bias, stride, padding, dilation, groups: _conv_weight(
    g, input, weight.shape, stride, padding, dilation, groups),
    "bias": lambda g, out, input, weight, bias, stride, padding, dilation, groups: _bias_grad(g),
})
def _conv_transpose(input: Any, weight: Any, bias: Any, stride: Sizes, padding: Pairs,
                    dilation: Sizes, groups: int) -> Any:
    """The adjoint of ``convolution`` in its input: ``input`` (N, C_in, *L) spread through
    ``weight`` (C_in, C_out / groups, *kernel) onto the full (uncropped) output, then cropped by
    ``padding``."""
    if all(s == 1 for s in stride):
        out = _transpose_as_convolution(input, weight, bias, padding, dilation, groups)
        if out is not None:
            return out
    dtype = np.result_type(input, weight)
    kernel = weight.shape[2:]
    n, c_in = input.shape[:2]
    c_out = weight.shape[1] * groups
    sizes = input.shape[2:]
    full = tuple((m - 1) * s + d * (k - 1) + 1
                 for m, s, d, k in zip(sizes, stride, dilation, kernel))
    rows, slack = _row_geometry(full, sizes, kernel, stride, dilation)
    x = _widen(input.astype(dtype, copy=False), rows).reshape(groups, c_in // groups,
                                                              n * _prod(rows))
    # The transposed weight, (G, kernel * C_out / G, C_in / G) with rows kernel-major.
    w = weight.astype(dtype, copy=False).reshape(groups, c_in // groups, weight.shape[1], -1)
    w = w.transpose(0, 3, 2, 1).reshape(groups, -1, c_in // groups)
    cols = np.matmul(w, x).reshape((groups,) + kernel + (c_out // groups, n) + rows)
    buf = _fold(cols, groups, c_out, n, full, kernel, stride, dilation, rows, slack)
    return _from_planes(buf, full, padding, bias)


def _transpose_as_convolution(input: Any, weight: Any, bias: Any, padding: Pairs,
                              dilation: Sizes, groups: int) -> Any:
    """With stride 1, the transposed convolution is the convolution of ``input`` padded by
    ``d (k - 1)`` less the crop, with ``weight`` flipped in space and its in and out channels
    swapped; None where that padding would be negative. The product then contracts over
    ``C_in * kernel`` into ``C_out`` rows instead of spreading ``C_in`` into ``C_out * kernel``
    rows that a col2im adds up: about 2x faster for 3x3 kernels in 1-d and 2-d. Not used in
    3-d, where the convolution's own im2col (27 taps a channel) made it 1.3-1.6x slower."""
    kernel = weight.shape[2:]
    pads = tuple((d * (k - 1) - lo, d * (k - 1) - hi)
                 for (lo, hi), k, d in zip(padding, kernel, dilation))
    if any(lo < 0 or hi < 0 for lo, hi in pads):
        return None
    c_in, per_group = weight.shape[:2]
    w = weight.reshape((groups, c_in // groups, per_group) + kernel).swapaxes(1, 2)
    w = w[(Ellipsis,) + (slice(None, None, -1),) * len(kernel)]
    w = w.reshape((groups * per_group, c_in // groups) + kernel)
    return _conv.forward(input, w, bias, (1,) * len(kernel), pads, dilation, groups)


def _blocked_weight_grad(x: np.ndarray, grad: np.ndarray, groups: int, kernel: Sizes,
                         stride: Sizes, padding: Pairs, dilation: Sizes) -> np.ndarray:
    """``sum over images and positions of windows (G, taps, L) @ grad (G, L, O / G)``, as
    (G, taps, O / G), one image and one cache-sized band of windows at a time (NumPy only; see
    ``_blocked_product``): the whole batch's windows are never copied out."""
    n, o = grad.shape[:2]
    # Exact rows (no wide ones): the bands are copied in cache, and ``grad`` is read as it is.
    padded, rows = _geometry(x.shape[2:], kernel, stride, padding, dilation)
    view = _windows(_to_planes(x, padding, 0, batch_first=True), groups, padded, kernel,
                    stride, dilation, rows, batch_first=True)
    g = np.ascontiguousarray(grad).reshape(n, groups, o // groups, _prod(rows))
    taps = _prod(kernel) * (x.shape[1] // groups)
    dw = np.zeros((groups, taps, o // groups), x.dtype)
    for i, start, cols in _bands(view, rows, taps):
        dw += np.matmul(cols, g[i, :, :, start:start + cols.shape[-1]].swapaxes(1, 2))
    return dw


# conv_weight_grad is linear in each input: <h, W(x, g)> = <g, conv(x, h)> = <x, conv^T(g, h)>.
@primitive("conv_weight_grad", save=("input", "grad"), grads={
    "input": lambda g, out, input, grad, weight_shape, stride, padding, dilation, groups:
    _conv_transpose(grad, g, None, stride, _transpose_padding(
        padding, input.shape[2:], weight_shape[2:], stride, dilation, grad.shape[2:]),
        dilation, groups),
    "grad": lambda g, out, input, grad, weight_shape, stride, padding, dilation, groups:
    _conv(input, g, None, stride, padding, dilation, groups),
})
def _conv_weight(input: Any, grad: Any, weight_shape: Sizes, stride: Sizes,
                 padding: Pairs, dilation: Sizes, groups: int) -> Any:
    """The gradient of ``convolution`` in its weight: windows of ``input`` contracted with the
    output gradient ``grad`` (N, O, *L) over the batch and positions."""
    dtype = np.result_type(input, grad)
    kernel = weight_shape[2:]
    o, per_group = weight_shape[:2]
    if type(input) is np.ndarray and type(grad) is np.ndarray:
        dw = _blocked_weight_grad(input.astype(dtype, copy=False), grad.astype(dtype, copy=False),
                                  groups, kernel, stride, padding, dilation)
        dw = dw.reshape(groups, _prod(kernel), per_group, o // groups)
        return backend.contiguous(dw.transpose(0, 3, 2, 1)).reshape(weight_shape)
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
    return backend.contiguous(dw.transpose(0, 3, 2, 1)).reshape(weight_shape)


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


def _prepare(op: str, nd: int, input: Any, weight: Any, bias: Any, stride: Any, dilation: Any,
             groups: int, transposed: bool) -> tuple:
    """Checks shared by convolution and transposed convolution: a batch dim added to an
    unbatched input, channels, and stride/dilation as ``nd`` positive ints."""
    batched = _batched(op, input, nd)
    if weight.ndim != nd + 2:
        channels = ("in_channels, out_channels / groups" if transposed
                    else "out_channels, in_channels / groups")
        raise ShapeError(f"{op}: weight must be {nd + 2}-d ({channels}, *kernel_size), got "
                         f"shape {format_shape(weight.shape)}")
    if not batched:
        input = reshape(input, (1,) + tuple(input.shape))
    groups = int(groups)
    _check_conv(op, input, weight, bias, groups, transposed=transposed)
    return (input, batched, tuple(weight.shape[2:]), _positive(op, "stride", stride, nd),
            _positive(op, "dilation", dilation, nd), groups)


def _convnd(op: str, nd: int, input: Any, weight: Any, bias: Any, stride: Any, padding: Any,
            dilation: Any, groups: int) -> Any:
    input, batched, kernel, stride, dilation, groups = _prepare(
        op, nd, input, weight, bias, stride, dilation, groups, transposed=False)
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


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-d convolution of ``input`` (N, C_in, D, H, W) or (C_in, D, H, W) with ``weight``
    (C_out, C_in / groups, kD, kH, kW); arguments as ``conv2d``'s, with triples.

    >>> import backprop as bp
    >>> bp.conv3d(bp.ones(1, 1, 3, 3, 3), bp.ones(2, 1, 2, 2, 2)).shape
    (1, 2, 2, 2, 2)
    """
    return _convnd("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(op: str, nd: int, input: Any, weight: Any, bias: Any, stride: Any,
                      padding: Any, output_padding: Any, groups: int, dilation: Any) -> Any:
    input, batched, kernel, stride, dilation, groups = _prepare(
        op, nd, input, weight, bias, stride, dilation, groups, transposed=True)
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


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """3-d transposed convolution of ``input`` (N, C_in, D, H, W) with ``weight``
    (C_in, C_out / groups, kD, kH, kW); see ``conv_transpose2d``.

    >>> import backprop as bp
    >>> bp.conv_transpose3d(bp.ones(1, 1, 2, 2, 2), bp.ones(1, 3, 2, 2, 2), stride=2).shape
    (1, 3, 4, 4, 4)
    """
    return _conv_transposend("conv_transpose3d", 3, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d"]
