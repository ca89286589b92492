"""Array kernels of the gradient monitor: sums of squares and activation statistics.

Everything runs on the raw NumPy arrays behind tensors, with one or two passes over memory per
array: ``np.vdot`` (BLAS) for sums of squares, one comparison per activation rule. Exact but
slower paths run only where the cheap one cannot be trusted (non-finite values, float32
overflow, a variance lost to cancellation).
"""

from __future__ import annotations

import math

import numpy as np

# |tanh| above 1 - margin, or a sigmoid within margin of 0 or 1, counts as saturated: the local
# derivative there is below ~2% of its peak, so almost no gradient passes.
SATURATION_MARGIN = 0.01
# Below this ratio of variance to mean square, E[x^2] - E[x]^2 in float32 has lost too many
# digits: recompute the variance from the centred values in float64.
_CANCELLATION = 1e-3

KINDS = ("layer", "relu", "sigmoid", "tanh")


def _as_float(array: np.ndarray) -> np.ndarray:
    """float32/float64 arrays as they are; half precision widened (BLAS has no float16 dot)."""
    if array.dtype == np.float32 or array.dtype == np.float64:
        return array
    return array.astype(np.float32)


def sum_of_squares(array: np.ndarray) -> tuple[float, int]:
    """``(sum of squares, number of non-finite entries)``; the sum is ``inf`` when any entry is
    inf or NaN (the count says how many).

    >>> sum_of_squares(np.array([3.0, 4.0]))
    (25.0, 0)
    >>> sum_of_squares(np.array([1.0, np.nan, np.inf]))
    (inf, 2)
    """
    array = _as_float(array)
    value = float(np.vdot(array, array))
    if math.isfinite(value):
        return value, 0
    bad = array.size - int(np.count_nonzero(np.isfinite(array)))
    if bad:
        return math.inf, bad
    # Finite entries whose squares overflow float32 (|x| > ~1e19): sum in float64 instead.
    wide = array.astype(np.float64)
    return float(np.vdot(wide, wide)), 0


class ActivationStats:
    """Running statistics of one module's outputs over the forward calls of one step.

    Mean and variance merge across calls (Chan et al.'s pairwise update), so a module called
    twice in a step (one ReLU module reused after several layers, gradient accumulation) reports
    all calls together; dead units are counted per call (a reused ReLU sees different layers'
    units in each call) and pooled.
    """

    __slots__ = ("count", "dead", "m2", "mean", "nonfinite", "saturated", "total", "units")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0
        self.nonfinite = 0
        self.units = 0
        self.dead = 0
        self.saturated = 0
        self.total = 0

    def add(self, array: np.ndarray, kind: str, unit_axis: int) -> None:
        """Fold one output array in; ``unit_axis`` is the axis whose entries are units
        (features or channels): every other axis runs over examples (and positions)."""
        array = _as_float(array)
        if array.size == 0:
            return
        self._add_moments(array.reshape(-1))
        if kind == "relu":
            self._add_dead(array, unit_axis)
        elif kind == "sigmoid":
            self.saturated += int(np.count_nonzero(np.abs(array - 0.5) > 0.5 - SATURATION_MARGIN))
            self.total += array.size
        elif kind == "tanh":
            self.saturated += int(np.count_nonzero(np.abs(array) > 1.0 - SATURATION_MARGIN))
            self.total += array.size

    def _add_moments(self, flat: np.ndarray) -> None:
        n = flat.size
        total = float(flat.sum())
        squares = float(np.vdot(flat, flat))
        if math.isfinite(total) and math.isfinite(squares):
            mean = total / n
            m2 = squares - total * mean
            if m2 < _CANCELLATION * squares:
                m2 = _centred_squares(flat.astype(np.float64), mean)
        else:
            finite = np.isfinite(flat)
            kept = flat[finite].astype(np.float64)
            self.nonfinite += n - kept.size
            n = kept.size
            if n == 0:
                return
            mean = float(kept.mean())
            m2 = _centred_squares(kept, mean)
        if self.count == 0:
            self.count, self.mean, self.m2 = n, mean, max(m2, 0.0)
            return
        both = self.count + n
        delta = mean - self.mean
        self.m2 += max(m2, 0.0) + delta * delta * self.count * n / both
        self.mean += delta * n / both
        self.count = both

    def _add_dead(self, array: np.ndarray, unit_axis: int) -> None:
        if array.ndim == 0:
            return
        nonzero = array != 0  # a NaN unit is broken, not dead: it counts as alive here
        if array.ndim == 1:  # a single example: each entry is a unit
            alive = nonzero
        else:
            axis = unit_axis % array.ndim
            alive = nonzero.any(axis=tuple(a for a in range(array.ndim) if a != axis))
        self.units += alive.size
        self.dead += alive.size - int(np.count_nonzero(alive))

    def result(self) -> tuple[float, float, float, float, int]:
        """``(mean, std, dead fraction, saturated fraction, non-finite count)``; NaN for a figure
        with no data (no call this step, or a rule that does not apply to the module)."""
        nan = math.nan
        mean = self.mean if self.count else nan
        std = math.sqrt(self.m2 / self.count) if self.count else nan
        dead = self.dead / self.units if self.units else nan
        saturated = self.saturated / self.total if self.total else nan
        return mean, std, dead, saturated, self.nonfinite


def _centred_squares(values: np.ndarray, mean: float) -> float:
    centred = values - mean
    return float(np.vdot(centred, centred))
