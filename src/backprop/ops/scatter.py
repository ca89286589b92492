"""Ops along a dim and masks: gather, scatter and scatter_add, index_select and index_add,
take_along_dim, masked_fill, one_hot and nonzero, with the in-place forms.

As in indexing.py, every read is a gather of some positions whose VJP writes the gradient back
into zeros at the same positions (indexing.py's ``getitem_backward``, itself differentiable, so
grad-of-grad works); writes that may hit a position twice accumulate (``_add_into``). Index
arguments must be integer tensors or arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..backends import numba_indexing
from ..autograd import grad_mode
from ..autograd import observers as _observers
from ..errors import DTypeError, ShapeError, check_dim, format_shape
from ..tensor import Tensor
from . import elementwise as ew
from .indexing import _add_into, _getitem, _getitem_backward
from .inplace import apply_inplace
from .primitive import primitive
from .shape import broadcast_to, reshape

_FULL = slice(None)


# -- gather and scatter along a dim ---------------------------------------------------------------

def _shape(value: Any) -> tuple[int, ...]:
    return tuple(value.shape) if hasattr(value, "shape") else np.shape(value)


def _index_array(op: str, index: Any, name: str = "index") -> np.ndarray:
    if isinstance(index, Tensor):
        array = index._data
    elif isinstance(index, backend.ARRAY_TYPES):
        array = index
    else:
        array = np.asarray(index)
    if array.dtype.kind not in "iu":
        raise DTypeError(f"{op}: {name} must be an integer (int64) tensor, got {array.dtype}; "
                         "convert it with .long()")
    return array


def _check_range(op: str, index: np.ndarray, size: int, dim: int) -> None:
    # Seen as unsigned, a negative index is huge: one reduction tells both bounds
    if (type(index) is np.ndarray and index.dtype.kind == "i" and index.size
            and int(np.maximum.reduce(index.view(index.dtype.str.replace("i", "u")), None))
            < size):
        return
    if index.size:
        # The ufuncs' reduce, not ndarray.min/max (whose Python wrappers cost as much again)
        low, high = np.minimum.reduce(index, None), np.maximum.reduce(index, None)
        if low < 0 or high >= size:
            bad = int(low if low < 0 else high)
            raise IndexError(f"{op}: index {bad} is out of range for dimension {dim} with size "
                             f"{size} (expected values in [0, {size - 1}])")


def _dims(n: int) -> str:
    return f"{n} dimension" + ("" if n == 1 else "s")


def _check_along_dim(op: str, input: Any, dim: int, index: np.ndarray,
                     src: Any = None, values: bool = True) -> int:
    """PyTorch's rules for gather/scatter: same ndim everywhere, the index no larger than src
    anywhere nor than input outside ``dim``, its values inside ``input.shape[dim]`` (checked
    unless ``values`` is False: a kernel that checks them as it reads runs next)."""
    shape = tuple(input.shape)
    if index.ndim != len(shape):
        raise ShapeError(f"{op}: index has {_dims(index.ndim)} but input has {_dims(len(shape))} "
                         f"(input {format_shape(shape)}, index {format_shape(index.shape)}); "
                         "they must have the same number of dimensions")
    dim = check_dim(op, dim, len(shape))
    for d, (n, m) in enumerate(zip(index.shape, shape)):
        if d != dim and n > m:
            raise ShapeError(f"{op}: index of shape {format_shape(index.shape)} is larger than "
                             f"input of shape {format_shape(shape)} at dimension {d}; outside "
                             f"dim {dim} it may not exceed the input")
    if src is not None:
        src_shape = _shape(src)
        if len(src_shape) != index.ndim or any(n > m for n, m in zip(index.shape, src_shape)):
            raise ShapeError(f"{op}: index of shape {format_shape(index.shape)} is larger than "
                             f"src of shape {format_shape(src_shape)}; src must have the same "
                             "number of dimensions and be at least as large in each")
    if values:
        _check_range(op, index, shape[dim] if shape else 1, dim)
    return dim


def _unrecorded(*tensors: Any) -> bool:
    """Whether a call on these operands (NumPy tensors, none recorded, no observer) may run a
    kernel directly, without the primitive's dispatch."""
    if _observers.REGISTRY.count:
        return False
    enabled = grad_mode.state.enabled
    for t in tensors:
        if type(t) is not Tensor or type(t._data) is not np.ndarray or (
                t._requires_grad and enabled):
            return False
    return True


def _along_dim_key(dim: int, index: np.ndarray) -> tuple:
    """The key reading ``input[i0, .., index[i0, .., ik, ..], .., ik]`` at each index position."""
    key = []
    host = type(index) is np.ndarray
    for d, n in enumerate(index.shape):
        if d == dim:
            key.append(index)
        elif host:
            key.append(_host_range(n, d, index.ndim))
        else:
            shape = [1] * index.ndim
            shape[d] = n
            key.append(backend.arange(n, index).reshape(shape))
    return tuple(key)


_RANGES: dict[tuple[int, int, int], np.ndarray] = {}


def _host_range(n: int, d: int, ndim: int) -> np.ndarray:
    """``arange(n)`` shaped to lie along dim ``d`` of ``ndim``, kept (read-only) across calls:
    gather and scatter along a dim of the same shape reuse the same ranges."""
    key = (n, d, ndim)
    found = _RANGES.get(key)
    if found is None:
        if len(_RANGES) > 256:  # many shapes seen: start afresh rather than grow
            _RANGES.clear()
        shape = [1] * ndim
        shape[d] = n
        found = _RANGES[key] = np.arange(n).reshape(shape)
        found.setflags(write=False)
    return found


def _leading_block(shape: tuple[int, ...]) -> tuple:
    return tuple(slice(0, n) for n in shape)


def _src_grad(g: Any, dim: int, index: np.ndarray, src: Any) -> Any:
    """Gradient of a scatter's src: g read at the index, zero where src was not used."""
    grad = _gather(g, dim, index)
    if tuple(src.shape) != index.shape:
        grad = _getitem_backward(grad, tuple(src.shape), _leading_block(index.shape))
    return grad


def _src_block(src: Any, index: np.ndarray) -> Any:
    return src if np.shape(src) == index.shape else src[_leading_block(index.shape)]


@primitive("gather", grads={
    "input": lambda g, out, input, dim, index:
    _getitem_backward(g, input.shape, _along_dim_key(dim, index)),
})
def _gather(input: Any, dim: int, index: np.ndarray) -> Any:
    if (type(input) is np.ndarray and type(index) is np.ndarray and input.flags.c_contiguous
            and input.ndim == index.ndim > dim):
        # One flat index (index's positions plus the offsets of the other dims, which depend on
        # the shapes alone): a third faster than fancy indexing with one array per dim.
        step = input.strides[dim] // input.itemsize
        flat = _flat_offsets(input.shape, dim, index.shape)
        return input.reshape(-1)[(index * step if step != 1 else index) + flat]
    return input[_along_dim_key(dim, index)]


_OFFSETS: dict[tuple, np.ndarray] = {}


def _flat_offsets(shape: tuple[int, ...], dim: int, index_shape: tuple[int, ...]) -> np.ndarray:
    """Where each index position's row starts in a C-contiguous array of ``shape`` read flat
    (dim ``dim`` left out), broadcastable to ``index_shape``; kept across calls."""
    key = (shape, dim, index_shape)
    found = _OFFSETS.get(key)
    if found is None:
        if len(_OFFSETS) > 256:  # many shapes seen: start afresh rather than grow
            _OFFSETS.clear()
        found = np.zeros((1,) * len(shape), dtype=np.intp)
        step = 1
        for d in range(len(shape) - 1, -1, -1):
            if d != dim:
                found = found + _host_range(index_shape[d], d, len(shape)) * step
            step *= shape[d]
        found.setflags(write=False)
        _OFFSETS[key] = found
    return found


def gather(input: Tensor, dim: int, index: Any, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j] = input[index[i][j]][j]`` (dim 0; likewise along any dim).

    ``index`` has ``input``'s number of dimensions and may be smaller outside ``dim``.

    >>> import backprop as bp
    >>> x = bp.tensor([[1., 2.], [3., 4.]])
    >>> bp.gather(x, 1, bp.tensor([[0, 0], [1, 0]])).tolist()
    [[1.0, 1.0], [4.0, 3.0]]
    """
    index = _index_array("gather", index)
    if index.size == 0:  # PyTorch takes an empty index of any shape
        return input.reshape(-1)[:0].reshape(index.shape)
    if input.ndim == 0:  # PyTorch reads a 0-d input as one value along dim 0
        check_dim("gather", dim, 1)
        return gather(input.reshape(1), 0, index.reshape(-1)).reshape(index.shape)
    dim = _check_along_dim("gather", input, dim, index, values=False)
    if _unrecorded(input):
        # No node to record and no observer: the forward alone, without the primitive's
        # dispatch (as split's pieces; a third of the call at this size); the compiled kernel
        # checks the index as it reads.
        data = input._data
        out = numba_indexing.gather(data, dim, index)
        if out is None:
            _check_range("gather", index, input.shape[dim], dim)
            out = _gather.forward(data, dim, index)
        return Tensor._wrap(out)
    _check_range("gather", index, input.shape[dim], dim)
    return _gather(input, dim, index)


_gather.kernel(np.ndarray, compiled=True)(numba_indexing.gather)


@primitive("scatter_add", grads={
    "input": lambda g, out, input, dim, index, src: g,
    "src": lambda g, out, input, dim, index, src: _src_grad(g, dim, index, src),
})
def _scatter_add(input: Any, dim: int, index: np.ndarray, src: Any) -> Any:
    out = backend.as_array(input).copy()  # a rule's 0-d operand may be a NumPy scalar
    _add_into(out, _along_dim_key(dim, index), _src_block(src, index))
    return out


def scatter_add(input: Tensor, dim: int, index: Any, src: Any) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats add up):
    ``out[index[i][j]][j] += src[i][j]`` for dim 0.

    >>> import backprop as bp
    >>> bp.scatter_add(bp.zeros(3), 0, bp.tensor([0, 2, 0]), bp.tensor([1., 2., 3.])).tolist()
    [4.0, 0.0, 2.0]
    """
    index = _index_array("scatter_add", index)
    dim = _check_along_dim("scatter_add", input, dim, index, src, values=False)
    if _unrecorded(input, src):
        out = numba_indexing.scatter_add(input._data, dim, index, src._data)
        if out is not None:
            return Tensor._wrap(out)
    _check_range("scatter_add", index, input.shape[dim] if input.ndim else 1, dim)
    return _scatter_add(input, dim, index, src)


_scatter_add.kernel(np.ndarray, compiled=True)(numba_indexing.scatter_add)


# Overwritten positions pass no gradient to input. Where the index repeats a position, only one
# write lands (which one is undefined, in PyTorch too), yet each src element gets g there.
@primitive("scatter", grads={
    "input": lambda g, out, input, dim, index, src: _scatter(g, dim, index, 0.0),
    "src": lambda g, out, input, dim, index, src: _src_grad(g, dim, index, src),
})
def _scatter(input: Any, dim: int, index: np.ndarray, src: Any) -> Any:
    out = backend.as_array(input).copy()  # a rule's 0-d gradient may be a NumPy scalar
    out[_along_dim_key(dim, index)] = src if np.ndim(src) == 0 else _src_block(src, index)
    return out


# scatter's legacy ``reduce=`` names for scatter_reduce's reductions.
_SCATTER_REDUCTIONS = {"add": "sum", "multiply": "prod"}


def scatter(input: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor, or a number ``value``) written at ``index``
    along ``dim``: ``out[index[i][j]][j] = src[i][j]`` for dim 0. With ``reduce='add'`` or
    ``'multiply'`` each value is added to (multiplied into) the entry instead, repeats included
    (``scatter_reduce`` with ``'sum'`` or ``'prod'``).

    >>> import backprop as bp
    >>> bp.scatter(bp.zeros(2, 2), 1, bp.tensor([[1], [0]]), value=7.).tolist()
    [[0.0, 7.0], [7.0, 0.0]]
    >>> bp.scatter(bp.ones(3), 0, bp.tensor([0, 0]), value=2., reduce='multiply').tolist()
    [4.0, 1.0, 1.0]
    """
    if src is None:
        if value is None:
            raise TypeError("scatter: give src (a tensor) or value (a number)")
        src = value
    index = _index_array("scatter", index)
    if reduce is not None:
        if reduce not in _SCATTER_REDUCTIONS:
            raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r} "
                             "(scatter_reduce has 'sum', 'prod', 'mean', 'amax' and 'amin')")
        if not isinstance(src, (Tensor, np.ndarray)):
            filled = backend.empty(index.shape, backend.array_of(input).dtype, input)
            filled[...] = src
            src = filled
        return scatter_reduce(input, dim, index, src, _SCATTER_REDUCTIONS[reduce])
    if isinstance(src, (Tensor, np.ndarray)):
        dim = _check_along_dim("scatter", input, dim, index, src)
    else:
        dim = _check_along_dim("scatter", input, dim, index)
    return _scatter(input, dim, index, src)


_REDUCE_UFUNCS = {"sum": np.add, "prod": np.multiply, "mean": np.add, "amax": np.maximum,
                  "amin": np.minimum}


def _reduce_identity(reduce: str, dtype: np.dtype) -> Any:
    """The value an entry starts from when ``include_self=False`` leaves its own out."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind in "fV":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype) if dtype.kind in "iu" else np.iinfo(np.uint8)
    return info.min if reduce == "amax" else info.max


def _scatter_counts(shape: tuple[int, ...], dtype: np.dtype, dim: int, index: np.ndarray,
                    include_self: bool) -> np.ndarray:
    """How many values each entry of a 'mean' averages (1 where none: PyTorch divides by 1)."""
    counts = backend.zeros(shape, dtype, index)
    backend.add_at(counts, _along_dim_key(dim, index), 1)
    if include_self:
        counts += 1
    counts[counts == 0] = 1
    return counts


def _used_src(src: Any, index: np.ndarray) -> Any:
    """The leading block of ``src`` that the index reads (src may be larger)."""
    return src if _shape(src) == index.shape else src[_leading_block(index.shape)]


def extremum_or_product_grads(g: Any, out: Any, input: Any, src: Any, reduce: str, *,
                              gather: Any, add_into: Any, reduce_into: Any) -> tuple[Any, Any]:
    """The gradients of input and src for a reduction of src into input by 'amax'/'amin' (g
    shared evenly among the values equal to the result) or 'prod' (each value gets the product
    of the others, never a division by a zero). Shared by scatter_reduce and index_reduce, which
    differ in how a position is read (``gather(t)``: t at each src position), added into
    (``add_into(base, t)``) and reduced into (``reduce_into(base, t)``)."""
    dtype = backend.array_of(g).dtype
    if reduce in ("amax", "amin"):
        input_wins = ew.eq(input, out)
        src_wins = ew.eq(src, gather(out))
        shared = g / add_into(ew._to_dtype(input_wins, dtype), ew._to_dtype(src_wins, dtype))
        return ew.where(input_wins, shared, 0.0), ew.where(src_wins, gather(shared), 0.0)
    # A zero's own gradient is the product of the rest: recomputed with that zero made 1 (an
    # input zero; a src zero alone at its position), never a division by it.
    masked_input = ew.where(ew.eq(input, 0), 1.0, input)
    grad_input = g * reduce_into(masked_input, src) / masked_input
    src_zero = ew.eq(src, 0)
    zeros_at = gather(add_into(backend.zeros(out.shape, dtype, g), ew._to_dtype(src_zero, dtype)))
    lone_zero = ew.logical_and(src_zero, ew.eq(zeros_at, 1))
    without_zero = reduce_into(input, ew.where(lone_zero, 1.0, src))
    grad_src = ew.where(lone_zero, gather(g * without_zero),
                        gather(g * out) / ew.where(src_zero, 1.0, src))
    return grad_input, grad_src


def _scatter_reduce_grad(g: Any, out: Any, input: Any, dim: int, index: np.ndarray, src: Any,
                         needs: tuple[bool, ...], reduce: str, include_self: bool) -> list:
    """PyTorch's gradients of scatter_reduce: 'sum' and 'mean' pass g on (divided by the count);
    'amax'/'amin' share it evenly among the values equal to the result; 'prod' gives each value
    the product of the others, computed without dividing by a zero."""
    used = _used_src(src, index)
    if reduce in ("sum", "mean"):
        if reduce == "mean":
            g = g / _scatter_counts(out.shape, g.dtype, dim, index, include_self)
        grad_input, grad_src = g, _gather(g, dim, index)
    else:
        grad_input, grad_src = extremum_or_product_grads(
            g, out, input, used, reduce,
            gather=lambda t: _gather(t, dim, index),
            add_into=lambda base, t: _scatter_add(base, dim, index, t),
            reduce_into=lambda base, t: _scatter_reduce(base, dim, index, t, reduce=reduce,
                                                        include_self=include_self))
    if not include_self:
        grad_input = _scatter(grad_input, dim, index, 0.0)
    if _shape(src) != index.shape:
        grad_src = _getitem_backward(grad_src, _shape(src), _leading_block(index.shape))
    return [grad_input if needs[0] else None, None, None, grad_src if needs[3] else None]


@primitive("scatter_reduce", save=("input", "src", "out"), grads=_scatter_reduce_grad)
def _scatter_reduce(input: Any, dim: int, index: np.ndarray, src: Any, *, reduce: str,
                    include_self: bool) -> Any:
    out = backend.as_array(input).copy()  # a rule's 0-d operand may be a NumPy scalar
    key = _along_dim_key(dim, index)
    if not include_self:
        out[key] = _reduce_identity(reduce, out.dtype)
    backend.ufunc_at(_REDUCE_UFUNCS[reduce], out, key, _src_block(src, index))
    if reduce == "mean":
        counts = _scatter_counts(out.shape, out.dtype, dim, index, include_self)
        out = out // counts if out.dtype.kind in "iu" else out / counts
    return out


def scatter_reduce(input: Tensor, dim: int, index: Any, src: Any, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """A copy of ``input`` with the values of ``src`` reduced into the entries ``index`` picks
    along ``dim`` (``out[index[i][j]][j] = reduce(out[index[i][j]][j], src[i][j])`` for dim 0);
    ``reduce`` is ``'sum'``, ``'prod'``, ``'mean'``, ``'amax'`` or ``'amin'``, and
    ``include_self=False`` leaves the entries' own values out of the ones written to.

    >>> import backprop as bp
    >>> x, i = bp.tensor([5., 5.]), bp.tensor([0, 0, 1])
    >>> bp.scatter_reduce(x, 0, i, bp.tensor([1., 3., 9.]), 'amax').tolist()
    [5.0, 9.0]
    >>> bp.scatter_reduce(x, 0, i, bp.tensor([1., 3., 9.]), 'mean', include_self=False).tolist()
    [2.0, 9.0]
    """
    if reduce not in _REDUCE_UFUNCS:
        raise ValueError(f"scatter_reduce: reduce must be 'sum', 'prod', 'mean', 'amax' or "
                         f"'amin', got {reduce!r}")
    index = _index_array("scatter_reduce", index)
    dim = _check_along_dim("scatter_reduce", input, dim, index, src)
    return _scatter_reduce(input, dim, index, src, reduce=reduce, include_self=include_self)


def _vector_index(op: str, index: Any) -> np.ndarray:
    index = _index_array(op, index)
    if index.ndim > 1:
        raise ShapeError(f"{op}: index must be a vector (1-D), got shape "
                         f"{format_shape(index.shape)}; flatten it first")
    return index.reshape(-1)


def _dim_key(dim: int, index: np.ndarray) -> tuple:
    return (_FULL,) * dim + (index,)


@primitive("index_select", grads={
    "input": lambda g, out, input, dim, index:
    _getitem_backward(g, input.shape, _dim_key(dim, index)),
})
def _index_select(input: Any, dim: int, index: np.ndarray) -> Any:
    return np.take(input, index, axis=dim)


def index_select(input: Tensor, dim: int, index: Any) -> Tensor:
    """The entries of ``input`` at positions ``index`` (a vector) along ``dim``.

    >>> import backprop as bp
    >>> bp.index_select(bp.arange(6.).reshape(2, 3), 1, bp.tensor([2, 0, 2])).tolist()
    [[2.0, 0.0, 2.0], [5.0, 3.0, 5.0]]
    """
    index = _vector_index("index_select", index)
    dim = check_dim("index_select", dim, input.ndim)
    _check_range("index_select", index, input.shape[dim] if input.ndim else 1, dim)
    if input.ndim == 0:
        return _getitem(input, ())
    return _index_select(input, dim, index)


@primitive("index_add", grads={
    "input": lambda g, out, input, dim, index, source: g,
    "source": lambda g, out, input, dim, index, source: _index_select(g, dim, index),
})
def _index_add(input: Any, dim: int, index: np.ndarray, source: Any) -> Any:
    out = input.copy()
    _add_into(out, _dim_key(dim, index), source)
    return out


def index_add(input: Tensor, dim: int, index: Any, source: Any, *, alpha: float = 1) -> Tensor:
    """A copy of ``input`` with ``alpha * source`` added at positions ``index`` along ``dim``
    (repeated positions add up).

    >>> import backprop as bp
    >>> bp.index_add(bp.zeros(3), 0, bp.tensor([0, 0, 2]), bp.tensor([1., 2., 3.])).tolist()
    [3.0, 0.0, 3.0]
    """
    index = _vector_index("index_add", index)
    if input.ndim == 0:  # PyTorch reads a 0-d input (and source) as one value along dim 0
        check_dim("index_add", dim, 1)
        one = index_add(input.reshape(1), 0, index, reshape(source, -1), alpha=alpha)
        return one.reshape(())
    dim = check_dim("index_add", dim, input.ndim)
    expected = list(input.shape)
    expected[dim] = index.size
    if _shape(source) != tuple(expected):
        raise ShapeError(f"index_add: source must have shape {format_shape(tuple(expected))} "
                         f"(input {format_shape(input.shape)} with dim {dim} of the index's "
                         f"length {index.size}), got {format_shape(_shape(source))}")
    _check_range("index_add", index, input.shape[dim], dim)
    if alpha != 1:
        source = ew.mul(source, alpha)
    return _index_add(input, dim, index, source)


def take_along_dim(input: Tensor, indices: Any, dim: int | None = None) -> Tensor:
    """Values of ``input`` at ``indices`` along ``dim`` (NumPy's ``take_along_axis``); the two
    broadcast outside ``dim``. With ``dim=None`` both are flattened first.

    >>> import backprop as bp
    >>> x = bp.tensor([[10., 30., 20.], [60., 40., 50.]])
    >>> bp.take_along_dim(x, bp.tensor([[1], [0]]), dim=1).tolist()
    [[30.0], [60.0]]
    """
    index = _index_array("take_along_dim", indices, "indices")
    if dim is None:
        input = reshape(input, -1)
        index = index.reshape(-1)
        dim = 0
    elif index.ndim != input.ndim:
        raise ShapeError(f"take_along_dim: input and indices must have the same number of "
                         f"dimensions, got input {format_shape(input.shape)} and indices "
                         f"{format_shape(index.shape)}")
    dim = check_dim("take_along_dim", dim, input.ndim)
    size = input.shape[dim] if input.ndim else 1
    if index.size and index.min() < 0:
        index = np.where(index < 0, index + size, index)  # negative positions count from the end
    if index.shape != input.shape:
        try:
            shape = list(np.broadcast_shapes(_with_dim(input.shape, dim, 1),
                                             _with_dim(index.shape, dim, 1)))
        except ValueError:
            raise ShapeError(f"take_along_dim: input {format_shape(input.shape)} and indices "
                             f"{format_shape(index.shape)} cannot be broadcast outside dim "
                             f"{dim}") from None
        input_shape = tuple(_with_dim(tuple(shape), dim, size))
        if input_shape != tuple(input.shape):
            input = broadcast_to(input, input_shape)
        index = np.broadcast_to(index, _with_dim(tuple(shape), dim, index.shape[dim]))
    _check_range("take_along_dim", index, size, dim)
    return _gather(input, dim, index)


def _with_dim(shape: tuple[int, ...], dim: int, n: int) -> tuple[int, ...]:
    return shape[:dim] + (n,) + shape[dim + 1:]


# -- masks ----------------------------------------------------------------------------------------

@primitive("masked_fill", save=("mask",), grads={
    "input": lambda g, out, input, mask, value: ew.where(mask, 0.0, g),
    "value": lambda g, out, input, mask, value: ew.where(mask, g, 0.0),
})
def _masked_fill(input: Any, mask: Any, value: Any) -> Any:
    out = np.where(mask, value, input)
    return out if out.dtype == input.dtype else out.astype(input.dtype)


def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:
    """``input`` with ``value`` wherever the bool ``mask`` (broadcast) is True.

    ``value`` is a number or a 0-d tensor; a tensor value gets the sum of the gradient over the
    filled positions.

    >>> import backprop as bp
    >>> x = bp.tensor([1., -2., 3.])
    >>> bp.masked_fill(x, x < 0, 0.).tolist()
    [1.0, 0.0, 3.0]
    """
    mask_dtype = mask.dtype if hasattr(mask, "dtype") else np.asarray(mask).dtype
    if mask_dtype != bool:
        raise DTypeError(f"masked_fill: mask must be a bool tensor, got {mask_dtype}; build it "
                         "with a comparison (x > 0) or convert with .bool()")
    if isinstance(value, (Tensor, np.ndarray)) and value.ndim != 0:
        raise ShapeError(f"masked_fill: value must be a number or a 0-dimensional tensor, got "
                         f"a tensor of shape {format_shape(value.shape)}")
    return _masked_fill(input, mask, value)


@primitive("one_hot", differentiable=False)
def _one_hot(tensor: Any, num_classes: int) -> Any:
    out = backend.zeros(tensor.shape + (num_classes,), np.int64, tensor)
    flat = out.reshape(-1, num_classes)
    flat[backend.arange(flat.shape[0], tensor), tensor.reshape(-1)] = 1
    return out


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices as one-hot int64 vectors in a new last dim of size ``num_classes``
    (``-1``: one more than the largest value).

    >>> import backprop as bp
    >>> bp.one_hot(bp.tensor([0, 2]), 3).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    data = _index_array("one_hot", tensor, "tensor")
    if num_classes == -1:
        if data.size == 0:
            raise ValueError("one_hot: cannot infer the number of classes from an empty tensor; "
                             "pass num_classes")
        num_classes = int(data.max()) + 1
    if data.size:
        low, high = data.min(), data.max()
        if low < 0:
            raise ValueError(f"one_hot: class values must be non-negative, got {low}")
        if high >= num_classes:
            raise ValueError(f"one_hot: class value {high} is out of range for num_classes="
                             f"{num_classes} (values must be in [0, {num_classes - 1}])")
    return _one_hot(tensor if isinstance(tensor, Tensor) else data, int(num_classes))


@primitive("nonzero", differentiable=False)
def _nonzero(input: Any) -> Any:
    return np.argwhere(input)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    """Positions of the non-zero entries: an int64 tensor of shape (count, ndim), or with
    ``as_tuple=True`` one 1-D tensor per dim (usable as an index).

    >>> import backprop as bp
    >>> bp.nonzero(bp.tensor([[0., 1.], [2., 0.]])).tolist()
    [[0, 1], [1, 0]]
    """
    positions = _nonzero(input)
    if not as_tuple:
        return positions
    if positions.shape[1] == 0:  # a 0-d input: PyTorch treats it as 1-D
        return (Tensor._wrap(backend.zeros(positions.shape[0], np.int64, positions._data)),)
    # .copy(), not np.ascontiguousarray: that one does not dispatch (it would leave the device).
    return tuple(Tensor._wrap(positions._data[:, d].copy())
                 for d in range(positions.shape[1]))


# -- in-place forms -------------------------------------------------------------------------------

def scatter_add_(self: Tensor, dim: int, index: Any, src: Any) -> Tensor:
    """``scatter_add`` in place."""
    return apply_inplace(self, "scatter_add_", lambda old: scatter_add(old, dim, index, src))


def scatter_(self: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
             reduce: str | None = None) -> Tensor:
    """``scatter`` in place."""
    return apply_inplace(self, "scatter_", lambda old: scatter(old, dim, index, src, value=value,
                                                               reduce=reduce))


def scatter_reduce_(self: Tensor, dim: int, index: Any, src: Any, reduce: str, *,
                    include_self: bool = True) -> Tensor:
    """``scatter_reduce`` in place."""
    return apply_inplace(self, "scatter_reduce_", lambda old: scatter_reduce(
        old, dim, index, src, reduce, include_self=include_self))


def index_add_(self: Tensor, dim: int, index: Any, source: Any, *, alpha: float = 1) -> Tensor:
    """``index_add`` in place."""
    return apply_inplace(self, "index_add_",
                         lambda old: index_add(old, dim, index, source, alpha=alpha))


def masked_fill_(self: Tensor, mask: Any, value: Any) -> Tensor:
    """``masked_fill`` in place (the mask must broadcast to this tensor's shape)."""
    return apply_inplace(self, "masked_fill_", lambda old: masked_fill(old, mask, value))


__all__ = ["gather", "scatter_add", "scatter", "scatter_reduce", "index_select", "index_add",
           "masked_fill", "take_along_dim", "one_hot", "nonzero"]
