"""``backprop.streaming``: learning from a stream whose distribution drifts.

Drifting streams (``DriftingDigits``: classes appear and disappear; ``RotatingRegression``: a
turning linear target), a reservoir ``ReplayBuffer``, a ``PageHinkley`` drift detector on the
loss, and ``StreamingTrainer``, which mixes replayed samples into each step and boosts the
learning rate (through ``optimizer.param_groups``) when a drift is detected. ``compare`` runs it
against a model frozen after the first phase and against naive fine-tuning; ``backprop stream``
is the command-line demo.

>>> import backprop as bp
>>> from backprop.streaming import DriftingDigits, PageHinkley, ReplayBuffer, StreamingTrainer
>>> model = bp.nn.Sequential(bp.nn.Flatten(), bp.nn.Linear(64, 10))
>>> trainer = StreamingTrainer(model, bp.optim.Adam(model.parameters(), lr=1e-3),
...                            replay=ReplayBuffer(100), detector=PageHinkley())
>>> for batch in DriftingDigits([(0, 1), (2, 3)], steps_per_phase=3, batch_size=8):
...     record = trainer.step(batch.x, batch.y)
>>> trainer.steps, len(trainer.replay)
(6, 48)
"""

from __future__ import annotations

from .compare import CONTENDERS, ComparisonResult, StreamConfig, accuracy, compare, make_model
from .drift import PageHinkley
from .replay import ReplayBuffer
from .streams import (DEFAULT_SCHEDULE, DriftingDigits, RotatingRegression, StreamBatch,
                      parse_schedule)
from .trainer import StepRecord, StreamingTrainer

__all__ = ["CONTENDERS", "DEFAULT_SCHEDULE", "ComparisonResult", "DriftingDigits", "PageHinkley",
           "ReplayBuffer", "RotatingRegression", "StepRecord", "StreamBatch", "StreamConfig",
           "StreamingTrainer", "accuracy", "compare", "make_model", "parse_schedule"]
