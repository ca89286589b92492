"""``bp.nn.init``: PyTorch's gains and fans, the distributions the initialisers draw from, and
their in-place, generator and dtype behaviour.

Random initialisers are checked by their sample statistics on large tensors (the scale formula is
what a port depends on; the exact stream differs from PyTorch's), deterministic ones (eye_,
dirac_, constant_) value for value against PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.nn import init

GAINS = [("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
         ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None),
         ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
         ("leaky_relu", 0.2), ("leaky_relu", 0), ("leaky_relu", math.sqrt(5)), ("selu", None)]

FAN_SHAPES = [(3, 5), (5, 3), (4, 3, 2), (8, 3, 3, 3), (2, 3, 4, 5, 6), (7, 1, 1, 1), (6, 0),
              (0, 4, 3)]


def sample_std(t: bp.Tensor) -> float:
    return float(np.std(t.numpy().astype(np.float64)))


# -- gains and fans --------------------------------------------------------------------------------

@pytest.mark.parametrize("nonlinearity,param", GAINS)
def test_calculate_gain_matches_torch(torch: Any, nonlinearity: str, param: Any) -> None:
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


@pytest.mark.parametrize("nonlinearity,param,match", [
    ("swish", None, "unsupported nonlinearity 'swish'"),
    ("leaky_relu", "0.1", "negative_slope '0.1' is not a valid number"),
    ("leaky_relu", True, "negative_slope True is not a valid number"),
])
def test_calculate_gain_errors(nonlinearity: str, param: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        init.calculate_gain(nonlinearity, param)


@pytest.mark.parametrize("shape", FAN_SHAPES, ids=str)
def test_fan_in_and_fan_out_match_torch(torch: Any, shape: tuple) -> None:
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init._calculate_fan_in_and_fan_out(bp.empty(*shape)) == expected


@pytest.mark.parametrize("shape", [(), (5,)], ids=str)
def test_fan_needs_two_dims(shape: tuple) -> None:
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init._calculate_fan_in_and_fan_out(bp.empty(*shape))


# -- distributions -----------------------------------------------------------------------------

def uniform_std(bound: float) -> float:
    return bound / math.sqrt(3.0)


# (initialiser, kwargs, shape, expected std, bound of |values| or None)
def _distribution_cases() -> list:
    cases = []
    shape = (400, 250)
    fan_in, fan_out = 250, 400
    for gain in (1.0, 2.5):
        std = gain * math.sqrt(2.0 / (fan_in + fan_out))
        cases.append(pytest.param(init.xavier_uniform_, {"gain": gain}, shape, std,
                                  math.sqrt(3) * std, id=f"xavier_uniform-gain{gain}"))
        cases.append(pytest.param(init.xavier_normal_, {"gain": gain}, shape, std, None,
                                  id=f"xavier_normal-gain{gain}"))
    conv = (64, 32, 5, 5)  # fan_in 800, fan_out 1600
    for mode, fan in (("fan_in", 32 * 25), ("fan_out", 64 * 25)):
        for nonlinearity, a in (("relu", 0), ("leaky_relu", 0), ("leaky_relu", math.sqrt(5)),
                                ("tanh", 0), ("linear", 0)):
            gain = init.calculate_gain(nonlinearity, a)
            std = gain / math.sqrt(fan)
            kw = {"a": a, "mode": mode, "nonlinearity": nonlinearity}
            name = f"{mode}-{nonlinearity}-a{a:.2f}"
            cases.append(pytest.param(init.kaiming_uniform_, kw, conv, std, math.sqrt(3) * std,
                                      id=f"kaiming_uniform-{name}"))
            cases.append(pytest.param(init.kaiming_normal_, kw, conv, std, None,
                                      id=f"kaiming_normal-{name}"))
    cases.append(pytest.param(init.uniform_, {"a": -3.0, "b": 1.0}, (300_000,),
                              uniform_std(2.0), None, id="uniform"))
    cases.append(pytest.param(init.normal_, {"mean": 2.0, "std": 0.3}, (300_000,), 0.3, None,
                              id="normal"))
    return cases


@pytest.mark.parametrize("fill,kwargs,shape,std,bound", _distribution_cases())
def test_initialiser_scale(fill: Callable, kwargs: dict, shape: tuple, std: float,
                           bound: float | None) -> None:
    t = fill(bp.empty(*shape, dtype=bp.float64), **kwargs)
    assert sample_std(t) == pytest.approx(std, rel=0.02)
    if bound is not None:
        assert np.abs(t.numpy()).max() <= bound
        assert np.abs(t.numpy()).max() > 0.99 * bound  # uses the whole interval


def test_uniform_and_normal_means() -> None:
    u = init.uniform_(bp.empty(200_000, dtype=bp.float64), -3.0, 1.0).numpy()
    assert u.min() >= -3.0 and u.max() < 1.0 and u.mean() == pytest.approx(-1.0, abs=0.02)
    n = init.normal_(bp.empty(200_000, dtype=bp.float64), 2.0, 0.3).numpy()
    assert n.mean() == pytest.approx(2.0, abs=0.01)


def truncated_normal_moments(mean: float, std: float, a: float, b: float) -> tuple[float, float]:
    """Mean and std of N(mean, std^2) restricted to [a, b]."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    def pdf(x: float) -> float:
        return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)

    def x_pdf(x: float) -> float:  # x * pdf(x), 0 at infinity
        return 0.0 if math.isinf(x) else x * pdf(x)

    # The mass of [alpha, beta], via erfc in the tails (accurate far from the mean).
    r = math.sqrt(2)
    if alpha >= 0:
        z = 0.5 * (math.erfc(alpha / r) - math.erfc(beta / r))
    elif beta <= 0:
        z = 0.5 * (math.erfc(-beta / r) - math.erfc(-alpha / r))
    else:
        z = 0.5 * (math.erf(beta / r) - math.erf(alpha / r))
    m = mean + std * (pdf(alpha) - pdf(beta)) / z
    var = std ** 2 * (1 + (x_pdf(alpha) - x_pdf(beta)) / z - ((pdf(alpha) - pdf(beta)) / z) ** 2)
    return m, math.sqrt(var)


@pytest.mark.parametrize("mean,std,a,b", [
    (0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04), (1.0, 2.0, 0.0, 5.0),
    (0.0, 0.02, -2.0, 2.0),  # the common ViT call: bounds at 100 std, nothing is cut
    (0.0, 1.0, 1.5, 4.0), (0.0, 1.0, -0.05, 0.1),  # narrow: uniform proposal
    (0.0, 1.0, 3.0, 3.5), (2.0, 1.0, -1.5, -1.0),  # in a tail, on either side: uniform
    (0.0, 1.0, 6.0, math.inf), (0.0, 0.5, -math.inf, -4.0), (0.0, 1.0, 5.0, 9.0),  # exponential
])
def test_trunc_normal_bounds_and_moments(mean: float, std: float, a: float, b: float) -> None:
    t = init.trunc_normal_(bp.empty(200, 1000, dtype=bp.float64), mean, std, a, b).numpy()
    assert t.min() >= a and t.max() <= b
    expected_mean, expected_std = truncated_normal_moments(mean, std, a, b)
    assert t.mean() == pytest.approx(expected_mean, abs=0.01 * expected_std)
    assert t.std() == pytest.approx(expected_std, rel=0.02)


def test_trunc_normal_errors() -> None:
    with pytest.raises(ValueError, match="lower bound a=1 must be below"):
        init.trunc_normal_(bp.empty(3), a=1, b=1)
    with pytest.raises(ValueError, match="holds no probability"):
        init.trunc_normal_(bp.empty(3), mean=0.0, std=1.0, a=50.0, b=51.0)
    with pytest.raises(ValueError, match="std must be positive"):
        init.trunc_normal_(bp.empty(3), std=0.0)


@pytest.mark.parametrize("shape", [(5, 5), (3, 7), (7, 3), (6, 2, 3, 3), (4, 2, 5)], ids=str)
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_orthogonal(shape: tuple, gain: float) -> None:
    w = init.orthogonal_(bp.empty(*shape, dtype=bp.float64), gain=gain).numpy()
    flat = w.reshape(shape[0], -1) / gain
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-12)


def test_orthogonal_is_haar_distributed() -> None:
    """With the sign fix, the diagonal entries of random orthogonal matrices average zero (a plain
    QR gives a biased sign)."""
    g = bp.Generator().manual_seed(1)
    diagonals = [np.diagonal(init.orthogonal_(bp.empty(4, 4, dtype=bp.float64), generator=g)
                             .numpy()) for _ in range(2000)]
    assert abs(np.mean(diagonals)) < 0.05


def test_sparse_zeros_per_column() -> None:
    w = init.sparse_(bp.empty(10, 300, dtype=bp.float64), sparsity=0.25, std=0.5).numpy()
    assert ((w == 0).sum(axis=0) == 3).all()
    assert w[w != 0].std() == pytest.approx(0.5, rel=0.05)


# -- deterministic initialisers against PyTorch ---------------------------------------------------

@pytest.mark.parametrize("name,shape,args", [
    ("constant_", (3, 4), (0.7,)), ("ones_", (2, 3), ()), ("zeros_", (5,), ()),
    ("eye_", (3, 5), ()), ("eye_", (4, 2), ()),
    ("dirac_", (4, 3, 3), ()), ("dirac_", (6, 2, 3, 3), ()), ("dirac_", (6, 2, 3, 3), (2,)),
    ("dirac_", (4, 4, 2, 3, 3), (2,)), ("dirac_", (2, 5, 4, 4), ()),
], ids=lambda v: str(v))
def test_deterministic_initialisers_match_torch(torch: Any, name: str, shape: tuple,
                                                args: tuple) -> None:
    ours = getattr(init, name)(bp.empty(*shape, dtype=bp.float64), *args).numpy()
    theirs = getattr(torch.nn.init, name)(torch.empty(shape, dtype=torch.float64), *args)
    np.testing.assert_array_equal(ours, theirs.numpy())


@pytest.mark.parametrize("call,match", [
    (lambda: init.eye_(bp.empty(2, 2, 2)), "only 2-D tensors"),
    (lambda: init.dirac_(bp.empty(2, 2)), "3, 4 or 5 dimensions"),
    (lambda: init.dirac_(bp.empty(3, 2, 3), groups=2), "divisible by groups=2"),
    (lambda: init.orthogonal_(bp.empty(4)), "2 or more dimensions"),
    (lambda: init.kaiming_uniform_(bp.empty(2, 2), mode="fan_avg"), "mode 'fan_avg'"),
    (lambda: init.kaiming_normal_(bp.empty(2, 2), nonlinearity="swish"), "'swish'"),
    (lambda: init.xavier_uniform_(bp.empty(3)), "at least 2 dimensions"),
    (lambda: init.sparse_(bp.empty(3), 0.5), "only 2-D tensors"),
])
def test_errors(call: Callable, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_non_tensor_is_rejected() -> None:
    with pytest.raises(TypeError, match=r"nn.init.normal_: expected a bp.Tensor .* got ndarray"):
        init.normal_(np.zeros(3))


def test_kaiming_mode_is_case_insensitive() -> None:
    w = init.kaiming_normal_(bp.empty(100, 2000, dtype=bp.float64), mode="FAN_OUT")
    assert sample_std(w) == pytest.approx(math.sqrt(2 / 100), rel=0.03)


def test_kaiming_on_zero_element_tensor_warns() -> None:
    t = bp.empty(0, 3)
    with pytest.warns(UserWarning, match="zero-element tensor is a no-op"):
        result = init.kaiming_uniform_(t)
    assert result is t


# -- behaviour ----------------------------------------------------------------------------------

ALL_FILLS = [
    (init.uniform_, ()), (init.normal_, ()), (init.trunc_normal_, ()), (init.constant_, (0.5,)),
    (init.ones_, ()), (init.zeros_, ()), (init.eye_, ()), (init.xavier_uniform_, ()),
    (init.xavier_normal_, ()), (init.kaiming_uniform_, ()), (init.kaiming_normal_, ()),
    (init.orthogonal_, ()), (init.sparse_, (0.5,)),
]
RANDOM_FILLS = [init.uniform_, init.normal_, init.trunc_normal_, init.xavier_uniform_,
                init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_,
                init.orthogonal_]


@pytest.mark.parametrize("fill,args", ALL_FILLS, ids=lambda f: getattr(f, "__name__", ""))
@pytest.mark.parametrize("dtype", [bp.float32, bp.float64], ids=str)
def test_fills_a_parameter_in_place(fill: Callable, args: tuple, dtype: Any) -> None:
    p = bp.nn.Parameter(bp.zeros(6, 4, dtype=dtype))
    storage = p._data
    result = fill(p, *args)
    assert result is p and p._data is storage  # in place, same object
    assert p.dtype == dtype and p.is_leaf and p.requires_grad and p.grad_fn is None
    assert np.isfinite(p.detach().numpy()).all()


@pytest.mark.parametrize("fill", RANDOM_FILLS, ids=lambda f: f.__name__)
def test_generator_and_default_generator_repeat(fill: Callable) -> None:
    def draw(generator: Any = None) -> np.ndarray:
        return fill(bp.empty(5, 6, dtype=bp.float64), generator=generator).numpy().copy()

    np.testing.assert_array_equal(draw(bp.Generator().manual_seed(3)),
                                  draw(bp.Generator().manual_seed(3)))
    assert not np.array_equal(draw(bp.Generator().manual_seed(3)),
                              draw(bp.Generator().manual_seed(4)))
    bp.manual_seed(11)
    first = draw()
    bp.manual_seed(11)
    np.testing.assert_array_equal(first, draw())


def test_init_bumps_the_version_so_saved_values_are_not_silently_reused() -> None:
    w = bp.nn.Parameter(bp.ones(3, dtype=bp.float64))
    x = bp.ones(3, dtype=bp.float64, requires_grad=True)
    y = (w * x).sum()  # saves w for x's gradient
    init.normal_(w)
    with pytest.raises(bp.GraphError):
        y.backward()


def test_init_of_a_view_writes_through() -> None:
    base = bp.zeros(4, 3, dtype=bp.float64)
    init.ones_(base[1:3])
    assert base.numpy().sum(axis=1).tolist() == [0.0, 3.0, 3.0, 0.0]
