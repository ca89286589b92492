"""What the op and module tables cannot show for the rest of torch.nn (issue 16 item 4): the
random modules by distribution (RReLU's training slopes, gumbel_softmax's samples, the dropout
family's statistics), weight and spectral norm against PyTorch over several training steps
(both the parametrization and the hook-based forms), parametrize's behaviour, and constructor
errors."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F
from backprop.nn.utils import parametrize

# -- random activations, by distribution --------------------------------------------------------


@pytest.mark.parametrize("inplace", [False, True])
def test_rrelu_training_slopes_are_uniform_in_the_bounds(inplace: bool) -> None:
    lower, upper, n = 0.1, 0.4, 40_000
    bp.manual_seed(0)
    x = bp.tensor(np.r_[-np.ones(n), np.full(100, 2.0)], requires_grad=True)
    y = F.rrelu(x * 1.0, lower, upper, training=True, inplace=inplace)
    y.sum().backward()
    slopes = -y.detach().numpy()[:n]
    assert lower <= slopes.min() and slopes.max() <= upper
    mean, var = (lower + upper) / 2, (upper - lower) ** 2 / 12
    assert abs(slopes.mean() - mean) < 4 * np.sqrt(var / n)
    assert abs(slopes.var() - var) < 0.05 * var
    assert np.allclose(x.grad.numpy()[:n], slopes)  # the gradient uses the drawn slope
    assert np.all(y.detach().numpy()[n:] == 2.0) and np.all(x.grad.numpy()[n:] == 1.0)
    # Each element draws its own slope: no two of 40,000 float64 draws coincide by chance.
    assert len(np.unique(slopes)) == n


def test_rrelu_module_is_leaky_relu_with_the_mean_slope_in_eval() -> None:
    layer = bp.nn.RReLU(0.2, 0.6)
    out = layer.eval()(bp.tensor([-1.0, 3.0]))
    assert np.allclose(out.numpy(), [-0.4, 3.0])
    bp.manual_seed(1)
    assert not np.isclose(layer.train()(bp.tensor([-1.0])).item(), -0.4)


def test_gumbel_softmax_samples_follow_the_softmax() -> None:
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    n = 20_000
    bp.manual_seed(0)
    soft = F.gumbel_softmax(bp.tensor(np.tile(logits, (n, 1))), tau=0.5)
    bp.manual_seed(0)
    hard = F.gumbel_softmax(bp.tensor(np.tile(logits, (n, 1))), tau=0.5, hard=True).numpy()
    assert np.allclose(soft.numpy().sum(1), 1.0)
    assert set(np.unique(hard)) == {0.0, 1.0} and np.all(hard.sum(1) == 1.0)
    assert np.array_equal(hard.argmax(1), soft.numpy().argmax(1))  # the same draw
    freq, p = hard.mean(0), np.exp(logits)
    assert np.all(np.abs(freq - p) < 4 * np.sqrt(p * (1 - p) / n))


def test_gumbel_softmax_hard_passes_the_soft_gradient() -> None:
    logits = bp.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    weights = bp.tensor(np.random.default_rng(1).standard_normal((3, 4)))
    bp.manual_seed(3)
    (F.gumbel_softmax(logits, hard=True) * weights).sum().backward()
    hard_grad = logits.grad.numpy().copy()
    logits.grad = None
    bp.manual_seed(3)
    (F.gumbel_softmax(logits) * weights).sum().backward()
    assert np.allclose(hard_grad, logits.grad.numpy())


# -- weight and spectral norm against PyTorch ---------------------------------------------------

def _layer(lib: Any, kind: str) -> Any:
    return {"linear": lambda: lib.nn.Linear(4, 3), "conv": lambda: lib.nn.Conv2d(2, 3, 2),
            "conv-transpose": lambda: lib.nn.ConvTranspose2d(2, 3, 2)}[kind]()


def _input_shape(kind: str) -> tuple[int, ...]:
    return (2, 4) if kind == "linear" else (2, 2, 3, 3)


def _steps_agree(ours: Any, theirs: Any, torch: Any, kind: str, steps: int = 2) -> None:
    """Load PyTorch's state (u and v included), then several training-mode steps and one eval
    step: outputs, input and parameter gradients and the state (power iteration) must agree."""
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ([(n, tuple(p.shape)) for n, p in ours.named_parameters()]
            == [(n, tuple(p.shape)) for n, p in theirs.named_parameters()])
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    for step in range(steps + 1):
        ours.train(step < steps)
        theirs.train(step < steps)
        x = rng.standard_normal(_input_shape(kind))
        xb, xt = bp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ob, ot = ours(xb), theirs(xt)
        g = rng.standard_normal(tuple(ot.shape))
        (ob * bp.tensor(g)).sum().backward()
        (ot * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(ob.detach().numpy(), ot.detach().numpy(), rtol=1e-8)
        np.testing.assert_allclose(xb.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-12)
        for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-8, atol=1e-12,
                                       err_msg=name)
        for name, value in theirs.state_dict().items():
            np.testing.assert_allclose(ours.state_dict()[name].numpy(), value.numpy(),
                                       rtol=1e-8, atol=1e-12, err_msg=name)


NORMS = [("weight_norm", {}), ("weight_norm", {"dim": 1}), ("weight_norm", {"dim": None}),
         ("spectral_norm", {}), ("spectral_norm", {"n_power_iterations": 3, "eps": 1e-6})]


@pytest.mark.parametrize("kind", ["linear", "conv", "conv-transpose"])
@pytest.mark.parametrize("name,kwargs", NORMS, ids=lambda v: str(v))
def test_parametrizations_match_torch(torch: Any, kind: str, name: str, kwargs: dict) -> None:
    theirs = getattr(torch.nn.utils.parametrizations, name)(_layer(torch, kind), **kwargs)
    ours = getattr(bp.nn.utils.parametrizations, name)(_layer(bp, kind), **kwargs)
    assert repr(ours) == repr(theirs)
    _steps_agree(ours.double(), theirs.double(), torch, kind)


@pytest.mark.parametrize("kind", ["linear", "conv-transpose"])
@pytest.mark.parametrize("name,kwargs", NORMS, ids=lambda v: str(v))
def test_hook_based_norms_match_torch(torch: Any, kind: str, name: str, kwargs: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # PyTorch's and our deprecation
        theirs = getattr(torch.nn.utils, name)(_layer(torch, kind).double(), **kwargs)
        ours = getattr(bp.nn.utils, name)(_layer(bp, kind).double(), **kwargs)
    _steps_agree(ours, theirs, torch, kind)
    getattr(torch.nn.utils, "remove_" + name)(theirs)
    getattr(bp.nn.utils, "remove_" + name)(ours)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(),
                               rtol=1e-8)


def test_hook_based_norms_refuse_twice_and_missing() -> None:
    layer = bp.nn.utils.spectral_norm(bp.nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="spectral_norm: cannot register two spectral_norm"):
        bp.nn.utils.spectral_norm(layer)
    with pytest.raises(ValueError, match=r"remove_weight_norm: weight_norm of 'weight' not found"):
        bp.nn.utils.remove_weight_norm(layer)
    with pytest.warns(FutureWarning, match="weight_norm is deprecated"):
        bp.nn.utils.weight_norm(bp.nn.Linear(2, 2))


# -- parametrize ----------------------------------------------------------------------------------

class Symmetric:
    """The same parametrization in either library (``lib.nn.Module`` subclass made per lib)."""

    @staticmethod
    def make(lib: Any) -> Any:
        class Sym(lib.nn.Module):
            def forward(self, X: Any) -> Any:
                return X.triu() + X.triu(1).transpose(0, 1)

        return Sym()


def test_custom_parametrization_matches_torch(torch: Any) -> None:
    theirs = torch.nn.Linear(3, 3).double()
    ours = bp.nn.Linear(3, 3).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", Symmetric.make(torch))
    parametrize.register_parametrization(ours, "weight", Symmetric.make(bp))
    assert type(ours).__name__ == "ParametrizedLinear"
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 3))
    np.testing.assert_allclose(ours(bp.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    symmetric = ours.weight.detach().numpy()
    assert np.array_equal(symmetric, symmetric.T)
    # A second parametrization chains after the first.
    parametrize.register_parametrization(ours, "weight", bp.nn.Tanh())
    torch.nn.utils.parametrize.register_parametrization(theirs, "weight", torch.nn.Tanh())
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy())


def test_assignment_goes_through_right_inverse_and_remove_restores() -> None:
    layer = bp.nn.utils.parametrizations.weight_norm(bp.nn.Linear(3, 2))
    original_v = layer.parametrizations.weight.original1
    target = bp.tensor(np.arange(6.0).reshape(2, 3), dtype=bp.float32)
    layer.weight = target
    np.testing.assert_allclose(layer.weight.detach().numpy(), target.numpy(), rtol=1e-6)
    assert layer.parametrizations.weight.original1 is original_v  # written in place
    assert parametrize.is_parametrized(layer, "weight")
    assert not parametrize.is_parametrized(layer, "bias")
    parametrize.remove_parametrizations(layer, "weight")
    assert type(layer) is bp.nn.Linear and not parametrize.is_parametrized(layer)
    assert list(layer.state_dict()) == ["bias", "weight"]  # re-registered last, as PyTorch
    np.testing.assert_allclose(layer.weight.detach().numpy(), target.numpy(), rtol=1e-6)
    assert isinstance(layer.weight, bp.nn.Parameter)


def test_remove_without_leaving_parametrized_keeps_the_original() -> None:
    layer = bp.nn.Linear(2, 2)
    original = layer.weight
    before = original.detach().numpy().copy()
    parametrize.register_parametrization(layer, "weight", bp.nn.Tanh())
    assert parametrize.type_before_parametrizations(layer) is bp.nn.Linear
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    assert layer.weight is original and np.array_equal(layer.weight.detach().numpy(), before)
    with pytest.raises(ValueError, match="remove_parametrizations: module Linear has no "
                                         "parametrization on 'weight'"):
        parametrize.remove_parametrizations(layer, "weight")
    with pytest.raises(ValueError, match="register_parametrization: module Linear has no "
                                         "parameter, buffer or parametrized tensor named 'w'"):
        parametrize.register_parametrization(layer, "w", bp.nn.Tanh())


def test_cached_evaluates_each_parametrization_once() -> None:
    calls = []

    class Counting(bp.nn.Module):
        def forward(self, X: Any) -> Any:
            calls.append(1)
            return X * 2

    layer = parametrize.register_parametrization(bp.nn.Linear(2, 2), "weight", Counting())
    other = bp.nn.Linear(2, 2)  # its class is untouched
    assert type(other) is bp.nn.Linear
    with parametrize.cached():
        first, second = layer.weight, layer.weight
    assert first is second and len(calls) == 1
    layer.weight, layer.weight
    assert len(calls) == 3


# -- modules: constructors and what the rows do not cover ----------------------------------------

@pytest.mark.parametrize("build,error,match", [
    (lambda: bp.nn.TripletMarginLoss(margin=0), ValueError,
     "TripletMarginLoss: margin must be greater than 0"),
    (lambda: bp.nn.MultiMarginLoss(p=3), ValueError,
     "MultiMarginLoss: only p == 1 and p == 2 are supported, got 3"),
    (lambda: bp.nn.EmbeddingBag(4, 2, mode="median"), ValueError,
     "EmbeddingBag: mode has to be one of sum, mean or max, got 'median'"),
    (lambda: bp.nn.RReLU(0.5, 0.1), ValueError, "RReLU: expected 0 <= lower <= upper"),
    (lambda: bp.nn.Softmax2d()(bp.ones(2, 2)), bp.ShapeError,
     "Softmax2d: expected input to be 3D or 4D, got 2D instead"),
    (lambda: bp.nn.utils.parametrizations.spectral_norm(bp.nn.Linear(2, 2),
                                                        n_power_iterations=0), ValueError,
     "spectral_norm: n_power_iterations must be positive, got 0"),
])
def test_constructor_errors_name_the_module(build: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        build()


def test_nll_loss_2d_is_nll_loss_and_warns() -> None:
    with pytest.warns(FutureWarning, match="NLLLoss2d` has been deprecated"):
        loss = bp.nn.NLLLoss2d()
    assert isinstance(loss, bp.nn.NLLLoss)


def test_embedding_bag_from_pretrained_matches_torch(torch: Any) -> None:
    table = np.random.default_rng(0).standard_normal((5, 3))
    ours = bp.nn.EmbeddingBag.from_pretrained(bp.tensor(table), mode="max", padding_idx=1)
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(table), mode="max",
                                                   padding_idx=1)
    assert repr(ours) == repr(theirs) and not ours.weight.requires_grad
    indices, offsets = [1, 2, 4, 1, 0], [0, 3]
    np.testing.assert_array_equal(
        ours(bp.tensor(indices), bp.tensor(offsets)).numpy(),
        theirs(torch.tensor(indices), torch.tensor(offsets)).numpy())
    trainable = bp.nn.EmbeddingBag.from_pretrained(bp.tensor(table), freeze=False)
    assert trainable.weight.requires_grad


# -- the dropout family, by distribution ---------------------------------------------------------

@pytest.mark.parametrize("name,shape,batched", [
    ("dropout1d", (40, 50, 6), True), ("dropout1d", (2000, 6), False),
    ("dropout3d", (40, 50, 1, 2, 3), True), ("dropout3d", (2000, 2, 1, 3), False)])
def test_channel_dropout_drops_whole_channels(name: str, shape: tuple, batched: bool) -> None:
    p = 0.3
    bp.manual_seed(0)
    out = getattr(F, name)(bp.ones(*shape), p).numpy()
    channels = out.reshape((-1, int(np.prod(shape[2 if batched else 1:]))))
    assert np.all((channels == 0).all(1) | np.isclose(channels, 1 / (1 - p)).all(1))
    dropped = (channels == 0).all(1).mean()
    n = channels.shape[0]
    assert abs(dropped - p) < 4 * np.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("name", ["alpha_dropout", "feature_alpha_dropout"])
@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_keeps_mean_and_variance(name: str, p: float) -> None:
    bp.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((200, 100, 10))
    out = getattr(F, name)(bp.tensor(x), p, training=True).numpy()
    assert abs(out.mean()) < 0.02 and abs(out.var() - 1) < 0.03
    # Dropped units all take one value, alpha * a * (p - 1); feature dropout drops channels.
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * p + 1) * (1 - p))
    dropped = out == (p - 1.0) * (1.7580993408473766 * a)  # exact: the forward's own product
    assert abs(dropped.mean() - p) < 0.02
    if name == "feature_alpha_dropout":
        per_channel = dropped.reshape(200 * 100, 10)
        assert np.all(per_channel.all(1) | ~per_channel.any(1))


def test_alpha_dropout_gradient_is_the_kept_scale() -> None:
    p = 0.4
    x = bp.tensor(np.random.default_rng(0).standard_normal(1000), requires_grad=True)
    bp.manual_seed(1)
    out = F.alpha_dropout(x, p, training=True)
    out.sum().backward()
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * p + 1) * (1 - p))
    kept = out.detach().numpy() != (p - 1.0) * (1.7580993408473766 * a)
    assert np.allclose(x.grad.numpy(), np.where(kept, a, 0.0))


# -- nn.utils: fusion, skip_init, clip_grad_norm --------------------------------------------------

def _randomised_bn(lib: Any, bn: Any) -> Any:
    """Running statistics and affine parameters away from their defaults."""
    rng = np.random.default_rng(5)
    n = bn.num_features
    state = {"running_mean": rng.standard_normal(n), "running_var": rng.uniform(0.5, 2, n),
             "weight": rng.uniform(0.5, 2, n), "bias": rng.standard_normal(n)}
    with lib.no_grad():
        for name, value in state.items():
            getattr(bn, name).copy_(lib.tensor(value))
    return bn.eval()


@pytest.mark.parametrize("kind", ["conv", "conv-transpose", "conv-no-bias", "linear"])
def test_fused_layers_match_torch_and_the_unfused_pair(torch: Any, kind: str) -> None:
    def layer(lib: Any) -> Any:
        return {"conv": lambda: lib.nn.Conv2d(3, 4, 2),
                "conv-transpose": lambda: lib.nn.ConvTranspose2d(3, 4, 2),
                "conv-no-bias": lambda: lib.nn.Conv2d(3, 4, 2, bias=False),
                "linear": lambda: lib.nn.Linear(3, 4)}[kind]().double().eval()

    def norm(lib: Any) -> Any:
        bn = lib.nn.BatchNorm1d(4) if kind == "linear" else lib.nn.BatchNorm2d(4)
        return _randomised_bn(lib, bn.double())

    theirs, ours = layer(torch), layer(bp)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    bn_t, bn_b = norm(torch), norm(bp)
    if kind == "linear":
        fused_t = torch.nn.utils.fuse_linear_bn_eval(theirs, bn_t)
        fused_b = bp.nn.utils.fuse_linear_bn_eval(ours, bn_b)
    else:
        transpose = kind == "conv-transpose"
        fused_t = torch.nn.utils.fuse_conv_bn_eval(theirs, bn_t, transpose)
        fused_b = bp.nn.utils.fuse_conv_bn_eval(ours, bn_b, transpose)
    x = np.random.default_rng(0).standard_normal((2, 3) if kind == "linear" else (2, 3, 4, 4))
    out = fused_b(bp.tensor(x)).detach().numpy()
    np.testing.assert_allclose(out, fused_t(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(out, bn_b(ours(bp.tensor(x))).detach().numpy(), rtol=1e-10)
    assert fused_b.weight is not ours.weight and isinstance(fused_b.bias, bp.nn.Parameter)


def test_fusion_refuses_training_mode() -> None:
    with pytest.raises(RuntimeError, match="fuse_conv_bn_eval: fusion only for eval"):
        bp.nn.utils.fuse_conv_bn_eval(bp.nn.Conv2d(1, 2, 1), bp.nn.BatchNorm2d(2))
    with pytest.raises(ValueError, match=r"fuse_linear_bn_eval: linear.out_features \(2\) must "
                                         r"equal bn.num_features \(3\)"):
        bp.nn.utils.fuse_linear_bn_eval(bp.nn.Linear(1, 2).eval(), bp.nn.BatchNorm1d(3).eval())


def test_skip_init_and_the_deprecated_clip_grad_norm() -> None:
    layer = bp.nn.utils.skip_init(bp.nn.Linear, 3, 2, bias=False)
    assert layer.weight.shape == (2, 3) and layer.bias is None
    with pytest.raises(RuntimeError, match="skip_init: .* must take a 'device' argument"):
        bp.nn.utils.skip_init(bp.nn.ReLU)
    p = bp.nn.Parameter(bp.zeros(2))
    p.grad = bp.tensor([3.0, 4.0])
    with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
        total = bp.nn.utils.clip_grad_norm([p], 1.0)
    assert np.isclose(total.item(), 5.0) and np.isclose(np.linalg.norm(p.grad.numpy()), 1.0,
                                                        rtol=1e-5)


# -- lazy modules ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name,args,shape", [
    ("LazyLinear", (3,), (2, 5)), ("LazyLinear", (3, False), (4, 2, 5)),
    ("LazyConv1d", (4, 3), (2, 5, 7)), ("LazyConv1d", (4, 3, 1, 1, 1, 2), (4, 7)),
    ("LazyConv2d", (4, 3), (2, 2, 5, 5)), ("LazyBatchNorm1d", (), (4, 3)),
    ("LazyBatchNorm2d", (), (2, 3, 2, 2)), ("LazyConv3d", (2, 2, 1, 0, 1, 1), (1, 3, 3, 2, 2)),
    ("LazyBatchNorm3d", (), (2, 3, 1, 2, 2)), ("LazyConvTranspose1d", (2, 3, 2), (1, 4, 5)),
    ("LazyConvTranspose2d", (4, 3, 2, 1, 1, 2), (2, 4, 3, 3)),
    ("LazyConvTranspose3d", (2, 2, 1, 0, 0, 1, False), (1, 3, 2, 2, 2)),
    ("LazyInstanceNorm1d", (), (2, 3, 4)), ("LazyInstanceNorm2d", (1e-3, 0.2), (2, 3, 2, 3)),
    ("LazyInstanceNorm3d", (), (2, 2, 2, 2, 2))])
def test_lazy_modules_become_pytorchs_eager_module(torch: Any, name: str, args: tuple,
                                                   shape: tuple) -> None:
    theirs, ours = getattr(torch.nn, name)(*args).double(), getattr(bp.nn, name)(*args).double()
    assert repr(ours) == repr(theirs)
    assert all(isinstance(p, bp.nn.UninitializedParameter) for p in ours.parameters())
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    theirs(torch.tensor(x))
    ours(bp.tensor(x))
    assert type(ours).__name__ == type(theirs).__name__ and repr(ours) == repr(theirs)
    assert type(ours) is getattr(bp.nn, type(theirs).__name__)
    assert ([(n, tuple(p.shape)) for n, p in ours.named_parameters()]
            == [(n, tuple(p.shape)) for n, p in theirs.named_parameters()])
    assert all(type(p) is bp.nn.Parameter for p in ours.parameters())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(ours(bp.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10)


def test_lazy_parameters_keep_their_identity_and_dtype() -> None:
    layer = bp.nn.LazyLinear(2)
    weight = layer.weight
    optimizer = bp.optim.SGD(layer.parameters(), lr=0.1)
    layer(bp.ones(1, 3)).sum().backward()
    optimizer.step()
    assert layer.weight is weight and weight.shape == (2, 3) and weight.dtype == bp.float32
    with pytest.raises(ValueError, match=r"LazyConv2d: expected 3D \(unbatched\) or 4D"):
        bp.nn.LazyConv2d(2, 1)(bp.ones(2))


def test_buffer_assignment_registers_a_buffer_as_pytorch(torch: Any) -> None:
    def build(lib: Any) -> Any:
        m = lib.nn.Module()
        m.a = lib.nn.Buffer(lib.ones(2))
        m.b = lib.nn.Buffer(lib.zeros(1), persistent=False)
        return m

    ours, theirs = build(bp), build(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["a"]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert not list(ours.parameters()) and not ours.a.requires_grad
