"""The fast float32 ``fmod``, ``remainder`` and ``floor_divide``: the Numba kernels
(``backends.numba_pointwise``) and the NumPy kernels (``ops.division_numerics``) give NumPy's
own results bit for bit (nan where NumPy has nan), on random bit patterns, integers, huge and
tiny quotients and every pair of special values; each test checks that its fast path ran."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.backends import numba as accel
from backprop.backends import numba_pointwise
from backprop.ops import division_numerics

SPECIALS = np.float32([0.0, -0.0, np.inf, -np.inf, np.nan, 1, -1, 2, -2, 3, 0.5, -0.5, 7, 1e-45,
                       -1e-45, 1.1754944e-38, 3.4028235e38, -3.4028235e38, 1e30, 3e-7, 0.1])
OPS = {"fmod": np.fmod, "remainder": np.remainder, "floor_divide": np.floor_divide}
REFERENCES = {**OPS, "hypot": np.hypot}


@pytest.fixture(autouse=True)
def accelerator_on(monkeypatch: Any) -> None:
    """The kernels on wherever Numba is installed, even under BACKPROP_NUMBA=0 (the tests that
    check the NumPy path switch it off themselves)."""
    monkeypatch.setattr(accel, "enabled", accel.is_available())


def operands() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    n = 20_000

    def bits() -> np.ndarray:
        return rng.integers(0, 2 ** 32, n, dtype=np.uint64).astype(np.uint32).view(np.float32)

    steps = np.float32([0.1, 0.3, 1.7, 1e-3, 3, -0.1])
    return [
        (bits(), bits()),
        (rng.uniform(-10, 10, n).astype(np.float32), rng.uniform(-3, 3, n).astype(np.float32)),
        (rng.integers(-100, 100, n).astype(np.float32),
         rng.integers(-10, 10, n).astype(np.float32)),
        (rng.uniform(-1e9, 1e9, n).astype(np.float32), rng.uniform(-3, 3, n).astype(np.float32)),
        # multiples of the divisor and near-multiples: quotients next to integers
        ((rng.integers(-2 ** 20, 2 ** 20, n) * rng.choice(steps, n)).astype(np.float32),
         rng.choice(steps, n)),
        (np.repeat(SPECIALS, SPECIALS.size), np.tile(SPECIALS, SPECIALS.size)),
    ]


def assert_same_bits(ours: np.ndarray, expected: np.ndarray) -> None:
    assert ours.dtype == expected.dtype and ours.shape == expected.shape
    nan = np.isnan(expected)
    np.testing.assert_array_equal(np.isnan(ours), nan)
    np.testing.assert_array_equal(ours[~nan].view(np.uint32), expected[~nan].view(np.uint32))


def reference(op: str, a: Any, b: Any) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(REFERENCES[op](a, b))


@pytest.mark.parametrize("case", range(6))
@pytest.mark.parametrize("op", ["fmod", "remainder"])
def test_numpy_kernel_is_bit_for_bit(op: str, case: int) -> None:
    a, b = operands()[case]
    fast = getattr(division_numerics, f"{op}_float32")
    assert division_numerics.applies(a, b)
    assert_same_bits(fast(a, b), reference(op, a, b))
    # broadcasting against one element, either way round, and against a row
    assert_same_bits(fast(a, b[:1]), reference(op, a, b[:1]))
    assert_same_bits(fast(a[3:4], b), reference(op, a[3:4], b))
    assert_same_bits(fast(a[:200].reshape(2, 100), b[:100]),
                     reference(op, a[:200].reshape(2, 100), b[:100]))


def test_numpy_kernel_declines_what_it_does_not_cover() -> None:
    x = np.ones(1000, np.float32)
    assert not division_numerics.applies(x.astype(np.float64), x.astype(np.float64))
    assert not division_numerics.applies(x[:3], x[:3])  # small: NumPy's own is as fast
    assert not division_numerics.applies(np.float32(1.0), x)  # a NumPy scalar, not an array


needs_numba = pytest.mark.skipif(not accel.is_available(),
                                 reason="Numba is not installed (pip install backprop[fast])")


@needs_numba
@pytest.mark.parametrize("case", range(6))
@pytest.mark.parametrize("op", sorted(OPS))
def test_numba_kernel_is_bit_for_bit(op: str, case: int) -> None:
    a, b = operands()[case]
    kernel = getattr(numba_pointwise, op)
    for x, y in [(a, b), (a, b[:1]), (a[3:4], b), (a[:420].reshape(20, 21), np.float32(b[0])),
                 (a, float(b[1]))]:
        ours = kernel(x, y)
        assert ours is not None  # the kernel took it
        assert_same_bits(ours, reference(op, x, np.float32(y) if type(y) is float else y))


@needs_numba
def test_numba_kernel_declines_what_it_does_not_cover(monkeypatch: Any) -> None:
    x = np.ones(1000, np.float32)
    assert numba_pointwise.fmod(x.astype(np.float64), x.astype(np.float64)) is None
    assert numba_pointwise.fmod(x[::2], x[::2]) is None  # not contiguous
    assert numba_pointwise.fmod(x.reshape(10, 100), x[:10].reshape(10, 1)) is None  # broadcast
    assert numba_pointwise.fmod(x, 1e300) is None  # float32 cannot hold the number
    with monkeypatch.context() as patch:
        patch.setattr(accel, "enabled", False)
        assert numba_pointwise.fmod(x, x) is None


@pytest.mark.parametrize("numba_on", [True, False])
@pytest.mark.parametrize("op", sorted(OPS))
def test_ops_agree_with_numpy_and_torch(op: str, numba_on: bool, monkeypatch: Any) -> None:
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(accel, "enabled", numba_on and accel.is_available())
    for a, b in operands()[1:5]:  # (PyTorch's vectorised fmod differs from C's for some specials)
        ours = getattr(bp, op)(bp.tensor(a), bp.tensor(b)).numpy()
        assert_same_bits(ours, reference(op, a, b))
        theirs = getattr(torch, op)(torch.tensor(a), torch.tensor(b)).numpy()
        nan = np.isnan(theirs)
        np.testing.assert_array_equal(np.isnan(ours), nan)
        np.testing.assert_array_equal(ours[~nan], theirs[~nan])  # -0.0 == 0.0 here


@pytest.mark.parametrize("dtype", [np.float64, np.int32])
@pytest.mark.parametrize("op", sorted(OPS))
def test_other_dtypes_keep_numpy(op: str, dtype: Any) -> None:
    rng = np.random.default_rng(1)
    a = rng.uniform(-50, 50, 1000).astype(dtype)
    b = rng.choice(np.array([-7, -3, 2, 5], dtype), 1000)
    np.testing.assert_array_equal(getattr(bp, op)(bp.tensor(a), bp.tensor(b)).numpy(),
                                  reference(op, a, b))


# -- one-pass kernels: hypot, the real angle, sign, hardshrink -------------------------------------

def floats(dtype: Any) -> np.ndarray:
    rng = np.random.default_rng(2)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 0.5, -0.5, 1e-45, -1e-45, 3e38,
                         -3e38, 1e-310, -1e-310, 1.0, -1.0], dtype)
    return np.concatenate([specials, rng.uniform(-2, 2, 3000).astype(dtype),
                           rng.standard_normal(1000).astype(dtype) * 1e20])


def angle_reference(x: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(x), x, np.where(x < 0, np.pi, 0.0)).astype(x.dtype)


def sign_reference(x: np.ndarray) -> np.ndarray:
    return ((x > 0).astype(x.dtype) - (x < 0).astype(x.dtype))


def hardshrink_reference(x: np.ndarray, lambd: float) -> np.ndarray:
    return np.where((x >= -lambd) & (x <= lambd), x.dtype.type(0), x)


def assert_same(ours: np.ndarray, expected: np.ndarray) -> None:
    """The same values, nan where nan, and the same signs of zeros."""
    assert ours.dtype == expected.dtype
    np.testing.assert_array_equal(ours, expected)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(expected))


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unary_numba_kernels(dtype: Any) -> None:
    x = floats(dtype)
    with np.errstate(all="ignore"):
        cases = [(numba_pointwise.angle(x), angle_reference(x)),
                 (numba_pointwise.sign(x), sign_reference(x))]
        for lambd in (0.5, 0.0, 1e-45, 1e30, -1.0):
            cases.append((numba_pointwise.hardshrink(x, lambd), hardshrink_reference(x, lambd)))
    for ours, expected in cases:
        assert ours is not None  # the kernel took it
        assert_same(ours, expected)


@pytest.mark.parametrize("numba_on", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unary_ops_agree_with_torch(dtype: Any, numba_on: bool, monkeypatch: Any) -> None:
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(accel, "enabled", numba_on and accel.is_available())
    x = floats(dtype)
    t = torch.tensor(x)
    pairs = [(bp.angle(bp.tensor(x)), torch.angle(t)), (bp.sign(bp.tensor(x)), torch.sign(t)),
             (bp.sgn(bp.tensor(x)), torch.sgn(t))]
    for lambd in (0.5, 0.0, 1e30, -1.0):
        pairs.append((bp.hardshrink(bp.tensor(x), lambd),
                      torch.nn.functional.hardshrink(t, lambd)))
    for ours, theirs in pairs:
        assert_same(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hardshrink_bits_kernel(dtype: Any) -> None:
    from backprop.ops.pointwise_tail import _hardshrink_bits
    x = floats(dtype)
    for lambd in (0.5, 0.0, 1e-45, 1e30, 3.5e38):
        assert_same(_hardshrink_bits(x, lambd), hardshrink_reference(x, lambd))
    assert _hardshrink_bits(x, -1.0) is None  # an empty interval: the plain forward
    assert _hardshrink_bits(x, float("nan")) is None


@pytest.mark.parametrize("numba_on", [True, False])
def test_hypot_is_bit_for_bit(numba_on: bool, monkeypatch: Any) -> None:
    monkeypatch.setattr(accel, "enabled", numba_on and accel.is_available())
    for a, b in operands():
        if numba_on:
            assert numba_pointwise.hypot(a, b) is not None
        assert_same_bits(bp.hypot(bp.tensor(a), bp.tensor(b)).numpy(), reference("hypot", a, b))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["logaddexp", "logaddexp2"])
def test_logaddexp_kernel(op: str, dtype: Any) -> None:
    from backprop.ops.pointwise_more import _logaddexp_numpy
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 100.0, -100.0, 3e38],
                        dtype)
    a = np.concatenate([np.repeat(specials, specials.size), rng.uniform(-30, 30, 5000)]).astype(dtype)
    b = np.concatenate([np.tile(specials, specials.size), rng.uniform(-30, 30, 5000)]).astype(dtype)
    ours = _logaddexp_numpy(a, b, base2=op == "logaddexp2")
    assert ours is not None
    with np.errstate(all="ignore"):
        expected = getattr(np, op)(a, b)
    # exp and log1p are NumPy's vector loops, not C's: within an ulp of the larger operand
    tolerance = 2 * np.finfo(dtype).eps * np.maximum(np.abs(np.maximum(a, b)), 1)
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))
    np.testing.assert_array_equal(ours[~finite & ~np.isnan(expected)],
                                  expected[~finite & ~np.isnan(expected)])
    assert (np.abs(ours - expected)[finite] <= tolerance[finite]).all()
    theirs = getattr(torch, op)(torch.tensor(a), torch.tensor(b)).numpy()
    assert (np.abs(ours - theirs)[finite] <= tolerance[finite]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lerp_kernels_agree_with_numpy_and_torch(dtype: Any, monkeypatch: Any) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = floats(dtype)
    end = rng.permutation(x)
    weight = np.concatenate([np.array([0.5, -0.5, 0.4999, 1.0, 0.0, -0.0, np.nan, np.inf], dtype),
                             rng.uniform(-1.5, 1.5, x.size - 8).astype(dtype)])
    with np.errstate(all="ignore"):
        expected = np.where(np.abs(weight) < 0.5, x + weight * (end - x),
                            end - (end - x) * (1 - weight))
    if accel.is_available():
        ours = numba_pointwise.lerp(x, end, weight)
        assert ours is not None  # the kernel took it
        np.testing.assert_array_equal(ours, expected)
    monkeypatch.setattr(accel, "enabled", False)
    with np.errstate(all="ignore"):
        numpy_path = bp.lerp(bp.tensor(x), bp.tensor(end), bp.tensor(weight)).numpy()
    np.testing.assert_array_equal(numpy_path, expected)
    finite = (np.isfinite(x) & np.isfinite(end) & np.isfinite(weight) & (np.abs(x) < 1e30)
              & np.isfinite(expected))
    theirs = torch.lerp(torch.tensor(x[finite]), torch.tensor(end[finite]),
                        torch.tensor(weight[finite])).numpy()
    # PyTorch's vector loop fuses the multiply-add: within a few ulps of the operands
    scale = (np.abs(x[finite]) + np.abs(end[finite])) * (1 + np.abs(weight[finite]))
    assert (np.abs(expected[finite] - theirs) <= 4 * np.finfo(dtype).eps * scale).all()


@pytest.mark.parametrize("value", [1, 0.5, -3, 1e30])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["addcmul", "addcdiv"])
def test_addc_kernels_are_bit_for_bit(op: str, dtype: Any, value: Any, monkeypatch: Any) -> None:
    rng = np.random.default_rng(5)
    x = floats(dtype)
    t1, t2 = rng.permutation(x), rng.permutation(x)
    ins = [bp.tensor(a) for a in (x, t1, t2)]
    with np.errstate(all="ignore"):
        if accel.is_available():
            assert getattr(numba_pointwise, op)(x, t1, t2, value=value) is not None
        ours = getattr(bp, op)(*ins, value=value).numpy()
        monkeypatch.setattr(accel, "enabled", False)
        numpy_path = getattr(bp, op)(*ins, value=value).numpy()
        term = t1 / t2 if op == "addcdiv" else t1 * t2
        expected = x + term * dtype(value) if value != 1 else x + term
    np.testing.assert_array_equal(ours, expected)
    np.testing.assert_array_equal(numpy_path, expected)
