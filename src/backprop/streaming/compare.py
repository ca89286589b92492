"""Three learners on the same drifting digits stream, and their accuracy over time.

* ``frozen``: trained online on the first phase only, then never updated again;
* ``fine-tuning``: trained on every incoming batch (no replay, no drift detection): it follows
  the present distribution and forgets the classes that left;
* ``recalibrating``: ``StreamingTrainer`` with a class-balanced replay buffer and a
  Page-Hinkley detector on its loss that boosts the learning rate on drift.

All three start from the same weights, see the same batches, and use the same optimizer
settings. Every ``eval_every`` steps each is measured on the held-out test digits of the
*present* classes (the current phase), of every class *seen* so far, and of the *absent*
classes (seen before but not in the current phase: what forgetting destroys).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .. import nn, optim
from ..autograd.grad_mode import no_grad
from ..random import default_generator
from ..tensor import Tensor
from .drift import PageHinkley
from .replay import ReplayBuffer
from .streams import DEFAULT_SCHEDULE, DriftingDigits
from .trainer import StreamingTrainer

__all__ = ["CONTENDERS", "ComparisonResult", "StreamConfig", "accuracy", "compare",
           "make_model"]

CONTENDERS = ("frozen", "fine-tuning", "recalibrating")


@dataclass
class StreamConfig:
    """The settings of ``backprop stream``; each is also a ``--flag``."""

    schedule: tuple[tuple[int, ...], ...] = DEFAULT_SCHEDULE  # classes of each phase
    steps_per_phase: int = 300       # batches in each phase
    batch_size: int = 16             # incoming samples a step
    hidden: int = 64                 # width of the MLP's hidden layer
    lr: float = 1e-3                 # Adam's learning rate, the same for all three
    replay_capacity: int = 500       # samples the recalibrating learner keeps
    replay_size: int = 16            # replayed samples mixed into each step's batch
    class_balanced: bool = True      # one reservoir per class, the capacity shared equally
    lr_boost: float = 3.0            # learning-rate factor right after a detected drift
    boost_half_life: float = 25.0    # steps for the boost's excess to halve
    delta: float = 0.5               # Page-Hinkley tolerance (standard deviations)
    threshold: float = 10.0          # Page-Hinkley alarm level (standard deviations)
    eval_every: int = 10             # steps between accuracy measurements
    seed: int = 0
    out: str | None = None           # the run folder (None: a new runs/stream/<date>-<time>)

    def validate(self) -> StreamConfig:
        """Check every value; raise ``ValueError`` naming the setting."""
        for name in ("steps_per_phase", "batch_size", "hidden", "replay_capacity",
                     "eval_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"stream: --{name.replace('_', '-')} must be at least 1; got "
                                 f"{getattr(self, name)}")
        if self.replay_size < 0 or self.seed < 0:
            raise ValueError(f"stream: --replay-size and --seed must be 0 or more; got "
                             f"{self.replay_size} and {self.seed}")
        if not 0 < self.lr < math.inf:
            raise ValueError(f"stream: --lr must be a positive finite number; got {self.lr}")
        if not 1 <= self.lr_boost < math.inf:
            raise ValueError(f"stream: --lr-boost must be a finite factor >= 1; got "
                             f"{self.lr_boost}")
        return self

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["schedule"] = [list(phase) for phase in self.schedule]
        return values


@dataclass
class ComparisonResult:
    """Accuracy curves of the three learners, the drifts detected and the stream's phases."""

    config: StreamConfig
    steps: list[int] = field(default_factory=list)   # the steps at which accuracy was measured
    curves: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)
    phase_starts: list[int] = field(default_factory=list)
    detections: list[int] = field(default_factory=list)  # steps where drift was detected
    seconds: float = 0.0

    def detection_delays(self) -> list[int | None]:
        """For each phase change, steps until the first detection after it (None: missed)."""
        delays: list[int | None] = []
        starts = self.phase_starts[1:]
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else math.inf
            hits = [d - start for d in self.detections if start <= d < end]
            delays.append(hits[0] if hits else None)
        return delays

    def false_alarms(self) -> int:
        """Detections that are not the first one after a phase change."""
        firsts = {start + delay for start, delay in zip(self.phase_starts[1:],
                                                        self.detection_delays())
                  if delay is not None}
        return sum(d not in firsts for d in self.detections)

    def phase_end(self, contender: str, measure: str) -> list[float | None]:
        """The ``measure`` accuracy of ``contender`` at the last measurement of each phase."""
        values = []
        for k, start in enumerate(self.phase_starts):
            end = self.phase_starts[k + 1] if k + 1 < len(self.phase_starts) else math.inf
            inside = [i for i, s in enumerate(self.steps) if start <= s < end]
            values.append(self.curves[contender][measure][inside[-1]] if inside else None)
        return values

    def recovery(self, contender: str, level: float = 0.8) -> list[int | None]:
        """For each phase change, steps until ``contender``'s accuracy on the present classes
        is first measured at ``level`` or more (None: not within the phase). Measured every
        ``eval_every`` steps, so the figures are multiples of it, less one."""
        found: list[int | None] = []
        for k, start in enumerate(self.phase_starts[1:], 1):
            end = self.phase_starts[k + 1] if k + 1 < len(self.phase_starts) else math.inf
            hits = [s - start for s, v in zip(self.steps, self.curves[contender]["present"])
                    if start <= s < end and v is not None and v >= level]
            found.append(hits[0] if hits else None)
        return found

    def mean(self, contender: str, measure: str) -> float | None:
        """The ``measure`` accuracy of ``contender`` averaged over every measurement."""
        values = [v for v in self.curves[contender][measure] if v is not None]
        return float(np.mean(values)) if values else None

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config.to_dict(), "steps": self.steps, "curves": self.curves,
                "phase_starts": self.phase_starts, "detections": self.detections,
                "detection_delays": self.detection_delays(), "false_alarms": self.false_alarms(),
                "recovery_to_0.8": {name: self.recovery(name) for name in self.curves},
                "seconds": self.seconds}


def make_model(hidden: int = 64, num_classes: int = 10) -> nn.Module:
    """The learner: an MLP on the flattened 8x8 digits."""
    return nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(),
                         nn.Linear(hidden, num_classes))


def accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """The share of ``x`` that ``model`` classifies as ``y`` (eval mode, no graph).

    >>> import backprop as bp
    >>> accuracy(bp.nn.Identity(), bp.tensor([[0.0, 1.0], [2.0, 1.0]]), bp.tensor([1, 1]))
    0.5
    """
    was_training = model.training
    model.eval()
    with no_grad():
        predicted = model(x).numpy().argmax(axis=1)
    model.train(was_training)
    return float((predicted == y.numpy()).mean())


def compare(config: StreamConfig, log: Callable[[str], None] | None = None) -> ComparisonResult:
    """Run the three learners on the stream ``config`` describes; see the module's description.

    >>> config = StreamConfig(schedule=((0, 1), (2, 3)), steps_per_phase=5, eval_every=5)
    >>> result = compare(config)
    >>> result.steps, sorted(result.curves), result.phase_starts
    ([4, 9], ['fine-tuning', 'frozen', 'recalibrating'], [0, 5])
    >>> result.curves["frozen"]["absent"][0] is None  # no class has left yet in phase 0
    True
    """
    import time  # noqa: PLC0415

    config.validate()
    started = time.perf_counter()
    stream = DriftingDigits(config.schedule, config.steps_per_phase, config.batch_size,
                            config.seed)
    default_generator.manual_seed(config.seed)
    first = make_model(config.hidden)
    models = {name: copy.deepcopy(first) for name in CONTENDERS}
    trainers = {name: StreamingTrainer(model, optim.Adam(model.parameters(), lr=config.lr))
                for name, model in models.items() if name != "recalibrating"}
    trainers["recalibrating"] = StreamingTrainer(
        models["recalibrating"], optim.Adam(models["recalibrating"].parameters(), lr=config.lr),
        replay=ReplayBuffer(config.replay_capacity, config.class_balanced, config.seed),
        replay_size=config.replay_size,
        detector=PageHinkley(delta=config.delta, threshold=config.threshold),
        lr_boost=config.lr_boost, boost_half_life=config.boost_half_life)
    result = ComparisonResult(config, phase_starts=stream.phase_starts)
    result.curves = {name: {"present": [], "seen": [], "absent": []} for name in CONTENDERS}
    test_sets: dict[tuple[int, ...], tuple[Tensor, Tensor]] = {}

    def measure(classes: tuple[int, ...], model: nn.Module) -> float | None:
        if not classes:
            return None
        if classes not in test_sets:
            test_sets[classes] = stream.test_set(classes)
        return accuracy(model, *test_sets[classes])

    for batch in stream:
        for name, trainer in trainers.items():
            if name != "frozen" or batch.phase == 0:
                record = trainer.step(batch.x, batch.y)
                if record.drift and name == "recalibrating" and log is not None:
                    log(f"step {batch.step}: drift detected (phase {batch.phase} began at step "
                        f"{stream.phase_starts[batch.phase]}); learning rate -> {record.lr:.2g}")
        if (batch.step + 1) % config.eval_every == 0 or batch.step == len(stream) - 1:
            present = stream.classes_at(batch.step)
            seen = stream.seen_classes(batch.step)
            absent = tuple(c for c in seen if c not in present)
            result.steps.append(batch.step)
            for name, model in models.items():
                curve = result.curves[name]
                curve["present"].append(measure(present, model))
                curve["seen"].append(measure(seen, model))
                curve["absent"].append(measure(absent, model))
    result.detections = list(trainers["recalibrating"].detections)
    result.seconds = time.perf_counter() - started
    return result
