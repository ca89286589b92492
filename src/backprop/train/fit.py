"""The training loop and the update that every training command shares (``train``, ``tune``,
``gan``, ``train-lm``, ``superres``).

``update`` is one step of gradient descent on a loss. ``fit`` runs periods (an epoch, or for
``train-lm`` a block of steps between two evaluations) of batches: it owns the progress bar, the
timing and the summing of each step's metrics; what differs between the commands is passed in
as four functions: the batches of a period, the step on one batch (it returns the metrics to
sum), what to do after each step (a step-level checkpoint, Ctrl-C, a time limit: it may stop the
run) and what to do at the end of a period (evaluate, record, log, checkpoint, draw).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from ..console import progress_bar
from ..nn.utils import clip_grad_norm_
from ..optim import Optimizer
from ..optim.lr_scheduler import LRScheduler
from ..tensor import Tensor

__all__ = ["Period", "fit", "update"]

Batch = TypeVar("Batch")


def update(loss: Tensor, optimizer: Optimizer, scheduler: LRScheduler | None = None, *,
           max_norm: float = 0.0, parameters: Iterable[Tensor] | None = None) -> None:
    """One step of gradient descent on ``loss``: ``optimizer.zero_grad()``, ``loss.backward()``,
    the gradients' total norm clipped to ``max_norm`` over ``parameters`` (default: the
    optimizer's; 0: no clipping), ``optimizer.step()``, then ``scheduler.step()`` when given.

    >>> import backprop as bp
    >>> w = bp.nn.Parameter(bp.tensor([3.0, 4.0]))
    >>> update((w * w).sum(), bp.optim.SGD([w], lr=0.5), max_norm=1.0)
    >>> [round(x, 4) for x in w.tolist()]  # the gradient (6, 8), clipped to norm 1: (0.6, 0.8)
    [2.7, 3.6]
    """
    optimizer.zero_grad()
    loss.backward()
    if max_norm > 0:
        if parameters is None:
            parameters = [p for group in optimizer.param_groups for p in group["params"]]
        clip_grad_norm_(parameters, max_norm)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()


@dataclass
class Period:
    """A period of training as ``fit`` hands it to ``after_step`` and ``end_period``: while it
    runs, and once its batches are done."""

    number: int                 # the epoch, or block, number
    sums: dict[str, float]      # the metrics of its steps, summed
    steps: int = 0              # steps taken in it
    stopped: bool = False       # ``after_step`` stopped the run in it
    started: float = field(default_factory=time.perf_counter)

    @property
    def seconds(self) -> float:
        """Seconds since the period began."""
        return time.perf_counter() - self.started


def fit(periods: range, batches: Callable[[int], Iterable[Batch]],
        step: Callable[[Batch], Mapping[str, float]], end_period: Callable[[Period], None], *,
        after_step: Callable[[Period], bool] | None = None,
        first_sums: Mapping[str, float] | None = None, name: str = "epoch",
        progress: bool = True, shown: str | None = None) -> None:
    """Train for each period number in ``periods``: ``step`` on each of ``batches(number)``,
    summing the metrics it returns into ``Period.sums``, then ``end_period(period)``.

    ``after_step(period)`` runs after every step; when it returns true the period ends there
    (``period.stopped``), ``end_period`` runs and no later period starts. ``first_sums`` are the
    sums so far of the first period, when a run resumes in its middle. The progress bar reads
    ``"{name} {number}/{last}"``; with ``shown``, it also shows that metric's mean per step so
    far (refreshed every 10 steps).

    >>> done = []
    >>> fit(range(1, 3), batches=lambda epoch: [1.0, 2.0, 3.0],
    ...     step=lambda x: {"loss": x, "seen": 1},
    ...     end_period=lambda period: done.append((period.number, period.sums)), progress=False)
    >>> done
    [(1, {'loss': 6.0, 'seen': 3}), (2, {'loss': 6.0, 'seen': 3})]
    """
    for number in periods:
        period = Period(number, dict(first_sums or {}) if number == periods.start else {})
        bar = progress_bar(batches(number), f"{name} {number}/{periods[-1]}", progress)
        for batch in bar:
            for key, value in step(batch).items():
                period.sums[key] = period.sums.get(key, 0) + value
            period.steps += 1
            if shown is not None and period.steps % 10 == 0 and hasattr(bar, "set_postfix"):
                bar.set_postfix({shown: f"{period.sums[shown] / period.steps:.3f}"},
                                refresh=False)
            if after_step is not None and after_step(period):
                period.stopped = True
                break
        end_period(period)
        if period.stopped:
            return
