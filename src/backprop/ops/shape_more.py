"""More shape ops, all composed of the differentiable primitives of shape.py, join.py and
rearrange.py (so views stay views and gradients come from those rows): ravel, atleast_1d/2d/3d,
hstack/vstack/row_stack/dstack/column_stack, fliplr/flipud, broadcast_tensors and
broadcast_shapes (with ``Size``, PyTorch's tuple of sizes)."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..errors import ShapeError, format_shape
from .join import cat
from .rearrange import flip
from .shape import _reshape, _shape_arg, expand


class Size(tuple):
    """A tuple of sizes, as ``torch.Size``: ``numel()`` is their product.

    >>> import backprop as bp
    >>> bp.Size((2, 3)).numel()
    6
    """

    def numel(self) -> int:
        return math.prod(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)})"


def ravel(input: Any) -> Any:
    """The tensor as 1-d (a view where the layout allows, as ``reshape``).

    >>> import backprop as bp
    >>> bp.zeros(2, 3).ravel().shape
    (6,)
    """
    return _reshape(input, (-1,))


def _at_least(op: str, ndim: int, tensors: tuple[Any, ...]) -> Any:
    """PyTorch's convention for the atleast_* family: one tensor in, one out; several tensors
    (or one list or tuple of them) in, a tuple out."""
    many = len(tensors) != 1 or isinstance(tensors[0], (list, tuple))
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    out = tuple(_promote(op, ndim, t) for t in tensors)
    return out if many else out[0]


def _promote(op: str, ndim: int, t: Any) -> Any:
    if t.ndim >= ndim:
        return t
    if ndim == 3 and t.ndim == 1:
        return _reshape(t, (1, t.shape[0], 1))  # PyTorch (like NumPy) puts a vector in the middle
    if ndim == 3 and t.ndim == 2:
        return _reshape(t, t.shape + (1,))
    return _reshape(t, (1,) * (ndim - t.ndim) + t.shape)


def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least 1 dim (a 0-d tensor becomes shape ``(1,)``), as a view.

    >>> import backprop as bp
    >>> bp.atleast_1d(bp.tensor(1.0)).shape
    (1,)
    """
    return _at_least("atleast_1d", 1, tensors)


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least 2 dims (new dims in front), as a view.

    >>> import backprop as bp
    >>> bp.atleast_2d(bp.zeros(3)).shape
    (1, 3)
    """
    return _at_least("atleast_2d", 2, tensors)


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least 3 dims: ``(n,)`` becomes ``(1, n, 1)``, ``(m, n)`` becomes
    ``(m, n, 1)``, as a view.

    >>> import backprop as bp
    >>> bp.atleast_3d(bp.zeros(3)).shape
    (1, 3, 1)
    """
    return _at_least("atleast_3d", 3, tensors)


def _tensors(op: str, tensors: Sequence[Any]) -> list[Any]:
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ShapeError(f"{op}: expected a non-empty list of tensors")
    return list(tensors)


def hstack(tensors: Sequence[Any]) -> Any:
    """Join along dim 1 (dim 0 when all are 1-d), after ``atleast_1d``.

    >>> import backprop as bp
    >>> bp.hstack([bp.zeros(2, 1), bp.ones(2, 2)]).shape
    (2, 3)
    """
    parts = atleast_1d(_tensors("hstack", tensors))
    return cat(parts, 0 if parts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Any]) -> Any:
    """Join along dim 0 after ``atleast_2d`` (vectors become rows). Alias: ``row_stack``.

    >>> import backprop as bp
    >>> bp.vstack([bp.zeros(3), bp.ones(3)]).shape
    (2, 3)
    """
    return cat(atleast_2d(_tensors("vstack", tensors)), 0)


row_stack = vstack


def dstack(tensors: Sequence[Any]) -> Any:
    """Join along dim 2 after ``atleast_3d``.

    >>> import backprop as bp
    >>> bp.dstack([bp.zeros(2, 3), bp.ones(2, 3)]).shape
    (2, 3, 2)
    """
    return cat(atleast_3d(_tensors("dstack", tensors)), 2)


def column_stack(tensors: Sequence[Any]) -> Any:
    """Join along dim 1, with 0-d and 1-d tensors first made columns ``(n, 1)``.

    >>> import backprop as bp
    >>> bp.column_stack([bp.zeros(3), bp.ones(3, 2)]).shape
    (3, 3)
    """
    parts = [_reshape(t, (-1, 1)) if t.ndim <= 1 else t
             for t in _tensors("column_stack", tensors)]
    return cat(parts, 1)


def fliplr(input: Any) -> Any:
    """Reverse dim 1 (left to right; a copy, as PyTorch's).

    >>> import backprop as bp
    >>> bp.tensor([[1, 2], [3, 4]]).fliplr().tolist()
    [[2, 1], [4, 3]]
    """
    if input.ndim < 2:
        raise ShapeError(f"fliplr: the input must have at least 2 dimensions, got shape "
                         f"{format_shape(input.shape)}")
    return flip(input, 1)


def flipud(input: Any) -> Any:
    """Reverse dim 0 (up to down; a copy, as PyTorch's).

    >>> import backprop as bp
    >>> bp.tensor([[1, 2], [3, 4]]).flipud().tolist()
    [[3, 4], [1, 2]]
    """
    if input.ndim < 1:
        raise ShapeError("flipud: the input must have at least 1 dimension, got a 0-d tensor")
    return flip(input, 0)


def broadcast_shapes(*shapes: int | Sequence[int]) -> Size:
    """The shape the given shapes broadcast to (an int is a 1-d shape).

    >>> import backprop as bp
    >>> bp.broadcast_shapes((2, 1), (3,))
    Size([2, 3])
    """
    as_tuples = [(int(s),) if isinstance(s, (int, np.integer)) else _shape_arg((s,))
                 for s in shapes]
    try:
        return Size(np.broadcast_shapes(*as_tuples))
    except ValueError:
        raise ShapeError("broadcast_shapes: shapes " + ", ".join(map(format_shape, as_tuples))
                         + " cannot be broadcast together") from None


def broadcast_tensors(*tensors: Any) -> tuple[Any, ...]:
    """The tensors expanded to their common shape (views).

    >>> import backprop as bp
    >>> [t.shape for t in bp.broadcast_tensors(bp.zeros(2, 1), bp.zeros(3))]
    [(2, 3), (2, 3)]
    """
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t if t.shape == shape else expand(t, shape) for t in tensors)


# Size and broadcast_shapes are about shapes, not tensors: bp exports them beside the ops.
__all__ = ["ravel", "atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack",
           "row_stack", "dstack", "column_stack", "fliplr", "flipud", "broadcast_tensors"]
