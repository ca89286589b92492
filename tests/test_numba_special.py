"""The special functions' Numba kernels (``backends.numba_special``) against the NumPy path:
erf, lgamma and digamma in float32 (lgamma in float64 too), nextafter bit for bit, and the
polynomials' recurrences. Skipped, with the reason, without Numba."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.backends import numba as accel
from backprop.backends import numba_special

pytestmark = pytest.mark.skipif(not accel.is_available(),
                                reason="Numba is not installed (pip install backprop[fast])")

SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 0.5, -0.5, 1.0, 2.0, -1.0, -2.5,
            -3.0, 1e30]


def values(dtype: Any) -> np.ndarray:
    rng = np.random.default_rng(0)
    x = np.concatenate([SPECIALS, rng.uniform(-12, 12, 997), rng.uniform(-1, 1, 300)])
    return x.astype(dtype)


def numpy_path(op: Any, x: np.ndarray, monkeypatch: Any) -> np.ndarray:
    with monkeypatch.context() as patch:
        patch.setattr(accel, "enabled", False)
        return op(bp.tensor(x)).numpy()


@pytest.mark.parametrize("name, dtype", [("erf", np.float32), ("lgamma", np.float32),
                                         ("lgamma", np.float64), ("digamma", np.float32)])
def test_kernel_agrees_with_the_numpy_path(name: str, dtype: Any, monkeypatch: Any) -> None:
    op = getattr(bp, name)
    x = values(dtype)
    ours = op(bp.tensor(x)).numpy()
    assert getattr(numba_special, name)(x) is not None  # the kernel took it
    expected = numpy_path(op, x, monkeypatch)
    rtol = 1e-13 if dtype == np.float64 else 1e-6
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(ours, expected, rtol=rtol, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nextafter_kernel_is_bit_for_bit(dtype: Any, monkeypatch: Any) -> None:
    x = values(dtype)
    y = np.roll(x, 3)
    y[20:30] = x[20:30]  # equal: the result is y
    ours = bp.nextafter(bp.tensor(x), bp.tensor(y)).numpy()
    assert numba_special.nextafter(x, y) is not None
    with monkeypatch.context() as patch:
        patch.setattr(accel, "enabled", False)
        expected = bp.nextafter(bp.tensor(x), bp.tensor(y)).numpy()
    nan = np.isnan(expected)
    np.testing.assert_array_equal(np.isnan(ours), nan)
    np.testing.assert_array_equal(ours[~nan].view(f"i{x.itemsize}"),
                                  expected[~nan].view(f"i{x.itemsize}"))


@pytest.mark.parametrize("name", ["chebyshev_polynomial_t", "hermite_polynomial_h",
                                  "hermite_polynomial_he", "laguerre_polynomial_l",
                                  "legendre_polynomial_p", "shifted_chebyshev_polynomial_w"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_polynomial_recurrences_agree(name: str, dtype: Any, monkeypatch: Any) -> None:
    op = getattr(bp.special, name)
    x = np.repeat(np.array([-3.0, -1.2, -0.4, 0.3, 1.7, 40.0, np.nan]), 4).astype(dtype)
    n = np.tile(np.array([2.0, 5.0, 31.0, 400.0]), 7).astype(dtype)
    ours = op(bp.tensor(x), bp.tensor(n)).numpy()
    with monkeypatch.context() as patch:
        patch.setattr(accel, "enabled", False)
        expected = op(bp.tensor(x), bp.tensor(n)).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-12 if dtype == np.float64 else 1e-6)


def test_trigamma_kernel_agrees_with_the_numpy_path(monkeypatch: Any) -> None:
    x = values(np.float32)
    ours = bp.polygamma(1, bp.tensor(x)).numpy()
    assert numba_special.polygamma(x, n=1) is not None
    assert numba_special.polygamma(x, n=2) is None  # only digamma's gradient has a kernel
    with monkeypatch.context() as patch:
        patch.setattr(accel, "enabled", False)
        expected = bp.polygamma(1, bp.tensor(x)).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-6)
