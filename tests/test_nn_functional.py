"""bp.nn.functional behaviour the op table cannot express: running statistics updated in place,
random dropout masks, embedding options whose gradient is not a derivative, erf's accuracy, and
the two VJP paths of the fused normalisations (plain and create_graph)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F
from backprop.ops.erf_numerics import erf_array


def _pair(torch, array, requires_grad=False):
    return (bp.tensor(array, requires_grad=requires_grad),
            torch.tensor(array, requires_grad=requires_grad))


# -- running statistics ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape,momentum", [((4, 3), 0.1), ((2, 3, 5), 0.3), ((2, 3, 2, 2), 1.0)])
def test_batch_norm_updates_running_stats_like_pytorch(torch, shape, momentum):
    rng = np.random.default_rng(0)
    mean = rng.standard_normal(3)
    var = rng.uniform(0.5, 2.0, 3)
    ours_mean, theirs_mean = _pair(torch, mean.copy())
    ours_var, theirs_var = _pair(torch, var.copy())
    for step in range(3):
        x = rng.standard_normal(shape) * (step + 1) + step
        ours = F.batch_norm(bp.tensor(x), ours_mean, ours_var, training=True, momentum=momentum)
        theirs = torch.nn.functional.batch_norm(torch.tensor(x), theirs_mean, theirs_var,
                                                training=True, momentum=momentum)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ours_mean.numpy(), theirs_mean.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(ours_var.numpy(), theirs_var.numpy(), rtol=1e-12, atol=1e-14)


def test_batch_norm_eval_leaves_running_stats_and_train_bumps_their_version():
    mean, var = bp.zeros(3), bp.ones(3)
    x = bp.randn(4, 3)
    F.batch_norm(x, mean, var, training=False)
    assert mean.tolist() == [0.0] * 3 and var.tolist() == [1.0] * 3
    before = mean._version_value
    F.batch_norm(x, mean, var, training=True)
    assert mean._version_value == before + 1
    assert mean.dtype == np.float32 and var.dtype == np.float32


def test_batch_norm_running_stats_need_no_grad_and_record_nothing():
    mean, var = bp.zeros(2), bp.ones(2)
    x = bp.randn(5, 2, requires_grad=True)
    out = F.batch_norm(x, mean, var, bp.ones(2, requires_grad=True), bp.zeros(2), training=True)
    out.sum().backward()
    assert mean.grad_fn is None and not mean.requires_grad and x.grad is not None


def test_instance_norm_updates_running_stats_like_pytorch(torch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2, 5))
    ours_mean, theirs_mean = _pair(torch, rng.standard_normal(2))
    ours_var, theirs_var = _pair(torch, rng.uniform(0.5, 2.0, 2))
    F.instance_norm(bp.tensor(x), ours_mean, ours_var, momentum=0.4)
    torch.nn.functional.instance_norm(torch.tensor(x), theirs_mean, theirs_var, momentum=0.4)
    np.testing.assert_allclose(ours_mean.numpy(), theirs_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_var.numpy(), theirs_var.numpy(), rtol=1e-12)


# -- the fused normalisations' two VJP paths ------------------------------------------------------

NORMALIZATIONS = {
    "layer_norm": lambda x, w, b: F.layer_norm(x, (4,), w, b),
    "batch_norm": lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
    "instance_norm": lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
    "group_norm": lambda x, w, b: F.group_norm(x.reshape(3, 4, 1), 2, w, b).reshape(3, 4),
    "rms_norm": lambda x, w, b: F.rms_norm(x, (4,), w) + b,
}


@pytest.mark.parametrize("name", list(NORMALIZATIONS))
def test_create_graph_gradients_equal_plain_gradients(name):
    """A plain backward reuses the forward's statistics; create_graph recomputes them with our
    ops. Both must give the same first-order gradient."""
    rng = np.random.default_rng(2)
    shape = (3, 4, 2) if name == "instance_norm" else (3, 4)
    x = bp.tensor(rng.standard_normal(shape) * 3 + 1, requires_grad=True)
    w = bp.tensor(rng.standard_normal(4), requires_grad=True)
    b = bp.tensor(rng.standard_normal(4), requires_grad=True)
    u = bp.tensor(rng.standard_normal(shape))
    fn = NORMALIZATIONS[name]
    if name == "instance_norm":
        wrapped = fn
        fn = lambda x, w, b: wrapped(x.reshape(3, 4, 2), w, b)
    plain = bp.autograd.grad((fn(x, w, b) * u).sum(), [x, w, b])
    graphed = bp.autograd.grad((fn(x, w, b) * u).sum(), [x, w, b], create_graph=True)
    assert graphed[0].requires_grad and graphed[1].requires_grad  # (b's gradient is just u)
    for p, g in zip(plain, graphed):
        np.testing.assert_allclose(g.detach().numpy(), p.numpy(), rtol=1e-12, atol=1e-13)


def test_layer_norm_of_large_offsets_matches_pytorch(torch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 8)) * 1e-3 + 1e4
    ours_x, theirs_x = _pair(torch, x, requires_grad=True)
    ours = F.layer_norm(ours_x, (8,))
    theirs = torch.nn.functional.layer_norm(theirs_x, (8,))
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-8,
                               atol=1e-8)
    u = rng.standard_normal(x.shape)
    (ours * bp.tensor(u)).sum().backward()
    (theirs * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-6, atol=1e-4)


# -- dropout --------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_scales_kept_values_and_drops_about_p(p):
    bp.manual_seed(0)
    n = 200_000
    x = bp.ones(n, dtype=bp.float64, requires_grad=True)
    out = F.dropout(x, p)
    values = out.detach().numpy()
    kept = values != 0
    np.testing.assert_allclose(values[kept], 1.0 / (1.0 - p), rtol=1e-15)
    dropped = 1.0 - kept.mean()
    assert abs(dropped - p) < 5 * math.sqrt(p * (1 - p) / n)
    upstream = np.random.default_rng(1).standard_normal(n)
    (out * bp.tensor(upstream)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), upstream * values)  # g * mask / (1 - p)


def test_dropout_mask_follows_the_seed_in_any_float_dtype():
    bp.manual_seed(7)
    a = F.dropout(bp.ones(50, dtype=bp.float64), 0.3)
    bp.manual_seed(7)
    b = F.dropout(bp.ones(50, dtype=bp.float32), 0.3)
    c = F.dropout(bp.ones(50, dtype=bp.float32), 0.3)
    assert b.dtype == np.float32
    np.testing.assert_array_equal(a.numpy() != 0, b.numpy() != 0)
    assert not np.array_equal(b.numpy(), c.numpy())


def test_dropout_identity_cases_return_the_input():
    x = bp.randn(3, 4, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout2d(x.reshape(3, 4, 1, 1), 0.5, training=False).shape == (3, 4, 1, 1)


def test_dropout_p1_zeros_everything_with_zero_gradient():
    x = bp.randn(4, 5, requires_grad=True)
    out = F.dropout(x, 1.0)
    assert not out.detach().numpy().any()
    out.sum().backward()
    assert not x.grad.numpy().any()


def test_dropout_inplace_writes_into_the_tensor():
    bp.manual_seed(3)
    x = bp.ones(1000)
    out = F.dropout(x, 0.5, inplace=True)
    assert out is x
    assert set(np.unique(x.numpy()).tolist()) == {0.0, 2.0}


def test_dropout2d_drops_whole_channels():
    bp.manual_seed(4)
    out = F.dropout2d(bp.ones(8, 16, 3, 3), 0.5).numpy()
    per_channel = out.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel == 2).all(axis=2))
    assert 0 < (per_channel[:, :, 0] == 0).mean() < 1


# -- embedding ------------------------------------------------------------------------------------

@pytest.mark.parametrize("options", [{"padding_idx": 2}, {"padding_idx": -1},
                                     {"scale_grad_by_freq": True},
                                     {"scale_grad_by_freq": True, "padding_idx": 0}])
def test_embedding_gradient_options_match_pytorch(torch, options):
    rng = np.random.default_rng(5)
    indices = np.array([[0, 2, 2], [4, 0, 2], [1, 1, 1]])
    table = rng.standard_normal((5, 3))
    ours_w, theirs_w = _pair(torch, table, requires_grad=True)
    ours = F.embedding(bp.tensor(indices), ours_w, **options)
    theirs = torch.nn.functional.embedding(torch.tensor(indices), theirs_w, **options)
    u = rng.standard_normal(ours.shape)
    (ours * bp.tensor(u)).sum().backward()
    (theirs * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(ours_w.grad.numpy(), theirs_w.grad.numpy(), rtol=1e-12,
                               atol=1e-14)


@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_embedding_max_norm_renormalises_rows_like_pytorch(torch, norm_type):
    rng = np.random.default_rng(6)
    indices = np.array([0, 3, 3, 1])
    table = rng.standard_normal((5, 4)) * 2
    ours_w, theirs_w = _pair(torch, table.copy(), requires_grad=True)
    ours = F.embedding(bp.tensor(indices), ours_w, max_norm=1.5, norm_type=norm_type)
    theirs = torch.nn.functional.embedding(torch.tensor(indices), theirs_w, max_norm=1.5,
                                           norm_type=norm_type)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_w.detach().numpy(), theirs_w.detach().numpy(), rtol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(ours_w.grad.numpy(), theirs_w.grad.numpy())


def test_embedding_gradient_of_many_repeats_adds_up():
    weight = bp.zeros(3, 2, requires_grad=True)
    F.embedding(bp.tensor([1] * 1000 + [2]), weight).sum().backward()
    assert weight.grad.tolist() == [[0.0, 0.0], [1000.0, 1000.0], [1.0, 1.0]]


# -- activations ----------------------------------------------------------------------------------

def test_erf_is_accurate_to_float64_precision():
    x = np.concatenate([np.linspace(-7.0, 7.0, 20001), np.linspace(-0.5, 0.5, 2001),
                        np.geomspace(1e-300, 30.0, 2000), -np.geomspace(1e-300, 30.0, 2000)])
    expected = np.array([math.erf(v) for v in x])
    got = erf_array(x)
    nonzero = expected != 0
    assert np.max(np.abs(got - expected)[nonzero] / np.abs(expected[nonzero])) < 1e-15
    assert np.all(got[~nonzero] == 0)
    complement = np.array([math.erfc(v) for v in x])
    normal = complement > 1e-300  # below that the result is subnormal
    got_c = erf_array(x, complement=True)
    assert np.max(np.abs(got_c - complement)[normal] / complement[normal]) < 1e-15
    special = erf_array(np.array([np.inf, -np.inf, np.nan]))
    assert special[0] == 1.0 and special[1] == -1.0 and np.isnan(special[2])


def test_gelu_matches_pytorch_far_in_the_tails(torch):
    x = np.linspace(-12.0, 12.0, 481)
    for approximate in ("none", "tanh"):
        ours = F.gelu(bp.tensor(x), approximate=approximate).numpy()
        theirs = torch.nn.functional.gelu(torch.tensor(x), approximate=approximate).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-15)


def test_softmin_without_dim_warns_and_picks_pytorchs_dim():
    x = bp.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        out = F.softmin(x)
    np.testing.assert_allclose(out.numpy().sum(axis=1), 1.0, rtol=1e-6)


def test_inplace_activation_bumps_version_and_keeps_identity():
    x = bp.randn(3)
    before = x._version_value
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert F.elu(x, inplace=True) is x
    assert x._version_value == before + 1
    assert np.all(x.numpy() > -1.0)


def test_float32_activations_stay_float32():
    x = bp.randn(4)
    for fn in (F.gelu, F.silu, F.softplus, F.logsigmoid, F.elu, F.leaky_relu, F.mish):
        assert fn(x).dtype == np.float32, fn.__name__
