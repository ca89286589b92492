"""SVD, QR, symmetric eigendecomposition, Householder products, pseudo-inverses, least squares,
ranks and randomized low-rank SVD (issue 17); the norms and condition numbers built on them are
in ``linalg_norms.py``.

The factorizations are NumPy's LAPACK calls (gesdd, syevd, geqrf); their gradient rules are
PyTorch's (``linalg_svd_backward``, ``linalg_eig_backward`` for Hermitian input, the QR and
pseudo-inverse rules), written with our differentiable ops so that second derivatives follow.
Singular vectors and eigenvectors are unique only up to sign: ours are LAPACK's, which may
differ from another LAPACK's (PyTorch's MKL) by a sign per vector; every gauge-invariant
function of them (``U @ Vh``, ``|U|``, the gradients of such functions) agrees.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..autograd.graph import DUAL  # forward AD: its tangents need the recorded path
from ..backends import lapack_decompositions
from ..errors import DTypeError, GraphError, ShapeError, format_shape
from ..tensor import Tensor
from .decomposition_numerics import eigvalsh_array, svd_arrays
from .elementwise import where
from .join import cat
from .linalg import _matmul, _swap_last
from .primitive import primitive
from .rearrange import _tril, _triu
from .reduction import _sum
from .shape import reshape, squeeze, unsqueeze

# PyTorch's torch.return_types, by their field names.
svd_result = namedtuple("linalg_svd", ["U", "S", "Vh"])
svd_v_result = namedtuple("svd", ["U", "S", "V"])
qr_result = namedtuple("qr", ["Q", "R"])
eigh_result = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
lstsq_result = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
geqrf_result = namedtuple("geqrf", ["a", "tau"])


# -- helpers on arrays and tensors alike (rules run on both) -------------------------------------

def _row(v: Any) -> Any:
    """``v[..., None, :]``: a vector that scales a matrix's columns."""
    return reshape(v, tuple(v.shape[:-1]) + (1, v.shape[-1]))


def _col(v: Any) -> Any:
    """``v[..., :, None]``: a vector that scales a matrix's rows."""
    return reshape(v, tuple(v.shape) + (1,))


def _eye(n: int, like: Any) -> Any:
    return backend.eye(n, like.dtype, like)


def _diag_embed(v: Any) -> Any:
    return _row(v) * _eye(v.shape[-1], v)


def _skew(x: Any) -> Any:
    return x - _swap_last(x)


def _float_matrix(op: str, input: Any, name: str = "A") -> None:
    """PyTorch's linear algebra takes float32 and float64 (and complex) matrices, batched."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ShapeError(f"{op}: {name} must have at least 2 dimensions (a matrix or a batch of "
                         f"matrices), got shape {format_shape(input.shape)}")
    if input.dtype not in (np.float32, np.float64):
        raise DTypeError(f"{op}: {name} must be a float32 or float64 tensor, got {input.dtype}; "
                         "convert it with .float() or .double()")


def _square(op: str, input: Any, name: str = "A") -> None:
    if input.shape[-1] != input.shape[-2]:
        raise ShapeError(f"{op}: {name} must be a batch of square matrices, got shape "
                         f"{format_shape(input.shape)}")


# -- SVD ------------------------------------------------------------------------------------------

def _svd_vjp(g: tuple, out: tuple, input: Any, full_matrices: bool) -> Any:
    # PyTorch's linalg_svd_backward (real case). With F_ij = 1 / (s_j^2 - s_i^2):
    # gA = U [F o skew(U^T gU) S + S F o skew(V^T gV) + diag(gS)] Vh
    #      + (I - U U^T) gU S^-1 Vh + U S^-1 gVh (I - V Vh);
    # repeated singular values make F infinite, as in PyTorch (the vectors are not unique).
    gU, gS, gVh = g
    U, S, Vh = out
    m, n = input.shape[-2], input.shape[-1]
    k = S.shape[-1]
    if k == 0:
        return backend.zeros(input.shape, input.dtype, S)
    if full_matrices:
        U, Vh = U[..., :k], Vh[..., :k, :]
        gU = None if gU is None else gU[..., :k]
        gVh = None if gVh is None else gVh[..., :k, :]
    if gU is None and gVh is None:
        if gS is None:
            return backend.zeros(input.shape, input.dtype, S)
        return _matmul(U, _col(gS) * Vh) if m >= n else _matmul(U * _row(gS), Vh)
    S2 = S * S
    E = _row(S2) - _col(S2) + _eye(k, S)  # E_ij = s_j^2 - s_i^2, 1 on the diagonal
    if gU is not None and gVh is not None:
        inner = (_skew(_matmul(_swap_last(U), gU)) * _row(S)
                 + _col(S) * _skew(_matmul(Vh, _swap_last(gVh)))) / E
    elif gU is None:
        inner = _col(S) * _skew(_matmul(Vh, _swap_last(gVh))) / E
    else:
        inner = _skew(_matmul(_swap_last(U), gU)) * _row(S) / E
    if gS is not None:
        inner = inner + _diag_embed(gS)
    if m > k and gU is not None:
        gA = _matmul(U, inner)
        gU_over_S = gU / _row(S)
        gA = gA + gU_over_S - _matmul(U, _matmul(_swap_last(U), gU_over_S))
        return _matmul(gA, Vh)
    if n > k and gVh is not None:
        gA = _matmul(inner, Vh)
        gVh_over_S = gVh / _col(S)
        gA = gA + gVh_over_S - _matmul(_matmul(gVh_over_S, _swap_last(Vh)), Vh)
        return _matmul(U, gA)
    return _matmul(U, _matmul(inner, Vh)) if m >= n else _matmul(_matmul(U, inner), Vh)


@primitive("linalg_svd", outputs=("U", "S", "Vh"), save=("U", "S", "Vh"),
           grads={"input": _svd_vjp})
def _svd(input: Any, full_matrices: bool) -> tuple[Any, Any, Any]:
    fast = svd_arrays(input, full_matrices)  # None: a device array, or no bundled LAPACK
    if fast is not None:
        return fast
    U, S, Vh = np.linalg.svd(input, full_matrices=full_matrices)
    return U, S, Vh


def _linalg_svd(A: Tensor, full_matrices: bool = True, *, driver: str | None = None) -> Any:
    """The singular value decomposition ``A = U diag(S) Vh``, as ``torch.linalg.svd``: singular
    values in descending order; ``full_matrices=False`` gives the reduced factors (U is m x k,
    Vh is k x n, k = min(m, n)). Singular vectors are unique up to sign.

    >>> import backprop as bp
    >>> U, S, Vh = bp.linalg.svd(bp.tensor([[3., 0.], [0., -4.]]))
    >>> S.tolist()
    [4.0, 3.0]
    >>> bool(((U * S) @ Vh - bp.tensor([[3., 0.], [0., -4.]])).abs().max() < 1e-6)
    True
    """
    _float_matrix("linalg.svd", A)
    if driver is not None:
        raise ValueError(f"linalg.svd: driver={driver!r} chooses a cuSOLVER routine; on the CPU "
                         "PyTorch accepts only driver=None")
    return svd_result(*_svd(A, bool(full_matrices)))


def _singular_values(A: Tensor) -> Tensor:
    """S of the SVD: without the singular vectors (2-3x faster) when no gradient is wanted."""
    if A.requires_grad and grad_mode.state.enabled or DUAL.active:
        return _svd(A, False)[1]
    fast = lapack_decompositions.gesdd(A._data, False)
    return Tensor._wrap(fast[0] if fast is not None else np.linalg.svd(A._data, compute_uv=False))


def _svdvals(A: Tensor, *, driver: str | None = None) -> Tensor:
    """The singular values of ``A`` (a batch of matrices), in descending order, as
    ``torch.linalg.svdvals``.

    >>> import backprop as bp
    >>> bp.linalg.svdvals(bp.tensor([[3., 0.], [0., -4.]])).tolist()
    [4.0, 3.0]
    """
    _float_matrix("linalg.svdvals", A)
    return _singular_values(A)


def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> Any:
    """``(U, S, V)`` with ``input = U diag(S) V^T``, as ``torch.svd`` (V, not Vh; ``some=False``
    gives square U and V; ``compute_uv=False`` gives zero-filled square U and V).

    >>> import backprop as bp
    >>> U, S, V = bp.svd(bp.tensor([[3., 0.], [0., -4.]]))
    >>> S.tolist(), V.shape
    ([4.0, 3.0], (2, 2))
    """
    _float_matrix("svd", input, "input")
    if not compute_uv:
        S = _singular_values(input)
        m, n = input.shape[-2], input.shape[-1]
        batch = tuple(input.shape[:-2])
        # Square whatever some says, as PyTorch's
        zeros_u = backend.zeros(batch + (m, m), input.dtype, input._data)
        zeros_v = backend.zeros(batch + (n, n), input.dtype, input._data)
        return svd_v_result(Tensor._wrap(zeros_u), S, Tensor._wrap(zeros_v))
    U, S, Vh = _svd(input, not some)
    return svd_v_result(U, S, _swap_last(Vh))


# -- symmetric eigendecomposition ------------------------------------------------------------------

def _eigh_vjp(g: tuple, out: tuple, input: Any, UPLO: str) -> Any:
    # PyTorch's linalg_eig_backward for Hermitian input: with E_ij = l_j - l_i,
    # gA = V [skew(V^T gV) / 2 / E + diag(gL)] V^T. Repeated eigenvalues divide by zero, as there.
    gL, gV = g
    L, V = out
    if gV is None:
        if gL is None:
            return backend.zeros(input.shape, input.dtype, L)
        return _matmul(V * _row(gL), _swap_last(V))
    n = L.shape[-1]
    E = _row(L) - _col(L) + _eye(n, L)
    inner = 0.5 * _skew(_matmul(_swap_last(V), gV)) / E
    if gL is not None:
        inner = inner + _diag_embed(gL)  # the skew part's diagonal is zero
    return _matmul(V, _matmul(inner, _swap_last(V)))


@primitive("linalg_eigh", outputs=("eigenvalues", "eigenvectors"),
           save=("eigenvalues", "eigenvectors"), grads={"input": _eigh_vjp})
def _eigh(input: Any, UPLO: str) -> tuple[Any, Any]:
    L, V = np.linalg.eigh(input, UPLO=UPLO)
    return L, V


def _check_uplo(op: str, UPLO: Any) -> str:
    if UPLO not in ("L", "U", "l", "u"):
        raise ValueError(f"{op}: UPLO must be 'L' or 'U' (which triangle is read), got {UPLO!r}")
    return UPLO.upper()


def _linalg_eigh(A: Tensor, UPLO: str = "L") -> Any:
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices, as ``torch.linalg.eigh``:
    only the triangle ``UPLO`` names is read. Eigenvectors are unique up to sign.

    >>> import backprop as bp
    >>> L, V = bp.linalg.eigh(bp.tensor([[2., 1.], [1., 2.]]))
    >>> L.tolist()
    [1.0, 3.0]
    """
    _float_matrix("linalg.eigh", A)
    _square("linalg.eigh", A)
    return eigh_result(*_eigh(A, _check_uplo("linalg.eigh", UPLO)))


def _eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """Eigenvalues (ascending) of symmetric matrices, as ``torch.linalg.eigvalsh``.

    >>> import backprop as bp
    >>> bp.linalg.eigvalsh(bp.tensor([[2., 1.], [1., 2.]])).tolist()
    [1.0, 3.0]
    """
    _float_matrix("linalg.eigvalsh", A)
    _square("linalg.eigvalsh", A)
    uplo = _check_uplo("linalg.eigvalsh", UPLO)
    if not (A.requires_grad and grad_mode.state.enabled or DUAL.active):
        # Without a gradient the eigenvectors are not needed: syevd's values-only job.
        fast = eigvalsh_array(A._data, uplo)
        if fast is not None:
            return Tensor._wrap(fast)
    return _eigh(A, uplo)[0]


# -- QR --------------------------------------------------------------------------------------------

@primitive("triangular_inverse", save=("out",), grads={
    # d(R^-1) = -R^-1 dR R^-1; R varies in its triangle only.
    "input": lambda g, out, input, upper: (_triu if upper else _tril)(
        -_matmul(_swap_last(out), _matmul(g, _swap_last(out))), 0),
})
def _triangular_inverse(input: Any, upper: bool) -> Any:
    if not upper:
        return np.swapaxes(_upper_inverse(np.swapaxes(input, -1, -2)), -1, -2)
    return _upper_inverse(input)


def _upper_inverse(R: Any) -> Any:
    """The inverse of upper triangular matrices by halves, ``[[A, B], [0, D]]^-1 =
    [[A^-1, -A^-1 B D^-1], [0, D^-1]]``: matrix products instead of an LU solve, 4-8x faster
    with NumPy's BLAS at n = 300 (the solve is left the small blocks)."""
    n = R.shape[-1]
    if n <= 48:
        return np.linalg.solve(R, np.broadcast_to(backend.eye(n, R.dtype, R), R.shape))
    h = n // 2
    A_inv, D_inv = _upper_inverse(R[..., :h, :h]), _upper_inverse(R[..., h:, h:])
    out = np.zeros_like(R)
    out[..., :h, :h] = A_inv
    out[..., h:, h:] = D_inv
    out[..., :h, h:] = -np.matmul(np.matmul(A_inv, R[..., :h, h:]), D_inv)
    return out


def _qr_tall_vjp(gQ: Any, gR: Any, Q: Any, R: Any) -> Any:
    # m >= n: with M = R gR^T - gQ^T Q and copyltu(M) = tril(M) + tril(M, -1)^T,
    # gA = (gQ + Q copyltu(M)) R^-T.
    if gR is None:
        M = -_matmul(_swap_last(gQ), Q)
    elif gQ is None:
        M = _matmul(R, _swap_last(gR))
    else:
        M = _matmul(R, _swap_last(gR)) - _matmul(_swap_last(gQ), Q)
    b = _matmul(Q, _tril(M, 0) + _swap_last(_tril(M, -1)))
    if gQ is not None:
        b = gQ + b
    return _matmul(b, _swap_last(_triangular_inverse(R, True)))


def _qr_vjp(g: tuple, out: tuple, input: Any, mode: str) -> Any:
    gQ, gR = g
    Q, R = out
    m, n = input.shape[-2], input.shape[-1]
    if mode == "r":
        raise GraphError("linalg.qr: the derivative of linalg.qr depends on Q, which is not "
                         "computed when mode='r'; use mode='reduced' to differentiate through it")
    if mode == "complete" and m > n:
        raise GraphError(f"linalg.qr: the QR decomposition is not differentiable when "
                         f"mode='complete' and nrows > ncols (A is {format_shape(input.shape)})")
    if gQ is None and gR is None or min(m, n) == 0:
        return backend.zeros(input.shape, input.dtype, R)
    if m >= n:
        return _qr_tall_vjp(gQ, gR, Q, R)
    # A = [X | Y] with X square: X = Q R_X, Y = Q R_Y; Y's part changes gQ and gives gY = Q gR_Y.
    R_X, R_Y = R[..., :m], R[..., m:]
    gR_X = None if gR is None else gR[..., :m]
    if gR is None:
        gY = backend.zeros(tuple(input.shape[:-1]) + (n - m,), input.dtype, R)
        return cat([_qr_tall_vjp(gQ, None, Q, R_X), gY], -1)
    gR_Y = gR[..., m:]
    shifted = _matmul(_matmul(Q, R_Y), _swap_last(gR_Y))
    gQ = shifted if gQ is None else gQ + shifted
    return cat([_qr_tall_vjp(gQ, gR_X, Q, R_X), _matmul(Q, gR_Y)], -1)


@primitive("linalg_qr", outputs=("Q", "R"), save=("Q", "R"), grads={"input": _qr_vjp})
def _qr(input: Any, mode: str) -> tuple[Any, Any]:
    # geqrf and orgqr through backends.lapack_decompositions: NumPy's qr spends ~150 us on its
    # own checks and float64 copies, ten times LAPACK's work on a 1000 x 6 matrix. None:
    # np.linalg.
    fast = lapack_decompositions.qr(input) if mode in ("reduced", "r") else None
    if mode == "r":  # PyTorch returns an empty Q
        return (backend.empty((0,), input.dtype, input),
                np.linalg.qr(input, mode="r") if fast is None else fast[1])
    Q, R = np.linalg.qr(input, mode=mode) if fast is None else fast
    return Q, R


def _linalg_qr(A: Tensor, mode: str = "reduced") -> Any:
    """The QR decomposition ``A = Q R`` (Q with orthonormal columns, R upper triangular), as
    ``torch.linalg.qr``: ``mode`` is ``'reduced'``, ``'complete'`` or ``'r'`` (R only, an
    empty Q). Signs are LAPACK's (geqrf's Householder reflections).

    >>> import backprop as bp
    >>> Q, R = bp.linalg.qr(bp.tensor([[3., 1.], [4., 2.]]))
    >>> [round(v, 4) for v in R[0].tolist()]
    [-5.0, -2.2]
    """
    _float_matrix("linalg.qr", A)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    return qr_result(*_qr(A, mode))


def qr(input: Tensor, some: bool = True) -> Any:
    """``(Q, R)`` as ``torch.qr``: ``some=True`` is ``linalg.qr``'s ``'reduced'`` mode,
    ``some=False`` its ``'complete'`` mode.

    >>> import backprop as bp
    >>> bp.qr(bp.ones(3, 2)).Q.shape
    (3, 2)
    """
    _float_matrix("qr", input, "input")
    return qr_result(*_qr(input, "reduced" if some else "complete"))


# -- Householder products: geqrf, householder_product (orgqr), ormqr ------------------------------

@primitive("geqrf", outputs=("a", "tau"), differentiable=False)
def _geqrf(input: Any) -> tuple[Any, Any]:
    h, tau = np.linalg.qr(input, mode="raw")  # LAPACK's column-major result, seen transposed
    return backend.contiguous(np.swapaxes(h, -1, -2)), tau


def geqrf(input: Tensor) -> Any:
    """LAPACK's geqrf, as ``torch.geqrf``: R on and above the diagonal of ``a``, the Householder
    vectors below it (their leading 1 implied), and the scalars ``tau``. Not differentiable, as
    in PyTorch (use ``linalg.qr``).

    >>> import backprop as bp
    >>> a, tau = bp.geqrf(bp.tensor([[3., 1.], [4., 2.]]))
    >>> round(a[0, 0].item(), 4), round(tau[0].item(), 4)
    (-5.0, 1.6)
    """
    _float_matrix("geqrf", input, "input")
    return geqrf_result(*_geqrf(input))


def _check_reflectors(op: str, input: Tensor, tau: Tensor) -> None:
    """``input`` a float matrix (batch) holding the ``k`` reflectors that ``tau`` scales."""
    _float_matrix(op, input, "input")
    k = tau.shape[-1] if tau.ndim else 0
    if tau.ndim != input.ndim - 1 or tuple(tau.shape[:-1]) != tuple(input.shape[:-2]):
        raise ShapeError(f"{op}: tau must have shape batch + (k,) for input of shape "
                         f"{format_shape(input.shape)}, got {format_shape(tau.shape)}")
    m, n = input.shape[-2], input.shape[-1]
    if k > n or k > m:
        raise ShapeError(f"{op}: tau has {k} scalars but input {format_shape(input.shape)} holds "
                         f"at most min(m, n) = {min(m, n)} reflectors")


def _reflectors(input: Tensor, tau: Tensor) -> Any:
    """The unit lower-trapezoidal Householder vectors in ``input``'s first ``k`` columns."""
    m, k = input.shape[-2], tau.shape[-1]
    eye = backend.eye(m, input.dtype, input._data)[:, :k]
    return _tril(input[..., :k], -1) + eye


def householder_product(input: Tensor, tau: Tensor) -> Tensor:
    """The first n columns of ``H_1 H_2 ... H_k`` with ``H_i = I - tau_i v_i v_i^T`` and ``v_i``
    the i-th Householder vector of ``input`` (m x n, m >= n), as
    ``torch.linalg.householder_product`` (LAPACK's orgqr): Q from ``geqrf``'s output.

    >>> import backprop as bp
    >>> A = bp.tensor([[3., 1.], [4., 2.]])
    >>> Q = bp.linalg.householder_product(*bp.geqrf(A))
    >>> bool((Q - bp.linalg.qr(A).Q).abs().max() < 1e-6)
    True
    """
    _check_reflectors("linalg.householder_product", input, tau)
    m, n = input.shape[-2], input.shape[-1]
    if m < n:
        raise ShapeError(f"linalg.householder_product: input must have at least as many rows as "
                         f"columns, got shape {format_shape(input.shape)}")
    if tau.shape[-1] == 0:  # the identity, joined to the graph (its gradient is zero)
        eye = np.broadcast_to(backend.eye(m, input.dtype, input._data)[:, :n], input.shape)
        return where(backend.zeros(input.shape, np.bool_, input._data), input, eye)
    if not ((input.requires_grad or tau.requires_grad) and grad_mode.state.enabled
            or DUAL.active):
        # No graph to record: LAPACK's blocked orgqr, 4x faster than the compact WY products.
        fast = lapack_decompositions.orgqr(input._data, tau._data)
        if fast is not None:
            return Tensor._wrap(fast)
    V = _reflectors(input, tau)
    T = _compact_wy(V, tau)
    # Q = (I - V T V^T)[:, :n] = E - V T V[:n]^T, E the first n columns of the identity
    return _eye(m, V)[:, :n] - _matmul(V, _matmul(T, _swap_last(V[..., :n, :])))


def _compact_wy(V: Any, tau: Any) -> Any:
    """T with ``H_1 ... H_k = I - V T V^T`` (Schreiber and Van Loan's compact WY form), one
    product and one triangular inverse instead of k rank-one updates: Puglisi's
    ``T^-1 = diag(1 / tau) + triu(V^T V, 1)``, written ``T = (I + diag(tau) triu(V^T V, 1))^-1
    diag(tau)`` so that a reflector with tau = 0 (geqrf's last, of a square matrix) divides by
    nothing and keeps its gradient."""
    unit_upper = _col(tau) * _triu(_matmul(_swap_last(V), V), 1) + _eye(tau.shape[-1], V)
    return _triangular_inverse(unit_upper, True) * _row(tau)


def ormqr(input: Tensor, tau: Tensor, other: Tensor, left: bool = True,
          transpose: bool = False) -> Tensor:
    """``other`` multiplied by the Q that ``geqrf``'s ``(input, tau)`` represent, as
    ``torch.ormqr`` (LAPACK's ormqr): ``Q @ other`` (``left``), ``other @ Q`` (not ``left``),
    with Q transposed when ``transpose``.

    >>> import backprop as bp
    >>> A = bp.tensor([[3., 1.], [4., 2.]])
    >>> a, tau = bp.geqrf(A)
    >>> bool((bp.ormqr(a, tau, bp.eye(2)) - bp.linalg.qr(A).Q).abs().max() < 1e-6)
    True
    """
    _check_reflectors("ormqr", input, tau)
    if not isinstance(other, Tensor) or other.ndim != input.ndim:
        raise ShapeError(f"ormqr: other must have as many dimensions as input "
                         f"{format_shape(input.shape)}, got "
                         f"{format_shape(getattr(other, 'shape', ()))}")
    mq = input.shape[-2]
    side = other.shape[-2] if left else other.shape[-1]
    if side != mq:
        raise ShapeError(f"ormqr: other {format_shape(other.shape)} must have {mq} "
                         f"{'rows' if left else 'columns'} (input's rows) when left={left}")
    if tau.shape[-1] == 0:
        return other + 0.0  # Q is the identity
    if not ((input.requires_grad or tau.requires_grad or other.requires_grad)
            and grad_mode.state.enabled or DUAL.active):
        # No graph to record: LAPACK's ormqr applies the reflectors in blocks, 4x faster.
        fast = lapack_decompositions.ormqr(input._data, tau._data, other._data, left, transpose)
        if fast is not None:
            return Tensor._wrap(fast)
    V = _reflectors(input, tau)
    T = _compact_wy(V, tau)
    # Q = I - V T V^T, Q^T = I - V T^T V^T
    T = _swap_last(T) if transpose else T
    if left:
        return other - _matmul(V, _matmul(T, _matmul(_swap_last(V), other)))
    return other - _matmul(_matmul(_matmul(other, V), T), _swap_last(V))


# -- pseudo-inverse -------------------------------------------------------------------------------

def _pinv_vjp(g: Any, out: Any, input: Any, atol: Any, rtol: Any, hermitian: bool) -> Any:
    # dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P, so
    # gA = -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A); PyTorch's pinv_backward.
    P, A = out, input
    Pt, gt = _swap_last(P), _swap_last(g)
    m, n = A.shape[-2], A.shape[-1]
    if m <= n:
        K = _matmul(gt, P)
        KPt = _matmul(K, Pt)
        return (-_swap_last(_matmul(P, K)) + KPt - _matmul(_matmul(A, P), KPt)
                + _matmul(_matmul(Pt, P), gt - _matmul(K, A)))
    K = _matmul(P, gt)
    PtK = _matmul(Pt, K)
    return (-_swap_last(_matmul(K, P)) + _matmul(_matmul(gt - _matmul(A, K), P), Pt) + PtK
            - _matmul(_matmul(PtK, P), A))


@primitive("linalg_pinv", save=("input", "out"), grads={"input": _pinv_vjp})
def _pinv(input: Any, atol: Any, rtol: Any, hermitian: bool) -> Any:
    # The tolerances are NumPy's (``_tolerances``); the input may be on a device.
    atol, rtol = backend.on_device_of(atol, input), backend.on_device_of(rtol, input)
    if hermitian:
        L, V = np.linalg.eigh(input)
        size = np.abs(L)
        largest = _largest(size)
        keep = size > np.maximum(atol, rtol * largest)
        inverse = np.where(keep, 1 / np.where(keep, L, 1), 0).astype(input.dtype)
        return np.matmul(V * inverse[..., None, :], np.swapaxes(V, -1, -2))
    U, S, Vh = np.linalg.svd(input, full_matrices=False)
    largest = S[..., :1]
    keep = S > np.maximum(atol, rtol * largest)
    inverse = np.where(keep, 1 / np.where(keep, S, 1), 0).astype(input.dtype)
    return np.matmul(np.swapaxes(Vh, -1, -2) * inverse[..., None, :], np.swapaxes(U, -1, -2))


def _largest(values: Any) -> Any:
    """The largest of ``values`` along the last dim, kept as a dim of size 1; 0 where that dim
    is empty (CuPy's max takes no ``initial``)."""
    if values.shape[-1]:
        return values.max(axis=-1, keepdims=True)
    return backend.zeros(values.shape[:-1] + (1,), values.dtype, values)


def _tolerances(op: str, A: Tensor, atol: Any, rtol: Any) -> tuple[Any, Any]:
    """PyTorch's atol and rtol: float64 arrays against the batch's singular values (the rtol
    default, eps * max(m, n), applies unless an atol > 0 is given)."""
    def as_column(value: Any, name: str) -> Any:
        array = np.asarray(backend.to_host(backend.array_of(value)), dtype=np.float64)
        if array.dtype.kind not in "fiub":
            raise DTypeError(f"{op}: {name} must be a real number or tensor")
        return array[..., None] if array.ndim else array
    default = np.finfo(A.dtype).eps * max(A.shape[-2], A.shape[-1])
    atol_value = np.zeros(()) if atol is None else as_column(atol, "atol")
    if rtol is not None:
        rtol_value = as_column(rtol, "rtol")
    elif atol is None:
        rtol_value = np.asarray(default)
    else:
        rtol_value = np.where(atol_value > 0, 0.0, default)
    return atol_value, rtol_value


def _linalg_pinv(A: Tensor, rcond: Any = None, hermitian: bool = False, *, atol: Any = None,
                 rtol: Any = None) -> Tensor:
    """The Moore-Penrose pseudo-inverse, as ``torch.linalg.pinv``: singular values at or below
    ``max(atol, rtol * largest)`` count as zero (``rtol`` defaults to eps * max(m, n));
    ``hermitian=True`` reads the lower triangle of symmetric matrices and uses eigenvalues.
    ``rcond`` is the legacy name of ``rtol``.

    >>> import backprop as bp
    >>> bp.linalg.pinv(bp.tensor([[2., 0.], [0., 0.]])).tolist()
    [[0.5, 0.0], [0.0, 0.0]]
    """
    _float_matrix("linalg.pinv", A)
    if rcond is not None:
        if rtol is not None:
            raise TypeError("linalg.pinv: give rtol or its legacy name rcond, not both")
        rtol = rcond
    if hermitian:
        _square("linalg.pinv", A)
    atol_value, rtol_value = _tolerances("linalg.pinv", A, atol, rtol)
    return _pinv(A, atol_value, rtol_value, bool(hermitian))


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """The pseudo-inverse with singular values below ``rcond`` times the largest dropped, as
    ``torch.pinverse``.

    >>> import backprop as bp
    >>> bp.pinverse(bp.tensor([[2., 0.], [0., 4.]])).tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    _float_matrix("pinverse", input, "input")
    return _pinv(input, np.zeros(()), np.asarray(float(rcond)), False)


# -- rank and least squares --------------------------------------------------------

def _matrix_rank(A: Tensor, tol: Any = None, hermitian: bool = False, *, atol: Any = None,
                 rtol: Any = None) -> Tensor:
    """The number of singular values above ``max(atol, rtol * largest)``, as
    ``torch.linalg.matrix_rank`` (``tol`` is the legacy ``atol`` with ``rtol=0``); an int64
    tensor of the batch's shape.

    >>> import backprop as bp
    >>> bp.linalg.matrix_rank(bp.tensor([[1., 2.], [2., 4.]])).item()
    1
    """
    _float_matrix("linalg.matrix_rank", A)
    if tol is not None:
        if atol is not None or rtol is not None:
            raise TypeError("linalg.matrix_rank: give tol (legacy) or atol and rtol, not both")
        atol, rtol = tol, 0.0
    data = A._data
    if hermitian:
        _square("linalg.matrix_rank", A)
        values = np.abs(np.linalg.eigvalsh(data))
    else:
        values = np.linalg.svd(data, compute_uv=False)
    atol_value, rtol_value = (backend.on_device_of(t, data) for t in
                              _tolerances("linalg.matrix_rank", A, atol, rtol))
    rank = np.sum(values > np.maximum(atol_value, rtol_value * _largest(values)), axis=-1)
    # (NumPy's sum over a single matrix is a scalar: asarray makes it the 0-d array a tensor holds.)
    return Tensor._wrap(backend.xp_of(data).asarray(rank, dtype=np.int64))


_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *,
           driver: str | None = None) -> Any:
    """The least-squares solution of ``A X = B`` (the minimum-norm one when A is wide), as
    ``torch.linalg.lstsq``: ``(solution, residuals, rank, singular_values)``. ``residuals``,
    the squared residual norms, is filled when A is tall and full rank (not for 'gelsy');
    ``rank`` for drivers 'gelsy', 'gelsd', 'gelss'; ``singular_values`` for 'gelsd' and
    'gelss'. The gradient is PyTorch's, through the pseudo-inverse.

    >>> import backprop as bp
    >>> A = bp.tensor([[1., 0.], [0., 1.], [0., 0.]])
    >>> bp.linalg.lstsq(A, bp.tensor([[1.], [2.], [3.]])).solution.tolist()
    [[1.0], [2.0]]
    """
    _float_matrix("linalg.lstsq", A)
    if not isinstance(B, Tensor) or B.dtype != A.dtype:
        raise DTypeError(f"linalg.lstsq: B must be a tensor of A's dtype {A.dtype}, got "
                         f"{getattr(B, 'dtype', type(B).__name__)}")
    driver = "gelsy" if driver is None else driver
    if driver not in _LSTSQ_DRIVERS:
        raise ValueError(f"linalg.lstsq: driver must be one of {_LSTSQ_DRIVERS}, got {driver!r}")
    vector = B.ndim == A.ndim - 1
    rhs = unsqueeze(B, -1) if vector else B
    if rhs.ndim < 2 or rhs.shape[-2] != A.shape[-2]:
        raise ShapeError(f"linalg.lstsq: A {format_shape(A.shape)} and B "
                         f"{format_shape(B.shape)} must have the same number of rows")
    m, n = A.shape[-2], A.shape[-1]
    eps = np.finfo(A.dtype).eps
    rtol = eps * max(m, n) if rcond is None or rcond < 0 else float(rcond)
    P = _pinv(A, np.zeros(()), np.asarray(rtol), False)
    X = _matmul(P, rhs)
    values = np.linalg.svd(A._data, compute_uv=False)
    largest = _largest(values)  # the first: they are in descending order
    ranks = np.sum(values > rtol * largest, axis=-1).astype(np.int64)
    empty = Tensor._wrap(backend.zeros((0,), A.dtype, values))
    if m > n and driver != "gelsy" and bool(np.all(ranks == n)):
        residual = _matmul(A, X) - rhs
        residuals = _sum(residual * residual, (residual.ndim - 2,), False)
    else:  # empty, but from the graph as PyTorch's is
        residuals = reshape(X, (-1,))[:0]
    if vector:
        X = squeeze(X, -1)
        if residuals.ndim:
            residuals = squeeze(residuals, -1) if residuals.shape[-1:] == (1,) else residuals
    rank = (Tensor._wrap(backend.xp_of(values).asarray(ranks)) if driver != "gels"
            else Tensor._wrap(backend.zeros((0,), np.int64, values)))
    singular = (Tensor._wrap(values) if driver in ("gelsd", "gelss") else empty)
    return lstsq_result(X, residuals, rank, singular)


# -- randomized low-rank SVD and PCA ---------------------------------------------------------------

def _approximate_basis(A: Tensor, q: int, niter: int, M: Tensor | None) -> Tensor:
    """An orthonormal basis Q (m x q) with ``A ~ Q Q^T A``: Halko, Martinsson and Tropp's
    randomized range finder with ``niter`` subspace iterations, as PyTorch's."""
    from ..creation import randn  # random draws from our generator (creation imports ops)

    n = A.shape[-1]
    # Drawn on the host and moved: the same numbers on every device, as from one generator.
    R = randn(n, q, dtype=A.dtype).to(A.device)
    At = _swap_last(A)
    X = _matmul(A, R) if M is None else _matmul(A, R) - _matmul(M, R)
    Q = _qr(X, "reduced")[0]
    for _ in range(niter):
        Y = _matmul(At, Q) if M is None else _matmul(At, Q) - _matmul(_swap_last(M), Q)
        Q = _qr(Y, "reduced")[0]
        X = _matmul(A, Q) if M is None else _matmul(A, Q) - _matmul(M, Q)
        Q = _qr(X, "reduced")[0]
    return Q


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int = 2, M: Tensor | None = None) -> Any:
    """An approximate rank-``q`` SVD ``(U, S, V)`` of ``A - M`` by a randomized range finder
    (random draws from backprop's generator), as ``torch.svd_lowrank``; exact when the rank is
    at most ``q``.

    >>> import backprop as bp
    >>> A = bp.tensor([[1., 2.], [2., 4.], [3., 6.]])
    >>> U, S, V = bp.svd_lowrank(A, q=1)
    >>> round(S.item(), 4)
    8.3666
    """
    _float_matrix("svd_lowrank", A)
    m, n = A.shape[-2], A.shape[-1]
    q = 6 if q is None else int(q)
    if not 0 <= q <= min(m, n):
        raise ValueError(f"svd_lowrank: q={q} must be in [0, min(m, n) = {min(m, n)}] for A of "
                         f"shape {format_shape(A.shape)}")
    if M is not None:
        # A broadcast M (pca_lowrank's column means) is copied once: a matmul with a
        # zero-strided operand misses BLAS and costs ten times one with a contiguous one.
        M = (M.expand(*A.shape) if tuple(M.shape) != tuple(A.shape) else M).contiguous()
    # The range finder works on the tall side: a wide A is decomposed through its transpose.
    if m < n:
        A, M = _swap_last(A), None if M is None else _swap_last(M)
    Q = _approximate_basis(A, q, niter, M)
    B = _matmul(_swap_last(Q), A)
    if M is not None:
        B = B - _matmul(_swap_last(Q), M)
    U, S, Vh = _svd(B, False)
    U = _matmul(Q, U)
    V = _swap_last(Vh)
    return svd_v_result(V, S, U) if m < n else svd_v_result(U, S, V)


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True, niter: int = 2) -> Any:
    """Principal components of ``A``'s rows, as ``torch.pca_lowrank``: the low-rank SVD of the
    matrix with each column's mean removed (``center``), ``q`` defaulting to min(6, m, n).

    >>> import backprop as bp
    >>> U, S, V = bp.pca_lowrank(bp.tensor([[1., 2.], [2., 4.], [3., 6.]]), q=1)
    >>> round(S.item(), 4)
    3.1623
    """
    _float_matrix("pca_lowrank", A)
    m, n = A.shape[-2], A.shape[-1]
    q = min(6, m, n) if q is None else int(q)
    if not 0 <= q <= min(m, n):
        raise ValueError(f"pca_lowrank: q={q} must be in [0, min(m, n) = {min(m, n)}] for A of "
                         f"shape {format_shape(A.shape)}")
    if not center:
        return svd_lowrank(A, q, niter)
    mean = _sum(A, (A.ndim - 2,), True) / m
    return svd_lowrank(A, q, niter, mean.expand(*A.shape))


orgqr = householder_product  # torch.orgqr, LAPACK's name

__all__ = ["geqrf", "orgqr", "ormqr", "pca_lowrank", "pinverse", "qr", "svd", "svd_lowrank"]
