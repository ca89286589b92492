"""More indexing (issue 17): take and put, index_copy/fill/put/reduce, masked_select and
masked_scatter, repeat_interleave, and the in-place forms; the searching and counting ops
(unique, searchsorted, histograms, ...) live in ``counting.py`` and are exported from here.

Most ops here are compositions of differentiable primitives that already carry PyTorch's
gradients: a read is a gather (``_getitem``, ``index_select``), a write is ``_setitem`` (the old
values at the written positions get no gradient, the written values get g there), an
accumulating write passes g to the input and to each value at its position, and index_reduce
has scatter_reduce's gradients with its index spread along the other dims.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend
from ..backends import numba_indexing
from ..errors import DTypeError, ShapeError, check_dim, format_shape
from ..tensor import Tensor
from .counting import (
    argwhere,
    bincount,
    bucketize,
    histc,
    histogram,
    histogramdd,
    isin,
    nonzero_static,
    searchsorted,
    unique,
    unique_consecutive,
    unravel_index,
)
from .indexing import _add_into, _getitem, _setitem, _setitem_value_grad
from .inplace import apply_inplace
from .numeric_gradient import gradient
from .primitive import primitive
from .scans import _repeat
from .scatter import (
    _REDUCE_UFUNCS,
    _check_range,
    _dim_key,
    _index_add,
    extremum_or_product_grads,
    _index_array,
    _index_select,
    _reduce_identity,
    _shape,
    _vector_index,
    index_select,
)
from .shape import broadcast_to, reshape


def _data(value: Any) -> Any:
    return value._data if isinstance(value, Tensor) else np.asarray(value)


def _check_flat_range(op: str, index: np.ndarray, size: int) -> np.ndarray:
    """``index`` into ``size`` flat positions, negative ones counted from the end."""
    if index.size:
        low, high = int(index.min()), int(index.max())
        if low < -size or high >= size:
            bad = low if low < -size else high
            raise IndexError(f"{op}: index {bad} is out of range for a tensor of {size} "
                             f"elements (expected values in [{-size}, {size - 1}])")
        if low < 0:
            index = np.where(index < 0, index + size, index)
    return index


def take(input: Tensor, index: Any) -> Tensor:
    """The elements of ``input``, read as a 1-D tensor, at ``index``; the result has the
    index's shape.

    >>> import backprop as bp
    >>> bp.take(bp.tensor([[4., 3.], [5., 6.]]), bp.tensor([0, 3, -1])).tolist()
    [4.0, 6.0, 6.0]
    """
    index = _index_array("take", index)
    flat = reshape(input, -1)
    index = _check_flat_range("take", index, flat.shape[0])
    return _getitem(flat, index)


def put(input: Tensor, index: Any, source: Any, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``source``'s elements written at the flat positions ``index``
    (added where ``accumulate``, repeats included).

    >>> import backprop as bp
    >>> bp.put(bp.zeros(2, 2), bp.tensor([1, 1]), bp.tensor([2., 3.]), accumulate=True).tolist()
    [[0.0, 5.0], [0.0, 0.0]]
    """
    index = _index_array("put", index).reshape(-1)
    n_source = int(np.prod(_shape(source)))
    if n_source != index.size:
        raise ShapeError(f"put: source must have as many elements as index ({index.size}), "
                         f"got source of shape {format_shape(_shape(source))}")
    shape = tuple(input.shape)
    flat = reshape(input, -1)
    index = _check_flat_range("put", index, flat.shape[0])
    out = _index_put(flat, (index,), reshape(source, -1), accumulate)
    return reshape(out, shape)


# Linear in both: the input passes g on, each value gets g at its position (as setitem's).
@primitive("index_put_accumulate", grads={
    "input": lambda g, out, input, key, values: g,
    "values": _setitem_value_grad,
})
def _index_put_accumulate(input: Any, key: tuple, values: Any) -> Any:
    out = backend.as_array(input).copy()
    if len(key) == 1 and key[0].ndim == 1 and key[0].dtype.kind in "iu" and out.ndim > 1:
        # Whole slices along the first dim: rounds of vectorised adds, not np.add.at per value
        index = np.where(key[0] < 0, key[0] + out.shape[0], key[0])
        parts = np.broadcast_to(values, index.shape + out.shape[1:])
        _combine_slices(np.add, out, index, parts)
    else:
        _add_into(out, key, values)  # repeated positions add up
    return out


def _combine_slices(ufunc: Any, slices: Any, index: np.ndarray, parts: Any) -> None:
    """``slices[index[i]] = ufunc(slices[index[i]], parts[i])`` for each i in order, repeated
    positions included: in round r every position combines the r-th of its parts (one
    vectorised call a round); a position repeated very often takes ufunc.at instead."""
    if not index.size:
        return
    xp = backend.xp_of(index)
    order = xp.argsort(index, kind="stable")
    ordered = index[order]
    first = backend.ones((1,), bool, index)
    is_start = xp.concatenate([first, ordered[1:] != ordered[:-1]])
    starts = xp.flatnonzero(is_start)
    sizes = xp.diff(starts, append=index.size)
    if sizes.max() > 32:
        backend.ufunc_at(ufunc, slices, index, parts)
        return
    rank = backend.empty((index.size,), np.int64, index)
    rank[order] = backend.arange(index.size, index) - _repeat(starts, sizes)
    for r in range(int(sizes.max())):
        chosen = xp.flatnonzero(rank == r)
        at = index[chosen]
        slices[at] = ufunc(slices[at], parts[chosen])


def _index_put(input: Tensor, key: tuple, values: Any, accumulate: bool) -> Tensor:
    if accumulate:
        return _index_put_accumulate(input, key, values)
    return _setitem(input, key, values)


def index_put(input: Tensor, indices: Sequence[Any], values: Any,
              accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``values`` written at ``input[indices]`` (``indices``: a tuple
    of integer or bool tensors); ``accumulate`` adds instead, repeated positions included.

    >>> import backprop as bp
    >>> x = bp.zeros(3)
    >>> bp.index_put(x, (bp.tensor([0, 0, 2]),), bp.tensor(1.), accumulate=True).tolist()
    [2.0, 0.0, 1.0]
    """
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put: indices must be a tuple of tensors, got "
                        f"{type(indices).__name__}")
    key = []
    for i, index in enumerate(indices):
        array = _data(index)
        if array.dtype.kind not in "iub":
            raise DTypeError(f"index_put: indices[{i}] must be an integer or bool tensor, got "
                             f"{array.dtype}")
        key.append(array)
    if len(key) > input.ndim and not (input.ndim == 0 and len(key) == 1):
        raise IndexError(f"index_put: too many indices ({len(key)}) for a tensor of shape "
                         f"{format_shape(input.shape)}")
    return _index_put(input, tuple(key), values, accumulate)


def _source_shape_check(op: str, input: Tensor, dim: int, index: np.ndarray,
                        source: Any) -> None:
    expected = list(input.shape)
    expected[dim] = index.size
    if _shape(source) != tuple(expected):
        raise ShapeError(f"{op}: source must have shape {format_shape(tuple(expected))} "
                         f"(input {format_shape(input.shape)} with dim {dim} of the index's "
                         f"length {index.size}), got {format_shape(_shape(source))}")


def index_copy(input: Tensor, dim: int, index: Any, source: Any) -> Tensor:
    """A copy of ``input`` with the slices of ``source`` written at positions ``index`` along
    ``dim``.

    >>> import backprop as bp
    >>> bp.index_copy(bp.zeros(3), 0, bp.tensor([2, 0]), bp.tensor([5., 7.])).tolist()
    [7.0, 0.0, 5.0]
    """
    index = _vector_index("index_copy", index)
    if input.ndim == 0:  # PyTorch reads a 0-d input (and source) as one value along dim 0
        check_dim("index_copy", dim, 1)
        return reshape(index_copy(reshape(input, 1), 0, index, reshape(source, -1)), ())
    dim = check_dim("index_copy", dim, input.ndim)
    _source_shape_check("index_copy", input, dim, index, source)
    _check_range("index_copy", index, input.shape[dim], dim)
    return _setitem(input, _dim_key(dim, index), source)


def index_fill(input: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """A copy of ``input`` with ``value`` (a number or 0-d tensor) at positions ``index``
    along ``dim``.

    >>> import backprop as bp
    >>> bp.index_fill(bp.zeros(2, 3), 1, bp.tensor([0, 2]), -1.).tolist()
    [[-1.0, 0.0, -1.0], [-1.0, 0.0, -1.0]]
    """
    index = _vector_index("index_fill", index)
    if isinstance(value, (Tensor, np.ndarray)) and value.ndim != 0:
        raise ShapeError(f"index_fill: value must be a number or a 0-dimensional tensor, got "
                         f"a tensor of shape {format_shape(value.shape)}")
    if input.ndim == 0:
        check_dim("index_fill", dim, 1)
        return reshape(index_fill(reshape(input, 1), 0, index, value), ())
    dim = check_dim("index_fill", dim, input.ndim)
    _check_range("index_fill", index, input.shape[dim], dim)
    # Each position once: a repeated one would pass a tensor value its gradient twice
    return _setitem(input, _dim_key(dim, np.unique(index)), value)


_INDEX_REDUCTIONS = ("prod", "mean", "amax", "amin")


def index_reduce(input: Tensor, dim: int, index: Any, source: Any, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """A copy of ``input`` with the slices of ``source`` reduced (``'prod'``, ``'mean'``,
    ``'amax'``, ``'amin'``) into the slices at ``index`` along ``dim``; ``include_self=False``
    leaves the written slices' own values out.

    >>> import backprop as bp
    >>> x = bp.ones(2)
    >>> bp.index_reduce(x, 0, bp.tensor([0, 0]), bp.tensor([2., 5.]), 'amax').tolist()
    [5.0, 1.0]
    """
    if reduce not in _INDEX_REDUCTIONS:
        raise ValueError(f"index_reduce: reduce must be 'prod', 'mean', 'amax' or 'amin', got "
                         f"{reduce!r}")
    index = _vector_index("index_reduce", index)
    if input.ndim == 0:
        check_dim("index_reduce", dim, 1)
        return reshape(index_reduce(reshape(input, 1), 0, index, reshape(source, -1), reduce,
                                    include_self=include_self), ())
    dim = check_dim("index_reduce", dim, input.ndim)
    _source_shape_check("index_reduce", input, dim, index, source)
    _check_range("index_reduce", index, input.shape[dim], dim)
    return _index_reduce(input, dim, index, source, reduce=reduce, include_self=include_self)


def _index_reduce_grad(g: Any, out: Any, input: Any, dim: int, index: np.ndarray, source: Any,
                       needs: tuple[bool, ...], reduce: str, include_self: bool) -> list:
    """PyTorch's gradients of index_reduce (scatter_reduce's, with whole slices): 'mean' passes
    g on divided by the count; 'amax'/'amin' share it evenly among the values equal to the
    result; 'prod' gives each value the product of the others, without dividing by a zero."""
    if reduce == "mean":
        counts = np.bincount(index, minlength=out.shape[dim]) + (1 if include_self else 0)
        counts[counts == 0] = 1
        along = [1] * len(out.shape)
        along[dim] = -1
        g = g / counts.reshape(along).astype(backend.array_of(g).dtype)
        grad_input, grad_source = g, _index_select(g, dim, index)
    else:
        grad_input, grad_source = extremum_or_product_grads(
            g, out, input, source, reduce,
            gather=lambda t: _index_select(t, dim, index),
            add_into=lambda base, t: _index_add(base, dim, index, t),
            reduce_into=lambda base, t: _index_reduce(base, dim, index, t, reduce=reduce,
                                                      include_self=include_self))
    if not include_self:  # the written slices' own values were left out: no gradient
        grad_input = _setitem(grad_input, _dim_key(dim, index), 0.0)
    return [grad_input if needs[0] else None, None, None, grad_source if needs[3] else None]


@primitive("index_reduce", save=("input", "source", "out"), grads=_index_reduce_grad)
def _index_reduce(input: Any, dim: int, index: np.ndarray, source: Any, *, reduce: str,
                  include_self: bool) -> Any:
    # Whole slices at a time, in their order (as PyTorch's loop), not scatter_reduce's element
    # by element
    out = backend.as_array(input).copy()
    slices = np.moveaxis(out, dim, 0)  # a view: writes land in out
    parts = np.moveaxis(source, dim, 0)
    ufunc = _REDUCE_UFUNCS[reduce]
    if not include_self and index.size:
        slices[index] = _reduce_identity(reduce, out.dtype)
    if not (reduce in ("prod", "mean") and index.size
            and numba_indexing.index_combine(out, dim, index, source, reduce == "prod")):
        _combine_slices(ufunc, slices, index, parts)
    if reduce == "mean":
        counts = np.bincount(index, minlength=out.shape[dim]) + (1 if include_self else 0)
        counts[counts == 0] = 1
        shape = [1] * out.ndim
        shape[dim] = -1
        counts = counts.reshape(shape).astype(out.dtype)
        out = out // counts if out.dtype.kind in "iu" else out / counts
    return out


def _mask_array(op: str, mask: Any) -> np.ndarray:
    array = _data(mask)
    if array.dtype != bool:
        raise DTypeError(f"{op}: mask must be a bool tensor, got {array.dtype}; build it with "
                         "a comparison (x > 0) or convert with .bool()")
    return array


def _broadcast_with_mask(op: str, input: Tensor, mask: np.ndarray) -> tuple[Tensor, np.ndarray]:
    try:
        shape = np.broadcast_shapes(tuple(input.shape), mask.shape)
    except ValueError:
        raise ShapeError(f"{op}: mask of shape {format_shape(mask.shape)} cannot be broadcast "
                         f"with input of shape {format_shape(input.shape)}") from None
    if tuple(input.shape) != shape:
        input = broadcast_to(input, shape)
    return input, np.broadcast_to(mask, shape)


def masked_select(input: Tensor, mask: Any) -> Tensor:
    """The elements of ``input`` where the bool ``mask`` is True (the two broadcast), as a 1-D
    tensor.

    >>> import backprop as bp
    >>> x = bp.tensor([[1., -2.], [-3., 4.]])
    >>> bp.masked_select(x, x > 0).tolist()
    [1.0, 4.0]
    """
    mask = _mask_array("masked_select", mask)
    input, mask = _broadcast_with_mask("masked_select", input, mask)
    if mask.ndim == 0:
        input, mask = reshape(input, 1), mask.reshape(1)
    return _getitem(input, mask)


def masked_scatter(input: Tensor, mask: Any, source: Any) -> Tensor:
    """A copy of ``input`` with the leading elements of ``source`` written, in order, where the
    bool ``mask`` (broadcast) is True.

    >>> import backprop as bp
    >>> x, mask = bp.zeros(4), bp.tensor([True, False, True, False])
    >>> bp.masked_scatter(x, mask, bp.tensor([7., 8., 9.])).tolist()
    [7.0, 0.0, 8.0, 0.0]
    """
    mask = _mask_array("masked_scatter", mask)
    input, mask = _broadcast_with_mask("masked_scatter", input, mask)
    count = int(mask.sum())
    n_source = int(np.prod(_shape(source)))
    if n_source < count:
        raise ShapeError(f"masked_scatter: source has {n_source} elements but the mask selects "
                         f"{count}; source needs at least as many elements as True entries")
    if mask.ndim == 0:
        return reshape(masked_scatter(reshape(input, 1), mask.reshape(1), source), ())
    values = _getitem(reshape(source, -1), slice(0, count))
    return _setitem(input, mask, values)


def repeat_interleave(input: Any, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Each element (or slice along ``dim``) of ``input`` repeated ``repeats`` times (a number
    or one count per slice); without ``dim`` the input is flattened. Given a tensor of counts
    alone, the positions ``0, 1, ...`` each repeated that many times.

    >>> import backprop as bp
    >>> bp.repeat_interleave(bp.tensor([1., 2.]), 2).tolist()
    [1.0, 1.0, 2.0, 2.0]
    >>> bp.repeat_interleave(bp.tensor([2, 0, 1])).tolist()
    [0, 0, 2]
    """
    if repeats is None:  # repeat_interleave(repeats): the positions themselves
        counts = _index_array("repeat_interleave", input, "repeats")
        if counts.ndim > 1:
            raise ShapeError(f"repeat_interleave: repeats must be 0-d or 1-d, got shape "
                             f"{format_shape(counts.shape)}")
        counts = counts.reshape(-1)
        _check_counts(counts, output_size)
        return Tensor._wrap(_repeat(backend.arange(counts.size, counts), counts))
    if dim is None:
        input = reshape(input, -1)
        dim = 0
    elif input.ndim == 0:
        check_dim("repeat_interleave", dim, 1)
        input = reshape(input, 1)
        dim = 0
    dim = check_dim("repeat_interleave", dim, input.ndim)
    size = input.shape[dim]
    if isinstance(repeats, int) and repeats > 0:
        _check_counts(np.full(1, repeats * size), output_size)
        return _repeat_each(input, dim, repeats)
    counts = _index_array("repeat_interleave", repeats, "repeats")
    if counts.ndim > 1:
        raise ShapeError(f"repeat_interleave: repeats must be 0-d or 1-d, got shape "
                         f"{format_shape(counts.shape)}")
    counts = counts.reshape(-1)
    if counts.size == 1:
        counts = np.broadcast_to(counts, (size,))
    elif counts.size != size:
        raise ShapeError(f"repeat_interleave: repeats must have one count per slice: "
                         f"{size} along dim {dim}, got {counts.size}")
    _check_counts(counts, output_size)
    return index_select(input, dim, _repeat(backend.arange(size, counts), counts))


# One count for every slice: the gradient sums each run of ``repeats`` slices, and that sum's
# gradient repeats again (each is the other's VJP, so grad-of-grad works).
@primitive("repeat_each", grads={
    "input": lambda g, out, input, dim, repeats: _sum_runs(g, dim, repeats)})
def _repeat_each(input: Any, dim: int, repeats: int) -> Any:
    return np.repeat(input, repeats, axis=dim)


@primitive("sum_runs", grads={
    "input": lambda g, out, input, dim, repeats: _repeat_each(g, dim, repeats)})
def _sum_runs(input: Any, dim: int, repeats: int) -> Any:
    """The sums of each run of ``repeats`` slices along ``dim``."""
    shape = input.shape[:dim] + (input.shape[dim] // repeats, repeats) + input.shape[dim + 1:]
    runs = input.reshape(shape)
    if repeats > 16:
        return runs.sum(axis=dim + 1)
    # NumPy's sum over a short last axis is slow: add the few slices instead
    key = (slice(None),) * (dim + 1)
    out = runs[key + (0,)].copy()
    for k in range(1, repeats):
        out += runs[key + (k,)]
    return out


def _check_counts(counts: np.ndarray, output_size: int | None) -> None:
    if counts.size and counts.min() < 0:
        raise ValueError(f"repeat_interleave: repeats must be non-negative, got "
                         f"{int(counts.min())}")
    if output_size is not None and int(counts.sum()) != output_size:
        raise ValueError(f"repeat_interleave: output_size={output_size} but the repeats add "
                         f"up to {int(counts.sum())}")


# -- in-place forms -------------------------------------------------------------------------------

def put_(self: Tensor, index: Any, source: Any, accumulate: bool = False) -> Tensor:
    """``put`` in place."""
    return apply_inplace(self, "put_", lambda old: put(old, index, source, accumulate))


def index_put_(self: Tensor, indices: Sequence[Any], values: Any,
               accumulate: bool = False) -> Tensor:
    """``index_put`` in place."""
    return apply_inplace(self, "index_put_",
                         lambda old: index_put(old, indices, values, accumulate))


def index_copy_(self: Tensor, dim: int, index: Any, source: Any) -> Tensor:
    """``index_copy`` in place."""
    return apply_inplace(self, "index_copy_", lambda old: index_copy(old, dim, index, source))


def index_fill_(self: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """``index_fill`` in place."""
    return apply_inplace(self, "index_fill_", lambda old: index_fill(old, dim, index, value))


def index_reduce_(self: Tensor, dim: int, index: Any, source: Any, reduce: str, *,
                  include_self: bool = True) -> Tensor:
    """``index_reduce`` in place."""
    return apply_inplace(self, "index_reduce_", lambda old: index_reduce(
        old, dim, index, source, reduce, include_self=include_self))


def masked_scatter_(self: Tensor, mask: Any, source: Any) -> Tensor:
    """``masked_scatter`` in place (the mask must broadcast to this tensor's shape)."""
    return apply_inplace(self, "masked_scatter_", lambda old: masked_scatter(old, mask, source))


__all__ = ["take", "put", "index_put", "index_copy", "index_fill", "index_reduce",
           "masked_select", "masked_scatter", "repeat_interleave", "argwhere", "nonzero_static",
           "unique", "unique_consecutive", "unravel_index", "searchsorted", "bucketize", "isin",
           "bincount", "histc", "histogram", "histogramdd", "gradient"]
