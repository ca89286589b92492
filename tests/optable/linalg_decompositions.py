"""Op-table rows for ``backprop.ops.linalg_decompositions``.

Singular vectors and eigenvectors are unique only up to sign (PyTorch's MKL and NumPy's OpenBLAS
may choose differently), so the rows of svd and eigh check gauge-invariant functions of the
factors: ``|U|``, ``U @ Vh``, the values themselves.
"""

from __future__ import annotations

import math

import numpy as np

import backprop as bp
from backprop.errors import DimError, DTypeError, ShapeError

from .spec import ErrorInput, OpSpec, Sample


def _matrices(*shapes: tuple[int, ...], **kwargs):
    """One sample per shape, with the keyword arguments ``kwargs``."""

    def samples(rng: np.random.Generator) -> list[Sample]:
        return [Sample((rng.standard_normal(s),), dict(kwargs), name=str(s)) for s in shapes]

    return samples


def _symmetric(rng: np.random.Generator) -> list[Sample]:
    """Symmetric matrices with well-separated eigenvalues, so finite differences stay on them."""
    result = []
    for shape, uplo in (((3, 3), "L"), ((2, 3, 3), "U")):
        a = rng.standard_normal(shape)
        result.append(Sample((a + np.swapaxes(a, -1, -2) + np.diag([0.0, 3.0, 6.0]),),
                             {"UPLO": uplo}, name=f"{shape}-{uplo}"))
    return result


def _svd_invariants(U, S, Vh, k):
    """|U|, S, |Vh| and U @ Vh on the first k singular vectors."""
    U, Vh = U[..., :k], Vh[..., :k, :]
    return abs(U), S, abs(Vh), U @ Vh


def _mT(x):
    """The last two dims swapped, for NumPy arrays and both libraries' tensors."""
    return np.swapaxes(x, -1, -2) if isinstance(x, np.ndarray) else x.mT


def _linalg_svd_of(lib_svd):
    def op(A, full_matrices=True):
        U, S, Vh = lib_svd(A, full_matrices=full_matrices)
        return _svd_invariants(U, S, Vh, min(A.shape[-2:]))
    return op


def _svd_of(lib_svd):
    def op(A, some=True):
        U, S, V = lib_svd(A, some)
        return _svd_invariants(U, S, _mT(V), min(A.shape[-2:]))
    return op


def _np_svd(A, some=True):
    U, S, Vh = np.linalg.svd(A, full_matrices=not some)
    return U, S, _mT(Vh)


def _symmetrized(A):
    """(A + A^T) / 2: eigh reads one triangle but its gradient is the symmetric one (PyTorch's
    convention), which finite differences see only through a symmetric input."""
    return (A + A.swapaxes(-1, -2)) / 2


def _eigh_of(lib_eigh):
    def op(A, UPLO="L"):
        L, V = lib_eigh(_symmetrized(A), UPLO)
        return L, abs(V)
    return op


def _eigvalsh_of(lib_eigvalsh):
    return lambda A, UPLO="L": lib_eigvalsh(_symmetrized(A), UPLO)


def _pinv_of(lib_pinv):
    def op(A, hermitian=False):
        return lib_pinv(_symmetrized(A), hermitian=True) if hermitian else lib_pinv(A)
    return op


def _np_qr_of(mode):
    return lambda A: np.linalg.qr(A, mode=mode)


def _np_householder(A, tau):
    m, n = A.shape
    Q = np.eye(m)
    V = np.tril(A, -1)[:, :len(tau)] + np.eye(m, len(tau))
    for i in range(len(tau)):
        Q = Q @ (np.eye(m) - tau[i] * np.outer(V[:, i], V[:, i]))
    return Q[:, :n]


def _np_ormqr(A, tau, C, left=True, transpose=False):
    Q = _np_householder(np.pad(A, ((0, 0), (0, A.shape[0] - A.shape[1]))), tau)
    Q = Q.T if transpose else Q
    return Q @ C if left else C @ Q


def _householder_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, (3,))), name="4x3"),
            Sample((rng.uniform(-1, 1, (3, 3)), rng.uniform(-1, 1, (2,))), name="3x3-k2")]


def _ormqr_samples(rng: np.random.Generator) -> list[Sample]:
    A, tau = rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, (2,))
    return [Sample((A, tau, rng.standard_normal((3, 2))), name="left"),
            Sample((A, tau, rng.standard_normal((2, 3))), {"left": False, "transpose": True},
                   name="right-transposed")]


def _np_geqrf(A):
    h, tau = np.linalg.qr(A, mode="raw")
    return _mT(h), tau


def _lstsq_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((rng.standard_normal((4, 2)), rng.standard_normal((4, 2))),
                   {"driver": "gelsd"}, name="tall-gelsd"),
            Sample((rng.standard_normal((2, 3)), rng.standard_normal((2, 1))), name="wide")]


def _np_lstsq(A, B, driver=None):
    X, residuals, rank, values = np.linalg.lstsq(A, B, rcond=None)
    return X, residuals


def _low_rank_samples(rng: np.random.Generator) -> list[Sample]:
    """q = the smaller side: the random range finder then spans the whole column space, so the
    result is exact whatever the draw (and finite differences can see it)."""
    return [Sample((rng.standard_normal((4, 2)),), {"q": 2}, name="tall"),
            Sample((rng.standard_normal((2, 3)),), {"q": 2}, name="wide")]


def _pca_samples(rng: np.random.Generator) -> list[Sample]:
    """Tall matrices: centering takes one from the rank, which must stay at least q."""
    return [Sample((rng.standard_normal((4, 2)),), {"q": 2}, name="4x2"),
            Sample((rng.standard_normal((2, 5, 3)),), {"q": 3}, name="batch")]


def _reconstruction(U, S, V):
    return (U * S[..., None, :]) @ _mT(V), S


def _np_pca(A, q=None, center=True):
    if center:
        A = A - A.mean(axis=-2, keepdims=True)
    return A, np.linalg.svd(A, compute_uv=False)[..., :q]


def _norm_samples(*cases):
    def samples(rng: np.random.Generator) -> list[Sample]:
        return [Sample((rng.standard_normal(shape),), dict(kwargs), name=f"{shape}-{kwargs}")
                for shape, kwargs in cases]
    return samples


def _np_matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False):
    return np.linalg.norm(A, ord, axis=tuple(dim), keepdims=keepdim)


def _np_vector_norm(x, ord=2, dim=None, keepdim=False):
    axis = dim if dim is None or isinstance(dim, int) else tuple(dim)
    size = np.abs(x)
    if ord == math.inf:
        return size.max(axis=axis, keepdims=keepdim)
    if ord == -math.inf:
        return size.min(axis=axis, keepdims=keepdim)
    return np.sum(size ** ord, axis=axis, keepdims=keepdim) ** (1 / ord)


def _np_linalg_norm(A, ord=None, dim=None, keepdim=False):
    if dim is None and ord is None:
        return np.linalg.norm(A.reshape(-1))
    return np.linalg.norm(A, ord, axis=dim, keepdims=keepdim)


def _errors() -> list[ErrorInput]:
    v, sq, wide = bp.ones(3), bp.ones(2, 2), bp.ones(2, 3)
    return [
        ErrorInput(lambda: bp.linalg.svd(v), ShapeError, r"linalg\.svd: A must have at least 2"),
        ErrorInput(lambda: bp.linalg.eigh(wide), ShapeError, r"linalg\.eigh: .*square"),
        ErrorInput(lambda: bp.linalg.eigh(sq, UPLO="X"), ValueError, r"UPLO must be 'L' or 'U'"),
        ErrorInput(lambda: bp.linalg.qr(sq, mode="full"), ValueError, r"linalg\.qr: mode must"),
        ErrorInput(lambda: bp.linalg.lstsq(sq, bp.ones(3, 1)), ShapeError,
                   r"linalg\.lstsq: .*same number of rows"),
        ErrorInput(lambda: bp.linalg.lstsq(sq, sq, driver="gesv"), ValueError, r"driver must"),
        ErrorInput(lambda: bp.linalg.matrix_norm(sq, 3), ValueError, r"matrix_norm: ord must"),
        ErrorInput(lambda: bp.linalg.matrix_norm(sq, dim=(0, 0)), DimError,
                   r"dims must be different"),
        ErrorInput(lambda: bp.linalg.vector_norm(sq, "fro"), TypeError,
                   r"vector_norm: ord must be a number"),
        ErrorInput(lambda: bp.linalg.vector_norm(bp.ones(0), math.inf), ValueError,
                   r"empty tensor"),
        ErrorInput(lambda: bp.linalg.norm(bp.ones(2, 2, 2), "fro"), ValueError,
                   r"linalg\.norm: .*1-D or 2-D"),
        ErrorInput(lambda: bp.linalg.svdvals(bp.ones(2, 2, dtype=bp.int64)), DTypeError,
                   r"float32 or float64"),
        ErrorInput(lambda: bp.linalg.householder_product(wide.mT, bp.ones(3)), ShapeError,
                   r"at most min\(m, n\)"),
        ErrorInput(lambda: bp.ormqr(wide.mT, bp.ones(2), bp.ones(2, 2)), ShapeError,
                   r"ormqr: other .* must have 3 rows"),
        ErrorInput(lambda: bp.svd_lowrank(wide, q=3), ValueError, r"svd_lowrank: q=3"),
    ]



ROWS: list[OpSpec] = [
    OpSpec("linalg.svd", _linalg_svd_of(bp.linalg.svd),
           _linalg_svd_of(np.linalg.svd), _matrices((3, 2), (2, 2, 3)),
           torch=lambda torch, A, **kw: _linalg_svd_of(torch.linalg.svd)(A, **kw),
           error_inputs=_errors),
    OpSpec("svd", _svd_of(bp.svd), _svd_of(_np_svd),
           _matrices((2, 3), (3, 2), some=False),
           torch=lambda torch, A, **kw: _svd_of(torch.svd)(A, **kw)),
    OpSpec("linalg.svdvals", bp.linalg.svdvals, lambda A: np.linalg.svd(A, compute_uv=False),
           _matrices((3, 2), (2, 2, 3)), torch=lambda torch, A: torch.linalg.svdvals(A)),
    OpSpec("linalg.eigh", _eigh_of(bp.linalg.eigh), _eigh_of(np.linalg.eigh), _symmetric,
           torch=lambda torch, A, **kw: _eigh_of(torch.linalg.eigh)(A, **kw)),
    OpSpec("linalg.eigvalsh", _eigvalsh_of(bp.linalg.eigvalsh), _eigvalsh_of(np.linalg.eigvalsh),
           _symmetric, torch=lambda torch, A, **kw: _eigvalsh_of(torch.linalg.eigvalsh)(A, **kw)),
    OpSpec("linalg.qr", bp.linalg.qr, lambda A, mode="reduced": np.linalg.qr(A, mode=mode),
           _matrices((3, 2), (2, 2, 3)), torch=lambda torch, A, **kw: torch.linalg.qr(A, **kw)),
    OpSpec("qr", bp.qr, lambda A, some=True: np.linalg.qr(A, "reduced" if some else "complete"),
           _matrices((3, 3), (2, 4)), torch=lambda torch, A, **kw: torch.linalg.qr(A, **kw)),
    OpSpec("geqrf", bp.geqrf, _np_geqrf, _matrices((3, 2), (2, 3)), grad=False,
           torch=lambda torch, A: torch.geqrf(A)),
    OpSpec("linalg.householder_product", bp.linalg.householder_product, _np_householder,
           _householder_samples, aliases=("orgqr",),
           torch=lambda torch, A, tau: torch.linalg.householder_product(A, tau)),
    OpSpec("ormqr", bp.ormqr, _np_ormqr, _ormqr_samples,
           torch=lambda torch, A, tau, C, **kw: torch.ormqr(A, tau, C, **kw)),
    OpSpec("linalg.pinv", _pinv_of(bp.linalg.pinv), _pinv_of(np.linalg.pinv),
           lambda rng: [*_matrices((3, 2), (2, 2, 3))(rng), *[
               Sample((s.args[0],), {"hermitian": True}, name="hermitian")
               for s in _symmetric(rng)[:1]]],
           torch=lambda torch, A, **kw: _pinv_of(torch.linalg.pinv)(A, **kw)),
    OpSpec("pinverse", bp.pinverse, np.linalg.pinv, _matrices((2, 3)),
           torch=lambda torch, A: torch.pinverse(A)),
    OpSpec("linalg.matrix_rank", bp.linalg.matrix_rank,
           lambda A, hermitian=False: np.linalg.matrix_rank(A, hermitian=hermitian),
           lambda rng: [Sample((rng.standard_normal((3, 1)) @ rng.standard_normal((1, 3)),),
                               name="rank-1"), *_matrices((2, 3, 3))(rng)], grad=False,
           torch=lambda torch, A, **kw: torch.linalg.matrix_rank(A, **kw)),
    OpSpec("linalg.cond", bp.linalg.cond, lambda A, p=None: np.linalg.cond(A, p),
           lambda rng: [Sample((rng.standard_normal((3, 3)),), name="2"),
                        Sample((rng.standard_normal((3, 3)),), {"p": -2}, name="-2")],
           torch=lambda torch, A, **kw: torch.linalg.cond(A, **kw)),
    OpSpec("linalg.lstsq", lambda A, B, **kw: bp.linalg.lstsq(A, B, **kw)[:2], _np_lstsq,
           _lstsq_samples,
           torch=lambda torch, A, B, **kw: torch.linalg.lstsq(A, B, **kw)[:2]),
    OpSpec("svd_lowrank", lambda A, q: _reconstruction(*bp.svd_lowrank(A, q)),
           lambda A, q: (A, np.linalg.svd(A, compute_uv=False)[..., :q]), _low_rank_samples,
           gradgrad=False, float32=True,
           torch=lambda torch, A, q: _reconstruction(*torch.svd_lowrank(A, q))),
    OpSpec("pca_lowrank", lambda A, q: _reconstruction(*bp.pca_lowrank(A, q)),
           lambda A, q: _np_pca(A, q), _pca_samples, gradgrad=False,
           torch=lambda torch, A, q: _reconstruction(*torch.pca_lowrank(A, q))),
    OpSpec("linalg.vector_norm", bp.linalg.vector_norm, _np_vector_norm,
           _norm_samples(((2, 3), {}), ((2, 3), {"ord": 3.5, "dim": 1}),
                         ((2, 3), {"ord": 1, "dim": (0, 1), "keepdim": True}),
                         ((3,), {"ord": -math.inf})),
           kinks=True, torch=lambda torch, x, **kw: torch.linalg.vector_norm(x, **kw)),
    OpSpec("linalg.matrix_norm", bp.linalg.matrix_norm, _np_matrix_norm,
           _norm_samples(((3, 2), {}), ((3, 2), {"ord": "nuc"}), ((2, 3, 2), {"ord": 2}),
                         ((3, 3), {"ord": -2, "keepdim": True}), ((3, 2), {"ord": 1}),
                         ((2, 3, 2), {"ord": -math.inf, "dim": (0, 2)})),
           kinks=True, torch=lambda torch, A, **kw: torch.linalg.matrix_norm(A, **kw)),
    OpSpec("linalg.norm", bp.linalg.norm, _np_linalg_norm,
           _norm_samples(((2, 3), {}), ((2, 3), {"ord": "nuc"}), ((3,), {"ord": 1}),
                         ((2, 3, 2), {"ord": 2, "dim": (0, 2), "keepdim": True})),
           kinks=True, torch=lambda torch, A, **kw: torch.linalg.norm(A, **kw)),
]
