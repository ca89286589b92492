"""Transformer modules beyond the module table's comparisons: causal hints equal explicit masks,
PyTorch's nested-tensor zeros in evaluation, initialisation, independent layer copies, dropout,
and the errors that name the module and the argument."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop import nn

# PyTorch notes that its nested tensors are a prototype when the encoder takes that path; both
# libraries say when a Transformer's encoder cannot take it (tested on its own below).
pytestmark = [pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors"),
              pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")]

D, H = 4, 2


def encoder(lib: Any, *, batch_first: bool = True, layers: int = 2, **options: Any) -> Any:
    layer = lib.nn.TransformerEncoderLayer(D, H, 8, dropout=0.0, batch_first=batch_first,
                                           **options)
    return lib.nn.TransformerEncoder(layer, layers, lib.nn.LayerNorm(D))


def causal_bool(n: int) -> np.ndarray:
    return np.triu(np.ones((n, n), bool), 1)


def test_generate_square_subsequent_mask_is_pytorchs(torch: Any) -> None:
    for dtype, torch_dtype in [(None, torch.float32), (bp.float64, torch.float64)]:
        ours = nn.Transformer.generate_square_subsequent_mask(4, dtype=dtype)
        theirs = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch_dtype)
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("mask_kind", ["float", "bool"])
def test_causal_hint_equals_the_explicit_mask(mask_kind: str) -> None:
    model = encoder(bp).double()
    src = bp.randn(2, 3, D, dtype=bp.float64)
    mask = (nn.Transformer.generate_square_subsequent_mask(3, dtype=bp.float64)
            if mask_kind == "float" else bp.tensor(causal_bool(3)))
    explicit = model(src, mask=mask, is_causal=False)
    np.testing.assert_allclose(model(src, mask=mask, is_causal=True).detach().numpy(),
                               explicit.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(model(src, mask=mask).detach().numpy(),  # detected
                               explicit.detach().numpy(), rtol=1e-12)
    # The mask does something: the first position no longer sees the last.
    assert not np.allclose(model(src).detach().numpy(), explicit.detach().numpy())


def test_decoder_causal_hint_equals_the_explicit_mask() -> None:
    layer = nn.TransformerDecoderLayer(D, H, 8, dropout=0.0)
    decoder = nn.TransformerDecoder(layer, 2).double()
    tgt, memory = bp.randn(3, 2, D, dtype=bp.float64), bp.randn(5, 2, D, dtype=bp.float64)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=bp.float64)
    hinted = decoder(tgt, memory, tgt_mask=mask, tgt_is_causal=True)
    np.testing.assert_allclose(hinted.detach().numpy(),
                               decoder(tgt, memory, tgt_mask=mask,
                                       tgt_is_causal=False).detach().numpy(), rtol=1e-12)


def test_is_causal_without_a_mask_is_refused_as_in_pytorch() -> None:
    layer = nn.TransformerEncoderLayer(D, H, 8, dropout=0.0)
    with pytest.raises(ValueError, match="is_causal=True is a hint that attn_mask"):
        layer(bp.randn(3, 2, D), is_causal=True)


@pytest.mark.parametrize("padding,zeroed", [
    ([[False, False, True], [False, False, False]], True),   # left-aligned: nested tensors
    ([[False, True, False], [False, False, False]], False),  # not left-aligned: dense path
])
def test_encoder_eval_padding_matches_pytorchs_nested_path(torch: Any, padding: list,
                                                           zeroed: bool) -> None:
    """In evaluation without gradients PyTorch runs the encoder on nested tensors when the
    padding is left-aligned, and padded positions come out as zeros (then go through norm)."""
    theirs, ours = encoder(torch).eval(), encoder(bp).double().eval()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    src = np.random.default_rng(0).standard_normal((2, 3, D))
    mask = np.array(padding)
    with torch.no_grad():
        expected = theirs(torch.tensor(src), src_key_padding_mask=torch.tensor(mask)).numpy()
    with bp.no_grad():
        got = ours(bp.tensor(src), src_key_padding_mask=bp.tensor(mask)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    norm_of_zero = theirs.norm.bias.detach().numpy()
    assert np.allclose(expected[0, 2], norm_of_zero) == zeroed
    # With gradients (or in training) both take the dense path: padded positions are computed.
    dense = ours(bp.tensor(src), src_key_padding_mask=bp.tensor(mask))
    assert not np.allclose(dense.detach().numpy()[0, 2], norm_of_zero)


def test_encoder_nested_tensor_notice_is_pytorchs(torch: Any) -> None:
    def notices(lib: Any) -> list[str]:
        layer = lib.nn.TransformerEncoderLayer(D, H, 8)  # sequence-first: no nested tensors
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.nn.TransformerEncoder(layer, 1)
            lib.nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        return [str(w.message) for w in caught]

    assert notices(bp) == notices(torch) and len(notices(bp)) == 1

    def transformer_notices(lib: Any) -> list[str]:  # its encoder is built the same way
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.nn.Transformer(D, H, 1, 1, 8, norm_first=True)
        return [str(w.message) for w in caught]

    assert transformer_notices(bp) == transformer_notices(torch) != []


def test_layers_are_independent_deep_copies() -> None:
    layer = nn.TransformerEncoderLayer(D, H, 8, dropout=0.0)
    stack = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    first, second = stack.layers
    assert first is not layer and second is not first
    assert first.self_attn.in_proj_weight is not second.self_attn.in_proj_weight
    np.testing.assert_array_equal(first.linear1.weight.detach().numpy(),
                                  layer.linear1.weight.detach().numpy())
    with bp.no_grad():
        first.linear1.weight.fill_(0.5)
    assert not np.any(second.linear1.weight.detach().numpy() == 0.5)
    assert not np.any(layer.linear1.weight.detach().numpy() == 0.5)
    assert len(list(stack.parameters())) == 2 * len(list(layer.parameters()))


def test_transformer_initialises_matrices_xavier_uniform() -> None:
    bp.manual_seed(0)
    model = nn.Transformer(d_model=16, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                           dim_feedforward=64)
    for name, p in model.named_parameters():
        values = p.detach().numpy()
        if p.ndim > 1:
            bound = np.sqrt(6.0 / sum(values.shape))
            assert np.abs(values).max() <= bound, name
            assert abs(values.std() - bound / np.sqrt(3)) < 0.15 * bound, name
        elif name.endswith("in_proj_bias"):
            np.testing.assert_array_equal(values, 0.0)
        elif "norm" in name:
            np.testing.assert_array_equal(values, 1.0 if name.endswith("weight") else 0.0)


def test_dropout_acts_in_training_only() -> None:
    model = nn.Transformer(d_model=D, nhead=H, num_encoder_layers=1, num_decoder_layers=1,
                           dim_feedforward=8, dropout=0.5)
    src, tgt = bp.randn(3, 2, D), bp.randn(2, 2, D)
    assert not np.allclose(model(src, tgt).detach().numpy(), model(src, tgt).detach().numpy())
    model.eval()
    np.testing.assert_array_equal(model(src, tgt).detach().numpy(),
                                  model(src, tgt).detach().numpy())


def test_custom_encoder_and_decoder_are_used() -> None:
    encoder_ = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, H, 8), 1,
                                     enable_nested_tensor=False)
    decoder_ = nn.TransformerDecoder(nn.TransformerDecoderLayer(D, H, 8), 3)
    model = nn.Transformer(D, H, custom_encoder=encoder_, custom_decoder=decoder_)
    assert model.encoder is encoder_ and model.decoder is decoder_
    assert len(model.decoder.layers) == 3 and model.encoder.norm is None


@pytest.mark.parametrize("build,error,message", [
    (lambda: nn.TransformerEncoderLayer(6, 4), ValueError,
     r"TransformerEncoderLayer: nhead \(4\) must be a positive divisor of d_model \(6\)"),
    (lambda: nn.TransformerDecoderLayer(6, 0), ValueError,
     r"TransformerDecoderLayer: nhead \(0\) must be a positive divisor of d_model \(6\)"),
    (lambda: nn.Transformer(10, 3), ValueError,
     r"Transformer: nhead \(3\) must be a positive divisor of d_model \(10\)"),
    (lambda: nn.TransformerEncoderLayer(D, H, activation="tanh"), RuntimeError,
     r"TransformerEncoderLayer: activation should be 'relu', 'gelu' or a callable, not 'tanh'"),
    (lambda: nn.TransformerEncoderLayer(D, H)(bp.randn(3, 2, 6)), ValueError,
     r"TransformerEncoderLayer: src must be .* d_model=4; got shape \(3, 2, 6\)"),
    (lambda: nn.TransformerDecoderLayer(D, H)(bp.randn(3, 2, D), bp.randn(3, 2, 5)),
     ValueError, r"TransformerDecoderLayer: memory must be .* got shape \(3, 2, 5\)"),
    (lambda: nn.Transformer(D, H, 1, 1, 8)(bp.randn(3, 2, D), bp.randn(3, 5, D)),
     RuntimeError, r"Transformer: the batch sizes of src \(3, 2, 4\) and tgt \(3, 5, 4\) "
                   r"\(dim 1\) must be equal"),
    (lambda: nn.Transformer(D, H, 1, 1, 8, batch_first=True)(bp.randn(2, 3, D),
                                                            bp.randn(2, 3, 6)),
     RuntimeError, r"Transformer: the feature sizes of src \(2, 3, 4\) and tgt \(2, 3, 6\) "
                   r"must equal d_model=4"),
    (lambda: nn.TransformerEncoderLayer(D, H)(bp.randn(3, 2, D),
                                              src_key_padding_mask=bp.zeros(2, 3, dtype=bp.int64)),
     TypeError, r"TransformerEncoderLayer: src_key_padding_mask must be bool"),
    # The shapes the caller gave, not those after bias_k's extra key column.
    (lambda: nn.MultiheadAttention(D, H, add_bias_kv=True)(
        bp.randn(2, 2, D), bp.randn(3, 2, D), bp.randn(3, 2, D),
        attn_mask=bp.zeros(2 * H, 2, 2, dtype=bp.bool)), ValueError,
     r"multi_head_attention: attn_mask of shape \(4, 2, 2\) must be \(N \* num_heads, L, S\) "
     r"= \(4, 2, 3\)"),
], ids=["encoder-layer-nhead", "decoder-layer-nhead", "transformer-nhead", "activation",
        "encoder-d_model", "decoder-memory-d_model", "batch", "features", "mask-dtype", "mha-mask-shape"])
def test_errors_name_the_module_and_argument(build: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        build()
