"""The Bessel, Airy and incomplete gamma Numba kernels (``backends._numba_bessel``) against the
NumPy path and PyTorch, over every range of their formulas and the edge values (0, -0, the
infinities, nan, tiny and huge numbers), in float32 and float64. Each test also asserts that
the kernel took the call, so that it fails if the op silently falls back to NumPy. Skipped,
with the reason, without Numba."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.backends import numba as accel
from backprop.backends import numba_special

pytestmark = pytest.mark.skipif(not accel.is_available(),
                                reason="Numba is not installed (pip install backprop[fast])")


@pytest.fixture(autouse=True)
def kernels_on(monkeypatch: Any) -> None:
    """The kernels switched on, whatever BACKPROP_NUMBA says: they are what is tested."""
    monkeypatch.setattr(accel, "enabled", True)

EDGES = [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 1e-300, 1e-30, -1e-30, 1e-8, 0.5, -0.5,
         2.0, 2.09, -2.09, 2.0900001, 8.0, -8.0, 8.000001, 103.892, 103.9, 1e20, -1e20, 1e300,
         -1e300, 85.0, 90.0, 700.0, 713.0, 720.0, -720.0]

# (bp op, kernel entry point in numba_special, torch op)
UNARY = [
    ("i0", "i0", "i0"),
    ("special.i0e", "i0e", "special.i0e"),
    ("special.i1", "i1", "special.i1"),
    ("special.i1e", "i1e", "special.i1e"),
    ("special.modified_bessel_i0", "i0", "special.modified_bessel_i0"),
    ("special.modified_bessel_i1", "i1", "special.modified_bessel_i1"),
    ("special.modified_bessel_k0", "k0", "special.modified_bessel_k0"),
    ("special.modified_bessel_k1", "k1", "special.modified_bessel_k1"),
    ("special.scaled_modified_bessel_k0", "k0e", "special.scaled_modified_bessel_k0"),
    ("special.scaled_modified_bessel_k1", "k1e", "special.scaled_modified_bessel_k1"),
    ("special.bessel_j0", "j0", "special.bessel_j0"),
    ("special.bessel_j1", "j1", "special.bessel_j1"),
    ("special.bessel_y0", "y0", "special.bessel_y0"),
    ("special.bessel_y1", "y1", "special.bessel_y1"),
    ("special.spherical_bessel_j0", "spherical_j0", "special.spherical_bessel_j0"),
    ("special.airy_ai", "airy_ai", "special.airy_ai"),
]
# PyTorch's float64 Bessel and Airy functions lose digits just past the points where they switch
# to their asymptotic forms, its incomplete gamma functions where a is near x (tests/opinfo.py's
# LOOSER_FLOAT64 gives the figures): its tolerances there.
TORCH_FLOAT64 = {"special.bessel_j0": (1e-10, 8e-7), "special.bessel_j1": (1e-10, 1e-6),
                 "special.bessel_y0": (1e-10, 5e-7), "special.bessel_y1": (1e-10, 2e-6),
                 "special.airy_ai": (1e-10, 6e-6), "igamma": (1e-10, 1e-9),
                 "igammac": (1e-10, 1e-9)}


def resolve(lib: Any, name: str) -> Any:
    for part in name.split("."):
        lib = getattr(lib, part)
    return lib


def values(dtype: Any, seed: int = 0) -> np.ndarray:
    """The edges, then every range of the formulas: |x| up to 3, 12, 60, 150 and log-uniform."""
    rng = np.random.default_rng(seed)
    with np.errstate(over="ignore"):
        return np.concatenate([
            EDGES, rng.uniform(-3, 3, 600), rng.uniform(-12, 12, 600), rng.uniform(-60, 60, 600),
            rng.uniform(-150, 150, 300), np.exp(rng.uniform(-40, 40, 400)),
            -np.exp(rng.uniform(-40, 40, 200))]).astype(dtype)


def numpy_path(op: Any, *inputs: np.ndarray) -> np.ndarray:
    enabled = accel.enabled
    accel.enabled = False
    try:
        return op(*[bp.tensor(x) for x in inputs]).numpy()
    finally:
        accel.enabled = enabled


def assert_close(ours: np.ndarray, expected: np.ndarray, ulps: int) -> None:
    """Equal nans and infinities; elsewhere within ``ulps`` units in the last place (of the
    expected value, or of the dtype's tiny number near 0)."""
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(ours[~finite & ~np.isnan(expected)],
                                  expected[~finite & ~np.isnan(expected)])
    spacing = np.spacing(np.maximum(np.abs(expected[finite]), np.finfo(expected.dtype).tiny))
    error = np.abs(ours[finite].astype(np.float64) - expected[finite])
    assert np.all(error <= ulps * spacing.astype(np.float64)), np.max(error / spacing)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kernel, _torch_name", UNARY)
def test_kernel_agrees_with_the_numpy_path(name: str, kernel: str, _torch_name: str,
                                           dtype: Any) -> None:
    op = resolve(bp, name)
    x = values(dtype)
    assert getattr(numba_special, kernel)(x) is not None  # the kernel takes such an array
    with np.errstate(all="ignore"):
        ours = op(bp.tensor(x)).numpy()
        expected = numpy_path(op, x)
    assert ours.dtype == expected.dtype == dtype
    if dtype == np.float32:
        np.testing.assert_array_equal(ours, expected)  # the same float64 sums, rounded alike
    else:  # libm's exp, log, sin and cos against NumPy's, a rounding apart, which K's
        # cancellation near 2 (a series minus log(x / 2) I0(x)) makes a few
        assert_close(ours, expected, ulps=16)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kernel, torch_name", UNARY)
def test_kernel_agrees_with_torch(name: str, kernel: str, torch_name: str, dtype: Any) -> None:
    torch = pytest.importorskip("torch")
    x = values(dtype, seed=1)
    # Beyond 80, float32's I0 and I1 overflow where PyTorch's exp(x) in float32 does (ours,
    # computed in float64, where their values do), and the phase rounding decides J and Y.
    x = x[np.isnan(x) | (np.abs(x) < 80)]
    x = np.concatenate([x, np.zeros(256, dtype)])  # large enough for the kernel
    assert getattr(numba_special, kernel)(x) is not None
    with np.errstate(all="ignore"):
        ours = resolve(bp, name)(bp.tensor(x)).numpy()
    expected = resolve(torch, torch_name)(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))
    rtol, atol = (2e-5, 6e-6) if dtype == np.float32 else TORCH_FLOAT64.get(name, (1e-10, 1e-13))
    np.testing.assert_allclose(ours, expected, rtol=rtol, atol=atol)


def gamma_arguments(dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """(a, x): the edges against each other, then the series, the continued fraction and
    Temme's expansion (a above 1e4), with x near a where they are slowest."""
    rng = np.random.default_rng(2)
    edges = np.array([0.0, np.inf, np.nan, -1.0, 1e-30, 0.5, 1.0, 1e4, 2e5])
    a_edges, x_edges = (g.reshape(-1) for g in np.meshgrid(edges, edges))
    a = np.exp(rng.uniform(-6, 13, 3000))
    x = np.where(rng.uniform(size=3000) < 0.5, a * rng.uniform(0.8, 1.2, 3000),
                 np.exp(rng.uniform(-6, 13, 3000)))
    with np.errstate(over="ignore"):
        return (np.concatenate([a_edges, a]).astype(dtype),
                np.concatenate([x_edges, x]).astype(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_incomplete_gamma_kernel(name: str, dtype: Any) -> None:
    torch = pytest.importorskip("torch")
    op = getattr(bp, name)
    a, x = gamma_arguments(dtype)
    assert getattr(numba_special, name)(a, x) is not None
    with np.errstate(all="ignore"):
        ours = op(bp.tensor(a), bp.tensor(x)).numpy()
        expected = numpy_path(op, a, x)
    assert ours.dtype == dtype
    if dtype == np.float32:  # the NumPy code iterates converged elements on: a rounding apart
        np.testing.assert_allclose(ours, expected, rtol=2e-7, atol=1e-7)
    else:
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-14)
    theirs = getattr(torch, name)(torch.from_numpy(a), torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    rtol, atol = (1e-4, 1e-6) if dtype == np.float32 else TORCH_FLOAT64[name]
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


def test_incomplete_gamma_kernel_broadcasts() -> None:
    a = np.linspace(0.1, 30.0, 400).reshape(400, 1)
    x = np.linspace(0.0, 40.0, 3)
    assert numba_special.igamma(a, x) is not None
    ours = bp.igamma(bp.tensor(a), bp.tensor(x)).numpy()
    assert ours.shape == (400, 3)
    np.testing.assert_allclose(ours, numpy_path(bp.igamma, a, x), rtol=1e-13, atol=1e-15)


def test_kernels_decline_what_they_do_not_cover() -> None:
    x = np.linspace(0.1, 0.9, 1000)
    assert numba_special.j0(x[::2]) is None  # not contiguous
    assert numba_special.j0(x[:10]) is None  # below min_size
    assert numba_special.igamma(x, x.astype(np.float32)) is None  # two dtypes
    enabled = accel.enabled
    accel.enabled = False
    try:
        assert numba_special.i1e(x) is None
    finally:
        accel.enabled = enabled


@pytest.mark.parametrize("name", ["special.i1e", "special.i0e", "special.i1", "i0"])
def test_gradients_use_the_kernels_and_agree(name: str) -> None:
    op = resolve(bp, name)
    x = np.concatenate([values(np.float64, seed=3), np.zeros(256)])
    x = x[np.isfinite(x) & (np.abs(x) < 50)]
    t = bp.tensor(x, requires_grad=True)
    op(t).sum().backward()
    accel.enabled = False
    try:
        u = bp.tensor(x, requires_grad=True)
        op(u).sum().backward()
    finally:
        accel.enabled = True
    np.testing.assert_allclose(t.grad.numpy(), u.grad.numpy(), rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("kernel", ["i0", "i0_scaled", "i1", "i1_scaled"])
def test_float32_series_move_a_result_by_one_rounding_at_most(kernel: str) -> None:
    from backprop.ops import special_bessel

    x = values(np.float32).astype(np.float64)
    f = getattr(special_bessel, kernel)
    with np.errstate(all="ignore"):
        full = f(x).astype(np.float32)
        short = f(x, narrow=True).astype(np.float32)
    assert_close(short, full, ulps=1)
