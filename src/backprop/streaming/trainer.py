"""``StreamingTrainer``: learn from a stream one batch at a time, recalibrating on drift.

Each ``step(x, y)``:

1. mixes the incoming batch with up to ``replay_size`` samples from the replay buffer (when
   there is one), so the update also rehearses the past;
2. computes the loss per sample in one forward pass; the mean loss on the *incoming* part,
   computed before the model has trained on it (test-then-train, "prequential"), goes to the
   drift detector: it rises when the data stops looking like what the model knows;
3. on a detected drift, multiplies the learning rate of every ``optimizer.param_groups`` entry
   by ``lr_boost``; the boost then fades geometrically, halving its excess every
   ``boost_half_life`` steps: ``factor = 1 + (lr_boost - 1) * 0.5 ** (steps / half_life)``.
   Only this factor is applied (the group's rate is divided by the old factor and multiplied
   by the new one), so it composes with any ``bp.optim`` optimizer and any learning-rate
   scheduler that also moves ``group["lr"]``;
4. backpropagates, steps the optimizer, and offers the incoming batch to the replay buffer.

With ``replay=None`` and ``detector=None`` it is plain online fine-tuning.

Replay is a remedy for classes that leave (it keeps them rehearsed), not for a concept that
changes: when the same inputs get new targets (``RotatingRegression``), replayed samples carry
the old targets and hold the model back (``tests/test_streaming.py`` measures a test error 30
times that of plain fine-tuning after two 90-degree turns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .. import nn
from ..optim import Optimizer
from ..tensor import Tensor
from .drift import PageHinkley
from .replay import ReplayBuffer

__all__ = ["StepRecord", "StreamingTrainer"]


@dataclass
class StepRecord:
    """What one ``StreamingTrainer.step`` did."""

    step: int          # 0 for the first call
    loss: float        # mean loss on the incoming batch, before this step's update
    drift: bool        # the detector fired on this step
    lr: float          # the first param group's learning rate used for this step's update
    replayed: int      # samples from the replay buffer in this step's batch


class StreamingTrainer:
    """Online training with a replay buffer and drift-triggered learning-rate boosts.

    >>> import backprop as bp
    >>> model = bp.nn.Linear(2, 2)
    >>> optimizer = bp.optim.SGD(model.parameters(), lr=0.1)
    >>> trainer = StreamingTrainer(model, optimizer, replay=ReplayBuffer(8), detector=PageHinkley())
    >>> record = trainer.step(bp.randn(4, 2), bp.tensor([0, 1, 0, 1]))
    >>> record.step, record.drift, record.lr, record.replayed
    (0, False, 0.1, 0)
    >>> trainer.step(bp.randn(4, 2), bp.tensor([0, 1, 0, 1])).replayed
    4
    """

    def __init__(self, model: nn.Module, optimizer: Optimizer,
                 loss_fn: Callable[..., Tensor] = nn.functional.cross_entropy,
                 replay: ReplayBuffer | None = None, replay_size: int | None = None,
                 detector: PageHinkley | None = None, lr_boost: float = 3.0,
                 boost_half_life: float = 25.0) -> None:
        if not lr_boost >= 1:
            raise ValueError(f"StreamingTrainer: lr_boost must be >= 1 (a factor on the "
                             f"learning rate); got {lr_boost}")
        if not boost_half_life > 0:
            raise ValueError(f"StreamingTrainer: boost_half_life must be a positive number of "
                             f"steps; got {boost_half_life}")
        if replay_size is not None and replay_size < 0:
            raise ValueError(f"StreamingTrainer: replay_size must be >= 0; got {replay_size}")
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.replay, self.replay_size, self.detector = replay, replay_size, detector
        self.lr_boost, self.boost_half_life = lr_boost, boost_half_life
        self.steps = 0
        self.detections: list[int] = []  # the steps at which a drift was detected
        self._factor = 1.0  # the boost now applied to every group's learning rate

    def lr_factor(self) -> float:
        """The boost the next step's learning rate carries (1 with no drift so far)."""
        if not self.detections:
            return 1.0
        since = self.steps - self.detections[-1]
        return 1.0 + (self.lr_boost - 1.0) * 0.5 ** (since / self.boost_half_life)

    def _apply_factor(self, factor: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = group["lr"] / self._factor * factor
        self._factor = factor

    def step(self, x: Tensor, y: Tensor) -> StepRecord:
        """Train on one incoming batch (and replayed samples); see the module's description."""
        incoming = x.shape[0]
        inputs, targets, replayed = x, y, 0
        if self.replay is not None and len(self.replay):
            size = incoming if self.replay_size is None else self.replay_size
            if size:
                old_x, old_y = self.replay.sample(size)
                replayed = len(old_x)
                inputs = Tensor._wrap(np.concatenate([x.numpy(), old_x.astype(x.numpy().dtype)]))
                targets = Tensor._wrap(np.concatenate([y.numpy(), old_y.astype(y.numpy().dtype)]))
        self.model.train()
        per_sample = self.loss_fn(self.model(inputs), targets, reduction="none")
        if per_sample.ndim > 1:  # a regression loss: one value per sample
            per_sample = per_sample.reshape(per_sample.shape[0], -1).mean(dim=1)
        loss_now = float(per_sample[:incoming].mean().item())
        drift = self.detector is not None and self.detector.update(loss_now)
        if drift:
            self.detections.append(self.steps)
        self._apply_factor(self.lr_factor())
        lr = float(self.optimizer.param_groups[0]["lr"])
        self.optimizer.zero_grad()
        per_sample.mean().backward()
        self.optimizer.step()
        if self.replay is not None:
            self.replay.add(x.numpy(), y.numpy())
        record = StepRecord(self.steps, loss_now, drift, lr, replayed)
        self.steps += 1
        return record

    def state(self) -> dict[str, Any]:
        """The trainer's own counters (the model and optimizer have their ``state_dict``)."""
        return {"steps": self.steps, "detections": list(self.detections),
                "lr_factor": self._factor}
