"""More shape ops, composed of the differentiable primitives of shape.py, join.py and
rearrange.py (so views stay views and gradients come from those rows; trace is a row of its own): ravel, atleast_1d/2d/3d,
hstack/vstack/row_stack/dstack/column_stack, fliplr/flipud, broadcast_tensors and
broadcast_shapes (with ``Size``, PyTorch's tuple of sizes), meshgrid, select, tensor_split and
hsplit/vsplit/dsplit, rot90 and trace."""

from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import numpy as np

from .. import backend
from ..errors import DimError, ShapeError, check_dim, format_shape
from .elementwise import clone, where
from .join import _constant_pad, _narrow, _pieces, _widths_at, cat
from .primitive import primitive
from .rearrange import flip
from .reduction import _sum
from .shape import (_check_not_scalar, _reshape, _selected, _shape_arg, _transpose,
                    _unsqueeze, expand)


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


def _at_least(ndim: int, tensors: tuple[Any, ...]) -> Any:
    """PyTorch's convention for the atleast_* family: one tensor in, one out; several tensors
    (or one list or tuple of them) in, a tuple out."""
    many = len(tensors) != 1 or isinstance(tensors[0], (list, tuple))
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    out = tuple(_promote(ndim, t) for t in tensors)
    return out if many else out[0]


def _promote(ndim: int, t: Any) -> Any:
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
    return _at_least(1, tensors)


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least 2 dims (new dims in front), as a view.

    >>> import backprop as bp
    >>> bp.atleast_2d(bp.zeros(3)).shape
    (1, 3)
    """
    return _at_least(2, tensors)


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least 3 dims: ``(n,)`` becomes ``(1, n, 1)``, ``(m, n)`` becomes
    ``(m, n, 1)``, as a view.

    >>> import backprop as bp
    >>> bp.atleast_3d(bp.zeros(3)).shape
    (1, 3, 1)
    """
    return _at_least(3, tensors)


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


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Any, ...]:
    """Coordinate grids from 1-d tensors (views): with ``indexing="ij"`` output ``i`` varies
    along dim ``i``; with ``"xy"`` the first two dims are swapped (Cartesian order). Without
    ``indexing`` it is ``"ij"``, with PyTorch's warning.

    >>> import backprop as bp
    >>> [t.shape for t in bp.meshgrid(bp.zeros(2), bp.zeros(3), indexing="xy")]
    [(3, 2), (3, 2)]
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("meshgrid: pass indexing= ('ij' is the default now; PyTorch will require "
                      "the argument in an upcoming release)", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if not tensors:
        raise ShapeError("meshgrid: expected at least one tensor")
    for i, t in enumerate(tensors):
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: expected 0-d or 1-d tensors, but tensor {i} has shape "
                             f"{format_shape(t.shape)}")
    places = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        places[0], places[1] = 1, 0
    shape = [0] * len(tensors)
    for t, place in zip(tensors, places):
        shape[place] = math.prod(t.shape)
    grids = []
    for t, place in zip(tensors, places):
        alone = [1] * len(tensors)
        alone[place] = shape[place]
        grids.append(expand(_reshape(t, tuple(alone)), tuple(shape)))
    return tuple(grids)


# -- select, tensor_split and the hsplit family, rot90, trace -----------------------------------

# The gradient is g put back as the slice at ``index``, zeros around it (narrow's, unsqueezed).
@primitive("select", view=True, grads={
    "input": lambda g, out, input, dim, index: _constant_pad(
        _unsqueeze(g, dim), _widths_at(input.ndim, dim, index, input.shape[dim] - index - 1),
        0.0),
})
def _select(input: Any, dim: int, index: int) -> Any:
    # The Ellipsis keeps a 0-d result an array (a view), not a NumPy scalar.
    return input[(slice(None),) * dim + (index, Ellipsis)]


def select(input: Any, dim: int, index: int) -> Any:
    """The slice at ``index`` along ``dim``, with that dim removed (a view).

    >>> import backprop as bp
    >>> bp.arange(6).reshape(2, 3).select(1, -1).tolist()
    [2, 5]
    """
    return _select(input, *_selected("select", input, dim, index))  # one view op


def _as_ints(value: Any) -> int | list[int]:
    """A tensor argument (PyTorch accepts 0-d and 1-d integer tensors) as Python ints."""
    return value.tolist() if hasattr(value, "tolist") else value


def tensor_split(input: Any, indices_or_sections: Any, dim: int = 0) -> tuple[Any, ...]:
    """Views of ``input`` split along ``dim``: into ``n`` near-equal pieces (the first
    ``size % n`` one longer) for an int, or at the given indices for a list.

    >>> import backprop as bp
    >>> [t.tolist() for t in bp.arange(5).tensor_split(2)]
    [[0, 1, 2], [3, 4]]
    """
    _check_not_scalar("tensor_split", input)
    d = check_dim("tensor_split", dim, input.ndim)
    size = input.shape[d]
    split = _as_ints(indices_or_sections)
    if isinstance(split, int):
        if split <= 0:
            raise ValueError(f"tensor_split: the number of sections must be positive, got {split}")
        small, extra = divmod(size, split)
        # Pieces end to end: split's path (no node per piece where no gradient is wanted)
        return _pieces(input, d, [small + 1] * extra + [small] * (split - extra))
    else:
        # Indices past the end clip to it, and a piece that would run backwards is empty.
        bounds = [0] + [min(max(int(i) + size if i < 0 else int(i), 0), size) for i in split]
        starts = bounds
        lengths = [max(end - start, 0) for start, end in zip(bounds, bounds[1:] + [size])]
        if sum(lengths) == size:  # the indices do not go back: the pieces lie end to end
            return _pieces(input, d, lengths)
    return tuple(_narrow(input, d, min(s, size), n) for s, n in zip(starts, lengths))


def _even_split(op: str, input: Any, split: Any, dim: int, min_ndim: int) -> tuple[Any, ...]:
    if input.ndim < min_ndim:
        raise ShapeError(f"{op}: the input must have at least {min_ndim} dimensions, got shape "
                         f"{format_shape(input.shape)}")
    split = _as_ints(split)
    if isinstance(split, int) and (split == 0 or input.shape[dim] % split):
        raise ShapeError(f"{op}: dim {dim} of size {input.shape[dim]} cannot be split into "
                         f"{split} equal sections")
    return tensor_split(input, split, dim)


def hsplit(input: Any, indices_or_sections: Any) -> tuple[Any, ...]:
    """``tensor_split`` along dim 1 (dim 0 for a vector), equal sections only.

    >>> import backprop as bp
    >>> [t.shape for t in bp.zeros(2, 4).hsplit(2)]
    [(2, 2), (2, 2)]
    """
    return _even_split("hsplit", input, indices_or_sections, 0 if input.ndim == 1 else 1, 1)


def vsplit(input: Any, indices_or_sections: Any) -> tuple[Any, ...]:
    """``tensor_split`` along dim 0 of a tensor of at least 2 dims, equal sections only.

    >>> import backprop as bp
    >>> [t.shape for t in bp.zeros(4, 2).vsplit([1])]
    [(1, 2), (3, 2)]
    """
    return _even_split("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Any, indices_or_sections: Any) -> tuple[Any, ...]:
    """``tensor_split`` along dim 2 of a tensor of at least 3 dims, equal sections only.

    >>> import backprop as bp
    >>> [t.shape for t in bp.zeros(1, 2, 4).dsplit(2)]
    [(1, 2, 2), (1, 2, 2)]
    """
    return _even_split("dsplit", input, indices_or_sections, 2, 3)


def rot90(input: Any, k: int = 1, dims: Sequence[int] = (0, 1)) -> Any:
    """Rotate by 90 degrees ``k`` times in the plane ``dims``, from the first dim towards the
    second (a copy).

    >>> import backprop as bp
    >>> bp.tensor([[1, 2], [3, 4]]).rot90().tolist()
    [[2, 4], [1, 3]]
    """
    dims = tuple(int(d) for d in dims)
    if len(dims) != 2:
        raise ShapeError(f"rot90: dims must name 2 dimensions, got {dims}")
    if input.ndim < 2:
        raise ShapeError(f"rot90: the input must have at least 2 dimensions, got shape "
                         f"{format_shape(input.shape)}")
    d0, d1 = (check_dim("rot90", d, input.ndim) for d in dims)
    if d0 == d1:
        raise DimError(f"rot90: dims {dims} name the same dimension twice")
    k %= 4
    if k == 1:
        return _transpose(flip(input, d1), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return _transpose(flip(input, d0), d0, d1)
    return clone(input)


def _trace_vjp(g: Any, out: Any, input: Any) -> Any:
    # g on the diagonal, 0 elsewhere: a select (not g * eye), so an infinite g leaves 0 off it
    rows, cols = input.shape
    like = getattr(g, "_data", g)
    if type(like) is np.ndarray:
        diagonal = np.eye(rows, cols, dtype=np.bool_)
    else:  # made on g's device (backend.eye is square: cut to the matrix's shape)
        diagonal = backend.eye(max(rows, cols), np.bool_, like)[:rows, :cols]
    return where(diagonal, g, 0)


# One primitive, not diagonal-then-sum: O(min(rows, cols)) work at one op's call cost (the
# row is the public function itself, so a call has no wrapper to go through).
@primitive("trace", promote=("input",), grads={"input": _trace_vjp})
def trace(input: Any) -> Any:
    """The sum of a matrix's main diagonal.

    >>> import backprop as bp
    >>> bp.tensor([[1.0, 2.0], [3.0, 4.0]]).trace().item()
    5.0
    """
    if input.ndim != 2:
        raise ShapeError(f"trace: expected a matrix, got shape {format_shape(input.shape)}")
    diagonal = input.diagonal()
    if type(diagonal) is np.ndarray and diagonal.dtype.kind in "fcV":
        # what ``sum`` computes for one axis (a pairwise run), without ndarray.sum's wrapper
        return np.add.reduce(diagonal)
    return _sum.forward(diagonal, None, False)  # integers in int64, as sum


# Size and broadcast_shapes are about shapes, not tensors: bp exports them beside the ops.
__all__ = ["ravel", "atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack", "row_stack",
           "dstack", "column_stack", "fliplr", "flipud", "broadcast_tensors", "meshgrid", "select",
           "tensor_split", "hsplit", "vsplit", "dsplit", "rot90", "trace"]
