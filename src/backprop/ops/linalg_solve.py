"""LU and LDL factorizations with their solves, matrix powers and exponentials, tensor
inverses and solves, multi_dot (issue 17); with ``linalg_inverse.py``'s inverses, determinants,
solves and Cholesky, the public face of the family (``__all__`` and ``bp.linalg``).

LU's primitive returns LAPACK's packed factors and 1-based int32 pivots; its rule is PyTorch's
``lu_factor_ex_backward``. The rest are compositions, differentiated through their parts.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend
from ..errors import DTypeError, ShapeError, format_shape
from ..tensor import Tensor
from . import lu_numerics as _num
from .elementwise import clone, where
from .join import cat, narrow
from .linalg import _matmul
from .linalg_inverse import (
    _check_matrix,
    _check_triangular,
    _mH,
    _raise_for_info,
    _solve_triangular,
    cholesky,
    cholesky_inverse,
    cholesky_solve,
    det,
    inv,
    inverse,
    logdet,
    slogdet,
    solve,
    triangular_solve,
)
from .primitive import primitive
from .rearrange import _keep_triangle, _tril, _triu
from .scatter import index_select
from .shape import movedim, reshape, squeeze, unsqueeze

lu_factor_result = namedtuple("linalg_lu_factor", ["LU", "pivots"])
lu_factor_ex_result = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
lu_result = namedtuple("linalg_lu", ["P", "L", "U"])
lu_unpack_result = namedtuple("lu_unpack", ["P", "L", "U"])
ldl_factor_result = namedtuple("linalg_ldl_factor", ["LD", "pivots"])
ldl_factor_ex_result = namedtuple("linalg_ldl_factor_ex", ["LD", "pivots", "info"])

# -- LU -------------------------------------------------------------------------------------------

def _permutation_matrix(pivots: Any, m: int, like: Any) -> Any:
    """P of ``A = P L U`` (..., m, m) from LAPACK's pivots, as a constant array."""
    perm = _num.permutation_from_pivots(backend.array_of(pivots), m)
    if type(perm) is np.ndarray and type(backend.array_of(like)) is np.ndarray:
        # Ones written into zeros (calloc'd pages): no identity to make and permute.
        P = np.zeros(perm.shape[:-1] + (m, m), dtype=backend.array_of(like).dtype)
        if perm.ndim == 1:
            P[perm, np.arange(m)] = 1
        else:
            np.put_along_axis(P, perm[..., None, :], 1, axis=-2)
        return P
    eye = backend.eye(m, like.dtype, like)
    # P[perm[i], i] = 1: P's columns are the identity's columns in the order perm.
    return np.swapaxes(eye[perm], -2, -1)


def _lu_rule(g: tuple, out: tuple, A: Any, pivot: bool, check: bool) -> Any:
    # PyTorch's lu_factor_ex_backward: the packed gradient splits into L's (strictly lower) and
    # U's (upper) parts, then linalg_lu_backward.
    LU, pivots = out[0], out[1]
    m, n = LU.shape[-2], LU.shape[-1]
    k = min(m, n)
    L = _tril(narrow(LU, -1, 0, k), -1) + backend.eye(m, LU.dtype, LU)[..., :k]
    U = _triu(narrow(LU, -2, 0, k), 0)
    grad_L = _tril(narrow(g[0], -1, 0, k), -1)
    grad_U = _triu(narrow(g[0], -2, 0, k), 0)
    P = _permutation_matrix(pivots, m, LU)
    return _matmul(P, _lu_backward(grad_L, grad_U, L, U, m, n))


def _lu_backward(grad_L: Any, grad_U: Any, L: Any, U: Any, m: int, n: int) -> Any:
    """``P^T`` times A's gradient, from L's and U's (Walter's and PyTorch's derivation)."""
    k = min(m, n)
    if m == n:
        inner = _tril(_matmul(_mH(L), grad_L), -1) + _triu(_matmul(grad_U, _mH(U)), 0)
        inner = _solve_triangular(_mH(U), inner, False, False, False)
        return _solve_triangular(_mH(L), inner, True, True, True)
    if m < n:  # wide: U = [U1 U2]
        U1 = narrow(U, -1, 0, k)
        inner = _matmul(_mH(L), grad_L) - _matmul(_triu(grad_U, 0), _mH(U))
        inner = _solve_triangular(_mH(U1), _tril(inner, -1), False, False, False)
        inner = cat([inner + _triu(narrow(grad_U, -1, 0, k), 0), narrow(grad_U, -1, k, n - k)],
                    -1)
        return _solve_triangular(_mH(L), inner, True, True, True)
    L1 = narrow(L, -2, 0, k)  # tall: L = [L1; L2]
    inner = _matmul(grad_U, _mH(U)) - _matmul(_mH(L), _tril(grad_L, -1))
    inner = _solve_triangular(_mH(L1), _triu(inner, 0), True, True, True)
    inner = cat([inner + _tril(narrow(grad_L, -2, 0, k), -1), narrow(grad_L, -2, k, m - k)], -2)
    return _solve_triangular(_mH(U), inner, False, False, False)


@primitive("linalg_lu_factor_ex", outputs=("LU", "pivots", "info"), save=("LU", "pivots"),
           grads={"A": _lu_rule})
def _lu_factor_ex(A: Any, pivot: bool, check: bool) -> tuple[Any, Any, Any]:
    LU, pivots, info = _num.lu_factor_arrays(A)
    if check:
        _raise_for_info("linalg.lu_factor", info, "U[{0},{0}] is zero and using it on lu_solve "
                        "would result in a division by zero. If you still want to perform the "
                        "factorization, consider calling linalg.lu(A, pivot) or "
                        "linalg.lu_factor_ex(A, pivot)")
    return LU, pivots, info


def _lu_checked(op: str, A: Tensor, pivot: bool, check: bool) -> tuple[Any, Any, Any]:
    _check_matrix(op, "A", A, square=False)
    if not pivot:
        raise NotImplementedError(f"{op}: LU without pivoting is not implemented on the CPU, "
                                  "as in PyTorch")
    return _lu_factor_ex(A, True, check)


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False) -> Any:
    """``(LU, pivots, info)``: the packed LU factorization with partial pivoting (as
    ``lu_factor``), and per matrix 0 or the index of the first zero on U's diagonal.

    >>> import backprop as bp
    >>> bp.linalg.lu_factor_ex(bp.tensor([[0., 1.], [2., 3.]])).pivots.tolist()
    [2, 2]
    """
    return lu_factor_ex_result(*_lu_checked("linalg.lu_factor_ex", A, pivot, check_errors))


def lu_factor(A: Tensor, *, pivot: bool = True) -> Any:
    """``(LU, pivots)``: ``A = P L U`` packed as LAPACK's getrf (L's unit diagonal implied,
    U on and above the diagonal), pivots int32 and 1-based; A may be rectangular. A zero pivot
    raises (``lu_factor_ex`` reports it instead).

    >>> import backprop as bp
    >>> bp.linalg.lu_factor(bp.tensor([[0., 1.], [2., 3.]])).LU.tolist()
    [[2.0, 3.0], [0.0, 1.0]]
    """
    LU, pivots, _ = _lu_checked("linalg.lu_factor", A, pivot, True)
    return lu_factor_result(LU, pivots)


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False) -> tuple:
    """``torch.lu``: ``(LU, pivots)``, with ``infos`` too if ``get_infos`` (PyTorch's older
    form of ``linalg.lu_factor``; a zero pivot is not an error).

    >>> import backprop as bp
    >>> LU, pivots = bp.lu(bp.tensor([[0., 1.], [2., 3.]]))
    >>> pivots.tolist()
    [2, 2]
    """
    LU, pivots, info = _lu_checked("lu", A, pivot, False)
    return (LU, pivots, info) if get_infos else (LU, pivots)


def _unit_lower_upper(LU: Any, k: int) -> tuple[Any, Any]:
    """L (..., m, k: the strict lower triangle, ones on the diagonal) and U (..., k, n: the
    upper triangle) of a packed LU, each in one masked copy."""
    swapped = LU.swapaxes(-1, -2)
    if swapped.flags.c_contiguous and not LU.flags.c_contiguous:
        # getrf's column-major LU: mask its transpose, which lies in rows (a masked copy across
        # strides costs half as much again): tril(X, -1) = triu(X^T, 1)^T.
        L = _keep_triangle(swapped[..., :k, :], 1, lower=False).swapaxes(-1, -2)
        U = _keep_triangle(swapped[..., :, :k], 0, lower=True).swapaxes(-1, -2)
    else:
        L = _keep_triangle(LU[..., :, :k], -1, lower=True)
        U = _keep_triangle(LU[..., :k, :], 0, lower=False)
    diagonal = backend.arange(k, L)
    L[..., diagonal, diagonal] = 1
    return L, U


def _lu_unpack_data_rule(g: tuple, out: tuple, LU: Any, k: int) -> Any:
    # Linear in LU: the strictly lower part of L's gradient and the upper part of U's, packed.
    m, n = LU.shape[-2], LU.shape[-1]
    batch = tuple(LU.shape[:-2])
    gL = g[0] if g[0] is not None else backend.zeros(batch + (m, k), LU.dtype, LU)
    gU = g[1] if g[1] is not None else backend.zeros(batch + (k, n), LU.dtype, LU)
    return _pack_lu_grads(gL, gU, m=m, n=n)


@primitive("lu_unpack_data", outputs=("L", "U"), grads={"LU": _lu_unpack_data_rule})
def _lu_unpack_data(LU: Any, k: int) -> tuple[Any, Any]:
    return _unit_lower_upper(LU, k)


def _pack_lu_grads_rule(g: Any, out: Any, gL: Any, gU: Any, needs: tuple[bool, ...], *, m: int,
                        n: int) -> list[Any]:
    # The packing's adjoint: its strictly lower (m, k) part and its upper (k, n) part.
    k = gL.shape[-1]
    return [_tril(narrow(g, -1, 0, k), -1) if needs[0] else None,
            _triu(narrow(g, -2, 0, k), 0) if needs[1] else None]


@primitive("pack_lu_grads", grads=_pack_lu_grads_rule)
def _pack_lu_grads(gL: Any, gU: Any, *, m: int, n: int) -> Any:
    """L's strictly lower triangle and U's upper one in one (..., m, n) matrix: the gradient
    of ``_lu_unpack_data``."""
    k = gL.shape[-1]
    out = backend.zeros(tuple(gL.shape[:-2]) + (m, n), gL.dtype, gL)
    out[..., :, :k] = _keep_triangle(gL, -1, lower=True)
    out[..., :k, :] += _keep_triangle(gU, 0, lower=False)
    return out


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,
              unpack_pivots: bool = True) -> Any:
    """``(P, L, U)`` from ``lu_factor``'s packed ``LU`` and ``pivots``: ``A = P @ L @ U``.
    What is not unpacked comes back empty.

    >>> import backprop as bp
    >>> P, L, U = bp.lu_unpack(*bp.linalg.lu_factor(bp.tensor([[0., 1.], [2., 3.]])))
    >>> P.tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    _check_matrix("lu_unpack", "LU_data", LU_data, square=False)
    m, n = LU_data.shape[-2], LU_data.shape[-1]
    k = min(m, n)
    if tuple(LU_pivots.shape) != tuple(LU_data.shape[:-2]) + (k,):
        raise ShapeError(f"lu_unpack: LU_pivots must have shape {format_shape(LU_data.shape[:-2] + (k,))} "
                         f"for LU_data of shape {format_shape(LU_data.shape)}, got "
                         f"{format_shape(LU_pivots.shape)}")
    if backend.array_of(LU_pivots).dtype != np.int32:
        raise DTypeError(f"lu_unpack: LU_pivots must be an int32 tensor, got {LU_pivots.dtype}")
    empty = Tensor._wrap(backend.zeros((0,), backend.array_of(LU_data).dtype, LU_data))
    if unpack_data:
        L, U = _lu_unpack_data(LU_data, k)
    else:
        L = U = empty
    P = Tensor._wrap(_permutation_matrix(LU_pivots, m, LU_data)) if unpack_pivots else empty
    return lu_unpack_result(P, L, U)


def linalg_lu(A: Tensor, *, pivot: bool = True) -> Any:
    """``(P, L, U)`` with ``A = P @ L @ U``: L unit lower triangular (m, k), U upper (k, n),
    k = min(m, n).

    >>> import backprop as bp
    >>> P, L, U = bp.linalg.lu(bp.tensor([[0., 1.], [2., 3.]]))
    >>> U.tolist()
    [[2.0, 3.0], [0.0, 1.0]]
    """
    LU, pivots, _ = _lu_checked("linalg.lu", A, pivot, False)
    return lu_result(*lu_unpack(LU, pivots))


def _check_pivots(op: str, name: str, factors: Tensor, pivots: Tensor) -> None:
    """Raise unless pivots is int32 of shape (..., n) for factors of shape (..., n, n)."""
    n = factors.shape[-1]
    if tuple(pivots.shape[-1:]) != (n,) or backend.array_of(pivots).dtype != np.int32:
        raise ShapeError(f"{op}: pivots must be an int32 tensor of shape (..., {n}) for {name} of "
                         f"shape {format_shape(factors.shape)}, got {pivots.dtype} "
                         f"{format_shape(pivots.shape)}")


def linalg_lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,
                     adjoint: bool = False) -> Tensor:
    """The solution X of ``A X = B`` from A's ``lu_factor`` (``A^T X = B`` if ``adjoint``;
    ``X A = B`` if not ``left``).

    >>> import backprop as bp
    >>> LU, pivots = bp.linalg.lu_factor(bp.tensor([[2., 0.], [0., 4.]]))
    >>> bp.linalg.lu_solve(LU, pivots, bp.tensor([[2.], [2.]])).tolist()
    [[1.0], [0.5]]
    """
    op = "linalg.lu_solve"
    _check_triangular(op, LU, B, left)
    n = LU.shape[-1]
    _check_pivots(op, "LU", LU, pivots)
    perm = _num.permutation_from_pivots(backend.array_of(pivots), n)
    if not left:  # X A = B is A^T X^T = B^T
        return _mH(linalg_lu_solve(LU, pivots, _mH(B), left=True, adjoint=not adjoint))
    if not adjoint:  # A = P L U: X = U^-1 L^-1 P^T B
        y = _solve_triangular(LU, _rows(B, perm), False, True, True)
        return _solve_triangular(LU, y, True, True, False)
    # A^T = U^T L^T P^T: X = P L^-T U^-T B
    y = _solve_triangular(_mH(LU), B, False, True, False)
    y = _solve_triangular(_mH(LU), y, True, True, True)
    return _rows(y, _num.permutation_from_pivots(backend.array_of(pivots), n), inverse=True)


def _rows(B: Tensor, perm: Any, inverse: bool = False) -> Tensor:
    """``B[..., perm, :]`` (``P^T B``), or with the inverse order (``P B``), batch dims
    broadcast."""
    if inverse:
        perm = np.argsort(perm, axis=-1)
    if perm.ndim == 1:  # one order for every matrix: a row selection, no (n, k) index to gather
        return index_select(B, B.ndim - 2, Tensor._wrap(perm))
    batch = np.broadcast_shapes(perm.shape[:-1], B.shape[:-2])
    B = B.expand(*batch, *B.shape[-2:]) if tuple(B.shape[:-2]) != batch else B
    index = np.broadcast_to(perm[..., None], batch + (perm.shape[-1], B.shape[-1]))
    return B.gather(-2, Tensor._wrap(backend.contiguous(index)))


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """``torch.lu_solve``: ``linalg.lu_solve(LU_data, LU_pivots, b)``.

    >>> import backprop as bp
    >>> LU, pivots = bp.linalg.lu_factor(bp.tensor([[2., 0.], [0., 4.]]))
    >>> bp.lu_solve(bp.tensor([[2.], [2.]]), LU, pivots).tolist()
    [[1.0], [0.5]]
    """
    return linalg_lu_solve(LU_data, LU_pivots, b)


# -- LDL ------------------------------------------------------------------------------------------

@primitive("linalg_ldl_factor_ex", outputs=("LD", "pivots", "info"), differentiable=False)
def _ldl_factor_ex(A: Any, check: bool) -> tuple[Any, Any, Any]:
    LD, pivots, info = _num.ldl_factor_arrays(A)
    if check:
        _raise_for_info("linalg.ldl_factor", info, "The factorization could not be completed: "
                        "D's diagonal element {} is exactly zero (the matrix is singular).")
    return LD, pivots, info


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False) -> Any:
    """``(LD, pivots, info)``: the LDL^T factorization of each symmetric matrix (its lower
    triangle read) with Bunch-Kaufman pivoting, in LAPACK's sytrf layout, and per matrix 0 or
    the index of an exactly zero block of D. No gradient (as PyTorch).

    >>> import backprop as bp
    >>> bp.linalg.ldl_factor_ex(bp.tensor([[4., 2.], [2., 3.]])).LD.tolist()
    [[4.0, 0.0], [0.5, 2.0]]
    """
    _check_matrix("linalg.ldl_factor_ex", "A", A)
    return ldl_factor_ex_result(*_ldl_factor_ex(A, bool(check_errors)))


def ldl_factor(A: Tensor, *, hermitian: bool = False) -> Any:
    """``(LD, pivots)``: ``ldl_factor_ex`` that raises where D is singular. Real symmetric
    matrices are Hermitian, so ``hermitian`` changes nothing here.

    >>> import backprop as bp
    >>> bp.linalg.ldl_factor(bp.tensor([[4., 2.], [2., 3.]])).pivots.tolist()
    [1, 2]
    """
    _check_matrix("linalg.ldl_factor", "A", A)
    LD, pivots, _ = _ldl_factor_ex(A, True)
    return ldl_factor_result(LD, pivots)


@primitive("linalg_ldl_solve", save=("LD", "pivots"), grads={
    # A is symmetric: B's gradient is another solve with the same factors. PyTorch defines
    # no gradient for the factors (nor for B).
    "B": lambda g, out, LD, pivots, B: _ldl_solve(LD, pivots, g)})
def _ldl_solve(LD: Any, pivots: Any, B: Any) -> Any:
    return _num.ldl_solve_arrays(LD, pivots, B)


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False) -> Tensor:
    """The solution X of ``A X = B`` from A's ``ldl_factor``; batch dims broadcast.

    >>> import backprop as bp
    >>> LD, pivots = bp.linalg.ldl_factor(bp.tensor([[4., 2.], [2., 3.]]))
    >>> bp.linalg.ldl_solve(LD, pivots, bp.tensor([[6.], [5.]])).tolist()
    [[1.0], [1.0]]
    """
    op = "linalg.ldl_solve"
    _check_triangular(op, LD, B, True)
    _check_pivots(op, "LD", LD, pivots)
    return _ldl_solve(LD, pivots, B)


# -- the matrix exponential and powers --------------------------------------------------------

def _matrix_exp_rule(g: Any, out: Any, A: Any) -> Any:
    # The adjoint of the Fréchet derivative is the top-right block of exp([[A^T, g], [0, A^T]])
    # (Najfeld and Havel; PyTorch's linalg_matrix_exp_differential).
    n = A.shape[-1]
    a_h = _mH(A)
    zeros = backend.zeros(tuple(np.broadcast_shapes(A.shape, g.shape)), A.dtype, A)
    block = cat([cat([a_h + zeros, g + zeros], -1), cat([zeros, a_h + zeros], -1)], -2)
    return narrow(narrow(_matrix_exp(block), -2, 0, n), -1, n, n)


@primitive("linalg_matrix_exp", save=("A",), grads={"A": _matrix_exp_rule})
def _matrix_exp(A: Any) -> Any:
    return _num.matrix_exp_array(A)


def matrix_exp(A: Tensor) -> Tensor:
    """``exp(A)`` of each square matrix: the sum of ``A^k / k!`` (scaling and squaring of a
    Padé approximant). ``torch.linalg.matrix_exp`` is the same.

    >>> import backprop as bp
    >>> bp.matrix_exp(bp.zeros(2, 2)).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    _check_matrix("linalg.matrix_exp", "A", A)
    return _matrix_exp(A)


def matrix_power(A: Tensor, n: int) -> Tensor:
    """``A`` to the integer power ``n`` (a negative power inverts first; ``n = 0`` gives the
    identity), by repeated squaring as PyTorch. ``torch.linalg.matrix_power`` is the same.

    >>> import backprop as bp
    >>> bp.matrix_power(bp.tensor([[1., 1.], [0., 1.]]), 3).tolist()
    [[1.0, 3.0], [0.0, 1.0]]
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {type(n).__name__}")
    _check_matrix("linalg.matrix_power", "A", A)
    n = int(n)
    if n == 0:
        # PyTorch's identity is a copy into A's clone: differentiable, with a zero gradient.
        eye = backend.eye(A.shape[-1], backend.array_of(A).dtype, A)
        return where(backend.ones(A.shape, bool, A), eye, A)
    if n < 0:
        A, n = inv(A), -n
    if n == 1:
        return clone(A)
    if n == 2:
        return _matmul(A, A)
    if n == 3:
        return _matmul(_matmul(A, A), A)
    # From the least significant bit up, squaring as it goes (PyTorch's order of products).
    result = z = None
    while n > 0:
        bit, n = n % 2, n // 2
        z = A if z is None else _matmul(z, z)
        if bit:
            result = z if result is None else _matmul(result, z)
    return result


# -- tensor inverse and solve, multi_dot ----------------------------------------------------------

def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The inverse of ``A`` read as a matrix from its first ``ind`` dims to the rest: the
    result has shape ``A.shape[ind:] + A.shape[:ind]``.

    >>> import backprop as bp
    >>> bp.linalg.tensorinv(bp.eye(4).reshape(4, 2, 2), ind=1).shape
    (2, 2, 4)
    """
    if not isinstance(ind, int) or ind <= 0:
        raise ValueError(f"linalg.tensorinv: ind must be a positive integer, got {ind!r}")
    rows, cols = A.shape[:ind], A.shape[ind:]
    m, n = int(np.prod(rows)), int(np.prod(cols))
    if m != n:
        raise ShapeError(f"linalg.tensorinv: the product of the first ind={ind} dims "
                         f"{format_shape(rows)} must equal that of the rest "
                         f"{format_shape(cols)}, got {m} and {n}")
    return reshape(inv(reshape(A, (m, n))), tuple(cols) + tuple(rows))


def tensorsolve(A: Tensor, B: Tensor, dims: Sequence[int] | None = None) -> Tensor:
    """The X with ``tensordot(A, X, X.ndim) == B``: X has shape ``A.shape[B.ndim:]``. ``dims``
    moves those dims of A to the end first.

    >>> import backprop as bp
    >>> bp.linalg.tensorsolve(bp.eye(6).reshape(2, 3, 6), bp.ones(2, 3)).shape
    (6,)
    """
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        A = movedim(A, dims, list(range(A.ndim - len(dims), A.ndim)))
    rest = A.shape[B.ndim:]
    m, n = int(np.prod(B.shape)), int(np.prod(rest))
    if m != n or int(np.prod(A.shape[:B.ndim])) != m:
        raise ShapeError(f"linalg.tensorsolve: expected B's size {m} to equal the product of "
                         f"A's leading {B.ndim} dims and of its other dims, got A of shape "
                         f"{format_shape(A.shape)} (after moving dims) and B of shape "
                         f"{format_shape(B.shape)}")
    return reshape(solve(reshape(A, (m, n)), reshape(B, (m,))), tuple(rest))


def _chain_order(sizes: list[int]) -> list[list[int]]:
    """The split of the cheapest product of matrices with ``sizes[i] x sizes[i + 1]`` (the
    matrix-chain dynamic programme, first minimum as PyTorch)."""
    n = len(sizes) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = -1
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1]
                if cost[i][j] == -1 or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """The product of two or more matrices in the cheapest order; the first may be a 1-D row
    and the last a 1-D column (then dropped from the result, as ``matmul``).

    >>> import backprop as bp
    >>> bp.linalg.multi_dot([bp.ones(2, 3), bp.ones(3, 4), bp.ones(4)]).tolist()
    [12.0, 12.0]
    """
    tensors = list(tensors)
    if len(tensors) < 2:
        raise ValueError(f"linalg.multi_dot: expected at least 2 tensors but got {len(tensors)}")
    first, last = tensors[0], tensors[-1]
    for i, t in enumerate(tensors):
        allowed = (1, 2) if i in (0, len(tensors) - 1) else (2,)
        if t.ndim not in allowed:
            raise ShapeError(f"linalg.multi_dot: tensor {i} must be "
                             f"{'1-D or 2-D' if len(allowed) == 2 else '2-D'}, got shape "
                             f"{format_shape(t.shape)}")
        if t.dtype != first.dtype:
            raise DTypeError(f"linalg.multi_dot: all tensors must have the same dtype, got "
                             f"{first.dtype} and {t.dtype} (tensor {i})")
    matrices = list(tensors)
    if first.ndim == 1:
        matrices[0] = unsqueeze(first, 0)
    if last.ndim == 1:
        matrices[-1] = unsqueeze(last, -1)
    for i in range(len(matrices) - 1):
        if matrices[i].shape[1] != matrices[i + 1].shape[0]:
            raise ShapeError(f"linalg.multi_dot: tensors {i} and {i + 1} with shapes "
                             f"{format_shape(tensors[i].shape)} and "
                             f"{format_shape(tensors[i + 1].shape)} cannot be multiplied")
    sizes = [m.shape[0] for m in matrices] + [matrices[-1].shape[1]]
    if len(matrices) == 2:
        result = _matmul(matrices[0], matrices[1])
    elif len(matrices) == 3:
        a, b, c, d = sizes
        left_first = a * b * c + a * c * d
        right_first = b * c * d + a * b * d
        result = (_matmul(matrices[0], _matmul(matrices[1], matrices[2]))
                  if left_first > right_first
                  else _matmul(_matmul(matrices[0], matrices[1]), matrices[2]))
    else:
        split = _chain_order(sizes)

        def product(i: int, j: int) -> Tensor:
            if i == j:
                return matrices[i]
            return _matmul(product(i, split[i][j]), product(split[i][j] + 1, j))

        result = product(0, len(matrices) - 1)
    if first.ndim == 1:
        result = squeeze(result, 0)
    if last.ndim == 1:
        result = squeeze(result, -1)
    return result


__all__ = ["cholesky", "cholesky_inverse", "cholesky_solve", "det", "inverse", "logdet", "lu",
           "lu_solve", "lu_unpack", "matrix_exp", "matrix_power", "slogdet", "triangular_solve"]
