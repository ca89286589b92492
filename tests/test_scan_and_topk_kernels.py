"""The fast paths of ``ops/reductions_more.py`` against their plain definitions: the NumPy scan
kernel (blocked running max/min) against ``ufunc.accumulate``, and topk's partition against
the full stable sort it replaced, on ties, NaN, infinities and sorted data."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.ops.reductions_more import _argsort
from backprop.ops.scans import _scan_numpy

SHAPES = [((100, 300), 1), ((100, 300), 0), ((3, 17, 5), 1), ((50,), 0), ((4, 257), 1),
          ((2, 0, 20), 2), ((3, 16), 1), ((2, 3, 97), 2), ((3, 20, 70), 0)]


def _data(rng: np.random.Generator, shape: tuple[int, ...], axis: int, kind: str,
          dtype: type) -> np.ndarray:
    a = rng.standard_normal(shape) * 3
    if kind == "sorted":
        a = np.sort(a, axis=axis)
    elif kind == "ties":
        a = rng.integers(-2, 3, shape)
    a = a.astype(dtype)
    if kind == "specials" and a.dtype.kind == "f":
        a[rng.random(shape) < 0.05] = np.nan
        a[rng.random(shape) < 0.05] = np.inf
        a[rng.random(shape) < 0.05] = -np.inf
    return a


@pytest.mark.parametrize("shape,axis", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_scan_kernel_equals_accumulate(shape: tuple[int, ...], axis: int, dtype: type) -> None:
    rng = np.random.default_rng(0)
    for kind in ("random", "sorted", "ties", "specials"):
        a = _data(rng, shape, axis, kind, dtype)
        for ufunc in (np.maximum, np.minimum):
            for layout in (a, np.asfortranarray(a)):
                np.testing.assert_array_equal(_scan_numpy(ufunc, layout, axis),
                                              ufunc.accumulate(layout, axis=axis))


@pytest.mark.parametrize("largest", [True, False])
def test_topk_equals_the_stable_sort(largest: bool) -> None:
    rng = np.random.default_rng(1)
    for _ in range(200):
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 12)), int(rng.integers(1, 3)))
        a = rng.integers(0, 4, shape).astype(np.float64)
        a[rng.random(shape) < 0.2] = np.nan
        dim = int(rng.integers(0, 3))
        k = int(rng.integers(0, shape[dim] + 1))
        expected = np.take(_argsort(a, dim, largest), np.arange(k), axis=dim)
        values, indices = bp.topk(bp.tensor(a), k, dim=dim, largest=largest)
        np.testing.assert_array_equal(indices.numpy(), expected)
        np.testing.assert_array_equal(values.numpy(), np.take_along_axis(a, expected, dim))
