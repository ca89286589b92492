"""Search the digits MLP's hyper-parameters with Optuna (the seeds' AutoML), then print the best.

Usage: python examples/tune_digits.py [--trials 20] [--epochs 10] [--out runs/tune-example]

The same search as `backprop tune`: learning rate, width, depth, weight decay and optimizer,
bad trials pruned from their validation accuracy, the study kept in SQLite (run it again to add
trials to the same study), and the best settings trained once more on the whole training split.
Needs `pip install 'backprop[tune]'`.
"""

from __future__ import annotations

import argparse
from typing import Sequence

from backprop.train.tune import TuneResult, tune


def main(argv: Sequence[str] | None = None) -> TuneResult:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--subset", type=int, default=None,
                        help="training images used by each trial (default: all)")
    parser.add_argument("--out", default="runs/tune-example")
    args = parser.parse_args(argv)
    result = tune(trials=args.trials, epochs=args.epochs, subset=args.subset, out=args.out,
                  progress=False, log=lambda line: None)
    states = [trial.state.name for trial in result.study.trials]
    print(f"{len(states)} trials in the study: {states.count('COMPLETE')} complete, "
          f"{states.count('PRUNED')} pruned")
    print(f"best settings {result.best_params}: validation accuracy "
          f"{result.best_val_accuracy:.4f}, test accuracy {result.test_accuracy:.4f}")
    print(f"checkpoint {result.checkpoint}")
    return result


if __name__ == "__main__":
    main()
