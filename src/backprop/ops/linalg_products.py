"""Fused matrix products (addmm and kin), tensordot, kron, vdot, cross products, distances,
covariance, integration by trapezoids (issue 17).

The ``add*`` family is one row, ``beta * input + alpha * (a @ b)``: one BLAS call and an
in-place scale and add, so ``addmm`` (the Linear layer's op) costs what ``matmul`` costs. Its
gradients reuse matmul's rules. The rest are compositions of differentiable ops (so second
derivatives come free), except ``cross`` and ``cdist``, whose rows keep the forward in one
NumPy call.

>>> import backprop as bp
>>> bp.addmm(bp.ones(2), bp.ones(2, 3), bp.ones(3, 2), beta=0.5).tolist()
[[3.5, 3.5], [3.5, 3.5]]
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend
from ..dtypes import promote_types
from ..errors import DimError, ShapeError, format_shape
from ..tensor import Tensor
from .elementwise import abs as _abs
from .elementwise import clamp, sign, sqrt, where
from .join import cat, narrow, stack
from .linalg import _matmul, _matmul_grad_input, _matmul_grad_other, _swap_last, einsum
from .primitive import each_input, primitive
from .reduction import cumsum, norm
from .reduction import sum as _sum
from .reductions_more import cumprod
from .scatter import index_select
from .shape import expand, permute, reshape, unsqueeze
from .shape_more import meshgrid

def _scaled(g: Any, factor: float) -> Any:
    return g if factor == 1 else g * factor


# -- beta * input + alpha * (a @ b) -----------------------------------------------------------

def _add_product_grad(g: Any, out: Any, input: Any, a: Any, b: Any, needs: tuple[bool, ...], *,
                      beta: float, alpha: float) -> list[Any]:
    return [_scaled(g, beta) if needs[0] else None,
            _scaled(_matmul_grad_input(g, out, a, b), alpha) if needs[1] else None,
            _scaled(_matmul_grad_other(g, out, a, b), alpha) if needs[2] else None]


@primitive("add_product", save=("a", "b"), grads=_add_product_grad)
def _add_product(input: Any, a: Any, b: Any, *, beta: float, alpha: float) -> Any:
    # A column by a row (addr) is an outer product: one multiply each, 8x faster than BLAS.
    out = np.multiply(a, b) if a.shape[-1] == 1 and b.ndim > 1 else np.matmul(a, b)
    if alpha != 1:
        out *= alpha
    # beta = 0 ignores input altogether, NaN and inf included, as PyTorch (and BLAS) do.
    if beta == 1:
        out += input
    elif beta != 0:
        out += beta * input
    return out


def _check_matrix(op: str, name: str, x: Tensor, ndim: int) -> None:
    if x.ndim != ndim:
        raise ShapeError(f"{op}: {name} must be a {ndim}-D tensor, got shape "
                         f"{format_shape(x.shape)} ({x.ndim}-D)")


def _check_input(op: str, input: Tensor, shape: tuple[int, ...]) -> None:
    """PyTorch expands ``input`` to the product's shape: it must broadcast to it."""
    try:
        fits = np.broadcast_shapes(tuple(input.shape), shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{op}: input of shape {format_shape(input.shape)} cannot be broadcast "
                         f"to the product's shape {format_shape(shape)}")


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1,
          alpha: float = 1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` for matrices ``mat1`` (n, k) and ``mat2``
    (k, m); ``input`` broadcasts to (n, m) and is ignored (NaN too) when ``beta`` is 0.

    >>> import backprop as bp
    >>> bp.addmm(bp.zeros(2, 2), bp.ones(2, 3), bp.ones(3, 2), alpha=2).tolist()
    [[6.0, 6.0], [6.0, 6.0]]
    """
    _check_matrix("addmm", "mat1", mat1, 2)
    _check_matrix("addmm", "mat2", mat2, 2)
    if mat1.shape[1] != mat2.shape[0]:
        raise ShapeError(f"addmm: cannot multiply mat1 {format_shape(mat1.shape)} by mat2 "
                         f"{format_shape(mat2.shape)}: inner sizes {mat1.shape[1]} and "
                         f"{mat2.shape[0]} differ")
    _check_input("addmm", input, (mat1.shape[0], mat2.shape[1]))
    return _add_product(input, mat1, mat2, beta=beta, alpha=alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: float = 1,
          alpha: float = 1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)`` for a matrix (n, k) and a vector (k,).

    >>> import backprop as bp
    >>> bp.addmv(bp.ones(2), bp.ones(2, 3), bp.ones(3)).tolist()
    [4.0, 4.0]
    """
    _check_matrix("addmv", "mat", mat, 2)
    _check_matrix("addmv", "vec", vec, 1)
    if mat.shape[1] != vec.shape[0]:
        raise ShapeError(f"addmv: cannot multiply mat {format_shape(mat.shape)} by vec "
                         f"{format_shape(vec.shape)}: sizes {mat.shape[1]} and {vec.shape[0]} "
                         "differ")
    _check_input("addmv", input, (mat.shape[0],))
    return _add_product(input, mat, vec, beta=beta, alpha=alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: float = 1,
         alpha: float = 1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``.

    >>> import backprop as bp
    >>> bp.addr(bp.zeros(2, 2), bp.tensor([1., 2.]), bp.tensor([3., 4.])).tolist()
    [[3.0, 4.0], [6.0, 8.0]]
    """
    _check_matrix("addr", "vec1", vec1, 1)
    _check_matrix("addr", "vec2", vec2, 1)
    _check_input("addr", input, (vec1.shape[0], vec2.shape[0]))
    # An outer product is a matmul of a column by a row (k = 1): the same row and rules.
    return _add_product(input, reshape(vec1, (-1, 1)), reshape(vec2, (1, -1)), beta=beta,
                        alpha=alpha)


def _check_batches(op: str, batch1: Tensor, batch2: Tensor) -> None:
    _check_matrix(op, "batch1", batch1, 3)
    _check_matrix(op, "batch2", batch2, 3)
    if batch1.shape[0] != batch2.shape[0]:
        raise ShapeError(f"{op}: batch1 {format_shape(batch1.shape)} and batch2 "
                         f"{format_shape(batch2.shape)} must hold the same number of matrices")
    if batch1.shape[2] != batch2.shape[1]:
        raise ShapeError(f"{op}: cannot multiply batch1 {format_shape(batch1.shape)} by batch2 "
                         f"{format_shape(batch2.shape)}: inner sizes {batch1.shape[2]} and "
                         f"{batch2.shape[1]} differ")


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
            alpha: float = 1) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``: (b, n, k) by (b, k, m).

    >>> import backprop as bp
    >>> bp.baddbmm(bp.zeros(1), bp.ones(4, 2, 3), bp.ones(4, 3, 5)).shape
    (4, 2, 5)
    """
    _check_batches("baddbmm", batch1, batch2)
    _check_input("baddbmm", input, (batch1.shape[0], batch1.shape[1], batch2.shape[2]))
    return _add_product(input, batch1, batch2, beta=beta, alpha=alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
           alpha: float = 1) -> Tensor:
    """``beta * input + alpha * sum_i batch1[i] @ batch2[i]``: a (n, m) result.

    >>> import backprop as bp
    >>> bp.addbmm(bp.zeros(2, 5), bp.ones(4, 2, 3), bp.ones(4, 3, 5))[0, 0].item()
    12.0
    """
    _check_batches("addbmm", batch1, batch2)
    b, n, k = batch1.shape
    m = batch2.shape[2]
    _check_input("addbmm", input, (n, m))
    # The sum of b products is one product of (n, b*k) by (b*k, m): one BLAS call.
    rows = reshape(permute(batch1, 1, 0, 2), (n, b * k))
    return _add_product(input, rows, reshape(batch2, (b * k, m)), beta=beta, alpha=alpha)


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of 2-D tensors, left to right (deprecated in PyTorch for
    ``torch.linalg.multi_dot``).

    >>> import backprop as bp
    >>> bp.chain_matmul(bp.ones(2, 3), bp.ones(3, 4), bp.ones(4, 1)).tolist()
    [[12.0], [12.0]]
    """
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise ValueError("chain_matmul: expected one or more matrices, got none")
    for i, m in enumerate(matrices):
        _check_matrix("chain_matmul", f"matrix {i}", m, 2)
    out = matrices[0]
    for i, m in enumerate(matrices[1:], 1):
        if out.shape[1] != m.shape[0]:
            raise ShapeError(f"chain_matmul: cannot multiply {format_shape(out.shape)} by matrix "
                             f"{i} {format_shape(m.shape)}: inner sizes {out.shape[1]} and "
                             f"{m.shape[0]} differ")
        out = _matmul(out, m)
    return out if len(matrices) > 1 else out.clone()


# -- tensordot, kron, vdot ----------------------------------------------------------------------

def _dim_list(dims: Any) -> list[int]:
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    return [int(dims)] if isinstance(dims, (int, np.integer)) else [int(d) for d in dims]


def tensordot(a: Tensor, b: Tensor, dims: int | Sequence[Any] = 2, out: None = None) -> Tensor:
    """Sum of products over ``dims``: the last ``dims`` dims of ``a`` with the first of ``b``,
    or the dims listed in ``dims = (dims_a, dims_b)``.

    >>> import backprop as bp
    >>> bp.tensordot(bp.ones(2, 3, 4), bp.ones(3, 4, 5)).shape
    (2, 5)
    >>> bp.tensordot(bp.ones(2, 3), bp.ones(3, 2), dims=([1], [0])).tolist()
    [[3.0, 3.0], [3.0, 3.0]]
    """
    if out is not None:
        raise TypeError("tensordot: out= is not supported; assign the result instead")
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise ValueError(f"tensordot: dims must be a non-negative integer, got {dims}")
        if dims > min(a.ndim, b.ndim):
            raise DimError(f"tensordot: dims {dims} is more than the tensors' dimensions "
                           f"({a.ndim} and {b.ndim})")
        dims_a = list(range(a.ndim - dims, a.ndim))
        dims_b = list(range(dims))
    else:
        if len(dims) != 2:
            raise ValueError(f"tensordot: dims must be an integer or two lists of dims, got "
                             f"{dims!r}")
        dims_a, dims_b = _dim_list(dims[0]), _dim_list(dims[1])
        if len(dims_a) != len(dims_b):
            raise ValueError(f"tensordot: both lists of dims must be as long, got {dims_a} and "
                             f"{dims_b}")
        for name, ds, x in (("a", dims_a, a), ("b", dims_b, b)):
            for d in ds:
                if not -max(x.ndim, 1) <= d < max(x.ndim, 1):
                    raise DimError(f"tensordot: dim {d} is out of range for {name} of shape "
                                   f"{format_shape(x.shape)}")
        dims_a = [d % a.ndim for d in dims_a]
        dims_b = [d % b.ndim for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        # A contracted dim of size 1 broadcasts against the other's, as in PyTorch.
        if a.shape[da] == 1 and b.shape[db] != 1:
            a = expand(a, tuple(b.shape[db] if d == da else n for d, n in enumerate(a.shape)))
        elif b.shape[db] == 1 and a.shape[da] != 1:
            b = expand(b, tuple(a.shape[da] if d == db else n for d, n in enumerate(b.shape)))
        elif a.shape[da] != b.shape[db]:
            raise ShapeError(f"tensordot: contracted dims differ in size: a's dim {da} is "
                             f"{a.shape[da]} (shape {format_shape(a.shape)}) and b's dim {db} is "
                             f"{b.shape[db]} (shape {format_shape(b.shape)})")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    contracted = math.prod(a.shape[d] for d in dims_a)
    # One matmul of a (free_a, contracted) matrix by a (contracted, free_b) one.
    left = reshape(permute(a, *free_a, *dims_a),
                   (math.prod(a.shape[d] for d in free_a), contracted))
    right = reshape(permute(b, *dims_b, *free_b),
                    (contracted, math.prod(b.shape[d] for d in free_b)))
    shape = tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b)
    return reshape(_matmul(left, right), shape)


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: every element of ``input`` times the whole of ``other``, in
    blocks; its shape is the product of the shapes (the shorter padded with leading 1s).

    >>> import backprop as bp
    >>> bp.kron(bp.tensor([1., 2.]), bp.tensor([1., 10.])).tolist()
    [1.0, 10.0, 2.0, 20.0]
    """
    ndim = max(input.ndim, other.ndim)
    sa = (1,) * (ndim - input.ndim) + tuple(input.shape)
    sb = (1,) * (ndim - other.ndim) + tuple(other.shape)
    # Interleaved axes (a0, b0, a1, b1, ...) hold input[i] * other[j]; merging each pair gives
    # the blocks.
    left = reshape(input, tuple(v for n in sa for v in (n, 1)))
    right = reshape(other, tuple(v for n in sb for v in (1, n)))
    return reshape(left * right, tuple(x * y for x, y in zip(sa, sb)))


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """The dot product of two 1-D tensors (the first conjugated: real tensors need not be).

    >>> import backprop as bp
    >>> bp.vdot(bp.tensor([1., 2.]), bp.tensor([3., 4.])).item()
    11.0
    """
    if input.ndim != 1 or other.ndim != 1:
        raise ShapeError(f"vdot: expected 1-D tensors, got shapes {format_shape(input.shape)} "
                         f"and {format_shape(other.shape)}")
    if input.shape[0] != other.shape[0]:
        raise ShapeError(f"vdot: sizes {input.shape[0]} and {other.shape[0]} differ (shapes "
                         f"{format_shape(input.shape)} and {format_shape(other.shape)})")
    return _matmul(input, other)


# -- cross products -----------------------------------------------------------------------------

# d/da <g, a x b> = b x g and d/db <g, a x b> = g x a: the rules are cross products themselves.
@primitive("cross", save=("input", "other"), grads={
    "input": lambda g, out, input, other, dim: _cross(other, g, dim=dim),
    "other": lambda g, out, input, other, dim: _cross(g, input, dim=dim),
})
def _cross(input: Any, other: Any, *, dim: int) -> Any:
    return np.cross(input, other, axis=dim)


def _cross_checked(op: str, input: Tensor, other: Tensor, dim: int | None) -> Tensor:
    if input.ndim != other.ndim:
        raise ShapeError(f"{op}: input {format_shape(input.shape)} and other "
                         f"{format_shape(other.shape)} must have the same number of dimensions")
    try:
        shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    except ValueError:
        raise ShapeError(f"{op}: cannot broadcast shapes {format_shape(input.shape)} and "
                         f"{format_shape(other.shape)}") from None
    if dim is None:  # PyTorch's old default: input's first dim of size 3
        dim = next((d for d, n in enumerate(input.shape) if n == 3), None)
        if dim is None:
            raise ShapeError(f"{op}: no dimension of size 3 in input of shape "
                             f"{format_shape(input.shape)}; pass dim")
    if not -max(len(shape), 1) <= dim < max(len(shape), 1):
        raise DimError(f"{op}: dim {dim} is out of range for shape {format_shape(shape)}")
    if shape[dim] != 3:
        raise ShapeError(f"{op}: dim {dim} must have size 3, got shape {format_shape(shape)}")
    if tuple(input.shape) != shape:
        input = expand(input, shape)
    if tuple(other.shape) != shape:
        other = expand(other, shape)
    return _cross(input, other, dim=dim % len(shape))


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (default: the first dim of size 3).

    >>> import backprop as bp
    >>> bp.cross(bp.tensor([1., 0., 0.]), bp.tensor([0., 1., 0.])).tolist()
    [0.0, 0.0, 1.0]
    """
    return _cross_checked("cross", input, other, dim)


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (``torch.linalg.cross``).

    >>> import backprop as bp
    >>> bp.linalg.cross(bp.tensor([0., 1., 0.]), bp.tensor([0., 0., 1.])).tolist()
    [1.0, 0.0, 0.0]
    """
    return _cross_checked("linalg.cross", input, other, dim)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """Dot products along ``dim`` of broadcast ``x`` and ``y`` (``torch.linalg.vecdot``).

    >>> import backprop as bp
    >>> bp.linalg.vecdot(bp.ones(2, 3), bp.tensor([1., 2., 3.])).tolist()
    [6.0, 6.0]
    """
    return _sum(x * y, dim)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """The Vandermonde matrix of the last dim: ``out[..., i, j] = x[..., i] ** j`` for
    ``j < N`` (default ``x.shape[-1]``); ``torch.linalg.vander``.

    >>> import backprop as bp
    >>> bp.linalg.vander(bp.tensor([2., 3.]), N=3).tolist()
    [[1.0, 2.0, 4.0], [1.0, 3.0, 9.0]]
    """
    if x.ndim == 0:
        x = reshape(x, (1,))
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise ValueError(f"linalg.vander: N must be greater than 1, got {n}")
    return _vander(x, n=n)


def _vander_grad(g: Any, out: Any, x: Any, *, n: int) -> Any:
    # d x**j / dx = j * x**(j - 1), the column before: defined at 0 (unlike a power's rule)
    powers = (backend.arange(n - 1, g) + 1).astype(g.dtype)
    return _sum(narrow(g, -1, 1, n - 1) * powers * narrow(out, -1, 0, n - 1), -1)


@primitive("vander", save=("out",), grads={"x": _vander_grad})
def _vander(x: Any, *, n: int) -> Any:
    # Each column the one before times x: PyTorch's running product (its roundings), one
    # multiply a column rather than NumPy's slow cumprod.
    out = np.empty(x.shape + (n,), x.dtype)
    out[..., 0] = 1
    for j in range(1, n):
        np.multiply(out[..., j - 1], x, out=out[..., j])
    return out


# -- distances ----------------------------------------------------------------------------------

def _cdist_grad(g: Any, out: Any, x1: Any, x2: Any, needs: tuple[bool, ...], *, p: float,
                use_mm: bool) -> list[Any]:
    if p == 0:
        return [x1 * 0 if needs[0] else None, x2 * 0 if needs[1] else None]
    if p == 2:
        # sum_r g / d (x1 - x2_r), written with two products; 0 where the distance is 0.
        ratio = where(out == 0, 0.0, g / where(out == 0, 1.0, out))
        return [x1 * _sum(ratio, -1, keepdim=True) - _matmul(ratio, x2) if needs[0] else None,
                x2 * unsqueeze(_sum(ratio, -2), -1) - _matmul(_swap_last(ratio), x1)
                if needs[1] else None]
    diff = unsqueeze(x1, -2) - unsqueeze(x2, -3)  # (..., P, R, M)
    dist = unsqueeze(out, -1)
    if p == 1:
        weight = sign(diff)
    elif p == math.inf:
        # Every coordinate at the largest distance gets the whole gradient, as in PyTorch.
        weight = sign(diff) * (_abs(diff) == dist)
    else:
        size = _abs(diff)
        if p < 1:  # |diff| ** (p - 1) is infinite at 0: PyTorch takes 0 there
            size = where(diff == 0, 1.0, size)
        safe = where(dist == 0, 1.0, dist)
        weight = where(dist == 0, 0.0, sign(diff) * size ** (p - 1) / safe ** (p - 1))
    each = unsqueeze(g, -1) * weight
    return [_sum(each, -2) if needs[0] else None, -_sum(each, -3) if needs[1] else None]


# Up to this many columns the direct distances are summed column by column.
_COLUMNS_ONE_BY_ONE = 64


@primitive("cdist", save=("x1", "x2", "out"), grads=_cdist_grad)
def _cdist(x1: Any, x2: Any, *, p: float, use_mm: bool) -> Any:
    if use_mm:
        # PyTorch's matrix-product form of the Euclidean distance, |x|^2 + |y|^2 - 2 x.y, with
        # its roundings (and its floor of 1e-30 before the square root).
        sq1 = np.sum(x1 * x1, axis=-1, keepdims=True)
        sq2 = np.sum(x2 * x2, axis=-1, keepdims=True)
        left = np.concatenate([x1 * -2, sq1, np.ones_like(sq1)], axis=-1)
        right = np.concatenate([x2, np.ones_like(sq2), sq2], axis=-1)
        return np.sqrt(np.maximum(np.matmul(left, np.swapaxes(right, -1, -2)), 1e-30))
    if x1.shape[-1] > _COLUMNS_ONE_BY_ONE:
        diff = np.abs(x1[..., :, None, :] - x2[..., None, :, :])
        if p == 0:
            return np.count_nonzero(diff, axis=-1).astype(diff.dtype)
        if p == 1:
            return np.sum(diff, axis=-1)
        if p == 2:
            return np.sqrt(np.sum(diff * diff, axis=-1))
        if p == math.inf:
            return np.max(diff, axis=-1, initial=0.0).astype(diff.dtype)
        return np.sum(diff ** p, axis=-1) ** (1 / p)
    # Few columns: accumulate column by column over (P, R) planes, which NumPy does ~5x faster
    # than reducing a short last axis of the (P, R, M) differences.
    total = None
    for k in range(x1.shape[-1]):
        d = np.abs(x1[..., :, k, None] - x2[..., None, :, k])
        term = (d != 0).astype(d.dtype) if p == 0 else d if p in (1, math.inf) else \
            d * d if p == 2 else d ** p
        if total is None:
            total = term
        elif p == math.inf:
            np.maximum(total, term, out=total)
        else:
            total += term
    if total is None:  # no columns: every distance is 0
        return np.zeros(np.broadcast_shapes(x1.shape[:-1] + (1,), x2.shape[:-2] + (1,)
                                            + x2.shape[-2:-1]), x1.dtype)
    if p == 2:
        return np.sqrt(total)
    return total if p in (0, 1, math.inf) else total ** (1 / p)


_COMPUTE_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                  "donot_use_mm_for_euclid_dist")


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str | None = None) -> Tensor:
    """The ``p``-norm distance between each row of ``x1`` (..., P, M) and each row of ``x2``
    (..., R, M): a (..., P, R) tensor; batch dims broadcast. For ``p = 2`` PyTorch's
    ``compute_mode`` picks the matrix-product form (faster, less exact for near points):
    always, never, or (default) when P or R exceeds 25.

    >>> import backprop as bp
    >>> bp.cdist(bp.tensor([[0., 0.]]), bp.tensor([[3., 4.], [1., 0.]])).tolist()
    [[5.0, 1.0]]
    """
    if x1.ndim < 2 or x2.ndim < 2:
        raise ShapeError(f"cdist: x1 and x2 must have at least 2 dimensions, got shapes "
                         f"{format_shape(x1.shape)} and {format_shape(x2.shape)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(f"cdist: x1 {format_shape(x1.shape)} and x2 {format_shape(x2.shape)} "
                         f"must have the same number of columns ({x1.shape[-1]} and "
                         f"{x2.shape[-1]})")
    if not p >= 0:
        raise ValueError(f"cdist: p must be non-negative, got {p}")
    if compute_mode is None:
        compute_mode = _COMPUTE_MODES[0]
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"cdist: compute_mode must be one of {list(_COMPUTE_MODES)}, got "
                         f"{compute_mode!r}")
    try:
        np.broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    except ValueError:
        raise ShapeError(f"cdist: cannot broadcast the batch dims of x1 "
                         f"{format_shape(x1.shape)} and x2 {format_shape(x2.shape)}") from None
    use_mm = p == 2 and (compute_mode == _COMPUTE_MODES[1] or (
        compute_mode == _COMPUTE_MODES[0] and (x1.shape[-2] > 25 or x2.shape[-2] > 25)))
    return _cdist(x1, x2, p=float(p), use_mm=use_mm)


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm of ``input - other`` (broadcast), over all elements.

    >>> import backprop as bp
    >>> bp.dist(bp.tensor([0., 0.]), bp.tensor([3., 4.])).item()
    5.0
    """
    return norm(input - other, p)


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along ``dim`` scaled down to ``p``-norm ``maxnorm`` where its norm exceeds
    it (by ``maxnorm / (norm + 1e-7)``, as PyTorch does).

    >>> import backprop as bp
    >>> bp.renorm(bp.tensor([[3., 4.], [0.5, 0.25]]), 2, 0, 1.0).tolist()[1]
    [0.5, 0.25]
    """
    if not p > 0:
        raise ValueError(f"renorm: p must be positive, got {p}")
    if maxnorm < 0:
        raise ValueError(f"renorm: maxnorm must be non-negative, got {maxnorm}")
    if not -max(input.ndim, 1) <= dim < max(input.ndim, 1):
        raise DimError(f"renorm: dim {dim} is out of range for a tensor with {input.ndim} "
                       "dimensions")
    others = [d for d in range(input.ndim) if d != dim % max(input.ndim, 1)]
    norms = norm(input, p, others, keepdim=True) if others else _abs(input)
    factor = where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return input * factor


# -- joined and gathered tensors ----------------------------------------------------------------

def _block_diag_grad(i: int, g: Any, out: Any, *blocks: Any) -> Any:
    row = sum(b.shape[0] for b in blocks[:i])
    column = sum(b.shape[1] for b in blocks[:i])
    rows, columns = blocks[i].shape
    return narrow(narrow(g, 0, row, rows), 1, column, columns)


@primitive("block_diag", grads=each_input(_block_diag_grad))
def _block_diag(*blocks: Any) -> Any:
    out = backend.zeros((sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)),
                        blocks[0].dtype, blocks[0])
    row = column = 0
    for b in blocks:
        out[row:row + b.shape[0], column:column + b.shape[1]] = b
        row, column = row + b.shape[0], column + b.shape[1]
    return out


def block_diag(*tensors: Tensor) -> Tensor:
    """The tensors (0-, 1- or 2-D; a 1-D tensor is a row) placed along the diagonal of a
    matrix of zeros.

    >>> import backprop as bp
    >>> bp.block_diag(bp.tensor([[1., 2.]]), bp.tensor(3.)).tolist()
    [[1.0, 2.0, 0.0], [0.0, 0.0, 3.0]]
    """
    if not tensors:
        from ..creation import zeros  # creation imports the ops

        return zeros(1, 0)
    blocks = []
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise ShapeError(f"block_diag: input {i} must have 2 dimensions or fewer, got shape "
                             f"{format_shape(t.shape)}")
        blocks.append(reshape(t, (1, -1) if t.ndim < 2 else tuple(t.shape)))
    dtype = functools.reduce(promote_types, [b.dtype for b in blocks])  # PyTorch's promotion
    return _block_diag(*[b if b.dtype == dtype else b.to(dtype) for b in blocks])


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every tuple of one element from each 1-D tensor, in order: a (N, len(tensors)) tensor
    (or the one tensor itself).

    >>> import backprop as bp
    >>> bp.cartesian_prod(bp.tensor([1, 2]), bp.tensor([3, 4])).tolist()
    [[1, 3], [1, 4], [2, 3], [2, 4]]
    """
    for i, t in enumerate(tensors):
        if t.ndim != 1:
            raise ShapeError(f"cartesian_prod: expects 1-D tensors, got shape "
                             f"{format_shape(t.shape)} for input {i}")
    if len({t.dtype for t in tensors}) > 1:
        raise TypeError("cartesian_prod: expects tensors of one dtype, got "
                        f"{', '.join(str(t.dtype) for t in tensors)}")
    if len(tensors) == 1:
        return tensors[0] * 1  # a new tensor, as PyTorch's
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of a 1-D tensor's elements, as ``itertools.combinations``
    (or ``combinations_with_replacement``) orders them: a (N, r) tensor.

    >>> import backprop as bp
    >>> bp.combinations(bp.tensor([1., 2., 3.])).tolist()
    [[1.0, 2.0], [1.0, 3.0], [2.0, 3.0]]
    """
    if input.ndim != 1:
        raise ShapeError(f"combinations: expects a 1-D tensor, got shape "
                         f"{format_shape(input.shape)}")
    if r < 0:
        raise ValueError(f"combinations: r must be non-negative, got {r}")
    if r == 0:
        return input[:0] * 1
    index = _combination_index(input.shape[0], r, with_replacement)
    return reshape(index_select(input, 0, index.reshape(-1)), (-1, r))


def _combination_index(n: int, r: int, with_replacement: bool) -> np.ndarray:
    """The (N, r) positions of every combination in lexicographic order (itertools'), grown
    one column at a time: each row is followed by every larger position (or equal, with
    replacement), all rows at once."""
    combos = np.arange(n, dtype=np.int64)[:, None]
    for _ in range(r - 1):
        start = combos[:, -1] + (0 if with_replacement else 1)
        counts = np.maximum(n - start, 0)
        rows = np.repeat(np.arange(len(combos)), counts)
        offsets = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
        combos = np.concatenate([combos[rows], (start[rows] + offsets)[:, None]], axis=1)
    return combos


# -- statistics ---------------------------------------------------------------------------------

def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """The covariance matrix of the variables in ``input``'s rows (observations in its
    columns; a 1-D tensor is one variable), with frequency and observation weights.

    >>> import backprop as bp
    >>> bp.cov(bp.tensor([[0., 1., 2.], [2., 1., 0.]])).tolist()
    [[1.0, -1.0], [-1.0, 1.0]]
    """
    if input.ndim > 2:
        raise ShapeError(f"cov: expected input with 2 dimensions or fewer, got shape "
                         f"{format_shape(input.shape)}")
    x = reshape(input, (1, -1)) if input.ndim < 2 else input
    n = x.shape[1]
    weights = None
    for name, w in (("fweights", fweights), ("aweights", aweights)):
        if w is None:
            continue
        if not isinstance(w, Tensor):
            from ..creation import as_tensor  # creation imports the ops

            w = as_tensor(w)
        if w.ndim > 1:
            raise ShapeError(f"cov: {name} must be a scalar or 1-D tensor, got shape "
                             f"{format_shape(w.shape)}")
        if w.ndim == 1 and w.shape[0] != n:
            raise ShapeError(f"cov: {name} must have as many elements as input has "
                             f"observations ({n}), got {w.shape[0]}")
        if name == "fweights" and w.dtype.kind not in "iu":
            raise TypeError(f"cov: fweights must be an integer tensor, got {w.dtype}")
        if (w.detach() < 0).any():
            raise ValueError(f"cov: {name} cannot be negative")
        weights = w if weights is None else weights * w
    if weights is None:
        total = n
        mean = _sum(x, 1) / n if n else _sum(x, 1) * math.nan
    else:
        total = _sum(weights)
        mean = _sum(x * weights, 1) / total
    if weights is None:
        factor = total - correction
    elif correction == 0:
        factor = total
    elif aweights is None:
        factor = total - correction
    else:
        factor = total - correction * _sum(weights * aweights) / total
    if isinstance(factor, Tensor):
        factor = clamp(factor, min=0)
    else:
        factor = max(factor, 0)
    centred = x - unsqueeze(mean, 1)
    weighted = centred if weights is None else centred * weights
    out = _matmul(weighted, _swap_last(centred)) / factor
    return reshape(out, ()) if x.shape[0] == 1 else out  # one variable: a 0-d result


def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation coefficients of the variables in ``input``'s rows (see ``cov``),
    clamped to [-1, 1].

    >>> import backprop as bp
    >>> bp.corrcoef(bp.tensor([[0., 1., 2.], [2., 1., 0.]])).tolist()
    [[1.0, -1.0], [-1.0, 1.0]]
    """
    c = cov(input)
    if c.ndim == 0:
        return c / c
    stddev = sqrt(einsum("ii->i", c))
    c = c / reshape(stddev, (-1, 1))
    c = c / reshape(stddev, (1, -1))
    return clamp(c, -1, 1)


# -- integration by trapezoids ------------------------------------------------------------------

def _spacing(op: str, y: Tensor, x: Tensor | None, dx: float | None, dim: int) -> Any:
    """The spacing of ``y``'s points along ``dim`` (a number, or differences of ``x`` that
    broadcast against the pairs of neighbours), after checking the arguments."""
    if x is not None and dx is not None:
        raise TypeError(f"{op}: give x or dx, not both")
    if y.ndim == 0:
        raise ShapeError(f"{op}: y must have at least one dimension, got a 0-d tensor")
    if not -y.ndim <= dim < y.ndim:
        raise DimError(f"{op}: dim {dim} is out of range for y of shape {format_shape(y.shape)}")
    if x is None:
        return 1.0 if dx is None else dx
    dim %= y.ndim
    n = y.shape[dim]
    if x.ndim == 1:
        if x.shape[0] != n:
            raise ShapeError(f"{op}: x of shape {format_shape(x.shape)} must have as many "
                             f"elements as y's dim {dim} (size {n})")
        return reshape(_neighbour_difference(x, 0), (-1,) + (1,) * (y.ndim - 1 - dim))
    xdim = dim - y.ndim + x.ndim if x.ndim < y.ndim else dim
    if not 0 <= xdim < x.ndim or x.shape[xdim] not in (n, 1):
        raise ShapeError(f"{op}: x of shape {format_shape(x.shape)} does not broadcast "
                         f"against y of shape {format_shape(y.shape)} along dim {dim}")
    return _neighbour_difference(x, xdim)


def _neighbour_difference(x: Tensor, dim: int) -> Tensor:
    n = x.shape[dim]  # (an empty dim has no neighbours: an empty result)
    return narrow(x, dim, min(n, 1), max(n - 1, 0)) - narrow(x, dim, 0, max(n - 1, 0))


def _neighbour_sum(y: Tensor, dim: int) -> Tensor:
    n = y.shape[dim]
    return narrow(y, dim, min(n, 1), max(n - 1, 0)) + narrow(y, dim, 0, max(n - 1, 0))


def trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None,
              dim: int = -1) -> Tensor:
    """The trapezoidal rule's integral of ``y`` along ``dim``, at points ``x`` (a 1-D tensor
    or one broadcasting with ``y``) or spaced ``dx`` apart (default 1).

    >>> import backprop as bp
    >>> bp.trapezoid(bp.tensor([1., 2., 3.])).item()
    4.0
    >>> bp.trapezoid(bp.tensor([1., 2., 3.]), bp.tensor([0., 1., 3.])).item()
    6.5
    """
    spacing = _spacing("trapezoid", y, x, dx, dim)
    dim %= y.ndim
    if isinstance(spacing, Tensor):
        return _sum(_neighbour_sum(y, dim) * spacing, dim) / 2
    total = _sum(y, dim)
    n = y.shape[dim]
    if n == 0:  # no intervals: 0
        return total
    # Equal spacing: the sum less half the two ends, without forming the pairs (PyTorch's form)
    ends = narrow(y, dim, 0, 1) + narrow(y, dim, n - 1, 1)
    return spacing * (total - reshape(ends, total.shape) * 0.5)


def trapz(y: Tensor, x: Tensor | None = None, *, dx: float | None = None,
          dim: int = -1) -> Tensor:
    """``trapezoid`` under its older name.

    >>> import backprop as bp
    >>> bp.trapz(bp.tensor([1., 2., 3.]), dx=2.0).item()
    8.0
    """
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None,
                         dim: int = -1) -> Tensor:
    """The running trapezoidal integral of ``y`` along ``dim`` (one element fewer than ``y``).

    >>> import backprop as bp
    >>> bp.cumulative_trapezoid(bp.tensor([1., 2., 3.])).tolist()
    [1.5, 4.0]
    """
    spacing = _spacing("cumulative_trapezoid", y, x, dx, dim)
    dim %= y.ndim
    pairs = _neighbour_sum(y, dim)
    if isinstance(spacing, Tensor):
        return cumsum(pairs * spacing, dim) / 2
    return cumsum(pairs * (spacing / 2), dim)


# -- in-place forms -----------------------------------------------------------------------------

def _inplace(name: str, compute: Any, self: Tensor) -> Tensor:
    from .inplace import apply_inplace

    return apply_inplace(self, name, compute)


def addmm_(self: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1,
           alpha: float = 1) -> Tensor:
    """``addmm`` in place."""
    return _inplace("addmm_", lambda old: addmm(old, mat1, mat2, beta=beta, alpha=alpha), self)


def addmv_(self: Tensor, mat: Tensor, vec: Tensor, *, beta: float = 1,
           alpha: float = 1) -> Tensor:
    """``addmv`` in place."""
    return _inplace("addmv_", lambda old: addmv(old, mat, vec, beta=beta, alpha=alpha), self)


def addr_(self: Tensor, vec1: Tensor, vec2: Tensor, *, beta: float = 1,
          alpha: float = 1) -> Tensor:
    """``addr`` in place."""
    return _inplace("addr_", lambda old: addr(old, vec1, vec2, beta=beta, alpha=alpha), self)


def addbmm_(self: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
            alpha: float = 1) -> Tensor:
    """``addbmm`` in place."""
    return _inplace("addbmm_", lambda old: addbmm(old, batch1, batch2, beta=beta, alpha=alpha),
                    self)


def baddbmm_(self: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
             alpha: float = 1) -> Tensor:
    """``baddbmm`` in place."""
    return _inplace("baddbmm_",
                    lambda old: baddbmm(old, batch1, batch2, beta=beta, alpha=alpha), self)


def renorm_(self: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """``renorm`` in place."""
    return _inplace("renorm_", lambda old: renorm(old, p, dim, maxnorm), self)


__all__ = ["addmm", "addmv", "addr", "addbmm", "baddbmm", "chain_matmul", "tensordot", "kron",
           "vdot", "cross", "cdist", "dist", "renorm", "block_diag", "cartesian_prod",
           "combinations", "cov", "corrcoef", "trapezoid", "trapz", "cumulative_trapezoid"]
