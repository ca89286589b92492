"""``bp.nn.utils`` (gradient clipping, parameters <-> vector) on the ``strict`` device, checked
against the same calls on the CPU; the results must stay on the device."""

from __future__ import annotations

import math

import numpy as np
import pytest

import backprop as bp
from backprop.nn import utils

DEVICE = "strict:1"


def _params(device: str | None) -> list[bp.Tensor]:
    """Three parameters with gradients (one of them without), the same values on any device."""
    rng = np.random.default_rng(0)
    params = []
    for shape in [(3, 4), (5,), (2, 2)]:
        p = bp.tensor(rng.standard_normal(shape), device=device, requires_grad=True)
        params.append(p)
    for p in params[:2]:
        p.grad = bp.tensor(rng.standard_normal(p.shape) * 3.0, device=device)
    return params


def _host(t: bp.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, 0.0])
def test_clip_grad_norm_on_device(norm_type: float) -> None:
    ref, ours = _params(None), _params(DEVICE)
    expected = utils.clip_grad_norm_(ref, max_norm=1.0, norm_type=norm_type)
    total = utils.clip_grad_norm_(ours, max_norm=1.0, norm_type=norm_type)
    assert total.device == DEVICE
    np.testing.assert_allclose(_host(total), _host(expected), rtol=1e-12)
    for p, q in zip(ours, ref):
        if q.grad is None:
            assert p.grad is None
            continue
        assert p.grad.device == DEVICE
        np.testing.assert_allclose(_host(p.grad), _host(q.grad), rtol=1e-12)


def test_get_total_norm_and_clip_grads_with_norm_on_device() -> None:
    ref, ours = _params(None), _params(DEVICE)
    expected = utils.get_total_norm([p.grad for p in ref if p.grad is not None])
    total = utils.get_total_norm([p.grad for p in ours if p.grad is not None])
    assert total.device == DEVICE
    np.testing.assert_allclose(_host(total), _host(expected), rtol=1e-12)
    # The norm given as a tensor on the device, or as a plain number.
    utils.clip_grads_with_norm_(ref, 0.5, expected)
    utils.clip_grads_with_norm_(ours, 0.5, total)
    utils.clip_grads_with_norm_(ref, 0.25, 3.0)
    utils.clip_grads_with_norm_(ours, 0.25, 3.0)
    for p, q in zip(ours[:2], ref[:2]):
        assert p.grad.device == DEVICE
        np.testing.assert_allclose(_host(p.grad), _host(q.grad), rtol=1e-12)


def test_clip_grad_norm_of_empty_gradient_on_device() -> None:
    p = bp.zeros(0, device=DEVICE, requires_grad=True)
    p.grad = bp.zeros(0, device=DEVICE)
    for norm_type in (2.0, math.inf):
        assert utils.clip_grad_norm_([p], 1.0, norm_type).item() == 0.0


def test_clip_grad_value_on_device() -> None:
    ref, ours = _params(None), _params(DEVICE)
    utils.clip_grad_value_(ref, 0.7)
    utils.clip_grad_value_(ours, 0.7)
    for p, q in zip(ours[:2], ref[:2]):
        assert p.grad.device == DEVICE
        np.testing.assert_array_equal(_host(p.grad), _host(q.grad))


def test_parameters_to_vector_and_back_on_device() -> None:
    ref, ours = _params(None), _params(DEVICE)
    expected = utils.parameters_to_vector(ref)
    vec = utils.parameters_to_vector(ours)
    assert vec.device == DEVICE
    np.testing.assert_array_equal(_host(vec), _host(expected))
    # Differentiable: the gradient flows back to each parameter, on the device.
    (vec * vec).sum().backward()
    for p in ours:
        assert p.grad.device == DEVICE
    new = bp.arange(vec.numel(), dtype=bp.float64, device=DEVICE)
    utils.vector_to_parameters(new, ours)
    utils.vector_to_parameters(bp.arange(vec.numel(), dtype=bp.float64), ref)
    for p, q in zip(ours, ref):
        assert p.device == DEVICE
        np.testing.assert_array_equal(_host(p), _host(q))


@pytest.mark.parametrize("name", ["uniform_", "normal_", "trunc_normal_", "xavier_uniform_",
                                  "kaiming_normal_", "orthogonal_", "eye_", "dirac_"])
def test_init_on_device(name: str) -> None:
    """``nn.init`` draws on the host: the same seed fills a device tensor with the same values."""
    fill = getattr(bp.nn.init, name)
    shape = (4, 2, 3) if name == "dirac_" else (4, 6)
    bp.manual_seed(0)
    expected = fill(bp.empty(*shape, dtype=bp.float64))
    bp.manual_seed(0)
    ours = fill(bp.empty(*shape, dtype=bp.float64, device=DEVICE))
    assert ours.device == DEVICE
    np.testing.assert_array_equal(_host(ours), _host(expected))


def test_losses_refuse_a_target_or_weight_on_another_device() -> None:
    """Targets and weights are not the loss primitives' tensor arguments: they are checked by
    the loss itself, which names the devices (instead of failing inside the array module)."""
    F = bp.nn.functional
    x = bp.randn(3, 4, device=DEVICE)
    target = bp.tensor([0, 1, 2])
    with pytest.raises(RuntimeError, match="same device"):
        F.cross_entropy(x, target)
    with pytest.raises(RuntimeError, match="same device"):
        F.nll_loss(x, target.to(DEVICE), weight=bp.ones(4))
    with pytest.raises(RuntimeError, match="same device"):
        F.binary_cross_entropy_with_logits(x, bp.zeros(3, 4, device=DEVICE),
                                           pos_weight=bp.ones(4))
    with pytest.raises(RuntimeError, match="same device"):
        F.cross_entropy(x.cpu(), target.to(DEVICE))
