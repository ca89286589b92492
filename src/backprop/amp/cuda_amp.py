"""``torch.cuda.amp``'s older spellings: ``autocast(enabled, dtype, cache_enabled)`` for
``'cuda'`` and ``GradScaler`` defaulting to ``'cuda'`` (PyTorch deprecates both in favour of
``torch.amp``; here they are thin aliases).

>>> import backprop as bp
>>> bp.cuda.amp.GradScaler is bp.amp.GradScaler
True
"""

from __future__ import annotations

from typing import Any

from .autocast_mode import autocast as _autocast
from .custom_functions import custom_bwd, custom_fwd
from .grad_scaler import GradScaler


class autocast(_autocast):
    """``bp.autocast("cuda", ...)`` with ``torch.cuda.amp.autocast``'s argument order."""

    def __init__(self, enabled: bool = True, dtype: Any = None,
                 cache_enabled: bool = True) -> None:
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd"]
