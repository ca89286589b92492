"""The gradient monitor's memory: fixed-size NumPy arrays, one row per recorded step.

The store never grows past ``capacity`` rows. When it is full, every other row is dropped and
the sampling interval doubles, so the history always spans the whole run (early steps included,
which the "falling toward zero" rule and the heat map need) at a resolution that halves as the
run gets longer. ``GradientHistory`` is the read-only view handed to users, with the per-layer
figures derived from the per-parameter sums of squares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Per-parameter columns (sums of squares keep layer norms exact: a layer's squared norm is the sum
# of its parameters'), then per-observed-module columns (activation statistics).
PARAM_FIELDS = {"grad_sq": np.float64, "weight_sq": np.float64, "update_sq": np.float64,
                "grad_nonfinite": np.int64, "weight_nonfinite": np.int64}
ACTIVATION_FIELDS = {"mean": np.float64, "std": np.float64, "dead": np.float64,
                     "saturated": np.float64, "nonfinite": np.int64}


class HistoryStore:
    """Preallocated rows; ``new_row`` returns the index to fill, halving the store when full."""

    def __init__(self, capacity: int, n_params: int, n_activations: int) -> None:
        self.capacity = capacity + capacity % 2  # even, so halving keeps the spacing regular
        self.size = 0
        self.steps = np.zeros(self.capacity, dtype=np.int64)
        self.params = {name: np.zeros((self.capacity, n_params), dtype=dtype)
                       for name, dtype in PARAM_FIELDS.items()}
        self.activations = {name: np.zeros((self.capacity, n_activations), dtype=dtype)
                            for name, dtype in ACTIVATION_FIELDS.items()}

    def new_row(self, step: int) -> tuple[int, bool]:
        """The row for ``step`` and whether the store was halved to make room for it."""
        halved = self.size == self.capacity
        if halved:
            kept = self.capacity // 2
            for array in (self.steps, *self.params.values(), *self.activations.values()):
                array[:kept] = array[0:self.capacity:2].copy()
            self.size = kept
        row = self.size
        self.steps[row] = step
        self.size += 1
        return row, halved


@dataclass(frozen=True)
class GradientHistory:
    """What a ``GradientMonitor`` recorded, oldest step first.

    Arrays of shape ``(steps, layers)`` are per layer (a module owning parameters, named by its
    dotted path, ``""`` for the model itself); ``(steps, params)`` per parameter;
    ``(steps, modules)`` per observed module (each layer and each ReLU/ReLU6/Sigmoid/Tanh
    module, in the model's definition order). Norms are L2 norms. A gradient norm is NaN where no parameter of the layer had a
    gradient, and ``inf`` where a gradient held inf/NaN entries (counted in ``grad_nonfinite``).
    ``update_ratio`` is ``|w_after - w_before| / |w_after|`` for the optimizer step of that row.
    ``dead_fraction`` (ReLU-family modules) is the fraction of units (features, or channels of
    image-shaped outputs) that were zero for every example of the batch; ``saturated_fraction``
    (sigmoid/tanh) the fraction of outputs with ``|tanh| > 0.99`` or a sigmoid outside
    ``[0.01, 0.99]``; both are NaN for other modules, and activation figures are NaN on a step
    without a forward pass.
    """

    steps: np.ndarray
    layer_names: tuple[str, ...]
    layer_types: tuple[str, ...]
    param_names: tuple[str, ...]
    param_layer: np.ndarray
    module_names: tuple[str, ...]
    module_types: tuple[str, ...]
    module_follows: tuple[str | None, ...]
    param_grad_norm: np.ndarray
    param_weight_norm: np.ndarray
    param_update_ratio: np.ndarray
    param_grad_nonfinite: np.ndarray
    param_weight_nonfinite: np.ndarray
    grad_norm: np.ndarray
    weight_norm: np.ndarray
    update_ratio: np.ndarray
    grad_nonfinite: np.ndarray
    weight_nonfinite: np.ndarray
    activation_mean: np.ndarray
    activation_std: np.ndarray
    dead_fraction: np.ndarray
    saturated_fraction: np.ndarray
    activation_nonfinite: np.ndarray

    def __len__(self) -> int:
        return len(self.steps)


def build_history(store: HistoryStore, layer_names: list[str], layer_types: list[str],
                  param_names: list[str], param_layer: np.ndarray, module_names: list[str],
                  module_types: list[str], module_follows: list[str | None]) -> GradientHistory:
    """A ``GradientHistory`` holding copies of the filled rows, with the per-layer figures."""
    n = store.size
    param = {name: array[:n].copy() for name, array in store.params.items()}
    act = {name: array[:n].copy() for name, array in store.activations.items()}
    starts = np.flatnonzero(np.r_[True, param_layer[1:] != param_layer[:-1]])
    layer = {name: _layer_sum(param[name], starts) for name in PARAM_FIELDS}
    with np.errstate(divide="ignore", invalid="ignore"):
        param_ratio = np.sqrt(param["update_sq"]) / np.sqrt(param["weight_sq"])
        layer_ratio = np.sqrt(layer["update_sq"]) / np.sqrt(layer["weight_sq"])
    return GradientHistory(
        steps=store.steps[:n].copy(), layer_names=tuple(layer_names),
        layer_types=tuple(layer_types), param_names=tuple(param_names),
        param_layer=param_layer.copy(), module_names=tuple(module_names),
        module_types=tuple(module_types), module_follows=tuple(module_follows),
        param_grad_norm=np.sqrt(param["grad_sq"]), param_weight_norm=np.sqrt(param["weight_sq"]),
        param_update_ratio=param_ratio, param_grad_nonfinite=param["grad_nonfinite"],
        param_weight_nonfinite=param["weight_nonfinite"],
        grad_norm=np.sqrt(layer["grad_sq"]), weight_norm=np.sqrt(layer["weight_sq"]),
        update_ratio=layer_ratio, grad_nonfinite=layer["grad_nonfinite"],
        weight_nonfinite=layer["weight_nonfinite"], activation_mean=act["mean"],
        activation_std=act["std"], dead_fraction=act["dead"], saturated_fraction=act["saturated"],
        activation_nonfinite=act["nonfinite"])


def _layer_sum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sum the columns of each layer's parameters (contiguous, starting at ``starts``); NaN
    columns (a parameter without a gradient) are skipped, and a layer whose columns are all NaN
    stays NaN."""
    if values.shape[0] == 0 or values.shape[1] == 0:
        return np.zeros((values.shape[0], len(starts)), dtype=values.dtype)
    if values.dtype.kind != "f":
        return np.add.reduceat(values, starts, axis=1)
    missing = np.isnan(values)
    total = np.add.reduceat(np.where(missing, 0.0, values), starts, axis=1)
    present = np.add.reduceat(~missing, starts, axis=1)
    total[present == 0] = np.nan
    return total
