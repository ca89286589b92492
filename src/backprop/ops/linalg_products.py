"""Fused matrix products (addmm and kin), chain_matmul, tensordot, kron, vdot, cross products,
linalg.vecdot and linalg.vander (issue 17). Distances, covariance and the trapezoid rule live
in ``ops.distances_stats`` and are re-exported here, as one family.

The ``add*`` family is one row, ``beta * input + alpha * (a @ b)``: one BLAS call and an
in-place scale and add, so ``addmm`` (the Linear layer's op) costs what ``matmul`` costs. Its
gradients reuse matmul's rules. ``cross`` and ``vander`` are rows of their own too (one NumPy
pass forward, rules written with ops); the rest compose differentiable ops, so second
derivatives come free.

>>> import backprop as bp
>>> bp.addmm(bp.ones(2), bp.ones(2, 3), bp.ones(3, 2), beta=0.5).tolist()
[[3.5, 3.5], [3.5, 3.5]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..autograd.graph import DUAL  # forward AD: its tangents need the recorded path
from ..backends import numba_outer
from ..errors import DimError, DTypeError, ShapeError, format_shape
from ..tensor import Tensor
from .distances_stats import (
    block_diag,
    cartesian_prod,
    cdist,
    combinations,
    corrcoef,
    cov,
    cumulative_trapezoid,
    dist,
    renorm,
    renorm_,  # noqa: F401 (Tensor.renorm_ calls it from here)
    trapezoid,
    trapz,
)
from .join import narrow
from .linalg import _check_ndim, _matmul, _matmul_grad_input, _matmul_grad_other
from .primitive import primitive
from .reduction import sum as _sum
from .shape import expand, permute, reshape


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
    # A column by a row (addr) is an outer product: one multiply each, 8x faster than BLAS (and
    # Numba's loop 3x faster than NumPy's broadcast; the same products).
    if a.shape[-1] == 1 and b.ndim > 1:
        out = None
        if a.ndim == 2 and b.ndim == 2:
            out = numba_outer.outer(a.reshape(-1), b.reshape(-1))
        if out is None:
            out = np.multiply(a, b)
    else:
        out = np.matmul(a, b)
    if out.dtype.kind in "iub":  # integer tensors take whole scales (PyTorch truncates them)
        alpha, beta = int(alpha), int(beta)
    if alpha != 1:
        out *= alpha
    # beta = 0 ignores input altogether, NaN and inf included, as PyTorch (and BLAS) do.
    if beta == 1:
        out += input
    elif beta != 0:
        out += beta * input
    return out


def _check_same_dtype(op: str, **tensors: Tensor) -> None:
    """PyTorch's products take operands of one dtype (it does not promote them)."""
    first, *others = tensors.values()
    if all(t.dtype == first.dtype for t in others):
        return
    listed = ", ".join(f"{name} {t.dtype}" for name, t in tensors.items())
    raise DTypeError(f"{op}: expected operands of one dtype, got {listed}; convert them with "
                     ".to(dtype) first")


def _check_input(op: str, input: Tensor, shape: tuple[int, ...]) -> None:
    """PyTorch expands ``input`` to the product's shape: it must broadcast to it."""
    own = input.shape
    # (a plain loop: np.broadcast_shapes costs more than the rest of a small addmm)
    if len(own) > len(shape) or any(n != 1 and n != m for n, m in zip(own[::-1], shape[::-1])):
        raise ShapeError(f"{op}: input of shape {format_shape(own)} cannot be broadcast "
                         f"to the product's shape {format_shape(shape)}")


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1,
          alpha: float = 1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` for matrices ``mat1`` (n, k) and ``mat2``
    (k, m); ``input`` broadcasts to (n, m) and is ignored (NaN too) when ``beta`` is 0.

    >>> import backprop as bp
    >>> bp.addmm(bp.zeros(2, 2), bp.ones(2, 3), bp.ones(3, 2), alpha=2).tolist()
    [[6.0, 6.0], [6.0, 6.0]]
    """
    _check_ndim("addmm", "mat1", mat1, 2)
    _check_ndim("addmm", "mat2", mat2, 2)
    if mat1.shape[1] != mat2.shape[0]:
        raise ShapeError(f"addmm: cannot multiply mat1 {format_shape(mat1.shape)} by mat2 "
                         f"{format_shape(mat2.shape)}: inner sizes {mat1.shape[1]} and "
                         f"{mat2.shape[0]} differ")
    _check_input("addmm", input, (mat1.shape[0], mat2.shape[1]))
    _check_same_dtype("addmm", input=input, mat1=mat1, mat2=mat2)
    return _add_product(input, mat1, mat2, beta=beta, alpha=alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: float = 1,
          alpha: float = 1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)`` for a matrix (n, k) and a vector (k,).

    >>> import backprop as bp
    >>> bp.addmv(bp.ones(2), bp.ones(2, 3), bp.ones(3)).tolist()
    [4.0, 4.0]
    """
    _check_ndim("addmv", "mat", mat, 2)
    _check_ndim("addmv", "vec", vec, 1)
    if mat.shape[1] != vec.shape[0]:
        raise ShapeError(f"addmv: cannot multiply mat {format_shape(mat.shape)} by vec "
                         f"{format_shape(vec.shape)}: sizes {mat.shape[1]} and {vec.shape[0]} "
                         "differ")
    _check_input("addmv", input, (mat.shape[0],))
    _check_same_dtype("addmv", input=input, mat=mat, vec=vec)
    return _add_product(input, mat, vec, beta=beta, alpha=alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: float = 1,
         alpha: float = 1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``.

    >>> import backprop as bp
    >>> bp.addr(bp.zeros(2, 2), bp.tensor([1., 2.]), bp.tensor([3., 4.])).tolist()
    [[3.0, 4.0], [6.0, 8.0]]
    """
    _check_ndim("addr", "vec1", vec1, 1)
    _check_ndim("addr", "vec2", vec2, 1)
    _check_input("addr", input, (vec1.shape[0], vec2.shape[0]))
    _check_same_dtype("addr", input=input, vec1=vec1, vec2=vec2)
    # An outer product is a matmul of a column by a row (k = 1): the same row and rules.
    return _add_product(input, reshape(vec1, (-1, 1)), reshape(vec2, (1, -1)), beta=beta,
                        alpha=alpha)


def _check_batches(op: str, batch1: Tensor, batch2: Tensor) -> None:
    _check_ndim(op, "batch1", batch1, 3)
    _check_ndim(op, "batch2", batch2, 3)
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
    _check_same_dtype("baddbmm", input=input, batch1=batch1, batch2=batch2)
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
    _check_same_dtype("addbmm", input=input, batch1=batch1, batch2=batch2)
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
        _check_ndim("chain_matmul", f"matrix {i}", m, 2)
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
    _check_same_dtype("tensordot", a=a, b=b)
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
    if input.ndim == 2 and other.ndim == 2 and not (
            (input.requires_grad or other.requires_grad) and grad_mode.state.enabled or DUAL.active):
        # No graph to record: one compiled loop where Numba is on (NumPy's 4-d broadcast
        # multiply takes 4x PyTorch's time); the same products.
        fast = numba_outer.kron2(input._data, other._data)
        if fast is not None:
            return Tensor._wrap(fast)
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
    _check_same_dtype("vdot", input=input, other=other)
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
    _check_same_dtype(op, input=input, other=other)
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
    for name, t in (("x", x), ("y", y)):
        if t.dtype.kind not in "fcV":
            raise DTypeError(f"linalg.vecdot: expected floating-point tensors, got {name} of "
                             f"dtype {t.dtype}; convert with .float() first")
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
    # multiply a column rather than NumPy's slow cumprod. A column of the result is strided
    # (n apart), so the products run on a contiguous (n, block) scratch that stays in cache,
    # one block of x at a time, and each block is written back transposed.
    out = backend.empty(x.shape + (n,), x.dtype, x)
    rows = out.reshape(-1, n)
    flat = x.reshape(-1)
    block = max(1, min(_VANDER_BLOCK, flat.shape[0]))
    scratch = backend.empty((n, block), x.dtype, x)
    for start in range(0, flat.shape[0], block):
        values = flat[start:start + block]
        columns = scratch[:, :values.shape[0]]
        columns[0] = 1
        for j in range(1, n):
            np.multiply(columns[j - 1], values, out=columns[j])
        rows[start:start + block] = columns.T
    return out


# Elements of x per block of _vander: its (n, block) scratch fits in a core's L2 cache.
_VANDER_BLOCK = 256


# -- in-place forms -----------------------------------------------------------------------------

def _inplace(name: str, compute: Any, self: Tensor) -> Tensor:
    from .inplace import apply_inplace

    return apply_inplace(self, name, compute)


def addmm_(self: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1,
           alpha: float = 1) -> Tensor:
    """``addmm`` in place.

    >>> import backprop as bp
    >>> bp.ones(1, 2).addmm_(bp.ones(1, 3), bp.ones(3, 2), beta=2).tolist()
    [[5.0, 5.0]]
    """
    return _inplace("addmm_", lambda old: addmm(old, mat1, mat2, beta=beta, alpha=alpha), self)


def addmv_(self: Tensor, mat: Tensor, vec: Tensor, *, beta: float = 1,
           alpha: float = 1) -> Tensor:
    """``addmv`` in place.

    >>> import backprop as bp
    >>> bp.ones(2).addmv_(bp.ones(2, 3), bp.ones(3)).tolist()
    [4.0, 4.0]
    """
    return _inplace("addmv_", lambda old: addmv(old, mat, vec, beta=beta, alpha=alpha), self)


def addr_(self: Tensor, vec1: Tensor, vec2: Tensor, *, beta: float = 1,
          alpha: float = 1) -> Tensor:
    """``addr`` in place.

    >>> import backprop as bp
    >>> bp.zeros(1, 2).addr_(bp.tensor([2.]), bp.tensor([1., 3.])).tolist()
    [[2.0, 6.0]]
    """
    return _inplace("addr_", lambda old: addr(old, vec1, vec2, beta=beta, alpha=alpha), self)


def addbmm_(self: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
            alpha: float = 1) -> Tensor:
    """``addbmm`` in place.

    >>> import backprop as bp
    >>> bp.zeros(1, 1).addbmm_(bp.ones(4, 1, 2), bp.ones(4, 2, 1)).tolist()
    [[8.0]]
    """
    return _inplace("addbmm_", lambda old: addbmm(old, batch1, batch2, beta=beta, alpha=alpha),
                    self)


def baddbmm_(self: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1,
             alpha: float = 1) -> Tensor:
    """``baddbmm`` in place.

    >>> import backprop as bp
    >>> bp.zeros(2, 1, 1).baddbmm_(bp.ones(2, 1, 3), bp.ones(2, 3, 1)).tolist()
    [[[3.0]], [[3.0]]]
    """
    return _inplace("baddbmm_",
                    lambda old: baddbmm(old, batch1, batch2, beta=beta, alpha=alpha), self)


__all__ = ["addmm", "addmv", "addr", "addbmm", "baddbmm", "chain_matmul", "tensordot", "kron",
           "vdot", "cross", "cdist", "dist", "renorm", "block_diag", "cartesian_prod",
           "combinations", "cov", "corrcoef", "trapezoid", "trapz", "cumulative_trapezoid"]
