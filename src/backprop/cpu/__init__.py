"""``torch.cpu``: the CPU device's questions, answered for backprop's one CPU device, and its
older mixed-precision spellings (``bp.cpu.amp``).

>>> import backprop as bp
>>> bp.cpu.is_available(), bp.cpu.device_count(), bp.cpu.current_device()
(True, 1, 'cpu')
"""

from __future__ import annotations

from . import amp


def is_available() -> bool:
    """Always True: there is always a CPU."""
    return True


def device_count() -> int:
    """1: backprop sees the CPU as one device, as PyTorch does."""
    return 1


def current_device() -> str:
    """``'cpu'``, as ``torch.cpu.current_device()``."""
    return "cpu"


def synchronize(device: object = None) -> None:
    """Nothing to wait for: CPU work is done when the call returns."""


__all__ = ["amp", "current_device", "device_count", "is_available", "synchronize"]
