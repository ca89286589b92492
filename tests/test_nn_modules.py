"""Module behaviour that one comparison in the module table (tests/moduletable) cannot show:
padding is exact in float32, BatchNorm's running statistics over several training steps and in
eval mode, dropout's statistics, initial weight distributions, constructor and input errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop import nn
from moduletable.padding import CASES as PAD_CASES
from moduletable.spec import Case, assert_close, copy_weights


@pytest.mark.parametrize("case", PAD_CASES, ids=lambda c: c.id)
def test_padding_in_float32_matches_torch(torch: Any, case: Case) -> None:
    data = case.inputs(np.random.default_rng(1))[0].astype(np.float32)
    ours_x = bp.tensor(data, requires_grad=True)
    theirs_x = torch.tensor(data, requires_grad=True)
    ours, theirs = case.build(bp)(ours_x), case.build(torch)(theirs_x)
    assert ours.dtype == bp.float32
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    weights = np.random.default_rng(2).standard_normal(tuple(theirs.shape)).astype(np.float32)
    (ours * bp.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-6)


# -- batch norm over several steps -------------------------------------------------------------

@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("name,shape", [("BatchNorm1d", (5, 3)), ("BatchNorm1d", (4, 3, 2)),
                                        ("BatchNorm2d", (2, 3, 2, 3))])
def test_batch_norm_running_stats_over_steps_then_eval(torch: Any, momentum: Any, name: str,
                                                       shape: tuple) -> None:
    theirs = getattr(torch.nn, name)(3, momentum=momentum).double()
    ours = getattr(bp.nn, name)(3, momentum=momentum).double()
    rng = np.random.default_rng(0)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.random(3) + 0.5))
        theirs.bias.copy_(torch.tensor(rng.standard_normal(3)))
    copy_weights(ours, theirs)
    for step in range(4):
        batch = rng.standard_normal(shape) * (step + 1) + step
        upstream = rng.standard_normal(shape)
        our_x = bp.tensor(batch, requires_grad=True)
        their_x = torch.tensor(batch, requires_grad=True)
        (ours(our_x) * bp.tensor(upstream)).sum().backward()
        (theirs(their_x) * torch.tensor(upstream)).sum().backward()
        assert_close(our_x.grad, their_x.grad, f"input gradient at step {step}")
        for key in ("running_mean", "running_var", "num_batches_tracked"):
            assert_close(getattr(ours, key), getattr(theirs, key), f"{key} at step {step}")
    assert ours.num_batches_tracked.item() == 4
    for key in ("weight", "bias"):
        assert_close(getattr(ours, key).grad, getattr(theirs, key).grad, f"{key} gradient")
    ours.eval()
    theirs.eval()
    batch = rng.standard_normal(shape)
    our_x, their_x = bp.tensor(batch, requires_grad=True), torch.tensor(batch, requires_grad=True)
    our_y, their_y = ours(our_x), theirs(their_x)
    assert_close(our_y, their_y, "eval output")
    (our_y * 1.5).sum().backward()
    (their_y * 1.5).sum().backward()
    assert_close(our_x.grad, their_x.grad, "eval input gradient")
    before = ours.running_mean.numpy().copy()
    ours(bp.tensor(batch))
    np.testing.assert_array_equal(ours.running_mean.numpy(), before)  # eval leaves them alone
    assert ours.num_batches_tracked.item() == 4


def test_batch_norm_reset_running_stats() -> None:
    bn = nn.BatchNorm1d(2)
    bn(bp.randn(4, 2) * 3 + 1)
    bn.reset_running_stats()
    assert bn.running_mean.tolist() == [0.0, 0.0] and bn.running_var.tolist() == [1.0, 1.0]
    assert bn.num_batches_tracked.item() == 0


# -- dropout ----------------------------------------------------------------------------------

def test_dropout_statistics_and_scaling() -> None:
    bp.manual_seed(0)
    drop = nn.Dropout(0.3)
    x = bp.ones(200_000, dtype=bp.float64, requires_grad=True)
    y = drop(x)
    values = y.detach().numpy()
    assert set(np.unique(values)) <= {0.0, 1 / 0.7}
    assert (values == 0).mean() == pytest.approx(0.3, abs=0.005)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)  # the gradient uses the same mask
    assert drop.eval()(x) is x or np.array_equal(drop(x).detach().numpy(), x.detach().numpy())


def test_dropout2d_zeroes_whole_channels() -> None:
    bp.manual_seed(1)
    y = nn.Dropout2d(0.5)(bp.ones(8, 16, 3, 3)).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1)).all()
    assert 0.3 < (per_channel == 0).all(-1).mean() < 0.7


def test_dropout_repeats_with_the_seed() -> None:
    bp.manual_seed(5)
    first = nn.Dropout(0.5)(bp.ones(50)).numpy().copy()
    bp.manual_seed(5)
    np.testing.assert_array_equal(nn.Dropout(0.5)(bp.ones(50)).numpy(), first)


def test_dropout_inplace_writes_into_the_input() -> None:
    x = bp.ones(100, dtype=bp.float64)
    y = nn.Dropout(0.5, inplace=True)(x)
    assert y is x and (x.numpy() != 1.0).all()


def test_multihead_attention_dropout_only_in_training() -> None:
    mha = nn.MultiheadAttention(4, 2, dropout=0.9)
    x = bp.randn(3, 2, 4)
    _, train_weights = mha(x, x, x)
    mha.eval()
    _, eval_weights = mha(x, x, x)
    np.testing.assert_allclose(eval_weights.detach().numpy().sum(-1), 1.0, rtol=1e-6)
    assert not np.allclose(train_weights.detach().numpy().sum(-1), 1.0)


# -- initialisation -------------------------------------------------------------------------------

def test_linear_and_conv_initialisation_follow_torch() -> None:
    bp.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert np.abs(b).max() <= bound and b.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)
    conv = nn.Conv2d(16, 64, 5, groups=2)
    fan_in = 8 * 25
    w = conv.weight.detach().numpy()
    assert np.abs(w).max() <= 1 / math.sqrt(fan_in)
    assert w.std() == pytest.approx(1 / math.sqrt(3 * fan_in), rel=0.03)
    assert np.abs(conv.bias.detach().numpy()).max() <= 1 / math.sqrt(fan_in)
    transposed = nn.ConvTranspose2d(64, 16, 3)  # weight (64, 16, 3, 3): fan_in uses dim 1
    assert np.abs(transposed.weight.detach().numpy()).max() <= 1 / math.sqrt(16 * 9)
    bilinear = nn.Bilinear(50, 20, 30)
    assert np.abs(bilinear.weight.detach().numpy()).max() <= 1 / math.sqrt(50)


def test_embedding_and_attention_initialisation_follow_torch() -> None:
    bp.manual_seed(0)
    emb = nn.Embedding(1000, 64, padding_idx=3)
    w = emb.weight.detach().numpy()
    assert (w[3] == 0).all()
    assert w.std() == pytest.approx(1.0, rel=0.02) and abs(w.mean()) < 0.01
    mha = nn.MultiheadAttention(64, 4)
    bound = math.sqrt(6 / (64 + 3 * 64))  # xavier on the packed (3E, E) weight
    in_proj = mha.in_proj_weight.detach().numpy()
    assert np.abs(in_proj).max() <= bound and np.abs(in_proj).max() > 0.98 * bound
    assert not mha.in_proj_bias.detach().numpy().any()
    assert not mha.out_proj.bias.detach().numpy().any()
    assert np.abs(mha.out_proj.weight.detach().numpy()).max() <= 1 / math.sqrt(64)
    separate = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True)
    assert separate.in_proj_weight is None and separate.k_proj_weight.shape == (8, 3)
    assert separate.bias_k.shape == (1, 1, 8) and separate.bias_k.detach().numpy().any()


def test_norm_layers_start_as_identity_scale() -> None:
    for layer in (nn.BatchNorm2d(3), nn.LayerNorm(3), nn.GroupNorm(1, 3), nn.RMSNorm(3)):
        assert (layer.weight.detach().numpy() == 1).all()
        if getattr(layer, "bias", None) is not None:
            assert (layer.bias.detach().numpy() == 0).all()
    assert nn.PReLU(3).weight.tolist() == [0.25] * 3


def test_parameters_are_float32_by_default_and_forward_keeps_float32() -> None:
    for layer, shape in ((nn.Linear(3, 2), (4, 3)), (nn.Conv2d(2, 3, 3), (1, 2, 4, 4)),
                         (nn.LayerNorm(3), (2, 3)), (nn.BatchNorm1d(3), (4, 3))):
        assert all(p.dtype == bp.float32 for p in layer.parameters())
        assert layer(bp.randn(*shape)).dtype == bp.float32


def test_embedding_from_pretrained_and_padding_gradient() -> None:
    table = bp.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=bp.float64)
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and frozen(bp.tensor([2])).tolist() == [[5.0, 6.0]]
    trainable = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=1)
    trainable(bp.tensor([0, 1, 1, 2])).sum().backward()
    assert trainable.weight.grad.tolist() == [[1.0, 1.0], [0.0, 0.0], [1.0, 1.0]]
    assert repr(trainable) == "Embedding(3, 2, padding_idx=1)"


def test_conv_transpose_output_size_selects_output_padding(torch: Any) -> None:
    ours = nn.ConvTranspose2d(2, 2, 3, stride=3)
    theirs = torch.nn.ConvTranspose2d(2, 2, 3, stride=3)
    x = bp.randn(1, 2, 4, 4)
    for size in (12, 13, 14):  # (4 - 1) * 3 + 3 = 12, plus up to stride - 1
        assert ours(x, output_size=(size, size)).shape == (1, 2, size, size)
        assert theirs(torch.randn(1, 2, 4, 4), output_size=(size, size)).shape[-1] == size
    with pytest.raises(ValueError, match=r"output_size \[15, 12\] cannot be reached: dim 0 "
                                         r"must be in \[12, 14\]"):
        ours(x, output_size=[15, 12])


def test_loss_weight_is_a_buffer() -> None:
    weighted_loss = nn.CrossEntropyLoss(weight=bp.tensor([1.0, 2.0]))
    assert list(weighted_loss.state_dict()) == ["weight"]
    weighted_loss.to(bp.float64)
    assert weighted_loss.weight.dtype == bp.float64
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    both = nn.BCEWithLogitsLoss(weight=bp.ones(2), pos_weight=bp.ones(2))
    assert list(both.state_dict()) == ["weight", "pos_weight"]


def test_legacy_size_average_and_reduce(torch: Any) -> None:
    for size_average, reduce in ((False, None), (None, False), (True, True)):
        with pytest.warns(UserWarning, match="deprecated"):
            ours = nn.MSELoss(size_average=size_average, reduce=reduce)
        with pytest.warns(UserWarning):
            theirs = torch.nn.MSELoss(size_average=size_average, reduce=reduce)
        assert ours.reduction == theirs.reduction


# -- constructor and input errors --------------------------------------------------------------

@pytest.mark.parametrize("build,error,match", [
    (lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, (r"in_channels \(3\) must be divisible "
                                                       r"by groups \(2\)")),
    (lambda: nn.Conv2d(4, 3, 3, groups=2), ValueError, "out_channels .3. must be divisible"),
    (lambda: nn.Conv2d(4, 4, 3, groups=0), ValueError, "groups must be a positive integer"),
    (lambda: nn.Conv2d(2, 2, 3, padding="full"), ValueError, "invalid padding string 'full'"),
    (lambda: nn.Conv2d(2, 2, 3, padding="same", stride=2), ValueError,
     "padding='same' is not supported for strided convolutions"),
    (lambda: nn.Conv2d(2, 2, 3, padding_mode="mirror"), ValueError, "padding_mode must be one"),
    (lambda: nn.Conv2d(2, 2, (3, 3, 3)), ValueError, ("kernel_size must be an int or a tuple of "
                                                     "2 ints")),
    (lambda: nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect"), ValueError,
     "only padding_mode='zeros'"),
    (lambda: nn.GroupNorm(3, 4), ValueError, (r"num_channels \(4\) must be divisible by "
                                             r"num_groups \(3\)")),
    (lambda: nn.Dropout(1.5), ValueError, ("dropout probability has to be between 0 and 1, but "
                                          "got 1.5")),
    (lambda: nn.Embedding(5, 2, padding_idx=5), ValueError, "padding_idx 5 must be within"),
    (lambda: nn.MultiheadAttention(6, 4), ValueError, (r"embed_dim \(6\) must be divisible by "
                                                      r"num_heads \(4\)")),
    (lambda: nn.GELU("exact"), ValueError, "approximate must be 'none' or 'tanh'"),
    (lambda: nn.Hardtanh(1.0, -1.0), ValueError, "max_val .* must be greater than min_val"),
    (lambda: nn.MSELoss(reduction="avg"), ValueError, ("reduction must be 'none', 'mean' or "
                                                      "'sum', got 'avg'")),
    (lambda: nn.Linear(2, 2, device="strict:4"), ValueError, "strict:4 does not exist"),
    (lambda: nn.ZeroPad2d(1.5), TypeError, "ZeroPad2d: padding must be an int or a tuple of "
                                           "ints, got 1.5"),
    (lambda: nn.ReflectionPad1d((1, "2")), TypeError, "ReflectionPad1d: padding must be"),
    (lambda: nn.Tanh(1), TypeError, r"Tanh.__init__\(\) takes 1 positional argument but 2"),
    (lambda: nn.Sigmoid(dim=1), TypeError, "unexpected keyword argument 'dim'"),
])

def test_constructor_errors(build: Callable, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        build()


def test_hardtanh_takes_pytorchs_old_keyword_names_with_its_warning() -> None:
    with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
        layer = nn.Hardtanh(min_value=-2.0, max_value=0.5)
    assert (layer.min_val, layer.max_val) == (-2.0, 0.5)


@pytest.mark.parametrize("call,match", [
    (lambda: nn.BatchNorm2d(3)(bp.randn(2, 3, 4)), (r"BatchNorm2d: expected 4D input, got a 3D "
                                                   r"input of shape \(2, 3, 4\)")),
    (lambda: nn.BatchNorm1d(3)(bp.randn(2, 4)), (r"expected 3 channels \(dim 1\) but the input "
                                                r"of shape \(2, 4\) has 4")),
    (lambda: nn.InstanceNorm2d(3)(bp.randn(3, 3)), "expected 3D .unbatched. or 4D"),
    (lambda: nn.CircularPad2d(1)(bp.randn(1, 1, 1, 2, 2)), (r"CircularPad2d: expected 3D or 4D "
                                                           r"input \(got 5D input\)")),
])
def test_input_errors(call: Callable, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_softmax_without_dim_uses_the_legacy_choice(torch: Any) -> None:
    for shape in ((4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)):
        data = np.random.default_rng(0).standard_normal(shape)
        with pytest.warns(UserWarning, match="implicit dimension"):
            ours = nn.Softmax()(bp.tensor(data))
        with pytest.warns(UserWarning):
            theirs = torch.nn.Softmax()(torch.tensor(data))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
