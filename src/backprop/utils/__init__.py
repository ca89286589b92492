"""``bp.utils``: helpers around the core library (``bp.utils.data``, as ``torch.utils``)."""

from __future__ import annotations

from . import checkpoint, data

__all__ = ["checkpoint", "data"]
