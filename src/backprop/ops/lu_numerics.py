"""Array kernels behind ``ops/linalg_inverse.py`` and ``ops/linalg_solve.py`` that NumPy lacks:
LU with partial pivoting (as LAPACK's getrf), pivots to permutations, triangular solves, the
matrix exponential, Bunch-Kaufman LDL^T (as LAPACK's sytrf) and the solve that uses it. They
take and return NumPy arrays, batched over the leading dims; the differentiable ops that call
them live in those two modules. CuPy has none of them (no getrf, sytrf, expm or batched
triangular solve), so each public kernel is wrapped in ``backend.on_host``: a device array is
copied to the host, factored there, and the results copied back.

Where NumPy's bundled OpenBLAS is found (``backends.lapack``), LU, triangular solves, Cholesky
and LDL^T call its LAPACK routines (getrf, trsm, potrf, sytrf, sytrs) instead, several times
faster; the NumPy code below stays for large batches of tiny matrices (``many_small``), for
failures whose partial results LAPACK does not give as PyTorch's, and where there is no library.

>>> import numpy as np
>>> lu, pivots, info = lu_factor_arrays(np.array([[1., 2.], [3., 4.]]))
>>> pivots.tolist(), info.tolist()
([2, 2], 0)
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..backends import lapack

# Columns factored one at a time before the rest of the matrix is updated by one matmul: the
# panel loop is NumPy calls on thin slices, the update is BLAS (LAPACK's blocked getrf).
_LU_BLOCK = 32


@backend.on_host
def lu_factor_arrays(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(LU, pivots, info)`` of ``a`` (..., m, n): ``P @ L @ U == a`` with L's unit diagonal
    implied, pivots 1-based int32 row swaps (LAPACK's ipiv; the row of the first largest
    magnitude in each column), info the 1-based index of the first zero pivot (0: none).

    >>> lu, pivots, info = lu_factor_arrays(np.array([[0., 1.], [2., 3.]]))
    >>> lu.tolist(), pivots.tolist()
    ([[2.0, 3.0], [0.0, 1.0]], [2, 2])
    """
    if not many_small(a) and (fast := lapack.getrf(a)) is not None:
        return fast
    *batch, m, n = a.shape
    k = min(m, n)
    lu = np.array(a, dtype=a.dtype, copy=True).reshape(int(np.prod(batch)), m, n)
    count = lu.shape[0]
    pivots = np.zeros((count, k), dtype=np.int32)
    info = np.zeros(count, dtype=np.int32)
    if count == 1:  # one matrix: scalar pivots, half the NumPy calls a column
        info[0] = _lu_single(lu[0], pivots[0])
        return (lu.reshape(*batch, m, n), pivots.reshape(*batch, k),
                info.reshape(batch) if batch else info.reshape(()))
    rows = np.arange(count)
    ones = np.ones(count, dtype=lu.dtype)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for start in range(0, k, _LU_BLOCK):
            stop = min(start + _LU_BLOCK, k)
            for j in range(start, stop):
                p = np.argmax(np.abs(lu[:, j:, j]), axis=1) + j
                pivots[:, j] = p + 1
                if (p != j).any():
                    # Whole rows swap, as LAPACK's laswp applies each panel's swaps everywhere.
                    row_j = lu[:, j].copy()
                    lu[:, j] = lu[rows, p]
                    lu[rows, p] = row_j
                pivot = lu[:, j, j]
                zero = pivot == 0
                if zero.any():
                    info[zero & (info == 0)] = j + 1
                # LAPACK multiplies by the reciprocal; a zero column is left as it is.
                scale = np.divide(1, pivot, out=ones.copy(), where=~zero)
                lu[:, j + 1:, j] *= scale[:, None]
                # The rest of this panel now; the columns right of it wait for one matmul.
                if j + 1 < stop:
                    lu[:, j + 1:, j + 1:stop] -= (lu[:, j + 1:, j, None]
                                                  * lu[:, j, None, j + 1:stop])
            if stop < n:
                # U's rows of the panel: solve with its unit lower triangle, then update.
                l11 = np.tril(lu[:, start:stop, start:stop], -1) + np.eye(stop - start,
                                                                          dtype=lu.dtype)
                lu[:, start:stop, stop:] = _unit_lower_solve(l11, lu[:, start:stop, stop:])
                if stop < m:
                    lu[:, stop:, stop:] -= lu[:, stop:, start:stop] @ lu[:, start:stop, stop:]
    return (lu.reshape(*batch, m, n), pivots.reshape(*batch, k),
            info.reshape(batch) if batch else info.reshape(()))


def _lu_single(x: np.ndarray, pivots: np.ndarray) -> int:
    """``lu_factor_arrays`` of one (m, n) matrix in place, the same steps: returns info."""
    m, n = x.shape
    k = min(m, n)
    info = 0
    one = x.dtype.type(1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for start in range(0, k, _LU_BLOCK):
            stop = min(start + _LU_BLOCK, k)
            for j in range(start, stop):
                p = j + int(np.argmax(np.abs(x[j:, j])))
                pivots[j] = p + 1
                if p != j:
                    x[[j, p]] = x[[p, j]]
                pivot = x[j, j]
                if pivot != 0:
                    x[j + 1:, j] *= one / pivot
                elif info == 0:
                    info = j + 1
                if j + 1 < stop:
                    x[j + 1:, j + 1:stop] -= np.outer(x[j + 1:, j], x[j, j + 1:stop])
            if stop < n:
                l11 = np.tril(x[start:stop, start:stop], -1) + np.eye(stop - start,
                                                                      dtype=x.dtype)
                x[start:stop, stop:] = _unit_lower_solve(l11[None], x[None, start:stop, stop:])[0]
                if stop < m:
                    x[stop:, stop:] -= x[stop:, start:stop] @ x[start:stop, stop:]
    return info


@backend.on_host
def solve_arrays(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(a^-1 b, info)`` by ``lu_factor_arrays`` and two triangular solves (batch dims
    broadcast): a singular matrix's solution is inf/NaN and its info the zero pivot's index.

    >>> x, info = solve_arrays(np.array([[2., 0.], [0., 4.]]), np.array([[2.], [2.]]))
    >>> x.tolist(), info.tolist()
    ([[1.0], [0.5]], 0)
    """
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    lu, pivots, info = lu_factor_arrays(a)
    perm = permutation_from_pivots(pivots, a.shape[-1])
    y = triangular_solve_array(lu, np.take_along_axis(b, perm[..., None], axis=-2), False, True)
    return triangular_solve_array(lu, y, True, False), info


def many_small(a: np.ndarray) -> bool:
    """Whether ``a`` is a large batch of small matrices: LAPACK calls (NumPy's or
    ``backends.lapack``'s) cost microseconds a matrix there, which the batch-vectorized LU and
    solves here beat several times."""
    return a.shape[-1] <= 16 and a.size >= 32 * a.shape[-1] ** 2


def _unit_lower_solve(l: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``l^-1 b`` for unit lower triangular ``l`` by forward substitution (row by row)."""
    x = b.copy()
    for i in range(1, l.shape[-1]):
        x[:, i] -= np.einsum("bk,bkn->bn", l[:, i, :i], x[:, :i])
    return x


# Below this many matrices the swaps run matrix by matrix on Python lists, from it on one NumPy
# step per pivot over the whole batch.
_PERMUTATION_BATCH = 32


@backend.on_host
def permutation_from_pivots(pivots: np.ndarray, m: int) -> np.ndarray:
    """The row order ``perm`` (..., m) that LAPACK's sequential swaps make: ``(P^T A)[i] ==
    A[perm[i]]``, where ``A = P L U``.

    >>> permutation_from_pivots(np.array([2, 2], dtype=np.int32), 2).tolist()
    [1, 0]
    """
    *batch, k = pivots.shape
    flat = pivots.reshape(int(np.prod(batch)), k).astype(np.int64) - 1
    if flat.size and (flat.min() < 0 or flat.max() >= m):
        raise ValueError(f"pivots must be in [1, {m}] (LAPACK's 1-based row swaps), got "
                         f"{int(flat.min()) + 1} to {int(flat.max()) + 1}")
    if flat.shape[0] < _PERMUTATION_BATCH:
        # Python's list swaps cost ~0.1 us each, a NumPy step over the batch ~5 us.
        orders = []
        for swaps in flat.tolist():
            order = list(range(m))
            for i, target in enumerate(swaps):
                order[i], order[target] = order[target], order[i]
            orders.append(order)
        return np.array(orders, dtype=np.int64).reshape(*batch, m)
    perm = np.broadcast_to(np.arange(m), (flat.shape[0], m)).copy()
    rows = np.arange(flat.shape[0])
    for i in range(k):
        target = flat[:, i]
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


@backend.on_host
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


@backend.on_host
def triangular_solve_array(a: np.ndarray, b: np.ndarray, upper: bool,
                           unitriangular: bool) -> np.ndarray:
    """``T^-1 b`` for the upper or lower triangle ``T`` of ``a`` (its diagonal taken as ones
    where ``unitriangular``); batch dims broadcast. A zero on the diagonal gives inf and NaN, as
    LAPACK's trsm, rather than an error.

    >>> triangular_solve_array(np.array([[2., 1.], [0., 4.]]), np.array([[3.], [4.]]), True,
    ...                        False).tolist()
    [[1.0], [1.0]]
    """
    if not many_small(a) and (fast := lapack.trsm(a, b, upper, unitriangular)) is not None:
        return fast
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
    # Contiguous copies: BLAS's matmul takes no reversed (negative) strides, NumPy's fallback
    # for them is many times slower.
    t = np.ascontiguousarray(np.broadcast_to(t, batch + t.shape[-2:]))
    b = np.ascontiguousarray(np.broadcast_to(b, batch + b.shape[-2:]))
    if t.shape[-1] == 0 or b.shape[-1] == 0 or 0 in batch:
        x = np.zeros(b.shape, dtype=np.result_type(t, b))
    else:
        with np.errstate(all="ignore"):
            x = _upper_solve(t, b)
    return x[..., ::-1, :] if not upper else x


# Below this size a triangular system is solved directly; above, it is split in two halves
# joined by one matmul, so that large systems spend their time in BLAS.
_DIRECT = 16


def _upper_solve(t: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``t^-1 b`` for upper triangular ``t`` (its lower part zero)."""
    n = t.shape[-1]
    if n > _DIRECT:
        h = n // 2
        x2 = _upper_solve(t[..., h:, h:], b[..., h:, :])
        x1 = _upper_solve(t[..., :h, :h], b[..., :h, :] - t[..., :h, h:] @ x2)
        return np.concatenate([x1, x2], axis=-2)
    return _back_substitution(t, b)


def _back_substitution(t: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Column by column, vectorized over the batch: reference trsm's order of operations."""
    x = np.array(b, dtype=np.result_type(t, b), copy=True, order="C")
    columns = np.ascontiguousarray(np.swapaxes(t, -2, -1))  # t's columns, as rows
    for i in range(t.shape[-1] - 1, -1, -1):
        x[..., i, :] /= columns[..., i, i, None]
        x[..., :i, :] -= columns[..., i, :i, None] * x[..., i, None, :]
    return x


@backend.on_host
def cholesky_arrays(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(L, info)``: the lower Cholesky factor of each matrix's lower triangle, and the order of
    the first leading minor that is not positive definite (0: none), as LAPACK's potrf; a
    failed matrix keeps the columns factored before the failure.

    >>> L, info = cholesky_arrays(np.array([[4., 2.], [2., 2.]]))
    >>> L.tolist(), info.tolist()
    ([[2.0, 0.0], [1.0, 1.0]], 0)
    """
    if not many_small(a) and (fast := lapack.potrf(a)) is not None:
        return fast  # None where a matrix is not positive definite: the code below reports it
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
            flat[bad, j, j] = d[bad]  # potrf leaves the failed pivot's value there
            ok = info == 0
            root = np.sqrt(np.where(ok, d, 1))
            flat[ok, j, j] = root[ok]
            below = flat[:, j + 1:, j] - np.einsum("bik,bk->bi", flat[:, j + 1:, :j],
                                                   flat[:, j, :j])
            flat[ok, j + 1:, j] = (below / root[:, None])[ok]
    # A failed matrix: its columns from the failure on are left as the input's (as potrf).
    return flat.reshape(a.shape), info.reshape(tuple(batch))


# Bunch and Kaufman's threshold for a 1x1 pivot: it bounds the growth of the factors.
_BK_ALPHA = (1 + np.sqrt(17.0)) / 8


@backend.on_host
def ldl_factor_arrays(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(LD, pivots, info)`` of each symmetric matrix's lower triangle by Bunch-Kaufman
    pivoting, in LAPACK's sytrf layout (unblocked, uplo 'L'): L's unit diagonal implied, D's
    1x1 and 2x2 blocks on and just below the diagonal, the strict upper triangle zeroed;
    pivots 1-based, negative for a 2x2 block (on both of its rows). Each matrix pivots its own
    way, so the batch is a loop; the steps within a matrix are vectorized.

    >>> LD, pivots, info = ldl_factor_arrays(np.array([[0., 1.], [1., 0.]]))
    >>> pivots.tolist()
    [-2, -2]
    """
    if not many_small(a) and (fast := lapack.sytrf(a)) is not None:
        return fast
    *batch, n, _ = a.shape
    flat = np.tril(a).reshape(int(np.prod(batch)), n, n).copy()
    pivots = np.zeros(flat.shape[:2], dtype=np.int32)
    info = np.zeros(flat.shape[0], dtype=np.int32)
    if flat.shape[0] >= _LDL_BATCHED and n:
        flat, pivots, info = _sytf2_batched(flat)
    else:
        for b in range(flat.shape[0]):
            info[b] = _sytf2_lower(flat[b], pivots[b])
    flat = np.tril(flat)
    return (flat.reshape(a.shape), pivots.reshape(*batch, n),
            info.reshape(tuple(batch)))


# From this many matrices on, all steps run at once over the batch (each matrix at its own
# column): one step costs whole-matrix work per matrix, which a batch amortizes.
_LDL_BATCHED = 8


def _sytf2_batched(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_sytf2_lower`` on every matrix of ``a`` (count, n, n) at once, the same values to the
    bit. Each matrix is kept full and symmetric (its upper triangle mirrors the lower one that
    LAPACK computes), so that each step is a masked whole-matrix operation: a symmetric
    interchange of the trailing block, a rank-1 or rank-2 update mirrored from its lower half.
    """
    count, n, _ = a.shape
    x = np.tril(a) + np.swapaxes(np.tril(a, -1), -2, -1)
    pivots = np.zeros((count, n), dtype=np.int32)
    info = np.zeros(count, dtype=np.int32)
    k = np.zeros(count, dtype=np.int64)
    idx = np.arange(n)
    lower = idx[:, None] >= idx[None, :]
    with np.errstate(all="ignore"):
        while True:
            sel = np.flatnonzero(k < n)
            if not sel.size:
                break
            X, kk = x[sel], k[sel]
            s = np.arange(sel.size)
            absakk = np.abs(X[s, kk, kk])
            column = np.abs(X[s, :, kk])
            imax = np.argmax(np.where(idx > kk[:, None], column, -1), axis=1)
            colmax = np.where(kk < n - 1, column[s, imax], 0)
            zero = (np.maximum(absakk, colmax) == 0) | np.isnan(absakk)
            row = np.abs(X[s, imax, :])
            rowmax = np.where((idx >= kk[:, None]) & (idx != imax[:, None]), row, -1).max(axis=1)
            keep = absakk >= _BK_ALPHA * colmax
            keep |= absakk >= _BK_ALPHA * colmax * (colmax / rowmax)
            swap1 = np.abs(X[s, imax, imax]) >= _BK_ALPHA * rowmax
            kstep = np.where(zero | keep | swap1, 1, 2)
            kp = np.where(zero | keep, kk, imax)
            info_now = zero & (info[sel] == 0)
            info[sel[info_now]] = kk[info_now] + 1
            # The interchange: rows and columns kk + kstep - 1 and kp of the trailing block.
            target = kk + kstep - 1
            perm = np.broadcast_to(idx, (sel.size, n)).copy()
            perm[s, target] = kp
            perm[s, kp] = target
            trailing = (idx[None, :, None] >= kk[:, None, None]) & (
                idx[None, None, :] >= kk[:, None, None])
            X = np.where(trailing, X[s[:, None, None], perm[:, :, None], perm[:, None, :]], X)
            one = (kstep == 1) & ~zero
            if one.any():
                X = _ldl_rank1(X, kk, one, idx, lower)
            two = (kstep == 2) & (kk < n - 2)
            if two.any():
                X = _ldl_rank2(X, kk, two, idx, lower)
            pivots[sel, kk] = np.where(kstep == 1, kp + 1, -(kp + 1))
            double = np.flatnonzero(kstep == 2)
            pivots[sel[double], kk[double] + 1] = -(kp[double] + 1)
            x[sel] = X
            k[sel] = kk + kstep
    return x, pivots, info


def _mirrored(new: np.ndarray, old: np.ndarray, where: np.ndarray,
              lower: np.ndarray) -> np.ndarray:
    """``old`` with ``new``'s lower triangle where ``where`` (count, n, n), mirrored above."""
    low = np.where(where & lower, new, old)
    return np.where(where & ~lower, np.swapaxes(low, -2, -1), low)


def _ldl_rank1(X: np.ndarray, kk: np.ndarray, on: np.ndarray, idx: np.ndarray,
               lower: np.ndarray) -> np.ndarray:
    s = np.arange(X.shape[0])
    r1 = 1 / np.where(on, X[s, kk, kk], 1)
    below = (idx[None, :] > kk[:, None]) & on[:, None]
    col = np.where(below, X[s, :, kk], 0)
    updated = X + col[:, :, None] * (-r1[:, None] * col)[:, None, :]
    block = below[:, :, None] & below[:, None, :]
    X = _mirrored(updated, X, block, lower)
    X[s, :, kk] = np.where(below, col * r1[:, None], X[s, :, kk])
    return X


def _ldl_rank2(X: np.ndarray, kk: np.ndarray, on: np.ndarray, idx: np.ndarray,
               lower: np.ndarray) -> np.ndarray:
    s = np.arange(X.shape[0])
    k1 = np.minimum(kk + 1, X.shape[-1] - 1)
    d21 = np.where(on, X[s, k1, kk], 1)
    d11 = X[s, k1, k1] / d21
    d22 = X[s, kk, kk] / d21
    t = 1 / (d11 * d22 - 1)
    d21 = t / d21
    below = (idx[None, :] > k1[:, None]) & on[:, None]
    a = np.where(below, X[s, :, kk], 0)
    b = np.where(below, X[s, :, k1], 0)
    wk = d21[:, None] * (d11[:, None] * a - b)
    wkp1 = d21[:, None] * (d22[:, None] * b - a)
    updated = (X - a[:, :, None] * wk[:, None, :]) - b[:, :, None] * wkp1[:, None, :]
    block = below[:, :, None] & below[:, None, :]
    X = _mirrored(updated, X, block, lower)
    X[s, :, kk] = np.where(below, wk, X[s, :, kk])
    X[s, :, k1] = np.where(below, wkp1, X[s, :, k1])
    return X


def _sytf2_lower(A: np.ndarray, ipiv: np.ndarray) -> int:
    n = A.shape[0]
    info = 0
    k = 0
    with np.errstate(all="ignore"):
        while k < n:
            kstep = 1
            absakk = abs(A[k, k])
            if k < n - 1:
                imax = k + 1 + int(np.argmax(np.abs(A[k + 1:, k])))
                colmax = abs(A[imax, k])
            else:
                imax, colmax = k, 0.0
            if max(absakk, colmax) == 0 or np.isnan(absakk):
                info = info or k + 1  # a zero column: D(k) is exactly zero
                kp = k
            else:
                if absakk >= _BK_ALPHA * colmax:
                    kp = k
                else:
                    rowmax = np.abs(A[imax, k:imax]).max()
                    if imax < n - 1:
                        rowmax = max(rowmax, np.abs(A[imax + 1:, imax]).max())
                    if absakk >= _BK_ALPHA * colmax * (colmax / rowmax):
                        kp = k
                    elif abs(A[imax, imax]) >= _BK_ALPHA * rowmax:
                        kp = imax
                    else:
                        kp, kstep = imax, 2
                kk = k + kstep - 1
                if kp != kk:  # swap rows and columns kk and kp of the trailing lower triangle
                    if kp < n - 1:
                        A[kp + 1:, [kk, kp]] = A[kp + 1:, [kp, kk]]
                    seg = A[kk + 1:kp, kk].copy()
                    A[kk + 1:kp, kk] = A[kp, kk + 1:kp]
                    A[kp, kk + 1:kp] = seg
                    A[kk, kk], A[kp, kp] = A[kp, kp], A[kk, kk]
                    if kstep == 2:
                        A[k + 1, k], A[kp, k] = A[kp, k], A[k + 1, k]
                if kstep == 1:
                    if k < n - 1:
                        r1 = 1 / A[k, k]
                        x = A[k + 1:, k]
                        # The whole trailing square is updated (its upper triangle is never
                        # read, and is zeroed at the end): cheaper than masking each step.
                        A[k + 1:, k + 1:] += x[:, None] * (-r1 * x)[None, :]
                        A[k + 1:, k] *= r1
                elif k < n - 2:
                    d21 = A[k + 1, k]
                    d11 = A[k + 1, k + 1] / d21
                    d22 = A[k, k] / d21
                    t = 1 / (d11 * d22 - 1)
                    d21 = t / d21
                    wk = d21 * (d11 * A[k + 2:, k] - A[k + 2:, k + 1])
                    wkp1 = d21 * (d22 * A[k + 2:, k + 1] - A[k + 2:, k])
                    # (A - a wk) - b wkp1: sytf2's order of the two subtractions
                    A[k + 2:, k + 2:] -= A[k + 2:, k, None] * wk[None, :]
                    A[k + 2:, k + 2:] -= A[k + 2:, k + 1, None] * wkp1[None, :]
                    A[k + 2:, k] = wk
                    A[k + 2:, k + 1] = wkp1
            if kstep == 1:
                ipiv[k] = kp + 1
            else:
                ipiv[k] = ipiv[k + 1] = -(kp + 1)
            k += kstep
    return info


@backend.on_host
def ldl_solve_arrays(ld: np.ndarray, pivots: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``A^-1 b`` from ``ldl_factor_arrays``'s factors of A (LAPACK's sytrs, uplo 'L'); batch
    dims broadcast.

    >>> LD, pivots, _ = ldl_factor_arrays(np.array([[0., 1.], [1., 0.]]))
    >>> ldl_solve_arrays(LD, pivots, np.array([[1.], [2.]])).tolist()
    [[2.0], [1.0]]
    """
    if not many_small(ld) and (fast := lapack.sytrs(ld, pivots, b)) is not None:
        return fast
    batch = np.broadcast_shapes(ld.shape[:-2], pivots.shape[:-1], b.shape[:-2])
    n = ld.shape[-1]
    count = int(np.prod(batch))
    lds = np.broadcast_to(ld, batch + ld.shape[-2:]).reshape(count, n, n)
    pivs = np.broadcast_to(pivots, batch + pivots.shape[-1:]).reshape(count, n)
    x = np.array(np.broadcast_to(b, batch + b.shape[-2:]), dtype=np.result_type(ld, b))
    x = x.reshape(count, n, b.shape[-1])
    with np.errstate(all="ignore"):
        if count >= _LDL_BATCHED:
            _sytrs_batched(lds, pivs, x)
        else:
            for i in range(count):
                _sytrs_lower(lds[i], pivs[i], x[i])
    return x.reshape(batch + b.shape[-2:])


def _swap_rows(X: np.ndarray, s: np.ndarray, i: np.ndarray, j: np.ndarray) -> None:
    row = X[s, i].copy()
    X[s, i] = X[s, j]
    X[s, j] = row


def _sytrs_batched(A: np.ndarray, ipiv: np.ndarray, B: np.ndarray) -> None:
    """``_sytrs_lower`` on every matrix at once, each at its own row (B in place)."""
    n = A.shape[-1]
    idx = np.arange(n)
    k = np.zeros(A.shape[0], dtype=np.int64)
    while (k < n).any():  # L D Y = P^T B
        sel = np.flatnonzero(k < n)
        kk, X, s = k[sel], B[sel], np.arange(sel.size)
        p = ipiv[sel, kk]
        one = p > 0
        k1 = np.minimum(kk + 1, n - 1)
        _swap_rows(X, s, np.where(one, kk, k1), np.where(one, p - 1, -p - 1))
        col, col1 = A[sel, :, kk], A[sel, :, k1]
        below = idx[None, :] > np.where(one, kk, k1)[:, None]
        X -= np.where(below[:, :, None], col[:, :, None] * X[s, kk][:, None, :], 0)
        two = ~one
        X -= np.where((below & two[:, None])[:, :, None], col1[:, :, None] * X[s, k1][:, None, :],
                      0)
        diagonal = A[sel, kk, kk]
        X[s, kk] = np.where(one[:, None], X[s, kk] * (1 / diagonal)[:, None], X[s, kk])
        akm1k = A[sel, k1, kk]
        akm1 = diagonal / akm1k
        ak = A[sel, k1, k1] / akm1k
        denom = (akm1 * ak - 1)[:, None]
        bkm1 = X[s, kk] / akm1k[:, None]
        bk = X[s, k1] / akm1k[:, None]
        X[s, kk] = np.where(two[:, None], (ak[:, None] * bkm1 - bk) / denom, X[s, kk])
        X[s, k1] = np.where(two[:, None], (akm1[:, None] * bk - bkm1) / denom, X[s, k1])
        B[sel] = X
        k[sel] = kk + np.where(one, 1, 2)
    k = np.full(A.shape[0], n - 1, dtype=np.int64)
    while (k >= 0).any():  # L^T P^T X = Y
        sel = np.flatnonzero(k >= 0)
        kk, X, s = k[sel], B[sel], np.arange(sel.size)
        p = ipiv[sel, kk]
        one = p > 0
        km1 = np.maximum(kk - 1, 0)
        below = idx[None, :] > kk[:, None]
        tail = np.where(below[:, :, None], X, 0)
        X[s, kk] -= np.einsum("si,sij->sj", np.where(below, A[sel, :, kk], 0), tail)
        X[s, km1] -= np.where((~one)[:, None], np.einsum(
            "si,sij->sj", np.where(below, A[sel, :, km1], 0), tail), 0)
        _swap_rows(X, s, kk, np.where(one, p - 1, -p - 1))
        B[sel] = X
        k[sel] = kk - np.where(one, 1, 2)


def _sytrs_lower(A: np.ndarray, ipiv: np.ndarray, B: np.ndarray) -> None:
    n = A.shape[0]
    k = 0
    while k < n:  # L D Y = P^T B
        if ipiv[k] > 0:
            kp = ipiv[k] - 1
            if kp != k:
                B[[k, kp]] = B[[kp, k]]
            B[k + 1:] -= A[k + 1:, k, None] * B[k]
            B[k] *= 1 / A[k, k]
            k += 1
        else:
            kp = -ipiv[k] - 1
            if kp != k + 1:
                B[[k + 1, kp]] = B[[kp, k + 1]]
            if k < n - 2:
                B[k + 2:] -= A[k + 2:, k, None] * B[k]
                B[k + 2:] -= A[k + 2:, k + 1, None] * B[k + 1]
            akm1k = A[k + 1, k]
            akm1 = A[k, k] / akm1k
            ak = A[k + 1, k + 1] / akm1k
            denom = akm1 * ak - 1
            bkm1 = B[k] / akm1k
            bk = B[k + 1] / akm1k
            B[k] = (ak * bkm1 - bk) / denom
            B[k + 1] = (akm1 * bk - bkm1) / denom
            k += 2
    k = n - 1
    while k >= 0:  # L^T P^T X = Y
        if ipiv[k] > 0:
            if k < n - 1:
                B[k] -= A[k + 1:, k] @ B[k + 1:]
            kp = ipiv[k] - 1
            if kp != k:
                B[[k, kp]] = B[[kp, k]]
            k -= 1
        else:
            if k < n - 1:
                B[k] -= A[k + 1:, k] @ B[k + 1:]
                B[k - 1] -= A[k + 1:, k - 1] @ B[k + 1:]
            kp = -ipiv[k] - 1
            if kp != k:
                B[[k, kp]] = B[[kp, k]]
            k -= 2
