"""``backprop compare-methods``: backprop and its alternatives side by side on one network.

Usage: backprop compare-methods [--quick] [--methods backprop,evolution,...]
                                [--tasks digits,regression] [--evaluations 20000]
                                [--seconds 10] [--population 100] [--hidden 32] [--seed 0]
                                [--out DIR]

Trains the same MLP on the embedded digits and on a small regression task with backprop,
feedback alignment, evolution strategies, SPSA and forward-forward, under a budget of forward
passes and under a budget of wall time (see ``backprop.alternatives.compare``). Writes into
OUT (a new ``runs/compare-methods/<date>-<time>`` unless ``--out`` names one):
``figures.json`` (every number, curves included), ``table.md`` (the Markdown table it also
prints), ``budget-evaluations.png``, ``budget-seconds.png`` and ``gradient-quality.png`` (the
pictures need matplotlib; without it the command says so and writes the rest).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..console import say

__all__ = ["register", "run"]


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``compare-methods`` sub-command to the ``backprop`` command's sub-parsers.

    >>> parser = argparse.ArgumentParser(); register(parser.add_subparsers())
    >>> parser.parse_args(["compare-methods", "--quick"]).quick
    True
    """
    parser = commands.add_parser("compare-methods", help="train one network with backprop and "
                                 "with alternatives to it (evolution strategies, SPSA, "
                                 "forward-forward, feedback alignment) under equal budgets")
    parser.add_argument("--quick", action="store_true",
                        help="a few seconds' run with small budgets (a first look, and tests)")
    parser.add_argument("--methods", metavar="A,B", help="comma-separated, of: backprop, "
                        "feedback-alignment, evolution, spsa, forward-forward (default: all)")
    parser.add_argument("--tasks", metavar="A,B", help="digits, regression (default: both)")
    parser.add_argument("--evaluations", type=int, metavar="N",
                        help="budget of forward passes per method and task (default: 20000)")
    parser.add_argument("--seconds", type=float, metavar="S",
                        help="budget of wall time per method and task (default: 10)")
    parser.add_argument("--population", type=int, metavar="N",
                        help="evolution strategies: evaluations per step (default: 100)")
    parser.add_argument("--hidden", type=int, metavar="N", help="hidden width (default: 32)")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="(default: %(default)s)")
    parser.add_argument("--out", metavar="DIR",
                        help="folder for the figures (default: a new runs/compare-methods/...)")
    parser.set_defaults(run=run)  # the `backprop` command calls args.run(args)


def run(args: argparse.Namespace) -> None:
    """Run the comparison ``args`` describe; write and print its figures."""
    from ..atomic import atomic_write_text
    from ..train.run_folder import prepare
    from .compare import CompareConfig, compare, markdown_table
    from .compare_plots import save_budget_picture, save_quality_picture

    config = CompareConfig.quick() if args.quick else CompareConfig()
    for name in ("evaluations", "seconds", "population", "hidden", "seed"):
        if getattr(args, name) is not None:
            setattr(config, name, getattr(args, name))
    for name in ("methods", "tasks"):
        if getattr(args, name) is not None:
            setattr(config, name, tuple(part.strip() for part in getattr(args, name).split(",")
                                        if part.strip()))
    config.validate()
    folder = prepare(args.out, "compare-methods")
    result = compare(config, log=say)
    path = folder.create(log=say)
    atomic_write_text(path / "figures.json", json.dumps(_plain(result), indent=1))
    table = markdown_table(result)
    atomic_write_text(path / "table.md", table + "\n")
    pictures = [save_budget_picture(result, budget, path / f"budget-{budget}.png")
                for budget in ("evaluations", "seconds")]
    pictures.append(save_quality_picture(result, path / "gradient-quality.png"))
    folder.mark_latest()
    say(table)
    if all(p is None for p in pictures):
        say("no pictures: matplotlib is not installed (pip install 'backprop[plot]'); "
            "figures.json and table.md hold every number")
    say(f"figures {path / 'figures.json'}")


def _plain(value: Any) -> Any:
    """``value`` with tuples as lists and NumPy scalars as Python numbers, for JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (int, float, str)):
        return value.item()
    return value
