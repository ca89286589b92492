"""Rows: dropout in eval mode, embeddings, distances."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from moduletable.spec import Case, Const, x


def indices(high: int, *shape: int) -> Callable[[np.random.Generator], Const]:
    return lambda rng: Const(rng.integers(0, high, shape))


CASES = [
    Case("Dropout-eval", lambda l: l.nn.Dropout(0.3), x(3, 4), train=False),
    Case("Dropout-p0", lambda l: l.nn.Dropout(0.0), x(3, 4)),
    Case("Dropout2d-eval", lambda l: l.nn.Dropout2d(0.5), x(2, 3, 2, 2), train=False),
    Case("Embedding", lambda l: l.nn.Embedding(10, 3),
         lambda r: [Const(r.integers(0, 10, (4, 5)))]),
    # The padding row gets no gradient by definition, so finite differences cannot agree.
    Case("Embedding-padding", lambda l: l.nn.Embedding(6, 2, padding_idx=-2),
         lambda r: [Const(np.array([[4, 1, 4], [0, 5, 4]]))], gradcheck=False),
    Case("Embedding-max-norm", lambda l: l.nn.Embedding(6, 3, max_norm=1.0),
         lambda r: [Const(np.array([1, 3, 1, 5]))]),
    Case("CosineSimilarity", lambda l: l.nn.CosineSimilarity(dim=1),
         lambda r: [r.standard_normal((3, 4)), r.standard_normal((3, 4))]),
    Case("PairwiseDistance", lambda l: l.nn.PairwiseDistance(p=3.0, keepdim=True),
         lambda r: [r.standard_normal((3, 4)), r.standard_normal((3, 4))]),
]
