"""Usage: OPENBLAS_NUM_THREADS=1 PYTHONPATH=src:. python -m benchmarks.checkpointing
                [--rounds 5] [--small] [--out benchmarks/checkpointing_results.md]

Activation checkpointing's trade (issue 3): a 12-block MLP and a 12-block Transformer encoder,
trained one AdamW step at a time, plain and with every block wrapped in
``bp.utils.checkpoint.checkpoint(block, x, use_reentrant=False)``. For each:

* **saved activations**: ``memory_report(loss).activation_bytes`` right after the forward,
  when the graph holds the most (the saved-memory ledger: bytes held only because of the graph);
* **step peak**: the most memory the step allocated above what it started with, as
  ``tracemalloc`` sees NumPy's buffers (one untimed step): the checkpointed step's includes the
  one block recomputed at a time in backward, and the gradients;
* **step time**: the median of interleaved timed steps (plain, checkpointed, plain ...), by
  wall clock and by the process's CPU time.

Both copies of a model start from the same weights, and their first losses and gradients must
agree (dropout is replayed: the Transformer's dropout runs in both). The target: at least 3x less
saved activation memory for at most 1.4x the step time.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

BLOCKS = 12
TARGET_MEMORY, TARGET_TIME = 3.0, 1.4


@dataclass
class Config:
    """One workload's sizes."""

    name: str
    batch: int
    width: int  # MLP width / Transformer d_model
    seq: int = 0  # Transformer only
    heads: int = 4
    dropout: float = 0.1


FULL = [Config("MLP 12 blocks, 256 wide, batch 1024", batch=1024, width=256),
        Config("Transformer 12 layers, d 128, seq 64, batch 16", batch=16, width=128, seq=64)]
SMALL = [Config("MLP 12 blocks, 64 wide, batch 16", batch=16, width=64),
         Config("Transformer 12 layers, d 32, seq 8, batch 2", batch=2, width=32, seq=8)]


def _mlp_block(bp: Any, width: int) -> Any:
    nn = bp.nn

    class Block(nn.Module):
        """Pre-norm residual MLP block: x + W2 gelu(W1 layernorm(x))."""

        def __init__(self) -> None:
            super().__init__()
            self.norm = nn.LayerNorm(width)
            self.fc1, self.fc2 = nn.Linear(width, 2 * width), nn.Linear(2 * width, width)

        def forward(self, x: Any) -> Any:
            return x + self.fc2(bp.nn.functional.gelu(self.fc1(self.norm(x))))

    return Block()


def build(config: Config, checkpointed: bool, seed: int = 0) -> tuple[Any, Callable, Callable]:
    """(model, loss of one batch, one training step) for the workload."""
    import backprop as bp
    from backprop.utils.checkpoint import checkpoint

    bp.manual_seed(seed)
    nn = bp.nn
    if config.seq:
        blocks = nn.ModuleList([nn.TransformerEncoderLayer(
            config.width, config.heads, dim_feedforward=4 * config.width,
            dropout=config.dropout, batch_first=True, norm_first=True)
            for _ in range(BLOCKS)])
    else:
        blocks = nn.ModuleList([_mlp_block(bp, config.width) for _ in range(BLOCKS)])
    head = nn.Linear(config.width, 10)
    model = nn.ModuleDict({"blocks": blocks, "head": head})
    rng = np.random.default_rng(seed)
    shape = (config.batch, config.seq, config.width) if config.seq else (config.batch,
                                                                         config.width)
    x = bp.tensor(rng.standard_normal(shape).astype(np.float32))
    target = bp.tensor(rng.integers(0, 10, config.batch))
    optimizer = bp.optim.AdamW(model.parameters(), lr=1e-3)

    def loss_fn() -> Any:
        h = x
        for block in blocks:
            h = checkpoint(block, h, use_reentrant=False) if checkpointed else block(h)
        pooled = h.mean(dim=1) if config.seq else h
        return nn.functional.cross_entropy(head(pooled), target)

    def step() -> float:
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        optimizer.step()
        return float(loss.item())

    return model, loss_fn, step


def check_agreement(config: Config) -> float:
    """The largest relative difference between the plain and checkpointed first gradients."""
    import backprop as bp

    grads = []
    for checkpointed in (False, True):
        model, loss_fn, _ = build(config, checkpointed)
        bp.manual_seed(1)  # the same dropout masks in both
        loss_fn().backward()
        grads.append([p.grad.numpy() for p in model.parameters()])
    worst = 0.0
    for a, b in zip(*grads):
        scale = max(float(np.abs(a).max()), 1e-12)
        worst = max(worst, float(np.abs(a - b).max()) / scale)
    return worst


def saved_activation_bytes(config: Config, checkpointed: bool) -> tuple[int, int]:
    """(activation bytes, leaf bytes) the ledger counts behind the loss after the forward."""
    from backprop.diagnostics import memory_report

    model, loss_fn, _ = build(config, checkpointed)
    report = memory_report(loss_fn(), model)
    return report.activation_bytes, report.leaf_bytes


def step_peak_bytes(config: Config, checkpointed: bool) -> int:
    """The most bytes one step allocates above what it starts with (tracemalloc)."""
    _, _, step = build(config, checkpointed)
    step()  # the optimizer's state exists from now on
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - start


def step_times(config: Config, rounds: int) -> dict[str, list[tuple[float, float]]]:
    """Interleaved (wall, CPU) step times in seconds of the two variants, after a warm-up step
    each. With one BLAS thread the process's CPU time hardly moves when neighbours take the
    cores, so it is the steadier figure on a shared machine."""
    steps = {"plain": build(config, False)[2], "checkpointed": build(config, True)[2]}
    for step in steps.values():
        step()
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in steps}
    names = list(steps)
    for r in range(rounds):
        for name in names[r % 2:] + names[:r % 2]:
            wall, cpu = time.perf_counter(), time.process_time()
            steps[name]()
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return times


def measure(config: Config, rounds: int) -> dict[str, Any]:
    """Every figure of one workload."""
    plain_act, leaf = saved_activation_bytes(config, False)
    ckpt_act, _ = saved_activation_bytes(config, True)
    times = step_times(config, rounds)
    plain_t, ckpt_t = (statistics.median(w for w, _ in times[k]) for k in ("plain",
                                                                           "checkpointed"))
    plain_cpu, ckpt_cpu = (statistics.median(c for _, c in times[k]) for k in ("plain",
                                                                               "checkpointed"))
    return {"name": config.name, "agreement": check_agreement(config),
            "plain_act": plain_act, "ckpt_act": ckpt_act, "leaf": leaf,
            "plain_peak": step_peak_bytes(config, False),
            "ckpt_peak": step_peak_bytes(config, True),
            "plain_t": plain_t, "ckpt_t": ckpt_t, "plain_cpu": plain_cpu, "ckpt_cpu": ckpt_cpu}


def _mib(n: int) -> str:
    return f"{n / 2 ** 20:.2f} MiB"


def report(results: list[dict[str, Any]], rounds: int) -> str:
    lines = ["# Activation checkpointing: memory and time", "",
             (f"{BLOCKS} blocks, one `checkpoint(block, x, use_reentrant=False)` per block, "
             "against the same model without checkpointing (same weights, same batch), one "
             "AdamW step at a time. Written by `python -m benchmarks.checkpointing` on "
             f"{platform.machine()} ({os.cpu_count()} CPUs), OPENBLAS_NUM_THREADS="
             f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, {rounds} interleaved timed "
             "steps per variant."), "",
             ("| workload | saved activations plain | checkpointed | saving | step peak plain "
             "| checkpointed | step time plain | checkpointed | ratio | CPU time ratio "
             "| grads agree |"),
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        saving = r["plain_act"] / max(r["ckpt_act"], 1)
        ratio = r["ckpt_t"] / r["plain_t"]
        cpu_ratio = r["ckpt_cpu"] / r["plain_cpu"]
        lines.append(
            f"| {r['name']} | {_mib(r['plain_act'])} | {_mib(r['ckpt_act'])} | "
            f"{saving:.1f}x {'(met)' if saving >= TARGET_MEMORY else '(missed)'} | "
            f"{_mib(r['plain_peak'])} | {_mib(r['ckpt_peak'])} | {r['plain_t'] * 1e3:.1f} ms | "
            f"{r['ckpt_t'] * 1e3:.1f} ms | {ratio:.2f}x "
            f"{'(met)' if ratio <= TARGET_TIME else '(missed)'} | {cpu_ratio:.2f}x "
            f"{'(met)' if cpu_ratio <= TARGET_TIME else '(missed)'} | "
            f"{r['agreement']:.1e} |")
    lines += ["", ("Saved activations: the memory ledger (`memory_report(loss).activation_bytes`) "
              "right after the forward, bytes held only for backward (parameters, which the "
              "checkpoint nodes also reference, are leaf bytes and not counted). Step peak: "
              "`tracemalloc`'s peak during one step above the step's start (activations, the "
              "one block recomputed at a time, the parameters' gradients, temporaries). "
              "Step time: the median wall-clock time of one step (AdamW's update included); "
              "CPU time ratio: the same from the process's CPU time, steadier when other "
              "processes share the cores. Grads agree: the "
              "largest difference between the plain and checkpointed first gradients, "
              "relative to each parameter's largest gradient (dropout included: checkpoint "
              "replays the random stream). Target (issue 3): at least "
              f"{TARGET_MEMORY:g}x less saved activation memory for at most {TARGET_TIME:g}x the "
              "step time."), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed steps per variant")
    parser.add_argument("--small", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--out", default=None, help="write the Markdown report there")
    args = parser.parse_args(argv)
    results = [measure(config, args.rounds) for config in (SMALL if args.small else FULL)]
    text = report(results, args.rounds)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
