"""``backends.numba_outer``'s kernels (outer/ger, addr, kron of matrices) against NumPy's
broadcast multiply and PyTorch, bit for bit (each element is the one product NumPy computes),
over random, signed-zero, inf, NaN, huge and tiny entries in float32 and float64; with Numba
present each check asserts that the kernel ran (``numba_outer.calls``), so a silent fallback
fails, and that switching ``bp.backends.numba.enabled`` off gives the same numbers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from numba_checks import kernel_ran, numba_switched_on

import backprop as bp
from backprop.backends import numba as numba_switch
from backprop.backends import numba_outer

torch = pytest.importorskip("torch")

FLOATS = [np.float32, np.float64]
needs_numba = pytest.mark.skipif(not (numba_switch.enabled and numba_switch.is_available()),
                                 reason="Numba absent or switched off")
EDGES = [0.0, -0.0, 1.0, -2.5, np.inf, -np.inf, np.nan, 1e38, -1e38, 1e-38, 1e-45, 3e300]


accelerator_on = pytest.fixture(autouse=True)(numba_switched_on)


def ran(name: str) -> Any:
    return kernel_ran(numba_outer, name)


@contextmanager
def accelerator_off() -> Iterator[None]:
    saved = numba_switch.enabled
    numba_switch.enabled = False
    try:
        yield
    finally:
        numba_switch.enabled = saved


def vector(n: int, dtype: Any, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(n) * 10.0 ** rng.integers(-5, 5, n)
    with np.errstate(over="ignore"):
        out = values.astype(dtype)
        out[:len(EDGES)] = np.array(EDGES[:n]).astype(dtype)
    return rng.permutation(out)


def same(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)  # NaN == NaN here, and bit-equal values


@needs_numba
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("sizes", [(316, 316), (17, 40), (1, 300), (300, 1)])
def test_outer_and_ger(dtype: Any, sizes: tuple) -> None:
    a, b = vector(sizes[0], dtype, 1), vector(sizes[1], dtype, 2)
    with np.errstate(all="ignore"):
        expected = np.multiply.outer(a, b)
        with ran("outer"):
            ours = bp.outer(bp.tensor(a), bp.tensor(b)).numpy()
        same(ours, expected)
        same(bp.ger(bp.tensor(a), bp.tensor(b)).numpy(), expected)
        with accelerator_off():
            same(bp.outer(bp.tensor(a), bp.tensor(b)).numpy(), expected)
        same(ours, torch.outer(torch.from_numpy(a), torch.from_numpy(b)).numpy())


@needs_numba
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0), (0, 1), (1, -3.0)])
def test_addr(dtype: Any, beta: float, alpha: float) -> None:
    a, b = vector(40, dtype, 3), vector(30, dtype, 4)
    c = np.random.default_rng(5).standard_normal((40, 30)).astype(dtype)
    c[0, 0] = np.nan
    args = (bp.tensor(c), bp.tensor(a), bp.tensor(b))
    with np.errstate(all="ignore"):
        with ran("outer"):
            ours = bp.addr(*args, beta=beta, alpha=alpha).numpy()
        with accelerator_off():
            same(ours, bp.addr(*args, beta=beta, alpha=alpha).numpy())
        expected = torch.addr(torch.from_numpy(c), torch.from_numpy(a), torch.from_numpy(b),
                              beta=beta, alpha=alpha).numpy()
    finite = np.isfinite(expected) & np.isfinite(ours)
    assert np.array_equal(np.isnan(ours), np.isnan(expected))
    # PyTorch may round beta * input + alpha * a b in another order: its error is relative to
    # the terms' size, not the (possibly cancelled) sum's.
    with np.errstate(all="ignore"):
        size = (np.abs(alpha * np.multiply.outer(a, b)) + (np.abs(beta * c) if beta else 0))[finite]
    eps = np.finfo(dtype).eps
    assert np.all(np.abs(ours[finite] - expected[finite]) <= 4 * eps * size)


@needs_numba
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shapes", [((10, 32), (10, 32)), ((3, 7), (20, 5)), ((1, 300), (2, 1))])
def test_kron_of_matrices(dtype: Any, shapes: tuple) -> None:
    a = vector(int(np.prod(shapes[0])), dtype, 6).reshape(shapes[0])
    b = vector(int(np.prod(shapes[1])), dtype, 7).reshape(shapes[1])
    with np.errstate(all="ignore"):
        expected = np.kron(a, b)
        with ran("kron2"):
            ours = bp.kron(bp.tensor(a), bp.tensor(b)).numpy()
        same(ours, expected)
        with accelerator_off():
            same(bp.kron(bp.tensor(a), bp.tensor(b)).numpy(), expected)
        same(ours, torch.kron(torch.from_numpy(a), torch.from_numpy(b)).numpy())


def test_declines_what_it_does_not_cover() -> None:
    f32, f64 = np.ones(300, np.float32), np.ones(300)
    assert numba_outer.outer(f32, f64) is None  # mixed dtypes: the NumPy code promotes
    assert numba_outer.outer(np.ones(300, np.int64), np.ones(300, np.int64)) is None
    assert numba_outer.outer(np.ones(3), np.ones(3)) is None  # below min_size
    assert numba_outer.outer(f64[::2], f64[::2]) is None  # not contiguous
    assert numba_outer.kron2(np.ones((20, 20)), np.ones(20)) is None  # not two matrices
    readonly = np.ones(300)
    readonly.flags.writeable = False
    assert numba_outer.outer(readonly, f64) is None
    with accelerator_off():
        assert numba_outer.outer(f64, f64) is None


def test_gradients_take_the_differentiable_code() -> None:
    a = bp.tensor(np.linspace(-1, 1, 300), requires_grad=True)
    b = bp.tensor(np.linspace(0, 2, 300), requires_grad=True)
    before = numba_outer.calls.get("outer", 0)
    bp.outer(a, b).sum().backward()
    assert numba_outer.calls.get("outer", 0) == before
    np.testing.assert_allclose(a.grad.numpy(), np.full(300, b.detach().numpy().sum()))
    m = bp.tensor(np.ones((20, 20)), requires_grad=True)
    bp.kron(m, m).sum().backward()
    np.testing.assert_allclose(m.grad.numpy(), np.full((20, 20), 800.0))  # m in both factors
