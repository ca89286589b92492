"""Evolution strategies over the ranks of an mpiexec job: each rank evaluates its share of the
population, and after the all-reduce of the losses every rank holds the estimate one process
computes alone. Prints one "ok" line per rank.

Usage: mpiexec -n 2 python tests/mpi/evolution.py
"""

from __future__ import annotations

import numpy as np

import backprop as bp
import backprop.distributed as dist
from backprop.alternatives import EvolutionStrategies, evolution
from backprop.nn import functional as F


def gradient(model: bp.nn.Module, batch: tuple) -> np.ndarray:
    EvolutionStrategies(population=12, sigma=0.1, seed=5).estimate_(model, F.cross_entropy, batch)
    return np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])


def main() -> None:
    rank, world = dist.init()
    if world < 2:
        raise SystemExit("evolution.py: launch with mpiexec -n 2 (or more)")
    bp.manual_seed(0)  # the same model and batch on every rank
    model = bp.nn.Sequential(bp.nn.Linear(5, 4), bp.nn.ReLU(), bp.nn.Linear(4, 3))
    batch = (bp.randn(8, 5), bp.tensor([0, 1, 2, 0, 1, 2, 0, 1]))
    shared = gradient(model, batch)
    everyone = bp.tensor(np.stack([shared] * world))
    mine = bp.zeros(world, shared.size, dtype=everyone.dtype)
    mine[rank] = bp.tensor(shared)
    dist.all_reduce(mine)
    assert np.array_equal(mine.numpy(), everyone.numpy()), "ranks disagree on the estimate"
    original = evolution._rank_and_world
    evolution._rank_and_world = lambda: (0, 1)  # this rank alone evaluates the whole population
    alone = gradient(model, batch)
    evolution._rank_and_world = original
    np.testing.assert_allclose(shared, alone, rtol=1e-6, atol=1e-9)
    print(f"rank {rank}: ok", flush=True)


if __name__ == "__main__":
    main()
