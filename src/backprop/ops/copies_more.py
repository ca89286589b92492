"""Copies of views and PyTorch's odd spellings (issue 17): the ``*_copy`` ops (a view op's result
in storage of its own), ``unsafe_split`` and ``unsafe_chunk``, ``split_with_sizes``,
``constant_pad_nd``, ``fill``, ``rsub``, ``scalar_tensor``, the strided and permuted ``empty``
and ``resize_``.

Each is a composition of ops that already have their gradients (a copy is ``clone`` of the
view), so none needs a rule of its own.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import numpy as np

from .. import backend, dtypes
from ..errors import GraphError, ShapeError, check_dim, format_shape
from ..tensor import Tensor
from . import elementwise as ew
from . import inplace, join, rearrange, shape
from .elementwise import clone
from .primitive import primitive
from .shape import _shape_arg


# -- copies of views ------------------------------------------------------------------------------

def alias_copy(input: Any) -> Any:
    """A copy of ``input`` (PyTorch's copy of ``alias``, a view of the whole tensor).

    >>> import backprop as bp
    >>> bp.alias_copy(bp.ones(2)).tolist()
    [1.0, 1.0]
    """
    return clone(input)


def expand_copy(input: Any, size: Sequence[int], *, implicit: bool = False) -> Any:
    """``expand`` as a new tensor, not a view.

    >>> import backprop as bp
    >>> bp.expand_copy(bp.ones(1), (3,)).tolist()
    [1.0, 1.0, 1.0]
    """
    return clone(shape.expand(input, *_shape_arg((size,))))


def narrow_copy(input: Any, dim: int, start: int, length: int) -> Any:
    """``narrow`` as a new tensor, not a view.

    >>> import backprop as bp
    >>> bp.narrow_copy(bp.arange(5), 0, 1, 2).tolist()
    [1, 2]
    """
    return clone(join.narrow(input, dim, start, length))


def permute_copy(input: Any, dims: Sequence[int]) -> Any:
    """``permute`` as a new tensor, not a view.

    >>> import backprop as bp
    >>> bp.permute_copy(bp.zeros(2, 3), (1, 0)).shape
    (3, 2)
    """
    return clone(shape.permute(input, *_shape_arg((dims,))))


def squeeze_copy(input: Any, dim: int | Sequence[int] | None = None) -> Any:
    """``squeeze`` as a new tensor, not a view.

    >>> import backprop as bp
    >>> bp.squeeze_copy(bp.zeros(2, 1)).shape
    (2,)
    """
    return clone(shape.squeeze(input, dim))


def t_copy(input: Any) -> Any:
    """``t`` as a new tensor, not a view.

    >>> import backprop as bp
    >>> bp.t_copy(bp.zeros(2, 3)).shape
    (3, 2)
    """
    return clone(shape.t(input))


def transpose_copy(input: Any, dim0: int, dim1: int) -> Any:
    """``transpose`` as a new tensor, not a view.

    >>> import backprop as bp
    >>> bp.transpose_copy(bp.zeros(2, 3), 0, 1).shape
    (3, 2)
    """
    return clone(shape.transpose(input, dim0, dim1))


def unsqueeze_copy(input: Any, dim: int) -> Any:
    """``unsqueeze`` as a new tensor, not a view.

    >>> import backprop as bp
    >>> bp.unsqueeze_copy(bp.zeros(2), 0).shape
    (1, 2)
    """
    return clone(shape.unsqueeze(input, dim))


def view_copy(input: Any, size: Any) -> Any:
    """``view`` as a new tensor, not a view (``size`` may hold one -1).

    >>> import backprop as bp
    >>> bp.view_copy(bp.zeros(2, 3), (3, -1)).shape
    (3, 2)
    """
    if isinstance(size, np.dtype) or (isinstance(size, type) and issubclass(size, np.generic)):
        raise TypeError("view_copy: reinterpreting a tensor's bytes as another dtype is not "
                        "supported; give a shape")
    return clone(shape.view(input, *_shape_arg((size,))))


@primitive("unbind_copy", outputs=("*",), grads=join._unbind_rule)
def _unbind_copy(input: Any, dim: int) -> tuple:
    # One copy of the whole input (slices in its first dim), of which the results are disjoint
    # views: one node and one pass, where a clone per slice made two nodes per slice.
    return tuple(np.moveaxis(input, dim, 0).copy())


def unbind_copy(input: Any, dim: int = 0) -> tuple:
    """``unbind`` with each slice a new tensor, not a view.

    >>> import backprop as bp
    >>> [t.tolist() for t in bp.unbind_copy(bp.eye(2))]
    [[1.0, 0.0], [0.0, 1.0]]
    """
    shape._check_not_scalar("unbind_copy", input)
    d = check_dim("unbind_copy", dim, input.ndim)
    if input.shape[d] < 2:  # a node of one output is a plain one-output node: clone that one
        return tuple(clone(piece) for piece in join.unbind(input, d))
    return _unbind_copy(input, d)


# -- splits PyTorch spells otherwise --------------------------------------------------------------

def unsafe_split(input: Any, split_size: int, dim: int = 0) -> tuple:
    """``split`` into pieces of ``split_size`` (PyTorch's version that skips its check of later
    in-place writes; ours are views as ``split``'s, and the check is kept).

    >>> import backprop as bp
    >>> [p.tolist() for p in bp.unsafe_split(bp.arange(3), 2)]
    [[0, 1], [2]]
    """
    return join.split(input, int(split_size), dim)


def unsafe_chunk(input: Any, chunks: int, dim: int = 0) -> tuple:
    """``chunk`` (PyTorch's version that skips its check of later in-place writes).

    >>> import backprop as bp
    >>> len(bp.unsafe_chunk(bp.arange(4), 2))
    2
    """
    return join.chunk(input, chunks, dim)


def split_with_sizes(input: Any, split_sizes: Sequence[int], dim: int = 0) -> tuple:
    """Views of ``input`` split along ``dim`` into pieces of the given sizes.

    >>> import backprop as bp
    >>> [p.tolist() for p in bp.split_with_sizes(bp.arange(3), [1, 2])]
    [[0], [1, 2]]
    """
    if not isinstance(split_sizes, (tuple, list)):
        raise TypeError(f"split_with_sizes: split_sizes must be a list of ints, got "
                        f"{type(split_sizes).__name__}")
    return join.split(input, list(split_sizes), dim)


# -- padding, filling, reversed subtraction -------------------------------------------------------

def constant_pad_nd(input: Any, pad: Sequence[int], value: float = 0) -> Any:
    """Pad with ``value`` (``pad`` as in ``nn.functional.pad``: (before, after) pairs from the
    last dim; negative widths crop).

    >>> import backprop as bp
    >>> bp.constant_pad_nd(bp.ones(2), (1, 0), 5.0).tolist()
    [5.0, 1.0, 1.0]
    """
    return rearrange.pad(input, pad, mode="constant", value=value)


def fill(input: Any, value: Any) -> Any:
    """A tensor of ``input``'s shape and dtype holding ``value`` everywhere (``fill_`` out of
    place; a tensor ``value`` gets the gradient).

    >>> import backprop as bp
    >>> bp.fill(bp.zeros(2), 3).tolist()
    [3.0, 3.0]
    """
    if isinstance(value, Tensor) and value.ndim != 0:
        raise ShapeError(f"fill: value must be a number or a 0-d tensor, got a tensor of shape "
                         f"{format_shape(value.shape)}")
    return inplace.fill(input, value)


def rsub(input: Any, other: Any, *, alpha: Any = 1) -> Any:
    """``other - alpha * input`` (``sub`` with its operands swapped).

    >>> import backprop as bp
    >>> bp.rsub(bp.tensor([1., 2.]), 10).tolist()
    [9.0, 8.0]
    """
    return ew.sub(other, input, alpha=alpha)


# -- creation -------------------------------------------------------------------------------------

def scalar_tensor(s: Any, *, dtype: Any = None, layout: Any = None, device: Any = None,
                  pin_memory: bool | None = None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding the number ``s``, of the default float dtype unless given.

    >>> import backprop as bp
    >>> bp.scalar_tensor(3).item(), bp.scalar_tensor(3).dtype
    (3.0, dtype('float32'))
    """
    if isinstance(s, Tensor):
        s = s.item()
    if type(s) is float and dtype is None and device is None:
        # The common case, without tensor()'s parsing: a float within the default dtype's range
        # rounds once, as tensor() rounds it (one beyond the range takes tensor()'s checks).
        default = dtypes.get_default_dtype()
        if abs(s) <= _FLOAT_MAX.get(default, 0.0):
            return _new_tensor(np.array(s, default), requires_grad, None, "scalar_tensor")
    from .. import creation  # noqa: PLC0415 - creation imports the ops

    dtype = dtypes.get_default_dtype() if dtype is None else dtype
    return creation.tensor(s, dtype=dtype, device=device, requires_grad=requires_grad)


# The largest finite value of each default float dtype (scalar_tensor's fast path).
_FLOAT_MAX = {np.dtype(t): float(np.finfo(t).max) for t in (np.float16, np.float32, np.float64)}


def _strided_empty(op: str, size: Sequence[int], stride: Sequence[int], dtype: np.dtype) -> Any:
    """An uninitialised array laid out with ``stride`` (in elements) where that is a layout
    of ``size``'s elements without gaps; a C-ordered one otherwise (ours has no other strides)."""
    size, stride = tuple(map(int, size)), tuple(map(int, stride))
    if stride == _contiguous_strides(size):
        return np.empty(size, dtype)  # the common, C-ordered layout: nothing to arrange
    if len(size) != len(stride):
        raise ShapeError(f"{op}: size {format_shape(size)} and stride {format_shape(stride)} must "
                         "have the same length")
    if any(n < 0 for n in size) or any(s < 0 for s in stride):
        raise ValueError(f"{op}: size {format_shape(size)} and stride {format_shape(stride)} "
                         "must be non-negative")
    order = sorted(range(len(size)), key=lambda k: -stride[k])
    physical = np.empty(tuple(size[k] for k in order), dtype)
    if all(size) and physical.strides == tuple(stride[k] * physical.itemsize for k in order):
        return np.transpose(physical, np.argsort(order))
    return np.empty(size, dtype)


@functools.lru_cache(maxsize=256)  # a few shapes recur: skip the Python loop for them
def _contiguous_strides(size: tuple[int, ...]) -> tuple[int, ...] | None:
    """The strides (in elements) of a C-ordered array of ``size``; None for a negative size."""
    strides, step = [], 1
    for n in reversed(size):
        if n < 0:
            return None
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def _new_tensor(array: Any, requires_grad: bool, device: Any, op: str) -> Tensor:
    """``array`` (made on the host) as a tensor on ``device``, by creation's ``_finish``
    (imported here: creation imports the ops at load time)."""
    if device is None and not requires_grad:  # the common call: _finish's outcome at once
        return Tensor._wrap(array)
    from ..creation import _finish

    return _finish(array, requires_grad, backend.as_device(device, op))


def empty_strided(size: Sequence[int], stride: Sequence[int], *, dtype: Any = None,
                  layout: Any = None, device: Any = None, requires_grad: bool = False,
                  pin_memory: bool = False) -> Tensor:
    """An uninitialised tensor of ``size``, laid out with ``stride`` where the strides describe
    a dense layout (a C-ordered one otherwise).

    >>> import backprop as bp
    >>> bp.empty_strided((2, 3), (1, 2)).shape
    (2, 3)
    """
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype,
                                                                            "empty_strided")
    array = _strided_empty("empty_strided", size, stride, dtype)
    return _new_tensor(array, requires_grad, device, "empty_strided")


def empty_permuted(size: Sequence[int], physical_layout: Sequence[int], *, dtype: Any = None,
                   layout: Any = None, device: Any = None, requires_grad: bool = False,
                   pin_memory: bool = False) -> Tensor:
    """An uninitialised tensor of ``size`` whose dims lie in memory in the order
    ``physical_layout`` (outermost first).

    >>> import backprop as bp
    >>> bp.empty_permuted((2, 3), (1, 0)).shape
    (2, 3)
    """
    # (lists and loops rather than generators: the whole call takes a few microseconds)
    size, order = _shape_arg((size,)), _shape_arg((physical_layout,))
    inverse = [-1] * len(size)  # where each dim of size lies in the physical layout
    if len(order) == len(size):
        for position, dim in enumerate(order):
            if 0 <= dim < len(size):
                inverse[dim] = position
    if -1 in inverse:
        raise ShapeError(f"empty_permuted: physical_layout {order} must be a permutation of the "
                         f"{len(size)} dims of size {format_shape(size)}")
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype,
                                                                            "empty_permuted")
    array = np.empty(tuple([size[k] for k in order]), dtype).transpose(inverse)
    return _new_tensor(array, requires_grad, device, "empty_permuted")


def new_empty_strided(self: Tensor, size: Sequence[int], stride: Sequence[int], *,
                      dtype: Any = None, device: Any = None, requires_grad: bool = False,
                      layout: Any = None, pin_memory: bool = False) -> Tensor:
    """``empty_strided`` with ``self``'s dtype and device unless given
    (``Tensor.new_empty_strided``).

    >>> import backprop as bp
    >>> bp.zeros(1).new_empty_strided((2,), (1,)).dtype
    dtype('float32')
    """
    return empty_strided(size, stride, dtype=self.dtype if dtype is None else dtype,
                         device=self.device if device is None else device,
                         requires_grad=requires_grad)


# -- resize_ --------------------------------------------------------------------------------------

def resize_(self: Tensor, *size: Any, memory_format: Any = None) -> Tensor:
    """Give ``self`` the shape ``size`` in place: its elements in C order are kept (as many as
    fit), and elements beyond them are uninitialised (``Tensor.resize_``).

    >>> import backprop as bp
    >>> bp.arange(6.).resize_(2, 2).tolist()
    [[0.0, 1.0], [2.0, 3.0]]
    """
    size = _shape_arg(size)
    if any(n < 0 for n in size):
        raise ShapeError(f"resize_: size {format_shape(size)} has a negative entry")
    if self.requires_grad:
        raise GraphError("resize_: cannot resize a tensor that requires grad; resize a "
                         ".detach()ed copy, or use reshape")
    data = self._data
    numel = math.prod(size)
    if numel == data.size:
        resized = np.ascontiguousarray(data).reshape(size)
    else:
        resized = np.empty(numel, data.dtype)
        kept = min(numel, data.size)
        resized[:kept] = data.reshape(-1)[:kept]
        resized = resized.reshape(size)
    self._data = resized
    if self._version is not None:
        self._version.bump("resize_")
    return self


def resize_as_(self: Tensor, the_template: Tensor, *, memory_format: Any = None) -> Tensor:
    """``self.resize_(the_template.shape)``.

    >>> import backprop as bp
    >>> bp.zeros(4).resize_as_(bp.zeros(2, 2)).shape
    (2, 2)
    """
    return resize_(self, the_template.shape)


__all__ = [
    "alias_copy", "expand_copy", "narrow_copy", "permute_copy", "squeeze_copy", "t_copy",
    "transpose_copy", "unsqueeze_copy", "view_copy", "unbind_copy", "unsafe_split",
    "unsafe_chunk", "split_with_sizes", "constant_pad_nd", "fill", "rsub", "scalar_tensor",
    "empty_strided", "empty_permuted",
]
