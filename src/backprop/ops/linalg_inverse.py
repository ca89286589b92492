"""Inverses, determinants, linear and triangular solves and Cholesky (issue 17), batched over
leading dims as PyTorch's ``torch.linalg``; ``linalg_solve.py`` builds LU, LDL and the matrix
functions on them and exports both halves.

Each primitive's rule is PyTorch's (derivatives.yaml) written with these same ops, so second
derivatives work. The array kernels NumPy lacks are in ``lu_numerics.py``; on the host the
factorizations call LAPACK through ``backends.lapack`` where NumPy's bundled OpenBLAS is found
(getri, gesv, potrs, potri and an LU for determinants), and ``np.linalg`` otherwise.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from .. import backend
from ..backends import lapack
from ..errors import DTypeError, ShapeError, format_shape
from ..tensor import Tensor
from . import lu_numerics as _num
from .elementwise import clone, where
from .linalg import _matmul
from .primitive import primitive
from .rearrange import _tril, _triu
from .reduction import sum as _sum
from .shape import _transpose, squeeze, unsqueeze

slogdet_result = namedtuple("slogdet", ["sign", "logabsdet"])
linalg_slogdet_result = namedtuple("linalg_slogdet", ["sign", "logabsdet"])
inv_ex_result = namedtuple("linalg_inv_ex", ["inverse", "info"])
solve_ex_result = namedtuple("linalg_solve_ex", ["result", "info"])
cholesky_ex_result = namedtuple("linalg_cholesky_ex", ["L", "info"])
triangular_solve_result = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])


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
    if x.dtype.kind not in "fV" or x.dtype.itemsize < 4:
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
    """PyTorch's error for the first failed matrix of a batch (``info`` from LAPACK; the
    batch element is counted in the flattened batch, as PyTorch's)."""
    flat = np.atleast_1d(info).reshape(-1)
    failed = np.flatnonzero(flat)
    if not failed.size:
        return
    where_ = "" if np.ndim(info) == 0 else f"(Batch element {int(failed[0])}): "
    raise LinAlgError(f"{op}: {where_}{what.format(int(flat[failed[0]]))}")


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
    # getrf and getri: half of NumPy's time (its inv is a gesv with the identity, in float64
    # work arrays). None for device arrays, no library, or a singular matrix: the code below.
    fast = None if _num.many_small(A) else lapack.inverse(A)
    if fast is not None:
        return fast
    if _num.many_small(A):
        with np.errstate(all="ignore"):  # a singular matrix's inverse is inf/NaN, as PyTorch's
            inverse, info = _num.solve_arrays(A, np.broadcast_to(_num_eye(A), A.shape))
    else:
        try:
            return np.linalg.inv(A), backend.zeros(A.shape[:-2], np.int32, A)
        except np.linalg.LinAlgError:
            with np.errstate(all="ignore"):
                inverse, info = _num.solve_arrays(A, np.broadcast_to(_num_eye(A), A.shape))
    if check:
        _raise_for_info("linalg.inv", info, _SINGULAR)
    return inverse, info


def _num_eye(A: Any) -> Any:
    return backend.eye(A.shape[-1], A.dtype, A)


def inv_ex(A: Tensor, *, check_errors: bool = False) -> Any:
    """``(inverse, info)``: the inverse of each square matrix, and per matrix 0 or the 1-based
    index of a zero pivot where it is singular (then its inverse is inf/NaN; no error unless
    ``check_errors``).

    >>> import backprop as bp
    >>> bp.linalg.inv_ex(bp.tensor([[2., 0.], [0., 4.]])).inverse.tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    _check_matrix("linalg.inv_ex", "A", A)
    return inv_ex_result(*_inv_ex(A, bool(check_errors)))


def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix in ``A`` (..., n, n); a singular one raises
    ``LinAlgError``. ``torch.inverse`` is the same.

    >>> import backprop as bp
    >>> bp.linalg.inv(bp.tensor([[2., 0.], [0., 4.]])).tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    _check_matrix("linalg.inv", "A", A)
    return _inv_ex(A, True)[0]


def inverse(input: Tensor) -> Tensor:
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
    det = _det_array(A)
    singular = det == 0
    out = np.empty_like(A)
    if (~singular).any():
        regular = ~singular
        inverse = lapack.inverse(A[regular])  # None: a device array, no library, singular
        out[regular] = det[regular][..., None, None] * np.swapaxes(
            np.linalg.inv(A[regular]) if inverse is None else inverse[0], -2, -1)
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


def _det_array(A: Any) -> Any:
    """``np.linalg.det`` (sign times exp(log|det|), from an LU), by ``backends.lapack`` where
    it applies."""
    if not A.size:
        return backend.ones(A.shape[:-2], A.dtype, A)
    fast = lapack.slogdet(A)
    if fast is None:
        return np.linalg.det(A)
    with np.errstate(over="ignore"):  # a float32 determinant past float32's range: inf
        return (fast[0] * np.exp(fast[1])).astype(A.dtype)


@primitive("linalg_det", save=("A",),
           grads={"A": lambda g, out, A: unsqueeze(unsqueeze(g, -1), -1) * _cofactor(A)})
def _det(A: Any) -> Any:
    return _det_array(A)


def det(A: Tensor) -> Tensor:
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
        return backend.ones(A.shape[:-2], A.dtype, A), backend.zeros(A.shape[:-2], A.dtype, A)
    fast = lapack.slogdet(A)
    sign, logabsdet = np.linalg.slogdet(A) if fast is None else fast
    return sign.astype(A.dtype, copy=False), logabsdet.astype(A.dtype, copy=False)


def _slogdet_checked(op: str, A: Tensor) -> tuple[Tensor, Tensor]:
    _check_matrix(op, "A", A)
    return _slogdet(A)


def linalg_slogdet(A: Tensor) -> Any:
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
    info = backend.zeros(batch, np.int32, A)
    if a.shape[-1] == 0 or b.shape[-1] == 0 or 0 in batch:
        x = backend.zeros(batch + b.shape[-2:], np.result_type(a.dtype, b.dtype), A)
    else:
        try:
            if _num.many_small(a):
                raise np.linalg.LinAlgError  # the batch-vectorized solve is faster
            x = lapack.solve(a, b)  # LAPACK's gesv without NumPy's overhead (None: below)
            if x is None:
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
    # A vector is a column whichever side A is on, as PyTorch's (XA = b then has no solution).
    B_matrix = unsqueeze(B, -1) if vector else B
    n = A.shape[-1]
    inner = B_matrix.shape[-2] if left else B_matrix.shape[-1]
    if inner != n:
        raise ShapeError(f"{op}: incompatible shapes of A and B for the equation "
                         f"{'AX = B' if left else 'XA = B'} ({format_shape(A.shape)} and "
                         f"{format_shape(B.shape)})")
    _batch_shape(op, A, B_matrix)
    x, info = _solve_ex(A, B_matrix, left, check)
    return (squeeze(x, -1) if vector else x), info


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False) -> Any:
    """``(result, info)``: the solution X of ``A X = B`` (``X A = B`` if not ``left``) and
    per matrix 0 or the index of a zero pivot where ``A`` is singular (no error unless
    ``check_errors``).

    >>> import backprop as bp
    >>> bp.linalg.solve_ex(bp.tensor([[2., 0.], [0., 4.]]), bp.tensor([2., 2.])).result.tolist()
    [1.0, 0.5]
    """
    return solve_ex_result(*_solve_checked("linalg.solve_ex", A, B, left, bool(check_errors)))


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
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
                     unitriangular: bool = False) -> Tensor:
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
    # PyTorch's copy of A has the batch dims of the solution.
    batch = tuple(solution.shape[:-2])
    cloned = clone(A.expand(*batch, *A.shape[-2:]) if tuple(A.shape[:-2]) != batch else A)
    return triangular_solve_result(solution, cloned)


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


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> Any:
    """``(L, info)``: the Cholesky factor of each symmetric positive-definite matrix (lower, or
    upper if ``upper``), and per matrix 0 or the order of the leading minor that is not
    positive-definite (no error unless ``check_errors``).

    >>> import backprop as bp
    >>> bp.linalg.cholesky_ex(bp.tensor([[4., 2.], [2., 2.]])).L.tolist()
    [[2.0, 0.0], [1.0, 1.0]]
    """
    _check_matrix("linalg.cholesky_ex", "A", A)
    return cholesky_ex_result(*_cholesky_ex(A, bool(upper), bool(check_errors)))


def cholesky(A: Tensor, upper: bool = False) -> Tensor:
    """The Cholesky factor L (``A = L L^T``; upper: ``A = U^T U``) of each symmetric
    positive-definite matrix; one that is not raises ``LinAlgError``. Serves
    ``torch.linalg.cholesky`` (``upper`` keyword-only there) and ``torch.cholesky``.

    >>> import backprop as bp
    >>> bp.linalg.cholesky(bp.tensor([[4., 2.], [2., 2.]])).tolist()
    [[2.0, 0.0], [1.0, 1.0]]
    """
    _check_matrix("linalg.cholesky", "A", A)
    return _cholesky_ex(A, bool(upper), True)[0]


def linalg_cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
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
    if not _num.many_small(lower) and (fast := lapack.potrs(lower, B)) is not None:
        return fast
    y = _num.triangular_solve_array(lower, B, False, False)
    return _num.triangular_solve_array(np.swapaxes(lower, -2, -1), y, True, False)


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:
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
    if not _num.many_small(lower) and (fast := lapack.potri(lower)) is not None:
        return fast
    eye = np.broadcast_to(_num_eye(L), L.shape)
    x = _num.triangular_solve_array(lower, eye, False, False)
    return np.swapaxes(x, -2, -1) @ x


def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:
    """The inverse of ``A = L L^T`` (``U^T U`` if ``upper``) from its Cholesky factor.

    >>> import backprop as bp
    >>> bp.cholesky_inverse(bp.tensor([[2., 0.], [0., 1.]])).tolist()
    [[0.25, 0.0], [0.0, 1.0]]
    """
    _check_matrix("cholesky_inverse", "L", L)
    return _cholesky_inverse(L, bool(upper))
