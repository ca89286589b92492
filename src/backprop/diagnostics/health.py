"""The rules that read a ``GradientHistory``, flag problems and name what to try.

Every rule but one summarises the latest ``window`` records by their median, so a single noisy
batch neither raises nor hides a flag; inf/NaN anywhere in the history is always flagged, at the
first step it appeared. The remedies are the classic ones for each failure of backpropagation
(Glorot & Bengio 2010, He et al. 2015, Ioffe & Szegedy 2015, He et al. 2016, Pascanu et al. 2013).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ._monitor_history import GradientHistory

__all__ = ["Flag", "HealthThresholds", "diagnose", "format_report"]


@dataclass(frozen=True)
class HealthThresholds:
    """When a rule fires (the defaults are ``GradientMonitor``'s)."""

    # A layer whose gradient norm is below this fraction of the last layer's is vanishing.
    vanishing_ratio: float = 1e-3
    # ...as is one whose gradient norm, relative to the last layer's, fell below this fraction
    # of its early value (a fall shared by all layers is convergence, not vanishing).
    vanishing_decay: float = 1e-3
    # A layer gradient norm above this bound is exploding.
    max_grad_norm: float = 1e3
    # Gradient norms that grew by this factor over the window, rising at most steps, explode.
    growth_ratio: float = 100.0
    # An optimizer step that changes a layer's weights by more than this fraction of their norm.
    max_update_ratio: float = 0.5
    # A ReLU module with more than this fraction of units zero for the whole batch is dead.
    dead_fraction: float = 0.5
    # A sigmoid/tanh module with more than this fraction of outputs saturated.
    saturated_fraction: float = 0.5
    # How many of the latest records the rules summarise (by their median).
    window: int = 10

    def __post_init__(self) -> None:
        for name in ("vanishing_ratio", "vanishing_decay", "max_grad_norm", "growth_ratio",
                     "max_update_ratio", "dead_fraction", "saturated_fraction"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"GradientMonitor: {name} must be a positive number, got "
                                 f"{value!r}")
        if isinstance(self.window, bool) or not isinstance(self.window, int) or self.window < 1:
            raise ValueError(f"GradientMonitor: window must be an integer >= 1, got "
                             f"{self.window!r}")


@dataclass(frozen=True)
class Flag:
    """One problem: its kind, where (layer or module paths), the step, what was seen, what to
    try. ``kind`` is one of "vanishing", "exploding", "dead", "saturated", "large_updates"."""

    kind: str
    where: tuple[str, ...]
    step: int
    detail: str
    remedies: tuple[str, ...]

    def __str__(self) -> str:
        lines = [f"[{self.kind}] {self.detail}", "  Try:"]
        lines += [f"  - {remedy}" for remedy in self.remedies]
        return "\n".join(lines)


# -- remedies, by name ----------------------------------------------------------------------------

RELU = "ReLU (bp.nn.ReLU) instead of sigmoid/tanh in the hidden layers"
INIT = ("He/Kaiming init for ReLU layers (bp.nn.init.kaiming_normal_(w, nonlinearity='relu')), "
        "Xavier/Glorot init for tanh/sigmoid layers (bp.nn.init.xavier_uniform_(w, "
        "gain=bp.nn.init.calculate_gain('tanh')))")
BATCH_NORM = ("batch normalization (bp.nn.BatchNorm1d / BatchNorm2d) between each layer and its "
              "activation")
RESIDUAL = "residual connections (y = x + f(x)) so the gradient reaches early layers directly"
CLIP = ("gradient clipping: bp.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0) "
        "between loss.backward() and optimizer.step()")
LEAKY = "LeakyReLU or ELU (bp.nn.LeakyReLU(0.01)) so units with negative input keep a gradient"
BIAS = ("He/Kaiming init with zero biases (bp.nn.init.zeros_(layer.bias)): a large negative "
        "bias switches ReLU units off for every input")
SMALL_INIT = ("smaller initial weights: Xavier/Glorot init (bp.nn.init.xavier_uniform_) keeps "
              "tanh/sigmoid inputs in their linear range")
INPUTS = "inputs normalized to zero mean and unit variance"
WARMUP = ("a learning-rate warm-up (bp.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, "
          "total_iters=100))")


def _lower_lr(lr: float | None) -> str:
    if lr is None:
        return "a lower learning rate (try 10x lower)"
    return f"a lower learning rate (now lr={lr:g}; try lr={lr / 10:g})"


# -- the rules ----------------------------------------------------------------------------------

def _median(values: np.ndarray) -> np.ndarray:
    """Column medians ignoring NaN (an all-NaN column stays NaN, quietly)."""
    if values.shape[0] == 0:
        return np.full(values.shape[1:], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(values, axis=0)


def _finite(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), values, np.nan)


def display(name: str) -> str:
    """A module path for people: the model itself is ``(model)``."""
    return name or "(model)"


def _names(names: tuple[str, ...], indices: list[int]) -> str:
    shown = [display(names[i]) for i in indices]
    return ", ".join(shown if len(shown) <= 12 else shown[:10] + [f"... ({len(shown)} in all)"])


def _span(values: np.ndarray) -> str:
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    return f"{low:.1e}" if np.isclose(low, high, rtol=0.05) else f"{low:.1e} to {high:.1e}"


def diagnose(history: GradientHistory, thresholds: HealthThresholds | None = None,
             lr: float | None = None) -> list[Flag]:
    """The problems in ``history``: at most one flag per kind, in the order vanishing,
    exploding, large updates, dead, saturated. ``lr`` (if known) makes the advice concrete."""
    thresholds = thresholds or HealthThresholds()
    if len(history) == 0:
        return []
    flags = [_vanishing(history, thresholds), _exploding(history, thresholds, lr),
             _large_updates(history, thresholds, lr),
             _activation_rule(history, history.dead_fraction, thresholds.dead_fraction,
                              thresholds.window, "dead",
                              "of their units are dead (zero for every example of the batch)",
                              (_lower_lr(lr), BIAS, LEAKY, BATCH_NORM)),
             _activation_rule(history, history.saturated_fraction, thresholds.saturated_fraction,
                              thresholds.window, "saturated",
                              "of their outputs are saturated (|tanh| > 0.99, or a sigmoid below "
                              "0.01 or above 0.99), where almost no gradient passes",
                              (SMALL_INIT, RELU, BATCH_NORM, INPUTS))]
    return [flag for flag in flags if flag is not None]


def _vanishing(history: GradientHistory, thresholds: HealthThresholds) -> Flag | None:
    """Layers whose gradient is tiny next to the last layer's, or whose share of it shrank.

    Both rules compare a layer with the last layer (in definition order) that gets a gradient:
    when every layer's gradient falls together the model is converging (or the loss is flat),
    which no remedy for vanishing gradients would change.
    """
    norms = _finite(history.grad_norm)
    window = thresholds.window
    carrying = [layer for layer in range(norms.shape[1]) if np.any(norms[-window:, layer] > 0)]
    if len(carrying) < 2:
        return None
    last = carrying[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = norms / norms[:, last:last + 1]
    ratio = _median(relative[-window:])
    found: list[str] = []
    flagged = [layer for layer in range(norms.shape[1])
               if layer != last and ratio[layer] < thresholds.vanishing_ratio]
    if flagged:
        found.append(f"layers {_names(history.layer_names, flagged)}: gradient norm "
                     f"{_span(ratio[flagged])} times the last layer's "
                     f"({display(history.layer_names[last])}), below "
                     f"{thresholds.vanishing_ratio:g}")
    span = min(window, len(norms) // 2)
    if span >= 1:
        early, late = _median(relative[:span]), _median(relative[-span:])
        with np.errstate(divide="ignore", invalid="ignore"):
            decay = late / early
        falling = [layer for layer in range(norms.shape[1])
                   if layer != last and layer not in flagged and early[layer] > 0
                   and decay[layer] < thresholds.vanishing_decay]
        if falling:
            found.append(f"layers {_names(history.layer_names, falling)}: gradient norm, "
                         f"relative to the last layer's, fell to {_span(decay[falling])} of "
                         f"its value in the first {span} record(s), below "
                         f"{thresholds.vanishing_decay:g}")
        flagged += falling
    if not flagged:
        return None
    return Flag("vanishing", tuple(history.layer_names[i] for i in flagged),
                int(history.steps[-1]), "; ".join(found) +
                f" (medians of the last {min(window, len(norms))} records)",
                (RELU, INIT, BATCH_NORM, RESIDUAL))


def _exploding(history: GradientHistory, thresholds: HealthThresholds,
               lr: float | None) -> Flag | None:
    found: list[str] = []
    where: list[str] = []
    first_steps: list[int] = []
    for label, counts, names in (("gradients", history.grad_nonfinite, history.layer_names),
                                 ("weights", history.weight_nonfinite, history.layer_names),
                                 ("outputs", history.activation_nonfinite, history.module_names)):
        bad = np.flatnonzero(counts.sum(axis=0) > 0)
        if len(bad):
            first = int(history.steps[np.flatnonzero(counts.sum(axis=1) > 0)[0]])
            first_steps.append(first)
            found.append(f"inf/NaN {label} in {_names(names, list(bad))} (first at step {first})")
            where += [names[i] for i in bad if names[i] not in where]
    norms = _finite(history.grad_norm)
    recent = norms[-thresholds.window:]
    large = np.flatnonzero(_median(recent) > thresholds.max_grad_norm)
    if len(large):
        found.append(f"gradient norm {_span(_median(recent)[large])} above "
                     f"{thresholds.max_grad_norm:g} in {_names(history.layer_names, list(large))}")
        where += [history.layer_names[i] for i in large if history.layer_names[i] not in where]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        total = np.sqrt(np.nansum(recent ** 2, axis=1))
    total = total[total > 0]
    if len(total) >= 3:
        rising = float(np.mean(np.diff(total) > 0))
        growth = total[-1] / total[0]
        if rising >= 0.75 and growth >= thresholds.growth_ratio:
            found.append(f"the total gradient norm grew {growth:.0f}x over the last "
                         f"{len(total)} records, rising at {rising:.0%} of them")
    if not found:
        return None
    return Flag("exploding", tuple(where), min(first_steps, default=int(history.steps[-1])),
                "; ".join(found),
                (CLIP, _lower_lr(lr), INIT, BATCH_NORM))


def _large_updates(history: GradientHistory, thresholds: HealthThresholds,
                   lr: float | None) -> Flag | None:
    ratio = _median(_finite(history.update_ratio[-thresholds.window:]))
    large = np.flatnonzero(ratio > thresholds.max_update_ratio)
    if not len(large):
        return None
    return Flag("large_updates", tuple(history.layer_names[i] for i in large),
                int(history.steps[-1]),
                f"each optimizer step changes the weights of "
                f"{_names(history.layer_names, list(large))} by {_span(ratio[large])} of their "
                f"norm (above {thresholds.max_update_ratio:g}; about 1e-3 is typical)",
                (_lower_lr(lr), CLIP, WARMUP))


def _activation_rule(history: GradientHistory, fractions: np.ndarray, threshold: float,
                     window: int, kind: str, what: str, remedies: tuple[str, ...]) -> Flag | None:
    recent = _median(fractions[-window:])
    hit = np.flatnonzero(recent > threshold)
    if not len(hit):
        return None
    described = []
    for i in hit:
        after = history.module_follows[i]
        suffix = f", after {display(after)}" if after is not None else ""
        described.append(f"{display(history.module_names[i])} ({history.module_types[i]}"
                         f"{suffix}): {recent[i]:.0%}")
    return Flag(kind, tuple(history.module_names[i] for i in hit), int(history.steps[-1]),
                "; ".join(described) +
                f" {what} (threshold {threshold:.0%})", remedies)


# -- the report -----------------------------------------------------------------------------------

def _number(value: float) -> str:
    if np.isnan(value):
        return "-"
    return "inf" if np.isinf(value) else f"{value:.2e}"


def _percent(value: float) -> str:
    return "-" if np.isnan(value) else f"{value:.0%}"


def format_report(history: GradientHistory, flags: list[Flag], thresholds: HealthThresholds,
                  every: int, stride: int) -> str:
    """The text report: one table row per observed module (latest record), then the flags."""
    n = len(history)
    if n == 0:
        return ("Gradient health: no step recorded yet (record steps by passing the optimizer "
                "to GradientMonitor, or by calling monitor.step() after optimizer.step())")
    steps = history.steps
    interval = f"one in {stride}" + (f" (every={every}, thinned to fit)" if stride != every
                                     else "")
    lines = [(f"Gradient health: {n} recorded step(s), steps {steps[0]} to {steps[-1]}, "
              f"{interval}; {len(history.layer_names)} layer(s)"),
             f"Figures at step {steps[-1]}:"]
    header = ("module", "type", "grad norm", "weight norm", "update/weight", "out mean",
              "out std", "dead", "saturated", "inf/NaN g/w/out")
    rows = [header]
    layer_of = {name: i for i, name in enumerate(history.layer_names)}
    for m, name in enumerate(history.module_names):
        layer = layer_of.get(name)
        if layer is not None:
            grads = (_number(history.grad_norm[-1, layer]),
                     _number(history.weight_norm[-1, layer]),
                     _number(history.update_ratio[-1, layer]))
            bad = (f"{history.grad_nonfinite[-1, layer]}/{history.weight_nonfinite[-1, layer]}/"
                   f"{history.activation_nonfinite[-1, m]}")
        else:
            grads = ("", "", "")
            bad = f"-/-/{history.activation_nonfinite[-1, m]}"
        rows.append((display(name), history.module_types[m], *grads,
                     _number(history.activation_mean[-1, m]),
                     _number(history.activation_std[-1, m]),
                     _percent(history.dead_fraction[-1, m]),
                     _percent(history.saturated_fraction[-1, m]), bad))
    widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        cells += [cell.rjust(width) for cell, width in zip(row[2:], widths[2:])]
        lines.append("  " + "  ".join(cells).rstrip())
    if not flags:
        lines.append("No problems found.")
    else:
        lines.append(f"{len(flags)} problem(s) found:")
        lines += [str(flag) for flag in flags]
    return "\n".join(lines)
