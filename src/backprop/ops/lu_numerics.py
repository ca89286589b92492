"""Array kernels behind ``ops/linalg_solve.py`` that NumPy lacks: LU with partial pivoting (as
LAPACK's getrf), pivots to permutations, the matrix exponential, Bunch-Kaufman LDL^T (as
LAPACK's sytrf) and the solve that uses it. They take and return NumPy arrays, batched over the
leading dims; the differentiable ops that call them live in ``linalg_solve.py``.

>>> import numpy as np
>>> lu, pivots, info = lu_factor_arrays(np.array([[1., 2.], [3., 4.]]))
>>> pivots.tolist(), info.tolist()
([2, 2], 0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Columns factored one at a time before the rest of the matrix is updated by one matmul: the
# panel loop is NumPy calls on thin slices, the update is BLAS (LAPACK's blocked getrf).
_LU_BLOCK = 32


def lu_factor_arrays(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(LU, pivots, info)`` of ``a`` (..., m, n): ``P @ L @ U == a`` with L's unit diagonal
    implied, pivots 1-based int32 row swaps (LAPACK's ipiv; the row of the first largest
    magnitude in each column), info the 1-based index of the first zero pivot (0: none).

    >>> lu, pivots, info = lu_factor_arrays(np.array([[0., 1.], [2., 3.]]))
    >>> lu.tolist(), pivots.tolist()
    ([[2.0, 3.0], [0.0, 1.0]], [2, 2])
    """
    *batch, m, n = a.shape
    k = min(m, n)
    lu = np.array(a, dtype=a.dtype, copy=True).reshape(int(np.prod(batch)), m, n)
    count = lu.shape[0]
    pivots = np.zeros((count, k), dtype=np.int32)
    info = np.zeros(count, dtype=np.int32)
    rows = np.arange(count)
    for start in range(0, k, _LU_BLOCK):
        stop = min(start + _LU_BLOCK, k)
        for j in range(start, stop):
            p = np.argmax(np.abs(lu[:, j:, j]), axis=1) + j
            pivots[:, j] = p + 1
            swap = p != j
            if swap.any():
                # The whole row swaps, as LAPACK's laswp applies each panel's swaps everywhere.
                row_j = lu[rows, j].copy()
                lu[rows, j] = lu[rows, p]
                lu[rows, p] = row_j
            pivot = lu[:, j, j]
            zero = pivot == 0
            info[zero & (info == 0)] = j + 1
            # LAPACK multiplies by the reciprocal; a zero column is left as it is.
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                scale = np.where(zero, 1, 1 / np.where(zero, 1, pivot)).astype(lu.dtype)
            lu[:, j + 1:, j] *= scale[:, None]
            # Update the rest of this panel now; the columns right of it wait for one matmul.
            if j + 1 < stop:
                lu[:, j + 1:, j + 1:stop] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:stop]
        if stop < n:
            # U's rows of the panel: solve with the panel's unit lower triangle, then update.
            l11 = np.tril(lu[:, start:stop, start:stop], -1) + np.eye(stop - start, dtype=lu.dtype)
            lu[:, start:stop, stop:] = _unit_lower_solve(l11, lu[:, start:stop, stop:])
            if stop < m:
                lu[:, stop:, stop:] -= lu[:, stop:, start:stop] @ lu[:, start:stop, stop:]
    return (lu.reshape(*batch, m, n), pivots.reshape(*batch, k),
            info.reshape(batch) if batch else info.reshape(()))


def _unit_lower_solve(l: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``l^-1 b`` for unit lower triangular ``l`` by forward substitution (row by row)."""
    x = b.copy()
    for i in range(1, l.shape[-1]):
        x[:, i] -= np.einsum("bk,bkn->bn", l[:, i, :i], x[:, :i])
    return x


def permutation_from_pivots(pivots: np.ndarray, m: int) -> np.ndarray:
    """The row order ``perm`` (..., m) that LAPACK's sequential swaps make: ``(P^T A)[i] ==
    A[perm[i]]``, where ``A = P L U``.

    >>> permutation_from_pivots(np.array([2, 2], dtype=np.int32), 2).tolist()
    [1, 0]
    """
    *batch, k = pivots.shape
    flat = pivots.reshape(int(np.prod(batch)), k).astype(np.int64) - 1
    perm = np.broadcast_to(np.arange(m), (flat.shape[0], m)).copy()
    rows = np.arange(flat.shape[0])
    for i in range(k):
        target = flat[:, i]
        if np.any(target < 0) or np.any(target >= m):
            raise ValueError(f"pivots must be in [1, {m}] (LAPACK's 1-based row swaps), got "
                             f"{int(target.min()) + 1} to {int(target.max()) + 1}")
        at_i = perm[:, i].copy()
        perm[:, i] = perm[rows, target]
        perm[rows, target] = at_i
    return perm.reshape(*batch, m)


# Padé approximants of degree 3, 5, 7, 9 and 13 to exp (Higham, "The scaling and squaring method
# for the matrix exponential revisited", 2005): their coefficients and the 1-norm below which
# each is accurate to double precision without scaling.
_PADE = {
    3: (120., 60., 12., 1.),
    5: (30240., 15120., 3360., 420., 30., 1.),
    7: (17297280., 8648640., 1995840., 277200., 25200., 1512., 56., 1.),
    9: (17643225600., 8821612800., 2075673600., 302702400., 30270240., 2162160., 110880.,
        3960., 90., 1.),
    13: (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
         129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
         40840800., 960960., 16380., 182., 1.),
}
_THETA = {3: 1.495585217958292e-2, 5: 2.539398330063230e-1, 7: 9.504178996162932e-1,
          9: 2.097847961257068, 13: 5.371920351148152}


def matrix_exp_array(a: np.ndarray) -> np.ndarray:
    """``exp(a)`` of each square matrix in ``a`` (..., n, n) by scaling and squaring of a Padé
    approximant, computed in float64 (float32 results are rounded once, at the end).

    >>> matrix_exp_array(np.zeros((2, 2))).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    *batch, n, _ = a.shape
    x = a.astype(np.float64).reshape(-1, n, n)
    out = np.empty_like(x)
    if x.size:
        norm = np.abs(x).sum(axis=-2).max(axis=-1)  # the 1-norm of each matrix
        done = np.zeros(norm.shape, dtype=bool)
        for degree in (3, 5, 7, 9):
            chosen = ~done & (norm <= _THETA[degree])
            if chosen.any():
                out[chosen] = _pade(x[chosen], degree)
                done |= chosen
        if not done.all():  # larger norms, NaN and inf
            out[~done] = _scaled_pade13(x[~done], norm[~done])
    return out.reshape(*batch, n, n).astype(a.dtype, copy=False)


def _pade(x: np.ndarray, degree: int) -> np.ndarray:
    b = _PADE[degree]
    eye = np.eye(x.shape[-1])
    x2 = x @ x
    powers = [eye, x2]
    for _ in range(2, degree // 2 + 1):
        powers.append(powers[-1] @ x2)
    u = x @ sum(b[2 * i + 1] * powers[i] for i in range(degree // 2 + 1))
    v = sum(b[2 * i] * powers[i] for i in range(degree // 2 + 1))
    return np.linalg.solve(v - u, v + u)


def _scaled_pade13(x: np.ndarray, norm: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(np.isfinite(norm) & (norm > _THETA[13]),
                     np.ceil(np.log2(norm / _THETA[13])), 0)
    s = np.nan_to_num(s, nan=0.0).astype(np.int64)
    x = x / (2.0 ** s)[:, None, None]
    b = _PADE[13]
    eye = np.eye(x.shape[-1])
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    u = x @ (x6 @ (b[13] * x6 + b[11] * x4 + b[9] * x2)
             + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * eye)
    v = x6 @ (b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4 + b[2] * x2 \
        + b[0] * eye
    with np.errstate(all="ignore"):
        try:
            r = np.linalg.solve(v - u, v + u)
        except np.linalg.LinAlgError:  # NaN or inf entries: NaN throughout, as PyTorch's
            return np.full_like(x, np.nan)
        for step in range(int(s.max(initial=0))):
            more = s > step
            r[more] = r[more] @ r[more]
    return r


def triangular_solve_array(a: np.ndarray, b: np.ndarray, upper: bool,
                           unitriangular: bool) -> np.ndarray:
    """``T^-1 b`` for the upper or lower triangle ``T`` of ``a`` (its diagonal taken as ones
    where ``unitriangular``); batch dims broadcast. A zero on the diagonal gives inf and NaN, as
    LAPACK's trsm, rather than an error.

    >>> triangular_solve_array(np.array([[2., 1.], [0., 4.]]), np.array([[3.], [4.]]), True,
    ...                        False).tolist()
    [[1.0], [1.0]]
    """
    t = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        t = t.copy()
        diagonal = np.einsum("...ii->...i", t)
        diagonal[...] = 1
    if not upper:
        # A lower system read backwards is an upper one; LAPACK's LU solve of an upper
        # triangular matrix swaps no rows and is back substitution, as trsm.
        t = t[..., ::-1, ::-1]
        b = b[..., ::-1, :]
    batch = np.broadcast_shapes(t.shape[:-2], b.shape[:-2])
    t = np.broadcast_to(t, batch + t.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    if t.shape[-1] == 0 or b.shape[-1] == 0 or 0 in batch:
        x = np.zeros(b.shape, dtype=np.result_type(t, b))
    else:
        try:
            x = np.linalg.solve(t, b)
        except np.linalg.LinAlgError:  # a zero on the diagonal: substitute, as trsm does
            x = _back_substitution(t, b)
    return x[..., ::-1, :] if not upper else x


def _back_substitution(t: np.ndarray, b: np.ndarray) -> np.ndarray:
    x = np.array(b, dtype=np.result_type(t, b), copy=True)
    with np.errstate(all="ignore"):
        for i in range(t.shape[-1] - 1, -1, -1):
            x[..., i, :] /= t[..., i, i, None]
            x[..., :i, :] -= t[..., :i, i, None] * x[..., i, None, :]
    return x


def cholesky_arrays(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(L, info)``: the lower Cholesky factor of each matrix's lower triangle, and the order of
    the first leading minor that is not positive definite (0: none), as LAPACK's potrf; a
    failed matrix keeps the columns factored before the failure.

    >>> L, info = cholesky_arrays(np.array([[4., 2.], [2., 2.]]))
    >>> L.tolist(), info.tolist()
    ([[2.0, 0.0], [1.0, 1.0]], 0)
    """
    *batch, n, _ = a.shape
    info = np.zeros(tuple(batch), dtype=np.int32)
    try:
        return np.linalg.cholesky(a), info
    except np.linalg.LinAlgError:
        pass
    flat = np.tril(a).reshape(-1, n, n).copy()
    info = info.reshape(-1)
    with np.errstate(all="ignore"):
        for j in range(n):
            d = flat[:, j, j] - np.einsum("bk,bk->b", flat[:, j, :j], flat[:, j, :j])
            bad = ~(d > 0) & (info == 0)
            info[bad] = j + 1
            ok = info == 0
            root = np.sqrt(np.where(ok, d, 1))
            flat[ok, j, j] = root[ok]
            below = flat[:, j + 1:, j] - np.einsum("bik,bk->bi", flat[:, j + 1:, :j],
                                                   flat[:, j, :j])
            flat[ok, j + 1:, j] = (below / root[:, None])[ok]
    # A failed matrix: its columns from the failure on are left as the input's (as potrf).
    return flat.reshape(a.shape), info.reshape(tuple(batch))
