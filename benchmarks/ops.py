"""Per-op speed against PyTorch: ``python -m benchmarks.ops [--quick] [--only NAME ...]``.

Every public ``bp`` function that PyTorch also has under the same name (top level, or in
``linalg``, ``special`` and ``fft``) and that takes one or two float tensors with no other
argument is timed on a (100, 1000) float32 input drawn uniformly from (0.1, 0.9), a domain where
every such op is defined (log, sqrt, asin, logit, erfinv ...), or, for ops that need square
matrices (``linalg.inv``, ``linalg.cholesky``), on a symmetric positive definite (316, 316) one:
the forward alone, and forward plus backward of ``out.sum()`` where the result is
differentiable. PyTorch runs on one thread (``torch.set_num_threads(1)``) and NumPy's BLAS on
one (``OPENBLAS_NUM_THREADS=1``, set before NumPy loads); each figure is the median of rounds,
backprop's and PyTorch's interleaved, timed by the calling thread's CPU clock
(``time.thread_time``: on a shared machine the wall clock also counts other processes' turns). Ops that need more arguments (``topk``'s k, an index tensor, a kernel) are
timed by the recipes of ``benchmarks/op_recipes.py`` (their "inputs" column says "recipe" and the
shape column what they ran on), which also time common ops the plain inputs call in a degenerate
way (``softmax`` over every element, ``conv2d`` of a matrix ...) under names with a ``:variant``,
and ``nn.functional`` layers and losses; ops with neither are listed as left out, with the reason.
The table is sorted slowest first against PyTorch; a full run also writes it to
``benchmarks/ops_results.md``. No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from benchmarks.op_recipes import LEFT_OUT, RECIPES, Recipe  # noqa: E402

SHAPE = (100, 1000)
SQUARE = 316  # about as many elements as SHAPE


@dataclass
class Timing:
    name: str
    arity: int  # 0 for an op timed by its recipe
    input: str  # which input it ran on
    forward: tuple[float, float]  # (backprop, torch) seconds
    backward: tuple[float, float] | None

    @property
    def ratio(self) -> float:
        return self.forward[0] / self.forward[1]


def _calls_in(call: Callable[[], Any], seconds: float) -> int:
    call()
    start = _clock()
    call()
    return max(1, int(seconds / max(_clock() - start, 1e-7)))


def _median_pair(ours: Callable[[], Any], theirs: Callable[[], Any] | None, rounds: int,
                 seconds: float) -> tuple[float, float]:
    """Median over ``rounds`` of the mean time of as many calls as fill ``seconds``, for each
    call, their rounds interleaved (so a change in the machine's load reaches both alike)."""
    calls = [c for c in (ours, theirs) if c is not None]
    numbers = [_calls_in(c, seconds) for c in calls]
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(rounds):
        for call, number, times in zip(calls, numbers, samples):
            start = _clock()
            for _ in range(number):
                call()
            times.append((_clock() - start) / number)
    medians = [statistics.median(times) for times in samples]
    return medians[0], medians[-1]


# CPU time of the calling thread, where every op here runs (one thread each): on a shared,
# loaded machine the wall clock also counts the time other processes held the core.
_clock = time.thread_time


def _resolve(lib: Any, name: str) -> Any:
    """``lib.linalg.inv`` for ``"linalg.inv"``; None where there is no such attribute."""
    for part in name.split("."):
        lib = getattr(lib, part, None)
    return lib


def _call(lib: Any, name: str, inputs: list[Any]) -> Any:
    return _resolve(lib, name)(*inputs)


def _first_tensor(result: Any) -> Any:
    """The result, or the first of a tuple of results (``linalg.slogdet``)."""
    return result[0] if isinstance(result, tuple) and result else result


def _arity(bp: Any, torch: Any, name: str, arrays: list[np.ndarray]) -> int | None:
    """How many float tensors the op takes here (1 or 2) in both libraries, or None."""
    for arity in (1, 2):
        try:
            ours = _first_tensor(_call(bp, name, [bp.tensor(a) for a in arrays[:arity]]))
            theirs = _first_tensor(_call(torch, name, [torch.tensor(a) for a in arrays[:arity]]))
        except Exception:  # noqa: BLE001 - any refusal means "not this arity"
            continue
        if isinstance(ours, bp.Tensor) and isinstance(theirs, torch.Tensor):
            return arity
    return None


# PyTorch's namespaces beside the top level whose functions are timed too.
NAMESPACES = ("linalg", "special", "fft")


def candidates(bp: Any, torch: Any) -> list[str]:
    """Public backprop functions that PyTorch has under the same name."""
    names = [name for name in dir(bp) if not name.startswith("_") and name[0].islower()
             and not name.endswith("_")]
    names += [f"{space}.{name}" for space in NAMESPACES for name in getattr(bp, space).__all__]
    return sorted(name for name in names if callable(_resolve(bp, name))
                  and callable(_resolve(torch, name))
                  and not isinstance(_resolve(bp, name), type))


def _inputs(rng: np.random.Generator) -> dict[str, list[np.ndarray]]:
    """The inputs tried in turn: uniform (100, 1000), then symmetric positive definite."""
    uniform = [rng.uniform(0.1, 0.9, SHAPE).astype(np.float32) for _ in range(2)]
    square = []
    for _ in range(2):
        m = rng.standard_normal((SQUARE, SQUARE))
        square.append((m @ m.T / SQUARE + np.eye(SQUARE)).astype(np.float32))
    return {f"{SHAPE[0]}x{SHAPE[1]}": uniform, f"{SQUARE}x{SQUARE} SPD": square}


def measure(names: list[str] | None = None, rounds: int = 5,
            seconds: float = 0.05) -> tuple[list[Timing], list[str]]:
    """(timings, names left out) for ``names`` (default: every candidate)."""
    import torch

    import backprop as bp
    torch.set_num_threads(1)
    inputs = _inputs(np.random.default_rng(0))
    timings, left_out = [], []
    if names is None:
        plain = candidates(bp, torch)
        names = plain + sorted(set(RECIPES) - set(plain))
    for name in names:
        if name in RECIPES:
            uniform = inputs[f"{SHAPE[0]}x{SHAPE[1]}"]
            timings.append(_measure_recipe(bp, torch, name, RECIPES[name], uniform, rounds,
                                           seconds))
            continue
        arity, label = next(((a, label) for label, arrays in inputs.items()
                             if (a := _arity(bp, torch, name, arrays)) is not None), (None, ""))
        if arity is None:
            left_out.append(name)
            continue
        arrays = inputs[label][:arity]
        ours_in, theirs_in = [bp.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]
        forward = _median_pair(lambda: _call(bp, name, ours_in),
                               lambda: _call(torch, name, theirs_in), rounds, seconds)
        timings.append(Timing(name, arity, label, forward,
                              _backward(bp, torch, name, arrays, rounds, seconds)))
    return timings, left_out


def _measure_recipe(bp: Any, torch: Any, name: str, recipe: Recipe, arrays: list[np.ndarray],
                    rounds: int, seconds: float) -> Timing:
    """The forward, and forward plus backward where the recipe allows it, of one recipe op."""
    def call(lib: Any, grad: bool) -> Callable[[], Any]:
        return recipe.build(lib, *(lib.tensor(a, requires_grad=grad) for a in arrays))

    ours, theirs = call(bp, False), call(torch, False)
    forward = _median_pair(ours, theirs, rounds, seconds)
    return Timing(name, 0, recipe.shape, forward,
                  _recipe_backward(bp, torch, recipe, call, rounds, seconds))


def _recipe_backward(bp: Any, torch: Any, recipe: Recipe, call: Callable[[Any, bool], Any],
                     rounds: int, seconds: float) -> tuple[float, float] | None:
    if not recipe.backward:
        return None

    def step(lib: Any) -> Callable[[], Any] | None:
        op = call(lib, True)
        out = _first_tensor(op())
        if not getattr(out, "requires_grad", False) or out.dtype != lib.float32:
            return None
        out.sum().backward()
        return lambda: _first_tensor(op()).sum().backward()

    ours, theirs = step(bp), step(torch)
    if ours is None or theirs is None:
        return None
    return _median_pair(ours, theirs, rounds, seconds)


def _backward(bp: Any, torch: Any, name: str, arrays: list[np.ndarray], rounds: int,
              seconds: float) -> tuple[float, float] | None:
    def step(lib: Any) -> Callable[[], Any] | None:
        inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
        try:
            out = _first_tensor(_call(lib, name, inputs))
            if not out.requires_grad or out.dtype != lib.float32:  # complex: no .sum() loss
                return None
            out.sum().backward()
        except Exception:  # noqa: BLE001 - not differentiable here: forward only
            return None
        return lambda: _first_tensor(_call(lib, name, inputs)).sum().backward()

    ours, theirs = step(bp), step(torch)
    if ours is None or theirs is None:
        return None
    try:  # PyTorch refuses to accumulate into the zero gradient of a step function twice
        return _median_pair(ours, theirs, rounds, seconds)
    except RuntimeError:
        return None


def report(timings: list[Timing], left_out: list[str]) -> str:
    lines = ["## Ops against PyTorch (one thread each, float32, median of rounds)", "",
             "| op | inputs | shape | backprop us | PyTorch us | ratio | with backward: "
             "backprop us | PyTorch us | ratio |", "|---|---|---|---|---|---|---|---|---|"]
    for t in sorted(timings, key=lambda t: -t.ratio):
        row = (f"| {t.name} | {t.arity or 'recipe'} | {t.input} | {t.forward[0] * 1e6:.1f} | "
               f"{t.forward[1] * 1e6:.1f} | {t.ratio:.2f}x |")
        if t.backward is None:
            row += " - | - | - |"
        else:
            b = t.backward
            row += f" {b[0] * 1e6:.1f} | {b[1] * 1e6:.1f} | {b[0] / b[1]:.2f}x |"
        lines.append(row)
    slow = [t.name for t in timings if t.ratio > 3]
    lines += ["", f"{len(timings)} ops timed; {len(slow)} over 3x PyTorch's forward time"
              + (f": {', '.join(slow)}" if slow else "") + ".",
              _left_out_line(left_out)]
    return "\n".join(lines)


def _left_out_line(left_out: list[str]) -> str:
    """The ops not timed, grouped by the reason given in ``op_recipes.LEFT_OUT``."""
    reasons = {name: reason for reason, names in LEFT_OUT.items() for name in names.split()}
    groups: dict[str, list[str]] = {}
    for name in left_out:
        groups.setdefault(reasons.get(name, "no recipe yet"), []).append(name)
    if not groups:
        return "Left out: none."
    return "Left out: " + "; ".join(f"{reason}: {', '.join(names)}"
                                    for reason, names in groups.items()) + "."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ops", description=__doc__
                                     .splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short round per op")
    parser.add_argument("--only", nargs="+", help="time only these ops")
    parser.add_argument("--out", help="also write the table here (default: "
                        "benchmarks/ops_results.md for a full run of every op, nothing else)")
    args = parser.parse_args(argv)
    rounds, seconds = (1, 0.005) if args.quick else (5, 0.05)
    try:
        import torch
    except ImportError:
        print("benchmarks.ops: PyTorch is not installed, so there is nothing to compare with")
        return 0
    table = report(*measure(args.only, rounds, seconds))
    print(table)
    out = args.out or (None if args.quick or args.only else DEFAULT_OUT)
    if out:
        measured = (f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
                    f"{platform.machine()} ({os.cpu_count()} cores), NumPy {np.__version__}, "
                    f"PyTorch {torch.__version__}; produced by `python -m benchmarks.ops`.")
        Path(out).write_text(f"# Per-op speed against PyTorch\n\n{measured}\n\n{table}\n")
        print(f"written to {out}")
    return 0


DEFAULT_OUT = Path(__file__).resolve().parent / "ops_results.md"


if __name__ == "__main__":
    sys.exit(main())
