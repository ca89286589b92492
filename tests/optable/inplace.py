"""Op-table rows for in-place ops, applied to a clone so the graph records them."""

from __future__ import annotations

import numpy as np


from .spec import OpSpec, Sample, uniform


def _fill_samples(rng):
    return [Sample((uniform(rng, (2, 3)), uniform(rng, ())), name="tensor-value")]


def _copy_samples(rng):
    return [Sample((uniform(rng, (2, 3)), uniform(rng, (3,))), name="broadcast-src")]


ROWS = [
    OpSpec("fill_", lambda x, v: x.clone().fill_(v), lambda x, v: np.full(x.shape, v),
           _fill_samples, torch=lambda torch, x, v: x.clone().fill_(v), aliases=("fill",)),
    OpSpec("copy_", lambda x, s: x.clone().copy_(s), lambda x, s: np.broadcast_to(s, x.shape),
           _copy_samples, torch=lambda torch, x, s: x.clone().copy_(s), aliases=("copy",)),
    OpSpec("add_", lambda x, y: (x * 1).add_(y, alpha=2), lambda x, y: x + 2 * y,
           lambda rng: [Sample((uniform(rng, (2, 3)), uniform(rng, (3,))))],
           torch=lambda torch, x, y: (x * 1).add_(y, alpha=2)),
    OpSpec("mul_", lambda x, y: (x * 1).mul_(y), lambda x, y: x * y,
           lambda rng: [Sample((uniform(rng, (2, 3)), uniform(rng, (3,))))],
           torch=lambda torch, x, y: (x * 1).mul_(y)),
]
