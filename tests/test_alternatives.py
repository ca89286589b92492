"""bp.alternatives: ES and SPSA estimates against the exact gradient on a quadratic (within their
stated variance), feedback alignment's gradients exactly, forward-forward's locality, and each
method training the digits MLP above chance."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop import alternatives as alt
from backprop.alternatives.compare import load_task
from backprop.nn import functional as F


def _quadratic_problem(d_in: int = 6, seed: int = 0):
    """A linear model under mean squared error: the loss is exactly quadratic in the weights,
    so a central difference of any size is exact."""
    rng = np.random.default_rng(seed)
    bp.manual_seed(seed)
    model = bp.nn.Linear(d_in, 2)
    x = bp.tensor(rng.standard_normal((32, d_in)))
    y = bp.tensor(rng.standard_normal((32, 2)))
    model = model.double()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    exact = np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])
    for p in model.parameters():
        p.grad = None
    return model, (x, y), exact


def _estimate(model, estimator, batch) -> np.ndarray:
    estimator.estimate_(model, F.mse_loss, batch)
    return np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])


@pytest.mark.parametrize("method", ["evolution", "spsa"])
def test_estimates_converge_to_the_gradient_within_the_stated_variance(method):
    model, batch, exact = _quadratic_problem()
    d = exact.size
    cosines, errors = [], {}
    for n in (4, 64, 1024):  # pairs (ES) or directions (SPSA)
        trials = []
        for seed in range(12):
            estimator = (alt.EvolutionStrategies(2 * n, sigma=0.1, fitness_shaping=False,
                                                 seed=seed, chunk=256) if method == "evolution"
                         else alt.SPSA(n, c=0.1, seed=seed, chunk=256))
            trials.append(_estimate(model, estimator, batch))
        trials = np.array(trials)
        errors[n] = np.mean(np.sum((trials - exact) ** 2, axis=1))
        cosines.append(np.mean(trials @ exact / np.linalg.norm(trials, axis=1))
                       / np.linalg.norm(exact))
        # the docstrings' bounds: E||g_hat - g||^2 = (d + 1)|g|^2/n (ES), (d - 1)|g|^2/n (SPSA)
        stated = (d + 1 if method == "evolution" else d - 1) * (exact @ exact) / n
        # 12 trials of a sum of d squared errors: the mean is within a factor 2 of its
        # expectation with overwhelming probability (chi-square-like, d * 12 = 168 terms)
        assert 0.5 * stated < errors[n] < 2.0 * stated, (n, errors[n], stated)
    assert cosines[0] < cosines[1] < cosines[2]
    assert cosines[2] > 0.97
    assert errors[1024] < errors[4] / 100


def test_evolution_without_shaping_is_unbiased_and_shaping_keeps_the_direction():
    model, batch, exact = _quadratic_problem(seed=1)
    pairs = 4000
    raw = _estimate(model, alt.EvolutionStrategies(2 * pairs, 0.1, fitness_shaping=False,
                                                   chunk=2000), batch)
    # three standard deviations of the stated error sqrt((d + 1) / n) |g|
    bound = 3 * np.sqrt((exact.size + 1) / pairs) * np.linalg.norm(exact)
    assert np.linalg.norm(raw - exact) < bound
    shaped = _estimate(model, alt.EvolutionStrategies(2 * pairs, 0.1, chunk=2000), batch)
    assert shaped @ exact / (np.linalg.norm(shaped) * np.linalg.norm(exact)) > 0.95


def test_population_batching_matches_member_by_member_and_mpi_share_is_the_whole():
    """The batched-matmul path, the functional_call loop and the per-rank split all give the
    same losses."""
    bp.manual_seed(0)
    model = bp.nn.Sequential(bp.nn.Linear(5, 4), bp.nn.Tanh(), bp.nn.Linear(4, 3))
    batch = (bp.randn(7, 5), bp.tensor([0, 1, 2, 0, 1, 2, 0]))
    theta = alt.flat_parameters(model)
    points = theta + 0.1 * np.random.default_rng(0).standard_normal((9, theta.size))
    fast = alt.population_losses(model, F.cross_entropy, batch, points, chunk=4)
    wrapped = bp.nn.Sequential(bp.nn.Sequential(*model))  # not stackable: the loop path
    assert not alt.population.stackable(wrapped)
    slow = alt.population_losses(wrapped, F.cross_entropy, batch, points, chunk=4)
    # float32: the batched products and the member-by-member ones sum in different orders
    np.testing.assert_allclose(fast, slow, rtol=1e-5)
    np.testing.assert_allclose(alt.flat_parameters(model), theta)  # parameters untouched
    with pytest.raises(ValueError, match=r"population_losses: points must be \(P, 39\)"):
        alt.population_losses(model, F.cross_entropy, batch, points[:, :3])


def test_evolution_over_ranks_sums_each_ranks_share(monkeypatch):
    """Two simulated ranks each evaluate every other pair; summing their loss tables (what the
    all_reduce does) gives the single-process estimate exactly."""
    from backprop.alternatives import evolution

    model, batch, _ = _quadratic_problem(seed=2)
    single = _estimate(model, alt.EvolutionStrategies(10, 0.1, seed=3), batch)
    tables = []
    for rank in (0, 1):
        monkeypatch.setattr(evolution, "_rank_and_world", lambda r=rank: (r, 2))
        monkeypatch.setattr(evolution, "_sum_over_ranks", lambda t: tables.append(t.copy()) or t)
        _estimate(model, alt.EvolutionStrategies(10, 0.1, seed=3), batch)
    assert np.all((tables[0] == 0) | (tables[1] == 0))  # disjoint shares
    monkeypatch.setattr(evolution, "_rank_and_world", lambda: (0, 2))
    monkeypatch.setattr(evolution, "_sum_over_ranks", lambda t: tables[0] + tables[1])
    np.testing.assert_allclose(_estimate(model, alt.EvolutionStrategies(10, 0.1, seed=3), batch),
                               single)


def test_feedback_alignment_gradients_are_exact():
    rng = np.random.default_rng(0)
    model = alt.with_feedback_alignment(bp.nn.Sequential(bp.nn.Linear(5, 4), bp.nn.ReLU(),
                                                         bp.nn.Linear(4, 3))).double()
    x_np = rng.standard_normal((6, 5))
    x = bp.tensor(x_np, requires_grad=True)
    h = model[1](model[0](x))
    h.retain_grad()
    out = model[2](h)
    g = rng.standard_normal((6, 3))
    (out * bp.tensor(g)).sum().backward()
    # the input gradient of the last layer goes through B, not W
    np.testing.assert_allclose(h.grad.numpy(), g @ model[2].feedback.numpy(), rtol=1e-12)
    # weight and bias gradients are backprop's: those of a plain Linear on the same h and g
    plain = bp.nn.Linear(4, 3).double()
    plain.load_state_dict({"weight": model[2].weight.detach(), "bias": model[2].bias.detach()})
    (plain(h.detach()) * bp.tensor(g)).sum().backward()
    np.testing.assert_allclose(model[2].weight.grad.numpy(), plain.weight.grad.numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(model[2].bias.grad.numpy(), plain.bias.grad.numpy(), rtol=1e-12)
    # the first layer's weight gradient uses the feedback-propagated error
    delta = (g @ model[2].feedback.numpy()) * (model[0](x).detach().numpy() > 0)
    np.testing.assert_allclose(model[0].weight.grad.numpy(), delta.T @ x_np, rtol=1e-10)
    np.testing.assert_allclose(x.grad.numpy(), delta @ model[0].feedback.numpy(), rtol=1e-10)
    # the parameters are the original Linear's (optimizers built before the swap still work)
    assert model[0].weight is next(iter(model.parameters()))
    with pytest.raises(ValueError, match="with_feedback_alignment: ReLU holds no nn.Linear"):
        alt.with_feedback_alignment(bp.nn.ReLU())


def test_forward_forward_losses_stay_in_their_layer():
    net = alt.ForwardForwardNet(6, [5, 4, 3], num_classes=3)
    x, y = bp.randn(8, 6), bp.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    losses = net.local_losses(x, y, (y + 1) % 3)
    for k, loss in enumerate(losses):
        net.zero_grad(set_to_none=True)
        loss.backward()
        for j, layer in enumerate(net.layers):
            if j == k:
                assert float(np.abs(layer.weight.grad.numpy()).sum()) > 0
            else:
                assert layer.weight.grad is None, (k, j)
    with pytest.raises(TypeError, match="ForwardForward: the model must be a ForwardForwardNet"):
        alt.ForwardForward().estimate_(bp.nn.Linear(2, 2), None, (x, y))


def test_spsa_gain_and_argument_errors():
    gain = alt.spsa_gain(A=4.0)
    assert gain(0) == 1.0 and gain(10) < gain(1) < 1.0
    with pytest.raises(ValueError, match="EvolutionStrategies: population must be an even"):
        alt.EvolutionStrategies(population=7)
    with pytest.raises(ValueError, match="SPSA: samples must be at least 1"):
        alt.SPSA(samples=0)
    np.testing.assert_allclose(alt.centered_ranks(np.array([[2.0, 1.0], [4.0, 3.0]])),
                               [[-1 / 6, -0.5], [0.5, 1 / 6]])


@pytest.fixture(scope="module")
def digits():
    return load_task("digits")


@pytest.mark.parametrize("method,steps,lr", [
    ("backprop", 30, 0.01), ("feedback-alignment", 30, 0.01), ("evolution", 15, 0.03),
    ("spsa", 30, 0.03), ("forward-forward", 60, 0.03)])
def test_each_method_trains_the_digits_mlp_above_chance(digits, method, steps, lr):
    bp.manual_seed(0)
    if method == "forward-forward":
        model, estimator = alt.ForwardForwardNet(64, [32], 10), alt.ForwardForward()
    else:
        model = bp.nn.Sequential(bp.nn.Linear(64, 32), bp.nn.ReLU(), bp.nn.Linear(32, 10))
        estimator = {"backprop": alt.Backprop(), "evolution": alt.EvolutionStrategies(40, 0.05),
                     "spsa": alt.SPSA(16, 0.05)}.get(method, alt.Backprop())
        if method == "feedback-alignment":
            model = alt.with_feedback_alignment(model)
    optimizer = bp.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(0)
    (x, y), (x_test, y_test) = digits.train, digits.test
    for _ in range(steps):
        index = rng.integers(0, len(y), 64)
        estimator.estimate_(model, F.cross_entropy, (x[index], y[index]))
        optimizer.step()
    with bp.no_grad():
        predicted = (model.predict(x_test) if method == "forward-forward"
                     else model(x_test).numpy().argmax(1))
    accuracy = float((predicted == y_test.numpy()).mean())
    assert accuracy > 0.3, accuracy  # chance is 0.1
