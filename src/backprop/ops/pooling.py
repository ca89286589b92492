"""Pooling: max_pool1d/2d/3d, avg_pool1d/2d/3d, adaptive_avg_pool1d/2d/3d, and pixel
(un)shuffle, with PyTorch's signatures (exported as ``bp.X`` and ``F.X``). Split from conv.py,
whose geometry helpers (``Sizes``, ``Pairs``, ``_row_major``) and argument checks (``_ints``,
``_positive``, ``_batched``) it shares; pixel (un)shuffle sits here beside the pools as nn/modules/pooling.py
has ``PixelShuffle`` beside the pooling layers.

Pools work on strided views of the (padded) input too, a few vectorised passes per kernel
offset: max pooling finds each window's maximum and its index (ties: the first, as PyTorch), and
its gradient is a scatter to those indices whose own VJP is the matching gather; average pooling
sums the offsets and divides by PyTorch's divisor, its VJP (the spread-back) and it being each
other's VJPs. Adaptive average pooling with uneven windows is a product with one averaging matrix
per spatial dim; pixel (un)shuffle is reshape and permute.

Spatial geometry travels as tuples with one entry per spatial dim; ``padding`` as
``((before, after), ...)`` pairs (see conv.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend, dtypes
from ..autograd import grad_mode
from ..autograd.graph import DUAL  # forward AD: its tangents need the recorded path
from ..backends import numba_pool, numba_reductions
from ..capture.state import replayable
from ..errors import ShapeError, format_shape
from ..tensor import Tensor
from .conv import Pairs, Sizes, _batched, _ints, _positive, _prod, _row_major
from .linalg import matmul
from .primitive import primitive
from .shape import permute, reshape

# -- max pooling ----------------------------------------------------------------------------------

def _pool_view(x: np.ndarray, kernel: Sizes, stride: Sizes,
               dilation: Sizes, out: Sizes) -> np.ndarray:
    """The view ``(N, C, *kernel, *out)`` of ``x`` (N, C, *S) with windows at ``l * stride``."""
    spatial = x.strides[2:]
    return backend.as_strided(x, x.shape[:2] + kernel + out,
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
                    out: Sizes, indices: bool = True) -> tuple[np.ndarray, Any]:
    """Every window's maximum and its flat index into the input plane: the first one where
    values tie, the last NaN where there are NaNs (PyTorch's rule). A few vectorised passes per
    kernel offset over strided views; no window is copied. With ``indices=False`` (no gradient
    and no indices asked for) only the maxima, found by the same passes: (maxima, None)."""
    lowest = -np.inf if x.dtype.kind in "fV" else np.iinfo(x.dtype).min
    view = _pool_view(_padded(x, padding, lowest), kernel, stride, dilation, out)
    offsets = list(np.ndindex(*kernel))
    windows = [view[(slice(None), slice(None)) + k] for k in offsets]
    arg = (backend.zeros(windows[0].shape, np.uint8 if len(offsets) < 256 else np.int32, x)
           if indices else None)
    # np.maximum propagates NaNs like the exact rule, so only the indices need it (and the
    # check, a pass over the input, is skipped for a plain forward).
    exact = indices and x.dtype.kind in "fV" and not np.isfinite(x.sum())
    if exact:  # NaNs (or infs): the exact rule
        best = windows[0].copy()
        for j, v in enumerate(windows[1:], 1):
            better = np.greater(v, best) | np.isnan(v)
            np.copyto(best, v, where=better)
            if arg is not None:
                np.copyto(arg, j, where=better)
    elif len(windows) == 1:
        best = windows[0].copy()
    else:  # the first maximum writes the result: no separate copy pass
        best = np.maximum(windows[0], windows[1])
        for v in windows[2:]:
            np.maximum(best, v, out=best)
    if arg is None:
        return best, None
    if not exact:
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
    index = np.take(backend.on_device_of(table, arg), arg)
    index += backend.on_device_of(base, arg)
    if any(lo > 0 for lo, _ in padding) and np.isneginf(best).any():
        index = _first_real(index, arg, offsets, sizes, stride, padding, dilation, out)
    return best, index


def _first_real(index: np.ndarray, arg: np.ndarray, offsets: list, sizes: Sizes,
                stride: Sizes, padding: Pairs, dilation: Sizes,
                out: Sizes) -> np.ndarray:
    """A window whose real values are all -inf keeps its first padding slot; PyTorch points at
    the window's first real element instead."""
    offsets_arr = backend.on_device_of(np.array(offsets).reshape(-1, len(sizes)), index)
    inside = np.ones_like(index, dtype=bool)
    first = np.zeros(out, np.int64)
    plane = _row_major(sizes)
    for i, (m, s, (lo, _), d, n, p) in enumerate(zip(out, stride, padding, dilation, sizes, plane)):
        start = (np.arange(m) * s - lo).reshape((m,) + (1,) * (len(out) - 1 - i))
        position = backend.on_device_of(start, index) + offsets_arr[arg, i] * d
        inside &= (position >= 0) & (position < n)
        first = first + (start + (-(-np.maximum(-start, 0) // d)) * d) * p
    first = backend.on_device_of(first, index)
    return np.where(inside, index, np.broadcast_to(first, index.shape))


# The whole gradient goes to the element each window picked; scatter and gather are each other's
# VJP, so second derivatives go through as well.
@primitive("max_pool", save=("indices",), grads={
    "input": lambda g, out, input, indices, values, window=None: _max_pool_scatter(
        g, indices, input.shape),
})
def _max_pool(input: Any, indices: Any, values: Any, window: Any = None) -> Any:
    """Max pooling whose maxima (``values``) and their ``indices`` were found beforehand on the
    raw input (``_max_pool_argmax``); recording it here gives the gradient its destinations.
    ``window`` (kernel, stride, padding, dilation, ceil_mode) is unused here: it tells observers
    such as the ONNX exporter which pool this was (None for adaptive and fractional pools)."""
    return values


@primitive("max_pool_gather", grads={
    "input": lambda g, out, input, indices: _max_pool_scatter(g, indices, input.shape),
})
def _max_pool_gather(input: Any, indices: Any) -> Any:
    """The input values at ``indices`` (flat within each (n, c) plane)."""
    n, c = input.shape[:2]
    flat = input.reshape(n, c, -1)
    return np.take_along_axis(flat, indices.reshape(n, c, -1), axis=2).reshape(indices.shape)


@primitive("max_pool_backward", grads={
    "grad": lambda g, out, grad, indices, shape: _max_pool_gather(g, indices),
})
def _max_pool_scatter(grad: Any, indices: Any, shape: Sizes) -> Any:
    """Zeros of ``shape`` with ``grad`` added at ``indices`` (overlapping windows may pick the
    same element: np.add.at sums the repeats)."""
    n, c = shape[:2]
    area = _prod(shape[2:])
    out = backend.zeros(n * c * area, grad.dtype, grad)
    starts = backend.on_device_of(np.arange(n * c) * area, indices)
    flat = (indices.reshape(n * c, -1) + starts[:, None]).ravel()
    np.add.at(out, flat, grad.ravel())
    return out.reshape(shape)


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
    if type(input) is not Tensor and getattr(input, "_batched_by_vmap", False):
        # the window maxima are found in NumPy: fold bp.func.vmap's batch into N first
        from .. import func  # only under vmap, which imported it

        return func.batching.fold_into_batch(input, nd + 1, lambda x: _max_poolnd(
            op, nd, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices))
    batched = _batched(op, input, nd)
    if not batched:
        input = reshape(input, (1,) + tuple(input.shape))
    kernel, stride, pads, dilation = _pool_args(op, nd, input, kernel_size, stride, padding,
                                                dilation)
    out, cover = _pool_sizes(op, tuple(input.shape[2:]), kernel, stride, pads, dilation,
                             bool(ceil_mode), tuple(input.shape))
    # The indices serve the gradient and return_indices only: a plain forward skips them.
    needed = return_indices or DUAL.active or (isinstance(input, Tensor) and input.requires_grad
                                               and grad_mode.state.enabled)
    found, indices = _window_maxima(input, kernel, stride, cover, dilation, out, needed)
    return _max_pool_result(input, indices, found, batched, return_indices,
                            (kernel, stride, pads, dilation, bool(ceil_mode)))


@replayable  # reads the input's values: a captured step finds its maxima again each replay
def _window_maxima(input: Any, kernel: tuple, stride: tuple, cover: tuple, dilation: tuple,
                   out: tuple, needed: bool) -> tuple[Any, Any]:
    """The windows' maxima and (when ``needed``) their flat indices in the batched input."""
    raw = backend.array_of(input)
    # Compiled (1-d and 2-d floats): maxima and indices in one pass, else NumPy's passes.
    compiled = numba_pool.max_pool(raw, kernel, stride, cover, dilation, out)
    if compiled is not None:
        return compiled[0], compiled[1] if needed else None
    return _max_pool_argmax(raw, kernel, stride, cover, dilation, out, needed)


def _max_pool_result(input: Any, indices: Any, found: Any, batched: bool,
                     return_indices: bool, window: Any = None) -> Any:
    """The maxima ``found`` at ``indices`` (from the raw batched ``input``) recorded for the
    gradient, unbatched again if the input was, with the indices if asked for."""
    values = _max_pool(input, indices, found, window=window)
    if not batched:
        values = reshape(values, tuple(values.shape[1:]))
        indices = None if indices is None else indices[0]
    if return_indices:
        return values, Tensor._wrap(indices)  # a constant: it carries no gradient
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


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """3-d max pooling over (N, C, D, H, W) or (C, D, H, W); see ``max_pool2d`` (indices are
    flat into the D * H * W volume).

    >>> import backprop as bp
    >>> bp.max_pool3d(bp.arange(8.).reshape(1, 2, 2, 2), 2).tolist()
    [[[[7.0]]]]
    """
    return _max_poolnd("max_pool3d", 3, input, kernel_size, stride, padding, dilation,
                       ceil_mode, return_indices)


# -- average pooling ------------------------------------------------------------------------------

def _as_dtype(divisor: Any, dtype: np.dtype, like: Any) -> Any:
    """``divisor`` (a number, or a host array) of ``dtype``, on ``like``'s device."""
    if isinstance(divisor, np.ndarray):
        return backend.on_device_of(divisor.astype(dtype), like)
    return divisor


@primitive("avg_pool", promote=("input",), grads={
    "input": lambda g, out, input, kernel, stride, padding, divisor: _avg_pool_backward(
    g, input.shape, kernel, stride, padding, divisor),
})
def _avg_pool(input: Any, kernel: Sizes, stride: Sizes, padding: Pairs,
              divisor: Any) -> Any:
    """Window sums of the zero-padded input (one strided add per kernel offset) over
    ``divisor`` (a number or an array of the output's spatial shape)."""
    out = tuple(divisor.shape) if isinstance(divisor, np.ndarray) else None
    if out is None:
        out = tuple((n + lo + hi - k) // s + 1
                    for n, k, s, (lo, hi) in zip(input.shape[2:], kernel, stride, padding))
    if tuple(kernel) == input.shape[2:] and not any(lo or hi for lo, hi in padding):
        # One window, the whole input (global average pooling): one cascaded sum, instead of
        # an add per kernel offset, each rounding the running total.
        axes = tuple(range(2, input.ndim))
        # float32 by Numba's row sums (NumPy sums short rows one call each), else NumPy
        total = numba_reductions.sums(input, axes, True, numba_reductions.SUM)
        if total is None:
            total = backend.cascade_sum(input, axes, True)
        return total / _as_dtype(divisor, total.dtype, total)
    nd = len(kernel)
    if (tuple(stride) == tuple(kernel) and _prod(kernel) > 8 and input.flags.c_contiguous
            and not any(lo or hi for lo, hi in padding)
            and all(m * k == n for m, k, n in zip(out, kernel, input.shape[2:]))):
        # Long windows tiling the input (adaptive pooling to a divisor of the length): split
        # each spatial dim into (windows, kernel) and sum the kernel dims, instead of one add
        # per kernel offset.
        split = input.reshape(input.shape[:2] + tuple(v for mk in zip(out, kernel) for v in mk))
        total = split.sum(axis=tuple(range(3, 3 + 2 * nd, 2)))
        total /= _as_dtype(divisor, total.dtype, total)
        return total
    view = _pool_view(_padded(input, padding, 0), kernel, stride, (1,) * len(kernel), out)
    offsets = list(np.ndindex(*kernel))
    total = view[(slice(None), slice(None)) + offsets[0]].copy()
    for k in offsets[1:]:
        total += view[(slice(None), slice(None)) + k]
    total /= _as_dtype(divisor, total.dtype, total)
    return total


@primitive("avg_pool_backward", promote=("grad",), grads={
    "grad": lambda g, out, grad, shape, kernel, stride, padding, divisor: _avg_pool(
    g, kernel, stride, padding, divisor),
})
def _avg_pool_backward(grad: Any, shape: Sizes, kernel: Sizes,
                       stride: Sizes, padding: Pairs, divisor: Any) -> Any:
    """The adjoint of ``avg_pool``: each output's ``grad / divisor`` added over its window."""
    spread = grad / _as_dtype(divisor, grad.dtype, grad)
    sizes = shape[2:]
    if tuple(kernel) == tuple(sizes) and not any(lo or hi for lo, hi in padding):
        # One window, the whole input (global pooling): each element gets its plane's share.
        out = backend.empty(tuple(shape), spread.dtype, spread)
        out[...] = spread
        return out
    out = grad.shape[2:]
    if (tuple(stride) == tuple(kernel) and not any(lo or hi for lo, hi in padding)
            and all(m * k == n for m, k, n in zip(out, kernel, sizes))):
        # Windows tiling the input: each element gets its window's share, by broadcasting
        # over (windows, kernel) pairs instead of one strided add per kernel offset.
        pairs = tuple(v for mk in zip(out, kernel) for v in mk)
        buf = backend.empty(tuple(shape[:2]) + pairs, spread.dtype, spread)
        buf[...] = spread.reshape(tuple(shape[:2]) + tuple(v for m in out for v in (m, 1)))
        return buf.reshape(tuple(shape))
    padded = tuple(n + lo + max(hi, 0) for n, (lo, hi) in zip(sizes, padding))
    buf = backend.zeros(shape[:2] + padded, grad.dtype, grad)
    out = grad.shape[2:]
    view = backend.as_strided(buf, buf.shape[:2] + kernel + out,
                      buf.strides[:2] + buf.strides[2:]
                      + tuple(s * b for s, b in zip(stride, buf.strides[2:])))
    for k in np.ndindex(*kernel):
        target = view[(slice(None), slice(None)) + k]
        target += spread
    kept = tuple(slice(lo, lo + n) for n, (lo, _) in zip(sizes, padding))
    return backend.contiguous(buf[(slice(None), slice(None)) + kept])


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


def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """3-d average pooling over (N, C, D, H, W) or (C, D, H, W); see ``avg_pool2d``.

    >>> import backprop as bp
    >>> bp.avg_pool3d(bp.arange(8.).reshape(1, 2, 2, 2), 2).tolist()
    [[[[3.5]]]]
    """
    return _avg_poolnd("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                       count_include_pad, divisor_override)


def _adaptive_matrix(n: int, m: int, dtype: np.dtype) -> np.ndarray:
    """(m, n) averaging weights: output i averages inputs floor(i n / m) .. ceil((i + 1) n / m)."""
    matrix = np.zeros((m, n), dtype)
    for i in range(m):
        start, end = (i * n) // m, -(-((i + 1) * n) // m)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def _adaptive_size(op: str, nd: int, sizes: Sizes, output_size: Any) -> Sizes:
    """``output_size`` (an int, or ``nd`` entries whose None keeps that input size) checked."""
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != nd:
            raise ValueError(f"{op}: output_size must be an int or a tuple of {nd}, got "
                             f"{output_size}")
        wanted = tuple(n if m is None else int(m) for n, m in zip(sizes, output_size))
    else:
        wanted = (int(output_size),) * nd
    if any(m <= 0 for m in wanted):
        raise ValueError(f"{op}: output_size must be positive, got {output_size}")
    return wanted


def _adaptive_avg_poolnd(op: str, nd: int, input: Any, output_size: Any) -> Any:
    _batched(op, input, nd)
    sizes = tuple(input.shape[-nd:])
    wanted = _adaptive_size(op, nd, sizes, output_size)
    if all(m == 1 for m in wanted) and input.ndim == nd + 2:
        # Global average pooling (the usual head of a CNN): skip the general pool's arguments.
        return _avg_pool(input, sizes, sizes, ((0, 0),) * nd, float(_prod(sizes)))
    if all(n % m == 0 for n, m in zip(sizes, wanted)):  # equal windows: a plain average pool
        kernel = tuple(n // m for n, m in zip(sizes, wanted))
        return _avg_poolnd(op, nd, input, kernel, kernel, 0, False, True, None)
    # Uneven windows: the pool is separable, one averaging matrix per spatial dim.
    dtype = input.dtype if input.dtype.kind in "fV" else dtypes.get_default_dtype()
    result = input
    for axis, (n, m) in enumerate(zip(sizes, wanted)):
        matrix = backend.on_device_of(_adaptive_matrix(n, m, dtype), input)
        # Move this axis last, average it, move it back.
        moved = result if axis == nd - 1 else result.swapaxes(axis - nd, -1)
        moved = matmul(moved, matrix.T)
        result = moved if axis == nd - 1 else moved.swapaxes(axis - nd, -1)
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


def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling of (N, C, D, H, W) or (C, D, H, W) to ``output_size``; see
    ``adaptive_avg_pool2d``.

    >>> import backprop as bp
    >>> bp.adaptive_avg_pool3d(bp.ones(2, 3, 5, 4), (1, None, 2)).shape
    (2, 1, 5, 2)
    """
    return _adaptive_avg_poolnd("adaptive_avg_pool3d", 3, input, output_size)


# -- pixel shuffle --------------------------------------------------------------------------------

def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearrange (*, C * r * r, H, W) into (*, C, H * r, W * r) (sub-pixel convolution's
    upsampling; ``r = upscale_factor``).

    >>> import backprop as bp
    >>> bp.pixel_shuffle(bp.arange(4.).reshape(1, 4, 1, 1), 2).tolist()
    [[[[0.0, 1.0], [2.0, 3.0]]]]
    """
    r = _pixel_factor("pixel_shuffle", input, "upscale_factor", upscale_factor)
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
    r = _pixel_factor("pixel_unshuffle", input, "downscale_factor", downscale_factor)
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise ShapeError(f"pixel_unshuffle: height {h} and width {w} must be divisible by "
                         f"downscale_factor ({r}) (input shape {format_shape(input.shape)})")
    k = len(lead)
    x = reshape(input, (*lead, c, h // r, r, w // r, r))
    x = permute(x, (*range(k), k, k + 2, k + 4, k + 1, k + 3))
    return reshape(x, (*lead, c * r * r, h // r, w // r))


def _pixel_factor(op: str, input: Tensor, name: str, factor: int) -> int:
    """The checked factor ``r`` of a pixel (un)shuffle of ``input``."""
    r = int(factor)
    if input.ndim < 3:
        raise ShapeError(f"{op}: expected an input with at least 3 dims (*, C, H, W), got shape "
                         f"{format_shape(input.shape)}")
    if r <= 0:
        raise ValueError(f"{op}: {name} must be positive, got {r}")
    return r


__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "pixel_shuffle",
           "pixel_unshuffle"]
