"""The float32 row sums' Numba kernel (``backends.numba_reductions``) behind sum, mean, nansum
and the 2-norm: against float64 sums, the NumPy path and PyTorch, with edge values, and proof
that the kernel ran. Skipped, with the reason, without Numba."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.backends import numba as accel
from backprop.backends import numba_reductions

pytestmark = pytest.mark.skipif(not accel.is_available(),
                                reason="Numba is not installed (pip install backprop[fast])")

EDGES = [0.0, -0.0, 1e-38, -1e-38, 1e-45, 1e30, 2e30, 1.0, -1.0, 0.5]


def values(shape: tuple[int, ...], low: float = -1.0, high: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(sum(shape))
    return rng.uniform(low, high, shape).astype(np.float32)


def numpy_path(op: Any, *args: Any, monkeypatch: Any, **kwargs: Any) -> np.ndarray:
    with monkeypatch.context() as patch:
        patch.setattr(accel, "enabled", False)
        return op(*args, **kwargs).numpy()


def test_the_kernel_runs_and_declines() -> None:
    x = values((10, 300))
    assert numba_reductions.row_sums(x, None, False, numba_reductions.SUM) is not None
    assert numba_reductions.row_sums(x, (1,), True, numba_reductions.SUM).shape == (10, 1)
    assert numba_reductions.row_sums(x, (0,), False, numba_reductions.SUM) is None  # not rows
    assert numba_reductions.row_sums(x.astype(np.float64), None, False, 0) is None
    assert numba_reductions.row_sums(x.T, None, False, numba_reductions.SUM) is None
    assert numba_reductions.row_sums(x[:2], None, False, numba_reductions.SUM) is None  # small
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accel, "enabled", False)
        assert numba_reductions.row_sums(x, None, False, numba_reductions.SUM) is None


@pytest.mark.parametrize("shape, dim", [((100, 1000), None), ((100, 1000), 1),
                                        ((100, 1000), (0, 1)), ((4, 5, 333), (1, 2)),
                                        ((7, 3001), -1), ((100003,), 0), ((2, 3, 4096), 2)])
@pytest.mark.parametrize("op", ["sum", "mean", "nansum"])
def test_sums_match_float64_and_torch(op: str, shape: tuple[int, ...], dim: Any,
                                      monkeypatch: Any) -> None:
    torch = pytest.importorskip("torch")
    x = values(shape, 0.1, 0.9)
    if op == "nansum":
        x.reshape(-1)[::97] = np.nan
    ours = getattr(bp, op)(bp.tensor(x), dim).numpy()
    wide = np.where(np.isnan(x), 0.0, x.astype(np.float64))
    exact = wide.sum(axis=dim) / (1 if op != "mean" else x.size // np.asarray(ours).size)
    # float32 blocks added in float64: within a few float32 roundings of the exact sum, and no
    # further from it than PyTorch's cascade
    np.testing.assert_allclose(ours, exact, rtol=3e-7)
    theirs = getattr(torch, op)(torch.tensor(x), dim).numpy()
    assert np.all(np.abs(ours - exact) <= np.abs(theirs - exact) + 4e-7 * np.abs(exact))
    np.testing.assert_allclose(ours, numpy_path(getattr(bp, op), bp.tensor(x), dim,
                                                monkeypatch=monkeypatch), rtol=2e-6)


def test_edge_values_and_nan() -> None:
    x = np.tile(np.array(EDGES, np.float32), 300).reshape(30, 100)
    assert numba_reductions.row_sums(x, (1,), False, numba_reductions.SUM) is not None
    got = bp.tensor(x).sum(1).numpy()
    np.testing.assert_allclose(got, x.astype(np.float64).sum(1).astype(np.float32), rtol=1e-6)
    x[3, 7], x[5, 0], x[6, 1] = np.nan, np.inf, -np.inf
    x[7, 2], x[7, 3] = np.inf, -np.inf
    total = bp.tensor(x).sum(1).numpy()
    assert np.isnan(total[3]) and total[5] == np.inf and total[6] == -np.inf
    assert np.isnan(total[7])
    nan_free = bp.nansum(bp.tensor(x), 1).numpy()
    assert np.isfinite(nan_free[3]) and nan_free[5] == np.inf
    big = np.full((4, 1000), 3e38, np.float32)
    assert np.all(bp.tensor(big).sum(1).numpy() == np.inf)  # overflows as float32 must


@pytest.mark.parametrize("dim", [None, 1, (0, 1)])
def test_two_norm(dim: Any, monkeypatch: Any) -> None:
    torch = pytest.importorskip("torch")
    x = values((50, 400))
    assert numba_reductions.row_sums(x, None, False, numba_reductions.SQUARES) is not None
    ours = bp.linalg.vector_norm(bp.tensor(x), dim=dim).numpy()
    exact = np.sqrt((x.astype(np.float64) ** 2).sum(axis=dim))
    np.testing.assert_allclose(ours, exact, rtol=3e-7)
    np.testing.assert_allclose(ours, torch.linalg.vector_norm(torch.tensor(x), dim=dim).numpy(),
                               rtol=2e-6)
    np.testing.assert_allclose(ours, numpy_path(bp.linalg.vector_norm, bp.tensor(x), dim=dim,
                                                monkeypatch=monkeypatch), rtol=2e-6)


def test_gradients_are_the_numpy_paths() -> None:
    x = bp.tensor(values((20, 200)), requires_grad=True)
    (bp.nansum(x) + x.mean(1).sum() + x.norm()).backward()
    expected = 1 + 1 / 200 + x.detach().numpy() / np.linalg.norm(x.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
@pytest.mark.parametrize("shape", [(37, 1001), (5, 3, 200), (2049,), (3, 700)])
@pytest.mark.parametrize("dx", [1.0, 0.3, 1e-30])
def test_running_trapezoid_is_the_numpy_paths_bit_for_bit(shape: tuple[int, ...], dx: float,
                                                          monkeypatch: Any) -> None:
    x = values(shape, -5.0, 5.0)
    flat = x.reshape(-1)
    flat[[3, 500, 901]] = [np.nan, np.inf, -np.inf]
    flat[[10, 11]] = [1e38, 3e38]
    assert numba_reductions.running_trapezoid(x, x.ndim - 1, dx / 2) is not None
    ours = bp.cumulative_trapezoid(bp.tensor(x), dx=dx).numpy()
    expected = numpy_path(bp.cumulative_trapezoid, bp.tensor(x), dx=dx, monkeypatch=monkeypatch)
    np.testing.assert_array_equal(ours, expected)
    torch = pytest.importorskip("torch")
    clean = values(shape, -5.0, 5.0)
    np.testing.assert_allclose(bp.cumulative_trapezoid(bp.tensor(clean), dx=dx).numpy(),
                               torch.cumulative_trapezoid(torch.tensor(clean), dx=dx).numpy(),
                               rtol=1e-5, atol=1e-5 * dx)


def test_running_trapezoid_declines() -> None:
    x = values((10, 300))
    assert numba_reductions.running_trapezoid(x, 0, 0.5) is None  # not the last axis
    assert numba_reductions.running_trapezoid(x.astype(np.float64), 1, 0.5) is None
    assert numba_reductions.running_trapezoid(x[:, :1].copy(), 1, 0.5) is None


def test_running_trapezoid_gradient() -> None:
    torch = pytest.importorskip("torch")
    x = values((8, 400))
    ours = bp.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    w = values((8, 399))
    (bp.cumulative_trapezoid(ours, dx=0.5) * bp.tensor(w)).sum().backward()
    (torch.cumulative_trapezoid(theirs, dx=0.5) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape, dim", [((100, 1000), None), ((100, 1000), 1), ((3, 4099), -1),
                                        ((2, 3, 700), 2)])
def test_products(shape: tuple[int, ...], dim: Any, monkeypatch: Any) -> None:
    torch = pytest.importorskip("torch")
    x = values(shape, 0.99, 1.01)  # no underflow in float32, even for 1e5 factors
    assert numba_reductions.row_products(x, None if dim is None else (x.ndim - 1,),
                                         False) is not None
    ours = (bp.prod(bp.tensor(x)) if dim is None else bp.prod(bp.tensor(x), dim)).numpy()
    exact = x.astype(np.float64).prod(axis=dim)
    theirs = (torch.prod(torch.tensor(x)) if dim is None else torch.prod(torch.tensor(x), dim))
    np.testing.assert_allclose(ours, exact, rtol=3e-5)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=3e-5)
    args = (bp.tensor(x),) if dim is None else (bp.tensor(x), dim)
    np.testing.assert_allclose(ours, numpy_path(bp.prod, *args, monkeypatch=monkeypatch),
                               rtol=3e-5)


def test_product_edges() -> None:
    x = np.ones((4, 1000), np.float32)
    x[0, 5], x[1, 7], x[2, 9], x[3, 1] = 0.0, np.nan, np.inf, -2.0
    x[2, 10] = 0.0  # inf * 0
    assert numba_reductions.row_products(x, (1,), False) is not None
    got = bp.tensor(x).prod(1).numpy()
    assert got[0] == 0 and np.isnan(got[1]) and np.isnan(got[2]) and got[3] == -2.0
    huge = np.full((2, 1000), 10.0, np.float32)
    assert np.all(bp.tensor(huge).prod(1).numpy() == np.inf)  # float32 overflows
    tiny = np.full((2, 1000), 0.1, np.float32)
    assert np.all(bp.tensor(tiny).prod(1).numpy() == 0.0)


@pytest.mark.parametrize("shape, dim", [((100, 1000), 0), ((10, 30, 200), 1), ((10, 30, 200), 0),
                                        ((10, 30, 200), (0, 1)), ((3001, 64), 0)])
@pytest.mark.parametrize("op", ["sum", "mean", "nansum"])
def test_column_sums(op: str, shape: tuple[int, ...], dim: Any, monkeypatch: Any) -> None:
    torch = pytest.importorskip("torch")
    x = values(shape, 0.1, 0.9)
    if op == "nansum":
        x.reshape(-1)[::89] = np.nan
    axes = (dim,) if isinstance(dim, int) else dim
    assert numba_reductions.row_sums(x, axes, False, numba_reductions.SUM) is None
    assert numba_reductions.column_sums(x, axes, False, numba_reductions.SUM) is not None
    ours = getattr(bp, op)(bp.tensor(x), dim).numpy()
    wide = np.where(np.isnan(x), 0.0, x.astype(np.float64))
    exact = wide.sum(axis=dim) / (1 if op != "mean" else x.size // ours.size)
    np.testing.assert_allclose(ours, exact, rtol=3e-7)
    theirs = getattr(torch, op)(torch.tensor(x), dim).numpy()
    assert np.all(np.abs(ours - exact) <= np.abs(theirs - exact) + 4e-7 * np.abs(exact))
    np.testing.assert_allclose(ours, numpy_path(getattr(bp, op), bp.tensor(x), dim,
                                                monkeypatch=monkeypatch), rtol=2e-6)
    kept = getattr(bp, op)(bp.tensor(x), dim, keepdim=True)
    assert kept.shape == tuple(1 if d in axes else n for d, n in enumerate(shape))


def test_column_sums_decline_narrow_columns_and_gaps() -> None:
    x = values((3000, 8))
    assert numba_reductions.column_sums(x, (0,), False, numba_reductions.SUM) is None
    y = values((10, 20, 300))
    assert numba_reductions.column_sums(y, (0, 2), False, numba_reductions.SUM) is None


def test_column_edges() -> None:
    x = np.ones((50, 100), np.float32)
    x[3, 0], x[4, 1], x[5, 2], x[6, 2] = np.nan, np.inf, np.inf, -np.inf
    got = bp.tensor(x).sum(0).numpy()
    assert np.isnan(got[0]) and got[1] == np.inf and np.isnan(got[2]) and got[3] == 50.0
    norms = bp.linalg.vector_norm(bp.tensor(np.full((50, 100), -2.0, np.float32)), dim=0)
    np.testing.assert_allclose(norms.numpy(), np.sqrt(200.0), rtol=1e-7)


@pytest.mark.filterwarnings("ignore:invalid:RuntimeWarning", "ignore:overflow:RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(100, 1000), (3, 4, 500), (4097,)])
def test_forward_difference_bit_for_bit(dtype: Any, shape: tuple[int, ...],
                                        monkeypatch: Any) -> None:
    x = values(shape, -3.0, 3.0).astype(dtype)
    flat = x.reshape(-1)
    flat[[5, 6, 100, 200, 201]] = [np.inf, np.inf, np.nan, 3e38, -3e38]
    flat[[300, 301]] = [0.0, -0.0]
    assert numba_reductions.forward_difference(x, x.ndim - 1) is not None
    ours = bp.diff(bp.tensor(x)).numpy()
    expected = numpy_path(bp.diff, bp.tensor(x), monkeypatch=monkeypatch)
    assert ours.dtype == expected.dtype == dtype
    np.testing.assert_array_equal(ours, expected)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(expected))
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(ours, torch.diff(torch.tensor(x)).numpy())
    assert numba_reductions.forward_difference(x, 0) is None or x.ndim == 1


@pytest.mark.filterwarnings("ignore:invalid:RuntimeWarning", "ignore:overflow:RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(100, 1000), (2, 3, 500), (5000,)])
def test_products_of_others_bit_for_bit(dtype: Any, shape: tuple[int, ...]) -> None:
    from backprop.ops import reduction

    x = values(shape, 0.98, 1.02).astype(dtype)
    flat = x.reshape(-1)
    flat[[3, 700]] = 0.0  # zeros: exact products of the others, no division
    flat[[10, 11, 12]] = [np.inf, np.nan, -0.0]
    ours = numba_reductions.products_of_others(x, x.ndim - 1)
    assert ours is not None
    expected = reduction._prod_others.forward(x, x.ndim - 1)
    np.testing.assert_array_equal(ours, expected)
    assert numba_reductions.products_of_others(x, 0) is None or x.ndim == 1


def test_prod_gradient_uses_the_kernel_and_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    x = values((50, 400), 0.99, 1.01)
    x[3, 5] = 0.0
    ours = bp.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    ours.prod(1).sum().backward()
    theirs.prod(1).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=2e-5)
    assert ours.grad.numpy()[3, 6] == 0.0 and ours.grad.numpy()[3, 5] != 0.0
