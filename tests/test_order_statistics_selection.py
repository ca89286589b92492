"""median, nanmedian and kthvalue find their index by partitioning (O(n)) instead of a stable
sort: the index must still be the one the stable sort puts at the statistic's position (ties:
the earliest ones first; NaN after every number), and the values PyTorch's."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.ops import reductions_more


def stable_index(x: np.ndarray, kind: str, k: int = 0) -> np.ndarray:
    """The reference: a stable argsort of each row, read at the statistic's position."""
    order = np.argsort(x, axis=-1, kind="stable")
    n = x.shape[-1]
    nans = np.isnan(x).sum(-1) if x.dtype.kind == "f" else np.zeros(x.shape[0], int)
    if kind == "kthvalue":
        position = np.full(x.shape[0], k - 1)
    elif kind == "median":
        position = np.where(nans > 0, n - nans, (n - 1) // 2)
    else:
        position = np.maximum((n - nans - 1) // 2, 0)
    return order[np.arange(x.shape[0]), position]


def rows(dtype: Any, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind in "iu":
        return rng.integers(0, 5, (40, 9)).astype(dtype)  # many ties
    x = rng.choice(np.array([0.0, -0.0, 1.0, -1.0, 2.5, np.inf, -np.inf, 1e-30, 3e38]),
                   (40, 9)).astype(dtype)
    x[rng.random(x.shape) < 0.15] = np.nan
    x[0] = np.nan  # all NaN
    x[1] = 7.0  # all tied
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8])
@pytest.mark.parametrize("kind, k", [("median", 0), ("nanmedian", 0), ("kthvalue", 1),
                                     ("kthvalue", 5), ("kthvalue", 9)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_selection_is_the_stable_sorts_index(dtype: Any, kind: str, k: int, seed: int) -> None:
    x = rows(dtype, seed)
    got = reductions_more._index_by_selection(x, kind, k)[:, 0]
    np.testing.assert_array_equal(got, stable_index(x, kind, k))


@pytest.mark.parametrize("op", ["median", "nanmedian"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_values_and_indices_match_torch(op: str, dim: Any) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (31, 1001)).astype(np.float32)  # distinct values: one right index
    x[4, 10] = np.nan
    if op == "median":  # (PyTorch's nanmedian index of an all-NaN slice is arbitrary)
        x[:, 7] = np.nan
        x[9] = np.nan
    ours = getattr(bp, op)(bp.tensor(x)) if dim is None else getattr(bp, op)(bp.tensor(x), dim)
    theirs = getattr(torch, op)(torch.tensor(x)) if dim is None else \
        getattr(torch, op)(torch.tensor(x), dim)
    if dim is None:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        return
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_median_gradient_goes_to_the_index() -> None:
    x = bp.tensor(np.arange(12.0).reshape(3, 4)[:, ::-1].copy(), requires_grad=True)
    x.median(dim=1).values.sum().backward()
    expected = np.zeros((3, 4))
    expected[:, 2] = 1.0  # the lower median of each reversed row, 1 then 2 ... sits third
    np.testing.assert_array_equal(x.grad.numpy(), expected)


@pytest.mark.parametrize("dim", [0, 1])
def test_mode_along_either_dim_of_a_large_input(dim: int) -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).integers(0, 20, (100, 1000)).astype(np.float32)
    ours = bp.tensor(x).mode(dim)
    theirs = torch.tensor(x).mode(dim)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    # (PyTorch's index among equal values is arbitrary; ours is the last, and holds the value)
    picked = np.take_along_axis(x, np.expand_dims(ours.indices.numpy(), dim), dim)
    np.testing.assert_array_equal(picked.squeeze(dim), ours.values.numpy())
