"""``bp.nn.utils``: gradient clipping and parameter/vector conversion, against PyTorch."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.nn import utils

SHAPES = [(3, 4), (5,), (2, 1, 3), ()]


def make_pairs(torch: Any, seed: int = 0, scale: float = 1.0,
               with_missing: bool = True) -> tuple[list, list]:
    """Parameters with identical gradients in bp and torch (one without a gradient)."""
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for i, shape in enumerate(SHAPES):
        value = rng.standard_normal(shape)
        grad = rng.standard_normal(shape) * scale
        p = bp.nn.Parameter(bp.tensor(value))
        q = torch.nn.Parameter(torch.tensor(value))
        if not (with_missing and i == 1):
            p.grad = bp.tensor(grad)
            q.grad = torch.tensor(grad)
        ours.append(p)
        theirs.append(q)
    return ours, theirs


def assert_grads_equal(ours: list, theirs: list) -> None:
    for p, q in zip(ours, theirs):
        if q.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, math.inf, "inf"], ids=str)
@pytest.mark.parametrize("max_norm", [0.1, 1.0, 1e3])
def test_clip_grad_norm_matches_torch(torch: Any, norm_type: Any, max_norm: float) -> None:
    ours, theirs = make_pairs(torch)
    total = utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, bp.Tensor) and total.shape == ()
    assert total.item() == pytest.approx(expected.item(), rel=1e-12)
    assert_grads_equal(ours, theirs)


def test_clip_grad_norm_result_norm_is_max_norm() -> None:
    w = bp.nn.Parameter(bp.zeros(10, dtype=bp.float64))
    w.grad = bp.full((10,), 3.0, dtype=bp.float64)
    total = utils.clip_grad_norm_(w, 2.0)  # a single tensor is accepted too
    assert total.item() == pytest.approx(3.0 * math.sqrt(10))
    assert np.linalg.norm(w.grad.numpy()) == pytest.approx(2.0, rel=1e-6)


def test_clip_grad_norm_keeps_float32(torch: Any) -> None:
    w = bp.nn.Parameter(bp.zeros(4))
    w.grad = bp.tensor([3.0, 4.0, 0.0, 0.0])
    total = utils.clip_grad_norm_([w], 1.0)
    assert total.dtype == bp.float32 and w.grad.dtype == bp.float32
    assert total.item() == 5.0


def test_clip_grad_norm_without_gradients_returns_zero() -> None:
    total = utils.clip_grad_norm_([bp.nn.Parameter(bp.ones(2))], 1.0)
    assert total.item() == 0.0


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_clip_grad_norm_nonfinite(torch: Any, bad: float) -> None:
    ours, theirs = make_pairs(torch)
    ours[0].grad._data[0, 0] = bad
    theirs[0].grad[0, 0] = bad
    with pytest.raises(RuntimeError, match="total norm of order 2.0 .* non-finite"):
        utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    total = utils.clip_grad_norm_(ours, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    np.testing.assert_equal(total.item(), expected.item())
    for p, q in zip(ours, theirs):
        if q.grad is not None:
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_get_total_norm_and_clip_grads_with_norm_match_torch(torch: Any) -> None:
    ours, theirs = make_pairs(torch, seed=2)
    total = utils.get_total_norm([p.grad for p in ours if p.grad is not None], 3.0)
    expected = torch.nn.utils.get_total_norm([q.grad for q in theirs if q.grad is not None], 3.0)
    assert total.item() == pytest.approx(expected.item(), rel=1e-12)
    utils.clip_grads_with_norm_(ours, 0.5, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.5, expected)
    assert_grads_equal(ours, theirs)


@pytest.mark.parametrize("clip_value", [0.1, 0.5, 10.0])
def test_clip_grad_value_matches_torch(torch: Any, clip_value: float) -> None:
    ours, theirs = make_pairs(torch, seed=1)
    assert utils.clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    assert_grads_equal(ours, theirs)


def test_clipping_a_model_after_backward(torch: Any) -> None:
    model = bp.nn.Parameter(bp.tensor([[1.0, -2.0], [3.0, 0.5]], dtype=bp.float64))
    x = bp.tensor([[2.0, 1.0]], dtype=bp.float64)
    (x @ model).pow(2).sum().backward()
    before = model.grad.numpy().copy()
    total = utils.clip_grad_norm_([model], 1.0)
    assert total.item() == pytest.approx(np.linalg.norm(before))
    np.testing.assert_allclose(model.grad.numpy(), before / (np.linalg.norm(before) + 1e-6))


def test_parameters_to_vector_and_back_match_torch(torch: Any) -> None:
    ours, theirs = make_pairs(torch, with_missing=False)
    vec = utils.parameters_to_vector(ours)
    expected = torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(vec.detach().numpy(), expected.detach().numpy())
    new = np.arange(vec.shape[0], dtype=np.float64)
    utils.vector_to_parameters(bp.tensor(new), ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs)
    for p, q in zip(ours, theirs):
        assert p.shape == tuple(q.shape) and p.requires_grad
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_parameters_to_vector_is_differentiable() -> None:
    a = bp.nn.Parameter(bp.ones(2, 2, dtype=bp.float64))
    b = bp.nn.Parameter(bp.ones(3, dtype=bp.float64))
    (utils.parameters_to_vector([a, b]) * bp.arange(7, dtype=bp.float64)).sum().backward()
    assert a.grad.tolist() == [[0.0, 1.0], [2.0, 3.0]] and b.grad.tolist() == [4.0, 5.0, 6.0]


def test_vector_to_parameters_shares_storage_with_the_vector() -> None:
    p = bp.nn.Parameter(bp.zeros(2, dtype=bp.float64))
    vec = bp.tensor([1.0, 2.0], dtype=bp.float64)
    utils.vector_to_parameters(vec, [p])
    vec._data[0] = 5.0
    assert p.tolist() == [5.0, 2.0]


@pytest.mark.parametrize("vec,error,match", [
    ([1.0, 2.0], TypeError, "vec must be a bp.Tensor, got list"),
    (bp.zeros(3), ValueError, r"vec of shape \(3,\) does not fit the parameters, which hold 4"),
    (bp.zeros(2, 2), ValueError, r"vec of shape \(2, 2\)"),
])
def test_vector_to_parameters_errors(vec: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        utils.vector_to_parameters(vec, [bp.nn.Parameter(bp.zeros(4))])
