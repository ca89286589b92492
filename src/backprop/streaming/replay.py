"""``ReplayBuffer``: a fixed-capacity memory of past samples, kept by reservoir sampling.

Reservoir sampling (Vitter's algorithm R): the first ``capacity`` items are kept; the ``n``-th
item after that (counting from 1) replaces a uniformly chosen kept item with probability
``capacity / n``. After any number of items every one of them is in the buffer with the same
probability ``capacity / seen``, whatever order they came in, so the buffer is a uniform sample
of the whole stream so far: old phases stay represented after the stream has moved on.

``class_balanced=True`` keeps one reservoir per class instead, the capacity shared equally
among the classes seen so far (a new class shrinks the others by dropping random items, which
keeps each a uniform sample of its class), so a rare or short-lived class is not crowded out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ReplayBuffer"]


class _Reservoir:
    """One reservoir: arrays of at most ``capacity`` items and the count of items offered."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.x: list[np.ndarray] = []
        self.y: list[Any] = []
        self.seen = 0

    def offer(self, x: np.ndarray, y: Any, rng: np.random.Generator) -> None:
        self.seen += 1
        if len(self.x) < self.capacity:
            self.x.append(x)
            self.y.append(y)
            return
        slot = int(rng.integers(0, self.seen))  # keep with probability capacity / seen
        if slot < self.capacity:
            self.x[slot], self.y[slot] = x, y

    def shrink(self, capacity: int, rng: np.random.Generator) -> None:
        self.capacity = capacity
        if len(self.x) > capacity:  # a uniform subset of a uniform sample stays uniform
            keep = np.sort(rng.choice(len(self.x), capacity, replace=False))
            self.x = [self.x[i] for i in keep]
            self.y = [self.y[i] for i in keep]


class ReplayBuffer:
    """A reservoir of at most ``capacity`` (x, y) samples to mix into later training batches.

    ``add(x, y)`` offers a batch (arrays or Tensors, first dimension the batch); ``sample(n)``
    returns ``n`` stored samples drawn without replacement (all of them when fewer are stored)
    as NumPy arrays. Seeded: the same calls give the same contents.

    >>> buffer = ReplayBuffer(capacity=4, seed=0)
    >>> buffer.add(np.arange(10.0)[:, None], np.arange(10))
    >>> len(buffer), buffer.seen
    (4, 10)
    >>> x, y = buffer.sample(2)
    >>> x.shape, y.shape, bool(np.all(x[:, 0] == y))
    ((2, 1), (2,), True)
    """

    def __init__(self, capacity: int, class_balanced: bool = False, seed: int = 0) -> None:
        if not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"ReplayBuffer: capacity must be a positive integer; got "
                             f"{capacity!r}")
        self.capacity = capacity
        self.class_balanced = class_balanced
        self._rng = np.random.default_rng(seed)
        self._reservoirs: dict[Any, _Reservoir] = {}
        self.seen = 0  # items offered so far

    def __len__(self) -> int:
        return sum(len(r.x) for r in self._reservoirs.values())

    def class_counts(self) -> dict[Any, int]:
        """How many stored samples each label has.

        >>> buffer = ReplayBuffer(6, class_balanced=True)
        >>> buffer.add(np.zeros((20, 1)), np.array([0] * 17 + [1] * 3))
        >>> buffer.class_counts()
        {0: 3, 1: 3}
        """
        counts: dict[Any, int] = {}
        for x_label in (r.y for r in self._reservoirs.values()):
            for label in x_label:
                key = label.item() if isinstance(label, np.generic) else label
                counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items()))

    def add(self, x: Any, y: Any) -> None:
        """Offer a batch of samples: ``x`` shaped ``(B, ...)`` and ``y`` shaped ``(B, ...)``."""
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
            raise ValueError(f"ReplayBuffer.add: x and y must be batches of the same length; "
                             f"got shapes {x.shape} and {y.shape}")
        for item, target in zip(x, y):
            self.seen += 1
            key = target.item() if self.class_balanced else None
            if key not in self._reservoirs:
                self._reservoirs[key] = _Reservoir(self.capacity)
                if self.class_balanced:
                    self._rebalance()
            self._reservoirs[key].offer(item, target, self._rng)

    def _rebalance(self) -> None:
        share, extra = divmod(self.capacity, len(self._reservoirs))
        for i, reservoir in enumerate(self._reservoirs.values()):
            reservoir.shrink(share + (i < extra), self._rng)

    def sample(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``min(n, len(self))`` stored samples, drawn uniformly without replacement."""
        if len(self) == 0:
            raise ValueError("ReplayBuffer.sample: the buffer is empty; add samples first")
        xs = [x for r in self._reservoirs.values() for x in r.x]
        ys = [y for r in self._reservoirs.values() for y in r.y]
        pick = self._rng.choice(len(xs), min(n, len(xs)), replace=False)
        return np.stack([xs[i] for i in pick]), np.stack([ys[i] for i in pick])
