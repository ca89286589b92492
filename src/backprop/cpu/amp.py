"""``torch.cpu.amp``: ``autocast`` and ``GradScaler`` for the CPU under their older names,
deprecated in PyTorch in favour of ``torch.amp`` (and warning so here, with its words).

>>> import warnings, backprop as bp
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     with bp.cpu.amp.autocast():
...         dtype = (bp.ones(2, 2) @ bp.ones(2, 2)).dtype
>>> dtype == bp.bfloat16
True
"""

from __future__ import annotations

import warnings
from typing import Any

from ..amp import autocast_mode, grad_scaler


class autocast(autocast_mode.autocast):  # noqa: N801 - PyTorch's name
    """``bp.amp.autocast("cpu", ...)`` with ``torch.cpu.amp.autocast``'s arguments."""

    def __init__(self, enabled: bool = True, dtype: Any = None,
                 cache_enabled: bool = True) -> None:
        warnings.warn("`torch.cpu.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cpu', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(grad_scaler.GradScaler):
    """``bp.amp.GradScaler("cpu", ...)`` under ``torch.cpu.amp``'s name."""

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000,
                 enabled: bool = True) -> None:
        warnings.warn("`torch.cpu.amp.GradScaler(args...)` is deprecated. Please use "
                      "`torch.amp.GradScaler('cpu', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cpu", init_scale, growth_factor, backoff_factor, growth_interval,
                         enabled)


__all__ = ["GradScaler", "autocast"]
