"""Drifting data streams: seeded, deterministic iterables of ``StreamBatch`` (x, y, step, phase).

``DriftingDigits`` draws the embedded digits (``bp.datasets.Digits``) with a schedule of classes
that appear and disappear: phase ``k`` lasts ``steps_per_phase`` batches drawn (with
replacement) from the training images of ``schedule[k]`` only. ``RotatingRegression`` is a
linear regression whose target direction rotates: abruptly by a fixed angle at each phase, or
gradually a little every step. Both give the same batches every time they are iterated with the
same seed, so several learners can be compared on exactly the same stream.
"""

from __future__ import annotations

import math
from typing import Iterator, NamedTuple, Sequence

import numpy as np

from ..tensor import Tensor

__all__ = ["DEFAULT_SCHEDULE", "DriftingDigits", "RotatingRegression", "StreamBatch",
           "parse_schedule"]

# Digits 0-4, then 5-9 (0-4 disappear), then 0-4 again (5-9 disappear): a class switch that
# shows forgetting, then a recurring concept that shows whether the old knowledge survived.
DEFAULT_SCHEDULE: tuple[tuple[int, ...], ...] = ((0, 1, 2, 3, 4), (5, 6, 7, 8, 9), (0, 1, 2, 3, 4))


class StreamBatch(NamedTuple):
    """One batch of a stream: inputs, targets, the step (0, 1, ...) and the phase it is in."""

    x: Tensor
    y: Tensor
    step: int
    phase: int


def parse_schedule(text: str) -> tuple[tuple[int, ...], ...]:
    """A class schedule from its command-line form: phases separated by ``/``, classes by
    ``,``, with ``a-b`` for a range.

    >>> parse_schedule("0-4/5-9/0,2,4")
    ((0, 1, 2, 3, 4), (5, 6, 7, 8, 9), (0, 2, 4))
    """
    phases = []
    for part in text.split("/"):
        classes: list[int] = []
        for item in part.split(","):
            low, _, high = item.strip().partition("-")
            try:
                first, last = int(low), int(high or low)
            except ValueError:
                raise ValueError(f"parse_schedule: cannot read {item.strip()!r} in {text!r}; "
                                 "write phases as classes or ranges, e.g. '0-4/5-9/0-4'") from None
            if first > last:
                raise ValueError(f"parse_schedule: the range {item.strip()!r} in {text!r} runs "
                                 "backwards; write it low-high")
            classes.extend(range(first, last + 1))
        phases.append(tuple(sorted(set(classes))))
    return tuple(phases)


def _check_counts(owner: str, **counts: int) -> None:
    for name, value in counts.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{owner}: {name} must be a positive integer; got {value!r}")


class DriftingDigits:
    """The embedded digits as a stream whose classes change with a ``schedule``.

    Phase ``k`` covers steps ``k * steps_per_phase`` to ``(k + 1) * steps_per_phase - 1``; each
    step is a batch of ``batch_size`` training images (shape ``(B, 1, 8, 8)``, float32 in
    [0, 1]) drawn with replacement from the classes ``schedule[k]``. ``test_set(classes)``
    gives the held-out test images of some classes, to measure accuracy on the present or the
    past distribution.

    >>> stream = DriftingDigits([(0, 1), (2, 3)], steps_per_phase=2, batch_size=4)
    >>> [(b.step, b.phase, set(b.y.tolist()) <= set(stream.schedule[b.phase]))
    ...  for b in stream]
    [(0, 0, True), (1, 0, True), (2, 1, True), (3, 1, True)]
    >>> stream.phase_starts, stream.seen_classes(3)
    ([0, 2], (0, 1, 2, 3))
    """

    def __init__(self, schedule: Sequence[Sequence[int]] = DEFAULT_SCHEDULE,
                 steps_per_phase: int = 250, batch_size: int = 16, seed: int = 0) -> None:
        from ..datasets import Digits  # noqa: PLC0415 - reads the embedded file on first use

        _check_counts("DriftingDigits", steps_per_phase=steps_per_phase, batch_size=batch_size)
        self.schedule = tuple(tuple(sorted({int(c) for c in phase})) for phase in schedule)
        if not self.schedule or any(not phase for phase in self.schedule):
            raise ValueError(f"DriftingDigits: every phase of the schedule needs at least one "
                             f"class; got {list(map(list, self.schedule))}")
        bad = sorted({c for phase in self.schedule for c in phase if not 0 <= c <= 9})
        if bad:
            raise ValueError(f"DriftingDigits: the digits are classes 0..9; the schedule names "
                             f"{bad}")
        self.steps_per_phase = steps_per_phase
        self.batch_size = batch_size
        self.seed = seed
        self.num_classes = 10
        train, test = Digits(train=True), Digits(train=False)
        self._train_x, self._train_y = np.asarray(train.data), np.asarray(train.targets)
        self._test_x, self._test_y = np.asarray(test.data), np.asarray(test.targets)
        self._pools = {c: np.flatnonzero(self._train_y == c) for c in range(10)}

    def __len__(self) -> int:
        return len(self.schedule) * self.steps_per_phase

    @property
    def phase_starts(self) -> list[int]:
        """The first step of each phase."""
        return [k * self.steps_per_phase for k in range(len(self.schedule))]

    def phase_at(self, step: int) -> int:
        """The phase that ``step`` belongs to."""
        if not 0 <= step < len(self):
            raise IndexError(f"DriftingDigits.phase_at: step {step} is outside the stream's "
                             f"{len(self)} steps")
        return step // self.steps_per_phase

    def classes_at(self, step: int) -> tuple[int, ...]:
        """The classes present at ``step``."""
        return self.schedule[self.phase_at(step)]

    def seen_classes(self, step: int) -> tuple[int, ...]:
        """Every class that appeared at or before ``step``."""
        phases = self.schedule[:self.phase_at(step) + 1]
        return tuple(sorted({c for phase in phases for c in phase}))

    def test_set(self, classes: Sequence[int]) -> tuple[Tensor, Tensor]:
        """The held-out test images and labels of ``classes`` (about 35 a class)."""
        keep = np.isin(self._test_y, np.asarray(list(classes), dtype=np.int64))
        return Tensor._wrap(self._test_x[keep]), Tensor._wrap(self._test_y[keep])

    def __iter__(self) -> Iterator[StreamBatch]:
        rng = np.random.default_rng(self.seed)  # a fresh generator: every pass is the same
        for step in range(len(self)):
            phase = step // self.steps_per_phase
            pool = np.concatenate([self._pools[c] for c in self.schedule[phase]])
            index = pool[rng.integers(0, len(pool), self.batch_size)]
            yield StreamBatch(Tensor._wrap(self._train_x[index]),
                              Tensor._wrap(self._train_y[index]), step, phase)


class RotatingRegression:
    """A linear target ``y = x . (cos t, sin t) + noise`` on 2-d Gaussian inputs whose angle
    ``t`` drifts: it jumps by ``jump_degrees`` at the start of each phase, and also turns
    ``degrees_per_step`` every step (gradual drift). ``x`` has shape ``(B, 2)``, ``y`` ``(B, 1)``.

    >>> stream = RotatingRegression(phases=2, steps_per_phase=3, jump_degrees=90)
    >>> [round(stream.angle_at(s)) for s in range(6)], len(list(stream))
    ([0, 0, 0, 90, 90, 90], 6)
    >>> x, y = stream.test_set(step=4)
    >>> bool(abs(y - x[:, 1:]).max() < 0.5)  # at 90 degrees the target is the second input
    True
    """

    def __init__(self, phases: int = 4, steps_per_phase: int = 200, batch_size: int = 16,
                 jump_degrees: float = 90.0, degrees_per_step: float = 0.0, noise: float = 0.1,
                 seed: int = 0) -> None:
        _check_counts("RotatingRegression", phases=phases, steps_per_phase=steps_per_phase,
                      batch_size=batch_size)
        if not noise >= 0:
            raise ValueError(f"RotatingRegression: noise must be 0 or more; got {noise}")
        self.phases, self.steps_per_phase, self.batch_size = phases, steps_per_phase, batch_size
        self.jump_degrees, self.degrees_per_step = jump_degrees, degrees_per_step
        self.noise, self.seed = noise, seed

    def __len__(self) -> int:
        return self.phases * self.steps_per_phase

    @property
    def phase_starts(self) -> list[int]:
        """The first step of each phase."""
        return [k * self.steps_per_phase for k in range(self.phases)]

    def angle_at(self, step: int) -> float:
        """The target's angle in degrees at ``step``."""
        return (step // self.steps_per_phase) * self.jump_degrees + step * self.degrees_per_step

    def _target(self, x: np.ndarray, step: int) -> np.ndarray:
        angle = math.radians(self.angle_at(step))
        direction = np.array([[math.cos(angle)], [math.sin(angle)]], dtype=np.float32)
        return x @ direction

    def test_set(self, step: int, n: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """``n`` noisy samples of the target as it is at ``step`` (a fixed seed per step)."""
        rng = np.random.default_rng((self.seed, step, 1))
        x = rng.standard_normal((n, 2)).astype(np.float32)
        noise = self.noise * rng.standard_normal((n, 1)).astype(np.float32)
        return x, self._target(x, step) + noise

    def __iter__(self) -> Iterator[StreamBatch]:
        rng = np.random.default_rng(self.seed)
        for step in range(len(self)):
            x = rng.standard_normal((self.batch_size, 2)).astype(np.float32)
            noise = self.noise * rng.standard_normal((self.batch_size, 1)).astype(np.float32)
            yield StreamBatch(Tensor._wrap(x), Tensor._wrap(self._target(x, step) + noise),
                              step, step // self.steps_per_phase)
