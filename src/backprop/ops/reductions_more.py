"""Sorting and the reductions PyTorch has beyond sum/mean/max: sort, argsort, msort, topk,
nansum, nanmean, count_nonzero, diff.

Sorting's values are a gather at the sorted indices (``values_at_index``, whose VJP scatters the
gradient back to where each value came from), so only the index computation is new here.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend
from ..tensor import Tensor
from .elementwise import isnan, where
from .extrema import _values_at_index
from .join import cat, narrow
from .primitive import primitive
from .reduction import _single_dim, normalize_dims
from .reduction import sum as _sum_op
from .shape import reshape

sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])


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
                         f"shape {tuple(input.shape)}); k must be between 0 and {size}")
    if input.ndim == 0:
        values, indices = _sorted("topk", input, 0, largest)
        return topk_result(values, indices)
    indices = narrow(_argsort(input, axis, largest), axis, 0, k)
    return topk_result(_values_at_index(input, backend.array_of(indices), axis, True), indices)


# -- reductions that skip NaN ---------------------------------------------------------------------

def _without_nan(input: Tensor) -> Tensor:
    # NaN's place gets 0 and, through where, a zero gradient (PyTorch's nansum rule).
    if input.dtype.kind in "fc":
        return where(isnan(input), 0.0, input)
    return input


def nansum(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
           dtype: Any = None) -> Tensor:
    """Sum over ``dim`` treating NaN as zero.

    >>> import backprop as bp
    >>> bp.tensor([1., float("nan"), 2.]).nansum().item()
    3.0
    """
    return _sum_op(_without_nan(input), dim, keepdim, dtype=dtype)


def nanmean(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
            dtype: Any = None) -> Tensor:
    """Mean over ``dim`` of the elements that are not NaN (NaN where all are).

    >>> import backprop as bp
    >>> bp.tensor([1., float("nan"), 2.]).nanmean().item()
    1.5
    """
    if dtype is not None:
        input = input.to(dtype)
    if input.dtype.kind not in "fc":
        raise TypeError(f"nanmean: expected a floating point or complex tensor, got {input.dtype}")
    count = _sum_op(~isnan(input), dim, keepdim)
    return nansum(input, dim, keepdim) / count


@primitive("count_nonzero", differentiable=False)
def _count_nonzero(input: Any, axes: tuple[int, ...] | None) -> Any:
    return np.asarray(np.count_nonzero(input, axis=axes)).astype(np.int64, copy=False)


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
        after, before = narrow(input, axis, 1, length - 1), narrow(input, axis, 0, length - 1)
        input = after != before if input.dtype.name == "bool" else after - before
    return input


__all__ = ["sort", "argsort", "msort", "topk", "nansum", "nanmean", "count_nonzero", "diff"]
