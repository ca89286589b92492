"""Usage: python -m benchmarks.autocast [--steps 10] [--warmup 2] [--out FILE]

What autocast buys or costs on the CPU: W4's training step (the character Transformer of
``benchmarks/w4_transformer.py``: forward, cross-entropy, backward, AdamW) in float32 and with
its forward and loss under ``autocast("cpu", dtype=bfloat16)``, for backprop and for PyTorch
side by side. The four variants run interleaved (one step of each in turn, so drifts in the
machine's load hit all alike) after ``--warmup`` steps each; figures are medians of
``--steps`` steps, ratios are medians over medians. The last loss of each variant is shown too:
autocast's must stay near float32's.

Not part of any timed test: run it by hand on a quiet machine (``OPENBLAS_NUM_THREADS=1``).
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

from . import w4_transformer as w4
from .common import Lib, make_library_step, to_float

OUT = "benchmarks/autocast_results.md"


def build_step(lib: Lib, problem: Any, autocast: bool) -> Callable[[], Any]:
    """W4's step for ``lib``; with ``autocast``, its forward and loss run under
    ``autocast("cpu", dtype=bfloat16)`` (backward and the optimizer outside, as PyTorch
    advises)."""
    c = problem.config
    with lib.float32():
        model = w4._model(lib, c["ctx"], c["d_model"], c["heads"], c["layers"])
    lib.load(model, problem.params)
    optimizer = lib.optim.AdamW(model.parameters(), lr=w4.LR, weight_decay=w4.WEIGHT_DECAY)

    def loss_fn(logits: Any, targets: Any) -> Any:
        return lib.F.cross_entropy(logits.reshape(-1, w4.VOCAB), targets.reshape(-1))

    def forward(x: Any) -> Any:
        if not autocast:
            return model(x)
        with lib.mod.autocast("cpu", dtype=lib.mod.bfloat16):
            return model(x)

    def cast_loss(logits: Any, targets: Any) -> Any:
        if not autocast:
            return loss_fn(logits, targets)
        with lib.mod.autocast("cpu", dtype=lib.mod.bfloat16):
            return loss_fn(logits, targets)

    class Model:
        def __call__(self, x: Any) -> Any:
            return forward(x)

    return make_library_step(lib, Model(), optimizer, cast_loss, problem,
                             lambda lib, b: (lib.tensor(b[0]), lib.tensor(b[1])))


def measure(steps: int, warmup: int) -> dict[str, dict[str, float]]:
    """Median step seconds and last loss of each (library, precision) variant."""
    problem = w4.make_problem()
    variants = {(name, mode): build_step(Lib(name), problem, mode == "autocast bf16")
                for name in ("backprop", "torch") for mode in ("float32", "autocast bf16")}
    times: dict[tuple[str, str], list[float]] = {key: [] for key in variants}
    losses: dict[tuple[str, str], float] = {}
    for _ in range(warmup):
        for step in variants.values():
            step()
    for _ in range(steps):
        for key, step in variants.items():
            start = time.perf_counter()
            loss = step()
            times[key].append(time.perf_counter() - start)
            losses[key] = to_float(loss)
    return {f"{name}|{mode}": {"median_s": statistics.median(times[(name, mode)]),
                               "loss": losses[(name, mode)]}
            for name, mode in variants}


def report(results: dict[str, dict[str, float]], steps: int, warmup: int) -> str:
    def ms(key: str) -> float:
        return 1000 * results[key]["median_s"]

    lines = [
        "# autocast on the CPU: W4 training step, float32 vs autocast(bfloat16)",
        "",
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{platform.processor() or platform.machine()}, `OPENBLAS_NUM_THREADS=1`, PyTorch with "
        f"2 threads (benchmarks/common.py); median of {steps} interleaved steps after "
        f"{warmup} warm-up steps each. Command: `python -m benchmarks.autocast`.",
        "",
        ("| library | float32 ms | autocast bf16 ms | autocast / float32 | last loss f32 | "
         "last loss bf16 |"),
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in ("backprop", "torch"):
        f32, bf16 = f"{name}|float32", f"{name}|autocast bf16"
        lines.append(f"| {name} | {ms(f32):.1f} | {ms(bf16):.1f} | {ms(bf16) / ms(f32):.2f} | "
                     f"{results[f32]['loss']:.4f} | {results[bf16]['loss']:.4f} |")
    lines += [
        "",
        f"backprop / PyTorch: float32 {ms('backprop|float32') / ms('torch|float32'):.2f}, "
        f"autocast {ms('backprop|autocast bf16') / ms('torch|autocast bf16'):.2f}.",
        "",
        "Why: backprop has no bfloat16 kernels (NumPy has none): a lower-precision op casts "
        "its operands to bfloat16 (ml_dtypes), computes in float32 and rounds the result, so "
        "autocast adds casts and costs time on the CPU; it is there for PyTorch's numbers and "
        "for memory, not speed. GPU: no device was lent to the session that wrote this file.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args(argv)
    results = measure(args.steps, args.warmup)
    text = report(results, args.steps, args.warmup)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
