"""``backends.numba_indexing``'s kernels (flip of the last axis, gather, scatter_add,
index_reduce's combine, nll_loss's terms, prelu) against the NumPy definitions they replace, bit
for bit, and against PyTorch, over random, signed-zero, inf and NaN entries in float32 and
float64; with Numba present each check asserts that the kernel ran (``numba_indexing.calls``),
so a silent fallback fails, and that switching ``bp.backends.numba.enabled`` off gives the same
bits. Out-of-range indices still raise the ops' own errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numba_checks import kernel_ran, numba_switched_on

import backprop as bp
import backprop.nn.functional as F
from backprop.backends import numba as numba_switch
from backprop.backends import numba_indexing

torch = pytest.importorskip("torch")

FLOATS = [np.float32, np.float64]


accelerator_on = pytest.fixture(autouse=True)(numba_switched_on)


def ran(name: str) -> Any:
    return kernel_ran(numba_indexing, name)


def without_kernels(call: Any) -> Any:
    saved = numba_switch.enabled
    numba_switch.enabled = False
    try:
        return call()
    finally:
        numba_switch.enabled = saved


def same_bits(a: Any, b: Any) -> None:
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8))


def values(shape: tuple[int, ...], dtype: Any, seed: int) -> np.ndarray:
    out = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    out.flat[:6] = [np.nan, -0.0, 0.0, np.inf, -np.inf, 1e-30]
    return out


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,dims", [((30, 40), (1,)), ((30, 40), (0, 1)), ((30, 40), (-1,)),
                                        ((3, 5, 41), (2,)), ((700,), (0,))])
def test_flip_of_the_last_axis(dtype: Any, shape: tuple[int, ...], dims: tuple[int, ...]) -> None:
    a = values(shape, dtype, 0)
    with ran("flip_last"):
        got = bp.flip(bp.tensor(a), dims)
    same_bits(got.numpy(), np.flip(a, dims))
    same_bits(got.numpy(), torch.flip(torch.tensor(a), dims).numpy())
    assert got.numpy().flags.c_contiguous
    same_bits(without_kernels(lambda: bp.flip(bp.tensor(a), dims)).numpy(), got.numpy())


def test_fliplr_rot90_and_a_strided_input() -> None:
    a = values((30, 40), np.float32, 1)
    with ran("flip_last"):
        same_bits(bp.fliplr(bp.tensor(a)).numpy(), torch.fliplr(torch.tensor(a)).numpy())
        same_bits(bp.rot90(bp.tensor(a)).numpy(), torch.rot90(torch.tensor(a)).numpy())
        same_bits(bp.flip(bp.tensor(a)[:, 5:35], (1,)).numpy(), np.flip(a[:, 5:35], 1))
    x = bp.tensor(a, requires_grad=True)
    w = bp.tensor(values((30, 40), np.float32, 2).clip(-1, 1))
    (bp.flip(x, (1,)) * w).sum().backward()
    same_bits(x.grad.numpy(), np.flip(w.numpy(), 1))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_gather_and_scatter_add(dtype: Any, dim: int) -> None:
    rng = np.random.default_rng(dim)
    a = values((8, 9, 10), dtype, 3)
    shape = list(a.shape)
    shape[dim] = 7
    index = rng.integers(0, a.shape[dim], shape)
    src = values(tuple(shape), dtype, 4)
    with ran("gather"):
        got = bp.gather(bp.tensor(a), dim, bp.tensor(index))
    same_bits(got.numpy(), np.take_along_axis(a, index, dim))
    same_bits(got.numpy(), torch.gather(torch.tensor(a), dim, torch.tensor(index)).numpy())
    with ran("scatter_add"):
        got = bp.scatter_add(bp.tensor(a), dim, bp.tensor(index), bp.tensor(src))
    reference = without_kernels(lambda: bp.scatter_add(bp.tensor(a), dim, bp.tensor(index),
                                                       bp.tensor(src)))
    same_bits(got.numpy(), reference.numpy())
    np.testing.assert_allclose(got.numpy(), torch.scatter_add(
        torch.tensor(a), dim, torch.tensor(index), torch.tensor(src)).numpy(), rtol=1e-6)


@pytest.mark.parametrize("op", ["gather", "scatter_add"])
def test_an_index_out_of_range_is_refused(op: str) -> None:
    a = bp.tensor(values((20, 30), np.float32, 5))
    index = np.random.default_rng(0).integers(0, 30, (20, 30))
    for bad in (30, -1):
        index[7, 3] = bad
        args = (a, 1, bp.tensor(index)) + ((a,) if op == "scatter_add" else ())
        with pytest.raises(IndexError, match=f"{op}: index {bad} is out of range"):
            getattr(bp, op)(*args)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_without_a_plan(dtype: Any, reduction: str) -> None:
    logp = values((50, 30), dtype, 6)
    target = np.random.default_rng(1).integers(0, 30, 50)
    with ran("negated_picks"):
        got = F.nll_loss(bp.tensor(logp), bp.tensor(target), reduction=reduction)
    recorded = F.nll_loss(bp.tensor(logp, requires_grad=True), bp.tensor(target),
                          reduction=reduction)  # the plan's path: the definition
    same_bits(got.numpy(), recorded.detach().numpy())
    finite = np.nan_to_num(logp, nan=0.0, posinf=1.0, neginf=-1.0)
    np.testing.assert_allclose(
        F.nll_loss(bp.tensor(finite), bp.tensor(target), reduction=reduction).numpy(),
        torch.nn.functional.nll_loss(torch.tensor(finite), torch.tensor(target),
                                     reduction=reduction).numpy(), rtol=1e-6)
    target[4] = 30
    with pytest.raises(IndexError, match="nll_loss: target class 30 is out of range"):
        F.nll_loss(bp.tensor(logp), bp.tensor(target))
    target[4] = -100  # ignored: the plan's path, as PyTorch's mean over the others
    np.testing.assert_allclose(
        F.nll_loss(bp.tensor(finite), bp.tensor(target)).numpy(),
        torch.nn.functional.nll_loss(torch.tensor(finite), torch.tensor(target)).numpy(),
        rtol=1e-6)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduce", ["prod", "mean"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_combines_in_order(dtype: Any, reduce: str, include_self: bool) -> None:
    a = values((20, 30), dtype, 7)
    index = np.random.default_rng(2).integers(0, 30, 40)  # repeats
    src = values((20, 40), dtype, 8)

    def call() -> Any:
        return bp.index_reduce(bp.tensor(a), 1, bp.tensor(index), bp.tensor(src), reduce,
                               include_self=include_self)

    with ran("index_combine"):
        got = call()
    same_bits(got.numpy(), without_kernels(call).numpy())
    expected = torch.index_reduce(torch.tensor(a), 1, torch.tensor(index), torch.tensor(src),
                                  reduce, include_self=include_self).numpy()
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("slopes", [np.linspace(0.1, 0.3, 10), np.linspace(-2.0, 3.0, 10),
                                    np.array([0.25]), np.full(10, np.nan)])
def test_prelu_selects_per_element(dtype: Any, slopes: np.ndarray) -> None:
    x = values((20, 10, 30), dtype, 9)
    w = slopes.astype(dtype)
    with ran("prelu"):
        got = bp.prelu(bp.tensor(x), bp.tensor(w))
    same_bits(got.numpy(), without_kernels(lambda: bp.prelu(bp.tensor(x), bp.tensor(w))).numpy())
    same_bits(got.numpy(), torch.prelu(torch.tensor(x), torch.tensor(w)).numpy())
