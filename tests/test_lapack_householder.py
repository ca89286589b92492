"""``backends.lapack_decompositions``'s orgqr and ormqr (the no-grad paths of
``linalg.householder_product``/``orgqr`` and ``ormqr``) against PyTorch and against the ops' own
compact-WY code (``lapack.enabled = False``): square, tall, fewer reflectors than columns, no
reflectors, batches, float32/float64, both sides, transposed or not, and NaN/inf/huge/tiny
entries. Where the library is present each check asserts that the ctypes path ran."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.backends import lapack

torch = pytest.importorskip("torch")

FLOATS = [np.float32, np.float64]
needs_library = pytest.mark.skipif(not (lapack.is_available() and lapack.enabled),
                                   reason="no bundled OpenBLAS, or BACKPROP_LAPACK=0")
# (batch, m, n, k): square, tall, k < n, k = 0, a batch, a 1 x 1, one past the blocked size.
SHAPES = [((), 5, 5, 5), ((), 7, 4, 4), ((), 6, 4, 2), ((), 3, 3, 0), ((2, 3), 5, 3, 3),
          ((), 1, 1, 1), ((), 90, 70, 70)]


@contextmanager
def ran(routine: str, expected: bool = True) -> Iterator[None]:
    """Asserts that ``routine`` went through ctypes in the block (library present)."""
    before = lapack.calls.get(routine, 0)
    yield
    if expected and lapack.is_available() and lapack.enabled:
        assert lapack.calls.get(routine, 0) > before, f"{routine} fell back to the NumPy code"


@contextmanager
def lapack_off() -> Iterator[None]:
    saved = lapack.enabled
    lapack.enabled = False
    try:
        yield
    finally:
        lapack.enabled = saved


def reflectors(batch: tuple, m: int, n: int, k: int, dtype: Any) -> tuple[Any, Any]:
    a = np.random.default_rng(m * 31 + n + k).standard_normal(batch + (m, n)).astype(dtype)
    h, tau = torch.geqrf(torch.from_numpy(a))
    return h, tau[..., :k].contiguous()


def tolerance(dtype: Any, m: int) -> float:
    return (3e-6 if dtype == np.float32 else 1e-14) * max(m, 1)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("batch,m,n,k", SHAPES)
def test_householder_product_matches_torch_and_the_numpy_code(dtype: Any, batch: tuple, m: int,
                                                              n: int, k: int) -> None:
    h, tau = reflectors(batch, m, n, k, dtype)
    expected = torch.linalg.householder_product(h, tau).numpy()
    with ran("orgqr", expected=k > 0):
        ours = bp.linalg.householder_product(bp.tensor(h.numpy()), bp.tensor(tau.numpy()))
    with lapack_off():
        reference = bp.orgqr(bp.tensor(h.numpy()), bp.tensor(tau.numpy())).numpy()
    assert ours.dtype == bp.tensor(h.numpy()).dtype and ours.shape == tuple(expected.shape)
    tol = tolerance(dtype, m)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=tol, atol=tol)
    np.testing.assert_allclose(ours.numpy(), reference, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("batch,m,n,k", SHAPES)
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
def test_ormqr_matches_torch_and_the_numpy_code(dtype: Any, batch: tuple, m: int, n: int, k: int,
                                                left: bool, transpose: bool) -> None:
    h, tau = reflectors(batch, m, n, k, dtype)
    shape = batch + ((m, 3) if left else (3, m))
    c = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    args = (bp.tensor(h.numpy()), bp.tensor(tau.numpy()), bp.tensor(c), left, transpose)
    with ran("ormqr", expected=k > 0):
        ours = bp.ormqr(*args).numpy()
    with lapack_off():
        reference = bp.ormqr(*args).numpy()
    tol = tolerance(dtype, m)
    assert ours.dtype == reference.dtype and ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, rtol=tol, atol=tol)
    try:  # torch.ormqr accepts only k = min(other's side, n)
        expected = torch.ormqr(h, tau, torch.from_numpy(c), left, transpose).numpy()
    except RuntimeError:
        return
    np.testing.assert_allclose(ours, expected, rtol=tol, atol=tol)


@needs_library
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("value", [0.0, np.nan, np.inf, -np.inf, 1e30, 1e-30])
def test_edge_values_agree_with_the_numpy_code(dtype: Any, value: float) -> None:
    h, tau = reflectors((), 5, 5, 5, dtype)
    h = h.numpy().copy()
    h[3, 1] = value
    c = np.random.default_rng(2).standard_normal((5, 4)).astype(dtype)
    c[0, 0] = value
    args = (bp.tensor(h), bp.tensor(tau.numpy()))
    with ran("orgqr"), ran("ormqr"), np.errstate(all="ignore"):
        ours = [bp.orgqr(*args).numpy(), bp.ormqr(*args, bp.tensor(c)).numpy()]
    with lapack_off(), np.errstate(all="ignore"):
        reference = [bp.orgqr(*args).numpy(), bp.ormqr(*args, bp.tensor(c)).numpy()]
    expected = [torch.linalg.householder_product(torch.from_numpy(h), tau).numpy(),
                torch.ormqr(torch.from_numpy(h), tau, torch.from_numpy(c)).numpy()]
    # (LAPACK's NaN/inf pattern is PyTorch's; the compact WY code, which runs without the
    # library, may spread a non-finite entry differently: only finite entries are compared.)
    for mine, theirs, numpy_code in zip(ours, expected, reference):
        # Where a non-finite entry spreads, which entries turn NaN rather than inf is the order
        # of operations': compare finiteness where PyTorch's are finite, values where all are.
        finite = np.isfinite(theirs) & np.isfinite(numpy_code)
        assert np.array_equal(np.isfinite(mine), np.isfinite(theirs))
        scale = max(1.0, float(np.abs(theirs[finite]).max(initial=0.0)))
        tol = tolerance(dtype, 5) * scale
        np.testing.assert_allclose(mine[finite], theirs[finite], rtol=tol, atol=tol)


def test_gradients_take_the_differentiable_code() -> None:
    h, tau = reflectors((), 4, 4, 4, np.float64)
    x = bp.tensor(h.numpy(), requires_grad=True)
    before = lapack.calls.get("orgqr", 0)
    bp.linalg.householder_product(x, bp.tensor(tau.numpy())).sum().backward()
    assert lapack.calls.get("orgqr", 0) == before and x.grad is not None
    with bp.no_grad(), ran("orgqr"):
        bp.linalg.householder_product(x, bp.tensor(tau.numpy()))


def test_mixed_dtypes_and_broadcast_batches_fall_back() -> None:
    h, tau = reflectors((2,), 4, 4, 4, np.float64)
    c32 = bp.tensor(np.ones((2, 4, 2), np.float32))
    args = (bp.tensor(h.numpy()), bp.tensor(tau.numpy()))
    with lapack_off():
        reference = bp.ormqr(*args, c32).numpy()
    np.testing.assert_allclose(bp.ormqr(*args, c32).numpy(), reference, rtol=1e-6, atol=1e-6)
