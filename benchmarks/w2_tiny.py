"""W2: tiny MLP 2-16-16-1, tanh, MSE, batch 32, plain SGD (lr 0.05): per-op overhead."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .common import Lib, Problem, linear_params, make_library_step

NAME = "W2"
TITLE = "W2 tiny MLP 2-16-16-1 b32"
LR = 0.05
SIZES = [2, 16, 16, 1]


def make_problem(seed: int = 0, batch: int = 32, n_batches: int = 4) -> Problem:
    rng = np.random.default_rng(seed)
    params: dict[str, np.ndarray] = {}
    for i in range(len(SIZES) - 1):
        linear_params(rng, f"{2 * i}.", SIZES[i], SIZES[i + 1], params)
    batches = []
    for _ in range(n_batches):
        x = rng.uniform(-1, 1, size=(batch, 2)).astype(np.float32)
        y = (np.sin(3 * x[:, :1]) * np.cos(2 * x[:, 1:])).astype(np.float32)
        batches.append((x, y))
    return Problem(NAME, params, batches, {"batch": batch, "sizes": SIZES})


def build(lib: Lib, problem: Problem) -> Callable[[], Any]:
    nn = lib.nn
    with lib.float32():
        model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                              nn.Linear(16, 1))
    lib.load(model, problem.params)
    optimizer = lib.optim.SGD(model.parameters(), lr=LR)
    return make_library_step(lib, model, optimizer, lib.F.mse_loss, problem,
                             lambda lib, b: (lib.tensor(b[0]), lib.tensor(b[1])))
