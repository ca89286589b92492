"""Mixed precision (``torch.amp``): ``autocast``, ``GradScaler``, ``custom_fwd``/``custom_bwd``.

>>> import backprop as bp
>>> with bp.amp.autocast("cpu"):
...     y = bp.ones(2, 3) @ bp.ones(3, 2)
>>> y.dtype == bp.bfloat16
True
"""

from __future__ import annotations

from . import autocast_policy
from .autocast_mode import autocast, is_autocast_available
from .custom_functions import custom_bwd, custom_fwd
from .grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "autocast_policy", "custom_bwd", "custom_fwd",
           "is_autocast_available"]
