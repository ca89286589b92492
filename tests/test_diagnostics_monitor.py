"""The gradient-health monitor: its figures against values computed by hand, its diagnoses on
nets built to fail in each classic way (and on healthy ones), its hooks' lifetime and its
picture."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop import nn
from backprop.diagnostics._monitor_stats import ActivationStats, sum_of_squares
from backprop.diagnostics.monitor import GradientMonitor

F = nn.functional


def mlp(sizes: list[int], activation: type, init: str | None = None, std: float = 0.0,
        bias: float = 0.0) -> nn.Sequential:
    """Linear layers with ``activation`` between them; weights drawn as ``init`` says."""
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        linear = nn.Linear(sizes[i], sizes[i + 1])
        if init == "he":
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        elif init == "normal":
            nn.init.normal_(linear.weight, std=std)
        nn.init.constant_(linear.bias, bias)
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class Residual(nn.Module):
    """x + relu(linear(x)), He-initialised."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.linear = nn.Linear(width, width)
        nn.init.kaiming_normal_(self.linear.weight, nonlinearity="relu")
        nn.init.zeros_(self.linear.bias)
        self.act = nn.ReLU()

    def forward(self, x: bp.Tensor) -> bp.Tensor:
        return x + self.act(self.linear(x)) * 0.5


def train(model: nn.Module, steps: int, lr: float = 0.1, every: int = 1, width: int = 16,
          classes: int = 4, batch: int = 32, optimizer: str = "sgd", **monitor_args
          ) -> GradientMonitor:
    """``steps`` SGD steps on one random batch, with a monitor that is returned (closed)."""
    x = bp.randn(batch, width)
    y = bp.randint(0, classes, (batch,))
    opt = (bp.optim.SGD(model.parameters(), lr=lr) if optimizer == "sgd"
           else bp.optim.Adam(model.parameters(), lr=lr))
    with GradientMonitor(model, opt, every=every, **monitor_args) as monitor:
        for _ in range(steps):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
    return monitor


def kinds(monitor: GradientMonitor) -> set[str]:
    return {flag.kind for flag in monitor.flags()}


@pytest.fixture(autouse=True)
def seed() -> None:
    bp.manual_seed(0)


# -- figures against values computed by hand --------------------------------------------------------

def test_gradient_and_weight_norms_equal_norms_of_grad_and_data():
    model = mlp([16, 12, 8, 4], nn.ReLU)
    monitor = train(model, steps=3)
    history = monitor.history()
    assert history.layer_names == ("0", "2", "4")
    assert history.param_names == ("0.weight", "0.bias", "2.weight", "2.bias", "4.weight",
                                   "4.bias")
    params = [p for _, p in model.named_parameters()]
    by_hand = [np.linalg.norm(p.grad.numpy().astype(np.float64)) for p in params]
    np.testing.assert_allclose(history.param_grad_norm[-1], by_hand, rtol=1e-5)
    weights = [np.linalg.norm(p.detach().numpy().astype(np.float64)) for p in params]
    np.testing.assert_allclose(history.param_weight_norm[-1], weights, rtol=1e-5)
    layer_grad = [np.hypot(by_hand[2 * i], by_hand[2 * i + 1]) for i in range(3)]
    np.testing.assert_allclose(history.grad_norm[-1], layer_grad, rtol=1e-5)


def updates_by_hand(model: nn.Module, step: callable) -> tuple[np.ndarray, np.ndarray]:
    """|w_after - w_before| / |w_after| per parameter and per layer (weight, bias pairs)."""
    before = [p.detach().numpy().astype(np.float64) for p in model.parameters()]
    step()
    after = [p.detach().numpy().astype(np.float64) for p in model.parameters()]
    delta = np.array([np.sum((a - b) ** 2) for a, b in zip(after, before)])
    norm = np.array([np.sum(a ** 2) for a in after])
    per_layer = np.sqrt(delta.reshape(-1, 2).sum(1) / norm.reshape(-1, 2).sum(1))
    return np.sqrt(delta / norm), per_layer


@pytest.mark.parametrize("with_optimizer", [True, False])
@pytest.mark.parametrize("every", [1, 2])
def test_update_ratio_equals_the_change_made_by_the_step(with_optimizer, every):
    """Step 2's update, whether the optimizer's hooks or monitor.step() mark the steps, and
    whether or not the step before it was recorded."""
    model = mlp([16, 12, 4], nn.Tanh)
    opt = bp.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    monitor = GradientMonitor(model, opt if with_optimizer else None, every=every)
    x, y = bp.randn(32, 16), bp.randint(0, 4, (32,))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        if not with_optimizer:
            monitor.step()

    for _ in range(2):
        step()
    per_param, per_layer = updates_by_hand(model, step)
    history = monitor.history()
    assert history.steps.tolist() == [0, 1, 2][::every]
    np.testing.assert_allclose(history.param_update_ratio[-1], per_param, rtol=1e-4)
    np.testing.assert_allclose(history.update_ratio[-1], per_layer, rtol=1e-4)
    assert np.all(per_param > 0)


def test_activation_statistics_equal_those_of_the_outputs():
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 16), nn.Sigmoid(),
                          nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3))
    nn.init.constant_(model[0].bias, -0.5)
    nn.init.normal_(model[2].weight, std=2.0)
    nn.init.normal_(model[4].weight, std=2.0)
    outputs = {}
    for index in (0, 1, 3, 5):
        model[index].register_forward_hook(
            lambda m, args, out, i=index: outputs.__setitem__(i, out.detach().numpy().copy()))
    opt = bp.optim.SGD(model.parameters(), lr=0.0)
    monitor = GradientMonitor(model, opt, every=1)
    x = bp.randn(64, 8)
    opt.zero_grad()
    model(x).sum().backward()
    opt.step()
    history = monitor.history()
    column = {name: i for i, name in enumerate(history.module_names)}
    assert history.module_follows[column["1"]] == "0"
    for index in (0, 1, 3, 5):
        c = column[str(index)]
        np.testing.assert_allclose(history.activation_mean[0, c], outputs[index].mean(),
                                   rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(history.activation_std[0, c], outputs[index].std(), rtol=1e-4)
    relu = outputs[1]
    assert history.dead_fraction[0, column["1"]] == pytest.approx(np.mean(~(relu > 0).any(0)))
    sigmoid, tanh = outputs[3], outputs[5]
    assert history.saturated_fraction[0, column["3"]] == pytest.approx(
        np.mean((sigmoid < 0.01) | (sigmoid > 0.99)))
    assert history.saturated_fraction[0, column["5"]] == pytest.approx(np.mean(np.abs(tanh) > 0.99))
    assert 0 < history.saturated_fraction[0, column["5"]] < 1
    assert np.isnan(history.dead_fraction[0, column["3"]])  # the rule is for ReLUs only


def test_dead_units_are_counted_per_channel_for_images():
    stats = ActivationStats()
    images = np.ones((4, 3, 5, 5), dtype=np.float32)
    images[:, 1] = 0.0  # channel 1 is zero for every example and position
    images[2, 2, 0, 0] = 0.0  # channel 2 is zero somewhere only: alive
    stats.add(images, "relu", unit_axis=1)
    assert stats.result()[2] == pytest.approx(1 / 3)


def test_sum_of_squares_survives_float32_overflow_and_counts_non_finite():
    big = np.full(4, 1e20, dtype=np.float32)
    value, bad = sum_of_squares(big)
    assert bad == 0 and value == pytest.approx(4e40, rel=1e-6)
    value, bad = sum_of_squares(np.array([1.0, np.nan, np.inf, 2.0], dtype=np.float32))
    assert value == np.inf and bad == 2


def test_forward_passes_under_no_grad_are_not_recorded():
    model = mlp([16, 8, 4], nn.ReLU)
    opt = bp.optim.SGD(model.parameters(), lr=0.1)
    monitor = GradientMonitor(model, opt, every=1)
    with bp.no_grad():
        model(bp.randn(5, 16))
    opt.step()  # no gradients: an optimizer step that changes nothing
    history = monitor.history()
    assert np.all(np.isnan(history.activation_mean[0]))
    assert np.all(np.isnan(history.grad_norm[0]))
    np.testing.assert_array_equal(history.update_ratio[0], 0.0)


# -- sampling, history bounds, hooks ---------------------------------------------------------------

def test_every_records_one_step_in_n_and_hooks_are_attached_only_for_those():
    model = mlp([16, 8, 4], nn.ReLU)
    opt = bp.optim.SGD(model.parameters(), lr=0.1)
    x, y = bp.randn(8, 16), bp.randint(0, 4, (8,))
    monitor = GradientMonitor(model, opt, every=3)
    attached = []
    for _ in range(10):
        attached.append(bool(model[0]._forward_hooks))
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    assert attached == [i % 3 == 0 for i in range(10)]
    assert monitor.history().steps.tolist() == [0, 3, 6, 9]
    assert not np.isnan(monitor.history().activation_mean).any()


def test_a_full_history_is_thinned_so_it_still_spans_the_run():
    monitor = train(mlp([16, 8, 4], nn.ReLU), steps=9, max_history=4)
    assert monitor.history().steps.tolist() == [0, 4, 8]
    assert "one in 4" in monitor.report()


def test_close_removes_every_hook_and_stops_recording():
    model = mlp([16, 8, 4], nn.ReLU)
    opt = bp.optim.SGD(model.parameters(), lr=0.1)
    x, y = bp.randn(8, 16), bp.randint(0, 4, (8,))
    with GradientMonitor(model, opt, every=1) as monitor:
        assert model[0]._forward_hooks and model[1]._forward_hooks
        F.cross_entropy(model(x), y).backward()
        opt.step()
    assert all(not m._forward_hooks for m in model.modules())
    assert not opt._step_pre_hooks and not opt._step_post_hooks
    F.cross_entropy(model(x), y).backward()
    opt.step()
    assert len(monitor.history()) == 1
    assert "closed" in repr(monitor)


def test_step_is_refused_when_the_optimizer_records():
    model = mlp([4, 2], nn.ReLU)
    monitor = GradientMonitor(model, bp.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(RuntimeError, match="records after each optimizer.step"):
        monitor.step()


@pytest.mark.parametrize("kwargs, error, message", [
    ({"model": "net"}, TypeError, "model must be a bp.nn.Module, got str"),
    ({"optimizer": 0.1}, TypeError, "optimizer must be a bp.optim.Optimizer"),
    ({"every": 0}, ValueError, "every must be an integer >= 1, got 0"),
    ({"max_history": 1}, ValueError, "max_history must be an integer >= 2"),
    ({"dead_fraction": -1}, ValueError, "dead_fraction must be a positive number"),
    ({"model": nn.ReLU()}, ValueError, "has no parameters"),
])
def test_bad_arguments_are_named(kwargs, error, message):
    arguments = {"model": mlp([4, 2], nn.ReLU), **kwargs}
    with pytest.raises(error, match=message):
        GradientMonitor(**arguments)


# -- diagnoses ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [10, 20])
def test_deep_sigmoid_net_with_small_init_is_flagged_vanishing(depth):
    model = mlp([16] * depth + [4], nn.Sigmoid, init="normal", std=0.1)
    monitor = train(model, steps=5)
    flag = next(f for f in monitor.flags() if f.kind == "vanishing")
    assert "0" in flag.where and "2" in flag.where  # the first layers
    assert str(2 * (depth - 1)) not in flag.where  # not the last one
    advice = " ".join(flag.remedies)
    for remedy in ("ReLU", "He/Kaiming", "kaiming_normal_", "batch normalization", "BatchNorm1d",
                   "residual connections"):
        assert remedy in advice
    assert "[vanishing]" in monitor.report() and "residual connections" in monitor.report()


def test_deep_residual_relu_net_with_he_init_is_not_flagged():
    blocks = [nn.Linear(16, 32)] + [Residual(32) for _ in range(20)] + [nn.Linear(32, 4)]
    monitor = train(nn.Sequential(*blocks), steps=5, lr=0.01)
    assert not kinds(monitor) & {"vanishing", "exploding"}


def test_vanishing_over_steps_is_flagged():
    """A layer whose gradient falls toward zero while training goes on (here its input is
    scaled down a millionfold halfway) is flagged though it starts healthy."""
    model = nn.Sequential(nn.Linear(16, 16, bias=False), nn.ReLU(), nn.Linear(16, 4))
    x, y = bp.randn(32, 16), bp.randint(0, 4, (32,))
    opt = bp.optim.SGD(model.parameters(), lr=0.01)
    monitor = GradientMonitor(model, opt, every=1, vanishing_ratio=1e-12)
    for step in range(20):
        scale = 1.0 if step < 10 else 1e-6
        opt.zero_grad()
        F.cross_entropy(model(x * scale), y).backward()
        opt.step()
    flag = next(f for f in monitor.flags() if f.kind == "vanishing")
    assert flag.where == ("0",) and "fell" in flag.detail


def test_gradients_falling_in_every_layer_together_are_not_vanishing():
    """Convergence (or a loss scaled down) shrinks every layer's gradient alike: no flag."""
    model = mlp([16, 16, 16, 4], nn.ReLU, init="he")
    x, y = bp.randn(32, 16), bp.randint(0, 4, (32,))
    opt = bp.optim.SGD(model.parameters(), lr=0.01)
    monitor = GradientMonitor(model, opt, every=1)
    for step in range(20):
        opt.zero_grad()
        (F.cross_entropy(model(x), y) * (1.0 if step < 10 else 1e-6)).backward()
        opt.step()
    history = monitor.history()
    assert np.all(history.grad_norm[-1] < 1e-4 * history.grad_norm[0])
    assert monitor.flags() == []


def test_huge_learning_rate_is_flagged_exploding_with_nan_counts():
    model = mlp([16, 32, 32, 4], nn.ReLU, init="he")
    x = bp.randn(32, 16)
    target = bp.randn(32, 4) * 100
    opt = bp.optim.SGD(model.parameters(), lr=10.0)
    with GradientMonitor(model, opt, every=1) as monitor, np.errstate(all="ignore"):
        for _ in range(12):
            opt.zero_grad()
            F.mse_loss(model(x), target).backward()
            opt.step()
    history = monitor.history()
    assert history.grad_nonfinite.sum() > 0 and history.weight_nonfinite.sum() > 0
    assert np.isinf(history.grad_norm).any()
    flag = next(f for f in monitor.flags() if f.kind == "exploding")
    assert "inf/NaN gradients" in flag.detail
    advice = " ".join(flag.remedies)
    assert "clip_grad_norm_" in advice and "lower learning rate (now lr=10; try lr=1)" in advice
    assert "dead" not in kinds(monitor)  # NaN units are broken, not dead


def test_scaled_up_weights_are_flagged_exploding_before_any_nan():
    model = mlp([16] + [64] * 8 + [4], nn.ReLU, init="normal", std=0.5)
    monitor = train(model, steps=2, lr=0.0)
    history = monitor.history()
    assert history.grad_nonfinite.sum() == 0 and np.isfinite(history.grad_norm).all()
    flag = next(f for f in monitor.flags() if f.kind == "exploding")
    assert "above 1000" in flag.detail and "0" in flag.where


def test_relu_net_with_large_negative_bias_is_flagged_dead():
    model = mlp([16, 32, 32, 4], nn.ReLU, init="he")
    nn.init.constant_(model[0].bias, -10.0)
    monitor = train(model, steps=3)
    flag = next(f for f in monitor.flags() if f.kind == "dead")
    assert flag.where[0] == "1" and "after 0" in flag.detail and "100%" in flag.detail
    history = monitor.history()
    assert np.all(history.dead_fraction[:, history.module_names.index("1")] == 1.0)
    assert any("LeakyReLU" in r for r in flag.remedies)
    assert any("zero biases" in r for r in flag.remedies)


def test_tanh_net_with_huge_weights_is_flagged_saturated():
    model = mlp([16, 32, 32, 4], nn.Tanh, init="normal", std=3.0)
    monitor = train(model, steps=3)
    flag = next(f for f in monitor.flags() if f.kind == "saturated")
    assert set(flag.where) == {"1", "3"}
    assert any("Xavier" in r for r in flag.remedies)
    assert any("ReLU" in r for r in flag.remedies)


def test_healthy_he_initialised_relu_mlp_on_digits_gets_no_flags():
    data = bp.datasets.Digits(train=True)
    images = data.data.reshape(len(data), 64)
    model = mlp([64, 64, 64, 10], nn.ReLU, init="he")
    opt = bp.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = bp.utils.data.DataLoader(bp.utils.data.TensorDataset(images, data.targets),
                                      batch_size=64, shuffle=True)
    losses = []
    with GradientMonitor(model, opt, every=1) as monitor:
        for _ in range(2):
            for x, y in loader:
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])  # it learns
    assert len(monitor.history()) == len(losses)
    assert monitor.flags() == []
    assert monitor.report().endswith("No problems found.")


# -- the picture ---------------------------------------------------------------------------------------

def test_heatmap_is_a_png_of_layers_by_steps(tmp_path):
    pytest.importorskip("matplotlib")
    model = mlp([16, 32, 32, 4], nn.ReLU, init="he")
    monitor = train(model, steps=4)
    path = monitor.plot_heatmap(tmp_path / "grads.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    assert [p.name for p in tmp_path.iterdir()] == ["grads.png"]  # no temporary left behind
    from matplotlib.image import imread

    assert imread(path).ndim == 3


def test_heatmap_needs_a_recorded_step(tmp_path):
    model = mlp([4, 2], nn.ReLU)
    with pytest.raises(ValueError, match="no step recorded yet"):
        GradientMonitor(model).plot_heatmap(tmp_path / "x.png")
