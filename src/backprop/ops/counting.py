"""Searching and counting (issue 17): unique and unique_consecutive, searchsorted and bucketize,
isin, bincount, histc, histogram and histogramdd, nonzero_static, argwhere, unravel_index.

None of these has a gradient (their results are positions, counts or a selection of values by
equality), so each is a non-differentiable primitive on arrays. The public functions are
exported by ``indexing_more``.
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend
from ..errors import DTypeError, ShapeError, check_dim, format_shape
from ..tensor import Tensor
from .primitive import primitive
from .scatter import nonzero

_I64 = np.dtype(np.int64)
# PyTorch's named results: ``torch.histogram(x).hist``, ``.bin_edges``
histogram_result = namedtuple("histogram", ["hist", "bin_edges"])
histogramdd_result = namedtuple("histogramdd", ["hist", "bin_edges"])


def _data(value: Any) -> Any:
    return value._data if isinstance(value, Tensor) else np.asarray(value)


def _data_beside(value: Any, like: Any) -> Any:
    """``value``'s array on ``like``'s device where it was given as a host array or a list (a
    constant of the call: a sorter, weights, edges); a tensor stays where it is."""
    data = _data(value)
    return backend.on_device_of(data, like) if type(data) is np.ndarray else data


# -- positions ------------------------------------------------------------------------------------

def argwhere(input: Tensor) -> Tensor:
    """The positions of the non-zero elements, one row each: ``nonzero(input)``.

    >>> import backprop as bp
    >>> bp.argwhere(bp.tensor([0., 3., 4.])).tolist()
    [[1], [2]]
    """
    return nonzero(input)


@primitive("nonzero_static", differentiable=False)
def _nonzero_static(input: Any, size: int, fill_value: int) -> Any:
    positions = np.argwhere(input)
    out = np.full_like(positions, fill_value, dtype=np.int64,  # on the input's device
                       shape=(size, positions.shape[1]))
    n = min(size, positions.shape[0])
    out[:n] = positions[:n]
    return out


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """``nonzero(input)`` with exactly ``size`` rows: cut short, or padded with
    ``fill_value``.

    >>> import backprop as bp
    >>> bp.nonzero_static(bp.tensor([0., 2., 3.]), size=3).tolist()
    [[1], [2], [-1]]
    """
    if size < 0:
        raise ValueError(f"nonzero_static: size must be non-negative, got {size}")
    return _nonzero_static(input, int(size), int(fill_value))


def unravel_index(indices: Any, shape: int | Sequence[int]) -> tuple[Tensor, ...]:
    """The coordinates in a tensor of ``shape`` of the flat positions ``indices``, one tensor
    per dim (negative positions count from the end).

    >>> import backprop as bp
    >>> [t.tolist() for t in bp.unravel_index(bp.tensor([5, 7]), (2, 4))]
    [[1, 1], [1, 3]]
    """
    array = _data(indices)
    if array.dtype.kind not in "iu":
        raise DTypeError(f"unravel_index: indices must be an integer tensor, got {array.dtype}")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"unravel_index: shape {shape} has a negative size")
    total = 1
    for s in shape:
        total *= s
    if array.size:
        low, high = int(array.min()), int(array.max())
        if low < -total or high >= total:
            raise IndexError(f"unravel_index: index {low if low < -total else high} is out of "
                             f"range for shape {shape} of {total} elements")
    rest = array.astype(np.int64)
    if total <= np.iinfo(np.int64).max:
        rest = np.where(rest < 0, rest + np.int64(total), rest)
    coords = []
    for s in reversed(shape):
        coords.append(rest % s if s > 0 else rest)
        rest = rest // s if s > 0 else rest
    return tuple(Tensor._wrap(c) for c in reversed(coords))


# -- unique ---------------------------------------------------------------------------------------

def _rows(input: Any, dim: int | None) -> tuple[Any, tuple[int, ...]]:
    """``input`` as rows to compare: its elements (dim None) or its slices along ``dim``."""
    if dim is None:
        return input.reshape(-1, 1), ()
    moved = np.moveaxis(input, dim, 0)
    return moved.reshape(moved.shape[0], -1), moved.shape[1:]


def _unrows(rows: Any, rest: tuple[int, ...], dim: int | None) -> Any:
    if dim is None:
        return rows.reshape(-1)
    return np.moveaxis(rows.reshape((rows.shape[0],) + rest), 0, dim)


@primitive("unique", differentiable=False, outputs=("values", "inverse", "counts"))
def _unique(input: Any, dim: int | None, consecutive: bool, want_inverse: bool,
            want_counts: bool) -> tuple:
    if dim is not None and input.shape[dim] == 0:
        empty = backend.zeros((0,), np.int64, input)
        return input.copy(), empty, empty.copy()
    rows, rest = _rows(input, dim)
    n = rows.shape[0]
    if consecutive:
        order = None
        ordered = rows
    else:
        # Stable: the first of equal values (-0.0 before 0.0, as they come) stands for them
        order = (np.argsort(rows[:, 0], kind="stable") if rows.shape[1] == 1
                 else np.lexsort(rows.T[::-1]) if rows.shape[1] else backend.arange(n, input))
        # (one column: index the 1-D array; NumPy's 2-D fancy index is ~10x slower)
        ordered = rows[:, 0][order][:, None] if rows.shape[1] == 1 else rows[order]
    starts = backend.ones((n,), bool, input)
    if n > 1 and rows.shape[1] == 1:
        # NaN differs from NaN: each one is its own value, as in PyTorch
        np.not_equal(ordered[1:, 0], ordered[:-1, 0], out=starts[1:])
    elif n > 1:
        starts[1:] = (ordered[1:] != ordered[:-1]).any(axis=1) if rows.shape[1] else False
    picked = ordered[:, 0][starts][:, None] if rows.shape[1] == 1 else ordered[starts]
    values = _unrows(picked, rest, dim)
    inverse = counts = None
    if want_inverse:
        group = np.cumsum(starts) - 1
        if order is None:
            inverse = group
        else:
            inverse = backend.empty((n,), np.int64, input)
            inverse[order] = group
        inverse = inverse.reshape(input.shape) if dim is None else inverse
    if want_counts:
        counts = np.diff(np.flatnonzero(starts), append=n).astype(np.int64)
    return values, inverse, counts


def _unique_result(out: tuple, return_inverse: bool, return_counts: bool) -> Any:
    values, inverse, counts = out
    if return_inverse and return_counts:
        return values, inverse, counts
    if return_inverse:
        return values, inverse
    if return_counts:
        return values, counts
    return values


def _unique_dim(op: str, input: Tensor, dim: int | None) -> int | None:
    if dim is None:
        return None
    if input.ndim == 0:
        raise ValueError(f"{op}: dim={dim} needs a tensor of at least one dimension")
    dim = check_dim(op, dim, input.ndim)
    if input.shape[dim] and 0 in input.shape:
        raise ValueError(f"{op}: the tensor of shape {format_shape(input.shape)} has a 0-sized "
                         f"dim other than dim {dim}, so its slices cannot be compared")
    return dim


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct values of ``input`` in ascending order (or its distinct slices along
    ``dim``); with ``return_inverse`` also where each element went, with ``return_counts``
    also how often each occurs. Unsorted results are sorted too, as PyTorch's on the CPU.

    >>> import backprop as bp
    >>> values, counts = bp.unique(bp.tensor([3, 1, 3, 2]), return_counts=True)
    >>> values.tolist(), counts.tolist()
    ([1, 2, 3], [1, 1, 2])
    """
    dim = _unique_dim("unique", input, dim)
    return _unique_result(_unique(input, dim, False, bool(return_inverse),
                                  bool(return_counts)), return_inverse, return_counts)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Any:
    """``input`` with each run of equal consecutive values (or slices along ``dim``) kept once;
    ``return_inverse`` and ``return_counts`` as in ``unique``.

    >>> import backprop as bp
    >>> bp.unique_consecutive(bp.tensor([1, 1, 2, 1])).tolist()
    [1, 2, 1]
    """
    dim = _unique_dim("unique_consecutive", input, dim)
    return _unique_result(_unique(input, dim, True, bool(return_inverse),
                                  bool(return_counts)), return_inverse, return_counts)


# -- searching ------------------------------------------------------------------------------------

@primitive("searchsorted", differentiable=False)
def _searchsorted(sorted_sequence: Any, input: Any, side: str, out_dtype: Any) -> Any:
    if sorted_sequence.ndim == 1:
        out = np.searchsorted(sorted_sequence, input, side=side)
    else:
        n_rows = math.prod(input.shape[:-1])  # (not -1: a row may be empty)
        rows = sorted_sequence.reshape(n_rows, sorted_sequence.shape[-1])
        values = input.reshape(n_rows, input.shape[-1])
        if n_rows <= 256:
            out = backend.empty(values.shape, np.int64, values)
            for i in range(rows.shape[0]):
                out[i] = np.searchsorted(rows[i], values[i], side=side)
        else:  # many short rows: one binary search over all of them at once
            out = _search_rows(rows, values, side)
        out = out.reshape(input.shape)
    return backend.as_array(out).astype(out_dtype, copy=False)


def _before(a: Any, b: Any) -> Any:
    """``a < b`` in NumPy's sort order, NaN after everything (as np.searchsorted orders)."""
    if a.dtype.kind not in "fcV":
        return a < b
    return (a < b) | (np.isnan(b) & ~np.isnan(a))


def _search_rows(rows: Any, values: Any, side: str) -> Any:
    """np.searchsorted of each row of ``values`` in the same row of ``rows``, vectorised: all
    the binary searches advance together, log2(n) steps."""
    n = rows.shape[1]
    low = backend.zeros(values.shape, np.int64, values)
    high = low + n
    if n == 0:
        return low
    for _ in range(int(n).bit_length()):
        middle = (low + high) // 2
        at = np.take_along_axis(rows, np.minimum(middle, n - 1), axis=1)
        after = _before(at, values) if side == "left" else ~_before(values, at)
        searching = low < high
        low = np.where(searching & after, middle + 1, low)
        high = np.where(searching & ~after, middle, high)
    return low


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter: Any = None) -> Tensor:
    """For each value of ``input``, the position in ``sorted_sequence`` (sorted along its last
    dim) where inserting it keeps the order: before equal values, or after them with
    ``right=True`` (``side='right'``). A sequence of several dims searches row by row, its
    leading dims matching ``input``'s. ``sorter`` gives the positions that sort an unsorted
    sequence.

    >>> import backprop as bp
    >>> bp.searchsorted(bp.tensor([1., 3., 5.]), bp.tensor([3., 6.])).tolist()
    [1, 3]
    >>> bp.searchsorted(bp.tensor([1., 3., 5.]), bp.tensor([3.]), right=True).tolist()
    [2]
    """
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise ValueError("searchsorted: side='left' and right=True disagree; give one")
        right = side == "right"
    sequence = _data(sorted_sequence)
    if sequence.ndim == 0:
        raise ShapeError("searchsorted: sorted_sequence must have at least one dimension, got "
                         "a 0-d tensor")
    scalar = not isinstance(input, (Tensor, np.ndarray))
    values = (backend.on_device_of(np.asarray(input, dtype=sequence.dtype), sequence) if scalar
              else _data(input))
    if sequence.ndim > 1 and (values.ndim != sequence.ndim
                              or values.shape[:-1] != sequence.shape[:-1]):
        raise ShapeError(f"searchsorted: the leading dims of sorted_sequence "
                         f"{format_shape(sequence.shape)} and input "
                         f"{format_shape(values.shape)} must match (or give a 1-D sequence)")
    if sorter is not None:
        order = _data_beside(sorter, sequence)
        if order.dtype.kind not in "iu":
            raise DTypeError(f"searchsorted: sorter must be an integer tensor, got {order.dtype}")
        if order.shape != sequence.shape:
            raise ShapeError(f"searchsorted: sorter must have sorted_sequence's shape "
                             f"{format_shape(sequence.shape)}, got {format_shape(order.shape)}")
        sequence = np.take_along_axis(sequence, order, axis=-1)
    if sequence.dtype != values.dtype:  # compared in their common dtype, as PyTorch does
        common = np.result_type(sequence.dtype, values.dtype)
        sequence, values = sequence.astype(common), values.astype(common)
    out_dtype = np.dtype(np.int32 if out_int32 else np.int64)
    return _searchsorted(Tensor._wrap(sequence), Tensor._wrap(values),
                         "right" if right else "left", out_dtype)


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False,
              right: bool = False) -> Tensor:
    """The bucket of each value of ``input`` between the sorted 1-D ``boundaries``: ``i`` with
    ``boundaries[i-1] < x <= boundaries[i]`` (``<=`` and ``<`` with ``right=True``).

    >>> import backprop as bp
    >>> bp.bucketize(bp.tensor([1., 4., 9.]), bp.tensor([1., 5.])).tolist()
    [0, 1, 2]
    """
    if _data(boundaries).ndim != 1:
        raise ShapeError(f"bucketize: boundaries must be 1-D, got shape "
                         f"{format_shape(_data(boundaries).shape)}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


@primitive("isin", differentiable=False)
def _isin(elements: Any, test_elements: Any, invert: bool) -> Any:
    return np.isin(elements, test_elements, invert=invert)


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """Whether each element of ``elements`` is among ``test_elements`` (either may be a
    number); ``invert=True`` asks whether it is not.

    >>> import backprop as bp
    >>> bp.isin(bp.tensor([1, 2, 3]), bp.tensor([3, 1])).tolist()
    [True, False, True]
    """
    if not isinstance(elements, (Tensor, np.ndarray)):
        elements = Tensor._wrap(np.asarray(elements))
    return _isin(elements, _data(test_elements), bool(invert))


# -- counting -------------------------------------------------------------------------------------

@primitive("bincount", differentiable=False)
def _bincount(input: Any, weights: Any, minlength: int, out_dtype: Any) -> Any:
    out = np.bincount(input, weights, minlength=minlength)
    return out.astype(out_dtype, copy=False)


def bincount(input: Tensor, weights: Any = None, minlength: int = 0) -> Tensor:
    """How often each value ``0, 1, ..`` occurs in the non-negative integer 1-D ``input`` (at
    least ``minlength`` counts); with ``weights``, the sum of their weights instead.

    >>> import backprop as bp
    >>> bp.bincount(bp.tensor([0, 2, 2])).tolist()
    [1, 0, 2]
    """
    array = _data(input)
    if array.dtype.kind not in "iub" or array.ndim != 1:
        raise DTypeError(f"bincount: input must be a 1-D integer tensor, got {array.dtype} of "
                         f"shape {format_shape(array.shape)}")
    if minlength < 0:
        raise ValueError(f"bincount: minlength must be non-negative, got {minlength}")
    if array.size and array.min() < 0:
        raise ValueError(f"bincount: input must be non-negative, got {int(array.min())}")
    if weights is None:
        return _bincount(input, None, int(minlength), _I64)
    w = _data(weights)
    if w.shape != array.shape:
        raise ShapeError(f"bincount: weights must have input's shape "
                         f"{format_shape(array.shape)}, got {format_shape(w.shape)}")
    # float weights keep their dtype; others count in float64, as PyTorch's
    out_dtype = w.dtype if w.dtype.kind in "fV" else np.dtype(np.float64)
    return _bincount(input, w.astype(np.float64), int(minlength), out_dtype)


def _bins_of(values: np.ndarray, edges: np.ndarray, uniform: bool) -> np.ndarray:
    """The bin of each value (all inside the edges) between ``edges``, the last bin closed.
    Equal bins (``uniform``) are found by interpolation, then moved by one where the value lies
    beside the edge it landed on (the interpolation's rounding), as PyTorch's local search;
    others by binary search."""
    nbins = edges.size - 1
    if uniform and nbins > 1:
        low, high = edges[0], edges[-1]
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            guess = (values - low) * (nbins / (high - low))
        pos = np.clip(guess, 0, nbins - 1).astype(np.int64)
        pos -= values < edges[pos]
        pos += (values >= edges[pos + 1]) & (pos < nbins - 1)
        return pos
    pos = np.searchsorted(edges, values, side="right") - 1
    return np.minimum(pos, nbins - 1)  # the last edge belongs to the last bin


@primitive("histc", differentiable=False)
def _histc(input: Any, bins: int, low: float, high: float) -> Any:
    dtype = input.dtype
    values = input.reshape(-1)
    lo, hi = dtype.type(low), dtype.type(high)
    inside = values[(values >= lo) & (values <= hi)]
    # PyTorch's histc places by linear interpolation in the input's dtype, without a search
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        pos = ((inside - lo) * dtype.type(bins) / (hi - lo)).astype(np.int64)
    pos[pos == bins] = bins - 1
    return np.bincount(pos, minlength=bins).astype(dtype)


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """A histogram of ``input`` in ``bins`` equal bins from ``min`` to ``max`` (both 0: the
    data's own range); values outside are left out.

    >>> import backprop as bp
    >>> bp.histc(bp.tensor([1., 2., 1.]), bins=4, min=0, max=3).tolist()
    [0.0, 2.0, 1.0, 0.0]
    """
    data = _data(input)
    if data.dtype.kind not in "fV":
        raise DTypeError(f"histc: input must be a floating-point tensor, got {data.dtype}")
    if bins <= 0:
        raise ValueError(f"histc: bins must be positive, got {bins}")
    if min > max:
        raise ValueError(f"histc: max ({max}) must be at least min ({min})")
    low, high = float(min), float(max)
    if low == high and data.size:
        low, high = float(data.min()), float(data.max())
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"histc: range of [{low}, {high}] is not finite")
    if low == high:
        low, high = low - 1, high + 1
    return _histc(input, int(bins), low, high)


def _edges(op: str, values: Any, bins: Any, bounds: Any, dtype: np.dtype) -> Any:
    """Bin edges: ``bins`` given as a tensor, or ``bins`` equal bins over ``bounds`` (or the
    data's range), widened by 0.5 each side where it is a single value."""
    if isinstance(bins, (Tensor, np.ndarray)):
        edges = _data_beside(bins, values)
        if edges.ndim != 1 or edges.size < 1:
            raise ShapeError(f"{op}: bins must be a 1-D tensor of edges, got shape "
                             f"{format_shape(edges.shape)}")
        return edges.astype(dtype, copy=False)
    if int(bins) <= 0:
        raise ValueError(f"{op}: bins must be positive, got {bins}")
    if bounds is not None:
        low, high = float(bounds[0]), float(bounds[1])
    elif values.size:
        low, high = float(values.min()), float(values.max())
    else:  # no data, no range: [0, 1], as NumPy's
        low, high = 0.0, 1.0
    if low > high:
        raise ValueError(f"{op}: range's max ({high}) must be at least its min ({low})")
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"{op}: range of [{low}, {high}] is not finite")
    if low == high:
        low, high = low - 0.5, high + 0.5
    from ..creation import linspace  # creation imports the ops

    edges = linspace(low, high, int(bins) + 1, dtype=dtype, device=backend.device_of(values))
    return edges._data


@primitive("histogramdd", differentiable=False, outputs=("*",))
def _histogramdd(input: Any, weight: Any, density: bool, uniform: tuple[bool, ...],
                 *edges: Any) -> tuple:
    dtype = input.dtype
    points = input.reshape(-1, input.shape[-1])
    shape = tuple(e.size - 1 for e in edges)
    keep = None  # the points inside every dim's edges (NaN is inside none)
    for d, e in enumerate(edges):
        inside = (points[:, d] >= e[0]) & (points[:, d] <= e[-1])
        keep = inside if keep is None else keep & inside
    if keep is not None and not keep.all():
        points = points[keep]
        weight = None if weight is None else weight.reshape(-1)[keep]
    linear = backend.zeros((points.shape[0],), np.int64, points)
    for d, e in enumerate(edges):
        linear = linear * shape[d] + _bins_of(points[:, d], e, uniform[d])
    w = None if weight is None else weight.reshape(-1).astype(np.float64)
    hist = np.bincount(linear, w, minlength=int(np.prod(shape))).astype(dtype)
    hist = hist.reshape(shape)
    if density:
        with np.errstate(invalid="ignore", divide="ignore"):
            hist = hist / hist.sum()
            for d, e in enumerate(edges):
                along = [1] * len(shape)
                along[d] = -1
                hist = hist / np.diff(e).reshape(along)
    return (hist.astype(dtype, copy=False),) + tuple(e.copy() for e in edges)


def _weight_of(op: str, weight: Any, shape: tuple[int, ...], like: Any) -> Any:
    if weight is None:
        return None
    w = _data_beside(weight, like)
    if w.shape != shape:
        raise ShapeError(f"{op}: weight must have shape {format_shape(shape)}, got "
                         f"{format_shape(w.shape)}")
    return w


def histogram(input: Tensor, bins: Any = 100, *, range: Sequence[float] | None = None,
              weight: Any = None, density: bool = False) -> tuple[Tensor, Tensor]:
    """A histogram of ``input``: ``(hist, bin_edges)``, with ``bins`` equal bins over
    ``range`` (default: the data's range) or the edges ``bins`` as a tensor; ``weight`` gives
    each value's weight and ``density`` normalises to unit area.

    >>> import backprop as bp
    >>> hist, edges = bp.histogram(bp.tensor([1., 2., 1.]), bins=2, range=(0., 2.))
    >>> hist.tolist(), edges.tolist()
    ([0.0, 3.0], [0.0, 1.0, 2.0])
    """
    data = _data(input)
    if data.dtype.kind not in "fV":
        raise DTypeError(f"histogram: input must be a floating-point tensor, got {data.dtype}")
    edges = _edges("histogram", data, bins, range, data.dtype)
    w = _weight_of("histogram", weight, data.shape, data)
    uniform = not isinstance(bins, (Tensor, np.ndarray))
    hist, edges_out = _histogramdd(reshape_points(input), w, bool(density), (uniform,), edges)
    return histogram_result(hist, edges_out)


def reshape_points(input: Any) -> Any:
    """``input`` as a column of 1-D points."""
    data = _data(input)
    return Tensor._wrap(data.reshape(-1, 1)) if isinstance(input, Tensor) else data.reshape(-1, 1)


def histogramdd(input: Tensor, bins: Any = 10, *, range: Sequence[float] | None = None,
                weight: Any = None, density: bool = False) -> tuple[Tensor, tuple[Tensor, ...]]:
    """A histogram of the points ``input[..., :]`` (the last dim holds each point's D
    coordinates): ``(hist, bin_edges)`` with ``hist`` of D dims. ``bins`` is one count for all
    dims, a count per dim, or a tensor of edges per dim; ``range`` gives ``[min0, max0, min1,
    ...]``.

    >>> import backprop as bp
    >>> hist, edges = bp.histogramdd(bp.tensor([[0., 0.], [1., 1.]]), bins=2)
    >>> hist.tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    data = _data(input)
    if data.dtype.kind not in "fV":
        raise DTypeError(f"histogramdd: input must be a floating-point tensor, got {data.dtype}")
    if data.ndim < 1:
        raise ShapeError("histogramdd: input must have at least one dimension (points along "
                         "the last)")
    n_dims = data.shape[-1]
    points = data.reshape(-1, n_dims)
    if isinstance(bins, (int, np.integer)):
        bins = [int(bins)] * n_dims
    bins = list(bins)
    if len(bins) != n_dims:
        raise ValueError(f"histogramdd: bins must give one entry per dim of the points "
                         f"({n_dims}), got {len(bins)}")
    if range is not None and len(range) != 2 * n_dims:
        raise ValueError(f"histogramdd: range must give a min and a max per dim "
                         f"({2 * n_dims} values), got {len(range)}")
    edges = [_edges("histogramdd", points[:, d], bins[d],
                    None if range is None else range[2 * d:2 * d + 2], data.dtype)
             for d in np.arange(n_dims)]
    w = _weight_of("histogramdd", weight, data.shape[:-1], data)
    uniform = tuple(not isinstance(b, (Tensor, np.ndarray)) for b in bins)
    hist, *edges_out = _histogramdd(input, w, bool(density), uniform, *edges)
    return histogramdd_result(hist, tuple(edges_out))


__all__: list[str] = []  # exported by indexing_more
