"""Entry points to the outer-product kernels (``_numba_outer``), switched by
``bp.backends.numba.enabled`` like the others: each takes NumPy arrays only, of one float dtype
(float32 or float64), and returns None where it does not apply (Numba absent or off, another
array type, dtype or rank, fewer than ``numba.min_size`` elements); the caller then runs its
NumPy code, which gives the same numbers.

>>> import numpy as np
>>> out = outer(np.arange(3.), np.ones(200))
>>> out is None or out.shape == (3, 200)
True
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from . import numba as _switch

__all__ = ["kron2", "outer"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

#: Calls that ran a kernel, by name: tests read it to know the fast path ran.
calls: dict[str, int] = {}


def _load() -> ModuleType | None:
    return _switch.kernel_module(f"{__package__}._numba_outer")


def _operands(a: Any, b: Any, ndim: int, size: int) -> ModuleType | None:
    """The kernels' module when ``a`` and ``b`` are NumPy arrays of rank ``ndim`` and one float
    dtype, with a ``size``-element result large enough to gain; else None."""
    if (type(a) is not np.ndarray or type(b) is not np.ndarray or a.ndim != ndim
            or b.ndim != ndim or a.dtype != b.dtype or a.dtype not in _FLOATS
            or size < _switch.min_size or not _switch.enabled):
        return None
    # C-contiguous writeable operands only: each other layout (or a read-only array) would make
    # Numba compile one more version of the kernel, which takes seconds.
    for array in (a, b):
        flags = array.flags
        if not (flags.c_contiguous and flags.writeable):
            return None
    return _load()


def _ran(name: str, kernel: Any, *args: Any) -> bool:
    if not _switch._run(kernel, *args):
        return False
    calls[name] = calls.get(name, 0) + 1
    return True


def outer(a: Any, b: Any) -> np.ndarray | None:
    """``a[:, None] * b[None, :]`` for vectors ``a`` and ``b``, or None."""
    module = _operands(a, b, 1, a.size * b.size)
    if module is None:
        return None
    out = np.empty((a.shape[0], b.shape[0]), dtype=a.dtype)
    return out if _ran("outer", module.outer, a, b, out) else None


def kron2(a: Any, b: Any) -> np.ndarray | None:
    """The Kronecker product of matrices ``a`` and ``b``, or None."""
    module = _operands(a, b, 2, a.size * b.size)
    if module is None:
        return None
    out = np.empty((a.shape[0] * b.shape[0], a.shape[1] * b.shape[1]), dtype=a.dtype)
    return out if _ran("kron2", module.kron2, a, b, out) else None
