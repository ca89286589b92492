"""The Numba row scans of ``backends.numba_reductions`` behind cumsum (and its VJP) and
cummax/cummin: against the NumPy path (to the bit), PyTorch, edge values (0, -0, inf, -inf, NaN,
ties, huge, tiny), float32 and float64, with proof that the kernel ran. Skipped, with the
reason, without Numba."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.backends import numba as accel
from backprop.backends import numba_reductions

pytestmark = pytest.mark.skipif(not accel.is_available(),
                                reason="Numba is not installed (pip install backprop[fast])")

@pytest.fixture(autouse=True)
def _accelerator_on(monkeypatch: Any) -> None:
    # The kernels under test run even where the suite runs with BACKPROP_NUMBA=0
    monkeypatch.setattr(accel, "enabled", True)


EDGES = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e30, -1e30, 1e-38, 1e-45, 1.0, 1.0, -1.0]


def values(shape: tuple[int, ...], dtype: Any, edges: bool) -> np.ndarray:
    rng = np.random.default_rng(sum(shape))
    x = rng.uniform(-1.0, 1.0, shape)
    if edges:
        flat = x.reshape(-1)
        where = rng.integers(0, flat.size, flat.size // 20)
        flat[where] = rng.choice(EDGES, where.size)
    x = x.astype(dtype)
    x.reshape(-1)[:: max(x.shape[-1] // 3, 1)] = x.reshape(-1)[0]  # ties
    return x


def numpy_path(op: Any, monkeypatch: Any) -> Any:
    with monkeypatch.context() as patch:
        patch.setattr(accel, "enabled", False)
        return op()


def test_the_kernels_run_and_decline(monkeypatch: Any) -> None:
    x = values((10, 300), np.float32, False)
    assert numba_reductions.running_sums(x, 1, False) is not None
    assert numba_reductions.running_sums(x, -1, True) is not None
    assert numba_reductions.running_extremes(x, 1, True) is not None
    assert numba_reductions.running_sums(x, 0, False) is not None  # columns
    assert numba_reductions.running_sums(x, 0, True, product=True) is not None
    assert numba_reductions.running_sums(values((300, 10), np.float32, False), 0,
                                         False) is None  # narrow columns
    assert numba_reductions.running_extremes(x.T, 1, True) is None  # not contiguous
    assert numba_reductions.running_sums(x[:2], 1, False) is None  # small
    assert numba_reductions.running_sums(x.astype(np.int32), 1, False) is None
    monkeypatch.setattr(accel, "enabled", False)
    assert numba_reductions.running_sums(x, 1, False) is None
    assert numba_reductions.running_extremes(x, 1, False) is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, dim", [((100, 1000), -1), ((100, 1000), 0), ((7, 3001), 0),
                                        ((3, 5, 401), -1), ((3, 5, 401), 1), ((5000,), 0)])
@pytest.mark.parametrize("edges", [False, True])
@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
def test_running_sums_and_products_match_numpy_to_the_bit(op: str, dtype: Any,
                                                          shape: tuple[int, ...], dim: int,
                                                          edges: bool, monkeypatch: Any) -> None:
    """cumsum (its VJP: the reversed running sum) and cumprod, along rows and columns: the
    NumPy path's numbers to the bit, and PyTorch's (in float64) within rounding."""
    torch = pytest.importorskip("torch")
    x = values(shape, dtype, edges)
    if op == "cumprod":  # factors near 1, so the products neither vanish nor overflow
        x = (np.float32(1.0) + x / np.float32(50.0)).astype(dtype)
    g = values(shape[::-1], dtype, edges).reshape(shape)
    calls = []
    original = numba_reductions._load

    def counting() -> Any:
        calls.append(1)
        return original()

    def run() -> tuple[np.ndarray, np.ndarray]:
        t = bp.tensor(x, requires_grad=True)
        out = getattr(bp, op)(t, dim)
        out.backward(bp.tensor(g))
        return out.detach().numpy(), t.grad.numpy()

    monkeypatch.setattr(numba_reductions, "_load", counting)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        fast = run()
        assert len(calls) >= 2  # forward and VJP both reached a kernel
        slow = numpy_path(run, monkeypatch)
    np.testing.assert_array_equal(fast[0], slow[0])
    np.testing.assert_array_equal(fast[1], slow[1])
    if not edges:
        expected = getattr(torch, op)(torch.from_numpy(x.astype(np.float64)), dim).numpy()
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(fast[0], expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(100, 1000), (7, 3001), (3, 5, 401), (5000,)])
@pytest.mark.parametrize("edges", [False, True])
@pytest.mark.parametrize("op", ["cummax", "cummin"])
def test_running_extremes_match_numpy_and_torch(op: str, dtype: Any, shape: tuple[int, ...],
                                                edges: bool, monkeypatch: Any) -> None:
    torch = pytest.importorskip("torch")
    x = values(shape, dtype, edges)
    assert numba_reductions.running_extremes(x, -1, op == "cummax") is not None  # it runs
    fast = getattr(bp, op)(bp.tensor(x), -1)
    slow = numpy_path(lambda: getattr(bp, op)(bp.tensor(x), -1), monkeypatch)
    np.testing.assert_array_equal(fast.values.numpy(), slow.values.numpy())
    np.testing.assert_array_equal(fast.indices.numpy(), slow.indices.numpy())
    expected = getattr(torch, op)(torch.from_numpy(x), -1)
    np.testing.assert_array_equal(fast.values.numpy(), expected.values.numpy())
    np.testing.assert_array_equal(fast.indices.numpy(), expected.indices.numpy())
    # The gradient goes to the index each output took
    t = bp.tensor(x, requires_grad=True)
    with np.errstate(invalid="ignore"):  # inf - inf in the sum, which is not checked
        getattr(bp, op)(t, -1).values.sum().backward()
    counts = np.zeros(x.shape).reshape(-1, x.shape[-1])
    for row, at in zip(counts, expected.indices.numpy().reshape(-1, x.shape[-1])):
        np.add.at(row, at, 1.0)
    np.testing.assert_array_equal(t.grad.numpy(), counts.reshape(x.shape))


@pytest.mark.parametrize("shape, dim", [((100, 1000), 1), ((100, 1000), (0, 1)),
                                        ((3, 5, 401), -1), ((100, 1000), 0)])
@pytest.mark.parametrize("edges", [False, True])
def test_logsumexp_sums_by_the_kernel(shape: tuple[int, ...], dim: Any, edges: bool,
                                      monkeypatch: Any) -> None:
    """logsumexp's float32 sums of exponentials go to the row (or column) sums kernel: within
    float32 rounding of float64 and of PyTorch, NaN and infinities where they fall."""
    torch = pytest.importorskip("torch")
    x = values(shape, np.float32, edges) * np.float32(30.0)
    if edges:
        x[0] = -np.inf  # an all -inf slice (along dim 1): -inf
    calls = []
    original = numba_reductions.sums

    def counting(*args: Any) -> Any:
        out = original(*args)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(numba_reductions, "sums", counting)
    with np.errstate(invalid="ignore", over="ignore"):  # exp(huge) beside an infinite max
        ours = bp.logsumexp(bp.tensor(x), dim).numpy()
        assert calls == [True]
        slow = numpy_path(lambda: bp.logsumexp(bp.tensor(x), dim).numpy(), monkeypatch)
    expected = torch.logsumexp(torch.from_numpy(x.astype(np.float64)), dim).numpy()
    np.testing.assert_allclose(ours, expected, rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(ours, slow, rtol=2e-6, atol=1e-6)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))


@pytest.mark.parametrize("shape", [(8, 64, 14, 14), (10, 10, 10, 100), (2, 3, 7, 7, 7)])
def test_global_average_pooling_sums_by_the_kernel(shape: tuple[int, ...],
                                                   monkeypatch: Any) -> None:
    """adaptive_avg_pool(x, 1) (and an avg_pool whose window is the whole input) sums each
    channel by the row sums kernel: within float32 rounding of float64 and of PyTorch."""
    torch = pytest.importorskip("torch")
    x = values(shape, np.float32, False)
    calls = []
    original = numba_reductions.sums

    def counting(*args: Any) -> Any:
        out = original(*args)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(numba_reductions, "sums", counting)
    op = "adaptive_avg_pool2d" if len(shape) == 4 else "adaptive_avg_pool3d"
    t = bp.tensor(x, requires_grad=True)
    out = getattr(bp.nn.functional, op)(t, 1)
    assert calls == [True]
    out.sum().backward()
    expected = getattr(torch.nn.functional, op)(torch.from_numpy(x.astype(np.float64)), 1)
    np.testing.assert_allclose(out.detach().numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(t.grad.numpy(), 1.0 / np.prod(shape[2:]), rtol=1e-6)
    slow = numpy_path(lambda: getattr(bp.nn.functional, op)(bp.tensor(x), 1).numpy(),
                      monkeypatch)
    np.testing.assert_allclose(out.detach().numpy(), slow, rtol=1e-6, atol=1e-7)
