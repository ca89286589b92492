"""Fast float32 ``fmod`` and ``remainder`` on NumPy arrays, bit for bit equal to NumPy's (and so
to PyTorch's, which computes the same C formulas): the NumPy kernels of those ops, used where
the Numba ones (``backends.numba_pointwise``, one pass, faster still) do not run.

NumPy's float32 ``fmod`` calls C's ``fmodf`` once per element, and its ``remainder`` builds on
it: ~15 ns an element, 10x PyTorch's vectorised loop. Here the remainder comes from a float64
quotient instead, in a few vectorised passes:

* ``n = trunc(a / b)`` in float64 is the exact truncated quotient whenever ``|a / b| < 2**29``:
  ``a`` and ``b`` have 24-bit significands, so a true quotient that is not an integer lies at
  least ``2**-24`` (relative to the smaller unit in the last place) from every integer, further
  than the float64 division's rounding error of ``|a / b| * 2**-53`` can carry it.
* ``a - n * b`` is then exact in float64: ``n * b`` needs at most 29 + 24 = 53 bits, and the
  difference is the exact remainder, a float32 number, so its rounding changes nothing.
* C's ``fmod`` gives the remainder the sign of ``a`` (zero included): one ``copysign``.

Elements outside that range (huge quotients, a zero or infinite divisor, infinite or nan
operands) are few, and are recomputed with ``np.fmod`` itself. ``remainder`` then follows
NumPy's ``npy_divmodf`` in float32, so its roundings are NumPy's too. (``floor_divide`` done the
same way in NumPy passes was no faster than NumPy's own.) Other dtypes keep NumPy's functions
(the callers check ``applies``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Quotients below this are exact after trunc in float64 (2**29 is the proven bound; one power of
# two of margin for the rounding of the check itself).
_EXACT_QUOTIENT = 2.0 ** 28
_MIN_SIZE = 64


def applies(input: Any, other: Any) -> bool:
    """True where the fast float32 path computes ``op(input, other)``: two float32 NumPy arrays
    (the primitive hands numbers over as 0-d arrays of the promoted dtype), not both 0-d, and
    enough elements to gain from it (a few dozen calls' overhead is all NumPy spends on less)."""
    return (type(input) is np.ndarray and type(other) is np.ndarray
            and input.dtype == np.float32 and other.dtype == np.float32
            and max(input.size, other.size) >= _MIN_SIZE and (input.ndim > 0 or other.ndim > 0))


def fmod_float32(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.fmod(a, b)`` for float32 arrays, the same bits, several times faster.

    >>> import numpy as np
    >>> a, b = np.float32([-7.5, 7.5, 1e30]), np.float32([2, -2, 3e-7])
    >>> bool((fmod_float32(a, b) == np.fmod(a, b)).all())
    True
    """
    # Explicit casts and pure float64 passes: NumPy's mixed-dtype loops (dtype=, a float32
    # operand) cast in small buffers and were 3x slower.
    with np.errstate(all="ignore"):
        shape = np.broadcast_shapes(a.shape, b.shape)
        n = a.astype(np.float64)
        b64 = b.astype(np.float64)
        n = np.divide(n, b64, out=n if n.shape == shape else None)
        np.trunc(n, out=n)
        r = np.multiply(n, b64, out=b64 if b64.shape == shape else None)
        np.subtract(a, r, out=r)
        out = r.astype(np.float32)  # exact: r is a float32 number
        zero = out == 0
        if zero.any():  # C's fmod: the sign of a, a zero remainder included
            np.copysign(out, a, out=out, where=zero)
        exact = np.abs(n, out=n) < _EXACT_QUOTIENT  # False for nan and inf quotients
        exact &= ~np.isnan(out)  # an infinite divisor: 0 * inf
        if not exact.all():
            redo = ~exact
            a_full, b_full = np.broadcast_to(a, out.shape), np.broadcast_to(b, out.shape)
            out[redo] = np.fmod(a_full[redo], b_full[redo])
    return out


def _adjust(mod: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Where NumPy's divmod moves the remainder by ``b``: nonzero, of the other sign than ``b``
    (nan included, as ``mod != 0`` holds for it)."""
    adjust = np.signbit(mod)
    np.not_equal(adjust, np.signbit(b), out=adjust)
    adjust &= mod != 0
    return adjust


def remainder_float32(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.remainder(a, b)`` for float32 arrays (the sign of ``b``), the same bits.

    >>> import numpy as np
    >>> a, b = np.float32([-7.5, 7.5, -4, 3]), np.float32([2, -2, 2, np.inf])
    >>> remainder_float32(a, b).tolist()
    [0.5, -0.5, 0.0, 3.0]
    """
    mod = fmod_float32(a, b)
    with np.errstate(all="ignore"):
        np.add(mod, b, out=mod, where=_adjust(mod, b))
    # Every nonzero remainder now has the sign of b; a zero one takes it too (NumPy's rule).
    return np.copysign(mod, b, out=mod)


__all__ = ["applies", "fmod_float32", "remainder_float32"]
