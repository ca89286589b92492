"""Op-table rows for ``backprop.ops.linalg_solve``: inverses, determinants, solves, Cholesky,
LU, LDL, matrix powers and exponentials.

Inputs are kept well conditioned (a multiple of the identity added) so that finite differences
and float32 stay meaningful. Ops whose gradient assumes a symmetric input (Cholesky, as
PyTorch's) or reads one triangle are called on a symmetrized or masked input, the same on our
side and PyTorch's, so the finite-difference Jacobian is the true one.
"""

from __future__ import annotations

import numpy as np

import backprop as bp
from backprop.ops.lu_numerics import ldl_factor_arrays, ldl_solve_arrays

from .spec import ErrorInput, OpSpec, Sample, uniform

N = 3


def _matrix(rng, shape=(N, N), shift=3.0):
    """A random matrix plus ``shift`` times the identity: well away from singular."""
    return uniform(rng, shape, -1.0, 1.0) + shift * np.eye(shape[-1])


def _square_samples(rng):
    return [Sample((_matrix(rng),), name="3x3"), Sample((_matrix(rng, (2, N, N)),), name="batch"),
            Sample((_matrix(rng, (1, 1)),), name="1x1")]


def _many_small_samples(rng):
    # From 32 small matrices on, inverses and solves take the batch-vectorized LU (a path of
    # its own).
    return _square_samples(rng) + [Sample((_matrix(rng, (32, 2, 2)),), name="32-small")]


def _negative_det_samples(rng):
    flipped = _matrix(rng)[[1, 0, 2]]  # a row swap: a negative determinant
    return _square_samples(rng) + [Sample((flipped,), name="negative-det")]


def _solve_samples(rng):
    return [Sample((_matrix(rng), uniform(rng, (N, 2))), name="matrix"),
            Sample((_matrix(rng), uniform(rng, (N,))), name="vector"),
            Sample((_matrix(rng, (2, N, N)), uniform(rng, (N, 2))), name="broadcast"),
            Sample((_matrix(rng), uniform(rng, (2, N))), {"left": False}, name="right"),
            Sample((_matrix(rng, (32, 2, 2)), uniform(rng, (32, 2, 1))), name="32-small")]


def _triangular_samples(rng):
    a = _matrix(rng)
    return [Sample((a, uniform(rng, (N, 2))), {"upper": True}, name="upper"),
            Sample((a, uniform(rng, (2, N, 2))), {"upper": False}, name="lower-batch"),
            Sample((a, uniform(rng, (2, N))), {"upper": True, "left": False}, name="right"),
            Sample((a, uniform(rng, (N, 1))), {"upper": False, "unitriangular": True},
                   name="unit")]


def _old_triangular_samples(rng):
    a = _matrix(rng)
    b = uniform(rng, (N, 2))
    return [Sample((b, a), name="upper"), Sample((b, a, False), name="lower"),
            Sample((b, a, True, True), name="transpose"),
            Sample((b, a, False, False, True), name="unit")]


def _upper_samples(rng):
    # Positive definite already (the method test calls the op on them directly), and still
    # so after the rows' symmetrization.
    x = _matrix(rng)
    return [Sample((x,), name="lower"), Sample((x, True), name="upper"),
            Sample((_matrix(rng, (2, N, N)),), name="batch")]


def _factor_samples(rng):
    """Cholesky factors: any matrix, its triangle taken by the op."""
    return [Sample((_matrix(rng, shift=2.0),), name="lower"),
            Sample((_matrix(rng, shift=2.0), True), name="upper"),
            Sample((_matrix(rng, (2, N, N), shift=2.0),), name="batch")]


def _cholesky_solve_samples(rng):
    return [Sample((uniform(rng, (N, 2)), _matrix(rng, shift=2.0)), name="lower"),
            Sample((uniform(rng, (N, 2)), _matrix(rng, shift=2.0), True), name="upper"),
            Sample((uniform(rng, (2, N, 1)), _matrix(rng, shift=2.0)), name="broadcast")]


def _rectangular_samples(rng):
    return [Sample((uniform(rng, (N, N)),), name="3x3"),
            Sample((uniform(rng, (2, 4, N)),), name="tall-batch"),
            Sample((uniform(rng, (2, 4)),), name="wide")]


def _lu_solve_samples(rng):
    a = _matrix(rng, shift=1.0)
    LU, pivots = _np_lu(a)
    b = uniform(rng, (N, 2))
    return [Sample((LU, pivots, b), name="left"),
            Sample((LU, pivots, b), {"adjoint": True}, name="adjoint"),
            Sample((LU, pivots, uniform(rng, (2, N))), {"left": False}, name="right"),
            Sample((LU, pivots, uniform(rng, (2, N))), {"left": False, "adjoint": True},
                   name="right-adjoint")]


def _old_lu_solve_samples(rng):
    LU, pivots = _np_lu(_matrix(rng, (2, N, N), shift=1.0))
    return [Sample((uniform(rng, (2, N, 2)), LU, pivots), name="batch")]


def _lu_unpack_samples(rng):
    samples = []
    for shape in ((N, N), (2, 4, N), (N, 4)):
        LU, pivots = _np_lu(uniform(rng, shape))
        samples.append(Sample((LU, pivots), name="x".join(map(str, shape))))
    return samples


def _symmetric(rng, shape):
    x = uniform(rng, shape)
    return x + np.swapaxes(x, -2, -1)


def _ldl_samples(rng):
    # Eight matrices or more are factored all at once (a path of its own); a zero diagonal
    # forces 2x2 pivots.
    hollow = _symmetric(rng, (8, 4, 4)) * (1 - np.eye(4))
    return [Sample((_symmetric(rng, (4, 4)),), name="4x4"),
            Sample((_symmetric(rng, (2, N, N)),), name="batch"),
            Sample((hollow,), name="batch-of-8-2x2-pivots")]


def _ldl_solve_samples(rng):
    LD, pivots, _ = ldl_factor_arrays(_symmetric(rng, (2, 4, 4)) + 0.5 * np.eye(4))
    LD8, pivots8, _ = ldl_factor_arrays(_symmetric(rng, (8, N, N)) * (1 - np.eye(N)))
    return [Sample((LD, pivots, uniform(rng, (2, 4, 2))), grad_args=(2,), name="batch"),
            Sample((LD[0], pivots[0], uniform(rng, (4, 1))), grad_args=(2,), name="single"),
            Sample((LD8, pivots8, uniform(rng, (8, N, 2))), grad_args=(2,),
                   name="batch-of-8")]


def _per_matrix(kernel, *arrays):
    """``kernel`` on one matrix at a time (its plain path), the results stacked."""
    results = [kernel(*(a[i] for a in arrays)) for i in range(arrays[0].shape[0])]
    if not isinstance(results[0], tuple):
        return np.stack(results)
    return tuple(np.stack(parts) for parts in zip(*results))


def _np_ldl_factor(a):
    return _per_matrix(ldl_factor_arrays, a) if a.ndim == 3 else ldl_factor_arrays(a)


def _np_ldl_solve(LD, pivots, b):
    if LD.ndim == 3:
        return _per_matrix(ldl_solve_arrays, LD, pivots, b)
    return ldl_solve_arrays(LD, pivots, b)


def _power_samples(rng):
    a = _matrix(rng, shift=1.5) / 2
    return [Sample((a, n), name=f"n={n}") for n in (0, 1, 2, 3, 6, -1, -3)] + [
        Sample((_matrix(rng, (2, N, N), shift=1.5) / 2, 5), name="batch")]


def _exp_samples(rng):
    return [Sample((uniform(rng, (N, N), -1.0, 1.0),), name="3x3"),
            Sample((uniform(rng, (2, N, N), -0.1, 0.1),), name="small-batch"),
            Sample((uniform(rng, (N, N), -3.0, 3.0),), name="scaled")]


def _tensorinv_samples(rng):
    return [Sample((_matrix(rng, (6, 6)).reshape(2, 3, 6),), {"ind": 2}, name="ind2"),
            Sample((_matrix(rng, (4, 4)).reshape(4, 2, 2),), {"ind": 1}, name="ind1")]


def _tensorsolve_samples(rng):
    a = _matrix(rng, (6, 6)).reshape(2, 3, 6)
    moved = np.ascontiguousarray(np.moveaxis(a, 2, 0))  # dims=(0,) moves it back
    return [Sample((a, uniform(rng, (2, 3))), name="plain"),
            Sample((moved, uniform(rng, (2, 3))), {"dims": (0,)}, name="dims")]


def _multi_dot_samples(rng):
    return [Sample((uniform(rng, (2, 3)), uniform(rng, (3, 4)), uniform(rng, (4, 2))), name="3"),
            Sample((uniform(rng, (3,)), uniform(rng, (3, 4)), uniform(rng, (4, 5)),
                    uniform(rng, (5,))), name="vectors"),
            Sample((uniform(rng, (5, 2)), uniform(rng, (2, 4)), uniform(rng, (4, 1)),
                    uniform(rng, (1, 3))), name="chain")]


# -- NumPy references --------------------------------------------------------------------------

def _np_lu(a):
    """LU with partial pivoting, one matrix at a time (LAPACK's getf2, plainly)."""
    a = np.array(a, dtype=np.float64)
    *batch, m, n = a.shape
    k = min(m, n)
    flat = a.reshape(-1, m, n)
    pivots = np.zeros((flat.shape[0], k), dtype=np.int32)
    for b in range(flat.shape[0]):
        x = flat[b]
        for j in range(k):
            p = j + int(np.argmax(np.abs(x[j:, j])))
            pivots[b, j] = p + 1
            x[[j, p]] = x[[p, j]]
            if x[j, j] != 0:
                x[j + 1:, j] *= 1 / x[j, j]
            x[j + 1:, j + 1:] -= np.outer(x[j + 1:, j], x[j, j + 1:])
    return flat.reshape(a.shape), pivots.reshape(*batch, k)


def _np_unpack(LU, pivots):
    m, n = LU.shape[-2:]
    k = min(m, n)
    L = np.tril(LU[..., :, :k], -1) + np.eye(m, k)
    U = np.triu(LU[..., :k, :])
    P = np.zeros(LU.shape[:-2] + (m, m))
    for index in np.ndindex(LU.shape[:-2]):
        perm = list(range(m))
        for i, p in enumerate(pivots[index]):
            perm[i], perm[p - 1] = perm[p - 1], perm[i]
        P[index][perm, range(m)] = 1
    return P, L, U


def _np_sym(x):
    return x + np.swapaxes(x, -2, -1) + 3 * N * np.eye(x.shape[-1])


def _np_tri(x, upper=False):
    return (np.triu(x) if upper else np.tril(x)) + 2 * np.eye(x.shape[-1])


def _np_gram(t, upper):
    """The matrix whose Cholesky factor is ``t``: ``t t^T`` (``t^T t`` if upper)."""
    return np.swapaxes(t, -2, -1) @ t if upper else t @ np.swapaxes(t, -2, -1)


def _np_cholesky(x, upper=False):
    L = np.linalg.cholesky(_np_sym(x))
    return np.swapaxes(L, -2, -1) if upper else L


def _np_solve(a, b, left=True):
    if b.ndim == 1:
        return np.linalg.solve(a, b[:, None])[:, 0] if left else np.linalg.solve(a.T, b)
    if not left:
        return np.swapaxes(np.linalg.solve(np.swapaxes(a, -2, -1), np.swapaxes(b, -2, -1)),
                           -2, -1)
    return np.linalg.solve(a, b)


def _np_triangle(a, upper, unitriangular=False):
    t = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        t = t - np.diag(np.diag(t)) + np.eye(a.shape[-1])
    return t


def _np_solve_triangular(a, b, upper, left=True, unitriangular=False):
    return _np_solve(_np_triangle(a, upper, unitriangular), b, left)


def _np_old_triangular(b, a, upper=True, transpose=False, unitriangular=False):
    t = _np_triangle(a, upper, unitriangular)
    return np.linalg.solve(t.T if transpose else t, b), a


def _np_lu_solve(LU, pivots, b, left=True, adjoint=False):
    P, L, U = _np_unpack(LU, pivots)
    a = P @ L @ U
    a = np.swapaxes(a, -2, -1) if adjoint else a
    return _np_solve(a, b, left)


def _np_expm(a):
    """Taylor series of exp(a / 2^s), squared s times."""
    s = max(0, int(np.ceil(np.log2(max(np.abs(a).sum(-2).max(), 1e-300) / 0.25))))
    x = a / 2.0 ** s
    term = np.broadcast_to(np.eye(a.shape[-1]), a.shape).copy()
    total = term.copy()
    for k in range(1, 30):
        term = term @ x / k
        total = total + term
    for _ in range(s):
        total = total @ total
    return total


def _np_power(a, n):
    if n < 0:
        a, n = np.linalg.inv(a), -n
    return np.linalg.matrix_power(a, n)


def _np_logdet(a):
    sign, logabsdet = np.linalg.slogdet(a)
    return np.where(sign < 0, np.nan, logabsdet)


def _np_multi_dot(*arrays):
    return np.linalg.multi_dot(list(arrays))


# -- ops, called alike on backprop (bp) and PyTorch (torch) -------------------------------------

def _sym(lib, x):
    return x + x.mT + 3 * N * lib.eye(x.shape[-1], dtype=x.dtype, device=x.device)


def _tri(lib, x, upper=False):
    eye = lib.eye(x.shape[-1], dtype=x.dtype, device=x.device)
    return (x.triu() if upper else x.tril()) + 2 * eye


def _cholesky_ex(lib, x, upper=False):
    return lib.linalg.cholesky_ex(_sym(lib, x), upper=upper)


_SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]], dtype=np.float32)

ROWS = [
    OpSpec("linalg.inv", bp.linalg.inv, np.linalg.inv, _many_small_samples,
           torch=lambda torch, a: torch.linalg.inv(a), aliases=("linalg_inv_ex",),
           error_inputs=lambda: [
               ErrorInput(lambda: bp.linalg.inv(bp.tensor(_SINGULAR)), RuntimeError,
                          r"linalg.inv: .*singular"),
               ErrorInput(lambda: bp.linalg.inv(bp.ones(2, 3)), ValueError,
                          r"linalg.inv: A must be batches of square matrices")]),
    OpSpec("inverse", bp.inverse, np.linalg.inv, _square_samples,
           torch=lambda torch, a: torch.inverse(a)),
    OpSpec("linalg.inv_ex", lambda a: bp.linalg.inv_ex(a),
           lambda a: (np.linalg.inv(a), np.zeros(a.shape[:-2], np.int32)), _square_samples,
           torch=lambda torch, a: torch.linalg.inv_ex(a)),
    OpSpec("det", bp.det, np.linalg.det, _negative_det_samples,
           torch=lambda torch, a: torch.det(a), aliases=("linalg_det", "linalg_cofactor"),
           error_inputs=lambda: [
               ErrorInput(lambda: bp.det(bp.ones(3)), ValueError,
                          r"linalg.det: A must have at least 2 dimensions"),
               ErrorInput(lambda: bp.det(bp.ones(2, 2, dtype=bp.int64)), TypeError,
                          r"linalg.det: A must be a float32 or float64 tensor")]),
    OpSpec("slogdet", bp.slogdet, lambda a: tuple(np.linalg.slogdet(a)), _negative_det_samples,
           torch=lambda torch, a: torch.slogdet(a), aliases=("linalg_slogdet",)),
    OpSpec("linalg.slogdet", bp.linalg.slogdet, lambda a: tuple(np.linalg.slogdet(a)),
           _negative_det_samples, torch=lambda torch, a: torch.linalg.slogdet(a)),
    OpSpec("logdet", bp.logdet, _np_logdet, _square_samples,
           torch=lambda torch, a: torch.logdet(a)),
    OpSpec("linalg.solve", bp.linalg.solve, _np_solve, _solve_samples,
           torch=lambda torch, a, b, **kw: torch.linalg.solve(a, b, **kw),
           aliases=("linalg_solve_ex",),
           error_inputs=lambda: [
               ErrorInput(lambda: bp.linalg.solve(bp.tensor(_SINGULAR), bp.ones(2)),
                          RuntimeError, r"linalg.solve: .*singular"),
               ErrorInput(lambda: bp.linalg.solve(bp.eye(3), bp.ones(2, 1)), ValueError,
                          r"linalg.solve: incompatible shapes")]),
    OpSpec("linalg.solve_ex", lambda a, b, **kw: bp.linalg.solve_ex(a, b, **kw),
           lambda a, b, left=True: (_np_solve(a, b, left), np.zeros(a.shape[:-2], np.int32)),
           _solve_samples, torch=lambda torch, a, b, **kw: torch.linalg.solve_ex(a, b, **kw)),
    OpSpec("linalg.solve_triangular", bp.linalg.solve_triangular, _np_solve_triangular,
           _triangular_samples,
           torch=lambda torch, a, b, **kw: torch.linalg.solve_triangular(a, b, **kw),
           aliases=("linalg_solve_triangular",),
           error_inputs=lambda: [
               ErrorInput(lambda: bp.linalg.solve_triangular(bp.eye(3), bp.ones(2, 1),
                                                             upper=True), ValueError,
                          r"linalg.solve_triangular: incompatible shapes")]),
    OpSpec("triangular_solve", bp.triangular_solve, _np_old_triangular, _old_triangular_samples,
           torch=lambda torch, b, a, *args: torch.triangular_solve(b, a, *args)),
    OpSpec("linalg.cholesky", lambda x, upper=False: bp.linalg.cholesky(_sym(bp, x), upper=upper),
           _np_cholesky, _upper_samples,
           torch=lambda torch, x, upper=False: torch.linalg.cholesky(_sym(torch, x), upper=upper),
           aliases=("linalg_cholesky_ex",),
           error_inputs=lambda: [
               ErrorInput(lambda: bp.linalg.cholesky(-bp.eye(2)), RuntimeError,
                          r"linalg.cholesky: .*not positive-definite")]),
    OpSpec("cholesky", lambda x, upper=False: bp.cholesky(_sym(bp, x), upper),
           _np_cholesky, _upper_samples,
           torch=lambda torch, x, upper=False: torch.cholesky(_sym(torch, x), upper)),
    OpSpec("linalg.cholesky_ex", lambda x, upper=False: _cholesky_ex(bp, x, upper),
           lambda x, upper=False: (_np_cholesky(x, upper), np.zeros(x.shape[:-2], np.int32)),
           _upper_samples, torch=lambda torch, x, upper=False: _cholesky_ex(torch, x, upper)),
    OpSpec("cholesky_inverse",
           lambda x, upper=False: bp.cholesky_inverse(_tri(bp, x, upper), upper),
           lambda x, upper=False: np.linalg.inv(_np_gram(_np_tri(x, upper), upper)),
           _factor_samples,
           torch=lambda torch, x, upper=False: torch.cholesky_inverse(_tri(torch, x, upper),
                                                                       upper)),
    OpSpec("cholesky_solve",
           lambda b, x, upper=False: bp.cholesky_solve(b, _tri(bp, x, upper), upper),
           lambda b, x, upper=False: np.linalg.solve(_np_gram(_np_tri(x, upper), upper), b),
           _cholesky_solve_samples,
           torch=lambda torch, b, x, upper=False: torch.cholesky_solve(
               b, _tri(torch, x, upper), upper)),
    OpSpec("linalg.lu_factor", lambda a: bp.linalg.lu_factor(a), _np_lu, _rectangular_samples,
           torch=lambda torch, a: torch.linalg.lu_factor(a), aliases=("linalg_lu_factor_ex",),
           error_inputs=lambda: [
               ErrorInput(lambda: bp.linalg.lu_factor(bp.zeros(2, 2)), RuntimeError,
                          r"linalg.lu_factor: U\[1,1\] is zero"),
               ErrorInput(lambda: bp.linalg.lu_factor(bp.eye(2), pivot=False),
                          NotImplementedError, r"linalg.lu_factor: LU without pivoting")]),
    OpSpec("linalg.lu_factor_ex", lambda a: bp.linalg.lu_factor_ex(a),
           lambda a: (*_np_lu(a), np.zeros(a.shape[:-2], np.int32)), _rectangular_samples,
           torch=lambda torch, a: torch.linalg.lu_factor_ex(a)),
    OpSpec("lu", lambda a, *args: bp.lu(a, *args), _np_lu, _rectangular_samples,
           torch=lambda torch, a, *args: torch.lu(a, *args)),
    OpSpec("linalg.lu", lambda a: bp.linalg.lu(a), lambda a: _np_unpack(*_np_lu(a)),
           _rectangular_samples, torch=lambda torch, a: torch.linalg.lu(a)),
    OpSpec("lu_unpack", lambda LU, pivots: bp.lu_unpack(LU, pivots), _np_unpack,
           _lu_unpack_samples, torch=lambda torch, LU, pivots: torch.lu_unpack(LU, pivots),
           error_inputs=lambda: [
               ErrorInput(lambda: bp.lu_unpack(bp.ones(3, 3), bp.ones(2, dtype=bp.int32)),
                          ValueError, r"lu_unpack: LU_pivots must have shape")]),
    OpSpec("linalg.lu_solve", lambda LU, p, b, **kw: bp.linalg.lu_solve(LU, p, b, **kw),
           _np_lu_solve, _lu_solve_samples,
           torch=lambda torch, LU, p, b, **kw: torch.linalg.lu_solve(LU, p, b, **kw),
           error_inputs=lambda: [
               ErrorInput(lambda: bp.linalg.lu_solve(bp.eye(3), bp.ones(3), bp.ones(3, 1)),
                          ValueError, r"linalg.lu_solve: pivots must be an int32 tensor")]),
    OpSpec("lu_solve", lambda b, LU, p: bp.lu_solve(b, LU, p),
           lambda b, LU, p: _np_lu_solve(LU, p, b), _old_lu_solve_samples,
           torch=lambda torch, b, LU, p: torch.lu_solve(b, LU, p)),
    OpSpec("linalg.ldl_factor", lambda a: bp.linalg.ldl_factor(a),
           # Bunch-Kaufman's pivots have no NumPy counterpart: the reference is our LAPACK-
           # order kernel one matrix at a time, and PyTorch's sytrf (test_matches_pytorch) the
           # independent check.
           lambda a: _np_ldl_factor(a)[:2], _ldl_samples,
           torch=lambda torch, a: torch.linalg.ldl_factor(a), grad=False,
           aliases=("linalg_ldl_factor_ex",)),
    OpSpec("linalg.ldl_factor_ex", lambda a: bp.linalg.ldl_factor_ex(a), _np_ldl_factor,
           _ldl_samples, torch=lambda torch, a: torch.linalg.ldl_factor_ex(a), grad=False),
    OpSpec("linalg.ldl_solve", lambda LD, p, b: bp.linalg.ldl_solve(LD, p, b),
           # As for ldl_factor: our sytrs-order kernel a matrix at a time; PyTorch checks it.
           _np_ldl_solve, _ldl_solve_samples,
           # PyTorch defines no gradient for ldl_solve; ours (B's) is A^-1 g. Its spelling
           # here solves for the identity and multiplies, linear in b and so differentiable.
           torch=lambda torch, LD, p, b: torch.linalg.ldl_solve(
               LD, p, torch.eye(LD.shape[-1], dtype=LD.dtype).expand(LD.shape)) @ b,
           aliases=("linalg_ldl_solve",)),
    OpSpec("matrix_power", bp.matrix_power, _np_power, _power_samples,
           torch=lambda torch, a, n: torch.matrix_power(a, n),
           error_inputs=lambda: [
               ErrorInput(lambda: bp.matrix_power(bp.eye(2), 1.5), TypeError,
                          r"linalg.matrix_power: n must be an int")]),
    OpSpec("matrix_exp", bp.matrix_exp, _np_expm, _exp_samples,
           torch=lambda torch, a: torch.matrix_exp(a), aliases=("linalg_matrix_exp",)),
    OpSpec("linalg.tensorinv", bp.linalg.tensorinv,
           lambda a, ind=2: np.linalg.tensorinv(a, ind), _tensorinv_samples,
           torch=lambda torch, a, **kw: torch.linalg.tensorinv(a, **kw),
           error_inputs=lambda: [
               ErrorInput(lambda: bp.linalg.tensorinv(bp.ones(2, 3), ind=1), ValueError,
                          r"linalg.tensorinv: the product")]),
    OpSpec("linalg.tensorsolve", bp.linalg.tensorsolve,
           lambda a, b, dims=None: np.linalg.tensorsolve(a, b, dims), _tensorsolve_samples,
           torch=lambda torch, a, b, **kw: torch.linalg.tensorsolve(a, b, **kw)),
    OpSpec("linalg.multi_dot", lambda *ts: bp.linalg.multi_dot(ts), _np_multi_dot,
           _multi_dot_samples, torch=lambda torch, *ts: torch.linalg.multi_dot(ts),
           error_inputs=lambda: [
               ErrorInput(lambda: bp.linalg.multi_dot([bp.ones(2, 3), bp.ones(2, 3)]),
                          ValueError, r"linalg.multi_dot: tensors 0 and 1")]),
]

