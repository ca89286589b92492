"""Rows: MultiheadAttention with every option and mask kind."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from moduletable.spec import Case, Const


def mha_inputs(L: int, S: int, N: int, E: int, kdim: int | None = None,
               vdim: int | None = None, batch_first: bool = False, same: bool = False,
               unbatched: bool = False) -> Callable[[np.random.Generator], list]:
    def make(rng: np.random.Generator) -> list:
        def seq(length: int, dim: int) -> np.ndarray:
            if unbatched:
                return rng.standard_normal((length, dim))
            shape = (N, length, dim) if batch_first else (length, N, dim)
            return rng.standard_normal(shape)

        if same:
            return ["self"]  # self-attention: the same tensor three times
        return [seq(L, E), seq(S, kdim or E), seq(S, vdim or E)]

    return make


def padding_mask(N: int, S: int, kind: str = "bool") -> Callable[[np.random.Generator], dict]:
    def make(rng: np.random.Generator) -> dict:
        mask = np.zeros((N, S), dtype=bool)
        mask[0, -2:] = True
        mask[-1, 0] = True
        return {"key_padding_mask": Const(mask if kind == "bool"
                                          else np.where(mask, -1e9, 0.0))}

    return make


def causal(L: int) -> np.ndarray:
    return np.triu(np.ones((L, L), dtype=bool), 1)


CASES = [
    Case("MHA", lambda l: l.nn.MultiheadAttention(4, 2), mha_inputs(3, 5, 2, 4)),
    Case("MHA-self", lambda l: l.nn.MultiheadAttention(4, 2), mha_inputs(3, 3, 2, 4, same=True)),
    Case("MHA-batch-first", lambda l: l.nn.MultiheadAttention(6, 3, batch_first=True),
         mha_inputs(3, 4, 2, 6, batch_first=True)),
    Case("MHA-batch-first-self", lambda l: l.nn.MultiheadAttention(4, 1, batch_first=True),
         lambda r: [r.standard_normal((2, 3, 4))] * 3),
    Case("MHA-kdim-vdim", lambda l: l.nn.MultiheadAttention(4, 2, kdim=3, vdim=5),
         mha_inputs(3, 4, 2, 4, kdim=3, vdim=5)),
    Case("MHA-no-bias", lambda l: l.nn.MultiheadAttention(4, 2, bias=False),
         mha_inputs(3, 4, 2, 4)),
    Case("MHA-bias-kv-zero-attn", lambda l: l.nn.MultiheadAttention(
        4, 2, add_bias_kv=True, add_zero_attn=True), mha_inputs(3, 4, 2, 4),
         kwargs=padding_mask(2, 4)),
    Case("MHA-key-padding-mask", lambda l: l.nn.MultiheadAttention(4, 2, batch_first=True),
         mha_inputs(3, 4, 2, 4, batch_first=True), kwargs=padding_mask(2, 4)),
    Case("MHA-float-key-padding-mask", lambda l: l.nn.MultiheadAttention(4, 2),
         mha_inputs(3, 4, 2, 4), kwargs=padding_mask(2, 4, kind="float")),
    Case("MHA-causal-bool-mask", lambda l: l.nn.MultiheadAttention(4, 2),
         mha_inputs(3, 3, 2, 4, same=True),
         kwargs=lambda r: {"attn_mask": Const(causal(3))}),
    Case("MHA-causal-hint", lambda l: l.nn.MultiheadAttention(4, 2, batch_first=True),
         mha_inputs(4, 4, 2, 4, batch_first=True),
         kwargs=lambda r: {"attn_mask": Const(causal(4)), "is_causal": True}),
    Case("MHA-float-3d-mask", lambda l: l.nn.MultiheadAttention(4, 2),
         mha_inputs(3, 5, 2, 4), kwargs=lambda r: {"attn_mask": Const(r.standard_normal(
             (4, 3, 5)))}),
    Case("MHA-both-masks", lambda l: l.nn.MultiheadAttention(4, 2, batch_first=True),
         mha_inputs(4, 4, 2, 4, batch_first=True),
         kwargs=lambda r: {**padding_mask(2, 4)(r), "attn_mask": Const(causal(4))},
         # A query whose every key is masked is NaN in both libraries: no finite differences.
         gradcheck=False),
    Case("MHA-per-head-weights", lambda l: l.nn.MultiheadAttention(4, 2),
         mha_inputs(3, 4, 2, 4), kwargs=lambda r: {"average_attn_weights": False}),
    Case("MHA-no-weights", lambda l: l.nn.MultiheadAttention(4, 2, batch_first=True),
         mha_inputs(3, 4, 2, 4, batch_first=True),
         kwargs=lambda r: {**padding_mask(2, 4)(r), "need_weights": False}),
    Case("MHA-no-weights-causal", lambda l: l.nn.MultiheadAttention(4, 2),
         mha_inputs(4, 4, 2, 4), kwargs=lambda r: {"attn_mask": Const(causal(4)),
                                                   "need_weights": False, "is_causal": True}),
    Case("MHA-unbatched", lambda l: l.nn.MultiheadAttention(4, 2),
         mha_inputs(3, 5, 1, 4, unbatched=True),
         kwargs=lambda r: {"key_padding_mask": Const(np.array([False, True, False, False,
                                                               True]))}),
    Case("MHA-eval", lambda l: l.nn.MultiheadAttention(4, 2, dropout=0.5),
         mha_inputs(3, 4, 2, 4), train=False),
]
