"""backprop.distributions against torch.distributions: a table of families, each built with the
same parameters on both sides; values and parameter gradients of log_prob, entropy, moments,
cdf and icdf are compared in float64 and float32, samples are checked by their statistics, and
kl_divergence by pairs. A public distribution with no row fails the suite."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest

import backprop as bp
import backprop.distributions as D

torch = pytest.importorskip("torch")
TD = torch.distributions

_RNG = np.random.default_rng(0)
_SPD = np.array([[[2.0, 0.3], [0.3, 1.0]], [[1.0, -0.2], [-0.2, 0.5]]])


def _positive(*shape: int) -> np.ndarray:
    return _RNG.uniform(0.5, 2.0, shape)


def _real(*shape: int) -> np.ndarray:
    return _RNG.standard_normal(shape)


@dataclass
class Row:
    """A family: its name in both libraries, its constructor's keyword parameters (float arrays,
    which get requires_grad), a value inside its support (batch shape (2, 3) or an event on the
    right), the batch and event shapes it must report, and the methods PyTorch has for it."""

    name: str
    params: dict[str, np.ndarray]
    value: np.ndarray
    batch_shape: tuple[int, ...]
    event_shape: tuple[int, ...] = ()
    methods: tuple[str, ...] = ("log_prob", "entropy", "mean", "variance", "stddev", "mode")
    integer_value: bool = False
    wrap: Callable[[Any, Any], Any] | None = None  # builds a wrapper (Independent) of a base
    id: str = field(default="")


_SHAPE = (2, 3)
ROWS = [
    Row("Normal", {"loc": _real(*_SHAPE), "scale": _positive(*_SHAPE)}, _real(*_SHAPE), _SHAPE,
        methods=("log_prob", "entropy", "mean", "variance", "stddev", "mode", "cdf", "icdf")),
    Row("Laplace", {"loc": _real(*_SHAPE), "scale": _positive(*_SHAPE)}, _real(*_SHAPE), _SHAPE,
        methods=("log_prob", "entropy", "mean", "variance", "stddev", "mode", "cdf", "icdf")),
    Row("Exponential", {"rate": _positive(*_SHAPE)}, _positive(*_SHAPE), _SHAPE,
        methods=("log_prob", "entropy", "mean", "variance", "stddev", "mode", "cdf", "icdf")),
    Row("Uniform", {"low": -_positive(*_SHAPE), "high": _positive(*_SHAPE)},
        _RNG.uniform(-0.4, 0.4, _SHAPE), _SHAPE,
        methods=("log_prob", "entropy", "mean", "variance", "stddev", "cdf", "icdf")),
    Row("LogNormal", {"loc": _real(*_SHAPE), "scale": _positive(*_SHAPE)}, _positive(*_SHAPE),
        _SHAPE,
        methods=("log_prob", "entropy", "mean", "variance", "stddev", "mode", "cdf", "icdf")),
    Row("Gamma", {"concentration": _positive(*_SHAPE), "rate": _positive(*_SHAPE)},
        _positive(*_SHAPE), _SHAPE),
    Row("Beta", {"concentration1": _positive(*_SHAPE), "concentration0": _positive(*_SHAPE)},
        _RNG.uniform(0.1, 0.9, _SHAPE), _SHAPE,
        methods=("log_prob", "entropy", "mean", "variance", "stddev")),
    Row("Dirichlet", {"concentration": _positive(2, 3)},
        np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]), (2,), (3,)),
    Row("Poisson", {"rate": _positive(*_SHAPE)}, np.array([[0.0, 1, 2], [3, 0, 5]]), _SHAPE,
        methods=("log_prob", "mean", "variance", "stddev", "mode")),
    Row("Bernoulli", {"probs": _RNG.uniform(0.1, 0.9, _SHAPE)}, np.array([[0.0, 1, 1], [0, 0, 1]]),
        _SHAPE, id="Bernoulli-probs"),
    Row("Bernoulli", {"logits": _real(*_SHAPE)}, np.array([[0.0, 1, 1], [0, 0, 1]]), _SHAPE,
        id="Bernoulli-logits"),
    Row("Categorical", {"probs": _positive(2, 4)}, np.array([0, 3]), (2,),
        methods=("log_prob", "entropy", "mode"), integer_value=True, id="Categorical-probs"),
    Row("Categorical", {"logits": _real(2, 4)}, np.array([[1, 2], [3, 0]]), (2,),
        methods=("log_prob", "entropy", "mode"), integer_value=True, id="Categorical-logits"),
    Row("OneHotCategorical", {"probs": _positive(2, 4)}, np.eye(4)[[1, 2]], (2,), (4,),
        id="OneHotCategorical-probs"),
    Row("OneHotCategorical", {"logits": _real(2, 4)}, np.eye(4)[[0, 3]], (2,), (4,),
        id="OneHotCategorical-logits"),
    Row("MultivariateNormal", {"loc": _real(2, 2), "covariance_matrix": _SPD}, _real(3, 2, 2),
        (2,), (2,), methods=("log_prob", "entropy", "mean", "variance", "stddev", "mode"),
        id="MultivariateNormal-covariance"),
    Row("MultivariateNormal", {"loc": _real(2), "scale_tril": np.linalg.cholesky(_SPD)},
        _real(2, 2), (2,), (2,), id="MultivariateNormal-scale_tril"),
    Row("MultivariateNormal", {"loc": _real(2), "precision_matrix": _SPD}, _real(2, 2), (2,),
        (2,), methods=("log_prob", "entropy", "mean", "variance"),
        id="MultivariateNormal-precision"),
    Row("Independent", {"loc": _real(*_SHAPE), "scale": _positive(*_SHAPE)}, _real(*_SHAPE),
        (2,), (3,), wrap=lambda lib, kw: lib.Independent(lib.Normal(**kw), 1),
        methods=("log_prob", "entropy", "mean", "variance", "stddev", "mode")),
]


def _build(lib: Any, row: Row, params: dict) -> Any:
    return row.wrap(lib, params) if row.wrap else getattr(lib, row.name)(**params)


def _call(dist: Any, method: str, value: Any) -> Any:
    attr = getattr(dist, method)
    if method in ("log_prob", "cdf"):
        return attr(value)
    if method == "icdf":
        return attr(value)
    return attr() if callable(attr) else attr


def _icdf_points(row: Row, lib_tensor: Callable) -> Any:
    return lib_tensor(np.linspace(0.1, 0.9, int(np.prod(row.value.shape))).reshape(
        row.value.shape))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id or r.name)
def test_values_and_gradients_match_pytorch(row: Row, dtype: str) -> None:
    t_dtype, b_dtype = getattr(torch, dtype), getattr(bp, dtype)
    t_params = {k: torch.tensor(v, dtype=t_dtype, requires_grad=True)
                for k, v in row.params.items()}
    b_params = {k: bp.tensor(v, dtype=b_dtype, requires_grad=True) for k, v in row.params.items()}
    t_dist, b_dist = _build(TD, row, t_params), _build(D, row, b_params)
    if row.integer_value:
        t_value, b_value = torch.tensor(row.value), bp.tensor(row.value)
    else:
        t_value = torch.tensor(row.value, dtype=t_dtype)
        b_value = bp.tensor(row.value, dtype=b_dtype)
    rtol, atol = (1e-9, 1e-12) if dtype == "float64" else (2e-5, 2e-6)
    for method in row.methods:
        if method == "icdf":
            t_arg, b_arg = (_icdf_points(row, lambda a: torch.tensor(a, dtype=t_dtype)),
                            _icdf_points(row, lambda a: bp.tensor(a, dtype=b_dtype)))
        else:
            t_arg, b_arg = t_value, b_value
        expected, got = _call(t_dist, method, t_arg), _call(b_dist, method, b_arg)
        assert got.shape == tuple(expected.shape), (method, got.shape, expected.shape)
        assert got.dtype == np.dtype(dtype) or method == "mode" and row.integer_value, method
        np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=rtol,
                                   atol=atol, err_msg=f"{row.name}.{method}")
        if not expected.requires_grad:
            continue
        weights = np.linspace(0.5, 1.5, expected.numel()).reshape(tuple(expected.shape))
        t_grads = torch.autograd.grad((expected * torch.tensor(weights, dtype=t_dtype)).sum(),
                                      list(t_params.values()), allow_unused=True,
                                      retain_graph=True)
        b_grads = bp.autograd.grad((got * bp.tensor(weights, dtype=b_dtype)).sum(),
                                   list(b_params.values()), allow_unused=True,
                                   retain_graph=True)
        for name, t_grad, b_grad in zip(t_params, t_grads, b_grads):
            t_grad = np.zeros(row.params[name].shape) if t_grad is None else t_grad.numpy()
            b_grad = np.zeros(row.params[name].shape) if b_grad is None else b_grad.numpy()
            np.testing.assert_allclose(b_grad, t_grad, rtol=rtol * 10, atol=atol * 10,
                                       err_msg=f"d {row.name}.{method} / d {name}")


def test_every_public_distribution_has_a_row() -> None:
    public = {name for name, value in vars(D).items()
              if inspect.isclass(value) and issubclass(value, D.Distribution)
              and value not in (D.Distribution, D.TransformedDistribution)}
    missing = sorted(public - {row.name for row in ROWS})
    assert not missing, f"distributions without a row in tests/test_distributions.py: {missing}"


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id or r.name)
def test_shapes_of_batch_event_and_samples(row: Row) -> None:
    dist = _build(D, row, {k: bp.tensor(v) for k, v in row.params.items()})
    assert dist.batch_shape == row.batch_shape and dist.event_shape == row.event_shape
    sample = dist.sample((4, 1))
    assert sample.shape == (4, 1) + row.batch_shape + row.event_shape
    assert bool(dist.support.check(sample).all())
    expanded = dist.expand((5,) + row.batch_shape)
    assert expanded.batch_shape == (5,) + row.batch_shape
    assert expanded.log_prob(sample).shape == (4, 5) + row.batch_shape
    if dist.has_rsample:
        assert dist.rsample((3,)).shape == (3,) + row.batch_shape + row.event_shape


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id or r.name)
def test_runs_on_the_strict_device(row: Row) -> None:
    """The stand-in for a GPU (CuPy's rules: a NumPy array mixed in fails): every draw and
    every method stays on the parameters' device."""
    params = {k: bp.tensor(v, device="strict") for k, v in row.params.items()}
    dist = _build(D, row, params)
    sample = dist.sample((2,))
    assert sample.device.type == "strict"
    assert dist.log_prob(sample).device.type == "strict"
    assert dist.log_prob(bp.tensor(row.value, device="strict")).device.type == "strict"
    if "entropy" in row.methods:
        assert dist.entropy().device.type == "strict"


# -- samples, by their statistics ------------------------------------------------------------------

_N = 100_000
_STATISTICS = [
    ("Normal", lambda: D.Normal(bp.tensor([0.5, -2.0]), bp.tensor([1.0, 3.0]))),
    ("Laplace", lambda: D.Laplace(bp.tensor([0.5, -2.0]), bp.tensor([1.0, 0.5]))),
    ("Exponential", lambda: D.Exponential(bp.tensor([0.5, 4.0]))),
    ("Uniform", lambda: D.Uniform(bp.tensor([0.0, -3.0]), bp.tensor([1.0, 5.0]))),
    ("LogNormal", lambda: D.LogNormal(bp.tensor([0.0, 0.3]), bp.tensor([0.5, 0.25]))),
    ("Gamma", lambda: D.Gamma(bp.tensor([0.3, 4.0]), bp.tensor([1.0, 2.0]))),
    ("Beta", lambda: D.Beta(bp.tensor([0.5, 3.0]), bp.tensor([2.0, 3.0]))),
    ("Dirichlet", lambda: D.Dirichlet(bp.tensor([0.5, 1.0, 2.5]))),
    ("Poisson", lambda: D.Poisson(bp.tensor([0.7, 12.0]))),
    ("Bernoulli", lambda: D.Bernoulli(probs=bp.tensor([0.1, 0.6]))),
    ("OneHotCategorical", lambda: D.OneHotCategorical(probs=bp.tensor([0.2, 0.3, 0.5]))),
    ("MultivariateNormal", lambda: D.MultivariateNormal(
        bp.tensor([1.0, -1.0]), covariance_matrix=bp.tensor([[2.0, 0.6], [0.6, 1.0]]))),
]


@pytest.mark.parametrize("name, make", _STATISTICS, ids=[s[0] for s in _STATISTICS])
def test_sample_mean_and_variance_within_standard_errors(name: str, make: Callable) -> None:
    bp.manual_seed(0)
    dist = make()
    samples = dist.sample((_N,)).numpy().astype(np.float64)
    mean, variance = dist.mean.numpy(), dist.variance.numpy()
    # 5 standard errors: the mean's is sqrt(var / n); the variance's uses the fourth moment.
    assert np.all(np.abs(samples.mean(0) - mean) < 5 * np.sqrt(variance / _N)), name
    centred = samples - mean
    fourth = (centred ** 4).mean(0)
    # (a two-point variable can have fourth moment = variance^2: the floor keeps a margin)
    spread = np.sqrt((fourth - variance ** 2) / _N) + variance / np.sqrt(_N)
    assert np.all(np.abs(centred.var(0) - variance) < 5 * spread), name


def test_categorical_sample_frequencies() -> None:
    bp.manual_seed(1)
    probs = np.array([[0.1, 0.2, 0.7], [0.5, 0.0, 0.5]])
    drawn = D.Categorical(probs=bp.tensor(probs)).sample((_N,)).numpy()
    assert drawn.shape == (_N, 2) and drawn.dtype == np.int64
    for row in range(2):
        counts = np.bincount(drawn[:, row], minlength=3)
        expected = probs[row] * _N
        nonzero = expected > 0
        chi2 = (((counts - expected)[nonzero]) ** 2 / expected[nonzero]).sum()
        assert chi2 < 20 and counts[~nonzero].sum() == 0  # chi-square, 2 dof: p ~ 5e-5


# -- reparameterised gradients ---------------------------------------------------------------------

def test_normal_rsample_gradients_are_reparameterised() -> None:
    loc = bp.tensor([0.5, -1.0], dtype=bp.float64, requires_grad=True)
    scale = bp.tensor([2.0, 0.5], dtype=bp.float64, requires_grad=True)
    bp.manual_seed(5)
    sample = D.Normal(loc, scale).rsample((7,))
    sample.sum().backward()
    eps = (sample.detach() - loc.detach()) / scale.detach()
    assert loc.grad.tolist() == [7.0, 7.0]
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0).numpy(), rtol=1e-12)


@pytest.mark.parametrize("make, params", [
    (lambda p: D.Laplace(p[0], p[1]), [0.3, 1.5]),
    (lambda p: D.Exponential(p[0]), [1.7]),
    (lambda p: D.Uniform(p[0], p[1]), [-1.0, 2.0]),
    (lambda p: D.LogNormal(p[0], p[1]), [0.2, 0.7]),
    (lambda p: D.MultivariateNormal(p[0], scale_tril=p[1]), [[0.1, 0.2], [[1.0, 0.0], [0.4, 0.8]]]),
], ids=["Laplace", "Exponential", "Uniform", "LogNormal", "MultivariateNormal"])
def test_rsample_gradients_match_finite_differences_at_the_same_draw(make: Callable,
                                                                      params: list) -> None:
    """Drawing again from the same seed with a parameter nudged moves the sample by the
    derivative: the reparameterised gradient."""
    tensors = [bp.tensor(p, dtype=bp.float64, requires_grad=True) for p in params]
    bp.manual_seed(3)
    make(tensors).rsample((5,)).sum().backward()
    for i, p in enumerate(params):
        p = np.asarray(p, np.float64)
        numeric = np.zeros(p.shape)
        for index in np.ndindex(p.shape):
            if len(p.shape) == 2 and index[1] > index[0]:
                numeric[index] = tensors[i].grad.numpy()[index]
                continue  # scale_tril's upper triangle is not a parameter (nudging it is void)
            values = []
            for step in (1e-6, -1e-6):
                nudged = [bp.tensor(q, dtype=bp.float64) for q in params]
                moved = p.copy()
                moved[index] += step
                nudged[i] = bp.tensor(moved)
                bp.manual_seed(3)
                values.append(make(nudged).rsample((5,)).sum().item())
            numeric[index] = (values[0] - values[1]) / 2e-6
        np.testing.assert_allclose(tensors[i].grad.numpy(), numeric, rtol=1e-5, atol=1e-7)


def test_gamma_rsample_gradient_is_the_implicit_one() -> None:
    """A Gamma sample moves with alpha at a fixed CDF value: dx/dalpha = -(dF/dalpha) / f(x).
    Checked against PyTorch's _standard_gamma_grad for the same drawn values, and against
    the same relation with dF/dalpha from finite differences of PyTorch's igamma."""
    alpha = bp.tensor([0.2, 0.9, 2.5, 11.0, 80.0], dtype=bp.float64, requires_grad=True)
    bp.manual_seed(4)
    x = D.Gamma(alpha, 1.0).rsample()
    x.sum().backward()
    t_alpha, t_x = torch.tensor(alpha.detach().numpy()), torch.tensor(x.detach().numpy())
    np.testing.assert_allclose(alpha.grad.numpy(),
                               torch._standard_gamma_grad(t_alpha, t_x).numpy(), rtol=1e-3)
    h = 1e-6
    dF = (torch.special.gammainc(t_alpha + h, t_x) - torch.special.gammainc(t_alpha - h, t_x)) / (
        2 * h)
    density = torch.exp(TD.Gamma(t_alpha, 1.0).log_prob(t_x))
    np.testing.assert_allclose(alpha.grad.numpy(), (-dF / density).numpy(), rtol=1e-5)


def test_beta_and_dirichlet_rsample_flow_gradients_to_concentrations() -> None:
    c = bp.tensor([1.5, 2.0, 0.7], requires_grad=True)
    sample = D.Dirichlet(c).rsample((4,))
    assert np.allclose(sample.sum(-1).detach().numpy(), 1.0)
    (sample[:, 0]).sum().backward()
    assert np.isfinite(c.grad.numpy()).all() and np.abs(c.grad.numpy()).sum() > 0
    a = bp.tensor(2.0, requires_grad=True)
    D.Beta(a, 3.0).rsample((3,)).sum().backward()
    assert np.isfinite(a.grad.item()) and a.grad.item() != 0


def test_sample_does_not_record_a_graph() -> None:
    loc = bp.tensor([0.0, 1.0], requires_grad=True)
    assert not D.Normal(loc, 1.0).sample().requires_grad
    assert D.Normal(loc, 1.0).rsample().requires_grad


# -- kl_divergence ---------------------------------------------------------------------------------

_KL_PAIRS = [
    ("Normal", lambda: ({"loc": _real(3), "scale": _positive(3)},
                        {"loc": _real(3), "scale": _positive(3)})),
    ("Laplace", lambda: ({"loc": _real(3), "scale": _positive(3)},
                         {"loc": _real(3), "scale": _positive(3)})),
    ("Exponential", lambda: ({"rate": _positive(3)}, {"rate": _positive(3)})),
    ("Uniform", lambda: ({"low": np.array([0.0, -1, 0]), "high": np.array([1.0, 1, 2])},
                         {"low": np.array([-1.0, -2, 0.5]), "high": np.array([2.0, 1, 3])})),
    ("Gamma", lambda: ({"concentration": _positive(3), "rate": _positive(3)},
                       {"concentration": _positive(3), "rate": _positive(3)})),
    ("Beta", lambda: ({"concentration1": _positive(3), "concentration0": _positive(3)},
                      {"concentration1": _positive(3), "concentration0": _positive(3)})),
    ("Dirichlet", lambda: ({"concentration": _positive(2, 3)},
                           {"concentration": _positive(2, 3)})),
    ("Poisson", lambda: ({"rate": _positive(3)}, {"rate": _positive(3)})),
    ("Bernoulli", lambda: ({"probs": np.array([0.2, 0.5, 0.9])},
                           {"logits": _real(3)})),
    ("Categorical", lambda: ({"probs": _positive(2, 4)}, {"logits": _real(2, 4)})),
    ("OneHotCategorical", lambda: ({"logits": _real(2, 4)}, {"probs": _positive(2, 4)})),
    ("LogNormal", lambda: ({"loc": _real(3), "scale": _positive(3)},
                           {"loc": _real(3), "scale": _positive(3)})),
    ("MultivariateNormal", lambda: ({"loc": _real(2, 2), "covariance_matrix": _SPD},
                                    {"loc": _real(2), "scale_tril": np.linalg.cholesky(
                                        _SPD[0])})),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, make", _KL_PAIRS, ids=[p[0] for p in _KL_PAIRS])
def test_kl_divergence_matches_pytorch(name: str, make: Callable, dtype: str) -> None:
    p_params, q_params = make()
    t_dtype, b_dtype = getattr(torch, dtype), getattr(bp, dtype)
    t_p = {k: torch.tensor(v, dtype=t_dtype, requires_grad=True) for k, v in p_params.items()}
    t_q = {k: torch.tensor(v, dtype=t_dtype, requires_grad=True) for k, v in q_params.items()}
    b_p = {k: bp.tensor(v, dtype=b_dtype, requires_grad=True) for k, v in p_params.items()}
    b_q = {k: bp.tensor(v, dtype=b_dtype, requires_grad=True) for k, v in q_params.items()}
    expected = TD.kl_divergence(getattr(TD, name)(**t_p), getattr(TD, name)(**t_q))
    got = D.kl_divergence(getattr(D, name)(**b_p), getattr(D, name)(**b_q))
    rtol = 1e-9 if dtype == "float64" else 1e-4
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=rtol,
                               atol=rtol)
    finite = torch.isfinite(expected)
    t_grads = torch.autograd.grad(expected[finite].sum(), [*t_p.values(), *t_q.values()],
                                  allow_unused=True)
    b_grads = bp.autograd.grad(got[bp.tensor(finite.numpy())].sum(),
                               [*b_p.values(), *b_q.values()], allow_unused=True)
    for t_grad, b_grad in zip(t_grads, b_grads):
        if t_grad is None:
            assert b_grad is None or not b_grad.numpy().any()
            continue
        np.testing.assert_allclose(b_grad.numpy(), t_grad.numpy(), rtol=rtol * 10,
                                   atol=rtol * 10)


def test_kl_independent_and_register_kl_dispatch() -> None:
    loc_p, loc_q = _real(2, 3), _real(2, 3)
    got = D.kl_divergence(D.Independent(D.Normal(bp.tensor(loc_p), 1.0), 1),
                          D.Independent(D.Normal(bp.tensor(loc_q), 1.0), 1))
    expected = TD.kl_divergence(TD.Independent(TD.Normal(torch.tensor(loc_p), 1.0), 1),
                                TD.Independent(TD.Normal(torch.tensor(loc_q), 1.0), 1))
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12)
    with pytest.raises(NotImplementedError, match="no KL.*Normal and q type Gamma"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Gamma(1.0, 1.0))


# -- errors ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, error, match", [
    (lambda: D.Normal(bp.tensor([0.0, 1.0]), bp.tensor([1.0, -1.0])), ValueError,
     r"Normal: expected parameter scale \(Tensor of shape \(2,\)\) to satisfy the constraint "
     r"GreaterThan\(lower_bound=0.0\)"),
    (lambda: D.Gamma(-1.0, 1.0), ValueError, r"Gamma: expected parameter concentration"),
    (lambda: D.Beta(1.0, -2.0), ValueError, r"Beta: expected parameter concentration0"),
    (lambda: D.Bernoulli(probs=bp.tensor([1.5])), ValueError,
     r"Bernoulli: expected parameter probs .* Interval\(lower_bound=0.0, upper_bound=1.0\)"),
    (lambda: D.Bernoulli(probs=bp.tensor(0.5), logits=bp.tensor(0.0)), ValueError,
     r"Bernoulli: either `probs` or `logits` must be specified, but not both"),
    (lambda: D.Categorical(probs=bp.tensor([0.5, -0.5, 1.0])), ValueError,
     r"Categorical: expected parameter probs"),
    (lambda: D.Uniform(1.0, 0.0), ValueError,
     r"Uniform: expected parameter low \(Tensor of shape \(\)\) to satisfy the constraint "
     r"LessThan\(upper_bound=high\)"),
    (lambda: D.MultivariateNormal(bp.zeros(2), covariance_matrix=bp.tensor([[1.0, 2.0],
                                                                           [2.0, 1.0]])),
     ValueError, r"MultivariateNormal: expected parameter covariance_matrix"),
    (lambda: D.MultivariateNormal(bp.zeros(2)), ValueError,
     r"MultivariateNormal: exactly one of covariance_matrix or precision_matrix or scale_tril"),
    (lambda: D.Independent(D.Normal(bp.zeros(2), 1.0), 2), ValueError,
     r"Independent: expected reinterpreted_batch_ndims <= len\(base_distribution.batch_shape\)"),
    (lambda: D.Normal(0.0, 1.0).log_prob(bp.tensor(float("nan"))), ValueError,
     r"Normal: expected value argument .* within the support \(Real\(\)\)"),
    (lambda: D.Poisson(1.0).log_prob(bp.tensor(0.5)), ValueError,
     r"Poisson: expected value argument .*IntegerGreaterThan\(lower_bound=0\)"),
    (lambda: D.Dirichlet(bp.ones(3)).log_prob(bp.ones(2)), bp.ShapeError,
     r"Dirichlet: the right-most size of value must match event_shape: \(2,\) vs \(3,\)"),
])
def test_bad_parameters_and_values_name_the_distribution(make: Callable, error: type,
                                                         match: str) -> None:
    with pytest.raises(error, match=match):
        make()


def test_validate_args_false_skips_checks() -> None:
    d = D.Normal(0.0, -1.0, validate_args=False)
    with np.errstate(invalid="ignore"):  # log of the negative scale
        assert np.isnan(d.log_prob(bp.tensor(0.0)).item())


def test_distributions_import_lazily() -> None:
    import subprocess
    import sys
    code = ("import sys, backprop as bp; assert 'backprop.distributions' not in sys.modules; "
            "bp.distributions.Normal(0.0, 1.0); assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
