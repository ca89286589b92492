"""Extremes over dims: amax/amin, argmax/argmin and PyTorch's three ``max``/``min`` (the
largest value, ``(values, indices)`` along a dim, the elementwise maximum). Split from
reduction.py, whose helpers (``normalize_dims``, ``expand_reduced``, ``_sum``) they use.

Each primitive's VJPs follow right after it and are written with our own ops, so gradients of
gradients come for free.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend
from ..errors import ShapeError, format_shape
from ..tensor import Tensor
from .elementwise import maximum, minimum, to, where
from .primitive import primitive
from .reduction import _single_dim, _sum, at_extreme, expand_reduced, kept_dims, normalize_dims
from .shape import reshape

# This module defines max and min, shadowing Python's own (not used here).


# -- extremes -----------------------------------------------------------------------------------

def _explain_empty(name: str) -> Any:
    def explain(err: Exception, input: Any, *args: Any) -> Exception | None:
        if input.size == 0:
            return ShapeError(f"{name}: cannot reduce over a dim of size 0 (input shape "
                              f"{format_shape(input.shape)}): an empty set has no largest or "
                              "smallest element; reduce over a dim whose size is not 0")
        return None

    return explain


def _extreme_vjp(g: Any, out: Any, input: Any, axes: tuple[int, ...] | None,
                 keepdim: bool) -> Any:
    # Ties share the gradient evenly (PyTorch's rule for max(), min(), amax and amin), so the
    # gradient is a valid subgradient whichever tied element "won". A NaN maximum comes from NaN
    # inputs, which then share it (equality alone would match nothing there).
    shape = input.shape
    winners = at_extreme(input, kept_dims(out, shape, axes, keepdim))
    count = to(_sum(winners, axes, keepdim), g.dtype)
    return where(winners, expand_reduced(g / count, shape, axes, keepdim), 0.0)


@primitive("amax", save=("input", "out"), explain=_explain_empty("amax"), grads={
    "input": _extreme_vjp,
})
def _amax(input: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    return input.max(axis=axes, keepdims=keepdim)


@primitive("amin", save=("input", "out"), explain=_explain_empty("amin"), grads={
    "input": _extreme_vjp,
})
def _amin(input: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    return input.min(axis=axes, keepdims=keepdim)


def amax(input: Tensor, dim: int | Sequence[int] | None = (), keepdim: bool = False) -> Tensor:
    """Largest value over ``dim`` (an int or a tuple; ``()`` or None means all dims). Tied
    elements share the gradient evenly.

    >>> import backprop as bp
    >>> x = bp.tensor([1., 3., 3.], requires_grad=True)
    >>> x.amax().backward(); x.grad.tolist()
    [0.0, 0.5, 0.5]
    """
    return _amax(input, normalize_dims("amax", dim, input.ndim), keepdim)


def amin(input: Tensor, dim: int | Sequence[int] | None = (), keepdim: bool = False) -> Tensor:
    """Smallest value over ``dim`` (an int or a tuple; ``()`` or None means all dims). Tied
    elements share the gradient evenly.

    >>> import backprop as bp
    >>> bp.tensor([[1., 3.], [0., 2.]]).amin(dim=1).tolist()
    [1.0, 0.0]
    """
    return _amin(input, normalize_dims("amin", dim, input.ndim), keepdim)


@primitive("argmax", differentiable=False, explain=_explain_empty("argmax"), promote=("input",),
           refuse=("bool",))
def _argmax(input: Any, axis: int | None, keepdim: bool) -> Any:
    return input.argmax(axis=axis, keepdims=keepdim).astype(np.int64, copy=False)


@primitive("argmin", differentiable=False, explain=_explain_empty("argmin"), promote=("input",),
           refuse=("bool",))
def _argmin(input: Any, axis: int | None, keepdim: bool) -> Any:
    return input.argmin(axis=axis, keepdims=keepdim).astype(np.int64, copy=False)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the largest value along ``dim``, or into the flattened tensor when
    ``dim`` is None; the first one where values tie.

    >>> import backprop as bp
    >>> bp.tensor([[1., 5., 5.], [7., 0., 2.]]).argmax(dim=1).tolist()
    [1, 0]
    """
    axis = None if dim is None else _single_dim("argmax", dim, input.ndim)
    return _argmax(input, axis if input.ndim else None, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the smallest value along ``dim``, or into the flattened tensor when
    ``dim`` is None; the first one where values tie.

    >>> import backprop as bp
    >>> bp.tensor([[1., 5.], [7., 0.]]).argmin().item()
    3
    """
    axis = None if dim is None else _single_dim("argmin", dim, input.ndim)
    return _argmin(input, axis if input.ndim else None, keepdim)


# max(dim)/min(dim) send the whole gradient to the index they return (PyTorch's rule), not
# shared between ties as max()/amax do. The gather and the scatter are each other's VJP.
def _along(x: Any, axis: int, keepdim: bool) -> Any:
    """``x`` (shaped as a reduction's result) with the reduced ``axis`` kept, as NumPy's
    ``take_along_axis`` and ``put_along_axis`` want it."""
    return x if keepdim else x.reshape(x.shape[:axis] + (1,) + x.shape[axis:])


@primitive("values_at_index", grads={
    "input": lambda g, out, input, indices, axis, keepdim: _scatter_to_index(
    g, indices, axis, keepdim, input.shape),
})
def _values_at_index(input: Any, indices: Any, axis: int, keepdim: bool) -> Any:
    """The entries ``indices`` (shaped as the result, a constant) picks along ``axis``."""
    values = np.take_along_axis(input, _along(indices, axis, keepdim), axis=axis)
    return values if keepdim else values.squeeze(axis)


@primitive("scatter_to_index", grads={
    "input": lambda g, out, input, indices, axis, keepdim, shape: _values_at_index(
    g, indices, axis, keepdim),
})
def _scatter_to_index(input: Any, indices: Any, axis: int, keepdim: bool,
                      shape: tuple[int, ...]) -> Any:
    """Zeros of ``shape`` with ``input`` written at ``indices`` along ``axis`` (the VJP of
    ``values_at_index``; one write per reduced slice instead of a full-size comparison)."""
    out = backend.zeros(shape, input.dtype, input)
    np.put_along_axis(out, _along(indices, axis, keepdim), _along(input, axis, keepdim), axis)
    return out


max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])


def _extreme_along(name: str, arg: Any, result_type: Any, input: Tensor, dim: Any,
                   keepdim: bool) -> Any:
    axis = _single_dim(name, dim, input.ndim)
    if input.ndim == 0:
        values, indices = _extreme_along(name, arg, result_type, reshape(input, (1,)), 0, False)
        return result_type(reshape(values, ()), reshape(indices, ()))
    if input.shape[axis] == 0:
        raise ShapeError(f"{name}: cannot take the {name} over dim {dim} of size 0 (tensor of "
                         f"shape {format_shape(input.shape)})")
    indices = arg(input, axis, keepdim)
    # The indices are a constant of the gather (its rules read them, never differentiate them).
    values = _values_at_index(input, backend.array_of(indices), axis, keepdim)
    return result_type(values, indices)


def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:
    """PyTorch's three ``max``: ``max(t)`` the largest value (ties share the gradient evenly);
    ``max(t, dim, keepdim=False)`` a ``(values, indices)`` pair along ``dim`` (first index on
    ties, which gets the gradient); ``max(t, other)`` the elementwise ``maximum``.

    >>> import backprop as bp
    >>> x = bp.tensor([[1., 5.], [7., 0.]])
    >>> x.max().item()
    7.0
    >>> values, indices = x.max(dim=1)
    >>> values.tolist(), indices.tolist()
    ([5.0, 7.0], [1, 0])
    """
    if other is None and isinstance(dim, (Tensor, np.ndarray)):
        other = dim
    if other is not None:
        return maximum(input, other)
    if dim is None:
        if keepdim:
            raise TypeError("max: keepdim needs a dim (max(input, dim, keepdim=True))")
        return _amax(input, None, False)
    return _extreme_along("max", _argmax, max_result, input, dim, keepdim)


def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:
    """PyTorch's three ``min``: ``min(t)``, ``min(t, dim, keepdim=False)`` -> ``(values,
    indices)``, and ``min(t, other)`` (elementwise ``minimum``); see ``max``.

    >>> import backprop as bp
    >>> bp.tensor([[1., 5.], [7., 0.]]).min(1).indices.tolist()
    [0, 1]
    """
    if other is None and isinstance(dim, (Tensor, np.ndarray)):
        other = dim
    if other is not None:
        return minimum(input, other)
    if dim is None:
        if keepdim:
            raise TypeError("min: keepdim needs a dim (min(input, dim, keepdim=True))")
        return _amin(input, None, False)
    return _extreme_along("min", _argmin, min_result, input, dim, keepdim)


__all__ = ["amax", "amin", "max", "min", "argmax", "argmin"]
