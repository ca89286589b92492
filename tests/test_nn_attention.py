"""Attention beyond the op table: F.multi_head_attention against torch.nn.MultiheadAttention
with the module's own weights, dropout, fully masked rows and dtypes."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F

E, H = 4, 2

# Each configuration: the module's options, then the call's.
CONFIGS = [
    ({}, {}),
    ({}, {"need_weights": False}),
    ({}, {"average_attn_weights": False, "masks": "bool"}),
    ({"bias": False}, {"masks": "float"}),
    ({"batch_first": True}, {"masks": "bool"}),
    ({"kdim": 3, "vdim": 5}, {"masks": "bool"}),
    ({"kdim": 3, "vdim": 5}, {"masks": "bool", "need_weights": False}),
    ({"add_bias_kv": True, "add_zero_attn": True}, {"masks": "bool"}),
    ({"add_bias_kv": True}, {"need_weights": False, "masks": "float"}),
    ({}, {"self": True, "causal": True}),
    ({}, {"self": True, "causal": True, "need_weights": False}),
    ({}, {"unbatched": True, "masks": "bool"}),
]


def _inputs(rng, module_options, call_options):
    kdim = module_options.get("kdim", E)
    vdim = module_options.get("vdim", E)
    length, source, batch = 3, 4, 2
    if call_options.get("self"):
        source = length
    q = rng.standard_normal((length, batch, E))
    k = rng.standard_normal((source, batch, kdim))
    v = rng.standard_normal((source, batch, vdim))
    if call_options.get("self"):
        k = v = q
    padding = attn = None
    if call_options.get("masks") == "bool":
        padding = np.zeros((batch, source), bool)
        padding[0, -1] = padding[1, 0] = True
        attn = np.zeros((length, source), bool)
        attn[0, 1] = attn[2, 2] = True
    elif call_options.get("masks") == "float":
        padding = rng.standard_normal((batch, source))
        attn = rng.standard_normal((batch * H, length, source))
    if call_options.get("causal"):
        attn = np.triu(np.ones((length, length), bool), 1)
    if call_options.get("unbatched"):
        q, k, v = q[:, 0], k[:, 0], v[:, 0]
        padding = None if padding is None else padding[0]
    elif module_options.get("batch_first"):
        q, k, v = (np.swapaxes(x, 0, 1).copy() for x in (q, k, v))
        if call_options.get("self"):
            k = v = q
    return q, k, v, padding, attn


@pytest.mark.parametrize("module_options,call_options", CONFIGS,
                         ids=[f"{m}-{c}" for m, c in CONFIGS])
def test_multi_head_attention_matches_torch_module(module_options, call_options, torch) -> None:
    torch.manual_seed(0)
    module = torch.nn.MultiheadAttention(E, H, dtype=torch.float64, **module_options)
    with torch.no_grad():  # non-zero biases, so their gradients are tested too
        for name, p in module.named_parameters():
            if "bias" in name:
                p.normal_()
    rng = np.random.default_rng(1)
    q, k, v, padding, attn = _inputs(rng, module_options, call_options)
    need_weights = call_options.get("need_weights", True)
    average = call_options.get("average_attn_weights", True)
    causal = call_options.get("causal", False)

    tq = torch.tensor(q, requires_grad=True)
    tk, tv = (tq, tq) if call_options.get("self") else (
        torch.tensor(k, requires_grad=True), torch.tensor(v, requires_grad=True))
    t_out, t_weights = module(tq, tk, tv,
                              key_padding_mask=None if padding is None else torch.tensor(padding),
                              attn_mask=None if attn is None else torch.tensor(attn),
                              need_weights=need_weights, average_attn_weights=average,
                              is_causal=causal)

    params = {name: bp.tensor(p.detach().numpy(), requires_grad=True)
              for name, p in module.named_parameters()}
    bq = bp.tensor(q, requires_grad=True)
    bk, bv = (bq, bq) if call_options.get("self") else (
        bp.tensor(k, requires_grad=True), bp.tensor(v, requires_grad=True))
    separate = "q_proj_weight" in params
    out, weights = F.multi_head_attention(
        bq, bk, bv, H, params.get("in_proj_weight"), params.get("in_proj_bias"),
        params["out_proj.weight"], params.get("out_proj.bias"), padding, attn,
        need_weights, average, causal, module_options.get("batch_first", False),
        bias_k=params.get("bias_k"), bias_v=params.get("bias_v"),
        add_zero_attn=module_options.get("add_zero_attn", False),
        q_proj_weight=params.get("q_proj_weight") if separate else None,
        k_proj_weight=params.get("k_proj_weight") if separate else None,
        v_proj_weight=params.get("v_proj_weight") if separate else None)

    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-8,
                               atol=1e-10)
    if need_weights:
        np.testing.assert_allclose(weights.detach().numpy(), t_weights.detach().numpy(),
                                   rtol=1e-8, atol=1e-10)
    else:
        assert weights is None and t_weights is None
    u = rng.standard_normal(out.shape)
    (out * bp.tensor(u)).sum().backward()
    (t_out * torch.tensor(u)).sum().backward()
    pairs = [(bq, tq)] + ([] if call_options.get("self") else [(bk, tk), (bv, tv)])
    pairs += [(params[name], p) for name, p in module.named_parameters()]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-8,
                                   atol=1e-10)


def test_causal_flag_equals_an_explicit_lower_triangular_mask() -> None:
    q, k, v = bp.randn(2, 3, 4), bp.randn(2, 5, 4), bp.randn(2, 5, 2)
    allowed = bp.tensor(np.tril(np.ones((3, 5), bool)))
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, v, is_causal=True).numpy(),
                                  F.scaled_dot_product_attention(q, k, v, allowed).numpy())


def test_fully_masked_query_gets_zeros_and_no_nan_gradient(torch) -> None:
    """PyTorch's attention gives zeros (not nan) for a query that may attend to nothing."""
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, 3, 2)) for _ in range(3))
    mask = np.ones((3, 3), bool)
    mask[1] = False
    tensors = [bp.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*tensors, bp.tensor(mask))
    out.sum().backward()
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    expected = torch.nn.functional.scaled_dot_product_attention(*theirs, torch.tensor(mask))
    expected.sum().backward()
    np.testing.assert_array_equal(out.detach().numpy()[0, 1], 0.0)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    for ours, t in zip(tensors, theirs):
        assert np.isfinite(ours.grad.numpy()).all()
        np.testing.assert_allclose(ours.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_fully_masked_rows_are_nan_with_weights_as_in_pytorch() -> None:
    """need_weights=True uses an explicit softmax, which PyTorch leaves nan on such rows."""
    x = bp.randn(3, 2, E)
    padding = np.array([[False, False, False], [True, True, True]])
    args = (x, x, x, H, bp.randn(3 * E, E), bp.zeros(3 * E), bp.randn(E, E), bp.zeros(E),
            padding)
    out, weights = F.multi_head_attention(*args)
    assert np.isnan(out.numpy()[:, 1]).all() and np.isfinite(out.numpy()[:, 0]).all()
    assert np.isnan(weights.numpy()[1]).all() and np.isfinite(weights.numpy()[0]).all()
    out, _ = F.multi_head_attention(*args, need_weights=False)
    np.testing.assert_array_equal(out.numpy()[:, 1], 0.0)


def test_dropout_repeats_with_the_seed_and_its_gradient_is_exact() -> None:
    q, k, v = (bp.randn(2, 4, 3, dtype=bp.float64, requires_grad=True) for _ in range(3))

    def attend(*tensors):
        bp.manual_seed(7)  # the same dropout mask on every call
        return F.scaled_dot_product_attention(*tensors, dropout_p=0.4)

    a, b = attend(q, k, v), attend(q, k, v)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    plain = F.scaled_dot_product_attention(q, k, v)
    assert not np.allclose(a.detach().numpy(), plain.detach().numpy())
    assert bp.autograd.gradcheck(attend, (q, k, v))


def test_dropout_keeps_the_expected_value() -> None:
    bp.manual_seed(0)
    q = k = bp.zeros(1, 200, 2)  # uniform weights: 1/200 each
    v = bp.ones(1, 200, 1)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert out.numpy().mean() == pytest.approx(1.0, abs=0.05)
    assert out.numpy().std() > 0


def test_multi_head_attention_dropout_is_off_when_not_training() -> None:
    x = bp.randn(3, 2, E)
    args = (x, x, x, H, bp.randn(3 * E, E), bp.zeros(3 * E), bp.randn(E, E), bp.zeros(E))
    expected, _ = F.multi_head_attention(*args)
    out, _ = F.multi_head_attention(*args, dropout_p=0.9, training=False)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    dropped, _ = F.multi_head_attention(*args, dropout_p=0.9)
    assert not np.allclose(dropped.numpy(), expected.numpy())


@pytest.mark.parametrize("need_weights", [True, False])
def test_float32_stays_float32(need_weights: bool) -> None:
    x = bp.randn(3, 2, E)
    mask = np.triu(np.ones((3, 3), bool), 1)
    out, weights = F.multi_head_attention(x, x, x, H, bp.randn(3 * E, E), bp.zeros(3 * E),
                                          bp.randn(E, E), bp.zeros(E), attn_mask=mask,
                                          need_weights=need_weights)
    assert out.dtype == np.float32
    assert weights is None or weights.dtype == np.float32
    assert F.scaled_dot_product_attention(x, x, x, is_causal=True).dtype == np.float32
