"""The error-function family's Numba kernels (``backends._numba_erf``): erfc, ndtr, erfcx,
erfinv, ndtri and zeta, in float32 and float64, against the NumPy path and against PyTorch,
over wide ranges and the edge values (0, -0, +-inf, nan, tiny, huge, the ends of the domains).
Each test also checks that the kernel took the call, so a silent fallback to NumPy fails it.
Those are skipped, with the reason, without Numba; the NumPy path's float32 erfc and its
inverse error functions are checked here too."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.backends import numba as accel
from backprop.backends import numba_special
from backprop.ops import special_numerics

needs_numba = pytest.mark.skipif(not accel.is_available(),
                                 reason="Numba is not installed (pip install backprop[fast])")

EDGES = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 1e-300, 5e-324, 0.5, -0.5, 1.0,
         -1.0, 2.0, -2.5, 26.0, -26.0, 27.5, -27.5, 1e30, -1e30, 1e300, 3e38, -3e38]


def _real(rng: np.random.Generator) -> np.ndarray:
    """erfc's, ndtr's and erfcx's inputs: the whole line, densest where the ranges meet."""
    return np.concatenate([EDGES, rng.uniform(-12, 12, 2000), rng.uniform(-1, 1, 500),
                           rng.uniform(-40, 40, 500), [0.46875, -0.46875, 4.0, -4.0, 0.5]])


def _unit(rng: np.random.Generator) -> np.ndarray:
    """erfinv's inputs: [-1, 1] and beyond, with the tails near +-1 and 0."""
    tails = 1.0 - np.logspace(-17, -0.01, 400)
    return np.concatenate([EDGES, rng.uniform(-1, 1, 2000), tails, -tails,
                           np.logspace(-320, -1, 300), [0.999, 0.9990001, -0.999, 0.998]])


def _probability(rng: np.random.Generator) -> np.ndarray:
    """ndtri's inputs: [0, 1] and beyond, with the tails near 0 and 1."""
    return np.concatenate([EDGES, rng.uniform(0, 1, 2000), np.logspace(-323, -0.4, 600),
                           1.0 - np.logspace(-17, -0.4, 300), [0.0005, 0.9995, 0.5]])


INPUTS = {"erfc": _real, "ndtr": _real, "erfcx": _real, "erfinv": _unit, "ndtri": _probability}
OPS = {"erfc": bp.erfc, "ndtr": bp.special.ndtr, "erfcx": bp.special.erfcx,
       "erfinv": bp.erfinv, "ndtri": bp.special.ndtri}


def _cast(x: np.ndarray, dtype: Any) -> np.ndarray:
    with np.errstate(over="ignore"):  # the huge edge values are float32's inf
        return x.astype(dtype)


def _numpy_path(op: Any, *arrays: np.ndarray, monkeypatch: Any) -> np.ndarray:
    with monkeypatch.context() as patch:
        patch.setattr(accel, "enabled", False)
        return op(*[bp.tensor(a) for a in arrays]).numpy()


def _assert_close(ours: np.ndarray, expected: np.ndarray, ulps: float) -> None:
    """Equal non-finite values (and signs of zero-free infinities); finite ones within
    ``ulps`` units in the last place of the dtype (for subnormals: of the smallest normal)."""
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(ours[~finite], expected[~finite])
    tiny = np.finfo(expected.dtype).tiny
    unit = np.spacing(np.maximum(np.abs(expected[finite]), tiny)).astype(np.float64)
    error = np.abs(ours[finite].astype(np.float64) - expected[finite]) / unit
    assert error.max(initial=0.0) <= ulps, (error.max(), expected[finite][error.argmax()])


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(INPUTS))
def test_kernel_agrees_with_the_numpy_path(name: str, dtype: Any, monkeypatch: Any) -> None:
    x = _cast(INPUTS[name](np.random.default_rng(0)), dtype)
    kernel = getattr(numba_special, name)(x)
    assert kernel is not None  # the kernel took the call
    ours = OPS[name](bp.tensor(x)).numpy()
    np.testing.assert_array_equal(ours, kernel)  # and the op ran it
    # float32 against the float64 NumPy path, rounded: the kernels' float64 arithmetic (or
    # their fits to 1e-8) round to within one unit of it; float64: the same formulas, the
    # exp and log of different libraries
    expected = _numpy_path(OPS[name], x.astype(np.float64), monkeypatch=monkeypatch)
    _assert_close(ours, _cast(expected, dtype), ulps=8 if dtype == np.float64 else 1)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(INPUTS))
def test_kernel_agrees_with_torch(name: str, dtype: Any) -> None:
    torch = pytest.importorskip("torch")
    x = _cast(INPUTS[name](np.random.default_rng(1)), dtype)
    assert getattr(numba_special, name)(x) is not None
    ours = OPS[name](bp.tensor(x)).numpy()
    function = {"erfc": torch.erfc, "erfinv": torch.erfinv}.get(name) or getattr(
        torch.special, name)
    expected = function(torch.from_numpy(x)).numpy()
    # PyTorch's float32 ndtri and erfcx (near overflow) are off by some ulps; its ndtr is
    # (1 + erf(x / sqrt 2)) / 2, accurate in absolute terms only (0 below x = -8);
    # float32 subnormals may differ by one
    rtol = 1e-12 if dtype == np.float64 else 4e-6
    single = dtype == np.float32
    atol = (1e-7 if single else 1e-16) if name == "ndtr" else (1e-44 if single else 0.0)
    np.testing.assert_allclose(ours, expected, rtol=rtol, atol=atol)


@needs_numba
def test_float32_inverse_is_rounded_float64() -> None:
    """The float32 kernels' estimate, without a refinement, rounds to float64's answer."""
    rng = np.random.default_rng(2)
    for name, inverse in (("erfinv", special_numerics.erfinv), ("ndtri", special_numerics.ndtri)):
        x = _cast(INPUTS[name](rng), np.float32)
        ours = getattr(numba_special, name)(x)
        assert ours is not None
        exact = inverse(x.astype(np.float64), True)
        _assert_close(ours, _cast(exact, np.float32), ulps=1)


def _zeta_grid() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    special = np.array([-np.inf, -1e6 - 0.5, -1e6, -3000.5, -20.5, -3.0, -2.5, -1.0, -0.5,
                        -1e-20, 0.0, -0.0, 1e-20, 0.1, 0.5, 1.0, 1.5, 2.0, 3.0, 7.5, 20.0, 1e3,
                        1e10, 1e300, np.inf, np.nan])
    x, q = np.meshgrid(np.concatenate([special, rng.uniform(-5, 30, 40)]),
                       np.concatenate([special, rng.uniform(-40, 40, 40)]))
    return x, q


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zeta_kernel(dtype: Any, monkeypatch: Any) -> None:
    x, q = (_cast(a, dtype) for a in _zeta_grid())
    kernel = numba_special.zeta(x, q)
    assert kernel is not None
    ours = bp.special.zeta(bp.tensor(x), bp.tensor(q)).numpy()
    np.testing.assert_array_equal(ours, kernel)
    expected = _numpy_path(bp.special.zeta, x, q, monkeypatch=monkeypatch)
    _assert_close(ours, expected, ulps=4 if dtype == np.float64 else 1)
    torch = pytest.importorskip("torch")
    reference = torch.special.zeta(torch.from_numpy(x), torch.from_numpy(q)).numpy()
    np.testing.assert_allclose(ours, reference, rtol=1e-6 if dtype == np.float32 else 1e-12,
                               atol=1e-44 if dtype == np.float32 else 0.0)  # subnormals


@needs_numba
def test_zeta_kernel_broadcasts() -> None:
    x = np.linspace(1.5, 9.0, 300)
    q = np.array([[0.5], [2.0]])
    assert numba_special.zeta(x, q) is not None
    ours = bp.special.zeta(bp.tensor(x), bp.tensor(q)).numpy()
    np.testing.assert_allclose(ours, special_numerics.zeta(x, q), rtol=1e-15)


@needs_numba
def test_kernels_decline_what_they_do_not_cover() -> None:
    small = np.linspace(-1, 1, 10)  # below min_size: the NumPy path
    assert numba_special.erfinv(small) is None
    assert numba_special.erfc(np.ones(1000, dtype=np.float16)) is None
    assert numba_special.zeta(np.ones(1000), np.ones(1000, dtype=np.float32)) is None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accel, "enabled", False)
        assert numba_special.ndtri(np.full(1000, 0.5)) is None


def _central(low: float, high: float) -> np.ndarray:
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.uniform(low, high, 9000), np.linspace(low, high, 1001)[1:-1],
                        [0.0, -0.0, 0.5, 1e-30, -1e-30]])
    x = x[(x > low) & (x < high)].astype(np.float32)
    return x[(x > low) & (x < high)]


@needs_numba
@pytest.mark.parametrize("name, low, high", [
    ("erfc", -1.0, 1.0), ("erfinv", -0.999, 0.999), ("ndtri", 0.0005, 0.9995),
    ("erfinv", -0.97, 0.97), ("ndtri", 0.016, 0.984)])  # the two tiers of the inverses
def test_central_blocks(name: str, low: float, high: float, monkeypatch: Any) -> None:
    """The float32 kernels' shortcut for blocks whose elements all lie in the central range
    (every input here), against the float64 NumPy path rounded: within one unit."""
    x = _central(low, high)
    ours = getattr(numba_special, name)(x)
    assert ours is not None
    expected = _numpy_path(OPS[name], x.astype(np.float64), monkeypatch=monkeypatch)
    _assert_close(ours, _cast(expected, np.float32), ulps=1)


def test_numpy_float32_erfc_rounds_float64s(monkeypatch: Any) -> None:
    """The NumPy path's float32 erfc (one fit, in float64) against Cody's float64 erfc."""
    from backprop.ops.erf_numerics import erf_array

    x = _cast(_real(np.random.default_rng(4)), np.float32)
    ours = _numpy_path(bp.erfc, x, monkeypatch=monkeypatch)
    _assert_close(ours, _cast(erf_array(x.astype(np.float64), complement=True), np.float32),
                  ulps=1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["erfinv", "ndtri"])
def test_numpy_inverse_agrees_with_torch(name: str, dtype: Any, monkeypatch: Any) -> None:
    torch = pytest.importorskip("torch")
    x = _cast(INPUTS[name](np.random.default_rng(5)), dtype)
    ours = _numpy_path(OPS[name], x, monkeypatch=monkeypatch)
    function = torch.erfinv if name == "erfinv" else torch.special.ndtri
    expected = function(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-12 if dtype == np.float64 else 4e-6)


@pytest.mark.parametrize("name, low, high", [
    ("erfinv", -0.999, 0.999), ("ndtri", 0.0005, 0.9995), ("erfinv", -0.97, 0.97),
    ("ndtri", 0.016, 0.984)])
def test_numpy_central_shortcut(name: str, low: float, high: float, monkeypatch: Any) -> None:
    """The NumPy path's float32 shortcut where every element is central: the float64 answer,
    rounded (within one unit)."""
    x = _central(low, high)
    ours = _numpy_path(OPS[name], x, monkeypatch=monkeypatch)
    expected = _numpy_path(OPS[name], x.astype(np.float64), monkeypatch=monkeypatch)
    _assert_close(ours, _cast(expected, np.float32), ulps=1)
    assert np.signbit(ours[x == 0]).tolist() == np.signbit(x[x == 0]).tolist()


@needs_numba
def test_normal_icdf_takes_the_kernel() -> None:
    """Normal.icdf's quantile (its own primitive) runs ndtri's kernel too."""
    torch = pytest.importorskip("torch")
    p = _cast(_probability(np.random.default_rng(7)), np.float32)
    p = p[(p >= 0) & (p <= 1)]
    ours = bp.distributions.Normal(0.0, 1.0).icdf(bp.tensor(p)).numpy()
    np.testing.assert_array_equal(ours, numba_special.ndtri(p))
    # (PyTorch's Normal.icdf, erfinv(2p - 1) sqrt 2, loses the lower tail in float32: its
    # ndtri is the reference)
    expected = torch.special.ndtri(torch.from_numpy(p)).numpy()
    np.testing.assert_allclose(ours, expected, rtol=4e-6)
