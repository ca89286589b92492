"""W5: character LSTM language model: vocabulary 80, embedding 64, a 2-layer LSTM of 256 hidden
units, a linear head, batch 32, sequence 64, Adam (lr 1e-3).

Backpropagation through time through ``nn.LSTM`` in both libraries: backprop runs each layer as
one primitive (one product of the whole sequence with ``weight_ih``, then 64 steps of one
product with ``weight_hh`` and one fused cell update each, ``weight_hh``'s gradient as one
product after the loop); PyTorch's CPU LSTM is its own fused kernel, forward and backward."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .common import (Lib, Problem, linear_params, make_library_step, next_token_batches,
                     uniform)

NAME = "W5"
TITLE = "W5 char LSTM b32"
LR = 1e-3
VOCAB = 80


def make_problem(seed: int = 0, batch: int = 32, seq: int = 64, embed: int = 64,
                 hidden: int = 256, layers: int = 2, n_batches: int = 4) -> Problem:
    rng = np.random.default_rng(seed)
    params: dict[str, np.ndarray] = {"emb.weight": rng.standard_normal((VOCAB, embed))
                                     .astype(np.float32)}
    bound = 1.0 / np.sqrt(hidden)  # PyTorch's LSTM init: U(-1/sqrt(hidden), 1/sqrt(hidden))
    for layer in range(layers):
        n_in = embed if layer == 0 else hidden
        params[f"lstm.weight_ih_l{layer}"] = uniform(rng, (4 * hidden, n_in), bound)
        params[f"lstm.weight_hh_l{layer}"] = uniform(rng, (4 * hidden, hidden), bound)
        params[f"lstm.bias_ih_l{layer}"] = uniform(rng, (4 * hidden,), bound)
        params[f"lstm.bias_hh_l{layer}"] = uniform(rng, (4 * hidden,), bound)
    linear_params(rng, "head.", hidden, VOCAB, params)
    batches = next_token_batches(rng, VOCAB, batch, seq, n_batches)
    config = {"batch": batch, "seq": seq, "embed": embed, "hidden": hidden, "layers": layers}
    return Problem(NAME, params, batches, config)


def _model(lib: Lib, embed: int, hidden: int, layers: int) -> Any:
    nn = lib.nn

    class LM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(VOCAB, embed)
            self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)
            self.head = nn.Linear(hidden, VOCAB)

        def forward(self, tokens: Any) -> Any:
            output, _ = self.lstm(self.emb(tokens))
            return self.head(output)

    return LM()


def build(lib: Lib, problem: Problem) -> Callable[[], Any]:
    c = problem.config
    with lib.float32():
        model = _model(lib, c["embed"], c["hidden"], c["layers"])
    lib.load(model, problem.params)
    optimizer = lib.optim.Adam(model.parameters(), lr=LR)

    def loss_fn(logits: Any, targets: Any) -> Any:
        return lib.F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))

    return make_library_step(lib, model, optimizer, loss_fn, problem,
                             lambda lib, b: (lib.tensor(b[0]), lib.tensor(b[1])))
