"""Array backends: which array module (NumPy today, CuPy later) owns an array.

Ops never branch per device; they ask ``xp_of(...)`` for the namespace of their inputs and call it.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

# Types that count as "an array" for the engine. A GPU backend appends its ndarray type here.
ARRAY_TYPES: tuple[type, ...] = (np.ndarray,)


def xp_of(*arrays: Any) -> ModuleType:
    """Return the array module of the first array among ``arrays`` (NumPy for scalars).

    >>> xp_of(np.zeros(2)) is np
    True
    """
    for a in arrays:
        if type(a) is np.ndarray:
            return np
        module = getattr(type(a), "__module__", "")
        if module.startswith("cupy"):
            import cupy  # noqa: PLC0415 - optional extra, imported only when a CuPy array exists

            return cupy
    return np


def as_array(value: Any) -> np.ndarray:
    """Turn a NumPy scalar or 0-d result into an ndarray; leave arrays alone.

    NumPy reductions and ufuncs on 0-d inputs return scalars, which have no ``flags`` and
    cannot be updated in place, so every op result passes through here.
    """
    if isinstance(value, ARRAY_TYPES):
        return value
    return np.asarray(value)


_CPU_NAMES = ("cpu", "cpu:0")


def check_device(device: Any, op: str) -> None:
    """Refuse a device backprop does not have, as PyTorch does, instead of silently making the
    tensor on the CPU (a script asking for "cuda" would otherwise run there unnoticed)."""
    if device is None or str(device) in _CPU_NAMES:
        return
    raise ValueError(f"{op}: device {device!r} is not available; only 'cpu' is supported (leave "
                     "device=None)")
