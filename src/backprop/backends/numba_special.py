"""Entry points to the special functions' Numba kernels (``_numba_special``), switched by
``bp.backends.numba.enabled`` like the others; each returns None where it does not apply (Numba
absent or off), and the caller runs its NumPy code."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from .. import kernels
from . import numba as _switch

# The polynomials' recurrences, by number (``ops.special_polynomials`` passes them).
CHEBYSHEV, HERMITE_H, HERMITE_HE, LAGUERRE, LEGENDRE = range(5)

_kernels: ModuleType | None = None
_failed = False


def _load() -> ModuleType | None:
    """The kernels' module, or None while the accelerator is off or Numba does not import (asked
    each time: tests switch it)."""
    global _kernels, _failed
    if not _switch.enabled or _failed or _switch._load() is None:
        return None
    if _kernels is None:
        try:
            from . import _numba_special
        except Exception:  # noqa: BLE001 - a Numba that rejects this code: NumPy code runs
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




def _elementwise(kernel_name: str, x: Any, dtypes: tuple) -> np.ndarray | None:
    if type(x) is not np.ndarray or x.dtype not in dtypes or not _switch._applies(x):
        return None
    kernels = _load()
    if kernels is None:
        return None
    out = np.empty_like(x)
    if not _switch._run(getattr(kernels, kernel_name), x.reshape(-1), out.reshape(-1)):
        return None
    return out


_F32 = (np.dtype(np.float32),)
_F32_F64 = (np.dtype(np.float32), np.dtype(np.float64))


def erf(input: Any) -> np.ndarray | None:
    """erf of a float32 array (float64 runs Cody's approximations in NumPy), or None."""
    return _elementwise("erf32", input, _F32)


def lgamma(input: Any) -> np.ndarray | None:
    """log |Gamma(x)| of a float32 or float64 array, or None."""
    return _elementwise("lgamma", input, _F32_F64)


def digamma(input: Any) -> np.ndarray | None:
    """digamma of a float32 array (float64 keeps the NumPy path's accuracy checks), or None."""
    return _elementwise("digamma", input, _F32)


def polygamma(input: Any, *, n: int) -> np.ndarray | None:
    """polygamma(1, x) (digamma's gradient) of a float32 array, or None."""
    return _elementwise("trigamma", input, _F32) if n == 1 else None


_BITS = {np.dtype(np.float32): np.int32, np.dtype(np.float64): np.int64}


def nextafter(input: Any, other: Any) -> np.ndarray | None:
    """nextafter of two float arrays of one shape and dtype, or None."""
    if (type(input) is not np.ndarray or type(other) is not np.ndarray
            or input.shape != other.shape or not _switch._applies(input, other)):
        return None
    kernels = _load()
    if kernels is None:
        return None
    ints = _BITS[input.dtype]
    x, y = input.reshape(-1), other.reshape(-1)
    out = np.empty_like(input)
    negative_tiny = ints(np.iinfo(ints).min + 1)  # the sign bit and the lowest mantissa bit
    if not _switch._run(kernels.nextafter, x, y, x.view(ints), y.view(ints),
                        out.reshape(-1).view(ints), negative_tiny):
        return None
    return out


for _op, _kernel in {"erf": erf, "lgamma": lgamma, "digamma": digamma,
                     "nextafter": nextafter, "polygamma": polygamma}.items():
    kernels.register(_op, np.ndarray, _kernel, compiled=True)

__all__: list[Any] = []


# -- polynomials --
# The orthogonal polynomials whole (``_numba_special``'s kernels of these names).
POLYNOMIALS = ("chebyshev_t", "chebyshev_u", "chebyshev_v", "chebyshev_w", "hermite_h",
               "hermite_he", "laguerre_l", "legendre_p")
_EXACT_INT = 2 ** 53  # integer degrees up to this pass through float64 unchanged


def _degrees(n: Any, dtype: np.dtype) -> np.ndarray | None:
    """``n`` as a float32 or float64 array, or None where another type (or an integer beyond
    float64's exact range) leaves it to the NumPy code. A single degree goes in ``dtype`` (the
    input's) where that holds it exactly: one compiled kernel a dtype, not two."""
    n = np.asarray(n)
    if n.size == 1 and n.dtype != dtype and n.dtype.kind in "biuf":
        value = n.reshape(-1)[0]
        if n.dtype.kind != "f" and abs(int(value)) >= _EXACT_INT:
            return None
        with np.errstate(over="ignore"):
            exact = dtype.type(value)
        if exact == value or (np.isnan(exact) and np.isnan(value)):
            return np.asarray(exact).reshape(n.shape)
        if n.dtype.kind != "f":
            return n.astype(np.float64)
    return n if n.dtype in _F32_F64 else None


def polynomial(name: str, shift: bool, x: np.ndarray, n: Any) -> np.ndarray | None:
    """The polynomial ``name`` (a key of POLYNOMIALS; ``shift``: on [0, 1]) of degree ``n`` at
    a float32 or float64 NumPy array ``x``, broadcast, in x's dtype; or None (Numba absent or
    off, another dtype: the caller runs its NumPy code)."""
    if type(x) is not np.ndarray or x.dtype not in _F32_F64:
        return None
    n = _degrees(n, x.dtype)
    if n is None:
        return None
    kernels = _load()
    if kernels is None:
        return None
    shape = np.broadcast_shapes(x.shape, n.shape)
    # x is materialised in the result's shape; a single degree is passed once (a step of 0)
    n_step = int(n.size != 1)
    if x.shape != shape:
        x = np.broadcast_to(x, shape)
    if n_step and n.shape != shape:
        n = np.broadcast_to(n, shape)
    # (a read-only array would make Numba compile the kernel once more)
    x = np.ascontiguousarray(x).reshape(-1)
    if not x.flags.writeable:
        x = x.copy()
    n = np.ascontiguousarray(n).reshape(-1)
    if not n.flags.writeable:
        n = n.copy()
    out = np.empty(shape, x.dtype)
    if not _switch._run(getattr(kernels, name), shift, bool(x.dtype == np.float32), x, n,
                        n_step, out.reshape(-1)):
        return None
    return out
