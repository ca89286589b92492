"""Train a deep residual MLP on the embedded 8x8 digits with activation checkpointing: every
block is recomputed in backward instead of keeping its activations, so the graph holds only the
block boundaries.

Usage: python examples/checkpointed_deep_model.py [--blocks 32] [--width 128] [--steps 400]
                                                  [--batch-size 128] [--lr 1e-3] [--seed 0]

Each block is pre-norm residual: x + W2 dropout(gelu(W1 layernorm(x))), with dropout (which
checkpointing replays exactly: the random stream is restored for the recomputation). The script
reports what the saved-memory ledger (``bp.diagnostics.memory_report``) counts behind one
training batch's loss with and without checkpointing, the step time of both, and the test
accuracy the checkpointed model reaches.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

import backprop as bp
from backprop.diagnostics import memory_report
from backprop.utils.checkpoint import checkpoint

nn = bp.nn
F = bp.nn.functional


class Block(nn.Module):
    """x + W2 dropout(gelu(W1 layernorm(x))): the unit that is checkpointed."""

    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc1, self.fc2 = nn.Linear(width, 2 * width), nn.Linear(2 * width, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: bp.Tensor) -> bp.Tensor:
        return x + self.fc2(self.dropout(F.gelu(self.fc1(self.norm(x)))))


class DeepMLP(nn.Module):
    """64 pixels -> ``width`` -> ``blocks`` residual blocks -> 10 digits."""

    def __init__(self, blocks: int, width: int, dropout: float = 0.1,
                 checkpointed: bool = True) -> None:
        super().__init__()
        self.stem = nn.Linear(64, width)
        self.blocks = nn.ModuleList([Block(width, dropout) for _ in range(blocks)])
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, 10)
        self.checkpointed = checkpointed

    def forward(self, images: bp.Tensor) -> bp.Tensor:
        x = self.stem(images.reshape(images.shape[0], -1))
        for block in self.blocks:
            if self.checkpointed and self.training:
                x = checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return self.head(self.norm(x))


def _mib(n: int) -> str:
    return f"{n / 2 ** 20:.2f} MiB"


def ledger(model: DeepMLP, images: bp.Tensor, labels: bp.Tensor) -> dict[str, int]:
    """Saved-for-backward bytes behind one batch's loss, plain and checkpointed."""
    figures = {}
    for checkpointed in (False, True):
        model.checkpointed = checkpointed
        report = memory_report(F.cross_entropy(model(images), labels), model)
        figures["checkpointed" if checkpointed else "plain"] = report.activation_bytes
    model.checkpointed = True
    return figures


def step_time(model: DeepMLP, images: bp.Tensor, labels: bp.Tensor, checkpointed: bool,
              repeats: int = 3) -> float:
    """Median seconds of forward + backward on one batch (gradients are discarded)."""
    model.checkpointed = checkpointed
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        F.cross_entropy(model(images), labels).backward()
        times.append(time.perf_counter() - start)
    model.zero_grad()
    model.checkpointed = True
    return float(np.median(times))


def accuracy(model: DeepMLP, data: bp.datasets.Digits) -> float:
    model.eval()
    with bp.no_grad():
        predicted = model(data.data).argmax(dim=1)
    model.train()
    return float((predicted == data.targets).float().mean().item())


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=32)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    bp.manual_seed(args.seed)
    train, test = bp.datasets.Digits(train=True), bp.datasets.Digits(train=False)
    model = DeepMLP(args.blocks, args.width)
    optimizer = bp.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    loader = bp.utils.data.DataLoader(train, batch_size=args.batch_size, shuffle=True,
                                      drop_last=True)

    images, labels = next(iter(loader))
    saved = ledger(model, images, labels)
    times = {name: step_time(model, images, labels, name == "checkpointed")
             for name in ("plain", "checkpointed")}
    print(f"{args.blocks} blocks of width {args.width}, batch {args.batch_size}: saved for "
          f"backward {_mib(saved['plain'])} plain, {_mib(saved['checkpointed'])} checkpointed "
          f"({saved['plain'] / saved['checkpointed']:.1f}x less); forward+backward "
          f"{times['plain'] * 1e3:.0f} ms plain, {times['checkpointed'] * 1e3:.0f} ms "
          f"checkpointed ({times['checkpointed'] / times['plain']:.2f}x)")

    step, start, loss = 0, time.perf_counter(), float("nan")
    while step < args.steps:
        for images, labels in loader:
            optimizer.zero_grad()
            out = F.cross_entropy(model(images), labels)
            out.backward()
            optimizer.step()
            loss = float(out.item())
            step += 1
            if step % max(args.steps // 4, 1) == 0 or step == args.steps:
                print(f"step {step:4d}  loss {loss:.4f}  test accuracy "
                      f"{accuracy(model, test):.4f}", flush=True)
            if step == args.steps:
                break
    final = accuracy(model, test)
    print(f"test accuracy {final:.4f} after {args.steps} checkpointed steps "
          f"({time.perf_counter() - start:.0f} s)")
    return {"saved_plain": saved["plain"], "saved_checkpointed": saved["checkpointed"],
            "time_plain": times["plain"], "time_checkpointed": times["checkpointed"],
            "test_accuracy": final, "train_loss": loss}


if __name__ == "__main__":
    main()
