"""A GPT-style decoder-only Transformer language model (GPT-2's architecture, small).

Token embeddings plus learned position embeddings, ``n_layer`` pre-LayerNorm blocks (causal
multi-head self-attention, then a 4x MLP with tanh-GELU, each added back to the residual
stream), a final LayerNorm and an output head that shares its weight with the token embedding
(weight tying, Press & Wolf 2017). Weights start as GPT-2's: N(0, 0.02), with the projections
that write into the residual stream scaled down by ``1 / sqrt(2 * n_layer)``.

>>> import backprop as bp
>>> _ = bp.manual_seed(0)
>>> model = GPT(GPTConfig(vocab_size=10, block_size=8, n_layer=1, n_head=2, n_embd=8))
>>> model(bp.tensor([[1, 2, 3]])).shape
(1, 3, 10)
>>> model.generate(bp.tensor([[1, 2]]), max_new_tokens=4, top_k=1).shape
(1, 6)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..errors import ShapeError
from ..nn import functional as F
from ..ops.join import cat
from ..random import Generator, get_rng
from ..tensor import Tensor

__all__ = ["GPT", "GPTConfig"]


@dataclass
class GPTConfig:
    """The shape of a GPT; every field is saved with a checkpoint so the model can be rebuilt."""

    block_size: int = 128   # context length: the most tokens the model attends over at once
    vocab_size: int = 80    # number of distinct tokens (set from the tokenizer)
    n_layer: int = 4        # Transformer blocks
    n_head: int = 4         # attention heads per block; must divide n_embd
    n_embd: int = 128       # width of the residual stream (embedding size)
    dropout: float = 0.0    # on embeddings, attention weights and residual branches (training)
    bias: bool = True       # biases in the Linear layers and LayerNorms (GPT-2: True)

    def __post_init__(self) -> None:
        for name in ("block_size", "vocab_size", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"GPTConfig: {name} must be a positive integer; got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"GPTConfig: n_embd ({self.n_embd}) must be divisible by n_head "
                             f"({self.n_head}), so each head gets n_embd // n_head dims")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"GPTConfig: dropout must be in [0, 1); got {self.dropout}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> GPTConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"GPTConfig: unknown settings {unknown}; known: {sorted(known)}")
        return cls(**values)


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position ``t`` sees positions ``0..t`` only."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.dropout = config.dropout
        # Query, key and value of all heads from one matmul (one (C, 3C) weight, not three).
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        batch, length, width = x.shape
        q, k, v = self.c_attn(x).split(width, dim=2)

        def heads(z: Tensor) -> Tensor:  # (B, T, C) -> (B, n_head, T, head size)
            return z.reshape(batch, length, self.n_head, width // self.n_head).transpose(1, 2)

        y = F.scaled_dot_product_attention(heads(q), heads(k), heads(v), is_causal=True,
                                           dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).reshape(batch, length, width)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """Position-wise feed-forward: widen 4x, tanh-GELU (GPT-2's), project back."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))


class Block(nn.Module):
    """Pre-LayerNorm Transformer block: ``x + attn(ln(x))``, then ``x + mlp(ln(x))``."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """The language model: ``model(idx)`` maps token ids ``(B, T)`` to next-token logits
    ``(B, T, vocab_size)``; ``T`` may be at most ``config.block_size``."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)  # token embedding
        self.wpe = nn.Embedding(config.block_size, config.n_embd)  # position embedding
        self.drop = nn.Dropout(config.dropout)
        self.h = nn.ModuleList([Block(config) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # Weight tying: one Parameter is both the input embedding and the output projection, so
        # it gets gradient from both uses (and saves vocab_size * n_embd parameters).
        self.lm_head.weight = self.wte.weight
        self._init_weights()

    def _init_weights(self) -> None:
        residual_std = 0.02 / math.sqrt(2 * self.config.n_layer)
        for name, module in self.named_modules():
            if isinstance(module, (nn.Linear, nn.Embedding)) and module is not self.lm_head:
                # GPT-2: projections into the residual stream start smaller, so the stream's
                # variance does not grow with depth.
                std = residual_std if name.endswith("c_proj") else 0.02
                nn.init.normal_(module.weight, mean=0.0, std=std)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

    def forward(self, idx: Tensor) -> Tensor:
        if idx.ndim != 2:
            raise ShapeError(f"GPT: idx must be (batch, time) token ids; got shape "
                             f"{tuple(idx.shape)}")
        length = idx.shape[1]
        if length > self.config.block_size:
            raise ShapeError(f"GPT: a sequence of {length} tokens is longer than block_size "
                             f"{self.config.block_size}; crop it to the last "
                             f"{self.config.block_size}")
        x = self.drop(self.wte(idx) + self.wpe.weight[:length])
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))

    def num_parameters(self) -> int:
        """Parameters counted once (the tied embedding/head weight once).

        >>> GPT(GPTConfig(vocab_size=4, block_size=2, n_layer=1, n_head=1, n_embd=2)
        ...     ).num_parameters()
        90
        """
        return sum(p.numel() for p in self.parameters())

    def optimizer_groups(self, weight_decay: float) -> list[dict[str, Any]]:
        """Parameter groups for AdamW: the Linear layers' weight matrices decay; biases,
        LayerNorm gains and the (tied) embeddings do not, as in GPT-2's training recipe.

        >>> model = GPT(GPTConfig(vocab_size=4, block_size=2, n_layer=1, n_head=1, n_embd=2))
        >>> [len(g["params"]) for g in model.optimizer_groups(0.1)]
        [4, 12]
        """
        decay, no_decay = [], []
        for module_name, module in self.named_modules():
            for name, param in module.named_parameters(recurse=False):
                if param is self.wte.weight:
                    continue  # lm_head's weight is the embedding: counted once, below
                is_matrix = isinstance(module, nn.Linear) and name == "weight"
                (decay if is_matrix else no_decay).append(param)
        no_decay.append(self.wte.weight)
        return [{"params": decay, "weight_decay": weight_decay},
                {"params": no_decay, "weight_decay": 0.0}]

    def generate(self, idx: Tensor, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, generator: Generator | None = None) -> Tensor:
        """Extend ``idx`` ``(B, T)`` by ``max_new_tokens`` sampled tokens, one at a time, each
        conditioned on the last ``block_size`` tokens: logits divided by ``temperature``
        (below 1: safer, above 1: wilder), all but the ``top_k`` most likely tokens removed,
        then one token drawn from the softmax with ``generator`` (bp's default if None).
        ``top_k=1`` is greedy decoding. Runs in eval mode without a graph.

        >>> import backprop as bp
        >>> model = GPT(GPTConfig(vocab_size=5, block_size=4, n_layer=1, n_head=1, n_embd=4))
        >>> a = model.generate(bp.tensor([[0]]), 6, generator=bp.Generator(1))
        >>> b = model.generate(bp.tensor([[0]]), 6, generator=bp.Generator(1))
        >>> a.tolist() == b.tolist(), a.shape
        (True, (1, 7))
        """
        if temperature <= 0 or not math.isfinite(temperature):
            raise ValueError(f"GPT.generate: temperature must be a positive number; got "
                             f"{temperature} (for greedy decoding use top_k=1)")
        if top_k is not None and top_k < 1:
            raise ValueError(f"GPT.generate: top_k must be at least 1 (or None for all "
                             f"tokens); got {top_k}")
        if max_new_tokens < 0:
            raise ValueError(f"GPT.generate: max_new_tokens must be 0 or more; got "
                             f"{max_new_tokens}")
        if idx.ndim != 2 or idx.shape[1] < 1:
            raise ShapeError(f"GPT.generate: idx must be (batch, time) with at least one token; "
                             f"got shape {tuple(idx.shape)}")
        rng = get_rng(generator)
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                for _ in range(max_new_tokens):
                    context = idx[:, -self.config.block_size:]
                    logits = self(context)[:, -1, :].numpy().astype(np.float64)
                    next_ids = sample_next(logits / temperature, top_k, rng)
                    idx = cat([idx, Tensor._wrap(next_ids[:, None])], dim=1)
        finally:
            self.train(was_training)
        return idx


def sample_next(logits: np.ndarray, top_k: int | None, rng: np.random.Generator) -> np.ndarray:
    """One token id per row of ``logits`` ``(B, V)``, drawn from the softmax over the ``top_k``
    largest logits (ties at the k-th value are all kept). With ``top_k=1`` it is the argmax
    and draws nothing from ``rng``.

    >>> sample_next(np.array([[0.0, 3.0, 1.0]]), 1, np.random.default_rng(0)).tolist()
    [1]
    """
    if top_k == 1:  # greedy: exact, and independent of the random stream
        return logits.argmax(axis=1).astype(np.int64)
    if top_k is not None and top_k < logits.shape[1]:
        kth = np.partition(logits, -top_k, axis=1)[:, -top_k][:, None]
        logits = np.where(logits < kth, -np.inf, logits)
    logits = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    cumulative = np.cumsum(probs, axis=1)
    # Inverse-CDF sampling: one uniform draw per row against the unnormalised cumulative sum.
    draws = rng.random((logits.shape[0], 1)) * cumulative[:, -1:]
    chosen = (cumulative <= draws).sum(axis=1)
    return np.minimum(chosen, logits.shape[1] - 1).astype(np.int64)
