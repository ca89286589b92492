"""``GradientMonitor``: per-layer gradient health recorded while a model trains.

The monitor observes through public hooks only: forward hooks on the model's layers and
activation modules (for activation statistics) and, when given the optimizer, its step pre- and
post-hooks (to snapshot the weights before an update and record after it). Forward hooks are
attached only for the steps that are recorded (every ``every``-th), so the steps in between run
the model's hook-free fast path. All figures are computed on the raw NumPy arrays with BLAS
dot products and kept in preallocated NumPy arrays (see ``_monitor_history``).

Hooks rather than an engine observer, because what it watches is one model and one optimizer:
hooks belong to those objects (in whatever thread they run, and for as long as they live),
where an observer would see every module of a thread and, left registered by a monitor never
closed, keep every op of the program on the observed path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..autograd import grad_mode
from ..nn.module import Module
from ..nn.modules.activation import ReLU, ReLU6, Sigmoid, Tanh
from ..optim.optimizer import Optimizer
from ..tensor import Tensor
from ._monitor_history import GradientHistory, HistoryStore, build_history
from ._monitor_stats import ActivationStats, sum_of_squares
from ._monitor_tensorboard import check_writer, log_row
from .health import Flag, HealthThresholds, diagnose, format_report

__all__ = ["GradientMonitor"]

# Modules whose outputs get a rule beyond mean/std: dead units or saturation.
_ACTIVATION_KINDS: tuple[tuple[type, str], ...] = ((ReLU, "relu"), (ReLU6, "relu"),
                                                   (Sigmoid, "sigmoid"), (Tanh, "tanh"))
# Layers whose (N, C, L) outputs have units (channels) on axis 1 rather than last.
_CHANNELS_FIRST = ("Conv", "BatchNorm", "InstanceNorm", "GroupNorm", "MaxPool", "AvgPool")


class GradientMonitor:
    """Record gradient health per layer while a model trains, flag problems and say what to try.

    Per recorded step and per layer (a module owning parameters, named by its dotted path) it
    keeps the gradient L2 norm (also per parameter), the weight norm, the update-to-weight ratio
    ``|w_after - w_before| / |w_after|``, and non-finite counts; per layer and per ReLU, ReLU6,
    Sigmoid and Tanh module, the mean and std of the module's output, the fraction of dead units
    (ReLU family: zero for every example of the batch) and of saturated outputs (sigmoid/tanh),
    and non-finite counts. Gradients are read as the optimizer uses them (after any clipping);
    activation statistics come from training forward passes (those under autograd, not
    ``no_grad`` evaluation).

    With ``optimizer`` the monitor records by itself after each ``optimizer.step()``; without
    it, call ``monitor.step()`` after each update. ``report()`` gives the text diagnosis,
    ``flags()`` the problems found, ``history()`` the arrays, ``plot_heatmap(path)`` a PNG of
    log10 gradient norms (layers x steps); with ``writer`` each recorded step's figures also go to
    TensorBoard. ``close()`` (or leaving a ``with`` block) removes all hooks; the history stays
    readable.

    Args:
        model: the ``bp.nn.Module`` to watch; its parameters are fixed at construction.
        optimizer: the optimizer updating ``model``; if given, recording is automatic.
        every: record one step in ``every`` (step 0, every, 2*every, ...). 10 by default, which
            costs about 3% of a step of the W1 benchmark (an MLP 784-256-256-10, batch 128);
            ``every=1`` about 25% (``python -m benchmarks.diagnostics_overhead``).
        max_history: rows kept (default 1000). When full, every other row is dropped and the
            interval doubles, so the history spans the whole run.
        track_updates: keep a copy of the weights to measure the update ratio (default True;
            costs one extra copy of the parameters in memory).
        vanishing_ratio: flag a layer whose gradient norm is below this fraction of the last
            layer's (the last in definition order that gets a gradient; default 1e-3).
        vanishing_decay: flag a layer whose gradient norm relative to the last layer's fell
            below this fraction of its early value (default 1e-3; a fall shared by every layer
            is convergence, not vanishing).
        max_grad_norm: flag a layer gradient norm above this bound (default 1e3).
        growth_ratio: flag gradient norms that grew by this factor, rising steadily, over the
            last ``window`` records (default 100).
        max_update_ratio: flag update-to-weight ratios above this (default 0.5).
        dead_fraction: flag a ReLU module with more than this fraction of dead units
            (default 0.5).
        saturated_fraction: flag a sigmoid/tanh module with more than this fraction of
            saturated outputs (default 0.5).
        window: how many of the latest records the rules summarise (by their median; default
            10). Any inf/NaN anywhere in the history is always flagged.
        writer: a ``bp.utils.tensorboard.SummaryWriter`` (or anything with ``add_scalar``) that
            gets each recorded step's figures as scalars at that training step:
            ``grad_norm/<layer>``, ``weight_norm/<layer>``, ``update_ratio/<layer>``,
            ``activation_mean/<module>``, ``activation_std/<module>``, ``dead_fraction/<module>``
            and ``saturated_fraction/<module>`` (NaN figures, meaning "no data", are skipped).

    >>> import backprop as bp
    >>> from backprop.diagnostics.monitor import GradientMonitor
    >>> _ = bp.manual_seed(0)
    >>> model = bp.nn.Sequential(bp.nn.Linear(4, 8), bp.nn.ReLU(), bp.nn.Linear(8, 2))
    >>> opt = bp.optim.SGD(model.parameters(), lr=0.1)
    >>> x, y = bp.randn(16, 4), bp.randint(0, 2, (16,))
    >>> with GradientMonitor(model, opt, every=1) as monitor:
    ...     for _ in range(3):
    ...         opt.zero_grad()
    ...         bp.nn.functional.cross_entropy(model(x), y).backward()
    ...         opt.step()
    >>> monitor.history().grad_norm.shape, monitor.flags()
    ((3, 2), [])
    """

    def __init__(self, model: Module, optimizer: Optimizer | None = None, *, every: int = 10,
                 max_history: int = 1000, track_updates: bool = True,
                 vanishing_ratio: float = 1e-3, vanishing_decay: float = 1e-3,
                 max_grad_norm: float = 1e3, growth_ratio: float = 100.0,
                 max_update_ratio: float = 0.5, dead_fraction: float = 0.5,
                 saturated_fraction: float = 0.5, window: int = 10,
                 writer: Any = None) -> None:
        _check_arguments(model, optimizer, every, max_history)
        check_writer(writer)
        self.writer = writer
        self.thresholds = HealthThresholds(
            vanishing_ratio=vanishing_ratio, vanishing_decay=vanishing_decay,
            max_grad_norm=max_grad_norm, growth_ratio=growth_ratio,
            max_update_ratio=max_update_ratio, dead_fraction=dead_fraction,
            saturated_fraction=saturated_fraction, window=window)
        self.model = model
        self.optimizer = optimizer
        self.every = every
        self._stride = every
        self._step = 0
        self._closed = False
        self._track_updates = track_updates
        self._find_layers(model)
        self._store = HistoryStore(max_history, len(self._params), len(self._module_names))
        self._stats = [ActivationStats() for _ in self._module_names]
        self._snapshots: list[np.ndarray | None] = [None] * len(self._params)
        self._armed = False  # the current step is to be recorded
        self._forward_handles: list[Any] = []
        self._last_layer: int | None = None
        self._optimizer_handles: list[Any] = []
        if optimizer is not None:
            self._optimizer_handles = [
                optimizer.register_step_pre_hook(self._before_optimizer_step),
                optimizer.register_step_post_hook(self._after_optimizer_step)]
        self._arm_if_due()

    # -- discovery -------------------------------------------------------------------------------

    def _find_layers(self, model: Module) -> None:
        """Layers (modules with their own parameters, in definition order), their parameters,
        and the observed modules (layers and activation modules, in definition order)."""
        self._layer_names: list[str] = []
        self._layer_types: list[str] = []
        self._param_names: list[str] = []
        self._params: list[Tensor] = []
        param_layer: list[int] = []
        observed: list[tuple[str, Module, str, int | None]] = []
        seen: set[int] = set()
        for name, module in model.named_modules():
            own = [(key, p) for key, p in module._parameters.items()
                   if p is not None and id(p) not in seen]
            if own:
                layer = len(self._layer_names)
                self._layer_names.append(name)
                self._layer_types.append(type(module).__name__)
                observed.append((name, module, "layer", layer))
                for key, param in own:
                    seen.add(id(param))
                    self._param_names.append(f"{name}.{key}" if name else key)
                    self._params.append(param)
                    param_layer.append(layer)
                continue
            kind = next((k for cls, k in _ACTIVATION_KINDS if isinstance(module, cls)), None)
            if kind is not None:
                observed.append((name, module, kind, None))
        if not self._params:
            raise ValueError(f"GradientMonitor: model ({type(model).__name__}) has no "
                             "parameters to watch")
        self._param_layer = np.asarray(param_layer, dtype=np.int64)
        # where each layer's parameters start (they are contiguous), for per-layer sums
        self._layer_starts = np.flatnonzero(np.r_[True, self._param_layer[1:]
                                                  != self._param_layer[:-1]])
        self._observed = observed
        self._module_names = [name for name, _, _, _ in observed]
        self._module_types = [type(module).__name__ for _, module, _, _ in observed]
        self._follows: list[int | None] = [None] * len(observed)
        self._channels_first = [type(m).__name__.startswith(_CHANNELS_FIRST)
                                for _, m, _, _ in observed]

    # -- forward hooks (attached only for recorded steps) -----------------------------------------

    def _arm_if_due(self) -> None:
        """Prepare for the current step if it is one to record: forward hooks on, and (without
        an optimizer to tell us when the update starts) the weights copied now."""
        if self._closed or self._step % self._stride:
            return
        self._armed = True
        if not self._forward_handles:
            self._last_layer = None
            for index, (_, module, kind, _) in enumerate(self._observed):
                hook = self._make_forward_hook(index, kind)
                self._forward_handles.append(module.register_forward_hook(hook))
        if self.optimizer is None:
            self._snapshot()

    def _disarm(self) -> None:
        self._armed = False
        for handle in self._forward_handles:
            handle.remove()
        self._forward_handles = []

    def _make_forward_hook(self, index: int, kind: str) -> Any:
        stats = self._stats[index]
        layer = self._observed[index][3]

        def hook(module: Module, args: tuple, output: Any) -> None:
            if not grad_mode.state.enabled:  # evaluation under no_grad: not a training step
                return
            array = _first_array(output)
            if array is None:
                return
            if layer is not None:
                self._last_layer = index
            elif self._follows[index] is None:
                self._follows[index] = self._last_layer
            follows = self._follows[index] if layer is None else index
            channels_first = follows is not None and self._channels_first[follows]
            with np.errstate(all="ignore"):  # inf/NaN outputs are counted, not warned about
                stats.add(array, kind, 1 if array.ndim >= 4 or channels_first else -1)

        return hook

    # -- optimizer hooks and steps ---------------------------------------------------------------

    def _before_optimizer_step(self, optimizer: Optimizer, args: tuple, kwargs: dict) -> None:
        if self._armed:
            self._snapshot()

    def _after_optimizer_step(self, optimizer: Optimizer, args: tuple, kwargs: dict) -> None:
        self._finish_step()

    def step(self) -> None:
        """Mark the end of a training step (call it after ``optimizer.step()``) when the monitor
        was built without the optimizer; the step is recorded if it is due.

        >>> import backprop as bp
        >>> from backprop.diagnostics.monitor import GradientMonitor
        >>> w = bp.nn.Linear(2, 1)
        >>> monitor = GradientMonitor(w, every=1)
        >>> w(bp.ones(1, 2)).sum().backward()
        >>> monitor.step(); len(monitor.history())
        1
        """
        if self.optimizer is not None:
            raise RuntimeError("GradientMonitor.step: this monitor was given the optimizer and "
                               "records after each optimizer.step() by itself; do not call "
                               "step() as well (or build it without optimizer=)")
        if self._closed:
            raise RuntimeError("GradientMonitor.step: the monitor is closed; build a new one")
        self._finish_step()

    def _finish_step(self) -> None:
        if self._armed:
            self._record()
            self._disarm()
        self._step += 1
        self._arm_if_due()

    def _snapshot(self) -> None:
        if not self._track_updates:
            return
        for i, param in enumerate(self._params):
            data = param._data
            copy = self._snapshots[i]
            if copy is None or copy.shape != data.shape or copy.dtype != data.dtype:
                self._snapshots[i] = data.copy()
            else:
                np.copyto(copy, data)

    def _record(self) -> None:
        with np.errstate(all="ignore"):  # inf/NaN values are counted, not warned about
            row = self._record_row()
            if self.writer is not None:
                log_row(self.writer, self._store, row, self._layer_names, self._layer_starts,
                        self._module_names)

    def _record_row(self) -> int:
        row, halved = self._store.new_row(self._step)
        if halved:
            self._stride *= 2
        columns = self._store.params
        grad_sq, weight_sq, update_sq = (columns["grad_sq"][row], columns["weight_sq"][row],
                                         columns["update_sq"][row])
        grad_bad, weight_bad = columns["grad_nonfinite"][row], columns["weight_nonfinite"][row]
        for i, param in enumerate(self._params):
            data = param._data
            weight_sq[i], weight_bad[i] = sum_of_squares(data)
            grad = param.grad
            if grad is None:
                grad_sq[i], grad_bad[i] = np.nan, 0
            else:
                grad_sq[i], grad_bad[i] = sum_of_squares(grad._data)
            before = self._snapshots[i]
            if before is None or before.shape != data.shape:
                update_sq[i] = np.nan
            else:  # the snapshot is not needed again before the next copy: reuse it as scratch
                np.subtract(data, before, out=before)
                update_sq[i] = sum_of_squares(before)[0]
        activations = self._store.activations
        for index, stats in enumerate(self._stats):
            (activations["mean"][row, index], activations["std"][row, index],
             activations["dead"][row, index], activations["saturated"][row, index],
             activations["nonfinite"][row, index]) = stats.result()
            stats.reset()
        return row

    # -- results ---------------------------------------------------------------------------------

    def history(self) -> GradientHistory:
        """Copies of the recorded arrays, oldest step first (see ``GradientHistory``)."""
        follows = [None if f is None else self._module_names[f] for f in self._follows]
        return build_history(self._store, self._layer_names, self._layer_types,
                             self._param_names, self._param_layer, self._module_names,
                             self._module_types, follows)

    def flags(self) -> list[Flag]:
        """The problems found in the history so far (empty when training looks healthy)."""
        return diagnose(self.history(), self.thresholds, self._learning_rate())

    def report(self) -> str:
        """A text report: the latest figures per layer and module, then each problem found
        with the remedies to try."""
        history = self.history()
        flags = diagnose(history, self.thresholds, self._learning_rate())
        return format_report(history, flags, self.thresholds, self.every, self._stride)

    def plot_heatmap(self, path: str | Path, title: str | None = None) -> Path:
        """Write a PNG heat map of log10 gradient norms, layers x recorded steps (inf/NaN
        gradients in red, layers without a gradient in grey); needs matplotlib."""
        from .heatmap import save_heatmap  # noqa: PLC0415 - matplotlib is optional

        return save_heatmap(self.history(), path, title=title)

    def _learning_rate(self) -> float | None:
        if self.optimizer is None:
            return None
        lr = self.optimizer.param_groups[0].get("lr")
        return float(lr) if isinstance(lr, (int, float)) else None

    # -- lifetime --------------------------------------------------------------------------------

    def close(self) -> None:
        """Remove every hook this monitor installed; the recorded history stays available."""
        self._disarm()
        for handle in self._optimizer_handles:
            handle.remove()
        self._optimizer_handles = []
        self._snapshots = [None] * len(self._params)
        self._closed = True

    def __enter__(self) -> GradientMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (f"GradientMonitor({len(self._layer_names)} layers, {self._store.size} steps "
                f"recorded, every={self.every}, {state})")


def _first_array(output: Any) -> np.ndarray | None:
    """The floating-point array of a module's output (the first tensor of a tuple)."""
    if isinstance(output, (tuple, list)):
        output = next((o for o in output if isinstance(o, Tensor)), None)
    if not isinstance(output, Tensor):
        return None
    array = output._data
    return array if array.dtype.kind == "f" else None


def _check_arguments(model: Any, optimizer: Any, every: Any, max_history: Any) -> None:
    if not isinstance(model, Module):
        raise TypeError(f"GradientMonitor: model must be a bp.nn.Module, got "
                        f"{type(model).__name__}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(f"GradientMonitor: optimizer must be a bp.optim.Optimizer or None, got "
                        f"{type(optimizer).__name__}")
    for name, value, least in (("every", every, 1), ("max_history", max_history, 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"GradientMonitor: {name} must be an integer >= {least}, got "
                             f"{value!r}")
