"""Numba kernels for the error-function family (issue 17): erfc, ndtr, erfcx, erfinv, ndtri and
Hurwitz's zeta. Imported by ``backends.numba_special`` on first use only (importing this module
imports Numba); kept in a file of its own because Numba's disk cache notices changes to a
kernel's own file only.

Two kinds of kernel:

- float32 (the common case, and the benchmark's): branch-free loops computed in float64, every
  range's formula evaluated and one selected, so that the compiler turns them into SIMD code.
  ``exp`` and ``log`` are ours (``_exp_nonpositive`` from ``_numba_kernels``, ``_log_normal``
  below): Numba calls the C library's one element at a time. The formulas are accurate to ~1e-8
  relative in float64, well below float32's rounding (6e-8).
- float64: scalar loops that mirror the NumPy code's formulas and order of operations (Cody's
  rational approximations of ``erf_numerics``, the ``special_numerics`` kernels), so both paths
  agree to a few units in the last place.

The constants (Cody's coefficients, ``special_numerics.ERFINV_*``) are read when a kernel is
compiled and kept in Numba's disk cache, which watches this file only: after changing them,
touch this file.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit
from numba.core import types
from numba.extending import intrinsic

from ..ops.erf_numerics import _ERF_A, _ERF_B, _ERFC_C, _ERFC_D, _ERFC_P, _ERFC_Q, _PHI32_P
from ..ops.special_numerics import _EULER_MACLAURIN, ERFINV_BOUNDS, ERFINV_CENTRAL, ERFINV_REGIONS
from ._numba_kernels import _power_of_two

_OPTIONS = {"fastmath": False, "error_model": "numpy", "cache": True, "nogil": True}

_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)
_HALF_SQRT_PI = math.sqrt(math.pi) / 2.0
_SQRT1_2 = math.sqrt(0.5)
_SQRT2 = math.sqrt(2.0)
_EPS = float(np.finfo(np.float64).eps)
_CORRECTIONS = tuple(_EULER_MACLAURIN)  # a tuple: Numba freezes it as a constant


# -- bit patterns, for a log the compiler can vectorise ---------------------------------------------

@intrinsic
def _bits(typingctx, value):
    """A float64's bit pattern as an int64."""
    if value != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(value), codegen


@intrinsic
def _from_bits(typingctx, bits):
    """The float64 whose bit pattern is the int64 ``bits``."""
    if bits != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(bits), codegen


_LN2 = math.log(2.0)
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10  # Cody and Waite's
_MANTISSA = 0x000FFFFFFFFFFFFF
_ONE_BITS = 0x3FF0000000000000


@njit(**_OPTIONS)
def _log_normal(z):
    """log(z) for a positive normal float64 to ~2e-11 absolute (the inverse error functions'
    float32 estimates need 1e-9), branch-free: z = 2^e m with m in [sqrt(1/2), sqrt 2),
    log m = 2 atanh(f), f = (m - 1) / (m + 1), |f| <= 0.172, by its odd series to f^13."""
    b = _bits(z)
    e = (b >> 52) - 1023
    m = _from_bits((b & _MANTISSA) | _ONE_BITS)  # in [1, 2)
    big = m > 1.4142135623730951
    m = m * 0.5 if big else m
    k = float(e + 1) if big else float(e)
    f = (m - 1.0) / (m + 1.0)
    f2 = f * f
    f4 = f2 * f2
    s = ((1.0 / 3.0 + f2 * (1.0 / 5.0)) + f4 * (1.0 / 7.0 + f2 * (1.0 / 9.0))
         + f4 * f4 * (1.0 / 11.0 + f2 * (1.0 / 13.0)))
    return k * _LN2 + (f + f) * (1.0 + f2 * s)


# -- short dependency chains ------------------------------------------------------------------------
# Without fused multiply-adds (no fast-math) a Horner chain of degree n costs 2n roundtrips of
# latency per vector, and a loop with several of them runs at its chains' pace (3-4x slower than
# its arithmetic allows, measured). Estrin's scheme evaluates the same polynomial in about
# 2 log2(n) steps; its rounding differs from Horner's by ulps of float64, far below float32's.

@njit(**_OPTIONS)
def _estrin10(c, t):
    """c[0] + c[1] t + ... + c[9] t^9."""
    t2 = t * t
    t4 = t2 * t2
    t8 = t4 * t4
    a = (c[0] + c[1] * t) + (c[2] + c[3] * t) * t2
    b = (c[4] + c[5] * t) + (c[6] + c[7] * t) * t2
    return (a + b * t4) + (c[8] + c[9] * t) * t8


@njit(**_OPTIONS)
def _estrin13(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, t):
    """c0 + c1 t + ... + c12 t^12."""
    t2 = t * t
    t4 = t2 * t2
    t8 = t4 * t4
    a = (c0 + c1 * t) + (c2 + c3 * t) * t2
    b = (c4 + c5 * t) + (c6 + c7 * t) * t2
    d = (c8 + c9 * t) + (c10 + c11 * t) * t2
    return (a + b * t4) + (d + c12 * t4) * t8


# exp(z) = 2^k exp(r), k = round(z / ln 2), |r| <= ln(2) / 2, exp(r) to r^10 / 10! (relative
# error below 3e-12): for results that are rounded to float32. Below -700 the result is 0.
_EXP_TERMS = tuple(1.0 / math.factorial(n) for n in range(11))
_LOG2E = 1.4426950408889634
_MAGIC = 6755399441055744.0  # 1.5 * 2^52: adding it rounds to an integer, left in the low bits


@njit(**_OPTIONS)
def _exp_short(z):
    """exp(z) for z <= 0 to ~3e-12, branch-free."""
    clamped = z if not z < -700.0 else -700.0  # NaN passes through
    shifted = clamped * _LOG2E + _MAGIC
    k = shifted - _MAGIC
    r = clamped - k * _LN2_HI
    r = r - k * _LN2_LO
    c = _EXP_TERMS
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    a = (c[0] + c[1] * r) + (c[2] + c[3] * r) * r2
    b = (c[4] + c[5] * r) + (c[6] + c[7] * r) * r2
    p = (a + b * r4) + ((c[8] + c[9] * r) + c[10] * r2) * r8
    result = p * _power_of_two(shifted)
    return result if not z < -700.0 else 0.0


# -- erfc and ndtr in float32 -----------------------------------------------------------------------
# erfc(y) = t P(t) exp(-y^2), t = 1 / (1 + 0.4 y), for y >= 0 (erf_numerics._PHI32_P: relative
# error 1e-8); erfc(-y) = 2 - erfc(y). y^2 of a float32 is exact in float64.

_P = tuple(float(c) for c in _PHI32_P)


@njit(**_OPTIONS)
def _erfc_positive(y, minus_square):
    """t P(t) exp(minus_square) for y >= 0, minus_square = -y^2 (so that a caller may pass
    an exactly computed one)."""
    t = 1.0 / (1.0 + 0.4 * y)
    return t * _estrin10(_P, t) * _exp_short(minus_square)


# |x| < 1: 1 - erf(x) by erf's Maclaurin series, x (2 / sqrt(pi)) sum_k (-x^2)^k / (k! (2k + 1))
# to k = 12 (the first term left out is below 6e-12): neither a division nor an exp, about a
# third of the work. Used for whole blocks whose elements all lie there.
_ERF_SERIES = tuple(2.0 / math.sqrt(math.pi) * (-1.0) ** k / (math.factorial(k) * (2 * k + 1))
                    for k in range(13))
_SMALL_BLOCK = 1024


@njit(**_OPTIONS)
def _erf_series(v):
    c = _ERF_SERIES
    return v * _estrin13(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10],
                         c[11], c[12], v * v)


@njit(**_OPTIONS)
def erfc32(x, out):
    """out = erfc(x) for float32 arrays."""
    for start in range(0, x.size, _SMALL_BLOCK):
        xs = x[start:start + _SMALL_BLOCK]  # slices: loops from 0 (see erfinv32)
        outs = out[start:start + _SMALL_BLOCK]
        outside = 0
        for i in range(xs.size):
            outside += not abs(xs[i]) < np.float32(1.0)  # nan counts as outside
        if outside == 0:
            for i in range(xs.size):
                outs[i] = 1.0 - _erf_series(np.float64(xs[i]))
            continue
        for i in range(xs.size):
            v = np.float64(xs[i])
            y = abs(v)
            r = _erfc_positive(y, -(y * y))
            outs[i] = 2.0 - r if v < 0.0 else r


@njit(**_OPTIONS)
def ndtr32(x, out):
    """out = Phi(x) = erfc(-x / sqrt 2) / 2 for float32 arrays."""
    for i in range(x.size):
        v = np.float64(x[i])
        h = 0.5 * _erfc_positive(abs(v) * _SQRT1_2, -0.5 * (v * v))  # Phi(-|x|)
        out[i] = h if v < 0.0 else 1.0 - h


# -- Cody's erf, erfc and erfcx in float64 (erf_numerics, special_numerics) --------------------------

@njit(**_OPTIONS)
def _erf_small(x):
    """erf(x) for |x| <= 0.46875."""
    t = x * x
    p = t * _ERF_A[4]
    q = t
    for j in range(3):
        p = (p + _ERF_A[j]) * t
        q = (q + _ERF_B[j]) * t
    return (p + _ERF_A[3]) * x / (q + _ERF_B[3])


@njit(**_OPTIONS)
def _erfcx_near(y):
    """exp(y^2) erfc(y) for 0.46875 < y <= 4."""
    p = y * _ERFC_C[8]
    q = y
    for j in range(7):
        p = (p + _ERFC_C[j]) * y
        q = (q + _ERFC_D[j]) * y
    return (p + _ERFC_C[7]) / (q + _ERFC_D[7])


@njit(**_OPTIONS)
def _erfcx_far(z, y):
    """exp(y^2) erfc(y) for y > 4, from z = 1 / y^2 (the callers bound y differently)."""
    p = z * _ERFC_P[5]
    q = z
    for j in range(4):
        p = (p + _ERFC_P[j]) * z
        q = (q + _ERFC_Q[j]) * z
    return (_INV_SQRT_PI - (p + _ERFC_P[4]) / (q + _ERFC_Q[4]) * z) / y


@njit(**_OPTIONS)
def _exp_minus_square(y):
    head = math.trunc(y * 16.0) / 16.0
    return math.exp(-head * head) * math.exp(-(y - head) * (y + head))


@njit(**_OPTIONS)
def _exp_square(y):
    head = math.trunc(y * 16.0) / 16.0
    return math.exp(head * head) * math.exp((y - head) * (y + head))


@njit(**_OPTIONS)
def _erfc_beyond_small(y):
    """erfc(y) for y > 0.46875."""
    yt = min(y, 1e30)  # as erf_numerics: 1 / y^2 underflows harmlessly, y = inf stays finite
    r = _erfcx_near(y) if y <= 4.0 else _erfcx_far(1.0 / (yt * yt), yt)
    return r * _exp_minus_square(min(y, 40.0))


@njit(**_OPTIONS)
def _erf64(x):
    y = abs(x)
    if math.isnan(x):
        return x
    if y <= 0.46875:
        return _erf_small(x)
    return math.copysign((0.5 - _erfc_beyond_small(y)) + 0.5, x)


@njit(**_OPTIONS)
def _erfc64(x):
    y = abs(x)
    if math.isnan(x):
        return x
    if y <= 0.46875:
        return 1.0 - _erf_small(x)
    r = _erfc_beyond_small(y)
    return 2.0 - r if x < 0.0 else r


@njit(**_OPTIONS)
def _erfcx64(x):
    """exp(x^2) erfc(x), as special_numerics.erfcx."""
    if math.isnan(x):
        return x
    y = abs(x)
    if y <= 0.46875:
        return _exp_square(x) * (1.0 - _erf_small(x))
    if x > 0.0:  # 1 / y^2 is 0 beyond 1e154: the limit 1 / (sqrt(pi) y)
        return _erfcx_near(x) if x <= 4.0 else _erfcx_far(1.0 / min(x, 1e300) ** 2, x)
    if y > 27.0:
        return math.inf
    tail = _erfcx_near(y) if y <= 4.0 else _erfcx_far(1.0 / min(y, 1e300) ** 2, y)
    return 2.0 * _exp_square(y) - tail


@njit(**_OPTIONS)
def erfc64(x, out):
    """out = erfc(x) for float64 arrays (Cody's, as the NumPy path)."""
    for i in range(x.size):
        out[i] = _erfc64(x[i])


@njit(**_OPTIONS)
def ndtr64(x, out):
    """out = Phi(x) = erfc(-x / sqrt 2) / 2 for float64 arrays."""
    for i in range(x.size):
        out[i] = 0.5 * _erfc64(x[i] * -_SQRT1_2)


@njit(**_OPTIONS)
def erfcx(x, out):
    """out = erfcx(x), computed in float64 for float32 and float64 arrays."""
    for i in range(x.size):
        out[i] = _erfcx64(np.float64(x[i]))


# -- erfinv and ndtri ------------------------------------------------------------------------------
# special_numerics.ERFINV_REGIONS: x = y P_A(t) for w = -log(1 - y^2) < 6.25, else P(t) in
# r = sqrt(w) (three ranges of r); every polynomial of degree 12 (shorter ones padded with zeros).

_W_END_A, _R_END_B, _R_END_C = ERFINV_BOUNDS
(_MID_A, _SCALE_A, _A), (_MID_B, _SCALE_B, _B), (_MID_C, _SCALE_C, _C), (_MID_D, _SCALE_D, _D) = (
    (center, scale, tuple(float(c) for c in coefficients))
    for center, scale, coefficients in ERFINV_REGIONS)


@njit(**_OPTIONS)
def _erfinv_estimate(y, w):
    """erfinv's estimate (relative error < 1e-9) from y and w = -log((1 - y)(1 + y)), branch-
    free: each coefficient is selected by the range."""
    r = math.sqrt(w)
    in_a = w < _W_END_A
    in_b = r < _R_END_B
    in_c = r < _R_END_C
    t = ((w - _MID_A) * _SCALE_A if in_a else
         ((r - _MID_B) * _SCALE_B if in_b else
          ((r - _MID_C) * _SCALE_C if in_c else (r - _MID_D) * _SCALE_D)))
    p = _estrin13(_pick(12, in_a, in_b, in_c), _pick(11, in_a, in_b, in_c),
                  _pick(10, in_a, in_b, in_c), _pick(9, in_a, in_b, in_c),
                  _pick(8, in_a, in_b, in_c), _pick(7, in_a, in_b, in_c),
                  _pick(6, in_a, in_b, in_c), _pick(5, in_a, in_b, in_c),
                  _pick(4, in_a, in_b, in_c), _pick(3, in_a, in_b, in_c),
                  _pick(2, in_a, in_b, in_c), _pick(1, in_a, in_b, in_c),
                  _pick(0, in_a, in_b, in_c), t)
    return y * p if in_a else p


@njit(**_OPTIONS)
def _pick(j, in_a, in_b, in_c):
    """Coefficient j (from the highest power) of the range selected."""
    return _A[j] if in_a else (_B[j] if in_b else (_C[j] if in_c else _D[j]))


_MID_0, _SCALE_0, _CENTRAL = ERFINV_CENTRAL


@njit(**_OPTIONS)
def _erfinv_small(y, w):
    """_erfinv_estimate where w < 3 (|y| < 0.975) is known: degree 8 instead of 12."""
    c = _CENTRAL
    t = (w - _MID_0) * _SCALE_0
    t2 = t * t
    t4 = t2 * t2
    a = (c[8] + c[7] * t) + (c[6] + c[5] * t) * t2
    b = (c[4] + c[3] * t) + (c[2] + c[1] * t) * t2
    return y * ((a + b * t4) + c[0] * (t4 * t4))


@njit(**_OPTIONS)
def _erfinv_central(y, w):
    """_erfinv_estimate where w < 6.25 (|y| < 0.999) is known: region A alone, no square root."""
    c = _A
    return y * _estrin13(c[12], c[11], c[10], c[9], c[8], c[7], c[6], c[5], c[4], c[3], c[2],
                         c[1], c[0], (w - _MID_A) * _SCALE_A)


@njit(**_OPTIONS)
def _refine(x, y, s):
    """One step towards erf(x) = y (y <= 1/2: Halley's on erf) or erfc(x) = s (s < 1/2, exact:
    two of Newton's on log erfc), as special_numerics._refine."""
    if y <= 0.5:
        step = (_erf64(x) - y) * _HALF_SQRT_PI * math.exp(x * x)
        return x - step / (1.0 + x * step)
    log_s = math.log(s)
    for _ in range(2):
        e = _erfcx64(x)
        x = x + (math.log(e) - x * x - log_s) * _HALF_SQRT_PI * e
    return x


_BLOCK = 4096  # elements tested together for the central range
# |y| < 0.999: w < 6.25 (region A) for erfinv; p in [0.0005, 0.9995]: s > 0.001, the same for ndtri
_CENTRAL_Y = 0.999
# |y| < 0.97: w < 2.83, within the degree-8 fit's w < 3; p in [0.016, 0.984] likewise for ndtri
_SMALL_Y = 0.97


@njit(**_OPTIONS)
def erfinv32(x, out):
    """out = erfinv(x) for float32 arrays: the estimate alone. Blocks whose elements all lie
    in the central range skip the other ranges' work (most inputs: |x| < 0.999)."""
    for start in range(0, x.size, _BLOCK):
        # slices, so that the loops index from 0 (an index the compiler cannot prove
        # nonnegative costs a gather per vector)
        xs = x[start:start + _BLOCK]
        outs = out[start:start + _BLOCK]
        outside = 0
        beyond_small = 0
        for i in range(xs.size):
            a = abs(xs[i])
            outside += not a < _CENTRAL_Y  # nan counts as outside
            beyond_small += not a < _SMALL_Y
        if beyond_small == 0:
            for i in range(xs.size):
                v = np.float64(xs[i])
                a = abs(v)
                s = 1.0 - a
                z = s * (2.0 - s)  # (1 - a)(1 + a): exact for a float32 a
                outs[i] = math.copysign(_erfinv_small(a, -_log_normal(z)), v)
            continue
        if outside == 0:
            for i in range(xs.size):
                v = np.float64(xs[i])
                a = abs(v)
                s = 1.0 - a
                z = s * (2.0 - s)
                outs[i] = math.copysign(_erfinv_central(a, -_log_normal(z)), v)
            continue
        # A mixed block: the central formula over every element (the others' arguments moved
        # to 0, so that the loop stays branch-free and vectorises), then the few elements
        # outside recomputed one by one. Coefficients picked per element (_erfinv_estimate)
        # for the whole block took ten times as long.
        for i in range(xs.size):
            v = np.float64(xs[i])
            a = abs(v)
            a = a if a < _CENTRAL_Y else 0.0
            s = 1.0 - a
            z = s * (2.0 - s)
            outs[i] = math.copysign(_erfinv_central(a, -_log_normal(z)), v)
        for i in range(xs.size):
            v = np.float64(xs[i])
            a = abs(v)
            if a < _CENTRAL_Y:
                continue
            s = 1.0 - a
            z = s * (2.0 - s)
            w = -_log_normal(max(1e-300, z))
            e = _erfinv_estimate(a, w)
            e = e if a < 1.0 else (math.inf if a == 1.0 else math.nan)
            outs[i] = math.copysign(e, v)


@njit(**_OPTIONS)
def erfinv64(x, out):
    """out = erfinv(x) for float64 arrays: the estimate and one refinement."""
    for i in range(x.size):
        v = x[i]
        a = abs(v)
        if not a < 1.0:
            out[i] = math.copysign(math.inf, v) if a == 1.0 else math.nan
            continue
        if a == 0.0:
            out[i] = v
            continue
        s = 1.0 - a  # exact above 1/2, where it is used
        w = -math.log1p(-a * a) if a <= 0.5 else -math.log(s * (2.0 - s))
        out[i] = math.copysign(_refine(_erfinv_estimate(a, w), a, s), v)


@njit(**_OPTIONS)
def ndtri32(x, out):
    """out = ndtri(x) for float32 arrays: the estimate alone (central blocks as in erfinv32:
    p in [0.0005, 0.9995], where s > 0.001 and w < 6.25)."""
    for start in range(0, x.size, _BLOCK):
        xs = x[start:start + _BLOCK]
        outs = out[start:start + _BLOCK]
        outside = 0
        beyond_small = 0
        for i in range(xs.size):
            p = xs[i]
            outside += not (p > np.float32(0.0005) and p < np.float32(0.9995))
            beyond_small += not (p > np.float32(0.016) and p < np.float32(0.984))
        if beyond_small == 0:
            for i in range(xs.size):
                p = np.float64(xs[i])
                upper = p > 0.5
                s = 2.0 * (1.0 - p) if upper else 2.0 * p
                e = _erfinv_small(1.0 - s, -_log_normal(s * (2.0 - s))) * _SQRT2
                outs[i] = e if upper else -e
            continue
        if outside == 0:
            for i in range(xs.size):
                p = np.float64(xs[i])
                upper = p > 0.5
                s = 2.0 * (1.0 - p) if upper else 2.0 * p  # erfc(|result| / sqrt 2): exact
                e = _erfinv_central(1.0 - s, -_log_normal(s * (2.0 - s))) * _SQRT2
                outs[i] = e if upper else -e
            continue
        # a mixed block, as in erfinv32: the central formula everywhere, then the rest
        for i in range(xs.size):
            q = xs[i]  # the same float32 test as the second loop's
            p = np.float64(q) if (q > np.float32(0.0005) and q < np.float32(0.9995)) else 0.5
            upper = p > 0.5
            s = 2.0 * (1.0 - p) if upper else 2.0 * p
            e = _erfinv_central(1.0 - s, -_log_normal(s * (2.0 - s))) * _SQRT2
            outs[i] = e if upper else -e
        for i in range(xs.size):
            if xs[i] > np.float32(0.0005) and xs[i] < np.float32(0.9995):
                continue
            p = np.float64(xs[i])
            upper = p > 0.5
            s = 2.0 * (1.0 - p) if upper else 2.0 * p
            z = s * (2.0 - s)
            w = -_log_normal(max(1e-300, z))
            e = _erfinv_estimate(1.0 - s, w) * _SQRT2
            e = e if upper else -e
            inside = p > 0.0 and p < 1.0
            outs[i] = e if inside else (-math.inf if p == 0.0 else
                                        (math.inf if p == 1.0 else math.nan))


@njit(**_OPTIONS)
def ndtri64(x, out):
    """out = ndtri(x) for float64 arrays: the estimate and one refinement."""
    for i in range(x.size):
        p = x[i]
        if not (p > 0.0 and p < 1.0):
            out[i] = -math.inf if p == 0.0 else (math.inf if p == 1.0 else math.nan)
            continue
        upper = p > 0.5
        s = 2.0 * (1.0 - p) if upper else 2.0 * p
        if s == 1.0:
            out[i] = 0.0
            continue
        w = -math.log(s * (2.0 - s))
        e = _refine(_erfinv_estimate(1.0 - s, w), 1.0 - s, s) * _SQRT2
        out[i] = e if upper else -e


# -- Hurwitz's zeta (special_numerics.zeta, element by element) -------------------------------------

@njit(**_OPTIONS)
def _zeta_one(x, q):
    if x == 1.0:
        return math.inf
    if x < 1.0:
        return math.nan
    if q <= 0.0:
        if q == math.floor(q):
            return math.inf  # a pole
        if x != math.floor(x):
            return math.nan  # a non-integer power of a negative number
    # The direct sum: at least 9 terms, and on until a passes 9; it stops early where a term no
    # longer counts. (nan and infinite q take 9 terms and end as the NumPy code's arithmetic.)
    terms = 9.0
    if not (math.isnan(q) or math.isinf(q)):
        terms = max(9.0, math.floor(9.0 - q) + 1.0)
    s = q ** -x
    a = q
    b = 0.0
    i = 1.0
    while i <= terms:
        a = a + 1.0
        b = a ** -x
        s = s + b
        if -_EPS * s < b < _EPS * s:
            return s
        i += 1.0
    # Euler-Maclaurin at w = a: the integral of the rest, half the last term, corrections.
    w = a
    s = s + b * w / (x - 1.0) - 0.5 * b
    factor = 1.0
    k = 0.0
    for j in range(len(_CORRECTIONS)):
        factor = factor * (x + k)
        b = b / w
        t = factor * b / _CORRECTIONS[j]
        s = s + t
        if abs(t / s) < _EPS:
            return s
        k += 1.0
        factor = factor * (x + k)
        b = b / w
        k += 1.0
    return s


@njit(**_OPTIONS)
def zeta(x, q, out):
    """out = zeta(x, q) for float32 or float64 arrays of one shape, computed in float64."""
    for i in range(x.size):
        v = np.float64(x[i])
        # x < 1 (nan) is common enough to be tested here, where it costs no call
        out[i] = math.nan if v < 1.0 else _zeta_one(v, np.float64(q[i]))
