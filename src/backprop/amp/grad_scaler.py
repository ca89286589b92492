"""``GradScaler``: loss scaling for low-precision training (``torch.amp.GradScaler``).

Multiply the loss by a scale before ``backward`` so that small float16 gradients do not
flush to zero; ``step`` divides the gradients by it again (``unscale_``) and skips the
optimizer's step when any gradient is inf or NaN; ``update`` then halves the scale
(``backoff_factor``) after a skipped step, or doubles it (``growth_factor``) after
``growth_interval`` steps in a row without one:

    scale <- scale * backoff_factor                     (inf/NaN found; tracker <- 0)
    scale <- scale * growth_factor   when tracker + 1 == growth_interval   (tracker <- 0)

>>> import backprop as bp
>>> w = bp.nn.Parameter(bp.ones(2))
>>> opt = bp.optim.SGD([w], lr=0.1)
>>> scaler = bp.amp.GradScaler("cpu", init_scale=1024.0)
>>> scaler.scale((w * 3).sum()).backward()
>>> w.grad.tolist()                      # scaled
[3072.0, 3072.0]
>>> scaler.step(opt); scaler.update()
>>> w.tolist(), scaler.get_scale()       # unscaled before the step
([0.699999988079071, 0.699999988079071], 1024.0)
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from typing import Any

import numpy as np

from .. import backend
from ..autograd.grad_mode import no_grad
from ..creation import tensor as _tensor
from ..tensor import Tensor

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"
_FIX = ("This may indicate your script did not use scaler.scale(loss or outputs) earlier in "
        "the iteration.")


def _cuda_available() -> bool:
    """``bp.cuda.is_available()`` (bp.cuda serves this module as ``bp.cuda.amp``)."""
    try:
        return backend.backend_for("cuda").device_count() > 0
    except (ImportError, RuntimeError):
        return False


def _fresh_optimizer_state() -> dict[str, Any]:
    return {"stage": _READY, "found_inf": None}


class GradScaler:
    """Scale losses and unscale gradients for mixed-precision training (see the module).

    ``device`` is ``'cuda'`` by default, as in PyTorch: without a GPU such a scaler warns and
    is disabled (every method passes through); use ``GradScaler("cpu")`` on the CPU.
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = str(device)
        self._enabled = bool(enabled)
        if self._enabled and self._device == "cuda" and not _cuda_available():
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", UserWarning, stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise ValueError(f"GradScaler: growth_factor must be > 1.0, got {growth_factor}")
            if backoff_factor >= 1.0:
                raise ValueError(f"GradScaler: backoff_factor must be < 1.0, got "
                                 f"{backoff_factor}")
        self._init_scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._init_growth_tracker = 0
        self._scale: Tensor | None = None  # a float32 0-d tensor, made by the first scale()
        self._growth_tracker = 0
        self._per_optimizer_states: defaultdict[int, dict[str, Any]] = defaultdict(
            _fresh_optimizer_state)

    # -- scaling ---------------------------------------------------------------------------------

    def _lazy_init(self) -> None:
        if self._scale is None:
            self._scale = _tensor(self._init_scale, dtype=np.float32)
            self._growth_tracker = self._init_growth_tracker

    def scale(self, outputs: Any) -> Any:
        """``outputs`` (a tensor, or lists/tuples of them) multiplied by the scale.

        >>> import backprop as bp
        >>> bp.amp.GradScaler("cpu", init_scale=8.0).scale(bp.tensor(0.5)).item()
        4.0
        """
        if not self._enabled:
            return outputs
        self._lazy_init()
        scale = self._scale

        def apply(value: Any) -> Any:
            if isinstance(value, Tensor):
                return value * scale
            if isinstance(value, (list, tuple)):
                return type(value)(apply(v) for v in value)
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply(outputs)

    def _check_scale(self, op: str) -> Tensor:
        if self._scale is None:
            raise AssertionError(f"Attempted {op} but _scale is None.  {_FIX}")
        return self._scale

    def unscale_(self, optimizer: Any) -> None:
        """Divide ``optimizer``'s gradients by the scale in place (once per optimizer between
        updates), noting whether any is inf or NaN; call it before clipping gradients.

        >>> import backprop as bp
        >>> w = bp.nn.Parameter(bp.ones(1)); opt = bp.optim.SGD([w], lr=1.0)
        >>> scaler = bp.amp.GradScaler("cpu", init_scale=4.0)
        >>> scaler.scale(w.sum()).backward(); scaler.unscale_(opt); w.grad.tolist()
        [1.0]
        """
        if not self._enabled:
            return
        scale = self._check_scale("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        if state["stage"] is _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        # PyTorch: the reciprocal in float64, then rounded to float32
        inv_scale = np.float32(1.0 / np.float64(scale.item()))
        found_inf = False
        factor = _tensor(inv_scale, dtype=np.float32)
        with no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    grad = param.grad
                    if grad is None:
                        continue
                    if grad.dtype == np.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    if not bool(grad.isfinite().all()):
                        found_inf = True
                    grad.mul_(factor)
        state["found_inf"] = found_inf
        state["stage"] = _UNSCALED

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``optimizer.step(*args, **kwargs)`` after ``unscale_`` (unless done already), skipped
        (returning None) when a gradient was inf or NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        self._check_scale("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is _READY:
            self.unscale_(optimizer)
        result = None
        if not state["found_inf"]:
            result = optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Back off or grow the scale after this iteration's steps (see the module), or set it
        to ``new_scale`` (a float or a one-element float32 tensor)."""
        if not self._enabled:
            return
        scale = self._check_scale("update")
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                reason = ("new_scale should be a float or a 1-element torch.cuda.FloatTensor or "
                          "torch.FloatTensor with requires_grad=False.")
                if new_scale.numel() != 1 or new_scale.requires_grad:
                    raise AssertionError(reason)
                value = float(new_scale.item())
            else:
                value = float(new_scale)
            scale.fill_(value)
        else:
            found = [s["found_inf"] for s in self._per_optimizer_states.values()
                     if s["found_inf"] is not None]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            current = np.float32(scale.item())
            if any(found):
                scale.fill_(float(current * np.float32(self._backoff_factor)))
                self._growth_tracker = 0
            else:
                successful = self._growth_tracker + 1
                if successful == self._growth_interval:
                    grown = current * np.float32(self._growth_factor)
                    if np.isfinite(grown):
                        scale.fill_(float(grown))
                    self._growth_tracker = 0
                else:
                    self._growth_tracker = successful
        self._per_optimizer_states = defaultdict(_fresh_optimizer_state)

    # -- settings and state ----------------------------------------------------------------------

    def get_scale(self) -> float:
        """The current scale (``init_scale`` before the first ``scale``; 1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else float(self._scale.item())

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def _get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._scale is None else self._growth_tracker

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict[str, Any]:
        """PyTorch's keys: ``scale``, ``growth_factor``, ``backoff_factor``,
        ``growth_interval``, ``_growth_tracker`` (empty when disabled)."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale.fill_(self._init_scale)
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._scale is not None:
            self._growth_tracker = self._init_growth_tracker


__all__ = ["GradScaler"]
