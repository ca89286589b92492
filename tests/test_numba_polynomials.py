"""The orthogonal polynomials' Numba kernels (``backends.numba_special.polynomial``, one per
polynomial in ``_numba_special``) against the NumPy path and PyTorch: edge values of x and of n
(nan, inf, negative, fractional, huge), float32 and float64, broadcasts, and blocks whose
elements leave the recurrence at different degrees. Each test also checks that the kernel ran.
Skipped, with the reason, without Numba."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.backends import numba as accel
from backprop.backends import numba_special

pytestmark = pytest.mark.skipif(not accel.is_available(),
                                reason="Numba is not installed (pip install backprop[fast])")

# op name -> (kernel name, shifted)
OPS = {
    "chebyshev_polynomial_t": ("chebyshev_t", False),
    "chebyshev_polynomial_u": ("chebyshev_u", False),
    "chebyshev_polynomial_v": ("chebyshev_v", False),
    "chebyshev_polynomial_w": ("chebyshev_w", False),
    "shifted_chebyshev_polynomial_t": ("chebyshev_t", True),
    "shifted_chebyshev_polynomial_u": ("chebyshev_u", True),
    "shifted_chebyshev_polynomial_v": ("chebyshev_v", True),
    "shifted_chebyshev_polynomial_w": ("chebyshev_w", True),
    "hermite_polynomial_h": ("hermite_h", False),
    "hermite_polynomial_he": ("hermite_he", False),
    "laguerre_polynomial_l": ("laguerre_l", False),
    "legendre_polynomial_p": ("legendre_p", False),
}

X_EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 1e-10, 1 - 1e-7, -1 + 1e-7, np.inf,
           -np.inf, np.nan, 1e30, -1e30, 1e-30, 3.0, 40.0, 0.999999, 1e-3]
N_EDGES = [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.9, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0,
           12.0, 31.0, 100.0, 400.0, np.nan, np.inf, -np.inf, 1e20, -1e20]


def grid(dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = np.concatenate([X_EDGES, rng.uniform(-1.2, 1.2, 40), rng.uniform(-5, 5, 20),
                        rng.uniform(-0.1, 1.1, 20)])
    xs, ns = np.meshgrid(x, N_EDGES)
    return xs.astype(dtype), ns.astype(dtype)


def numpy_path(op: Any, x: Any, n: Any, monkeypatch: Any) -> np.ndarray:
    with monkeypatch.context() as patch:
        patch.setattr(accel, "enabled", False)
        assert numba_special.polynomial("hermite_h", False, np.zeros(3), 2) is None
        return op(x, n).numpy()


def compiled(name: str, x: np.ndarray, n: Any) -> np.ndarray:
    """The kernel's result, asserting that the kernel took the operands."""
    kernel, shift = OPS[name]
    out = numba_special.polynomial(kernel, shift, x, n)
    assert out is not None, "the Numba kernel did not run"
    return out


def assert_agree(ours: np.ndarray, expected: np.ndarray, dtype: Any, degree: float = 1.0) -> None:
    """Equal nan and inf, and close values. Float64's trigonometric forms cos(n acos x) take
    acos from the C library here and NumPy's own (SIMD) code there, an ulp apart at times,
    which n multiplies: so the tolerance grows with the degree."""
    rtol, atol = (1e-10, 1e-12) if dtype == np.float64 else (2e-6, 1e-6)
    atol = max(atol, 1e-15 * degree)
    assert ours.dtype == expected.dtype
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))
    np.testing.assert_array_equal(np.isinf(ours), np.isinf(expected))
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(ours, expected, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_agrees_with_the_numpy_path(name: str, dtype: Any, monkeypatch: Any) -> None:
    op = getattr(bp.special, name)
    x, n = grid(dtype)
    ours = op(bp.tensor(x), bp.tensor(n)).numpy()
    np.testing.assert_array_equal(compiled(name, x, n), ours)
    assert_agree(ours, numpy_path(op, bp.tensor(x), bp.tensor(n), monkeypatch), dtype)


@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("degree", [0, 1, 2, 3, 10, 100, -2, 2.7, 16777217.0])
def test_a_single_degree(name: str, degree: Any, monkeypatch: Any) -> None:
    if degree == 16777217.0 and not name.startswith("chebyshev"):
        # (shifted: 1e-30 makes 2x - 1 == -1, outside the trigonometric forms' open interval)
        pytest.skip("16 million steps of the NumPy recurrence: this degree (float32 holds "
                    "16777216, so it goes in float64) is for Chebyshev's trigonometric forms")
    op = getattr(bp.special, name)
    for dtype in (np.float32, np.float64):
        x, _ = grid(dtype)
        x = x[0]
        ours = op(bp.tensor(x), degree).numpy()
        np.testing.assert_array_equal(compiled(name, x, degree), ours)
        assert_agree(ours, numpy_path(op, bp.tensor(x), degree, monkeypatch), dtype, degree)


@pytest.mark.parametrize("name", ["chebyshev_polynomial_t", "shifted_chebyshev_polynomial_v",
                                  "hermite_polynomial_he", "legendre_polynomial_p"])
def test_broadcasts(name: str, monkeypatch: Any) -> None:
    op = getattr(bp.special, name)
    x = bp.tensor(np.linspace(-1.5, 1.5, 7).reshape(7, 1))
    n = bp.tensor(np.array([0.0, 1.0, 2.0, 5.0, 9.0, 40.0]))
    cases = [(x, n), (0.25, n), (x, bp.tensor(3.0)), (x.reshape(1, 7, 1), n.reshape(2, 1, 3))]
    for a, b in cases:
        ours = op(a, b)
        expected = numpy_path(op, a, b, monkeypatch)
        assert ours.shape == expected.shape
        assert_agree(ours.numpy(), expected, np.float32)
    xs = np.linspace(-1.5, 1.5, 7).reshape(7, 1).astype(np.float32)
    ns = np.array([0.0, 1.0, 2.0, 5.0, 9.0, 40.0], np.float32)
    np.testing.assert_array_equal(compiled(name, xs, ns), op(bp.tensor(xs), bp.tensor(ns)).numpy())


@pytest.mark.parametrize("name", ["chebyshev_polynomial_t", "chebyshev_polynomial_u",
                                  "hermite_polynomial_h", "laguerre_polynomial_l",
                                  "legendre_polynomial_p", "shifted_chebyshev_polynomial_w"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_degrees_that_end_apart(name: str, dtype: Any, monkeypatch: Any) -> None:
    """Blocks (256 elements) where most recurrences end early, a few run thousands of steps,
    and some turn inf or nan on the way: the early ones leave the block between rounds."""
    rng = np.random.default_rng(1)
    size = 1000
    n = rng.integers(0, 12, size).astype(dtype)
    n[rng.choice(size, 9, replace=False)] = 3000
    n[rng.choice(size, 30, replace=False)] = 70
    x = rng.uniform(-1.1, 1.1, size).astype(dtype)
    x[::97] = rng.uniform(-40, 40, x[::97].size)
    op = getattr(bp.special, name)
    ours = op(bp.tensor(x), bp.tensor(n)).numpy()
    np.testing.assert_array_equal(compiled(name, x, n), ours)
    assert_agree(ours, numpy_path(op, bp.tensor(x), bp.tensor(n), monkeypatch), dtype)


@pytest.mark.parametrize("name", ["hermite_polynomial_h", "hermite_polynomial_he",
                                  "laguerre_polynomial_l", "chebyshev_polynomial_u"])
def test_float32_overflow_is_float32s(name: str, monkeypatch: Any) -> None:
    """Where the float32 recurrence overflows, its inf or nan (PyTorch's), though the float64
    one would stay finite."""
    x = np.array([3.0, -3.0, 6.0, -6.0, 50.0, -50.0, 1e20, -1e20], np.float32)
    n = np.array([20.0, 21.0, 40.0, 41.0, 60.0, 61.0, 2.0, 3.0], np.float32)
    op = getattr(bp.special, name)
    ours = op(bp.tensor(x), bp.tensor(n)).numpy()
    np.testing.assert_array_equal(compiled(name, x, n), ours)
    expected = numpy_path(op, bp.tensor(x), bp.tensor(n), monkeypatch)
    assert_agree(ours, expected, np.float32)
    assert not np.isfinite(ours).all()  # the case this test is about occurs


@pytest.mark.parametrize("name", list(OPS))
def test_float64_matches_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    lo, hi = (0.0, 1.0) if name.startswith("shifted") else (-1.0, 1.0)
    x = np.concatenate([rng.uniform(lo, hi, 600), rng.uniform(lo - 2, hi + 2, 400)])
    n = rng.integers(0, 51, x.size).astype(np.float64)
    ours = getattr(bp.special, name)(bp.tensor(x), bp.tensor(n)).numpy()
    np.testing.assert_array_equal(compiled(name, x, n), ours)
    theirs = getattr(torch.special, name)(torch.tensor(x), torch.tensor(n)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-13)
