"""W4: character Transformer LM: vocabulary 65, context 64, d_model 128, 4 heads, 2 layers,
MLP 4x with tanh-GELU, pre-LayerNorm, causal attention, batch 16, AdamW (lr 1e-3, wd 0.01).

Built from the library's pieces (Embedding, LayerNorm, Linear, F.scaled_dot_product_attention with
is_causal=True, F.gelu(approximate='tanh')); one code path serves backprop and PyTorch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .common import Lib, Problem, linear_params, make_library_step, next_token_batches

NAME = "W4"
TITLE = "W4 char Transformer b16"
LR, WEIGHT_DECAY = 1e-3, 0.01
VOCAB = 65


def make_problem(seed: int = 0, batch: int = 16, ctx: int = 64, d_model: int = 128,
                 heads: int = 4, layers: int = 2, n_batches: int = 4) -> Problem:
    rng = np.random.default_rng(seed)
    d = d_model
    params: dict[str, np.ndarray] = {
        "tok.weight": (0.02 * rng.standard_normal((VOCAB, d))).astype(np.float32),
        "pos.weight": (0.02 * rng.standard_normal((ctx, d))).astype(np.float32),
    }
    for i in range(layers):
        p = f"blocks.{i}."
        for ln in ("ln1.", "ln2."):
            params[p + ln + "weight"] = np.ones(d, np.float32)
            params[p + ln + "bias"] = np.zeros(d, np.float32)
        for name, n_in, n_out in (("q.", d, d), ("k.", d, d), ("v.", d, d), ("proj.", d, d),
                                  ("fc1.", d, 4 * d), ("fc2.", 4 * d, d)):
            linear_params(rng, p + name, n_in, n_out, params)
    params["ln_f.weight"] = np.ones(d, np.float32)
    params["ln_f.bias"] = np.zeros(d, np.float32)
    linear_params(rng, "head.", d, VOCAB, params)
    batches = next_token_batches(rng, VOCAB, batch, ctx, n_batches)
    config = {"batch": batch, "ctx": ctx, "d_model": d, "heads": heads, "layers": layers}
    return Problem(NAME, params, batches, config)


def _model(lib: Lib, ctx: int, d: int, heads: int, layers: int) -> Any:
    nn, F = lib.nn, lib.F

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
            self.proj = nn.Linear(d, d)
            self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

        def forward(self, x: Any) -> Any:
            b, t, _ = x.shape
            h = self.ln1(x)

            def split(z: Any) -> Any:
                return z.reshape(b, t, heads, d // heads).transpose(1, 2)

            a = F.scaled_dot_product_attention(split(self.q(h)), split(self.k(h)),
                                               split(self.v(h)), is_causal=True)
            x = x + self.proj(a.transpose(1, 2).reshape(b, t, d))
            return x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh"))

    class LM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok = nn.Embedding(VOCAB, d)
            self.pos = nn.Embedding(ctx, d)
            self.blocks = nn.ModuleList([Block() for _ in range(layers)])
            self.ln_f = nn.LayerNorm(d)
            self.head = nn.Linear(d, VOCAB)

        def forward(self, tokens: Any) -> Any:
            x = self.tok(tokens) + self.pos.weight[: tokens.shape[1]]
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x))

    return LM()


def build(lib: Lib, problem: Problem) -> Callable[[], Any]:
    c = problem.config
    with lib.float32():
        model = _model(lib, c["ctx"], c["d_model"], c["heads"], c["layers"])
    lib.load(model, problem.params)
    optimizer = lib.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)

    def loss_fn(logits: Any, targets: Any) -> Any:
        return lib.F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))

    return make_library_step(lib, model, optimizer, loss_fn, problem,
                             lambda lib, b: (lib.tensor(b[0]), lib.tensor(b[1])))
