"""``backends.lapack`` (ctypes calls into the LAPACK of NumPy's bundled OpenBLAS) against NumPy
and against our own NumPy code (``lapack.enabled = False``): random, singular, not positive
definite, batched, empty, float32/float64 and non-contiguous inputs. Where the library is
present each check also asserts that the ctypes path ran (``lapack.calls``), so a silent fallback
fails; where it is absent those checks are skipped and the ops' NumPy code is what runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.backends import lapack, lapack_decompositions
from backprop.ops import lu_numerics

FLOATS = [np.float32, np.float64]
# (batch, n): one matrix, a batch, an empty batch, 0 x 0 matrices, one large enough (n >= 128)
# to be factored in float32 rather than widened to float64.
SHAPES = [((), 5), ((2, 3), 4), ((0,), 3), ((2,), 0), ((), 130)]
needs_library = pytest.mark.skipif(not (lapack.is_available() and lapack.enabled),
                                   reason="no bundled OpenBLAS, or BACKPROP_LAPACK=0")


@contextmanager
def lapack_off() -> Iterator[None]:
    saved = lapack.enabled
    lapack.enabled = False
    try:
        yield
    finally:
        lapack.enabled = saved


@contextmanager
def ran(routine: str) -> Iterator[None]:
    """Asserts that ``routine`` was called through ctypes in the block (library present)."""
    before = lapack.calls.get(routine, 0)
    yield
    if lapack.is_available() and lapack.enabled:
        assert lapack.calls.get(routine, 0) > before, f"{routine} fell back to NumPy"


def tolerance(dtype: Any, n: int = 5) -> float:
    return (2e-4 if dtype == np.float32 else 1e-10) * max(n, 1)


def general(batch: tuple, n: int, dtype: Any, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(batch + (n, n)) + 3 * np.eye(n)).astype(dtype)


def spd(batch: tuple, n: int, dtype: Any, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    m = rng.standard_normal(batch + (n, n))
    return (m @ np.swapaxes(m, -2, -1) / max(n, 1) + np.eye(n)).astype(dtype)


def close(ours: np.ndarray, reference: np.ndarray, dtype: Any, n: int = 5) -> None:
    assert ours.shape == reference.shape
    assert ours.dtype == reference.dtype
    np.testing.assert_allclose(ours, reference, rtol=tolerance(dtype, n),
                               atol=tolerance(dtype, n))


# -- the binding against NumPy ----------------------------------------------------------------

@needs_library
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("batch,n", SHAPES)
def test_inverse_solve_and_lu_match_numpy(dtype: Any, batch: tuple, n: int) -> None:
    a = general(batch, n, dtype)
    b = np.random.default_rng(1).standard_normal(batch + (n, 2)).astype(dtype)
    with ran("getri"):
        inverse, info = lapack.inverse(a)
    close(inverse, np.linalg.inv(a).astype(dtype), dtype, n)
    assert info.shape == batch and not info.any() and info.dtype == np.int32
    with ran("gesv"):
        close(lapack.solve(a, b), np.linalg.solve(a, b).astype(dtype), dtype, n)
    with ran("getrf"):
        lu, pivots, info = lapack.getrf(a)
    with lapack_off():
        lu_ref, pivots_ref, info_ref = lu_numerics.lu_factor_arrays(a)
    close(lu, lu_ref, dtype, n)
    np.testing.assert_array_equal(pivots, pivots_ref)
    assert pivots.dtype == np.int32 and info.shape == info_ref.shape


@needs_library
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("batch,n", SHAPES)
def test_cholesky_family_matches_numpy(dtype: Any, batch: tuple, n: int) -> None:
    a = spd(batch, n, dtype)
    b = np.random.default_rng(2).standard_normal(batch + (n, 3)).astype(dtype)
    with ran("potrf"):
        lower, info = lapack.potrf(a)
    close(lower, np.linalg.cholesky(a).astype(dtype), dtype, n)
    assert not info.any()
    with ran("potrs"):
        close(lapack.potrs(lower, b), np.linalg.solve(a, b).astype(dtype), dtype, n)
    with ran("potri"):
        close(lapack.potri(lower), np.linalg.inv(a).astype(dtype), dtype, n)


@needs_library
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("batch,n", SHAPES)
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("unitriangular", [True, False])
def test_trsm_matches_the_numpy_solve(dtype: Any, batch: tuple, n: int, upper: bool,
                                      unitriangular: bool) -> None:
    a = general(batch, n, dtype)
    b = np.random.default_rng(3).standard_normal(batch + (n, 2)).astype(dtype)
    with ran("trsm"):
        ours = lapack.trsm(a, b, upper, unitriangular)
    with lapack_off():
        reference = lu_numerics.triangular_solve_array(a, b, upper, unitriangular)
    close(ours, reference, dtype, n)


@needs_library
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("batch,n", SHAPES)
def test_ldl_matches_the_numpy_factorization(dtype: Any, batch: tuple, n: int) -> None:
    rng = np.random.default_rng(4)
    m = rng.standard_normal(batch + (n, n)).astype(dtype)
    a = m + np.swapaxes(m, -2, -1)  # indefinite: 2 x 2 pivots happen
    b = rng.standard_normal(batch + (n, 2)).astype(dtype)
    with ran("sytrf"):
        ld, pivots, info = lapack.sytrf(a)
    with lapack_off():
        ld_ref, pivots_ref, info_ref = lu_numerics.ldl_factor_arrays(a)
    np.testing.assert_array_equal(pivots, pivots_ref)
    np.testing.assert_array_equal(info, info_ref)
    close(ld, ld_ref, dtype, 4 * n)
    with ran("sytrs"):
        x = lapack.sytrs(ld, pivots, b)
    close(x, np.linalg.solve(a, b).astype(dtype), dtype, 50 * n)


@needs_library
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4), (0, 3), (2, 0, 2), (140, 150)])
def test_svd_qr_and_eigenvalues_match_numpy(dtype: Any, shape: tuple) -> None:
    a = np.random.default_rng(5).standard_normal(shape).astype(dtype)
    n = max(shape[-2:])
    with ran("gesdd"):
        U, S, Vh = lapack_decompositions.gesdd(a, True)
    close(S, np.linalg.svd(a, compute_uv=False).astype(dtype), dtype, n)
    close((U * S[..., None, :]) @ Vh, a, dtype, n)
    (values,) = lapack_decompositions.gesdd(a, False)
    close(values, S, dtype, n)
    with ran("geqrf"):
        Q, R = lapack_decompositions.qr(a)
    R_ref = np.linalg.qr(a)[1]
    close(Q @ R, a, dtype, n)
    close(np.abs(R), np.abs(R_ref).astype(dtype), dtype, n)
    square = a[..., :min(shape[-2:]), :min(shape[-2:])]
    symmetric = square + np.swapaxes(square, -2, -1)
    with ran("syevd"):
        w = lapack_decompositions.syevd(np.tril(symmetric), True)
    close(w, np.linalg.eigvalsh(symmetric).astype(dtype), dtype, n)
    close(lapack_decompositions.syevd(np.triu(symmetric), False), w, dtype, n)


@needs_library
@pytest.mark.parametrize("dtype", FLOATS)
def test_slogdet_matches_numpy(dtype: Any) -> None:
    cases = [general((3,), 6, dtype), np.zeros((2, 3, 3), dtype),
             np.eye(4, dtype=dtype)[[1, 0, 3, 2]], -np.eye(3, dtype=dtype)]
    assert lapack.slogdet(np.full((2, 2), np.nan, dtype)) is None  # NaN: the NumPy code
    for a in cases:
        with ran("getrf"), np.errstate(all="ignore"):
            sign, logabsdet = lapack.slogdet(a)
            sign_ref, logabsdet_ref = np.linalg.slogdet(a)
        np.testing.assert_array_equal(sign, sign_ref)
        np.testing.assert_allclose(logabsdet, logabsdet_ref, rtol=tolerance(dtype))


@needs_library
def test_non_contiguous_inputs() -> None:
    base = general((), 12, np.float64)
    a = base.T  # Fortran order
    b = np.random.default_rng(6).standard_normal((12, 8))[:, ::2]  # strided columns
    np.testing.assert_allclose(lapack.inverse(a)[0], np.linalg.inv(a), atol=1e-10)
    np.testing.assert_allclose(lapack.solve(a, b), np.linalg.solve(a, b), atol=1e-10)
    np.testing.assert_allclose(lapack.trsm(a, b, True, False),
                               np.linalg.solve(np.triu(a), b), atol=1e-10)
    s = spd((), 12, np.float64)[::-1, ::-1]  # reversed strides, still symmetric positive definite
    np.testing.assert_allclose(lapack.potrf(s)[0], np.linalg.cholesky(s), atol=1e-10)
    broadcast = np.broadcast_to(base, (3, 12, 12))  # zero batch stride
    np.testing.assert_allclose(lapack.solve(broadcast, np.stack([b] * 3)),
                               np.linalg.solve(broadcast, np.stack([b] * 3)), atol=1e-10)


@needs_library
def test_failures_return_none_for_the_numpy_code() -> None:
    singular = np.array([[1., 2.], [2., 4.]])
    assert lapack.inverse(singular) is None
    assert lapack.solve(singular, np.ones((2, 1))) is None
    assert lapack.potrf(np.array([[1., 2.], [2., 1.]])) is None  # not positive definite
    assert lapack.potri(np.array([[0., 0.], [1., 1.]])) is None  # a zero on the diagonal


def test_unusable_inputs_return_none() -> None:
    assert lapack.inverse(np.eye(2, dtype=np.float16)) is None
    assert lapack.getrf(np.eye(2, dtype=np.int64)) is None
    assert lapack.solve(np.eye(2), np.ones((2, 1), dtype=np.float32)) is None  # mixed dtypes
    with lapack_off():
        assert lapack.getrf(np.eye(2)) is None


# -- the ops: the same results through ctypes as through their NumPy code ------------------------

def _ops() -> list[tuple[str, Callable[[Any, Any], Any], str]]:
    lin = bp.linalg
    return [
        ("inv", lambda a, b: lin.inv(a), "general"),
        ("inv_ex", lambda a, b: lin.inv_ex(a), "general"),
        ("solve", lambda a, b: lin.solve(a, b), "general"),
        ("lu_factor", lambda a, b: lin.lu_factor(a), "general"),
        ("lu", lambda a, b: lin.lu(a), "general"),
        ("det", lambda a, b: lin.det(a), "general"),
        ("slogdet", lambda a, b: lin.slogdet(a), "general"),
        ("solve_triangular", lambda a, b: lin.solve_triangular(a, b, upper=False), "general"),
        ("solve_triangular_right",
         lambda a, b: lin.solve_triangular(a, b.mT, upper=True, left=False), "general"),
        ("triangular_solve", lambda a, b: bp.triangular_solve(b, a), "general"),
        ("cholesky", lambda a, b: lin.cholesky(a), "spd"),
        ("cholesky_upper", lambda a, b: lin.cholesky(a, upper=True), "spd"),
        ("cholesky_ex", lambda a, b: lin.cholesky_ex(a), "spd"),
        ("cholesky_solve", lambda a, b: bp.cholesky_solve(b, lin.cholesky(a)), "spd"),
        ("cholesky_inverse", lambda a, b: bp.cholesky_inverse(lin.cholesky(a)), "spd"),
        ("cholesky_inverse_upper",
         lambda a, b: bp.cholesky_inverse(lin.cholesky(a, upper=True), upper=True), "spd"),
        ("ldl_factor", lambda a, b: lin.ldl_factor(a), "spd"),
        ("ldl_solve", lambda a, b: lin.ldl_solve(*lin.ldl_factor(a), b), "spd"),
        ("eigvalsh", lambda a, b: lin.eigvalsh(a), "spd"),
        ("svdvals", lambda a, b: lin.svdvals(a), "general"),
        ("svd_reconstructed", lambda a, b: _reconstructed(lin.svd(a)), "general"),
        ("qr_reconstructed", lambda a, b: _qr_product(lin.qr(a)), "general"),
    ]


def _reconstructed(result: Any) -> Any:
    U, S, Vh = result
    k = S.shape[-1]
    return (U[..., :k] * S.unsqueeze(-2)) @ Vh[..., :k, :]


def _qr_product(result: Any) -> Any:
    return result[0] @ result[1]


def _arrays(result: Any) -> list[np.ndarray]:
    items = result if isinstance(result, tuple) else (result,)
    return [np.asarray(item.detach().numpy()) for item in items]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("batch,n", [((), 6), ((3,), 4), ((), 130)])
@pytest.mark.parametrize("name,op,kind", _ops(), ids=[row[0] for row in _ops()])
def test_op_agrees_with_its_numpy_code(name: str, op: Callable, kind: str, dtype: Any,
                                       batch: tuple, n: int) -> None:
    a = (spd if kind == "spd" else general)(batch, n, dtype)
    b = np.random.default_rng(7).standard_normal(batch + (n, 2)).astype(dtype)
    before = sum(lapack.calls.values())
    fast = _arrays(op(bp.tensor(a), bp.tensor(b)))
    if lapack.is_available() and lapack.enabled:
        assert sum(lapack.calls.values()) > before, f"{name} did not call the bundled LAPACK"
    with lapack_off():
        reference = _arrays(op(bp.tensor(a), bp.tensor(b)))
    for ours, theirs in zip(fast, reference):
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        if ours.dtype.kind == "f":
            np.testing.assert_allclose(ours, theirs, rtol=tolerance(dtype, 4 * n),
                                       atol=tolerance(dtype, 4 * n))
        else:
            np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("name,matrix", [
    ("singular", np.array([[1., 2.], [2., 4.]])),
    ("nan", np.array([[np.nan, 1.], [1., 2.]])),
    ("zero", np.zeros((2, 2))),
])
def test_failed_factorizations_report_as_before(name: str, matrix: np.ndarray) -> None:
    a = bp.tensor(matrix)
    outputs = []
    for enabled in (True, False):
        saved = lapack.enabled
        lapack.enabled = enabled
        try:
            with np.errstate(all="ignore"):
                outputs.append([
                    *_arrays(bp.linalg.inv_ex(a)),
                    *_arrays(bp.linalg.solve_ex(a, bp.ones(2, dtype=bp.float64))),
                    *_arrays(bp.linalg.cholesky_ex(a)), *_arrays(bp.linalg.lu_factor_ex(a)),
                    *_arrays(bp.linalg.slogdet(a)), *_arrays(bp.linalg.det(a))])
        finally:
            lapack.enabled = saved
    for ours, theirs in zip(*outputs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12, equal_nan=True)
    if name != "nan":
        with pytest.raises(RuntimeError, match="singular"):
            bp.linalg.inv(a)


def test_gradients_agree_with_the_numpy_code() -> None:
    a = general((), 5, np.float64)
    grads = []
    for enabled in (True, False):
        saved = lapack.enabled
        lapack.enabled = enabled
        try:
            x = bp.tensor(a, requires_grad=True)
            loss = (bp.linalg.inv(x).sum() + bp.linalg.det(x) + bp.linalg.slogdet(x)[1]
                    + bp.linalg.solve(x, bp.ones(5, 1, dtype=bp.float64)).sum()
                    + bp.linalg.cholesky(x @ x.mT).sum())
            loss.backward()
            grads.append(x.grad.numpy())
        finally:
            lapack.enabled = saved
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-9, atol=1e-9)


# -- the NumPy kernels this round sped up --------------------------------------------------------

@pytest.mark.parametrize("count", [1, 3, 40])
def test_permutation_from_pivots_paths_agree(count: int) -> None:
    rng = np.random.default_rng(8)
    pivots = (rng.integers(0, 7, (count, 7)) + np.arange(7)).clip(max=6).astype(np.int32) + 1
    expected = np.broadcast_to(np.arange(7), (count, 7)).copy()
    for row, swaps in zip(expected, pivots - 1):
        for i, target in enumerate(swaps):
            row[[i, target]] = row[[target, i]]
    np.testing.assert_array_equal(lu_numerics.permutation_from_pivots(pivots, 7), expected)
    with pytest.raises(ValueError, match="pivots must be in"):
        lu_numerics.permutation_from_pivots(np.zeros((count, 7), np.int32), 7)


@pytest.mark.parametrize("shape,N", [((3,), None), ((0,), 3), ((2, 0), 4), ((37, 29), 40),
                                     ((700,), 3)])
@pytest.mark.parametrize("dtype", FLOATS)
def test_vander_is_the_running_product(shape: tuple, N: Any, dtype: Any) -> None:
    x = np.random.default_rng(9).uniform(-2, 2, shape).astype(dtype)
    n = shape[-1] if N is None else N
    expected = np.empty(shape + (n,), dtype)
    expected[..., 0] = 1
    for j in range(1, n):
        np.multiply(expected[..., j - 1], x, out=expected[..., j])
    np.testing.assert_array_equal(bp.linalg.vander(bp.tensor(x), N=N).numpy(), expected)


@needs_library
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("unit", [True, False])
@pytest.mark.parametrize("batch", [(), (3,)])
def test_trsm_reads_a_column_major_matrix_in_place(dtype: Any, upper: bool, unit: bool,
                                                   batch: tuple) -> None:
    """getrf's LU is a transposed (Fortran-ordered) view: trsm reads it where it lies."""
    n = 140
    rng = np.random.default_rng(9)
    a = (rng.standard_normal((n, n)) / n + 2 * np.eye(n)).astype(dtype)  # well conditioned
    fortran = np.asfortranarray(a)
    b = rng.standard_normal(batch + (n, 3)).astype(dtype)
    with ran("trsm"):
        ours = lapack.trsm(fortran, b, upper, unit)
    reference = lapack.trsm(np.ascontiguousarray(a), b, upper, unit)
    triangle = np.triu(a) if upper else np.tril(a)
    if unit:
        np.fill_diagonal(triangle, 1)
    close(ours, reference, dtype, n)
    close(ours, np.linalg.solve(triangle.astype(np.float64), b).astype(dtype), dtype, n)
