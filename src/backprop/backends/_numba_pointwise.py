"""Numba kernels for float32 ``fmod``, ``remainder`` and ``floor_divide``: NumPy's results bit
for bit, in one vectorised pass. Imported by ``backends.numba_pointwise`` on first use only
(importing this module imports Numba); a file of its own because Numba's disk cache notices
changes to a kernel's own file only.

NumPy (and PyTorch) compute C's ``fmodf`` per element, ~15 ns each. Here the remainder comes
from the float64 quotient, as ``ops.division_numerics`` explains and proves exact:
``n = trunc(a / b)`` in float64 is exact while ``|n| < 2**28``, ``a - n * b`` is then exact in
float64, and C's ``fmod`` gives it the sign of ``a``. ``remainder`` and ``floor_divide`` then
take NumPy's ``npy_divmodf`` steps in float32, written as selects so that the loop vectorises.
The few elements outside that range (huge quotients, a zero divisor, infinite or nan operands)
are counted by the first pass and recomputed by a scalar second one (``_divide_one``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_OPTIONS = {"fastmath": False, "error_model": "numpy", "cache": True, "nogil": True}

_EXACT_QUOTIENT = 2.0 ** 28
_ZERO = np.float32(0.0)
_ONE = np.float32(1.0)
_HALF = np.float32(0.5)
_NAN = np.float32(np.nan)

FMOD, REMAINDER, FLOOR_DIVIDE = 0, 1, 2


@njit(**_OPTIONS)
def _fmod_exact(x, y):
    """C's fmodf(x, y) for any float32 x and y: its special values, then the remainder reduced
    by multiples ``|y| * 2**k`` (each step an exact float64 one: the quotient stays below 2**22)
    until it is below ``|y|``."""
    if np.isnan(x) or np.isnan(y) or np.isinf(x) or y == _ZERO:
        return _NAN
    if np.isinf(y):
        return x
    r = abs(np.float64(x))
    ay = abs(np.float64(y))
    while r >= ay:
        z = ay
        shift = math.frexp(r)[1] - math.frexp(ay)[1] - 20
        if shift > 0:
            z = math.ldexp(ay, shift)
        r = r - np.trunc(r / z) * z
    return np.float32(np.copysign(r, np.float64(x)))


@njit(**_OPTIONS)
def _finish(mode, x, y, mod):
    """The op's result from C's fmod ``mod`` of ``x`` and ``y`` (NumPy's npy_divmodf)."""
    moved = (mod != _ZERO) & ((y < _ZERO) != (mod < _ZERO))
    if mode == REMAINDER:
        # Every nonzero remainder ends with the sign of y; a zero one takes it too.
        return np.copysign(mod + y if moved else mod, y)
    div = (x - mod) / y
    if moved:
        div = div - _ONE
    floor = np.floor(div)
    if div - floor > _HALF:
        floor = floor + _ONE
    return floor if div != _ZERO else np.copysign(_ZERO, x / y)


@njit(**_OPTIONS)
def _divide_one(mode, x, y):
    if mode == FLOOR_DIVIDE and y == _ZERO:
        return x / y
    mod = _fmod_exact(x, y)
    return mod if mode == FMOD else _finish(mode, x, y, mod)


@njit(inline="always", **_OPTIONS)
def _fast(mode, x, y):
    """(the op's result, whether it needs ``_divide_one`` instead) by the float64 quotient."""
    n = np.trunc(np.float64(x) / np.float64(y))
    r = np.float64(x) - n * np.float64(y)
    hard = (abs(n) >= _EXACT_QUOTIENT) | np.isnan(n) | np.isnan(r)  # r: 0 * inf, infinite divisor
    mod = np.float32(np.copysign(r, np.float64(x)))
    return (mod if mode == FMOD else _finish(mode, x, y, mod)), hard


@njit(**_OPTIONS)
def divide32(mode, a, b, out):
    """out = op(a, b) for op = fmod, remainder or floor_divide (``mode``): flat float32 arrays,
    ``a`` and ``b`` of out's size or of one element. A loop for each case, so that each one
    vectorises (a stride of 0 or 1 known only at run time keeps LLVM from it)."""
    hard = 0
    if a.size == out.size and b.size == out.size:
        for i in range(out.size):
            out[i], flag = _fast(mode, a[i], b[i])
            hard += flag
    elif b.size == 1:
        y = b[0]
        for i in range(out.size):
            out[i], flag = _fast(mode, a[i], y)
            hard += flag
    else:
        x = a[0]
        for i in range(out.size):
            out[i], flag = _fast(mode, x, b[i])
            hard += flag
    if hard:
        a_step = 1 if a.size == out.size else 0
        b_step = 1 if b.size == out.size else 0
        for i in range(out.size):
            x = a[i * a_step]
            y = b[i * b_step]
            if _fast(mode, x, y)[1]:
                out[i] = _divide_one(mode, x, y)


# -- hypot in float32 -----------------------------------------------------------------------------
# sqrt(x^2 + y^2) in float64, rounded once to float32: the squares of float32 numbers neither
# overflow nor underflow in float64, and the sum is exact to 2**-53, so this is C's hypotf
# (glibc computes it so): NumPy's results bit for bit. C's special case: an infinite operand
# gives inf even beside a nan.

@njit(**_OPTIONS)
def hypot32(a, b, out):
    """out = hypot(a, b) for flat float32 arrays of one size."""
    for i in range(out.size):
        x = np.float64(a[i])
        y = np.float64(b[i])
        r = np.sqrt(x * x + y * y)
        out[i] = np.float32(np.inf if (abs(x) == np.inf) | (abs(y) == np.inf) else r)


# -- one-pass selects: the real angle, sign, hardshrink ------------------------------------------
# NumPy needs several passes (and temporaries) for each; written as selects, these loops
# vectorise. Any float dtype: Numba compiles one version per dtype, on first use.

@njit(**_OPTIONS)
def angle_real(x, pi, out):
    """PyTorch's angle of real numbers: ``pi`` (in x's dtype) below zero, 0 at or above it
    (-0.0 too), nan kept."""
    zero = x.dtype.type(0)
    for i in range(x.size):
        v = x[i]
        out[i] = v if np.isnan(v) else (pi if v < zero else zero)


@njit(**_OPTIONS)
def sign(x, out):
    """-1, 0 or 1 by the sign; 0 for nan and for -0.0 (PyTorch's: (x > 0) - (x < 0))."""
    zero = x.dtype.type(0)
    one = x.dtype.type(1)
    for i in range(x.size):
        v = x[i]
        out[i] = one if v > zero else (-one if v < zero else zero)


@njit(**_OPTIONS)
def hardshrink(x, lambd, out):
    """+0 where -lambd <= x <= lambd (``lambd`` in x's dtype), x elsewhere (nan kept)."""
    zero = x.dtype.type(0)
    for i in range(x.size):
        v = x[i]
        out[i] = zero if (v >= -lambd) & (v <= lambd) else v


@njit(**_OPTIONS)
def lerp(input, end, weight, out):
    """PyTorch's lerp with a weight per element: ``input + weight * (end - input)`` where
    ``|weight| < 0.5``, else ``end - (end - input) * (1 - weight)``; one dtype throughout."""
    one = input.dtype.type(1)
    half = input.dtype.type(0.5)
    for i in range(out.size):
        a = input[i]
        w = weight[i]
        difference = end[i] - a
        out[i] = a + w * difference if abs(w) < half else end[i] - difference * (one - w)


@njit(**_OPTIONS)
def addc(divide, input, tensor1, tensor2, value, out):
    """``input + (tensor1 * tensor2) * value`` (``divide``: ``tensor1 / tensor2``), rounded
    step by step as the NumPy code does; ``value`` in the arrays' dtype (times 1 is exact)."""
    for i in range(out.size):
        term = tensor1[i] / tensor2[i] if divide else tensor1[i] * tensor2[i]
        out[i] = input[i] + term * value
