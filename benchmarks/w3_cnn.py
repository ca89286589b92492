"""W3: CNN on 1x28x28: conv 5x5 1->8, ReLU, max-pool 2, conv 5x5 8->16, ReLU, max-pool 2,
flatten, linear 256->10; softmax cross-entropy; batch 64; Adam (lr 1e-3).

``width`` multiplies the channels of both convolutions and so the linear layer's inputs
(width 2: 1->16->32 channels, linear 512->10); ``batch`` and ``width`` are the cost curves'
knobs (``benchmarks/cost_curves.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .common import Lib, Problem, linear_params, make_library_step, uniform

NAME = "W3"
TITLE = "W3 CNN (LeNet-like) b64"
LR = 1e-3


def channels(width: int = 1) -> tuple[int, int]:
    """The two convolutions' output channels at channel width multiplier ``width``."""
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"w3_cnn: width must be an int of at least 1, got {width!r}")
    return 8 * width, 16 * width


def make_problem(seed: int = 0, batch: int = 64, n_batches: int = 4, width: int = 1) -> Problem:
    rng = np.random.default_rng(seed)
    c1, c2 = channels(width)
    params: dict[str, np.ndarray] = {}
    for prefix, c_in, c_out in (("0.", 1, c1), ("3.", c1, c2)):
        bound = 1.0 / np.sqrt(c_in * 25)
        params[prefix + "weight"] = uniform(rng, (c_out, c_in, 5, 5), bound)
        params[prefix + "bias"] = uniform(rng, (c_out,), bound)
    linear_params(rng, "7.", c2 * 16, 10, params)
    batches = [(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32),
                rng.integers(0, 10, size=batch).astype(np.int64)) for _ in range(n_batches)]
    return Problem(NAME, params, batches, {"batch": batch, "width": width})


def build(lib: Lib, problem: Problem) -> Callable[[], Any]:
    nn = lib.nn
    c1, c2 = channels(problem.config.get("width", 1))
    with lib.float32():
        model = nn.Sequential(nn.Conv2d(1, c1, 5), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(c1, c2, 5), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(c2 * 16, 10))
    lib.load(model, problem.params)
    optimizer = lib.optim.Adam(model.parameters(), lr=LR)
    return make_library_step(lib, model, optimizer, lib.F.cross_entropy, problem,
                             lambda lib, b: (lib.tensor(b[0]), lib.tensor(b[1])))
