"""The gradient monitor's figures sent to a TensorBoard ``SummaryWriter`` as each step is
recorded: per layer ``grad_norm/<layer>``, ``weight_norm/<layer>``, ``update_ratio/<layer>``; per
observed module ``activation_mean/<module>``, ``activation_std/<module>``,
``dead_fraction/<module>`` (ReLU family) and ``saturated_fraction/<module>`` (sigmoid/tanh).
Names are the modules' dotted paths (``(model)`` for the model itself), steps the training steps.

NaN figures mean "no data" (a layer without a gradient, a rule that does not apply to the
module) and are not written; an infinite gradient norm (inf/NaN entries) is written as ``inf``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._monitor_history import HistoryStore, _layer_sum
from .health import display

LAYER_FIGURES = ("grad_norm", "weight_norm", "update_ratio")
MODULE_FIGURES = {"activation_mean": "mean", "activation_std": "std",
                  "dead_fraction": "dead", "saturated_fraction": "saturated"}


def check_writer(writer: Any) -> None:
    """Refuse a writer without ``add_scalar(tag, value, global_step)``."""
    if writer is not None and not callable(getattr(writer, "add_scalar", None)):
        raise TypeError(f"GradientMonitor: writer must be a SummaryWriter (anything with "
                        f"add_scalar(tag, value, global_step)), got {type(writer).__name__}")


def log_row(writer: Any, store: HistoryStore, row: int, layer_names: list[str],
            layer_starts: np.ndarray, module_names: list[str]) -> None:
    """Write the figures of ``store``'s row ``row`` (just recorded) to ``writer``."""
    step = int(store.steps[row])
    sums = {name: _layer_sum(store.params[name][row:row + 1], layer_starts)[0]
            for name in ("grad_sq", "weight_sq", "update_sq")}
    with np.errstate(divide="ignore", invalid="ignore"):
        figures = {"grad_norm": np.sqrt(sums["grad_sq"]),
                   "weight_norm": np.sqrt(sums["weight_sq"]),
                   "update_ratio": np.sqrt(sums["update_sq"]) / np.sqrt(sums["weight_sq"])}
    for figure in LAYER_FIGURES:
        for name, value in zip(layer_names, figures[figure]):
            _write(writer, f"{figure}/{display(name)}", value, step)
    for figure, column in MODULE_FIGURES.items():
        values = store.activations[column][row]
        for name, value in zip(module_names, values):
            _write(writer, f"{figure}/{display(name)}", value, step)


def _write(writer: Any, tag: str, value: Any, step: int) -> None:
    value = float(value)
    if not math.isnan(value):
        writer.add_scalar(tag, value, step)
