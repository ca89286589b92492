"""Sorting and the reductions PyTorch has beyond sum/mean/max: sort, argsort, msort, topk,
kthvalue, median, nanmedian, mode, cummax, cummin, cumprod, logcumsumexp,
quantile, nanquantile, aminmax, nansum, nanmean, count_nonzero, diff.

Sorting's values are a gather at the sorted indices (``values_at_index``, whose VJP scatters the
gradient back to where each value came from), so only the index computation is new here.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend
from ..autograd.graph import DUAL  # forward AD: median keeps its tangent path
from ..backend import cascade_sum
from ..backends import numba_reductions
from ..errors import ShapeError, format_shape
from ..tensor import Tensor
from .conjugation import conjugate_if_complex
from .elementwise import exp, isnan, log, where
from .extrema import _values_at_index, amax, amin
from .indexing import _getitem_backward
from .join import cat, narrow
from .primitive import primitive
from .rearrange import flip
from .reduction import _reverse_cumsum, _single_dim, at_extreme, expand_reduced, normalize_dims
from .reduction import sum as _sum_op
from .scans import _repeat, _scan
from .scatter import _along_dim_key, gather
from .shape import movedim, reshape

sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])
median_result = namedtuple("median", ["values", "indices"])
nanmedian_result = namedtuple("nanmedian", ["values", "indices"])
mode_result = namedtuple("mode", ["values", "indices"])
cummax_result = namedtuple("cummax", ["values", "indices"])
cummin_result = namedtuple("cummin", ["values", "indices"])
aminmax_result = namedtuple("aminmax", ["min", "max"])


@primitive("argsort", differentiable=False)
def _argsort(input: Any, axis: int, descending: bool) -> Any:
    if not descending:
        return np.argsort(input, axis=axis, kind="stable").astype(np.int64, copy=False)
    # A stable descending order: sort the reversed slice ascending and reverse the result, so
    # equal values keep their original order and NaN (last ascending) comes first, as PyTorch's.
    n = input.shape[axis]
    flipped = np.argsort(np.flip(input, axis), axis=axis, kind="stable")
    return (n - 1 - np.flip(flipped, axis)).astype(np.int64, copy=False)


def _sorted(name: str, input: Tensor, dim: int, descending: bool) -> tuple[Tensor, Tensor]:
    axis = _single_dim(name, dim, input.ndim)
    if input.ndim == 0:
        values, indices = _sorted(name, reshape(input, (1,)), 0, descending)
        return reshape(values, ()), reshape(indices, ())
    indices = _argsort(input, axis, descending)
    # The indices are a constant of the gather (its rules read them, never differentiate them).
    return _values_at_index(input, backend.array_of(indices), axis, True), indices


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """``(values, indices)`` of ``input`` sorted along ``dim``. The sort is always stable (equal
    values keep their order, also descending); NaN sorts as the largest value. The gradient goes
    back to where each value came from.

    >>> import backprop as bp
    >>> values, indices = bp.tensor([3., 1., 2.]).sort(descending=True)
    >>> values.tolist(), indices.tolist()
    ([3.0, 2.0, 1.0], [0, 2, 1])
    """
    return sort_result(*_sorted("sort", input, dim, descending))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices (int64) that sort ``input`` along ``dim`` (stable, as ``sort``).

    >>> import backprop as bp
    >>> bp.tensor([3., 1., 2.]).argsort().tolist()
    [1, 2, 0]
    """
    axis = _single_dim("argsort", dim, input.ndim)
    if input.ndim == 0:
        return reshape(_argsort(reshape(input, (1,)), 0, descending), ())
    return _argsort(input, axis, descending)


def msort(input: Tensor) -> Tensor:
    """``input`` sorted along its first dim (``sort(input, 0).values``).

    >>> import backprop as bp
    >>> bp.tensor([[2., 0.], [1., 3.]]).msort().tolist()
    [[1.0, 0.0], [2.0, 3.0]]
    """
    return _sorted("msort", input, 0, False)[0]


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
    """``(values, indices)`` of the ``k`` largest (or smallest) entries along ``dim``, largest
    first (smallest first when ``largest=False``).

    >>> import backprop as bp
    >>> values, indices = bp.tensor([1., 5., 3., 4.]).topk(2)
    >>> values.tolist(), indices.tolist()
    ([5.0, 4.0], [1, 3])
    """
    axis = _single_dim("topk", dim, input.ndim)
    size = input.shape[axis] if input.ndim else 1
    if not 0 <= k <= size:
        raise ValueError(f"topk: k ({k}) is out of range for dim {dim} of size {size} (tensor of "
                         f"shape {format_shape(input.shape)}); k must be between 0 and {size}")
    if input.ndim == 0:
        values, indices = _sorted("topk", input, 0, largest)
        return topk_result(values, indices)
    indices = _topk_indices(input, axis, k, largest)
    return topk_result(_values_at_index(input, backend.array_of(indices), axis, True), indices)


def _first_k(order_key: Any, k: int, largest: bool) -> Any:
    """For rows (last axis), the mask of the ``k`` entries a stable sort (descending where
    ``largest``; NaN the largest value) puts first: every entry beyond the k-th value, then the
    earliest of those equal to it. One partition finds the k-th value, not a full sort."""
    n = order_key.shape[-1]
    kth = np.partition(order_key, n - k if largest else k - 1, axis=-1)
    kth = kth[..., n - k if largest else k - 1, None]
    nan, kth_nan = np.isnan(order_key), np.isnan(kth)
    if largest:
        beyond = (order_key > kth) | (nan & ~kth_nan)
    else:
        beyond = (order_key < kth) | (~nan & kth_nan)
    tied = (order_key == kth) | (nan & kth_nan)
    wanted = k - beyond.sum(axis=-1, keepdims=True)
    crowded = np.flatnonzero(tied.sum(axis=-1, keepdims=True) > wanted)
    if crowded.size:  # more ties than places (rarely, for floats): the earliest of them
        tied[crowded] &= np.cumsum(tied[crowded], axis=-1) <= wanted[crowded]
    return beyond | tied


@primitive("topk_indices", differentiable=False)
def _topk_indices(input: Any, axis: int, k: int, largest: bool) -> Any:
    moved = np.moveaxis(input, axis, -1)
    n = moved.shape[-1]
    if k == n or moved.dtype.kind not in "f" or moved.size == 0:
        # (integers and bools: no NaN to place; a full sort is as fast for them at such sizes)
        order = _argsort(moved, moved.ndim - 1, largest)[..., :k]
        return np.moveaxis(order, -1, axis)
    if k == 0:
        return backend.zeros(input.shape[:axis] + (0,) + input.shape[axis + 1:], np.int64, input)
    rows = moved.reshape(-1, n)
    chosen = np.nonzero(_first_k(rows, k, largest))[1].reshape(rows.shape[0], k)
    # The k chosen, in the stable order: sorted by value, ties by position (already ascending)
    within = _argsort(np.take_along_axis(rows, chosen, -1), 1, largest)
    order = np.take_along_axis(chosen, within, -1).astype(np.int64, copy=False)
    return np.moveaxis(order.reshape(moved.shape[:-1] + (k,)), -1, axis)


# -- order statistics: one index per slice, the gradient goes to it ------------------------------

def _position_in_order(order: Any, sorted_values: Any, kind: str, k: int) -> Any:
    """Where in the ascending order (last axis) each slice's statistic sits, as (..., 1)."""
    n = order.shape[-1]
    if kind == "kthvalue":
        return backend.zeros(order.shape[:-1] + (1,), np.int64, order) + (k - 1)
    nans = np.isnan(sorted_values).sum(axis=-1, keepdims=True) if sorted_values.dtype.kind in "fcV" \
        else backend.zeros(order.shape[:-1] + (1,), np.int64, order)
    if kind == "median":
        # A slice with NaN has median NaN, at its first NaN (NaNs sort last, stably).
        return np.where(nans > 0, n - nans, (n - 1) // 2)
    # nanmedian: the lower median of the values that are not NaN; an all-NaN slice gives its
    # first NaN.
    return np.maximum((n - nans - 1) // 2, 0)


def _index_by_selection(rows: Any, kind: str, k: int) -> Any:
    """For 2-d float or integer ``rows``, the index (as (rows, 1)) that the stable ascending
    sort puts at the statistic's position: what ``_position_in_order`` finds in a full sort,
    found by partitioning (O(n), PyTorch's way) instead. The position's value ``v`` is
    partitioned into place; a stable sort puts there the ``j``-th of the entries equal to ``v``
    (NaN equal to NaN), ``j`` being the position less the entries sorted before them all."""
    count, n = rows.shape
    floats = rows.dtype.kind in "fV"
    nan = np.isnan(rows) if floats else None
    nans = nan.sum(axis=-1, keepdims=True) if floats else 0
    middle = backend.zeros((count, 1), np.int64, rows) + (n - 1) // 2
    if kind == "kthvalue":
        position = middle * 0 + (k - 1)
    elif not floats:
        position = middle
    elif kind == "median":  # a slice with NaN: its first NaN, where the stable sort puts it
        position = np.where(nans > 0, n - nans, middle)
    else:  # nanmedian
        position = np.maximum((n - nans - 1) // 2, 0)
    kths = np.unique(position)
    value = np.take_along_axis(np.partition(rows, kths, axis=-1), position, -1)
    tied = rows == value
    before = (rows < value).sum(axis=-1, keepdims=True)
    if floats:
        nan_value = np.isnan(value)
        if nan_value.any():  # NaN sorts after every number, NaNs in their order
            tied |= nan & nan_value
            before = np.where(nan_value, n - nans, before)
    index = np.argmax(tied, axis=-1)[:, None]
    later = np.flatnonzero(position > before)  # ties before the position (rare for floats)
    if later.size:
        wanted = (position - before)[later]
        index[later] = np.argmax(np.cumsum(tied[later], axis=-1) > wanted, axis=-1)[:, None]
    return index


@primitive("order_statistic_index", differentiable=False)
def _order_statistic_index(input: Any, axis: int, kind: str, k: int, keepdim: bool) -> Any:
    moved = np.moveaxis(input, axis, -1)
    if kind != "mode" and moved.dtype.kind in "fiu" and moved.size:
        n = moved.shape[-1]
        index = _index_by_selection(moved.reshape(-1, n), kind, k)
        index = np.moveaxis(index.reshape(moved.shape[:-1] + (1,)), -1, axis)
        return index if keepdim else index.squeeze(axis)
    order = np.argsort(moved, axis=-1, kind="stable")
    sorted_values = np.take_along_axis(moved, order, -1)
    if kind == "mode":
        # The most frequent value (the smallest of equally frequent ones) and its last index.
        n = moved.shape[-1]
        new_run = backend.ones(sorted_values.shape, bool, sorted_values)
        new_run[..., 1:] = sorted_values[..., 1:] != sorted_values[..., :-1]
        positions = backend.arange(n, sorted_values)
        # (the last axis by number: the scan kernels take non-negative axes)
        run_start = _scan(np.maximum, np.where(new_run, positions, 0), moved.ndim - 1)
        run_length = positions - run_start + 1
        # The first position where a run reaches the slice's longest length is the smallest
        # value's run; its last element has the last index of that value (ties keep order).
        end = np.argmax(run_length == run_length.max(axis=-1, keepdims=True), axis=-1)[..., None]
        index = np.take_along_axis(order, end, -1)
    else:
        index = np.take_along_axis(order, _position_in_order(order, sorted_values, kind, k), -1)
    index = np.moveaxis(index.astype(np.int64, copy=False), -1, axis)
    return index if keepdim else index.squeeze(axis)


def _select(name: str, result_type: Any, input: Tensor, dim: int, keepdim: bool, k: int = 0) -> Any:
    axis = _single_dim(name, dim, input.ndim)
    if input.ndim == 0:
        values, indices = _select(name, result_type, reshape(input, (1,)), 0, False, k)
        return result_type(reshape(values, ()), reshape(indices, ()))
    if input.shape[axis] == 0:
        raise ShapeError(f"{name}: cannot take the {name} over dim {dim} of size 0 (tensor of "
                         f"shape {format_shape(input.shape)})")
    indices = _order_statistic_index(input, axis, name, k, keepdim)
    return result_type(_values_at_index(input, backend.array_of(indices), axis, keepdim), indices)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """``(values, indices)`` of the ``k``-th smallest entry (counting from 1) along ``dim``;
    NaN counts as the largest value. Of tied entries the first is taken.

    >>> import backprop as bp
    >>> values, indices = bp.tensor([3., 1., 2.]).kthvalue(2)
    >>> values.item(), indices.item()
    (2.0, 2)
    """
    size = input.shape[dim] if input.ndim else 1
    if not 1 <= k <= size:
        raise ValueError(f"kthvalue: k ({k}) is out of range for dim {dim} of size {size} "
                         f"(tensor of shape {format_shape(input.shape)}); k must be between 1 "
                         f"and {size}")
    return _select("kthvalue", kthvalue_result, input, dim, keepdim, k)


def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median (of an even count, the smaller middle value), NaN where a slice holds
    NaN. ``median(t)`` over all elements is a value whose gradient tied elements share evenly;
    ``median(t, dim)`` is ``(values, indices)`` and the gradient goes to the index.

    >>> import backprop as bp
    >>> x = bp.tensor([[4., 1., 3., 2.]])
    >>> x.median().item()
    2.0
    >>> values, indices = x.median(dim=1)
    >>> values.tolist(), indices.tolist()
    ([2.0], [3])
    """
    if dim is not None:
        return _select("median", median_result, input, dim, keepdim)
    if keepdim:
        raise TypeError("median: keepdim needs a dim (median(input, dim, keepdim=True))")
    if input.numel() == 0:
        return input.sum() * np.nan  # PyTorch's median of no elements is NaN
    flat = reshape(input, (-1,))
    value = _values_at_index(flat, backend.array_of(
        _order_statistic_index(flat.detach(), 0, "median", 0, False)), 0, False).detach()
    if not flat.requires_grad and not DUAL.active:
        return value  # keeps an integer input's dtype (the sum below is float)
    # The value itself, plus a zero whose gradient spreads evenly over the elements equal to it
    # (PyTorch's rule for median(), as for max()).
    tied = at_extreme(backend.array_of(flat.detach()), backend.array_of(value))
    count = int(tied.sum())
    return value + _sum_op(where(tied, flat - value, 0.0)) / count


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """``median`` of the values that are not NaN (NaN where a slice is all NaN).

    >>> import backprop as bp
    >>> bp.tensor([1., float("nan"), 3., 2.]).nanmedian().item()
    2.0
    """
    if dim is not None:
        return _select("nanmedian", nanmedian_result, input, dim, keepdim)
    if keepdim:
        raise TypeError("nanmedian: keepdim needs a dim (nanmedian(input, dim, keepdim=True))")
    flat = reshape(input, (-1,))
    if flat.shape[0] == 0:
        return input.sum() * np.nan
    return _select("nanmedian", nanmedian_result, flat, 0, False).values


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> Any:
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest of equally
    frequent ones) and the last index where it occurs.

    >>> import backprop as bp
    >>> values, indices = bp.tensor([3., 1., 1., 3., 2.]).mode()
    >>> values.item(), indices.item()
    (1.0, 2)
    """
    return _select("mode", mode_result, input, dim, keepdim)


# -- running extremes ----------------------------------------------------------------------------

def _cumulative_extreme_grad(g: Any, out: Any, input: Any, needs: tuple[bool, ...], *,
                             axis: int, largest: bool) -> list:
    # Many outputs may read one input, so the gradient adds up there (gather's VJP).
    indices = backend.array_of(out[1])  # a constant of the rule, also under create_graph
    return [_getitem_backward(g[0], input.shape, _along_dim_key(axis, indices))]


@primitive("cumulative_extreme", outputs=("values", "indices"), save=("indices",),
           grads=_cumulative_extreme_grad)
def _cumulative_extreme_op(input: Any, *, axis: int, largest: bool) -> tuple[Any, Any]:
    fast = numba_reductions.running_extremes(input, axis, largest)  # rows of floats, one pass
    if fast is not None:
        return fast
    running = _scan(np.maximum if largest else np.minimum, input, axis)
    # An element that reaches the running extreme (ties included: the last of equal values) or
    # is NaN (which then stays the extreme) moves the index to itself; each index then holds
    # until the next move. A slice's first element always moves.
    moved = np.moveaxis(input, axis, -1)
    moves = backend.contiguous(moved == np.moveaxis(running, axis, -1))
    if input.dtype.kind in "fcV":
        moves |= np.isnan(moved)
    n = moved.shape[-1]
    at = np.flatnonzero(moves)  # row-major positions of the moves, each row's first included
    held = np.empty_like(at)  # how many positions each move's index holds for
    np.subtract(at[1:], at[:-1], out=held[:-1])
    held[-1:] = moves.size - at[-1:]
    indices = _repeat((at % n if n else at).astype(np.int64, copy=False), held)
    return running, np.moveaxis(indices.reshape(moved.shape), -1, axis)


def _cumulative_extreme(name: str, result_type: Any, input: Tensor, dim: int,
                        largest: bool) -> Any:
    axis = _single_dim(name, dim, input.ndim)
    if input.ndim == 0:
        values, indices = _cumulative_extreme(name, result_type, reshape(input, (1,)), 0,
                                              largest)
        return result_type(reshape(values, ()), reshape(indices, ()))
    return result_type(*_cumulative_extreme_op(input, axis=axis, largest=largest))


def cummax(input: Tensor, dim: int) -> Any:
    """``(values, indices)``: the running maximum along ``dim`` and where it was reached (the
    last of tied values); NaN, once seen, is the maximum.

    >>> import backprop as bp
    >>> values, indices = bp.tensor([1., 3., 2., 3.]).cummax(0)
    >>> values.tolist(), indices.tolist()
    ([1.0, 3.0, 3.0, 3.0], [0, 1, 1, 3])
    """
    return _cumulative_extreme("cummax", cummax_result, input, dim, True)


def cummin(input: Tensor, dim: int) -> Any:
    """``(values, indices)``: the running minimum along ``dim`` (as ``cummax``).

    >>> import backprop as bp
    >>> bp.tensor([2., 3., 1.]).cummin(0).values.tolist()
    [2.0, 2.0, 1.0]
    """
    return _cumulative_extreme("cummin", cummin_result, input, dim, False)


# -- running products and log-sum-exps ---------------------------------------------------------

def _running(ufunc: Any, input: Any, axis: int) -> Any:
    """``_scan`` in float64 for smaller floats, as PyTorch's CPU kernels accumulate (the running
    error would otherwise grow with the length)."""
    if input.dtype.kind in "fV" and input.dtype.itemsize < 8:
        return _scan(ufunc, input.astype(np.float64), axis).astype(input.dtype)
    return _scan(ufunc, input, axis)


def _cumprod_vjp(g: Any, out: Any, input: Any, axis: int) -> Any:
    if not bool((input == 0).any()):
        # PyTorch's rule where no factor is 0 (conjugated derivatives for complex inputs)
        return _reverse_cumsum(g * conjugate_if_complex(out), axis) / conjugate_if_complex(input)
    # With zeros, dividing out the factor is not possible: the gradient of out[i] with respect to
    # input[k] (k <= i) is the product of every other factor up to i. For each k, the running
    # product of the input with input[k] replaced by 1 gives those products: (n, n) per slice.
    n = input.shape[axis]
    moved, g_moved = movedim(input, axis, -1), movedim(g, axis, -1)
    eye = backend.eye(n, bool, input)
    others = where(eye, 1.0, moved[..., None, :])  # (..., k, i)
    products = _cumprod(others, others.ndim - 1)
    later = backend.on_device_of(np.triu(np.ones((n, n), dtype=bool)), input)  # i >= k
    grad = _sum_op(where(later, conjugate_if_complex(products) * g_moved[..., None, :], 0.0), -1)
    return movedim(grad, -1, axis)


@primitive("cumprod", save=("input", "out"), promote=("input",),
           grads={"input": _cumprod_vjp})
def _cumprod(input: Any, axis: int) -> Any:
    if input.dtype.kind in "biu":
        return np.cumprod(input, axis=axis, dtype=np.int64)
    # Rows or columns of floats by Numba: the same float64 products in the same order
    fast = numba_reductions.running_sums(input, axis, False, product=True)
    return _running(np.multiply, input, axis) if fast is None else fast


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running products along ``dim``; integer and bool inputs multiply in int64. The gradient
    is exact where factors are 0 (as PyTorch's).

    >>> import backprop as bp
    >>> x = bp.tensor([2., 0., 3.], requires_grad=True)
    >>> x.cumprod(0).sum().backward(); x.grad.tolist()
    [1.0, 8.0, 0.0]
    """
    if dtype is not None:
        input = input.to(dtype)
    axis = _single_dim("cumprod", dim, input.ndim)
    if input.ndim == 0:
        return reshape(_cumprod(reshape(input, (1,)), 0), ())
    return _cumprod(input, axis)


def _logcumsumexp_vjp(g: Any, out: Any, input: Any, axis: int) -> Any:
    # grad[j] = sum over i >= j of g[i] * exp(input[j] - out[i]): a reversed log-cum-sum-exp of
    # log|g| - out, for the positive and the negative parts of g apart, stays finite where
    # exp(-out) alone would overflow. Entries outside a part get the dtype's lowest finite
    # value, not log(0) = -inf: the scan's own gradient there would be exp(-inf - -inf), NaN,
    # and it is differentiated again for second derivatives (so is the log: of 1 there, not 0).
    lowest = float(np.finfo(backend.array_of(g).dtype).min)

    def part(mask: Any, magnitude: Any) -> Any:
        logs = where(mask, log(where(mask, magnitude, 1.0)), lowest) - out
        with np.errstate(over="ignore"):  # lowest + input: -inf, whose exp is the 0 wanted
            return exp(input + flip(_logcumsumexp(flip(logs, axis), axis), axis))

    return part(g > 0, g) - part(g < 0, -g)


@primitive("logcumsumexp", save=("input", "out"), grads={"input": _logcumsumexp_vjp})
def _logcumsumexp(input: Any, axis: int) -> Any:
    return _running(np.logaddexp, input, axis)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """``log(cumsum(exp(input)))`` along ``dim``, computed without overflow.

    >>> import backprop as bp
    >>> round(bp.tensor([0., 0.]).logcumsumexp(0)[1].item(), 4)
    0.6931
    """
    axis = _single_dim("logcumsumexp", dim, input.ndim)
    if input.ndim == 0:
        return reshape(_logcumsumexp(reshape(input, (1,)), 0), ())
    return _logcumsumexp(input, axis)


# -- quantiles ----------------------------------------------------------------------------------

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(name: str, input: Tensor, q: Any, dim: int | None, keepdim: bool,
              interpolation: str, skip_nan: bool) -> Tensor:
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{name}: interpolation must be one of {_INTERPOLATIONS}, got "
                         f"{interpolation!r}")
    if input.dtype.kind not in "fV":
        raise TypeError(f"{name}: input must be a float tensor, got {input.dtype}")
    q_array = np.asarray(backend.to_host(backend.array_of(q)) if isinstance(q, Tensor) else q,
                         dtype=np.float64)
    if q_array.ndim > 1:
        raise ValueError(f"{name}: q must be a number or a 1-D tensor, got shape "
                         f"{format_shape(q_array.shape)}")
    if q_array.size and not ((q_array >= 0) & (q_array <= 1)).all():
        raise ValueError(f"{name}: q values must be in the range [0, 1], got {q_array.tolist()}")
    if input.numel() == 0:
        raise ShapeError(f"{name}: input tensor of shape {format_shape(input.shape)} is empty")
    shape = tuple(input.shape)
    if dim is None:
        values, axis = reshape(input, (-1,)), 0
    else:
        axis = _single_dim(name, dim, input.ndim)
        values = reshape(input, (1,)) if input.ndim == 0 else input
    ordered = movedim(_sorted(name, values, axis, False)[0], axis, -1)  # NaN last
    n = ordered.shape[-1]
    raw = backend.array_of(ordered.detach())
    nans = np.isnan(raw).sum(axis=-1, keepdims=True)
    # Ranks in the input's precision, as PyTorch's.
    qs = backend.on_device_of(q_array.reshape(-1).astype(raw.dtype), raw)
    if skip_nan:
        rank = qs * np.maximum(n - nans - 1, 0).astype(raw.dtype)
    else:
        # A slice with NaN has NaN quantiles: point every position at its last (a NaN) element.
        rank = np.where(nans > 0, raw.dtype.type(n - 1), qs * raw.dtype.type(n - 1))
    below, above = np.floor(rank).astype(np.int64), np.ceil(rank).astype(np.int64)
    if interpolation == "lower":
        above = below
    elif interpolation == "higher":
        below = above
    elif interpolation == "nearest":
        below = above = np.round(rank).astype(np.int64)  # half to even, as torch.round
    low, high = gather(ordered, -1, below), gather(ordered, -1, above)
    if interpolation == "midpoint":
        out = low + (high - low) * 0.5
    elif interpolation == "linear":
        # PyTorch's lerp: from the nearer end, so a weight of 1 gives ``high`` exactly.
        weight = (rank - below).astype(raw.dtype)
        if isinstance(q, Tensor) and q.requires_grad:
            # The weight is differentiable in q (PyTorch's quantile is): the same rank, from q.
            scale = np.maximum(n - nans - 1, 0) if skip_nan else np.where(nans > 0, 0, n - 1)
            scale = scale.astype(raw.dtype)
            weight = reshape(q, (-1,)).to(ordered.dtype) * scale + (rank - qs * scale) - below
        out = where(weight < 0.5, low + (high - low) * weight, high - (high - low) * (1 - weight))
    else:
        out = low
    out = movedim(out, -1, 0)  # (len(q), ...)
    if keepdim:
        kept = [1] * len(shape) if dim is None else list(shape)
        if dim is not None and kept:
            kept[axis] = 1
        out = reshape(out, (len(qs), *kept))
    elif dim is not None and len(shape) == 0:
        out = reshape(out, (len(qs),))
    return reshape(out, out.shape[1:]) if q_array.ndim == 0 else out


def quantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The ``q``-th quantiles (``q`` a number or a 1-D tensor in [0, 1], whose dim comes first
    in the result) over ``dim`` or all elements; NaN where a slice holds NaN. ``interpolation``
    between the two nearest sorted values: linear, lower, higher, midpoint or nearest.

    >>> import backprop as bp
    >>> bp.tensor([1., 2., 3., 4.]).quantile(0.5).item()
    2.5
    """
    return _quantile("quantile", input, q, dim, keepdim, interpolation, False)


def nanquantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """``quantile`` of the values that are not NaN (NaN where a slice is all NaN).

    >>> import backprop as bp
    >>> bp.tensor([1., float("nan"), 3.]).nanquantile(0.5).item()
    2.0
    """
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, True)


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:
    """``(min, max)`` over ``dim`` (all elements when None); ties share the gradient evenly,
    as ``amin``/``amax``.

    >>> import backprop as bp
    >>> low, high = bp.tensor([[1., 5.], [7., 0.]]).aminmax(dim=1)
    >>> low.tolist(), high.tolist()
    ([1.0, 0.0], [5.0, 7.0])
    """
    if dim is None and input.numel() == 0:
        raise ShapeError(f"aminmax: cannot reduce a tensor of shape {format_shape(input.shape)} "
                         "with no elements; give a dim whose size is not 0")
    dims = () if dim is None else dim
    return aminmax_result(amin(input, dims, keepdim), amax(input, dims, keepdim))


# -- reductions that skip NaN ---------------------------------------------------------------------

def _nansum_vjp(g: Any, out: Any, input: Any, axes: tuple[int, ...] | None,
                keepdim: bool) -> Any:
    # NaN's place gets a zero gradient (PyTorch's nansum rule).
    return where(isnan(input), 0.0, expand_reduced(g, input.shape, axes, keepdim))


@primitive("nansum", save=("input",), promote=("input",), grads={"input": _nansum_vjp})
def _nansum(input: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    """The sum with NaN read as zero, in one op (a where and a sum made two nodes and twice the
    passes); integers and bools have no NaN and sum in int64, as ``sum``."""
    if input.dtype.kind not in "fcV":
        return input.sum(axis=axes, keepdims=keepdim, dtype=np.int64)
    return cascade_sum(np.where(np.isnan(input), 0, input), axes, keepdim)


@_nansum.kernel(np.ndarray, compiled=True)
def _nansum_by_numba(input: np.ndarray, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    return numba_reductions.sums(input, axes, keepdim, numba_reductions.NANSUM)


def nansum(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
           dtype: Any = None) -> Tensor:
    """Sum over ``dim`` treating NaN as zero.

    >>> import backprop as bp
    >>> bp.tensor([1., float("nan"), 2.]).nansum().item()
    3.0
    """
    if dtype is not None:  # cast first, as sum
        input = input.to(dtype)
    return _nansum(input, normalize_dims("nansum", dim, input.ndim), keepdim)


def nanmean(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
            dtype: Any = None) -> Tensor:
    """Mean over ``dim`` of the elements that are not NaN (NaN where all are).

    >>> import backprop as bp
    >>> bp.tensor([1., float("nan"), 2.]).nanmean().item()
    1.5
    """
    if dtype is not None:
        input = input.to(dtype)
    if input.dtype.kind not in "fcV":
        raise TypeError(f"nanmean: expected a floating point or complex tensor, got {input.dtype}")
    count = _sum_op(~isnan(input), dim, keepdim)
    return nansum(input, dim, keepdim) / count


@primitive("count_nonzero", differentiable=False)
def _count_nonzero(input: Any, axes: tuple[int, ...] | None) -> Any:
    return (input != 0).sum(axis=axes).astype(np.int64)


def count_nonzero(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Number (int64) of nonzero elements over ``dim`` (all dims when None).

    >>> import backprop as bp
    >>> bp.tensor([[0., 1.], [2., 3.]]).count_nonzero(dim=1).tolist()
    [1, 2]
    """
    return _count_nonzero(input, normalize_dims("count_nonzero", dim, input.ndim))


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (``out[i] = x[i+1] - x[i]``, applied ``n``
    times), after joining ``prepend`` and ``append`` to ``input`` along ``dim``; for bool
    tensors the difference is ``!=`` (logical xor), as in PyTorch.

    >>> import backprop as bp
    >>> bp.tensor([1., 4., 9., 16.]).diff().tolist()
    [3.0, 5.0, 7.0]
    """
    if input.ndim == 0:
        raise ValueError("diff: expected a tensor of at least one dimension, got a 0-d tensor")
    axis = _single_dim("diff", dim, input.ndim)
    if n < 0:
        raise ValueError(f"diff: order n must be non-negative, got {n}")
    if n == 0:
        return input  # PyTorch ignores prepend and append when there is nothing to take
    parts = [t for t in (prepend, input, append) if t is not None]
    if len(parts) > 1:
        input = cat(parts, axis)
    for _ in range(n):
        length = input.shape[axis]
        if length == 0:
            break
        if input.dtype.name == "bool":
            input = narrow(input, axis, 1, length - 1) != narrow(input, axis, 0, length - 1)
        else:
            input = _forward_difference(input, axis)
    return input


# The difference is a linear map D (out[i] = x[i+1] - x[i]); its VJP is the transpose,
# (D^T g)[i] = g[i-1] - g[i] with g zero beyond its ends, whose own VJP is D again: two ops,
# one pass each, where two narrows and a subtraction made three nodes.
@primitive("diff_transpose", grads={"g": lambda gg, out, g, axis: _forward_difference(gg, axis)})
def _diff_transpose(g: Any, axis: int) -> Any:
    before = (slice(None),) * axis
    shape = g.shape[:axis] + (g.shape[axis] + 1,) + g.shape[axis + 1:]
    out = np.zeros_like(g, shape=shape)
    np.negative(g, out=out[before + (slice(None, -1),)])
    out[before + (slice(1, None),)] += g
    return out


@primitive("forward_difference", grads={
    "input": lambda g, out, input, axis: _diff_transpose(g, axis)})
def _forward_difference(input: Any, axis: int) -> Any:
    before = (slice(None),) * axis
    return input[before + (slice(1, None),)] - input[before + (slice(None, -1),)]


@_forward_difference.kernel(np.ndarray, compiled=True)
def _forward_difference_of_rows(input: np.ndarray, axis: int) -> Any:
    return numba_reductions.forward_difference(input, axis)


__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "cummax",
           "cummin", "cumprod", "logcumsumexp", "quantile", "nanquantile", "aminmax",
           "nansum", "nanmean", "count_nonzero", "diff"]
