"""Joining and splitting: narrow, split, chunk and unbind; cat and stack.

Ops with several outputs (``split``, ``chunk``, ``unbind``) are built from the ``narrow``
primitive, one node per piece. Their VJPs only move gradient values around, written with the
primitives of this module and of shape.py, which keeps grad-of-grad exact. ``narrow``'s VJP puts
the gradient back with zeros around it, so the ``constant_pad_nd`` primitive lives here as well;
rearrange.py (``pad``) imports it, and ``narrow``, from this module.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import backend
from ..autograd.graph import View
from ..autograd import grad_mode
from ..autograd import observers as _observers
from ..errors import DimError, ShapeError, check_dim, format_shape
from ..tensor import Tensor
from .primitive import _link_view, each_input, primitive, record_view
from .elementwise import clone
from .shape import _check_new_dim, _check_not_scalar, _squeeze


# -- narrow, split, chunk, unbind ---------------------------------------------------------------


def _widths_at(ndim: int, dim: int, before: int, after: int) -> tuple[tuple[int, int], ...]:
    return tuple((before, after) if d == dim else (0, 0) for d in range(ndim))


# The slice's gradient is g placed back at its offset with zeros around it.
@primitive("narrow", view=True, grads={
    "input": lambda g, out, input, dim, start, length: _constant_pad(
    g, _widths_at(input.ndim, dim, start, input.shape[dim] - start - length), 0.0),
})
def _narrow(input: Any, dim: int, start: int, length: int) -> Any:
    return input[(slice(None),) * dim + (slice(start, start + length),)]


def narrow(input: Any, dim: int, start: int, length: int) -> Any:
    """Elements ``start .. start + length - 1`` along ``dim`` (a view; ``start`` may be negative).

    >>> import backprop as bp
    >>> bp.arange(6).narrow(0, 1, 3).tolist()
    [1, 2, 3]
    """
    _check_not_scalar("narrow", input)
    shape = input.shape
    d = check_dim("narrow", dim, len(shape))
    n = shape[d]
    start, length = int(start), int(length)
    if not -n <= start <= n:
        raise DimError(f"narrow: start {start} is out of range for dim {dim} of size {n} "
                       f"(expected a value in [{-n}, {n}])")
    if start < 0:
        start += n
    if length < 0 or start + length > n:
        raise ShapeError(f"narrow: start ({start}) + length ({length}) must lie within dim {dim} "
                         f"of size {n} (tensor shape {format_shape(shape)})")
    return _narrow(input, d, start, length)


def _pieces(input: Any, dim: int, sizes: Sequence[int]) -> tuple[Any, ...]:
    data = input._data if isinstance(input, Tensor) else None
    if (type(data) is np.ndarray and not _observers.REGISTRY.count and all(sizes)
            and not (input.requires_grad and grad_mode.state.enabled)):
        return _plain_pieces(input, data, dim, sizes)
    pieces, start = [], 0
    for size in sizes:
        pieces.append(_narrow(input, dim, start, size))
        start += size
    return tuple(pieces)


def _plain_pieces(input: Tensor, data: np.ndarray, dim: int, sizes: Sequence[int]) -> tuple:
    """The pieces where no node is recorded (no gradient wanted, no observer, NumPy): the
    slices ``narrow``'s forward takes, each made a view of the input as the primitive's call
    would make it, without the call's dispatch (most of a piece's cost at ten pieces)."""
    lead = (slice(None),) * dim
    pieces, start = [], 0
    wrap = Tensor._wrap
    for size in sizes:
        piece = wrap(data[lead + (slice(start, start + size),)])
        # A basic slice is always a view of data: linked as record_view would, without its test
        _link_view(piece, input, _narrow, (dim, start, size), {})
        pieces.append(piece)
        start += size
    return tuple(pieces)


def split(tensor: Any, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple:
    """Split along ``dim`` into pieces of ``split_size_or_sections`` (an int: equal pieces, the
    last one smaller; a list: the size of each piece). Each piece is a view.

    >>> import backprop as bp
    >>> [p.tolist() for p in bp.arange(5).split(2)]
    [[0, 1], [2, 3], [4]]
    >>> [p.shape for p in bp.zeros(2, 5).split([1, 4], dim=1)]
    [(2, 1), (2, 4)]
    """
    _check_not_scalar("split", tensor)
    shape = tensor.shape
    d = check_dim("split", dim, len(shape))
    n = shape[d]
    if isinstance(split_size_or_sections, (tuple, list)):
        sizes = [s if type(s) is int else int(s) for s in split_size_or_sections]
        if sum(sizes) != n or (sizes and min(sizes) < 0):
            raise ShapeError(f"split: split sizes {sizes} must be non-negative and sum to {n}, "
                             f"the size of dim {dim} of a tensor of shape {format_shape(shape)}")
        return _pieces(tensor, d, sizes)
    size = int(split_size_or_sections)
    if size < 0 or (size == 0 and n != 0):
        raise ShapeError(f"split: split_size must be positive (0 only for an empty dim), got "
                         f"{size} for dim {dim} of size {n}")
    count = max(-(-n // size), 1) if size else 1
    return _pieces(tensor, d, [size] * (count - 1) + [n - size * (count - 1)])


def chunk(input: Any, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` pieces of ``ceil(n / chunks)`` along ``dim`` (the last one smaller,
    and fewer pieces when they run out, as in PyTorch).

    >>> import backprop as bp
    >>> [p.shape for p in bp.zeros(6).chunk(4)]
    [(2,), (2,), (2,)]
    """
    chunks = int(chunks)
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    _check_not_scalar("chunk", input)
    shape = input.shape
    d = check_dim("chunk", dim, len(shape))
    n = shape[d]
    if n == 0:
        return _pieces(input, d, [0] * chunks)
    return split(input, -(-n // chunks), d)


def _unbind_rule(g: tuple, out: Any, input: Any, dim: int, needs: tuple[bool, ...]) -> list:
    # One stack of the slices' gradients (zeros for a slice that got none), where a narrow per
    # slice would pad each to the input's size.
    present = next(p for p in g if p is not None)
    data = present._data if isinstance(present, Tensor) else present
    xp = backend.xp_of(data)
    shape = input.shape[:dim] + input.shape[dim + 1:]
    return [_stack(dim, *[p if p is not None else xp.zeros(shape, dtype=data.dtype) for p in g])]


@primitive("unbind", outputs=("*",), grads=_unbind_rule)
def _unbind(input: Any, dim: int) -> tuple:
    return tuple(np.moveaxis(input, dim, 0))  # views, one per slice


def _record_slice_views(pieces: tuple, input: Any, dim: int) -> None:
    """Make each of ``unbind``'s results a view of ``input`` (sharing its version counter), as
    ``record_view`` makes ``select``'s: the steps that replay slice ``i`` from the base are a
    narrow and a squeeze, the ops ``select`` is made of. (``record_view`` per slice would look up
    the same base and counter for every slice: a third of unbind's time.)"""
    if not isinstance(input, Tensor):
        return
    record_view(pieces[0], _narrow, (input, dim, 0, 1), {})  # the counter and base, once
    first = pieces[0]._view
    if first is None:  # not a view (cannot happen for NumPy's or CuPy's slices)
        return
    counter, base, version = input._version, first.base, first.version
    steps = None if first.steps is None else first.steps[:-1]
    squeeze = (_squeeze, ((dim,),), {})
    for i, piece in enumerate(pieces):
        piece._version = counter
        piece._view = View(base, None if steps is None else
                           steps + ((_narrow, (dim, i, 1), {}), squeeze), version)


def unbind(input: Any, dim: int = 0) -> tuple:
    """The slices along ``dim``, each without that dim: views of ``input``, made by one node
    (whose backward is one stack).

    >>> import backprop as bp
    >>> [r.tolist() for r in bp.tensor([[1, 2], [3, 4]]).unbind(1)]
    [[1, 3], [2, 4]]
    """
    _check_not_scalar("unbind", input)
    d = check_dim("unbind", dim, input.ndim)
    if input.shape[d] < 2:  # a node of one output is a plain one-output node: select that one
        return tuple(_squeeze(_narrow(input, d, i, 1), (d,)) for i in range(input.shape[d]))
    pieces = _unbind(input, d)
    _record_slice_views(pieces, input, d)
    return pieces



def _split_copy_rule(g: tuple, out: Any, input: Any, split_sizes: tuple[int, ...], dim: int,
                     needs: tuple[bool, ...]) -> list:
    # One concatenation of the pieces' gradients (zeros for a piece that got none), where
    # ``split``'s pieces each pad theirs to the input's size: this is what keeps a sequence
    # split into its time steps linear, not quadratic, in the number of steps.
    present = next(p for p in g if p is not None)
    data = present._data if isinstance(present, Tensor) else present
    xp = backend.xp_of(data)
    pieces = [p if p is not None else xp.zeros(
        input.shape[:dim] + (size,) + input.shape[dim + 1:], dtype=data.dtype)
        for p, size in zip(g, split_sizes)]
    return [_cat(dim, *pieces)]


@primitive("split_with_sizes_copy", outputs=("*",), grads=_split_copy_rule)
def _split_with_sizes_copy(input: Any, split_sizes: tuple[int, ...], dim: int) -> tuple:
    if dim == 0:  # one copy of the whole input, of which the pieces are disjoint views
        bounds = np.cumsum(split_sizes)[:-1].tolist()
        return tuple(np.split(input.copy(), bounds))
    # A copy per piece, each C-contiguous as PyTorch's: copying the input moved to dim 0 would
    # transpose it (three times the time), and leave pieces strided.
    lead = (slice(None),) * dim
    pieces, start = [], 0
    for size in split_sizes:
        pieces.append(input[lead + (slice(start, start + size),)].copy())
        start += size
    return tuple(pieces)


def split_with_sizes_copy(input: Any, split_sizes: Sequence[int], dim: int = 0) -> tuple:
    """Split along ``dim`` into pieces of the given sizes, each a copy (not a view); one node
    whose backward is one concatenation, however many pieces.

    >>> import backprop as bp
    >>> [p.tolist() for p in bp.split_with_sizes_copy(bp.arange(5), [2, 3])]
    [[0, 1], [2, 3, 4]]
    """
    _check_not_scalar("split_with_sizes_copy", input)
    d = check_dim("split_with_sizes_copy", dim, input.ndim)
    sizes = tuple(int(s) for s in split_sizes)
    if sum(sizes) != input.shape[d] or any(s < 0 for s in sizes) or not sizes:
        raise ShapeError(f"split_with_sizes_copy: split_sizes {list(sizes)} must be non-negative "
                         f"and sum to {input.shape[d]}, the size of dim {dim} of a tensor of "
                         f"shape {format_shape(input.shape)}")
    if len(sizes) == 1:  # a node of one output is a plain one-output node: a copy is that
        return (clone(input),)
    return _split_with_sizes_copy(input, sizes, d)


# -- cat, stack ---------------------------------------------------------------------------------

def _explain_cat(err: Exception, dim: int, *tensors: Any) -> Exception | None:
    first = tensors[0]
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            return ShapeError(f"cat: tensor {i} is zero-dimensional and cannot be concatenated; "
                              "use stack, or unsqueeze it first")
        if t.ndim != first.ndim:
            return ShapeError(f"cat: tensor {i} has shape {format_shape(t.shape)} but tensor 0 has "
                              f"shape {format_shape(first.shape)}: all tensors need the same "
                              "number of dimensions")
        for d, (n, m) in enumerate(zip(t.shape, first.shape)):
            if d != dim and n != m:
                return ShapeError(f"cat: tensor {i} has shape {format_shape(t.shape)} but tensor 0 "
                                  f"has shape {format_shape(first.shape)}: sizes must match "
                                  f"except in dim {dim} (they differ in dim {d})")
    return None


def _cat_vjp(i: int, g: Any, out: Any, dim: int, *tensors: Any) -> Any:
    start = 0
    for t in tensors[:i - 1]:  # argument 0 is dim
        start += t.shape[dim]
    return _narrow(g, dim, start, tensors[i - 1].shape[dim])


@primitive("cat", explain=_explain_cat, grads=each_input(_cat_vjp))
def _cat(dim: int, *tensors: Any) -> Any:
    return np.concatenate(tensors, axis=dim)


def _tensor_list(op: str, tensors: Any) -> Sequence[Any]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (tuple, list)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise ShapeError(f"{op}: expected a non-empty list of tensors")
    return tensors


def cat(tensors: Sequence[Any], dim: int = 0) -> Any:
    """Join tensors along an existing dim ``dim``; other sizes must match. Aliases: ``concat``,
    ``concatenate``.

    >>> import backprop as bp
    >>> bp.cat([bp.zeros(2, 3), bp.ones(1, 3)]).shape
    (3, 3)
    """
    tensors = _tensor_list("cat", tensors)
    first = tensors[0]
    if any(t.shape == (0,) for t in tensors):
        # PyTorch's legacy rule: 1-d empty tensors are skipped whatever the others' shapes.
        kept = [t for t in tensors if t.shape != (0,)]
        tensors = kept or tensors[:1]
        first = tensors[0]
    return _cat(check_dim("cat", dim, first.ndim), *tensors)


concat = concatenate = cat


def _explain_stack(err: Exception, dim: int, *tensors: Any) -> Exception | None:
    first = tensors[0]
    for i, t in enumerate(tensors):
        if t.shape != first.shape:
            return ShapeError(f"stack: tensor {i} has shape {format_shape(t.shape)} but tensor 0 "
                              f"has shape {format_shape(first.shape)}: all tensors must have the "
                              "same shape")
    return None


@primitive("stack", explain=_explain_stack, grads=each_input(
    lambda i, g, out, dim, *tensors: _squeeze(_narrow(g, dim, i - 1, 1), (dim,))))
def _stack(dim: int, *tensors: Any) -> Any:
    return np.stack(tensors, axis=dim)


def stack(tensors: Sequence[Any], dim: int = 0) -> Any:
    """Join tensors of equal shape along a new dim ``dim``.

    >>> import backprop as bp
    >>> bp.stack([bp.zeros(2, 3), bp.ones(2, 3)], dim=1).shape
    (2, 2, 3)
    """
    tensors = _tensor_list("stack", tensors)
    return _stack(_check_new_dim("stack", dim, tensors[0].ndim), *tensors)


# -- constant padding (narrow's adjoint; used by pad in rearrange.py) ---------------------------


def _negated(widths: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    return tuple((-before, -after) for before, after in widths)


# Padding with zeros and cropping are each other's adjoints: pad by the negated widths.
@primitive("constant_pad_nd", grads={
    "input": lambda g, out, input, widths, value: _constant_pad(g, _negated(widths), 0.0),
})
def _constant_pad(input: Any, widths: tuple[tuple[int, int], ...], value: Any) -> Any:
    # A negative width crops: copy the kept region of the input into the padded frame.
    source, target, shape = [], [], []
    for (before, after), n in zip(widths, input.shape):
        low, high = max(-before, 0), n - max(-after, 0)
        start = max(before, 0)
        source.append(slice(low, high))
        target.append(slice(start, start + high - low))
        shape.append(n + before + after)
    # The kept region is copied, then only the frame around it filled: one pass over the output
    # instead of a fill and a copy.
    out = np.empty_like(input, shape=tuple(shape))
    out[tuple(target)] = input[tuple(source)]
    for d, (kept, size) in enumerate(zip(target, shape)):
        lead = (slice(None),) * d
        if kept.start > 0:
            np.copyto(out[lead + (slice(0, kept.start),)], value, casting="unsafe")
        if kept.stop < size:
            np.copyto(out[lead + (slice(max(kept.stop, kept.start), None),)], value,
                      casting="unsafe")
    return out


__all__ = ["narrow", "split", "chunk", "unbind", "split_with_sizes_copy", "cat", "concat",
           "concatenate", "stack"]
