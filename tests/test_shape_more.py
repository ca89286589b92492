"""The shape ops of ``ops/shape_more.py`` that return views: a write through the view reaches
the base, with PyTorch's values and gradients (the op table checks the ops themselves)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import backprop as bp

X = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.5]])
W = np.array([0.75, -1.25])


def _ravel_write(lib: Any, x: Any, w: Any) -> Any:
    y = x * 1
    y.ravel()[1:3].mul_(w)
    return y


def _atleast_3d_write(lib: Any, x: Any, w: Any) -> Any:
    y = x * 1
    lib.atleast_3d(y)[:, 1, 0] = w
    return y


def _atleast_2d_write(lib: Any, x: Any, w: Any) -> Any:
    y = x[0] * 1
    lib.atleast_2d(y)[0, :2] += w
    return y


def _select_write(lib: Any, x: Any, w: Any) -> Any:
    y = x * 1
    y.select(1, 2).mul_(w)
    return y


def _tensor_split_write(lib: Any, x: Any, w: Any) -> Any:
    y = x * 1
    y.tensor_split([1, 2], dim=1)[2][:, 0] = w
    return y


@pytest.mark.parametrize("case", [_ravel_write, _atleast_3d_write, _atleast_2d_write,
                                  _select_write, _tensor_split_write],
                         ids=lambda c: c.__name__.strip("_"))
def test_writes_through_views_match_pytorch(case: Callable, torch: Any) -> None:
    results = []
    for lib in (bp, torch):
        x, w = lib.tensor(X, requires_grad=True), lib.tensor(W, requires_grad=True)
        out = case(lib, x, w)
        (out * lib.arange(1.0, out.numel() + 1, dtype=lib.float64).reshape(out.shape)).sum() \
            .backward()
        results.append([out.detach().numpy(), x.grad.numpy(), w.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_size_is_a_tuple_with_numel() -> None:
    size = bp.broadcast_shapes((2, 1), 3)
    assert size == (2, 3) and isinstance(size, tuple) and size.numel() == 6
    assert repr(size) == "Size([2, 3])"


def test_new_tensor_and_new_empty_follow_pytorch(torch: Any) -> None:
    """The new_* methods OpInfo does not check by value: new_tensor's dtype rule and
    requires_grad, new_empty's shape and dtype."""
    for lib in (bp, torch):
        x = lib.zeros(2, dtype=lib.float64)
        y = x.new_tensor([1, 2], requires_grad=True)
        assert y.tolist() == [1.0, 2.0] and y.requires_grad and str(y.dtype).endswith("float64")
        assert x.new_tensor([1.5], dtype=lib.int32).tolist() == [1]
        empty = lib.tensor([1, 2]).new_empty((2, 3))
        assert tuple(empty.shape) == (2, 3) and str(empty.dtype).endswith("int64")


def test_triangle_indices_refuse_negative_sizes_and_float_dtypes() -> None:
    with pytest.raises(ValueError, match=r"tril_indices: row and col must be non-negative"):
        bp.tril_indices(-1, 2)
    with pytest.raises(TypeError, match=r"triu_indices: dtype must be int64 or int32"):
        bp.triu_indices(2, 2, dtype=bp.float32)
    assert bp.triu_indices(2, 3, dtype=bp.int32).dtype == bp.int32


def test_meshgrid_without_indexing_warns_and_is_ij() -> None:
    with pytest.warns(UserWarning, match="meshgrid: pass indexing="):
        grid = bp.meshgrid(bp.zeros(2), bp.zeros(3))
    assert [g.shape for g in grid] == [(2, 3), (2, 3)]
