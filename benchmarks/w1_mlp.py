"""W1: MLP 784-256-256-10, ReLU, softmax cross-entropy, batch 128, SGD (lr 0.01, momentum 0.9).

``hidden`` (the number of hidden layers of 256) and ``batch`` are knobs for the scaling study."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .common import Lib, Problem, linear_params, make_library_step

NAME = "W1"
TITLE = "W1 MLP 784-256-256-10 b128"
LR, MOMENTUM = 0.01, 0.9


def sizes(hidden: int = 2, width: int = 256) -> list[int]:
    return [784] + [width] * hidden + [10]


def make_problem(seed: int = 0, batch: int = 128, hidden: int = 2, n_batches: int = 4) -> Problem:
    rng = np.random.default_rng(seed)
    dims = sizes(hidden)
    params: dict[str, np.ndarray] = {}
    for i in range(len(dims) - 1):
        linear_params(rng, f"{2 * i}.", dims[i], dims[i + 1], params)  # Sequential indices
    batches = [(rng.standard_normal((batch, 784)).astype(np.float32),
                rng.integers(0, 10, size=batch).astype(np.int64)) for _ in range(n_batches)]
    return Problem(NAME, params, batches, {"batch": batch, "hidden": hidden, "sizes": dims})


def flops_per_step(problem: Problem) -> float:
    """Matrix-multiply FLOPs of one step: forward x@W.T, backward dW and dX (no dX for layer 1)."""
    dims, batch = problem.config["sizes"], problem.config["batch"]
    total = 0.0
    for i in range(len(dims) - 1):
        mm = 2.0 * batch * dims[i] * dims[i + 1]
        total += mm * (2 if i == 0 else 3)
    return total


def build(lib: Lib, problem: Problem) -> Callable[[], Any]:
    dims = problem.config["sizes"]
    layers: list[Any] = []
    with lib.float32():
        for i in range(len(dims) - 1):
            layers.append(lib.nn.Linear(dims[i], dims[i + 1]))
            if i < len(dims) - 2:
                layers.append(lib.nn.ReLU())
        model = lib.nn.Sequential(*layers)
    lib.load(model, problem.params)
    optimizer = lib.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    return make_library_step(lib, model, optimizer, lib.F.cross_entropy, problem,
                             lambda lib, b: (lib.tensor(b[0]), lib.tensor(b[1])))
