"""Train a character-level LSTM language model on the complete Shakespeare plays, then let it
write.

Usage: python examples/char_lstm.py [--max-iters 1500] [--hidden 256] [--layers 2]
       [--block-size 64] [--batch-size 32] [--prompt "ROMEO:"] [--length 300]

Needs the corpus: pip install backprop[text]. Embedding 64 -> a 2-layer LSTM of 256 units (the
W5 benchmark's model) -> a linear head over the 80 characters, trained by truncated
backpropagation through time on random 64-character windows with Adam and gradient clipping.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

import backprop as bp
import backprop.nn.functional as F
from backprop import nn
from backprop.datasets.text import CharTokenizer, random_windows, shakespeare, unigram_entropy


@dataclass
class CharLSTMConfig:
    max_iters: int = 1500
    batch_size: int = 32
    block_size: int = 64  # characters of backpropagation through time per window
    embed: int = 64
    hidden: int = 256
    layers: int = 2
    dropout: float = 0.0  # between the LSTM layers
    lr: float = 2e-3
    clip: float = 1.0  # max gradient norm
    eval_interval: int = 250
    eval_windows: int = 64  # validation windows per evaluation
    seed: int = 0


class CharLSTM(nn.Module):
    """Characters -> embedding -> LSTM -> logits over the next character."""

    def __init__(self, vocab: int, config: CharLSTMConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, config.embed)
        self.lstm = nn.LSTM(config.embed, config.hidden, num_layers=config.layers,
                            dropout=config.dropout if config.layers > 1 else 0.0,
                            batch_first=True)
        self.head = nn.Linear(config.hidden, vocab)

    def forward(self, tokens: bp.Tensor, state: tuple | None = None) -> tuple[bp.Tensor, tuple]:
        output, state = self.lstm(self.embed(tokens), state)
        return self.head(output), state


def evaluate(model: CharLSTM, tokens: np.ndarray, config: CharLSTMConfig) -> float:
    """Mean cross-entropy (nats per character) over fixed random validation windows."""
    model.eval()
    x, y = random_windows(tokens, config.block_size, config.eval_windows,
                          generator=bp.Generator(config.seed + 1))
    with bp.no_grad():
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item()
    model.train()
    return loss


def sample(model: CharLSTM, tokenizer: CharTokenizer, prompt: str, length: int,
           temperature: float = 0.8, seed: int = 0) -> str:
    """Continue ``prompt`` by ``length`` characters, carrying the LSTM state step to step."""
    rng = np.random.default_rng(seed)
    model.eval()
    ids = list(tokenizer.encode(prompt))
    with bp.no_grad():
        logits, state = model(bp.tensor([ids]))
        for _ in range(length):
            last = logits[0, -1].numpy().astype(np.float64) / temperature
            p = np.exp(last - last.max())
            ids.append(int(rng.choice(len(p), p=p / p.sum())))
            logits, state = model(bp.tensor([[ids[-1]]]), state)
    model.train()
    return tokenizer.decode(ids)


def train(config: CharLSTMConfig, log=print) -> dict:
    """Train on the plays' training split; returns the losses, timing and the model."""
    bp.manual_seed(config.seed)
    train_text, val_text = shakespeare("train"), shakespeare("val")
    tokenizer = CharTokenizer.from_text(train_text + val_text)
    train_tokens, val_tokens = tokenizer.encode(train_text), tokenizer.encode(val_text)
    model = CharLSTM(tokenizer.vocab_size, config)
    optimizer = bp.optim.Adam(model.parameters(), lr=config.lr)
    generator = bp.Generator(config.seed)
    start = time.perf_counter()
    history = []
    for step in range(1, config.max_iters + 1):
        x, y = random_windows(train_tokens, config.block_size, config.batch_size, generator)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, tokenizer.vocab_size), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.clip)
        optimizer.step()
        if step % config.eval_interval == 0 or step == config.max_iters:
            val = evaluate(model, val_tokens, config)
            history.append((step, loss.item(), val))
            log(f"step {step:5d}  train loss {loss.item():.3f}  val loss {val:.3f}  "
                f"({time.perf_counter() - start:.0f} s)")
    return {"model": model, "tokenizer": tokenizer, "history": history,
            "val_loss": history[-1][2], "unigram_entropy": unigram_entropy(val_text),
            "seconds": time.perf_counter() - start}


def main(argv: list[str] | None = None) -> dict:
    """Train, report the validation loss against the unigram baseline, and print a sample."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = CharLSTMConfig()
    for name in ("max_iters", "batch_size", "block_size", "embed", "hidden", "layers",
                 "eval_interval", "seed"):
        parser.add_argument("--" + name.replace("_", "-"), type=int,
                            default=getattr(defaults, name))
    for name in ("lr", "dropout"):
        parser.add_argument("--" + name, type=float, default=getattr(defaults, name))
    parser.add_argument("--prompt", default="ROMEO:\n")
    parser.add_argument("--length", type=int, default=300, help="characters to sample")
    args = vars(parser.parse_args(argv))
    prompt, length = args.pop("prompt"), args.pop("length")
    config = CharLSTMConfig(**args)
    result = train(config)
    print(f"validation loss {result['val_loss']:.3f} nats per character after "
          f"{config.max_iters} steps ({result['seconds']:.0f} s); a model that ignores context "
          f"cannot beat the unigram entropy, {result['unigram_entropy']:.3f}")
    result["sample"] = sample(result["model"], result["tokenizer"], prompt, length)
    print(result["sample"])
    return result


if __name__ == "__main__":
    main()
