"""Module-table rows for the Transformer modules (d_model 4, nhead 2, sequences of 2-3, batch 2)
and MultiheadAttention's mask options beyond the attention rows."""

from __future__ import annotations

from typing import Any

import numpy as np

from moduletable.spec import Case, Const

D, H, FF = 4, 2, 8


def causal(n: int) -> np.ndarray:
    return np.triu(np.ones((n, n), bool), 1)


def causal_float(n: int) -> np.ndarray:
    return np.where(causal(n), -np.inf, 0.0)


def padding(batch: int, length: int) -> np.ndarray:
    """The last position of the first sequence is padding (left-aligned, as real batches)."""
    mask = np.zeros((batch, length), bool)
    mask[0, -1] = True
    return mask


def arrays(*shapes: tuple) -> Any:
    return lambda rng: [rng.standard_normal(shape) for shape in shapes]


def encoder_layer(lib: Any, **options: Any) -> Any:
    return lib.nn.TransformerEncoderLayer(D, H, FF, **{"dropout": 0.0, **options})


def decoder_layer(lib: Any, **options: Any) -> Any:
    return lib.nn.TransformerDecoderLayer(D, H, FF, **{"dropout": 0.0, **options})


def transformer(lib: Any, **options: Any) -> Any:
    return lib.nn.Transformer(D, H, 1, 1, FF, **{"dropout": 0.0, **options})


CASES = [
    Case("TransformerEncoderLayer", encoder_layer, inputs=arrays((3, 2, D))),
    Case("TransformerEncoderLayer-batch-first-norm-first-gelu-masks",
         lambda lib: encoder_layer(lib, batch_first=True, norm_first=True, activation="gelu"),
         inputs=arrays((2, 3, D)),
         kwargs=lambda rng: {"src_mask": Const(causal(3)),
                             "src_key_padding_mask": Const(padding(2, 3))}),
    Case("TransformerEncoderLayer-no-bias-activation-module",
         lambda lib: encoder_layer(lib, bias=False, layer_norm_eps=1e-3,
                                   activation=lib.nn.GELU(approximate="tanh")),
         inputs=arrays((3, 2, D)),
         kwargs=lambda rng: {"src_mask": Const(rng.standard_normal((2 * H, 3, 3)))}),
    Case("TransformerEncoderLayer-activation-function",
         lambda lib: encoder_layer(lib, activation=lib.nn.functional.silu),
         inputs=arrays((3, 2, D))),
    Case("TransformerEncoderLayer-unbatched-causal",
         lambda lib: encoder_layer(lib), inputs=arrays((3, D)),
         kwargs=lambda rng: {"src_mask": Const(causal_float(3)), "is_causal": True}),
    Case("TransformerEncoderLayer-eval", lambda lib: lib.nn.TransformerEncoderLayer(D, H, FF),
         inputs=arrays((3, 2, D)), kwargs=lambda rng: {"src_key_padding_mask":
                                                      Const(padding(2, 3))}, train=False),
    Case("TransformerEncoder",
         lambda lib: lib.nn.TransformerEncoder(encoder_layer(lib), 2, lib.nn.LayerNorm(D),
                                               enable_nested_tensor=False),
         inputs=arrays((3, 2, D)), kwargs=lambda rng: {"mask": Const(causal_float(3))},
),
    Case("TransformerEncoder-batch-first-padding",
         lambda lib: lib.nn.TransformerEncoder(encoder_layer(lib, batch_first=True), 2),
         inputs=arrays((2, 3, D)),
         kwargs=lambda rng: {"src_key_padding_mask": Const(padding(2, 3))}),
    Case("TransformerEncoder-eval-padding",
         lambda lib: lib.nn.TransformerEncoder(
             lib.nn.TransformerEncoderLayer(D, H, FF, batch_first=True), 2, lib.nn.LayerNorm(D),
             mask_check=False),
         inputs=arrays((2, 3, D)),
         kwargs=lambda rng: {"src_key_padding_mask": Const(padding(2, 3))}, train=False),
    Case("TransformerDecoderLayer", decoder_layer, inputs=arrays((2, 2, D), (3, 2, D)),
         kwargs=lambda rng: {"tgt_mask": Const(causal(2)),
                             "memory_key_padding_mask": Const(padding(2, 3))},
),
    Case("TransformerDecoderLayer-batch-first-norm-first-float-masks",
         lambda lib: decoder_layer(lib, batch_first=True, norm_first=True, activation="gelu"),
         inputs=arrays((2, 2, D), (2, 3, D)),
         kwargs=lambda rng: {"tgt_mask": Const(causal_float(2)), "tgt_is_causal": True,
                             "memory_mask": Const(rng.standard_normal((2, 3))),
                             "tgt_key_padding_mask": Const(np.where(padding(2, 2), -1e9, 0.0))}),
    Case("TransformerDecoderLayer-unbatched-no-bias",
         lambda lib: decoder_layer(lib, bias=False), inputs=arrays((2, D), (3, D))),
    Case("TransformerDecoder",
         lambda lib: lib.nn.TransformerDecoder(decoder_layer(lib), 2, lib.nn.LayerNorm(D)),
         inputs=arrays((2, 2, D), (3, 2, D)),
         kwargs=lambda rng: {"tgt_mask": Const(causal_float(2))}),
    Case("Transformer", transformer, inputs=arrays((3, 2, D), (2, 2, D)),
         kwargs=lambda rng: {"tgt_mask": Const(causal_float(2)),
                             "src_key_padding_mask": Const(padding(2, 3)),
                             "memory_key_padding_mask": Const(padding(2, 3))},
),
    Case("Transformer-batch-first-norm-first-no-bias-gelu",
         lambda lib: transformer(lib, batch_first=True, norm_first=True, bias=False,
                                 activation="gelu", layer_norm_eps=1e-4),
         inputs=arrays((2, 3, D), (2, 2, D)),
         kwargs=lambda rng: {"src_mask": Const(causal(3)), "tgt_mask": Const(causal(2)),
                             "tgt_key_padding_mask": Const(padding(2, 2))}),
    Case("Transformer-unbatched-two-layers",
         lambda lib: lib.nn.Transformer(D, H, 2, 2, FF, dropout=0.0),
         inputs=arrays((3, D), (2, D)),
         kwargs=lambda rng: {"tgt_mask": Const(causal_float(2)), "tgt_is_causal": True}),
    Case("Transformer-eval", lambda lib: lib.nn.Transformer(D, H, 1, 1, FF),
         inputs=arrays((3, 2, D), (2, 2, D)), train=False),
    # MultiheadAttention's remaining mask forms.
    Case("MHA-3d-bool-mask-bias-kv-zero-attn",
         lambda lib: lib.nn.MultiheadAttention(D, H, add_bias_kv=True, add_zero_attn=True),
         inputs=arrays((2, 2, D), (3, 2, D), (3, 2, D)),
         kwargs=lambda rng: {"attn_mask": Const(rng.random((2 * H, 2, 3)) < 0.3),
                             "key_padding_mask": Const(padding(2, 3))}),
    Case("MHA-unbatched-3d-float-mask-kdim-vdim",
         lambda lib: lib.nn.MultiheadAttention(D, H, kdim=3, vdim=5),
         inputs=arrays((2, D), (3, 3), (3, 5)),
         kwargs=lambda rng: {"attn_mask": Const(rng.standard_normal((H, 2, 3))),
                             "average_attn_weights": False}),
]
