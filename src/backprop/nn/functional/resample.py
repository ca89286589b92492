"""Resampling: ``interpolate`` (and the ``upsample*`` spellings), ``grid_sample`` and
``affine_grid``, with PyTorch's signatures and numbers.

``interpolate`` is separable: each spatial axis (the last first, as PyTorch nests its loops) is
resampled by gathering the input at a few index arrays along that axis and summing them times
per-output weights (the ``resample`` primitive): 1 tap for nearest, 2 for linear, 4 for cubic.
Indices and weights are computed once per axis with PyTorch's formulas, in the precision
PyTorch uses (float32 for nearest's indices, the input's float type for linear and cubic
weights), so float32 results round as PyTorch's do. The gradient (``resample_adjoint``, whose
own VJP is ``resample``) sums into the source positions: nearest's adds every copy of a pixel
back into it. ``area`` mode is adaptive average pooling, as in PyTorch.

``grid_sample`` is composed too: source coordinates from the grid (unnormalised, then clipped
or reflected with differentiable ops, so the grid's gradient carries PyTorch's clip and
reflection factors), then a weighted sum of the input gathered at the 2^d corners (bilinear),
the nearest point, or the 4x4 neighbourhood (bicubic).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ... import backend
from ...errors import ShapeError, format_shape
from ...ops import elementwise as ew
from ...ops import pooling as _pooling
from ...ops.conv import _row_major
from ...ops.linalg import matmul
from ...ops.primitive import primitive
from ...ops.scatter import gather
from ...ops.shape import reshape
from ...tensor import Tensor

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "grid_sample",
           "affine_grid"]

_LINEAR_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_CUBIC_A = -0.75  # PyTorch's (and OpenCV's) cubic convolution constant


# -- per-axis index and weight tables -------------------------------------------------------------

def _scale(n: int, m: int, align_corners: bool, scale: float | None, dtype: Any) -> Any:
    """PyTorch's source step per output step along one axis, in ``dtype``."""
    if align_corners:
        return dtype(n - 1) / dtype(m - 1) if m > 1 else dtype(0)
    if scale is not None and scale > 0:
        return dtype(1.0 / scale)
    return dtype(n) / dtype(m)


def _nearest_table(n: int, m: int, scale: float | None, exact: bool) -> np.ndarray:
    """Source index of each output (PyTorch computes these in float32 whatever the dtype)."""
    out = np.arange(m)
    if not exact and m == n:
        return out
    if not exact and m == 2 * n:
        return out >> 1
    step = _scale(n, m, False, scale, np.float32)
    if exact:
        position = np.float32((out + 0.5) * np.float64(step))
    else:
        position = out.astype(np.float32) * step
    return np.minimum(np.floor(position).astype(np.int64), n - 1)


def _cubic_weights(t: Any) -> list[Any]:
    """The cubic convolution weights of the 4 taps at offsets -1, 0, 1, 2 from ``floor``, for
    fractions ``t`` (an array or a Tensor; the constants are exact in float32, so float32 ``t``
    rounds as PyTorch's float32 arithmetic does)."""
    a = _CUBIC_A

    def near(x: Any) -> Any:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: Any) -> Any:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(1 - t + 1)]


def _interp_table(mode: str, n: int, m: int, align_corners: bool, scale: float | None,
                  dtype: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """(source indices, weights) per tap for one axis of a linear or cubic resampling."""
    step = _scale(n, m, align_corners, scale, dtype)
    out = np.arange(m).astype(dtype)
    half = dtype(0.5)
    source = out * step if align_corners else step * (out + half) - half
    if mode == "bicubic":
        first = np.floor(source)
        taps = _cubic_weights((source - first).astype(dtype))
        base = first.astype(np.int64)
        return [(np.clip(base - 1 + j, 0, n - 1), w) for j, w in enumerate(taps)]
    source = np.maximum(source, dtype(0))
    low = np.minimum(np.floor(source).astype(np.int64), n - 1)
    lam = np.clip(source - low.astype(dtype), 0, 1).astype(dtype)
    return [(low, (dtype(1) - lam).astype(dtype)), (np.minimum(low + 1, n - 1), lam)]


def _on_axis(array: Any, axis: int, ndim: int) -> Any:
    """A 1-d per-position ``array`` shaped to broadcast along ``axis`` of an ``ndim``-d array."""
    return array.reshape((-1,) + (1,) * (ndim - 1 - axis))


# Taps: ((index, weight or None), ...), indices non-decreasing along the output (every table
# above is), which lets the adjoint sum each source position's outputs as one contiguous run.
@primitive("resample", grads={
    "input": lambda g, out, input, axis, taps: _resample_adjoint(g, axis, taps,
                                                                 input.shape[axis]),
})
def _resample(input: Any, axis: int, taps: tuple) -> Any:
    """``sum_j weight_j * input[..., index_j, ...]`` along ``axis``."""
    result = None
    for index, weight in taps:
        picked = np.take(input, backend.on_device_of(index, input), axis=axis)
        if weight is not None:
            picked *= _on_axis(backend.on_device_of(weight.astype(input.dtype), input), axis,
                               input.ndim)
        if result is None:
            result = picked
        else:
            result += picked
    return result


@primitive("resample_adjoint", grads={
    "grad": lambda g, out, grad, axis, taps, size: _resample(g, axis, taps),
})
def _resample_adjoint(grad: Any, axis: int, taps: tuple, size: int) -> Any:
    """The adjoint of ``resample``: each output's ``grad * weight`` added into its source
    position (one ``add.reduceat`` per tap over the runs of equal indices, no ``add.at``)."""
    shape = list(grad.shape)
    shape[axis] = size
    result = backend.zeros(tuple(shape), grad.dtype, grad)
    for index, weight in taps:
        part = grad
        if weight is not None:
            part = grad * _on_axis(backend.on_device_of(weight.astype(grad.dtype), grad), axis,
                                   grad.ndim)
        sources, starts = np.unique(index, return_index=True)
        sums = np.add.reduceat(part, backend.on_device_of(starts, grad), axis=axis)
        at = (slice(None),) * axis + (backend.on_device_of(sources, grad),)
        result[at] += sums
    return result


# -- interpolate ----------------------------------------------------------------------------------

def _per_dim(op: str, name: str, value: Any, nd: int, cast: type) -> tuple:
    if isinstance(value, (tuple, list)):
        if len(value) != nd:
            raise ValueError(f"{op}: {name} must have {nd} entries for a {nd + 2}-d input (one "
                             f"per spatial dim), got {tuple(value)}")
        return tuple(cast(v) for v in value)
    return (cast(value),) * nd


def _output_sizes(op: str, input: Tensor, nd: int, size: Any, scale_factor: Any,
                  recompute_scale_factor: bool | None) -> tuple[tuple, tuple]:
    """The output's spatial sizes, and the scales the kernels use (None: from the sizes)."""
    if size is not None and scale_factor is not None:
        raise ValueError(f"{op}: size and scale_factor cannot both be given")
    if size is None and scale_factor is None:
        raise ValueError(f"{op}: either size or scale_factor must be given")
    sizes = tuple(input.shape[2:])
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(f"{op}: recompute_scale_factor is not meaningful with an explicit "
                             f"size")
        out = _per_dim(op, "size", size, nd, int)
        scales: tuple = (None,) * nd
    else:
        scales = _per_dim(op, "scale_factor", scale_factor, nd, float)
        out = tuple(math.floor(n * s) for n, s in zip(sizes, scales))
        if recompute_scale_factor:
            scales = (None,) * nd
    if any(m <= 0 for m in out):
        raise ValueError(f"{op}: the output size {out} must be positive (input shape "
                         f"{format_shape(input.shape)}, size={size}, "
                         f"scale_factor={scale_factor})")
    return out, scales


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resample (N, C, *spatial) to ``size`` or by ``scale_factor`` with ``mode`` one of
    nearest, nearest-exact, linear (3-d input), bilinear or bicubic (4-d), trilinear (5-d) or
    area. ``align_corners`` (interpolating modes only) maps the corner pixels' centres onto
    each other; otherwise pixels are areas and a given ``scale_factor`` sets the source step
    (unless ``recompute_scale_factor``).

    >>> import backprop as bp
    >>> F = bp.nn.functional
    >>> F.interpolate(bp.tensor([[[1., 2.]]]), scale_factor=2).tolist()
    [[[1.0, 1.0, 2.0, 2.0]]]
    >>> F.interpolate(bp.tensor([[[1., 2.]]]), size=4, mode="linear").tolist()
    [[[1.0, 1.25, 1.75, 2.0]]]
    """
    op = "interpolate"
    if mode not in _MODES:
        raise ValueError(f"{op}: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    nd = input.ndim - 2
    if nd not in (1, 2, 3):
        raise ShapeError(f"{op}: expected a 3-d, 4-d or 5-d input (N, C, *spatial), got shape "
                         f"{format_shape(input.shape)}")
    if mode in _LINEAR_DIMS:
        if _LINEAR_DIMS[mode] != nd:
            raise NotImplementedError(f"{op}: got a {input.ndim}-d input, but mode {mode!r} "
                                      f"needs a {_LINEAR_DIMS[mode] + 2}-d input")
    elif align_corners is not None:
        raise ValueError(f"{op}: align_corners can only be set with the interpolating modes "
                         f"linear, bilinear, bicubic and trilinear, not mode={mode!r}")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported; resample without "
                                  "it (or low-pass filter first, e.g. with avg_pool)")
    out, scales = _output_sizes(op, input, nd, size, scale_factor, recompute_scale_factor)
    if mode == "area":
        return getattr(_pooling, f"adaptive_avg_pool{nd}d")(input, out)
    sizes = tuple(input.shape[2:])
    if input.dtype.kind not in "fV":
        raise TypeError(f"{op}: expected a floating-point input, got {input.dtype}")
    dtype = np.dtype(input.dtype).type
    result = input
    for axis in reversed(range(nd)):
        n, m, scale = sizes[axis], out[axis], scales[axis]
        taps: list[tuple[np.ndarray, np.ndarray | None]]
        if mode.startswith("nearest"):
            taps = [(_nearest_table(n, m, scale, mode == "nearest-exact"), None)]
        else:
            taps = list(_interp_table(mode, n, m, bool(align_corners), scale, dtype))
        result = _resample(result, axis + 2, tuple(taps))
    return result


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """The older name of ``interpolate``.

    >>> import backprop as bp
    >>> bp.nn.functional.upsample(bp.ones(1, 1, 2), scale_factor=2).shape
    (1, 1, 4)
    """
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """``interpolate(input, size, scale_factor, mode='nearest')``.

    >>> import backprop as bp
    >>> bp.nn.functional.upsample_nearest(bp.ones(1, 1, 2, 2), 3).shape
    (1, 1, 3, 3)
    """
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """``interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)``.

    >>> import backprop as bp
    >>> bp.nn.functional.upsample_bilinear(bp.tensor([[[[0., 1.]]]]), (1, 3)).tolist()
    [[[[0.0, 0.5, 1.0]]]]
    """
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# -- grid_sample ----------------------------------------------------------------------------------

def _reflect(x: Any, low: float, high: float) -> Any:
    """``x`` reflected into [low, high] off both ends as often as needed (PyTorch's
    reflect_coordinates, on doubled bounds so that half-pixel bounds stay exact)."""
    if low == high:
        return x * 0
    span = (high - low) / 2
    shifted = ew.abs(x - low / 2)
    flips = ew.floor(shifted / span)
    extra = ew.remainder(shifted, span)
    even = backend.array_of(flips) % 2 == 0
    return ew.where(even, extra + low / 2, span - extra + low / 2)


def _unnormalize(coord: Any, n: int, align_corners: bool) -> Any:
    """Grid coordinates in [-1, 1] as positions along an axis of size ``n``: -1 and 1 are the
    corner pixels' centres (``align_corners``) or their outer edges."""
    return (coord + 1) / 2 * (n - 1) if align_corners else ((coord + 1) * n - 1) / 2


def _source(coord: Any, n: int, padding_mode: str, align_corners: bool) -> Any:
    """Grid coordinates as source positions, clipped or reflected by ``padding_mode``."""
    return _pad_coordinates(_unnormalize(coord, n, align_corners), n, padding_mode,
                            align_corners)


def _pad_coordinates(x: Any, n: int, padding_mode: str, align_corners: bool) -> Any:
    if padding_mode == "border":
        return ew.clamp(x, 0, n - 1)
    if padding_mode == "reflection":
        x = _reflect(x, 0, 2 * (n - 1)) if align_corners else _reflect(x, -1, 2 * n - 1)
        return ew.clamp(x, 0, n - 1)
    return x


def _gather_points(flat: Any, indices: list[Any], sizes: tuple, inside: Any,
                   out_shape: tuple) -> Any:
    """``flat`` (N, C, prod(sizes)) at integer points ``indices`` (one (N, *out) array per
    spatial dim, first dim first, on the input's device), zero where ``inside`` is False:
    (N, C, *out)."""
    n, c = flat.shape[:2]
    position: Any = 0
    for index, size, stride in zip(indices, sizes, _row_major(sizes)):
        position = position + np.clip(index, 0, size - 1) * stride
    position = np.where(inside, position, 0).reshape(n, 1, -1)
    xp = backend.xp_of(position)
    picked = gather(flat, 2, xp.broadcast_to(position, (n, c, position.shape[2])))
    return reshape(picked, (n, c) + out_shape)


def _mask(inside: Any, like: Any) -> Any:
    return inside[:, None].astype(like.dtype)


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` (N, C, H, W) at ``grid`` (N, H_out, W_out, 2) points given as (x, y)
    in [-1, 1] (5-d: (N, C, D, H, W) and (x, y, z) points, bilinear and nearest modes).
    ``mode`` bilinear, nearest or bicubic; ``padding_mode`` zeros, border or reflection for
    points outside. Differentiable in ``input`` and (but for nearest) ``grid``.

    >>> import backprop as bp
    >>> x = bp.arange(4.).reshape(1, 1, 2, 2)
    >>> grid = bp.tensor([[[[0., 0.], [-1., -1.]]]])
    >>> bp.nn.functional.grid_sample(x, grid, align_corners=True).tolist()
    [[[[1.5, 0.0]]]]
    """
    op = "grid_sample"
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"{op}: mode must be 'bilinear', 'nearest' or 'bicubic', got {mode!r}")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"{op}: padding_mode must be 'zeros', 'border' or 'reflection', got "
                         f"{padding_mode!r}")
    if input.ndim not in (4, 5) or grid.ndim != input.ndim or grid.shape[-1] != input.ndim - 2:
        raise ShapeError(f"{op}: expected input (N, C, H, W) with grid (N, H_out, W_out, 2), or "
                         f"input (N, C, D, H, W) with grid (N, D_out, H_out, W_out, 3), got "
                         f"input {format_shape(input.shape)} and grid {format_shape(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise ShapeError(f"{op}: input and grid must have the same batch size, got input "
                         f"{format_shape(input.shape)} and grid {format_shape(grid.shape)}")
    if mode == "bicubic" and input.ndim == 5:
        raise ValueError(f"{op}: mode='bicubic' supports 4-d inputs only, got a 5-d input")
    align = bool(align_corners)
    nd = input.ndim - 2
    sizes = tuple(input.shape[2:])
    n, c = input.shape[:2]
    out_shape = tuple(grid.shape[1:-1])
    flat = reshape(input, (n, c, -1))
    # The grid's last dim lists x (the last spatial dim) first.
    coords = [grid[..., nd - 1 - d] for d in range(nd)]
    if mode == "bicubic":
        return _bicubic(flat, coords, sizes, out_shape, padding_mode, align)
    points = [_source(x, size, padding_mode, align) for x, size in zip(coords, sizes)]
    raw = [backend.array_of(p) for p in points]
    if mode == "nearest":
        index = [np.rint(r).astype(np.int64) for r in raw]  # half to even, as nearbyint
        inside = _inside(index, sizes)
        return _gather_points(flat, index, sizes, inside, out_shape) * _mask(inside, flat)
    low = [np.floor(r).astype(np.int64) for r in raw]
    result: Any = None
    for corner in np.ndindex(*(2,) * nd):
        index = [lo + k for lo, k in zip(low, corner)]
        weight = None
        for p, lo, k in zip(points, low, corner):
            # The far corner weighs (p - floor), the near one (floor + 1 - p).
            factor = (p - lo.astype(raw[0].dtype)) if k else (lo.astype(raw[0].dtype) + 1 - p)
            weight = factor if weight is None else weight * factor
        inside = _inside(index, sizes)
        value = _gather_points(flat, index, sizes, inside, out_shape)
        term = value * (reshape(weight, (n, 1) + out_shape) * _mask(inside, flat))
        result = term if result is None else result + term
    return result


def _inside(index: list[Any], sizes: tuple) -> Any:
    inside = True
    for i, size in zip(index, sizes):
        inside = inside & (i >= 0) & (i < size)
    return inside


def _bicubic(flat: Any, coords: list, sizes: tuple, out_shape: tuple, padding_mode: str,
             align: bool) -> Any:
    """The 4x4 neighbourhood of each (unpadded) source point, each tap's position clipped or
    reflected on its own, as PyTorch's bicubic grid sampler does."""
    n, c = flat.shape[:2]
    points = [_unnormalize(x, size, align) for x, size in zip(coords, sizes)]
    raw = [backend.array_of(p) for p in points]
    low = [np.floor(r) for r in raw]
    weights = []
    for p, lo in zip(points, low):
        weights.append(_cubic_weights(p - lo.astype(raw[0].dtype)))
    result: Any = None
    for j, i in np.ndindex(4, 4):  # j along y (dim 0), i along x (dim 1)
        index = []
        for lo, k, size in zip(low, (j, i), sizes):
            tap = lo - 1 + k
            if padding_mode != "zeros":
                tap = backend.array_of(_pad_coordinates(tap, size, padding_mode, align))
            index.append(tap.astype(np.int64))
        inside = _inside(index, sizes)
        value = _gather_points(flat, index, sizes, inside, out_shape)
        weight = reshape(weights[0][j] * weights[1][i], (n, 1) + out_shape)
        term = value * (weight * _mask(inside, flat))
        result = term if result is None else result + term
    return result


# -- affine_grid ----------------------------------------------------------------------------------

def _base_coordinates(steps: int, align_corners: bool) -> np.ndarray:
    """``steps`` normalised pixel-centre positions in [-1, 1] (0 for a single step)."""
    if steps <= 1:
        return np.zeros(max(steps, 0))
    values = np.linspace(-1.0, 1.0, steps)
    return values if align_corners else values * (steps - 1) / steps


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None) -> Tensor:
    """The sampling grid of the affine maps ``theta`` (N, 2, 3) for an output of ``size``
    (N, C, H, W), as (N, H, W, 2) points (x, y) for ``grid_sample``; 3-d: theta (N, 3, 4) and
    size (N, C, D, H, W) give (N, D, H, W, 3).

    >>> import backprop as bp
    >>> identity = bp.tensor([[[1., 0., 0.], [0., 1., 0.]]])
    >>> bp.nn.functional.affine_grid(identity, (1, 1, 1, 2), align_corners=True).tolist()
    [[[[-1.0, 0.0], [1.0, 0.0]]]]
    """
    op = "affine_grid"
    size = tuple(int(s) for s in size)
    if len(size) not in (4, 5):
        raise ValueError(f"{op}: size must be (N, C, H, W) or (N, C, D, H, W), got {size}")
    nd = len(size) - 2
    if theta.ndim != 3 or tuple(theta.shape) != (size[0], nd, nd + 1):
        raise ShapeError(f"{op}: expected theta of shape {format_shape((size[0], nd, nd + 1))} "
                         f"for size {size}, got {format_shape(theta.shape)}")
    if any(s <= 0 for s in size):
        raise ValueError(f"{op}: size must be positive, got {size}")
    spatial = size[2:]
    # (prod(spatial), nd + 1) rows [x, y, (z,) 1], x varying fastest.
    axes = [_base_coordinates(s, bool(align_corners)) for s in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack([m.ravel() for m in reversed(mesh)] + [np.ones(mesh[0].size)], axis=1)
    base = backend.on_device_of(base.astype(theta.dtype), backend.array_of(theta))
    grid = matmul(base, theta.transpose(1, 2))  # (N, prod(spatial), nd)
    return reshape(grid, (size[0],) + spatial + (nd,))
