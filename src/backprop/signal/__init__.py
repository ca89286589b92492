"""``bp.signal``: PyTorch's ``torch.signal`` namespace (window functions, in ``windows``)."""

from __future__ import annotations

from . import windows

__all__ = ["windows"]
