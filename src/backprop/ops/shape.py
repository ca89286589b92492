"""Shape ops: reshape and view, flatten, squeeze and unsqueeze, permute and transpose,
broadcast and expand.

Most are views of their input (``view=True``). Their VJPs only move gradient values around, so
each is written with the primitives of this module, which keeps grad-of-grad exact. The argument
helpers at the top (and ``_sum_axes``, the ``sum`` that pad's and repeat's VJPs use) are shared
with join.py and rearrange.py, which import from this module, never the other way round.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..errors import DimError, ShapeError, check_dim, format_shape
from ..tensor import Tensor
from .primitive import primitive


# -- argument helpers -----------------------------------------------------------------------------

def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(shape) == 1:
        first = shape[0]
        if type(first) is tuple:  # f((2, 3)), the common call: no new tuple
            shape = first
        elif isinstance(first, (tuple, list)):
            shape = tuple(first)
    for n in shape:
        if type(n) is not int:
            return tuple(map(int, shape))  # NumPy integers, one-element tensors: as ints
    return shape  # ints already (every call on the hot path): no new tuple


def _int_tuple(dims: Any) -> tuple[int, ...]:
    """An int or a sequence of ints as a tuple of ints."""
    if isinstance(dims, (tuple, list)):
        return tuple(int(d) for d in dims)
    return (int(dims),)


def _check_dims(op: str, dims: Any, ndim: int) -> tuple[int, ...]:
    """Dims made non-negative (in the given order), each in range and named once."""
    if type(dims) is int and -ndim <= dims < ndim:  # one dim in range: the common call
        return (dims % ndim,)
    result = tuple(check_dim(op, d, ndim) for d in _int_tuple(dims))
    if len(set(result)) != len(result):
        raise DimError(f"{op}: dims {_int_tuple(dims)} name a dimension more than once")
    return result


def _check_new_dim(op: str, dim: int, ndim: int) -> int:
    """A dim for a new axis (unsqueeze, stack): valid in ``[-ndim - 1, ndim]``."""
    dim = int(dim)
    if not -ndim - 1 <= dim <= ndim:
        raise DimError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimension"
                       f"{'' if ndim == 1 else 's'} (expected a value in [{-ndim - 1}, {ndim}])")
    return dim % (ndim + 1)


def _explain_dims(op: str) -> Any:
    """An ``explain`` that passes our own errors through and names the op in NumPy's AxisError."""

    def explain(err: Exception, *args: Any) -> Exception | None:
        if isinstance(err, (ShapeError, DimError)):
            return err
        if isinstance(err, np.exceptions.AxisError) and err.axis is not None:
            n = max(err.ndim, 1)
            return DimError(f"{op}: dim {err.axis} is out of range for a tensor with {err.ndim} "
                            f"dimension{'' if err.ndim == 1 else 's'} (expected a value in "
                            f"[{-n}, {n - 1}])")
        return None

    return explain


def _check_not_scalar(op: str, input: Any) -> None:
    if input.ndim == 0:
        raise DimError(f"{op}: cannot be applied to a 0-d tensor (it has no dims); reshape it to "
                       "1-d first")


def _selected(op: str, input: Any, dim: int, index: int) -> tuple[int, int]:
    """``(dim, index)`` of ``select``'s slice, both made nonnegative, or the op's error."""
    _check_not_scalar(op, input)
    shape = input.shape
    d = check_dim(op, dim, len(shape))
    n = shape[d]
    if not -n <= int(index) < n:
        raise IndexError(f"{op}: index {index} is out of range for dim {dim} of size {n} "
                         f"(tensor shape {format_shape(shape)})")
    return d, int(index) % n


def _sum_axes(g: Any, axes: tuple[int, ...], keepdim: bool) -> Any:
    # reduction.py imports this module, so its sum primitive is looked up when a VJP runs.
    from .reduction import _sum  # noqa: PLC0415

    return _sum(g, axes, keepdim)


# -- reshape, view, flatten, squeeze, unsqueeze ---------------------------------------------------

def _explain_shape(op: str) -> Any:
    def explain(err: Exception, input: Any, shape: tuple[int, ...]) -> Exception:
        if isinstance(err, (ShapeError, DimError)):
            return err
        if shape.count(-1) > 1:
            return ShapeError(f"{op}: only one dimension can be inferred (-1), got shape "
                              f"{format_shape(shape)}")
        known = math.prod(n for n in shape if n != -1)
        fits = (input.size % known == 0 if known else input.size == 0) if -1 in shape \
            else known == input.size
        if not fits or any(n < -1 for n in shape):
            return ShapeError(f"{op}: cannot {op} a tensor of shape {format_shape(input.shape)} "
                              f"({input.size} elements) into {format_shape(shape)}")
        return ShapeError(f"{op}: a tensor of shape {format_shape(input.shape)} with strides "
                          f"{input.strides} cannot be viewed as {format_shape(shape)} without a "
                          "copy (its memory is not laid out in that order, e.g. after transpose "
                          "or permute); use .reshape(...), which copies when needed, or call "
                          ".contiguous() first")

    return explain


@primitive("reshape", view=True, explain=_explain_shape("reshape"), grads={
    "input": lambda g, out, input, shape: reshape(g, input.shape),
})
def _reshape(input: Any, shape: tuple[int, ...]) -> Any:
    return input.reshape(shape)  # the method: np.reshape's dispatch costs more than a view


def reshape(input: Any, *shape: Any) -> Any:
    """The same values in a new shape (one dim may be -1); a view when the layout allows.

    >>> import backprop as bp
    >>> bp.arange(6).reshape(2, -1).shape
    (2, 3)
    """
    return _reshape(input, _shape_arg(shape))


@primitive("view", view=True, explain=_explain_shape("view"), grads={
    "input": lambda g, out, input, shape: reshape(g, input.shape),
})
def _view(input: Any, shape: tuple[int, ...]) -> Any:
    if type(input) is np.ndarray:  # the method (CuPy's takes no ``copy``): half the time
        if input.flags.c_contiguous:
            return input.reshape(shape)  # never a copy: no need to ask for none (faster still)
        return input.reshape(shape, copy=False)
    return np.reshape(input, shape, copy=False)


def view(input: Any, *shape: Any) -> Any:
    """A view with a new shape (one dim may be -1); unlike ``reshape`` it never copies, and
    refuses when the memory layout does not allow it (e.g. after ``transpose``).

    >>> import backprop as bp
    >>> bp.arange(6).view(3, 2).shape
    (3, 2)
    """
    return _view(input, _shape_arg(shape))


def view_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.view(other.shape)``."""
    return _view(input, other.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.reshape(other.shape)``."""
    return _reshape(input, other.shape)


def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Any:
    """Merge dims ``start_dim..end_dim`` into one (a 0-d tensor becomes 1-d).

    >>> import backprop as bp
    >>> bp.zeros(2, 3, 4).flatten(1).shape
    (2, 12)
    """
    shape = input.shape
    if not shape:
        return _reshape(input, (1,))
    if start_dim == 0 and end_dim == -1 and type(start_dim) is int and type(end_dim) is int:
        if len(shape) == 1:
            return input  # PyTorch returns the input itself when nothing is merged
        return _reshape(input, (-1,))  # every dim merged: the default call, checks skipped
    start = check_dim("flatten", start_dim, len(shape))
    end = check_dim("flatten", end_dim, len(shape))
    if start > end:
        raise DimError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a "
                       f"tensor with {len(shape)} dimensions")
    if start == end:
        return input  # PyTorch returns the input itself when nothing is merged
    merged = math.prod(shape[start:end + 1])
    return _reshape(input, shape[:start] + (merged,) + shape[end + 1:])


def unflatten(input: Any, dim: int, sizes: Sequence[int]) -> Any:
    """Split dim ``dim`` into ``sizes`` (one may be -1).

    >>> import backprop as bp
    >>> bp.zeros(2, 12).unflatten(1, (3, -1)).shape
    (2, 3, 4)
    """
    shape = input.shape
    d = check_dim("unflatten", dim, len(shape))
    return _reshape(input, shape[:d] + _shape_arg((sizes,)) + shape[d + 1:])


@primitive("squeeze", view=True, grads={
    "input": lambda g, out, input, dims: reshape(g, input.shape),
})
def _squeeze(input: Any, dims: tuple[int, ...]) -> Any:
    return input.squeeze(dims)


def squeeze(input: Any, dim: int | Sequence[int] | None = None) -> Any:
    """Remove dims of size 1: all of them, or those among ``dim`` (an int or a tuple); a named
    dim whose size is not 1 is left as it is, as in PyTorch.

    >>> import backprop as bp
    >>> bp.zeros(2, 1, 3, 1).squeeze().shape, bp.zeros(2, 1, 3, 1).squeeze(1).shape
    ((2, 3), (2, 3, 1))
    """
    shape = input.shape
    if dim is None:
        dims = tuple(i for i, n in enumerate(shape) if n == 1)
    else:
        dims = _check_dims("squeeze", dim, len(shape))
        dims = tuple(d for d in dims if shape and shape[d] == 1)
    return _squeeze(input, dims)


@primitive("unsqueeze", view=True, grads={"input": lambda g, out, input, dim: _squeeze(g, (dim,))})
def _unsqueeze(input: Any, dim: int) -> Any:
    shape = input.shape
    return input.reshape(shape[:dim] + (1,) + shape[dim:])  # faster than np.expand_dims


def unsqueeze(input: Any, dim: int) -> Any:
    """Insert a dim of size 1 at ``dim`` (in ``[-ndim - 1, ndim]``).

    >>> import backprop as bp
    >>> bp.zeros(2, 3).unsqueeze(-1).shape
    (2, 3, 1)
    """
    return _unsqueeze(input, _check_new_dim("unsqueeze", dim, input.ndim))


# -- permute, transpose, movedim ----------------------------------------------------------------

def _explain_permute(err: Exception, input: Any, dims: tuple[int, ...]) -> Exception | None:
    ndim = input.ndim
    if len(dims) != ndim:
        return ShapeError(f"permute: dims {dims} has {len(dims)} entries but the tensor of shape "
                          f"{format_shape(input.shape)} has {ndim} dimensions; give each dim once")
    explained = _explain_dims("permute")(err, input, dims)
    if explained is not None:
        return explained
    return DimError(f"permute: dims {dims} is not a permutation of the {ndim} dimensions of a "
                    f"tensor of shape {format_shape(input.shape)}: a dimension is named twice")


def _inverse_permutation(dims: tuple[int, ...]) -> tuple[int, ...]:
    inverse = [0] * len(dims)
    for i, d in enumerate(dims):
        inverse[d % len(dims)] = i
    return tuple(inverse)


@primitive("permute", view=True, explain=_explain_permute, grads={
    "input": lambda g, out, input, dims: _permute(g, _inverse_permutation(dims)),
})
def _permute(input: Any, dims: tuple[int, ...]) -> Any:
    return input.transpose(dims)


def permute(input: Any, *dims: Any) -> Any:
    """Reorder the dims: result dim ``i`` is input dim ``dims[i]``.

    >>> import backprop as bp
    >>> bp.zeros(2, 3, 4).permute(2, 0, 1).shape
    (4, 2, 3)
    """
    return _permute(input, _shape_arg(dims))


@primitive("transpose", view=True, explain=_explain_dims("transpose"), grads={
    "input": lambda g, out, input, dim0, dim1: _transpose(g, dim0, dim1),
})
def _transpose(input: Any, dim0: int, dim1: int) -> Any:
    if input.ndim == 0:  # PyTorch accepts dims 0 and -1 on a scalar
        check_dim("transpose", dim0, 0)
        check_dim("transpose", dim1, 0)
        return input.view()
    return input.swapaxes(dim0, dim1)


def transpose(input: Any, dim0: int, dim1: int) -> Any:
    """Swap dims ``dim0`` and ``dim1`` (a view). ``swapaxes`` and ``swapdims`` are aliases.

    >>> import backprop as bp
    >>> bp.zeros(2, 3, 4).transpose(0, -1).shape
    (4, 3, 2)
    """
    return _transpose(input, int(dim0), int(dim1))


swapaxes = swapdims = transpose


def t(input: Any) -> Any:
    """Transpose a matrix; 0-d and 1-d tensors are returned as they are (as views).

    >>> import backprop as bp
    >>> bp.zeros(2, 3).t().shape
    (3, 2)
    """
    ndim = input.ndim
    if ndim > 2:
        raise ShapeError(f"t: expects a tensor with at most 2 dimensions, got shape "
                         f"{format_shape(input.shape)}; use transpose(dim0, dim1) or .mT")
    return _transpose(input, 0, ndim - 1 if ndim else 0)


def movedim(input: Any, source: int | Sequence[int], destination: int | Sequence[int]) -> Any:
    """Move dims ``source`` to positions ``destination``; the others keep their order.

    >>> import backprop as bp
    >>> bp.zeros(2, 3, 4).movedim(0, -1).shape
    (3, 4, 2)
    """
    ndim = input.ndim
    src = _check_dims("movedim", source, ndim)
    dst = _check_dims("movedim", destination, ndim)
    if len(src) != len(dst):
        raise ShapeError(f"movedim: source {source} and destination {destination} must name the "
                         "same number of dims")
    order = [d for d in range(ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _permute(input, tuple(order))


moveaxis = movedim


def _T(self: Tensor) -> Tensor:
    """All dims reversed (``permute(n-1, ..., 0)``): a matrix's transpose."""
    return _permute(self, tuple(range(self.ndim - 1, -1, -1)))


def _mT(self: Tensor) -> Tensor:
    """The last two dims swapped: a batch of matrices transposed."""
    if self.ndim < 2:
        raise ShapeError(f"mT: expects a matrix or a batch of matrices, got a {self.ndim}-d tensor "
                         f"of shape {format_shape(self.shape)}")
    return _transpose(self, -2, -1)


# -- broadcast_to, expand -------------------------------------------------------------------------

def _explain_broadcast(op: str) -> Any:
    def explain(err: Exception, input: Any, shape: tuple[int, ...]) -> Exception:
        return ShapeError(f"{op}: cannot broadcast a tensor of shape {format_shape(input.shape)} "
                          f"to {format_shape(shape)}: each dimension must match or be 1 (counting "
                          "from the right)")

    return explain


# The engine sums a gradient down to its input's shape, which is exactly broadcast_to's VJP.
@primitive("broadcast_to", view=True, explain=_explain_broadcast("broadcast_to"), grads={
    "input": lambda g, out, input, shape: g,
})
def _broadcast_to(input: Any, shape: tuple[int, ...]) -> Any:
    if type(input) is np.ndarray and input.flags.c_contiguous:  # _broadcast's first path
        out = _broadcast_contiguous(input, shape)
        if out is not None:
            return out
    return _broadcast(input, shape)


def broadcast_to(input: Any, *shape: Any) -> Any:
    """A read-only view of ``input`` broadcast to ``shape``.

    >>> import backprop as bp
    >>> bp.ones(3).broadcast_to((2, 3)).shape
    (2, 3)
    """
    return _broadcast_to(input, _shape_arg(shape))


@primitive("expand", view=True, explain=_explain_broadcast("expand"), grads={
    "input": lambda g, out, input, shape: g,
})
def _expand(input: Any, shape: tuple[int, ...]) -> Any:
    return _broadcast(input, shape)


_BROADCAST_FLAGS = ["multi_index", "refs_ok", "zerosize_ok"]


def _broadcast(input: Any, shape: tuple[int, ...]) -> Any:
    """``np.broadcast_to(input, shape)``: a read-only view. For a NumPy array it is made as
    np.broadcast_to makes it, an nditer's view, without that function's Python checks (half
    its time; a negative size, which the nditer would not refuse, goes there)."""
    if type(input) is np.ndarray and input.flags.c_contiguous:
        out = _broadcast_contiguous(input, shape)
        if out is not None:
            return out
    if type(input) is np.ndarray and min(shape, default=0) >= 0:
        with np.nditer((input,), flags=_BROADCAST_FLAGS, op_flags=["readonly"],
                       itershape=shape, order="C") as it:
            return it.itviews[0]
    return np.broadcast_to(input, shape)


def _broadcast_contiguous(input: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """The broadcast view of a C-contiguous array made by the ndarray constructor over its
    memory (a fifth of the nditer's time); None where a dim does not broadcast (the nditer
    path words the error). Its base is the array owning the memory, as for any NumPy view."""
    if type(shape) is not tuple:  # (a list from some caller: not a key)
        return None
    key = (input.shape, input.strides, shape)
    strides = _BROADCAST_STRIDES.get(key)
    if strides is None:
        strides = _broadcast_strides(input, shape)
        if strides is None:
            return None
        if len(_BROADCAST_STRIDES) > 256:  # many shapes seen: start afresh rather than grow
            _BROADCAST_STRIDES.clear()
        _BROADCAST_STRIDES[key] = strides
    out = np.ndarray(shape, input.dtype, input, 0, strides)
    out.setflags(write=False)  # as np.broadcast_to's: writes would land on repeated elements
    return out


# The strides of a broadcast by (input shape, input strides, target shape): the same broadcast
# recurs (a bias to a batch), and the lookup costs a third of working them out.
_BROADCAST_STRIDES: dict[tuple, tuple[int, ...]] = {}


def _broadcast_strides(input: np.ndarray, shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """The strides of input broadcast to ``shape`` (0 on repeated dims), or None where a dim
    does not broadcast."""
    lead = len(shape) - input.ndim
    if lead < 0 or (lead and min(shape[:lead]) < 0):
        return None
    strides = input.strides
    if input.shape != shape[lead:]:  # some size-1 dims repeated: stride 0 there
        kept = []
        for n, size, stride in zip(shape[lead:], input.shape, strides):
            if size != n and (size != 1 or n < 0):
                return None
            kept.append(stride if size == n else 0)
        strides = tuple(kept)
    return (0,) * lead + strides if lead else strides


def expand(input: Any, *sizes: Any) -> Any:
    """A view with size-1 dims repeated to ``sizes`` (-1 keeps a dim; new dims go in front).

    >>> import backprop as bp
    >>> bp.ones(3, 1).expand(2, -1, 4).shape
    (2, 3, 4)
    """
    sizes = _shape_arg(sizes)
    shape = input.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise ShapeError(f"expand: {len(sizes)} sizes {format_shape(sizes)} given for a tensor of "
                         f"shape {format_shape(shape)}; give at least one per dimension")
    if -1 in sizes:
        target = list(sizes)
        for i, n in enumerate(sizes):
            if n == -1:
                if i < lead:
                    raise ShapeError(f"expand: size -1 is not allowed for the new leading dim {i} "
                                     f"(sizes {format_shape(sizes)}, tensor shape "
                                     f"{format_shape(shape)})")
                target[i] = shape[i - lead]
        sizes = tuple(target)
    return _expand(input, sizes)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.expand(other.shape)``."""
    return _expand(input, other.shape)


__all__ = [
    "reshape", "view", "flatten", "unflatten", "squeeze", "unsqueeze", "permute", "transpose",
    "swapaxes", "swapdims", "t", "movedim", "moveaxis", "broadcast_to", "expand",
]
