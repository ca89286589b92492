"""Entry points to the special functions' Numba kernels (``_numba_special``), switched by
``bp.backends.numba.enabled`` like the others; each returns None where it does not apply (Numba
absent or off), and the caller runs its NumPy code."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from . import numba as _switch

# The polynomials' recurrences, by number (``ops.special_polynomials`` passes them).
CHEBYSHEV, HERMITE_H, HERMITE_HE, LAGUERRE, LEGENDRE = range(5)

_kernels: ModuleType | None = None
_failed = False


def _load() -> ModuleType | None:
    global _kernels, _failed
    if not _switch.enabled or _failed:
        return None
    if _kernels is None:
        try:
            if _switch._load() is None:  # Numba does not import here
                _failed = True
                return None
            from . import _numba_special
        except Exception:  # noqa: BLE001 - a Numba that rejects this NumPy: NumPy code runs
            _failed = True
            return None
        _kernels = _numba_special
    return _kernels


def polynomial_tail(kind: int, x: np.ndarray, n: np.ndarray, p: np.ndarray, q: np.ndarray,
                    degree: int) -> np.ndarray | None:
    """The recurrence ``kind`` carried on from degree ``degree`` to each ``n`` (see
    ``_numba_special.polynomial_tail``), or None."""
    kernels = _load()
    if kernels is None:
        return None
    out = np.ascontiguousarray(q, dtype=np.float64).copy()
    args = (kind, x.dtype != np.float64, np.ascontiguousarray(x, dtype=np.float64),
            np.ascontiguousarray(n, dtype=np.int64), np.ascontiguousarray(p, dtype=np.float64),
            out, degree)
    if not _switch._run(kernels.polynomial_tail, *args):
        return None
    return out.astype(x.dtype, copy=False)


__all__: list[Any] = []
