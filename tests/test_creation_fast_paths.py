"""The creation ops' fast paths (issue 17): arange's integral float ranges and the exact-product
shortcut of its and linspace's fused multiply-adds, the per-row construction of tril_indices and
triu_indices (and their Numba kernel), and the short paths of empty_strided, empty_permuted and
scalar_tensor. Each is checked against PyTorch bit for bit (signs of zero included) and, where
a slower path exists, against it; each test also checks that the fast path took the call."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop import creation
from backprop.backends import numba as accel

torch = pytest.importorskip("torch")

needs_numba = pytest.mark.skipif(not accel.is_available(),
                                 reason="Numba is not installed (pip install backprop[fast])")

@pytest.fixture(autouse=True)
def torch_default_float32() -> Any:
    """PyTorch's out-of-the-box default dtype, as ours, whatever ran before (conftest's ``torch``
    fixture sets float64 for the rest of the session)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    yield
    torch.set_default_dtype(previous)


TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64,
                np.dtype(np.float16): torch.float16, np.dtype(np.int64): torch.int64,
                np.dtype(np.int32): torch.int32}


def _same_bits(ours: np.ndarray, theirs: np.ndarray) -> None:
    """Equal dtype, shape and values, with NaNs equal and the signs of zeros compared."""
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)
    if ours.dtype.kind == "f":
        np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))


# -- arange --------------------------------------------------------------------------------------

INTEGRAL_RANGES = [(0, 100000, 1), (-5, 5, 1), (0.0, 10.0, 1.0), (-0.0, 7.0, 1.0),
                   (-0.0, -7.0, -1.0), (0, -9, -1), (3, -3, -2), (0, 2**24, 4096),
                   (-2**22, 2**22, 2**20), (0.0, -20.0, -3.0), (10, 1000, 7)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("start", "end", "step"), INTEGRAL_RANGES)
def test_arange_integral_range_matches_torch(start: Any, end: Any, step: Any, dtype: Any,
                                             monkeypatch: Any) -> None:
    taken = []
    fast = creation._integral_float_range
    monkeypatch.setattr(creation, "_integral_float_range",
                        lambda *args: taken.append(args) or fast(*args))
    ours = bp.arange(start, end, step, dtype=np.dtype(dtype)).numpy()
    theirs = torch.arange(start, end, step, dtype=TORCH_DTYPES[np.dtype(dtype)]).numpy()
    assert taken, "the integral fast path did not run"
    _same_bits(ours, theirs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("start", "end", "step"),
                         [(0, 1, 0.001), (-0.0, -3.0, -0.25), (-1e-300, -50.0, -1.0),
                          (0.5, 9.5, 0.5),
                          (1e8, 1e8 + 100, 0.75), (-3.3, 4.4, 0.1), (0, 2**25, 1), (0.1, 1e5, 1.0),
                          (0, -7e-300, -1e-300), (0, -40e-300, -1e-300)])
def test_arange_other_ranges_match_torch(start: Any, end: Any, step: Any, dtype: Any) -> None:
    ours = bp.arange(start, end, step, dtype=np.dtype(dtype)).numpy()
    theirs = torch.arange(start, end, step, dtype=TORCH_DTYPES[np.dtype(dtype)]).numpy()
    _same_bits(ours, theirs)


def test_exact_product_rule() -> None:
    assert creation._exact_product(1.0, 2**52 - 1) and not creation._exact_product(1.0, 2**53)
    assert creation._exact_product(0.25, 2**52 - 1) and creation._exact_product(0.0, 2**62)
    assert not creation._exact_product(0.1, 3)  # 53 significant bits
    assert creation._exact_product(float(np.float32(0.1)), 2**29 - 1)
    assert not creation._exact_product(float(np.float32(0.1)), 2**30)
    assert not creation._exact_product(math.inf, 1) and not creation._exact_product(math.nan, 1)


@pytest.mark.parametrize("c", [0.0, -0.0, 1.5, -7.25, 1e300, -1e-300, math.inf, math.nan])
def test_fma_index_matches_the_fused_reference(c: float) -> None:
    """Where the product is exact, the two-pass shortcut gives ``_fma``'s bits (zeros' signs too);
    elsewhere it is ``_fma`` itself."""
    rng = np.random.default_rng(0)
    index = np.arange(-3000, 3000)
    for a in [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, float(np.float32(0.1)), float(np.float32(-1 / 3)),
              0.1, 1e300, 3.0e-310, *rng.standard_normal(20).astype(np.float32).tolist()]:
        expected = creation._fma(a, index, c)
        ours = creation._fma_index(a, index, 3000, c)
        _same_bits(ours, expected)
        vector_c = np.full(index.shape, c)
        _same_bits(creation._fma_index(a, index, 3000, vector_c),
                   creation._fma(a, index, vector_c))


# -- linspace ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32])
@pytest.mark.parametrize("steps", [2, 3, 4, 5, 10, 11, 1000, 100001])
@pytest.mark.parametrize(("start", "end"),
                         [(0, 1), (-0.0, 1), (1, -0.0), (-7, 0.0), (-2.5, 1e6), (3, 3),
                          (1e30, -1e30), (0.1, 0.7), (-1, 255), (-7, -0.0), (-0.0, -3)])
def test_linspace_matches_torch(start: Any, end: Any, steps: int, dtype: Any) -> None:
    try:
        theirs = torch.linspace(start, end, steps, dtype=TORCH_DTYPES[np.dtype(dtype)]).numpy()
    except RuntimeError:  # a bound beyond an integer dtype
        with pytest.raises(OverflowError, match="linspace"):
            bp.linspace(start, end, steps, dtype=np.dtype(dtype))
        return
    ours = bp.linspace(start, end, steps, dtype=np.dtype(dtype)).numpy()
    _same_bits(ours, theirs)


# -- tril_indices, triu_indices ------------------------------------------------------------------

SHAPES = [(0, 0), (0, 5), (5, 0), (1, 1), (3, 7), (7, 3), (40, 40), (447, 447), (300, 120),
          (90, 500)]
OFFSETS = [-(2**70), -600, -5, -1, 0, 1, 3, 650, 2**70]


def _torch_indices(name: str, row: int, col: int, offset: int, dtype: Any) -> np.ndarray:
    offset = min(max(offset, -row - 1), col + 1)  # torch refuses offsets beyond int64
    return getattr(torch, name)(row, col, offset, dtype=TORCH_DTYPES[np.dtype(dtype)]).numpy()


@pytest.mark.parametrize("numba", [False, True])
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
def test_triangle_indices_match_torch(name: str, dtype: Any, numba: bool,
                                      monkeypatch: Any) -> None:
    if numba and not accel.is_available():
        pytest.skip("Numba is not installed (pip install backprop[fast])")
    monkeypatch.setattr(accel, "enabled", numba)
    ran = []
    run = accel._run
    monkeypatch.setattr(accel, "_run",
                        lambda kernel, *args: ran.append(kernel) or run(kernel, *args))
    for (row, col), offset in itertools.product(SHAPES, OFFSETS):
        ours = getattr(bp, name)(row, col, offset, dtype=np.dtype(dtype)).numpy()
        _same_bits(ours, _torch_indices(name, row, col, offset, dtype))
    if numba:
        assert ran, "the Numba kernel did not run"
    else:
        assert not ran


# -- empty_strided, empty_permuted, scalar_tensor ------------------------------------------------

@pytest.mark.parametrize(("size", "stride"),
                         [((100, 1000), (1000, 1)), ((2, 3, 4), (12, 4, 1)), ((0, 3), (3, 1)),
                          ((1, 5), (5, 1)), ((3,), (1,)), ((), ()), ((2, 3), (1, 2)),
                          ((4, 1, 2), (2, 2, 1))])
def test_empty_strided_layout_matches_torch(size: Any, stride: Any) -> None:
    ours = bp.empty_strided(size, stride)
    theirs = torch.empty_strided(size, stride)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == np.float32
    if all(size):
        assert ours.stride() == theirs.stride()


def test_empty_strided_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="empty_strided"):
        bp.empty_strided((-1, 3), (3, 1))
    with pytest.raises(bp.ShapeError if hasattr(bp, "ShapeError") else Exception,
                       match="empty_strided"):
        bp.empty_strided((2, 3), (1,))


@pytest.mark.parametrize("layout", [(0, 1), (1, 0)])
def test_empty_permuted_layout_matches_torch(layout: Any) -> None:
    ours = bp.empty_permuted((100, 1000), layout, requires_grad=True)
    theirs = torch.empty_permuted((100, 1000), layout)
    assert ours.shape == tuple(theirs.shape) and ours.stride() == theirs.stride()
    assert ours.requires_grad


@pytest.mark.parametrize("value", [1.5, 0.1, -0.0, 1e-45, 3.4028234e38, -3.4028234e38, math.inf,
                                   -math.inf, math.nan, 5, True])
@pytest.mark.parametrize("dtype", [None, bp.float64, bp.int64])
def test_scalar_tensor_matches_torch(value: Any, dtype: Any) -> None:
    try:
        theirs = torch.scalar_tensor(value, dtype=None if dtype is None else TORCH_DTYPES[dtype])
    except (RuntimeError, OverflowError):
        with pytest.raises((RuntimeError, OverflowError, ValueError)):
            bp.scalar_tensor(value, dtype=dtype)
        return
    _same_bits(bp.scalar_tensor(value, dtype=dtype).numpy(), theirs.numpy())
