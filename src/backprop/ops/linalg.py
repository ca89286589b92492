"""Linear algebra: matmul and its strict forms (mm, bmm, mv, dot), outer, inner and einsum.

Every product is ``np.matmul`` or ``np.einsum`` (never ``np.dot``, which is ~40x slower on
stacked matrices). VJPs are written with ``matmul``, ``einsum``, ``reshape`` and a swap of the last
two axes, so gradients of gradients come for free. Broadcast batch dims are summed away by the
engine, never here.

>>> import backprop as bp
>>> a = bp.ones(2, 3, requires_grad=True)
>>> (a @ bp.ones(3, 4)).sum().backward()
>>> a.grad.tolist()
[[4.0, 4.0, 4.0], [4.0, 4.0, 4.0]]
"""

from __future__ import annotations

import functools
import string
from typing import Any

import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..autograd.graph import DUAL  # forward AD: its tangents need the recorded path
from ..backends import numba_outer
from ..errors import ShapeError, format_shape
from ..tensor import Tensor
from .conjugation import conjugate_if_complex
from .primitive import each_input, primitive
from .shape import _transpose, reshape


def _swap_last(x: Any) -> Any:
    """The matrix transpose of the last two axes, as the VJPs need it."""
    return _transpose(x, -1, -2)


# -- matmul -------------------------------------------------------------------------------------

def _matmul_shape_error(op: str, a: tuple[int, ...], b: tuple[int, ...]) -> ShapeError | None:
    """The reason ``a @ b`` is undefined, or None when the shapes fit."""
    if not a or not b:
        return ShapeError(f"{op}: both arguments must be at least 1-D, got shapes "
                          f"{format_shape(a)} and {format_shape(b)}")
    inner_a, inner_b = a[-1], (b[-2] if len(b) > 1 else b[0])
    if inner_a != inner_b:
        return ShapeError(f"{op}: cannot multiply {format_shape(a)} by {format_shape(b)}: inner "
                          f"sizes {inner_a} and {inner_b} differ")
    try:
        np.broadcast_shapes(a[:-2], b[:-2])
    except ValueError:
        return ShapeError(f"{op}: cannot broadcast the batch dimensions {format_shape(a[:-2])} of "
                          f"{format_shape(a)} and {format_shape(b[:-2])} of {format_shape(b)}: "
                          "each must be equal or 1 (counting from the right)")
    return None


def _explain_matmul(err: Exception, input: Any, other: Any) -> Exception | None:
    return _matmul_shape_error("matmul", np.shape(input), np.shape(other))


def _row_of(g: Any) -> Any:
    """``g`` of shape (..., m) as (..., 1, m): the gradient of a 1-D left operand promoted to a row."""
    shape = g.shape
    return reshape(g, shape[:-1] + (1, shape[-1]))


def _matmul_grad_input(g: Any, out: Any, input: Any, other: Any) -> Any:
    other = conjugate_if_complex(other)  # complex matrices: g times the conjugate transpose
    if other.ndim == 1:
        # out[..., n] = sum_k input[..., n, k] other[k]  ->  g[..., n, None] * other[k]
        return reshape(g, g.shape + (1,)) * other
    # A 1-D input acts as a (1, k) row: its gradient comes out as (..., 1, k), which the engine
    # sums down to (k,) together with any broadcast batch dims.
    return _matmul(g if input.ndim > 1 else _row_of(g), _swap_last(other))


def _matmul_grad_other(g: Any, out: Any, input: Any, other: Any) -> Any:
    input = conjugate_if_complex(input)
    if input.ndim == 1:
        if other.ndim == 1:  # a dot product: g is 0-d
            return g * input
        # out[..., m] = sum_k input[k] other[..., k, m]  ->  input[k, None] * g[..., None, m]
        return reshape(input, input.shape + (1,)) * _row_of(g)
    if other.ndim == 1:
        # Written as (..., 1, n) @ (..., n, k) rather than input^T @ g[..., None], whose trailing
        # 1 could not be summed down to (k,).
        return _matmul(_row_of(g), input)
    return _matmul(_swap_last(input), g)


@primitive("matmul", save=("input", "other"), explain=_explain_matmul, grads={
    "input": _matmul_grad_input,
    "other": _matmul_grad_other,
})
def _matmul(input: Any, other: Any) -> Any:
    return np.matmul(input, other)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics: 1-D operands are promoted to a row (left) or a
    column (right) and the promoted dim removed; batch dims broadcast.

    >>> import backprop as bp
    >>> bp.matmul(bp.ones(2, 1, 3, 4), bp.ones(5, 4, 2)).shape
    (2, 5, 3, 2)
    >>> bp.matmul(bp.tensor([1., 2.]), bp.tensor([3., 4.])).item()
    11.0
    """
    return _matmul(input, other)


def _check_ndim(op: str, name: str, x: Any, ndim: int) -> None:
    if x.ndim != ndim:
        raise ShapeError(f"{op}: {name} must be a {ndim}-D tensor, got shape "
                         f"{format_shape(x.shape)} ({x.ndim}-D)")


def _check_inner(op: str, a: tuple[int, ...], b: tuple[int, ...], inner_b: int) -> None:
    if a[-1] != inner_b:
        raise ShapeError(f"{op}: cannot multiply {format_shape(a)} by {format_shape(b)}: inner "
                         f"sizes {a[-1]} and {inner_b} differ")


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Product of two matrices (2-D only, no broadcasting; ``matmul`` is the general form).

    >>> import backprop as bp
    >>> bp.mm(bp.ones(2, 3), bp.ones(3, 4)).shape
    (2, 4)
    """
    _check_ndim("mm", "input", input, 2)
    _check_ndim("mm", "mat2", mat2, 2)
    _check_inner("mm", input.shape, mat2.shape, mat2.shape[0])
    return _matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched product of (b, n, k) and (b, k, m) tensors (equal batch sizes, no broadcasting).

    >>> import backprop as bp
    >>> bp.bmm(bp.ones(5, 2, 3), bp.ones(5, 3, 4)).shape
    (5, 2, 4)
    """
    _check_ndim("bmm", "input", input, 3)
    _check_ndim("bmm", "mat2", mat2, 3)
    if input.shape[0] != mat2.shape[0]:
        raise ShapeError(f"bmm: batch sizes {input.shape[0]} and {mat2.shape[0]} differ "
                         f"(input {format_shape(input.shape)}, mat2 {format_shape(mat2.shape)}); "
                         "use matmul to broadcast batch dims")
    _check_inner("bmm", input.shape, mat2.shape, mat2.shape[1])
    return _matmul(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Product of a (n, k) matrix and a (k,) vector.

    >>> import backprop as bp
    >>> bp.mv(bp.ones(2, 3), bp.tensor([1., 2., 3.])).tolist()
    [6.0, 6.0]
    """
    _check_ndim("mv", "input", input, 2)
    _check_ndim("mv", "vec", vec, 1)
    _check_inner("mv", input.shape, vec.shape, vec.shape[0])
    return _matmul(input, vec)


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of equal size (a 0-d result).

    >>> import backprop as bp
    >>> bp.dot(bp.tensor([1., 2.]), bp.tensor([3., 4.])).item()
    11.0
    """
    if input.ndim != 1 or tensor.ndim != 1:
        raise ShapeError(f"dot: expected 1-D tensors, got shapes {format_shape(input.shape)} "
                         f"and {format_shape(tensor.shape)}; use matmul for matrices")
    if input.shape[0] != tensor.shape[0]:
        raise ShapeError(f"dot: sizes {input.shape[0]} and {tensor.shape[0]} differ (shapes "
                         f"{format_shape(input.shape)} and {format_shape(tensor.shape)})")
    return _matmul(input, tensor)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two 1-D tensors: ``out[i, j] = input[i] * vec2[j]``.

    >>> import backprop as bp
    >>> bp.outer(bp.tensor([1., 2.]), bp.tensor([1., 10., 100.])).tolist()
    [[1.0, 10.0, 100.0], [2.0, 20.0, 200.0]]
    """
    _check_ndim("outer", "input", input, 1)
    _check_ndim("outer", "vec2", vec2, 1)
    if not ((input.requires_grad or vec2.requires_grad) and grad_mode.state.enabled
            or DUAL.active):
        # No graph to record: Numba's double loop where it is on (NumPy's broadcast multiply
        # of a column by a row takes 3x PyTorch's time); the same products.
        fast = numba_outer.outer(input._data, vec2._data)
        if fast is not None:
            return Tensor._wrap(fast)
    return reshape(input, (input.shape[0], 1)) * vec2


ger = outer


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dims: shape ``input.shape[:-1] + other.shape[:-1]``
    (a 0-d operand multiplies elementwise).

    >>> import backprop as bp
    >>> bp.inner(bp.ones(2, 3), bp.ones(4, 3)).shape
    (2, 4)
    """
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise ShapeError(f"inner: cannot multiply {format_shape(input.shape)} by "
                         f"{format_shape(other.shape)}: last dimensions {input.shape[-1]} and "
                         f"{other.shape[-1]} differ")
    if input.ndim == 1 and other.ndim == 1:
        return _matmul(input, other)
    k = input.shape[-1]
    rows = input if input.ndim == 2 else reshape(input, (-1, k))
    cols = _swap_last(other if other.ndim == 2 else reshape(other, (-1, k)))
    return reshape(_matmul(rows, cols), input.shape[:-1] + other.shape[:-1])


# -- einsum -------------------------------------------------------------------------------------

# Label order for implicit outputs: uppercase before lowercase, as PyTorch and NumPy sort them.
_LABELS = string.ascii_uppercase + string.ascii_lowercase


@functools.lru_cache(maxsize=1024)
def _parse_einsum(equation: str, shapes: tuple[tuple[int, ...], ...]) -> str:
    """Check ``equation`` against the operand shapes and return it in canonical form: every
    ellipsis expanded to explicit labels and the output written out (``'ij,jk->ik'``)."""
    eq = "".join(equation.split())
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: the equation {equation!r} has subscripts for {len(terms)} "
                         f"operand{'s' if len(terms) != 1 else ''} but {len(shapes)} "
                         f"{'were' if len(shapes) != 1 else 'was'} given")
    for ch in eq.replace("->", "").replace("...", "").replace(",", ""):
        if ch not in _LABELS:
            raise ValueError(f"einsum: invalid subscript {ch!r} in {equation!r}: subscripts must "
                             "be letters in [a-zA-Z] (and '...' for broadcast dims)")
    ellipsis_ndims = []
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        if "." in term.replace("...", "", 1):
            raise ValueError(f"einsum: operand {k}'s subscripts {term!r} contain a '.' that is "
                             "not part of one '...'")
        labels = term.replace("...", "")
        if "..." in term:
            if len(labels) > len(shape):
                raise ShapeError(f"einsum: operand {k} has shape {format_shape(shape)} "
                                 f"({len(shape)} dims) but its subscripts {term!r} name "
                                 f"{len(labels)} dims besides '...'")
            ellipsis_ndims.append(len(shape) - len(labels))
        elif len(labels) != len(shape):
            raise ShapeError(f"einsum: operand {k} has shape {format_shape(shape)} "
                             f"({len(shape)} dims) but its subscripts {term!r} name {len(labels)}"
                             + ("; add '...' to cover the other dims"
                                if len(labels) < len(shape) else ""))
    used = set(lhs) | set(rhs)
    free = [c for c in _LABELS if c not in used]
    n_ellipsis = max(ellipsis_ndims, default=0)
    if n_ellipsis > len(free):
        raise ValueError(f"einsum: {equation!r} uses too many dims for 52 subscript letters")
    batch = "".join(free[:n_ellipsis])
    expanded = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            n = len(shape) - len(term) + 3
            term = term.replace("...", batch[n_ellipsis - n:])
        expanded.append(term)
    _check_label_sizes(expanded, shapes)
    if not arrow:
        counts: dict[str, int] = {}
        for ch in lhs:
            counts[ch] = counts.get(ch, 0) + 1
        out = batch + "".join(sorted(c for c, n in counts.items() if n == 1 and c in _LABELS))
    else:
        if rhs.count("...") > 1 or "." in rhs.replace("...", ""):
            raise ValueError(f"einsum: the output subscripts {rhs!r} may contain one '...' only")
        if "..." in rhs and "..." not in lhs:
            raise ValueError(f"einsum: the output of {equation!r} has '...' but no operand does")
        out = rhs.replace("...", batch)
        for ch in rhs.replace("...", ""):
            if rhs.count(ch) > 1:
                raise ValueError(f"einsum: output subscript {ch!r} appears more than once in "
                                 f"{equation!r}")
            if ch not in lhs:
                raise ValueError(f"einsum: output subscript {ch!r} of {equation!r} appears in no "
                                 "operand's subscripts")
    return ",".join(expanded) + "->" + out


def _check_label_sizes(terms: list[str], shapes: tuple[tuple[int, ...], ...]) -> None:
    """A label's sizes must be equal within an operand and equal or 1 across operands."""
    sizes: dict[str, tuple[int, int]] = {}
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        mine: dict[str, int] = {}
        for ch, n in zip(term, shape):
            if ch in mine and mine[ch] != n:
                raise ShapeError(f"einsum: subscript {ch!r} is repeated in operand {k} "
                                 f"(shape {format_shape(shape)}) with sizes {mine[ch]} and {n}; "
                                 "a repeated subscript takes a diagonal and needs equal sizes")
            mine[ch] = n
            if ch in sizes and n != 1 and sizes[ch][0] not in (1, n):
                raise ShapeError(f"einsum: subscript {ch!r} has size {sizes[ch][0]} in operand "
                                 f"{sizes[ch][1]} but size {n} in operand {k}: sizes must be "
                                 "equal or 1")
            if ch not in sizes or sizes[ch][0] == 1:
                sizes[ch] = (n, k)


# Below about this many multiply-adds NumPy's plain C einsum beats the optimizing path, whose
# planning costs ~10 us; above it the optimizer's BLAS calls win (6x on attention scores).
_OPTIMIZE_ABOVE = 32768


@functools.lru_cache(maxsize=1024)
def _worth_optimizing(equation: str, shapes: tuple[tuple[int, ...], ...]) -> bool:
    if len(shapes) != 2:
        return len(shapes) > 2
    sizes: dict[str, int] = {}
    for term, shape in zip(equation.partition("->")[0].split(","), shapes):
        for ch, n in zip(term, shape):
            if n > sizes.get(ch, 1):
                sizes[ch] = n
    work = 1
    for n in sizes.values():
        work *= n
    return work > _OPTIMIZE_ABOVE


def _einsum_vjp(i: int, g: Any, out: Any, equation: str, *operands: Any) -> Any:
    """Operand k's gradient is itself an einsum: g (with the output's subscripts) contracted with
    every other operand, producing operand k's subscripts.

    Two cases need constants: a label repeated within operand k (a diagonal or trace) gets its
    later occurrences renamed and tied to the first by an identity matrix, so the gradient lands
    on the diagonal; a label whose size in operand k the other terms do not give (it is found
    only in operand k and was summed away, or it has size 1 wherever else it appears, broadcast
    in the forward) is broadcast back by a vector of ones.
    """
    k = i - 1
    lhs, _, out_labels = equation.partition("->")
    terms = lhs.split(",")
    target = operands[k]
    subscripts = [out_labels]
    args = [g]
    for j, (term, operand) in enumerate(zip(terms, operands)):
        if j != k:
            subscripts.append(term)
            args.append(operand)
    used = set(equation)
    fresh = iter(c for c in _LABELS if c not in used)
    result = []
    for pos, ch in enumerate(terms[k]):
        if ch in result:
            renamed = next(fresh)
            subscripts.append(ch + renamed)
            args.append(backend.eye(target.shape[pos], target.dtype, target))
            ch = renamed
        result.append(ch)
    sizes: dict[str, int] = {}
    for term, arg in zip(subscripts, args):
        for ch, n in zip(term, arg.shape):
            sizes[ch] = n if n != 1 else sizes.get(ch, 1)
    for pos, ch in enumerate(result):
        if ch not in sizes or sizes[ch] < target.shape[pos]:
            subscripts.append(ch)
            args.append(backend.ones(target.shape[pos], target.dtype, target))
    return _einsum(",".join(subscripts) + "->" + "".join(result), *args)


@primitive("einsum", save=("*",), grads=each_input(_einsum_vjp))
def _einsum(equation: str, *operands: Any) -> Any:
    optimize = _worth_optimizing(equation, tuple(np.shape(op) for op in operands))
    out = np.einsum(equation, *operands, optimize=optimize)
    if len(operands) == 1 and np.may_share_memory(out, operands[0]):
        out = out.copy()  # 'ij->ji' and 'ii->i' give views; a result must own its memory
    return out


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, as ``torch.einsum``: ``'ij,jk->ik'``, ``'bhqd,bhkd->bhqk'``,
    ``'ii->'`` (trace), ``'...ij,...jk'`` (implicit output, broadcast batch dims). The operands may
    also be given as one list.

    >>> import backprop as bp
    >>> bp.einsum('ij,jk->ik', bp.ones(2, 3), bp.ones(3, 4)).shape
    (2, 4)
    >>> bp.einsum('ii', bp.eye(3)).item()
    3.0
    """
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string such as 'ij,jk->ik', got "
                        f"{type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    # .shape, not the array's: a tensor batched by vmap shows one example's shape
    canonical = _parse_einsum(equation, tuple(tuple(op.shape) if hasattr(op, "shape")
                                              else np.shape(op) for op in operands))
    return _einsum(canonical, *operands)


__all__ = ["matmul", "mm", "bmm", "mv", "dot", "outer", "ger", "inner", "einsum"]
