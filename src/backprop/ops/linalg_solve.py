"""Inverses, determinants, linear solves, Cholesky, LU and LDL factorizations, matrix powers
and exponentials (issue 17), batched over leading dims as PyTorch's ``torch.linalg``.

The primitives are the inverse, the determinant and its logarithm, the general and the
triangular solve, Cholesky with its solve and inverse, LU and the matrix exponential; each rule
is PyTorch's (derivatives.yaml) written with these same ops, so second derivatives work. The
rest (``lu_solve``, ``lu_unpack``, ``matrix_power``, ``tensorsolve``, ``multi_dot`` ...) are
compositions. The array kernels NumPy lacks (LU with LAPACK's pivots, LDL, the exponential) are
in ``lu_numerics.py``.
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
from .primitive import primitive
from .rearrange import _tril, _triu
from .reduction import sum as _sum
from .shape import _transpose, movedim, reshape, squeeze, unsqueeze

slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])
linalg_slogdet_result = namedtuple("linalg_slogdet", ["sign", "logabsdet"])
inv_ex_result = namedtuple("linalg_inv_ex", ["inverse", "info"])
solve_ex_result = namedtuple("linalg_solve_ex", ["result", "info"])
cholesky_ex_result = namedtuple("linalg_cholesky_ex", ["L", "info"])
lu_factor_result = namedtuple("linalg_lu_factor", ["LU", "pivots"])
lu_factor_ex_result = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
lu_result = namedtuple("linalg_lu", ["P", "L", "U"])
lu_unpack_result = namedtuple("lu_unpack", ["P", "L", "U"])
triangular_solve_result = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])
ldl_factor_result = namedtuple("linalg_ldl_factor", ["LD", "pivots"])
ldl_factor_ex_result = namedtuple("linalg_ldl_factor_ex", ["LD", "pivots", "info"])


class LinAlgError(RuntimeError):
    """A linear-algebra routine failed on its input (a singular matrix, one not positive
    definite), as ``torch.linalg.LinAlgError``."""


# -- checks ---------------------------------------------------------------------------------------

def _check_matrix(op: str, name: str, x: Any, square: bool = True) -> None:
    """``x`` is a float32/float64 batch of (square) matrices, as LAPACK needs."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    if x.ndim < 2:
        raise ShapeError(f"{op}: {name} must have at least 2 dimensions, got shape "
                         f"{format_shape(x.shape)}")
    if square and x.shape[-1] != x.shape[-2]:
        raise ShapeError(f"{op}: {name} must be batches of square matrices, but they are "
                         f"{x.shape[-2]} by {x.shape[-1]} matrices (shape "
                         f"{format_shape(x.shape)})")
    if x.dtype.kind != "f" or x.dtype.itemsize < 4:
        raise DTypeError(f"{op}: {name} must be a float32 or float64 tensor (LAPACK has no "
                         f"kernel for {x.dtype}); convert with .float() or .double()")


def _check_same_dtype(op: str, a: Tensor, b: Tensor) -> None:
    if a.dtype != b.dtype:
        raise DTypeError(f"{op}: expected both inputs to have the same dtype, got {a.dtype} "
                         f"and {b.dtype}")


def _batch_shape(op: str, a: Any, b: Any) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ShapeError(f"{op}: the batch dims of {format_shape(a.shape)} and "
                         f"{format_shape(b.shape)} do not broadcast") from None


def _raise_for_info(op: str, info: np.ndarray, what: str) -> None:
    """PyTorch's error for the first failed matrix of a batch (``info`` from LAPACK)."""
    failed = np.argwhere(np.atleast_1d(info) != 0)
    if not failed.size:
        return
    where_ = "" if np.ndim(info) == 0 else f"(Batch element {int(failed[0][0])}): "
    first = int(np.atleast_1d(info).reshape(-1)[np.flatnonzero(np.atleast_1d(info))[0]])
    raise LinAlgError(f"{op}: {where_}{what.format(first)}")


_SINGULAR = ("The diagonal element {} is zero, the inversion could not be completed because "
             "the input matrix is singular.")
_NOT_PD = ("The factorization could not be completed because the input is not positive-definite"
           " (the leading minor of order {} is not positive-definite).")


def _mH(x: Any) -> Any:
    """The last two dims swapped (the adjoint of a real matrix), on arrays and tensors."""
    return _transpose(x, -2, -1)


def _eye(n: int, like: Any) -> Any:
    return backend.eye(n, like.dtype, like)


# -- the inverse ----------------------------------------------------------------------------------

def _inv_rule(g: tuple, out: tuple, A: Any, check: bool) -> Any:
    inverse_h = _mH(out[0])
    return -_matmul(inverse_h, _matmul(g[0], inverse_h))


@primitive("linalg_inv_ex", outputs=("inverse", "info"), save=("inverse",),
           grads={"A": _inv_rule})
def _inv_ex(A: Any, check: bool) -> tuple[Any, Any]:
    if _num.many_small(A):
        with np.errstate(all="ignore"):  # a singular matrix's inverse is inf/NaN, as PyTorch's
            inverse, info = _num.solve_arrays(A, np.broadcast_to(_num_eye(A), A.shape))
    else:
        try:
            return np.linalg.inv(A), np.zeros(A.shape[:-2], dtype=np.int32)
        except np.linalg.LinAlgError:
            with np.errstate(all="ignore"):
                inverse, info = _num.solve_arrays(A, np.broadcast_to(_num_eye(A), A.shape))
    if check:
        _raise_for_info("linalg.inv", info, _SINGULAR)
    return inverse, info


def _num_eye(A: np.ndarray) -> np.ndarray:
    return np.eye(A.shape[-1], dtype=A.dtype)


def inv_ex(A: Tensor, *, check_errors: bool = False, out: Any = None) -> Any:
    """``(inverse, info)``: the inverse of each square matrix, and per matrix 0 or the 1-based
    index of a zero pivot where it is singular (then its inverse is inf/NaN; no error unless
    ``check_errors``).

    >>> import backprop as bp
    >>> bp.linalg.inv_ex(bp.tensor([[2., 0.], [0., 4.]])).inverse.tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    _check_matrix("linalg.inv_ex", "A", A)
    return inv_ex_result(*_inv_ex(A, bool(check_errors)))


def inv(A: Tensor, *, out: Any = None) -> Tensor:
    """The inverse of each square matrix in ``A`` (..., n, n); a singular one raises
    ``LinAlgError``. ``torch.inverse`` is the same.

    >>> import backprop as bp
    >>> bp.linalg.inv(bp.tensor([[2., 0.], [0., 4.]])).tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    _check_matrix("linalg.inv", "A", A)
    return _inv_ex(A, True)[0]


def inverse(input: Tensor, *, out: Any = None) -> Tensor:
    """``linalg.inv``, under PyTorch's older name.

    >>> import backprop as bp
    >>> bp.inverse(bp.tensor([[4.]])).item()
    0.25
    """
    _check_matrix("inverse", "input", input)
    return _inv_ex(input, True)[0]


# -- determinants ---------------------------------------------------------------------------------

def _cofactor_rule(g: Any, out: Any, A: Any) -> Any:
    # cof(A) = det(A) A^-T, so d cof = cof tr(A^-1 dA) - A^-T dA^T cof: its adjoint below.
    inverse_t = _mH(_inv_ex(A, False)[0])
    return (out * _sum(inverse_t * g, (-2, -1), keepdim=True)
            - _matmul(inverse_t, _matmul(_mH(g), out)))


@primitive("linalg_cofactor", save=("A", "out"), grads={"A": _cofactor_rule})
def _cofactor(A: Any) -> Any:
    """The cofactor matrix ``det(A) A^-T``, also where ``A`` is singular (from the SVD there:
    ``U diag(prod_{j != i} s_j) V^T`` times the signs of U's and V's determinants)."""
    det = np.linalg.det(A) if A.size else np.ones(A.shape[:-2], dtype=A.dtype)
    singular = det == 0
    out = np.empty_like(A)
    if (~singular).any():
        regular = ~singular
        out[regular] = det[regular][..., None, None] * np.swapaxes(
            np.linalg.inv(A[regular]), -2, -1)
    if singular.any():
        u, s, vh = np.linalg.svd(A[singular])
        n = s.shape[-1]
        left = np.cumprod(np.concatenate([np.ones_like(s[..., :1]), s[..., :-1]], -1), -1)
        right = np.cumprod(np.concatenate([np.ones_like(s[..., :1]), s[..., :0:-1]], -1),
                           -1)[..., ::-1]
        others = left * right if n else s
        signs = np.linalg.det(u) * np.linalg.det(vh)
        out[singular] = signs[..., None, None] * ((u * others[..., None, :]) @ vh)
    return out


@primitive("linalg_det", save=("A",),
           grads={"A": lambda g, out, A: unsqueeze(unsqueeze(g, -1), -1) * _cofactor(A)})
def _det(A: Any) -> Any:
    return np.linalg.det(A) if A.size else np.ones(A.shape[:-2], dtype=A.dtype)


def det(A: Tensor, *, out: Any = None) -> Tensor:
    """The determinant of each square matrix in ``A`` (..., n, n). Its gradient is the cofactor
    matrix, also at singular matrices. ``torch.det`` is the same.

    >>> import backprop as bp
    >>> round(bp.linalg.det(bp.tensor([[1., 2.], [3., 4.]])).item(), 4)
    -2.0
    """
    _check_matrix("linalg.det", "A", A)
    return _det(A)


def _slogdet_rule(g: tuple, out: tuple, A: Any) -> Any:
    # The sign is piecewise constant: only log|det| has a gradient, g A^-T.
    if g[1] is None:
        return None
    return unsqueeze(unsqueeze(g[1], -1), -1) * _mH(_inv_ex(A, False)[0])


@primitive("linalg_slogdet", outputs=("sign", "logabsdet"), save=("A",),
           grads={"A": _slogdet_rule})
def _slogdet(A: Any) -> tuple[Any, Any]:
    if not A.size:
        return np.ones(A.shape[:-2], A.dtype), np.zeros(A.shape[:-2], A.dtype)
    sign, logabsdet = np.linalg.slogdet(A)
    return sign.astype(A.dtype, copy=False), logabsdet.astype(A.dtype, copy=False)


def _slogdet_checked(op: str, A: Tensor) -> tuple[Tensor, Tensor]:
    _check_matrix(op, "A", A)
    return _slogdet(A)


def linalg_slogdet(A: Tensor, *, out: Any = None) -> Any:
    """``(sign, logabsdet)`` of each square matrix's determinant: its sign (0 where singular)
    and the log of its absolute value, which does not overflow where the determinant would.

    >>> import backprop as bp
    >>> bp.linalg.slogdet(bp.tensor([[-2., 0.], [0., 1.]])).sign.item()
    -1.0
    """
    return linalg_slogdet_result(*_slogdet_checked("linalg.slogdet", A))


def slogdet(input: Tensor) -> Any:
    """``torch.slogdet``: ``linalg.slogdet`` with its older result type.

    >>> import backprop as bp
    >>> round(bp.slogdet(bp.tensor([[2., 0.], [0., 4.]])).logabsdet.item(), 4)
    2.0794
    """
    return slogdet_result(*_slogdet_checked("slogdet", input))


def logdet(input: Tensor) -> Tensor:
    """The log of each square matrix's determinant: NaN where it is negative, -inf where 0.

    >>> import backprop as bp
    >>> round(bp.logdet(bp.tensor([[2., 0.], [0., 4.]])).item(), 4)
    2.0794
    """
    sign, logabsdet = _slogdet_checked("logdet", input)
    return where(backend.array_of(sign) == -1, np.nan, logabsdet)


# -- solves ---------------------------------------------------------------------------------------

def _solve_rule(g: tuple, out: tuple, A: Any, B: Any, left: bool, check: bool,
                needs: tuple) -> list:
    grad_B = _solve_ex(_mH(A), g[0], left, False)[0]
    grad_A = None
    if needs[0]:
        x_h = _mH(out[0])
        grad_A = -_matmul(grad_B, x_h) if left else -_matmul(x_h, grad_B)
    return [grad_A, grad_B if needs[1] else None]


@primitive("linalg_solve_ex", outputs=("result", "info"), save=("A", "result"),
           grads=_solve_rule)
def _solve_ex(A: Any, B: Any, left: bool, check: bool) -> tuple[Any, Any]:
    batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    a = A if left else np.swapaxes(A, -2, -1)
    b = B if left else np.swapaxes(B, -2, -1)
    info = np.zeros(batch, dtype=np.int32)
    if a.shape[-1] == 0 or b.shape[-1] == 0 or 0 in batch:
        x = np.zeros(batch + b.shape[-2:], dtype=np.result_type(a, b))
    else:
        try:
            if _num.many_small(a):
                raise np.linalg.LinAlgError  # the batch-vectorized solve is faster
            x = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            with np.errstate(all="ignore"):  # a singular matrix's solution is inf/NaN
                x, info = _num.solve_arrays(a, b)
            if check:
                _raise_for_info("linalg.solve", info, "The solver failed because the input "
                                "matrix is singular (the diagonal element {} of its LU "
                                "factorization is zero).")
    return (x if left else np.swapaxes(x, -2, -1)), info


def _vector_case(A: Tensor, B: Tensor) -> bool:
    """PyTorch's rule: ``B`` is a (batch of) vector(s) when 1-D, or when its shape is A's but
    the last dim."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def _solve_checked(op: str, A: Tensor, B: Tensor, left: bool, check: bool) -> tuple[Any, Any]:
    _check_matrix(op, "A", A)
    if not isinstance(B, Tensor) or B.ndim < 1:
        raise ShapeError(f"{op}: B must be a tensor with at least 1 dimension, got "
                         f"{format_shape(np.shape(B))}")
    _check_same_dtype(op, A, B)
    vector = _vector_case(A, B)
    B_matrix = unsqueeze(B, -1 if left else -2) if vector else B
    n = A.shape[-1]
    inner = B_matrix.shape[-2] if left else B_matrix.shape[-1]
    if inner != n:
        raise ShapeError(f"{op}: incompatible shapes of A and B for the equation "
                         f"{'AX = B' if left else 'XA = B'} ({format_shape(A.shape)} and "
                         f"{format_shape(B.shape)})")
    _batch_shape(op, A, B_matrix)
    x, info = _solve_ex(A, B_matrix, left, check)
    return (squeeze(x, -1 if left else -2) if vector else x), info


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False,
             out: Any = None) -> Any:
    """``(result, info)``: the solution X of ``A X = B`` (``X A = B`` if not ``left``) and
    per matrix 0 or the index of a zero pivot where ``A`` is singular (no error unless
    ``check_errors``).

    >>> import backprop as bp
    >>> bp.linalg.solve_ex(bp.tensor([[2., 0.], [0., 4.]]), bp.tensor([2., 2.])).result.tolist()
    [1.0, 0.5]
    """
    return solve_ex_result(*_solve_checked("linalg.solve_ex", A, B, left, bool(check_errors)))


def solve(A: Tensor, B: Tensor, *, left: bool = True, out: Any = None) -> Tensor:
    """The solution X of ``A X = B`` (``X A = B`` if not ``left``) for square ``A``; ``B`` may
    be a vector or a batch of matrices, batch dims broadcast. A singular ``A`` raises.

    >>> import backprop as bp
    >>> bp.linalg.solve(bp.tensor([[2., 0.], [0., 4.]]), bp.tensor([2., 2.])).tolist()
    [1.0, 0.5]
    """
    return _solve_checked("linalg.solve", A, B, left, True)[0]


def _triangular_rule(g: Any, out: Any, A: Any, B: Any, upper: bool, left: bool,
                     unitriangular: bool, needs: tuple) -> list:
    grad_B = _solve_triangular(_mH(A), g, not upper, left, unitriangular)
    grad_A = None
    if needs[0]:
        x_h = _mH(out)
        grad_A = -_matmul(grad_B, x_h) if left else -_matmul(x_h, grad_B)
        grad_A = _triu(grad_A, int(unitriangular)) if upper else _tril(grad_A, -int(unitriangular))
    return [grad_A, grad_B if needs[1] else None]


@primitive("linalg_solve_triangular", save=("A", "out"), grads=_triangular_rule)
def _solve_triangular(A: Any, B: Any, upper: bool, left: bool, unitriangular: bool) -> Any:
    if left:
        return _num.triangular_solve_array(A, B, upper, unitriangular)
    x = _num.triangular_solve_array(np.swapaxes(A, -2, -1), np.swapaxes(B, -2, -1), not upper,
                                    unitriangular)
    return np.swapaxes(x, -2, -1)


def _check_triangular(op: str, A: Tensor, B: Tensor, left: bool) -> None:
    _check_matrix(op, "A", A)
    _check_matrix(op, "B", B, square=False)
    _check_same_dtype(op, A, B)
    inner = B.shape[-2] if left else B.shape[-1]
    if inner != A.shape[-1]:
        raise ShapeError(f"{op}: incompatible shapes of A and B for the equation "
                         f"{'AX = B' if left else 'XA = B'} ({format_shape(A.shape)} and "
                         f"{format_shape(B.shape)})")
    _batch_shape(op, A, B)


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False, out: Any = None) -> Tensor:
    """The solution X of ``A X = B`` (``X A = B`` if not ``left``) reading only the upper or
    lower triangle of ``A`` (and taking its diagonal as ones if ``unitriangular``).

    >>> import backprop as bp
    >>> A = bp.tensor([[2., 1.], [0., 4.]])
    >>> bp.linalg.solve_triangular(A, bp.tensor([[3.], [4.]]), upper=True).tolist()
    [[1.0], [1.0]]
    """
    _check_triangular("linalg.solve_triangular", A, B, left)
    return _solve_triangular(A, B, bool(upper), bool(left), bool(unitriangular))


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False) -> Any:
    """``(solution, cloned_coefficient)``: X of ``A X = b`` (``A^T X = b`` if ``transpose``)
    reading one triangle of ``A``, and a copy of ``A`` (PyTorch's older form of
    ``linalg.solve_triangular``).

    >>> import backprop as bp
    >>> A = bp.tensor([[2., 1.], [0., 4.]])
    >>> bp.triangular_solve(bp.tensor([[3.], [4.]]), A).solution.tolist()
    [[1.0], [1.0]]
    """
    _check_triangular("triangular_solve", A, b, True)
    coefficient = _mH(A) if transpose else A
    solution = _solve_triangular(coefficient, b, bool(upper) != bool(transpose), True,
                                 bool(unitriangular))
    return triangular_solve_result(solution, clone(A))


# -- Cholesky -------------------------------------------------------------------------------------

def _cholesky_rule(g: tuple, out: tuple, A: Any, upper: bool, check: bool) -> Any:
    # Murray (2016), arXiv 1602.07527, as PyTorch's cholesky_backward: only A's lower triangle
    # is read, and the gradient is symmetrized as A is taken to be symmetric.
    L, grad_L = (_mH(out[0]), _mH(g[0])) if upper else (out[0], g[0])
    n = L.shape[-1]
    eye = _eye(n, L)
    L_inverse = _solve_triangular(L, eye, False, True, False)
    phi = _tril(_matmul(_mH(L), grad_L), 0) * (1 - 0.5 * eye)
    grad = _matmul(_matmul(_mH(L_inverse), phi), L_inverse)
    return (grad + _mH(grad)) * 0.5


@primitive("linalg_cholesky_ex", outputs=("L", "info"), save=("L",),
           grads={"A": _cholesky_rule})
def _cholesky_ex(A: Any, upper: bool, check: bool) -> tuple[Any, Any]:
    # The upper factor reads A's upper triangle: the lower factor of A^T, transposed.
    L, info = _num.cholesky_arrays(np.swapaxes(A, -2, -1) if upper else A)
    if check:
        _raise_for_info("linalg.cholesky", info, _NOT_PD)
    return (np.swapaxes(L, -2, -1).copy() if upper else L), info


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False,
                out: Any = None) -> Any:
    """``(L, info)``: the Cholesky factor of each symmetric positive-definite matrix (lower, or
    upper if ``upper``), and per matrix 0 or the order of the leading minor that is not
    positive-definite (no error unless ``check_errors``).

    >>> import backprop as bp
    >>> bp.linalg.cholesky_ex(bp.tensor([[4., 2.], [2., 2.]])).L.tolist()
    [[2.0, 0.0], [1.0, 1.0]]
    """
    _check_matrix("linalg.cholesky_ex", "A", A)
    return cholesky_ex_result(*_cholesky_ex(A, bool(upper), bool(check_errors)))


def cholesky(A: Tensor, upper: bool = False, *, out: Any = None) -> Tensor:
    """The Cholesky factor L (``A = L L^T``; upper: ``A = U^T U``) of each symmetric
    positive-definite matrix; one that is not raises ``LinAlgError``. Serves
    ``torch.linalg.cholesky`` (``upper`` keyword-only there) and ``torch.cholesky``.

    >>> import backprop as bp
    >>> bp.linalg.cholesky(bp.tensor([[4., 2.], [2., 2.]])).tolist()
    [[2.0, 0.0], [1.0, 1.0]]
    """
    _check_matrix("linalg.cholesky", "A", A)
    return _cholesky_ex(A, bool(upper), True)[0]


def linalg_cholesky(A: Tensor, *, upper: bool = False, out: Any = None) -> Tensor:
    """``torch.linalg.cholesky``: ``upper`` is keyword-only (see ``cholesky``).

    >>> import backprop as bp
    >>> bp.linalg.cholesky(bp.tensor([[4.]]), upper=True).item()
    2.0
    """
    return cholesky(A, upper)


def _cholesky_solve_rule(g: Any, out: Any, B: Any, L: Any, upper: bool, needs: tuple) -> list:
    # PyTorch's cholesky_solve_backward: the factor's gradient is not masked to its triangle.
    grad_B = _cholesky_solve(g, L, upper)
    grad_L = None
    if needs[1]:
        common = _matmul(grad_B, _mH(out))
        common = common + _mH(common)
        grad_L = -_matmul(L, common) if upper else -_matmul(common, L)
    return [grad_B if needs[0] else None, grad_L]


@primitive("cholesky_solve", save=("L", "out"), grads=_cholesky_solve_rule)
def _cholesky_solve(B: Any, L: Any, upper: bool) -> Any:
    lower = np.swapaxes(L, -2, -1) if upper else L
    y = _num.triangular_solve_array(lower, B, False, False)
    return _num.triangular_solve_array(np.swapaxes(lower, -2, -1), y, True, False)


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False, *, out: Any = None) -> Tensor:
    """The solution X of ``A X = B`` given A's Cholesky factor ``L`` (lower, or upper if
    ``upper``; only that triangle is read).

    >>> import backprop as bp
    >>> L = bp.tensor([[2., 0.], [1., 1.]])
    >>> bp.cholesky_solve(bp.tensor([[4.], [2.]]), L).tolist()
    [[1.0], [0.0]]
    """
    _check_triangular("cholesky_solve", L, B, True)
    return _cholesky_solve(B, L, bool(upper))


def _cholesky_inverse_rule(g: Any, out: Any, L: Any, upper: bool) -> Any:
    common = _matmul(out, _matmul(g + _mH(g), out))
    return -_matmul(L, common) if upper else -_matmul(common, L)


@primitive("cholesky_inverse", save=("L", "out"), grads={"L": _cholesky_inverse_rule})
def _cholesky_inverse(L: Any, upper: bool) -> Any:
    lower = np.swapaxes(L, -2, -1) if upper else L
    eye = np.broadcast_to(_num_eye(L), L.shape)
    x = _num.triangular_solve_array(lower, eye, False, False)
    return np.swapaxes(x, -2, -1) @ x


def cholesky_inverse(L: Tensor, upper: bool = False, *, out: Any = None) -> Tensor:
    """The inverse of ``A = L L^T`` (``U^T U`` if ``upper``) from its Cholesky factor.

    >>> import backprop as bp
    >>> bp.cholesky_inverse(bp.tensor([[2., 0.], [0., 1.]])).tolist()
    [[0.25, 0.0], [0.0, 1.0]]
    """
    _check_matrix("cholesky_inverse", "L", L)
    return _cholesky_inverse(L, bool(upper))


# -- LU -------------------------------------------------------------------------------------------

def _permutation_matrix(pivots: Any, m: int, like: Any) -> Any:
    """P of ``A = P L U`` (..., m, m) from LAPACK's pivots, as a constant array."""
    perm = _num.permutation_from_pivots(np.asarray(backend.array_of(pivots)), m)
    eye = np.eye(m, dtype=like.dtype)
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


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False,
                 out: Any = None) -> Any:
    """``(LU, pivots, info)``: the packed LU factorization with partial pivoting (as
    ``lu_factor``), and per matrix 0 or the index of the first zero on U's diagonal.

    >>> import backprop as bp
    >>> bp.linalg.lu_factor_ex(bp.tensor([[0., 1.], [2., 3.]])).pivots.tolist()
    [2, 2]
    """
    return lu_factor_ex_result(*_lu_checked("linalg.lu_factor_ex", A, pivot, check_errors))


def lu_factor(A: Tensor, *, pivot: bool = True, out: Any = None) -> Any:
    """``(LU, pivots)``: ``A = P L U`` packed as LAPACK's getrf (L's unit diagonal implied,
    U on and above the diagonal), pivots int32 and 1-based; A may be rectangular. A zero pivot
    raises (``lu_factor_ex`` reports it instead).

    >>> import backprop as bp
    >>> bp.linalg.lu_factor(bp.tensor([[0., 1.], [2., 3.]])).LU.tolist()
    [[2.0, 3.0], [0.0, 1.0]]
    """
    LU, pivots, _ = _lu_checked("linalg.lu_factor", A, pivot, True)
    return lu_factor_result(LU, pivots)


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False, out: Any = None) -> tuple:
    """``torch.lu``: ``(LU, pivots)``, with ``infos`` too if ``get_infos`` (PyTorch's older
    form of ``linalg.lu_factor``; a zero pivot is not an error).

    >>> import backprop as bp
    >>> LU, pivots = bp.lu(bp.tensor([[0., 1.], [2., 3.]]))
    >>> pivots.tolist()
    [2, 2]
    """
    LU, pivots, info = _lu_checked("lu", A, pivot, False)
    return (LU, pivots, info) if get_infos else (LU, pivots)


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,
              unpack_pivots: bool = True, *, out: Any = None) -> Any:
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
    empty = Tensor._wrap(np.zeros((0,), dtype=backend.array_of(LU_data).dtype))
    if unpack_data:
        L = _tril(narrow(LU_data, -1, 0, k), -1) + backend.eye(m, LU_data.dtype, LU_data)[:, :k]
        U = _triu(narrow(LU_data, -2, 0, k), 0)
    else:
        L = U = empty
    P = Tensor._wrap(_permutation_matrix(LU_pivots, m, LU_data)) if unpack_pivots else empty
    return lu_unpack_result(P, L, U)


def linalg_lu(A: Tensor, *, pivot: bool = True, out: Any = None) -> Any:
    """``(P, L, U)`` with ``A = P @ L @ U``: L unit lower triangular (m, k), U upper (k, n),
    k = min(m, n).

    >>> import backprop as bp
    >>> P, L, U = bp.linalg.lu(bp.tensor([[0., 1.], [2., 3.]]))
    >>> U.tolist()
    [[2.0, 3.0], [0.0, 1.0]]
    """
    LU, pivots, _ = _lu_checked("linalg.lu", A, pivot, False)
    return lu_result(*lu_unpack(LU, pivots))


def linalg_lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,
                     adjoint: bool = False, out: Any = None) -> Tensor:
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
    if tuple(pivots.shape[-1:]) != (n,) or backend.array_of(pivots).dtype != np.int32:
        raise ShapeError(f"{op}: pivots must be an int32 tensor of shape (..., {n}) for LU of "
                         f"shape {format_shape(LU.shape)}, got {pivots.dtype} "
                         f"{format_shape(pivots.shape)}")
    perm = _num.permutation_from_pivots(np.asarray(backend.array_of(pivots)), n)
    if not left:  # X A = B is A^T X^T = B^T
        return _mH(linalg_lu_solve(LU, pivots, _mH(B), left=True, adjoint=not adjoint))
    if not adjoint:  # A = P L U: X = U^-1 L^-1 P^T B
        y = _solve_triangular(LU, _rows(B, perm), False, True, True)
        return _solve_triangular(LU, y, True, True, False)
    # A^T = U^T L^T P^T: X = P L^-T U^-T B
    y = _solve_triangular(_mH(LU), B, False, True, False)
    y = _solve_triangular(_mH(LU), y, True, True, True)
    return _rows(y, _num.permutation_from_pivots(np.asarray(backend.array_of(pivots)), n),
                 inverse=True)


def _rows(B: Tensor, perm: np.ndarray, inverse: bool = False) -> Tensor:
    """``B[..., perm, :]`` (``P^T B``), or with the inverse order (``P B``), batch dims
    broadcast."""
    if inverse:
        perm = np.argsort(perm, axis=-1)
    batch = np.broadcast_shapes(perm.shape[:-1], B.shape[:-2])
    B = B.expand(*batch, *B.shape[-2:]) if tuple(B.shape[:-2]) != batch else B
    index = np.broadcast_to(perm[..., None], batch + (perm.shape[-1], B.shape[-1]))
    return B.gather(-2, Tensor._wrap(np.ascontiguousarray(index)))


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor, *, out: Any = None) -> Tensor:
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


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False,
                  out: Any = None) -> Any:
    """``(LD, pivots, info)``: the LDL^T factorization of each symmetric matrix (its lower
    triangle read) with Bunch-Kaufman pivoting, in LAPACK's sytrf layout, and per matrix 0 or
    the index of an exactly zero block of D. No gradient (as PyTorch).

    >>> import backprop as bp
    >>> bp.linalg.ldl_factor_ex(bp.tensor([[4., 2.], [2., 3.]])).LD.tolist()
    [[4.0, 0.0], [0.5, 2.0]]
    """
    _check_matrix("linalg.ldl_factor_ex", "A", A)
    return ldl_factor_ex_result(*_ldl_factor_ex(A, bool(check_errors)))


def ldl_factor(A: Tensor, *, hermitian: bool = False, out: Any = None) -> Any:
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


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False,
              out: Any = None) -> Tensor:
    """The solution X of ``A X = B`` from A's ``ldl_factor``; batch dims broadcast.

    >>> import backprop as bp
    >>> LD, pivots = bp.linalg.ldl_factor(bp.tensor([[4., 2.], [2., 3.]]))
    >>> bp.linalg.ldl_solve(LD, pivots, bp.tensor([[6.], [5.]])).tolist()
    [[1.0], [1.0]]
    """
    op = "linalg.ldl_solve"
    _check_triangular(op, LD, B, True)
    n = LD.shape[-1]
    if (pivots.ndim < 1 or pivots.shape[-1] != n
            or backend.array_of(pivots).dtype != np.int32):
        raise ShapeError(f"{op}: pivots must be an int32 tensor of shape (..., {n}) for LD of "
                         f"shape {format_shape(LD.shape)}, got {pivots.dtype} "
                         f"{format_shape(pivots.shape)}")
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
        return where(np.ones(A.shape, dtype=bool), eye, A)
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

def tensorinv(A: Tensor, ind: int = 2, *, out: Any = None) -> Tensor:
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


def tensorsolve(A: Tensor, B: Tensor, dims: Sequence[int] | None = None, *,
                out: Any = None) -> Tensor:
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


def multi_dot(tensors: Sequence[Tensor], *, out: Any = None) -> Tensor:
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
