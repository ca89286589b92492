"""More views and their scatters (issue 17): slices, diagonals, as_strided and unfold, and the
``*_scatter`` ops that write a view's values into a copy of the input.

Every view here selects elements of its input at positions that an ``as_strided`` geometry
describes: sizes, strides and an offset in elements, counted on the input laid out in C order.
The forwards are NumPy views of the input's memory (so writes are shared, as in PyTorch); the
gradients need only the geometry, so four primitives on C-ordered positions serve them all:
``strided_take`` (gather a copy), ``strided_put`` (its adjoint: scatter-add into zeros),
``strided_zero`` (zero the positions: its own adjoint) and ``strided_scatter`` (replace them).
Each one's rule is another of the four, so gradients of gradients come for free.
"""

from __future__ import annotations

import builtins
import math
from typing import Any, Sequence

import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..autograd import observers as _observers
from ..errors import DimError, ShapeError, check_dim, format_shape
from ..tensor import Tensor
from .elementwise import clone
from .primitive import _link_view, primitive
from .shape import _check_not_scalar, _selected, _shape_arg

Geometry = tuple[tuple[int, ...], tuple[int, ...], int]  # sizes, strides, offset (elements)


# -- positions on C-ordered memory ---------------------------------------------------------------

def _c_strides(shape: Sequence[int]) -> tuple[int, ...]:
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def _positions(size: tuple[int, ...], stride: tuple[int, ...], offset: int, like: Any) -> Any:
    """The flat index of every element of the strided view, in the view's shape (on ``like``'s
    device)."""
    flat = backend.arange(1, like) + offset
    for n, s in zip(size, stride):
        flat = flat[..., None] + backend.arange(n, like) * s
    return flat.reshape(size)


def _no_overlap(size: tuple[int, ...], stride: tuple[int, ...]) -> bool:
    """A sufficient test that no two elements of the view share a position: each stride, in
    increasing order, steps past the whole extent of the smaller ones."""
    extent = 0
    for s, n in sorted((s, n) for n, s in zip(size, stride) if n > 1):
        if s <= extent:
            return False
        extent += (n - 1) * s
    return True


def _view_of(array: Any, shape: tuple[int, ...], strides: Sequence[int]) -> Any:
    """A view of ``array``'s memory, from its first element, with ``shape`` and ``strides``
    (bytes). On NumPy it is made on the array that owns the memory, so the view's ``base`` is
    that owner, as for NumPy's own views (``as_strided``'s base is a stand-in object, which
    would hide that the result is a view)."""
    if type(array) is not np.ndarray:  # CuPy and the strict device have their own as_strided
        return backend.xp_of(array).lib.stride_tricks.as_strided(array, shape, tuple(strides))
    owner = array.base if type(array.base) is np.ndarray else array
    start = 0 if owner is array else (array.__array_interface__["data"][0]
                                      - owner.__array_interface__["data"][0])
    try:
        return np.ndarray(shape, array.dtype, buffer=owner, offset=start, strides=tuple(strides))
    except (TypeError, ValueError):  # an owner with no plain buffer (not contiguous)
        return np.lib.stride_tricks.as_strided(array, shape=shape, strides=strides)


def _strided_view(flat: Any, size: tuple[int, ...], stride: tuple[int, ...], offset: int) -> Any:
    """A view of the 1-d contiguous ``flat`` with the geometry (in bounds: the callers check);
    on NumPy its ``base`` is ``flat`` (np.ndarray on a buffer is 4x faster than as_strided)."""
    item = flat.dtype.itemsize
    if 0 in size:
        return flat[:0].reshape(size)
    strides = tuple(s * item for s in stride)
    if type(flat) is not np.ndarray:
        return _view_of(flat[offset:], size, strides)
    return np.ndarray(size, flat.dtype, buffer=flat, offset=offset * item, strides=strides)


def _flat(x: Any) -> Any:
    """``x`` in C order as a 1-d array: a view when ``x`` is C-contiguous, else a copy."""
    if not x.flags.c_contiguous:  # (a reshape would keep a broadcast 1-d array as it is)
        x = x.copy()
    return x.reshape(-1)


@primitive("strided_take", grads={
    "input": lambda g, out, input, size, stride, offset: strided_put(
        g, input.shape, size, stride, offset),
})
def strided_take(input: Any, size: tuple[int, ...], stride: tuple[int, ...], offset: int) -> Any:
    """A copy of the elements of ``input`` (in C order) at the geometry's positions."""
    return _strided_view(_flat(input), size, stride, offset).copy()


@primitive("strided_put", grads={
    "src": lambda g, out, src, shape, size, stride, offset: strided_take(g, size, stride, offset),
})
def strided_put(src: Any, shape: tuple[int, ...], size: tuple[int, ...],
                stride: tuple[int, ...], offset: int) -> Any:
    """Zeros of ``shape`` with ``src`` added at the geometry's positions (the adjoint of
    ``strided_take``: positions reached twice sum their values)."""
    numel = math.prod(shape)
    if _no_overlap(size, stride):
        out = np.zeros_like(src, shape=(numel,))  # (zeros_like: on src's device)
        _strided_view(out, size, stride, offset)[...] = src
        return out.reshape(shape)
    sums = np.bincount(_positions(size, stride, offset, src).reshape(-1),
                       weights=np.broadcast_to(src, size).reshape(-1), minlength=numel)
    return sums.astype(src.dtype, copy=False).reshape(shape)


@primitive("strided_zero", grads={
    "input": lambda g, out, input, size, stride, offset: strided_zero(g, size, stride, offset),
})
def strided_zero(input: Any, size: tuple[int, ...], stride: tuple[int, ...], offset: int) -> Any:
    """A copy of ``input`` with zeros at the geometry's positions (a mask: its own adjoint)."""
    out = input.copy()  # C-ordered
    _strided_view(out.reshape(-1), size, stride, offset)[...] = 0
    return out


@primitive("strided_scatter", grads={
    "input": lambda g, out, input, src, size, stride, offset: strided_zero(g, size, stride, offset),
    "src": lambda g, out, input, src, size, stride, offset: strided_take(g, size, stride, offset),
})
def strided_scatter(input: Any, src: Any, size: tuple[int, ...], stride: tuple[int, ...],
                    offset: int) -> Any:
    """A copy of ``input`` with ``src`` written at the geometry's positions."""
    out = input.copy()  # C-ordered
    _strided_view(out.reshape(-1), size, stride, offset)[...] = src
    return out


def _scatter(op: str, input: Any, src: Any, geometry: Geometry) -> Any:
    """``strided_scatter`` after checking that ``src`` has the view's shape and dtype."""
    size = geometry[0]
    if tuple(src.shape) != size:
        raise ShapeError(f"{op}: src has shape {format_shape(src.shape)} but the part of the "
                         f"input of shape {format_shape(input.shape)} it replaces has shape "
                         f"{format_shape(size)}")
    # A src of another dtype is written as the input's dtype (PyTorch's copy_ semantics); the
    # engine gives src its gradient in its own dtype.
    return strided_scatter(input, src, *geometry)


# -- slice ------------------------------------------------------------------------------------

def _slice_bounds(op: str, shape: tuple[int, ...], dim: int, start: Any, end: Any,
                  step: int) -> tuple[int, int, int, int]:
    """``dim`` made non-negative and ``start``/``end`` clamped as PyTorch's slice does, with the
    number of elements selected."""
    d = check_dim(op, dim, len(shape))
    n = shape[d]
    step = int(step)
    if step <= 0:
        raise ValueError(f"{op}: step must be positive, got {step}")
    start = 0 if start is None else int(start)
    end = n if end is None else int(end)
    start = min(max(start + n if start < 0 else start, 0), n)
    end = min(max(end + n if end < 0 else end, start), n)
    return d, start, end, len(range(start, end, step))


def _slice_geometry(shape: tuple[int, ...], dim: int, start: int, step: int,
                    count: int) -> Geometry:
    strides = _c_strides(shape)
    size = shape[:dim] + (count,) + shape[dim + 1:]
    stride = strides[:dim] + (strides[dim] * step,) + strides[dim + 1:]
    return size, stride, start * strides[dim]


@primitive("slice", view=True, grads={
    "input": lambda g, out, input, dim, start, end, step: strided_put(
        g, input.shape, *_slice_geometry(input.shape, dim, start, step, g.shape[dim])),
})
def _slice(input: Any, dim: int, start: int, end: int, step: int) -> Any:
    return input[(builtins.slice(None),) * dim + (builtins.slice(start, end, step),)]


def slice(input: Any, dim: int = 0, start: int | None = None, end: int | None = None,
          step: int = 1) -> Any:
    """Every ``step``-th element from ``start`` to before ``end`` along ``dim``, a view
    (``x[..., start:end:step]``; PyTorch's ``aten.slice``, out-of-range bounds clamped).

    >>> import backprop as bp
    >>> bp.slice(bp.arange(6), 0, 1, None, 2).tolist()
    [1, 3, 5]
    """
    _check_not_scalar("slice", input)
    d, start, end, _ = _slice_bounds("slice", input.shape, dim, start, end, step)
    return _slice(input, d, start, end, int(step))


def slice_scatter(input: Any, src: Any, dim: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1) -> Any:
    """A copy of ``input`` with ``src`` written into ``input[..., start:end:step]`` along
    ``dim``.

    >>> import backprop as bp
    >>> bp.slice_scatter(bp.zeros(4), bp.ones(2), start=1, end=3).tolist()
    [0.0, 1.0, 1.0, 0.0]
    """
    _check_not_scalar("slice_scatter", input)
    d, start, _, count = _slice_bounds("slice_scatter", input.shape, dim, start, end, step)
    return _scatter("slice_scatter", input, src,
                    _slice_geometry(input.shape, d, start, int(step), count))


def select_scatter(input: Any, src: Any, dim: int, index: int) -> Any:
    """A copy of ``input`` with ``src`` written into ``input.select(dim, index)``.

    >>> import backprop as bp
    >>> bp.select_scatter(bp.zeros(2, 2), bp.ones(2), 0, -1).tolist()
    [[0.0, 0.0], [1.0, 1.0]]
    """
    d, index = _selected("select_scatter", input, dim, index)
    size, stride, offset = _slice_geometry(input.shape, d, index, 1, 1)
    return _scatter("select_scatter", input, src,
                    (size[:d] + size[d + 1:], stride[:d] + stride[d + 1:], offset))


# -- diagonal ---------------------------------------------------------------------------------

def _diagonal_dims(op: str, ndim: int, dim1: int, dim2: int) -> tuple[int, int]:
    if type(dim1) is int and type(dim2) is int and -ndim <= dim1 < ndim and -ndim <= dim2 < ndim:
        d1, d2 = dim1 % ndim, dim2 % ndim  # the common case, without check_dim's cost
    else:
        d1, d2 = check_dim(op, dim1, ndim), check_dim(op, dim2, ndim)
    if d1 == d2:
        raise DimError(f"{op}: dim1 and dim2 both name dim {d1}; the diagonal needs two "
                       "different dims")
    return d1, d2


def _diagonal_length(shape: tuple[int, ...], offset: int, d1: int, d2: int) -> int:
    return max(0, min(shape[d1] - max(-offset, 0), shape[d2] - max(offset, 0)))


def _diagonal_geometry(shape: tuple[int, ...], offset: int, d1: int, d2: int) -> Geometry:
    """The diagonal's positions: the other dims in order, then the diagonal, as PyTorch's."""
    strides = _c_strides(shape)
    n = _diagonal_length(shape, offset, d1, d2)
    others = [k for k in range(len(shape)) if k not in (d1, d2)]
    start = (max(-offset, 0) * strides[d1] + max(offset, 0) * strides[d2]) if n else 0
    return (tuple(shape[k] for k in others) + (n,),
            tuple(strides[k] for k in others) + (strides[d1] + strides[d2],), start)


@primitive("diagonal", view=True, grads={
    "input": lambda g, out, input, offset, dim1, dim2: strided_put(
        g, input.shape, *_diagonal_geometry(input.shape, offset, dim1, dim2)),
})
def _diagonal(input: Any, offset: int, dim1: int, dim2: int) -> Any:
    out = input.diagonal(offset, dim1, dim2)
    # NumPy marks the diagonal read-only (for backward compatibility only): writes through the
    # view must reach the input, as in PyTorch.
    if type(out) is np.ndarray:  # always read-only: one flag to read, not two
        if input.flags.writeable:
            out.setflags(write=True)  # (faster than assigning flags.writeable)
    elif not getattr(out.flags, "writeable", True) and input.flags.writeable:
        out.flags.writeable = True
    return out


def diagonal(input: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
    """The diagonal of the matrices in dims ``dim1`` and ``dim2`` (``offset`` above it when
    positive, below when negative), moved to the last dim: a view.

    >>> import backprop as bp
    >>> bp.arange(9).reshape(3, 3).diagonal(1).tolist()
    [1, 5]
    """
    d1, d2 = _diagonal_dims("diagonal", input.ndim, dim1, dim2)
    return _diagonal(input, offset if type(offset) is int else int(offset), d1, d2)


def diagonal_copy(input: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
    """``diagonal`` as a new tensor, not a view.

    >>> import backprop as bp
    >>> bp.diagonal_copy(bp.eye(2)).tolist()
    [1.0, 1.0]
    """
    d1, d2 = _diagonal_dims("diagonal_copy", input.ndim, dim1, dim2)
    return _diagonal_copy(input, int(offset), d1, d2)  # one op, not diagonal then clone


@primitive("diagonal_copy", grads={
    "input": lambda g, out, input, offset, dim1, dim2: strided_put(
        g, input.shape, *_diagonal_geometry(input.shape, offset, dim1, dim2)),
})
def _diagonal_copy(input: Any, offset: int, dim1: int, dim2: int) -> Any:
    return input.diagonal(offset, dim1, dim2).copy()


def linalg_diagonal(A: Any, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Any:
    """The diagonals of a batch of matrices (``torch.linalg.diagonal``: ``diagonal`` with the
    last two dims as defaults).

    >>> import backprop as bp
    >>> bp.linalg.diagonal(bp.eye(2).expand(3, 2, 2)).shape
    (3, 2)
    """
    # diagonal's body, not a call of it: a tenth of this view's time
    d1, d2 = _diagonal_dims("linalg.diagonal", A.ndim, dim1, dim2)
    return _diagonal(A, offset if type(offset) is int else int(offset), d1, d2)


def diagonal_scatter(input: Any, src: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
    """A copy of ``input`` with ``src`` written into its diagonal (as ``diagonal`` selects it).

    >>> import backprop as bp
    >>> bp.diagonal_scatter(bp.zeros(2, 2), bp.ones(2)).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    d1, d2 = _diagonal_dims("diagonal_scatter", input.ndim, dim1, dim2)
    return _scatter("diagonal_scatter", input, src,
                    _diagonal_geometry(input.shape, int(offset), d1, d2))


def diag_embed(input: Any, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Any:
    """Matrices (in the new dims ``dim1`` and ``dim2``) whose ``offset`` diagonal holds the
    last dim of ``input``, zeros elsewhere.

    >>> import backprop as bp
    >>> bp.diag_embed(bp.tensor([1., 2.])).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    _check_not_scalar("diag_embed", input)
    ndim = input.ndim + 1
    d1, d2 = _diagonal_dims("diag_embed", ndim, dim1, dim2)
    offset = int(offset)
    n = input.shape[-1] + abs(offset)
    rest = iter(input.shape[:-1])
    shape = tuple(n if k in (d1, d2) else next(rest) for k in range(ndim))
    return strided_put(input, shape, *_diagonal_geometry(shape, offset, d1, d2))


def diag(input: Any, diagonal: int = 0) -> Any:
    """A vector's square matrix with the vector on diagonal ``diagonal``, or a matrix's
    diagonal as a vector (a copy).

    >>> import backprop as bp
    >>> bp.diag(bp.tensor([1., 2.]), 1).tolist()
    [[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]]
    """
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return diagonal_copy(input, diagonal)
    raise ShapeError(f"diag: expects a 1-d or 2-d tensor, got shape {format_shape(input.shape)}; "
                     "use diag_embed or diagonal for batches")


def diagflat(input: Any, offset: int = 0) -> Any:
    """The flattened input on diagonal ``offset`` of a square matrix.

    >>> import backprop as bp
    >>> bp.diagflat(bp.ones(2, 1)).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    return diag_embed(input.reshape(-1), offset, 0, 1)


# -- as_strided ---------------------------------------------------------------------------------

def _storage(input: Tensor) -> tuple[Tensor, int]:
    """The tensor whose memory is ``input``'s storage (its base, or itself) and ``input``'s
    offset in it, in elements, counted in C order. Where the base is not C-contiguous (or its
    memory has no address we can read: CuPy), ``input`` itself stands for the storage, in C
    order; ``as_strided`` of it is then a copy, not a view."""
    base = input._base if isinstance(input, Tensor) else None
    if base is None:
        return input, 0
    memory = base._data
    if type(memory) is not np.ndarray or not memory.flags.c_contiguous:
        return input, 0  # no storage order to count in (or no address to read): input's own
    gap = input._data.__array_interface__["data"][0] - memory.__array_interface__["data"][0]
    return base, gap // memory.itemsize


def _check_geometry(op: str, numel: int, size: tuple[int, ...], stride: tuple[int, ...],
                    offset: int) -> None:
    # One pass for a valid geometry (every call but a bad one); the checks below word errors
    if offset >= 0 and len(size) == len(stride):
        reach = offset
        for n, s in zip(size, stride):
            if n < 0 or s < 0:
                break
            reach += (n - 1) * s
        else:
            if reach < numel or 0 in size:
                return
    if len(size) != len(stride):
        raise ShapeError(f"{op}: size {format_shape(size)} and stride {format_shape(stride)} "
                         "must have the same length")
    if any(n < 0 for n in size):
        raise ShapeError(f"{op}: size {format_shape(size)} has a negative entry")
    if any(s < 0 for s in stride):
        raise ValueError(f"{op}: negative strides are not supported, got stride "
                         f"{format_shape(stride)}")
    if offset < 0:
        raise ValueError(f"{op}: storage_offset must be non-negative, got {offset}")
    if all(size):
        needed = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
        if needed > numel:
            raise ShapeError(f"{op}: size {format_shape(size)}, stride {format_shape(stride)} and "
                             f"storage_offset {offset} reach element {needed - 1}, out of bounds "
                             f"for a storage of {numel} elements")


def _geometry(op: str, input: Any, size: Any, stride: Any,
              storage_offset: int | None) -> tuple[Any, Geometry]:
    storage, own_offset = _storage(input)
    size, stride = _shape_arg((size,)), _shape_arg((stride,))
    offset = own_offset if storage_offset is None else int(storage_offset)
    _check_geometry(op, math.prod(storage.shape), size, stride, offset)
    return storage, (size, stride, offset)


@primitive("as_strided", view=True, grads={
    "input": lambda g, out, input, size, stride, offset: strided_put(
        g, input.shape, size, stride, offset),
})
def _as_strided(input: Any, size: tuple[int, ...], stride: tuple[int, ...], offset: int) -> Any:
    if type(input) is not np.ndarray or 0 in size or not input.flags.c_contiguous:
        return _strided_view(_flat(input), size, stride, offset)  # (a copy's if not contiguous)
    item = input.itemsize
    strides = tuple([s * item for s in stride])  # a list: a generator costs more at few dims
    if input.base is None:  # the owner of its memory: the common case, and the fastest
        # positional arguments: the constructor's keywords cost twice its own time
        return np.ndarray(size, input.dtype, input, offset * item, strides)
    # Made on the owner of the memory, so that the result's base says it is a view of input.
    return _view_of(_flat(input)[offset:], size, strides)


def as_strided(input: Any, size: Sequence[int], stride: Sequence[int],
               storage_offset: int | None = None) -> Any:
    """A view of ``input``'s storage with the given sizes, strides and offset, in elements
    (PyTorch's semantics: counted from the start of the storage, which ``input`` may share
    with its base; ``storage_offset`` defaults to ``input``'s own). Out-of-bounds geometries
    and negative strides are refused.

    >>> import backprop as bp
    >>> bp.as_strided(bp.arange(6), (2, 2), (1, 2), 1).tolist()
    [[1, 3], [2, 4]]
    """
    if (type(input) is Tensor and input._base is None and type(size) is tuple
            and type(stride) is tuple and not _observers.REGISTRY.count
            and not (input._requires_grad and grad_mode.state.enabled)):
        data = input._data
        offset = 0 if storage_offset is None else storage_offset
        if (type(data) is np.ndarray and data.base is None and type(offset) is int
                and data.flags.c_contiguous and input._view is None):
            view = _plain_view(data, size, stride, offset)
            if view is not None:
                # _as_strided's call, made by hand: at 1 us PyTorch's, its dispatch is half
                # the time
                result = Tensor._wrap(view)
                _link_view(result, input, _as_strided, (size, stride, offset), {})
                return result
    storage, geometry = _geometry("as_strided", input, size, stride, storage_offset)
    return _as_strided(storage, *geometry)


def _plain_view(data: np.ndarray, size: tuple, stride: tuple, offset: int) -> Any:
    """``_as_strided``'s view of a C-contiguous array owning its memory, for sizes and strides
    given as ints that fit in it; None for anything else (``as_strided`` checks it then)."""
    if len(size) != len(stride) or offset < 0:
        return None
    reach = offset
    for n, s in zip(size, stride):
        if type(n) is not int or type(s) is not int or n <= 0 or s < 0:
            return None
        reach += (n - 1) * s
    if reach >= data.size:
        return None
    item = data.itemsize
    return np.ndarray(size, data.dtype, data, offset * item, tuple([s * item for s in stride]))


def as_strided_copy(input: Any, size: Sequence[int], stride: Sequence[int],
                    storage_offset: int | None = None) -> Any:
    """``as_strided`` as a new tensor, not a view.

    >>> import backprop as bp
    >>> bp.as_strided_copy(bp.arange(4), (2,), (2,)).tolist()
    [0, 2]
    """
    storage, geometry = _geometry("as_strided_copy", input, size, stride, storage_offset)
    return strided_take(storage, *geometry)


def as_strided_scatter(input: Any, src: Any, size: Sequence[int], stride: Sequence[int],
                       storage_offset: int | None = None) -> Any:
    """A copy of ``input`` with ``src`` written where ``as_strided(input, size, stride,
    storage_offset)`` would look (``input``'s storage taken as the tensor itself, in C order).

    >>> import backprop as bp
    >>> bp.as_strided_scatter(bp.zeros(4), bp.ones(2), (2,), (2,)).tolist()
    [1.0, 0.0, 1.0, 0.0]
    """
    size, stride = _shape_arg((size,)), _shape_arg((stride,))
    offset = 0 if storage_offset is None else int(storage_offset)
    _check_geometry("as_strided_scatter", math.prod(input.shape), size, stride, offset)
    return _scatter("as_strided_scatter", input, src, (size, stride, offset))


# -- unfold -------------------------------------------------------------------------------------

def _unfold_geometry(shape: tuple[int, ...], strides: tuple[int, ...], dim: int, size: int,
                     step: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Sizes and strides of the windows along ``dim`` (a 0-d input acts as one of 1 element)."""
    if not shape:
        return (size,), (1,)
    count = (shape[dim] - size) // step + 1
    return (shape[:dim] + (count,) + shape[dim + 1:] + (size,),
            strides[:dim] + (strides[dim] * step,) + strides[dim + 1:] + (strides[dim],))


@primitive("unfold", view=True, grads={
    "input": lambda g, out, input, dimension, size, step: strided_put(
        g, input.shape, *_unfold_geometry(input.shape, _c_strides(input.shape), dimension,
                                          size, step), 0),
})
def _unfold(input: Any, dimension: int, size: int, step: int) -> Any:
    item = input.dtype.itemsize
    shape, strides = _unfold_geometry(input.shape, tuple(s // item for s in input.strides),
                                      dimension, size, step)
    return _view_of(input, shape, [s * item for s in strides])


def unfold(input: Any, dimension: int, size: int, step: int) -> Any:
    """Every window of ``size`` elements along ``dimension``, ``step`` apart, as a new last
    dim: a view (``Tensor.unfold``).

    >>> import backprop as bp
    >>> bp.arange(5).unfold(0, 2, 2).tolist()
    [[0, 1], [2, 3]]
    """
    size, step = int(size), int(step)
    ndim = input.ndim
    d = check_dim("unfold", dimension, max(ndim, 1))
    n = input.shape[d] if ndim else 1
    if size < 0 or size > n:
        raise ShapeError(f"unfold: size {size} must lie in [0, {n}], the size of dim {dimension} "
                         f"(tensor shape {format_shape(input.shape)})")
    if step <= 0:
        raise ValueError(f"unfold: step must be positive, got {step}")
    return _unfold(input, d, size, step)


def unfold_copy(input: Any, dimension: int, size: int, step: int) -> Any:
    """``unfold`` as a new tensor, not a view.

    >>> import backprop as bp
    >>> bp.unfold_copy(bp.arange(3), 0, 2, 1).tolist()
    [[0, 1], [1, 2]]
    """
    return clone(unfold(input, dimension, size, step))


# -- conjugate transposes ------------------------------------------------------------------------

def _mH(self: Tensor) -> Tensor:
    """The last two dims swapped and conjugated; for real tensors ``mT``."""
    from .shape import _mT  # noqa: PLC0415 - one place defines the transpose

    if self.ndim == 0:  # PyTorch still takes a 0-d tensor (deprecated there): x.conj()
        return self.conj() if self.dtype.kind == "c" else self
    if self.ndim == 1:
        raise ShapeError(f"mH: expects a matrix or a batch of matrices, got a 1-d tensor of "
                         f"shape {format_shape(self.shape)}")
    out = _mT(self)
    return out.conj() if out.dtype.kind == "c" else out


def _H(self: Tensor) -> Tensor:
    """A matrix's conjugate transpose (``t()`` and conjugate); 0-d and 1-d refused as PyTorch."""
    if self.ndim not in (0, 2):
        raise ShapeError(f"H: expects a matrix (or a 0-d tensor), got shape "
                         f"{format_shape(self.shape)}; use .mH for a batch of matrices")
    out = self.t()
    return out.conj() if out.dtype.kind == "c" else out


__all__ = [
    "slice", "slice_scatter", "select_scatter", "diagonal", "diagonal_copy", "diagonal_scatter",
    "diag", "diag_embed", "diagflat", "as_strided", "as_strided_copy", "as_strided_scatter",
    "unfold_copy",
]
