"""Classify Shakespeare speeches by the genre of their play (comedy, history, tragedy) with a
bidirectional LSTM over packed variable-length batches.

Usage: python examples/packed_sequence_classifier.py [--epochs 4] [--per-class 2000]
       [--hidden 64] [--max-chars 200]

Needs the corpus: pip install backprop[text]. Each speech (the text after a speaker's tag, tags
and stage directions left out, cut to --max-chars characters) is a sequence of characters;
a batch of them is padded, packed with ``pack_padded_sequence(..., enforce_sorted=False)``, run
through ``nn.LSTM(bidirectional=True)``, and the two directions' last hidden states, which the
packed run takes at each speech's own end, feed a linear classifier. Speeches are drawn at
random from every play of the genre, the same number per genre, and split at random into
training and test speeches (a play's speeches may fall on both sides).
"""

from __future__ import annotations

import argparse
import re
import time
from dataclasses import dataclass

import numpy as np

import backprop as bp
import backprop.nn.functional as F
from backprop import nn
from backprop.datasets.text import CharTokenizer, load_plays
from backprop.nn.utils.rnn import pack_padded_sequence

GENRES = ("comedies", "histories", "tragedies")
_SPEECH = re.compile(r"^[A-Z][A-Z .,'&-]+:\n(?P<speech>(?:.+\n?)+)", re.MULTILINE)


@dataclass
class ClassifierConfig:
    epochs: int = 4
    per_class: int = 2000  # speeches per genre (before the split)
    test_fraction: float = 0.2
    min_chars: int = 40
    max_chars: int = 200  # speeches are cut to this many characters
    embed: int = 32
    hidden: int = 64
    batch_size: int = 64
    lr: float = 3e-3
    seed: int = 0


def speeches(config: ClassifierConfig) -> tuple[list[str], np.ndarray]:
    """``per_class`` speeches of each genre, and their genre labels."""
    rng = np.random.default_rng(config.seed)
    texts, labels = [], []
    plays = load_plays()
    for label, genre in enumerate(GENRES):
        found = [m.group("speech").strip().replace("\n", " ")
                 for key, text in plays.items() if key.startswith(genre + "/")
                 for m in _SPEECH.finditer(text)]
        found = [s[:config.max_chars] for s in found if len(s) >= config.min_chars]
        chosen = rng.choice(len(found), size=min(config.per_class, len(found)), replace=False)
        texts += [found[i] for i in chosen]
        labels += [label] * len(chosen)
    return texts, np.asarray(labels, dtype=np.int64)


class SpeechClassifier(nn.Module):
    """Characters -> embedding -> bidirectional LSTM (packed) -> both final states -> genre."""

    def __init__(self, vocab: int, config: ClassifierConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, config.embed, padding_idx=0)
        self.lstm = nn.LSTM(config.embed, config.hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * config.hidden, len(GENRES))

    def forward(self, tokens: bp.Tensor, lengths: bp.Tensor) -> bp.Tensor:
        packed = pack_padded_sequence(self.embed(tokens), lengths, batch_first=True,
                                      enforce_sorted=False)
        _, (h_n, _) = self.lstm(packed)  # h_n in the batch's own order, each at its own end
        return self.head(bp.cat([h_n[0], h_n[1]], dim=1))


def batch(tokenizer: CharTokenizer, texts: list[str]) -> tuple[bp.Tensor, bp.Tensor]:
    """Padded ids (0 is padding; characters are 1 + their tokenizer id) and the lengths."""
    lengths = [len(t) for t in texts]
    ids = np.zeros((len(texts), max(lengths)), dtype=np.int64)
    for row, text in enumerate(texts):
        ids[row, :len(text)] = tokenizer.encode(text) + 1
    return bp.tensor(ids), bp.tensor(lengths)


def accuracy(model: SpeechClassifier, tokenizer: CharTokenizer, texts: list[str],
             labels: np.ndarray, batch_size: int) -> float:
    model.eval()
    correct = 0
    with bp.no_grad():
        for start in range(0, len(texts), batch_size):
            logits = model(*batch(tokenizer, texts[start:start + batch_size]))
            correct += int((logits.argmax(1).numpy() == labels[start:start + batch_size]).sum())
    model.train()
    return correct / len(texts)


def train(config: ClassifierConfig, log=print) -> dict:
    bp.manual_seed(config.seed)
    texts, labels = speeches(config)
    tokenizer = CharTokenizer.from_text("".join(texts))
    rng = np.random.default_rng(config.seed + 1)
    order = rng.permutation(len(texts))
    n_test = int(len(texts) * config.test_fraction)
    test, fit = order[:n_test], order[n_test:]
    test_texts, test_labels = [texts[i] for i in test], labels[test]
    model = SpeechClassifier(tokenizer.vocab_size + 1, config)
    optimizer = bp.optim.Adam(model.parameters(), lr=config.lr)
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        rng.shuffle(fit)
        total = 0.0
        for first in range(0, len(fit), config.batch_size):
            chosen = fit[first:first + config.batch_size]
            logits = model(*batch(tokenizer, [texts[i] for i in chosen]))
            loss = F.cross_entropy(logits, bp.tensor(labels[chosen]))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total += loss.item() * len(chosen)
        test_accuracy = accuracy(model, tokenizer, test_texts, test_labels, 256)
        log(f"epoch {epoch}  train loss {total / len(fit):.3f}  test accuracy "
            f"{test_accuracy:.3f}  ({time.perf_counter() - start:.0f} s)")
    return {"model": model, "test_accuracy": test_accuracy, "train_loss": total / len(fit),
            "speeches": (len(fit), n_test), "seconds": time.perf_counter() - start}


def main(argv: list[str] | None = None) -> dict:
    """Train and report the test accuracy against chance (one genre in three)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = ClassifierConfig()
    for name in ("epochs", "per_class", "max_chars", "embed", "hidden", "batch_size", "seed"):
        parser.add_argument("--" + name.replace("_", "-"), type=int,
                            default=getattr(defaults, name))
    parser.add_argument("--lr", type=float, default=defaults.lr)
    config = ClassifierConfig(**vars(parser.parse_args(argv)))
    result = train(config)
    fit, test = result["speeches"]
    print(f"test accuracy {result['test_accuracy']:.3f} on {test} held-out speeches "
          f"({fit} trained on, {result['seconds']:.0f} s); chance is {1 / len(GENRES):.3f}")
    return result


if __name__ == "__main__":
    main()
