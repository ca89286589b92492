"""``PageHinkley``: detect an upward shift in a stream of values (a model's loss on new data).

The Page-Hinkley test (Page, 1954; Hinkley, 1971) accumulates how far each value lies above
the running mean, less a tolerance ``delta``::

    m_t = sum_{i <= t} (z_i - delta),     M_t = min_{i <= t} m_i,     statistic = m_t - M_t

and signals a drift when ``statistic > threshold``. Here each deviation is *standardised*,
``z_i = (x_i - mean) / std`` with the mean and standard deviation of the values before ``x_i``
(over the last ``window`` values or so: exponentially weighted once more than ``window`` have
been seen), so ``delta`` and ``threshold`` are in standard deviations and the same settings
serve a loss of 0.1 or of 100. ``z`` is clipped to ``[-clip, clip]``: one freak batch adds at
most ``clip - delta`` to the statistic, so an alarm needs a shift that lasts.

The settings and what they give (measured in ``tests/test_streaming.py``):

* ``delta = 0.5``: a mean shift smaller than half a standard deviation is tolerated; on a
  stationary stream the statistic drifts down by ``delta`` per value, and for Gaussian noise it
  exceeds ``threshold`` with probability about ``exp(-2 * delta * threshold)`` per excursion.
* ``threshold = 10``: with ``delta = 0.5``, under 5% of stationary Gaussian runs of 1,000
  values give any alarm; a shift of ``k`` standard deviations is detected after about
  ``threshold / (min(k, clip) - delta)`` values (3 for a large one).
* ``min_samples = 30``: no alarm before 30 values (after creation or ``reset``), while the
  mean and standard deviation are still rough.
"""

from __future__ import annotations

import math

__all__ = ["PageHinkley"]


class PageHinkley:
    """The Page-Hinkley test for an increase of the mean, on standardised values.

    ``update(value)`` adds a value and returns True when a drift is detected (the detector then
    starts afresh: its statistics are reset); ``statistic`` is the current ``m_t - M_t``.

    >>> detector = PageHinkley()
    >>> alarms = [detector.update(0.1 + 0.01 * (i % 3)) for i in range(50)]
    >>> any(alarms)
    False
    >>> [detector.update(5.0) for _ in range(4)]
    [False, False, True, False]
    """

    def __init__(self, delta: float = 0.5, threshold: float = 10.0, min_samples: int = 30,
                 window: int = 100, clip: float = 5.0) -> None:
        for name, value in (("delta", delta), ("threshold", threshold), ("clip", clip)):
            if not 0 <= value < math.inf:
                raise ValueError(f"PageHinkley: {name} must be a finite number >= 0; got {value}")
        for name, count in (("min_samples", min_samples), ("window", window)):
            if not isinstance(count, int) or count < 2:
                raise ValueError(f"PageHinkley: {name} must be an integer >= 2; got {count!r}")
        if clip <= delta:
            raise ValueError(f"PageHinkley: clip ({clip}) must exceed delta ({delta}), or no "
                             "shift could ever be detected")
        self.delta, self.threshold, self.clip = delta, threshold, clip
        self.min_samples, self.window = min_samples, window
        self.reset()

    def reset(self) -> None:
        """Forget everything: a new reference level is learned from the next values."""
        self.count = 0
        self.mean = 0.0
        self._var = 0.0
        self._cumulative = 0.0
        self._minimum = 0.0
        self.statistic = 0.0

    def update(self, value: float) -> bool:
        """Add ``value``; True when it completes a detected upward drift."""
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"PageHinkley.update: value must be finite; got {value} (a "
                             "diverged loss is not a drift: lower the learning rate)")
        if self.count >= 2:
            std = math.sqrt(self._var)
            z = (value - self.mean) / std if std > 0 else math.copysign(
                self.clip, value - self.mean) if value != self.mean else 0.0
            self._cumulative += max(-self.clip, min(self.clip, z)) - self.delta
            self._minimum = min(self._minimum, self._cumulative)
            self.statistic = self._cumulative - self._minimum
        # Welford's running mean and variance, turned exponential after `window` values so
        # the reference level follows a loss that is still slowly falling.
        self.count += 1
        weight = 1.0 / min(self.count, self.window)
        difference = value - self.mean
        self.mean += weight * difference
        self._var = (1 - weight) * (self._var + weight * difference * difference)
        if self.count > self.min_samples and self.statistic > self.threshold:
            self.reset()
            return True
        return False
