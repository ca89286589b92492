"""``bp.nn``: modules, parameters, layers, losses and initialisers (PyTorch's ``torch.nn``)."""

from __future__ import annotations

from . import functional
from .parameter import Parameter

__all__ = ["Parameter", "functional"]
