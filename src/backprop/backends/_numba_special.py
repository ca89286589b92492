"""Numba kernels for the special functions (issue 17): the orthogonal polynomials whole (and
their recurrences' long tails, for what those kernels do not take), erf, lgamma, digamma,
trigamma, nextafter. Imported by ``backends.numba_special`` on first use only (importing
this module imports Numba). Kept apart from ``_numba_kernels`` because Numba's disk cache notices
changes to a kernel's own file only.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# (Numba's cache does not see a change to erf_numerics' coefficients: touch this file after one.)
from ..ops.erf_numerics import _PHI32_P
from ._numba_kernels import _exp_nonpositive

_OPTIONS = {"fastmath": False, "error_model": "numpy", "cache": True, "nogil": True}

# The recurrences by number, as ``numba_special`` names them (not imported from there: it imports
# this module).
CHEBYSHEV, HERMITE_H, HERMITE_HE, LAGUERRE = 0, 1, 2, 3


@njit(**_OPTIONS)
def polynomial_tail(kind, narrow, x, n, p, q, degree):
    """Carry each element's recurrence on from ``p`` and ``q`` (degrees ``degree - 1`` and
    ``degree``) up to degree ``n``, stopping early at nan as PyTorch's loop does; the result
    overwrites ``q``. ``narrow``: round every step to float32 (so that it overflows where
    float32 arithmetic does). The NumPy path's, where the whole polynomials' kernels below do
    not apply (float16, say)."""
    for i in range(x.size):
        xi = x[i]
        pi = p[i]
        qi = q[i]
        j = float(degree)
        stop = n[i]
        k = degree
        while k < stop and not math.isnan(qi):
            if kind == CHEBYSHEV:
                r = (xi + xi) * qi - pi
            elif kind == HERMITE_H:
                r = (xi + xi) * qi - (j + j) * pi
            elif kind == HERMITE_HE:
                r = xi * qi - j * pi
            elif kind == LAGUERRE:
                r = (((j + j) + (1.0 - xi)) * qi - j * pi) / (j + 1.0)
            else:
                r = ((j + j + 1.0) * xi * qi - j * pi) / (j + 1.0)
            if narrow:
                r = float(np.float32(r))
            pi = qi
            qi = r
            j += 1.0
            k += 1
        q[i] = qi



# -- the polynomials, whole ---------------------------------------------------------------------
# One kernel does everything ``ops.special_polynomials`` does: n truncated as C++ casts, the
# closed forms (ends of the interval, Chebyshev's trigonometric forms), the first degrees and the
# recurrence in float64; for float32 input the recurrence runs in float32 beside it, and decides
# where the result overflows (PyTorch's float32 inf or nan) rather than the float64 value rounded.

# The polynomials by number, as ``numba_special.POLYNOMIALS`` names them.
CHEB_T, CHEB_U, CHEB_V, CHEB_W, HERM_H, HERM_HE, LAGUERRE_L, LEGENDRE_P = range(8)
_INT64_LIMIT = 2.0 ** 63
_INT64_MIN = np.int64(-(2 ** 63))


@njit(inline="always", **_OPTIONS)
def _degree(v):
    """``n`` as C++ casts it to int64: nan, inf and what lies beyond int64 give its most negative
    value (so a result of 0)."""
    if abs(v) < _INT64_LIMIT:
        return np.int64(v)
    return _INT64_MIN


@njit(**_OPTIONS)
def _first(kind, y, one):
    """The degree-1 polynomial at ``y`` (``one``: 1 in y's type, so float32 stays float32)."""
    if kind == CHEB_U or kind == HERM_H:
        return y + y
    if kind == CHEB_V:
        return y + y - one
    if kind == CHEB_W:
        return y + y + one
    if kind == LAGUERRE_L:
        return one - y
    return y  # T, He, P


@njit(**_OPTIONS)
def _step(kind, j, x, p, q, one):
    """The recurrence's step from degrees j - 1 (``p``) and j (``q``), in PyTorch's order."""
    if kind <= CHEB_W:
        return (x + x) * q - p
    if kind == HERM_H:
        return (x + x) * q - (j + j) * p
    if kind == HERM_HE:
        return x * q - j * p
    if kind == LAGUERRE_L:
        return (((j + j) + (one - x)) * q - j * p) / (j + one)
    return ((j + j + one) * x * q - j * p) / (j + one)


@njit(**_OPTIONS)
def _by_parity(k, value):
    return -value if k % 2 == 1 else value


@njit(**_OPTIONS)
def _closed(kind, shift, x, y, k):
    """``(True, value)`` where a closed form gives degree ``k`` (>= 0) at ``x`` (``y``: x, or
    2x - 1 when shifted): the ends of the interval and Chebyshev's trigonometric forms above
    PyTorch's degrees; else ``(False, 0.0)``."""
    if kind > CHEB_W:
        if kind == LAGUERRE_L and x == 0.0:
            return True, 1.0
        if kind == LEGENDRE_P and abs(x) == 1.0:
            return True, 1.0 if (x > 0.0 or k % 2 == 0) else -1.0
        return False, 0.0
    # at an end: x == 1 (y == 1) and the other, x == 0 shifted or x == -1 (y == -1)
    upper = x == 1.0
    lower = x == 0.0 if shift else x == -1.0
    if kind == CHEB_T:
        if upper:
            return True, 1.0
        if lower:
            return True, _by_parity(k, 1.0)
        if k > 6 and abs(y) < 1.0:
            return True, math.cos(float(k) * math.acos(y))
        return False, 0.0
    if kind == CHEB_U:
        m = float(k + 1)
        if upper:
            return True, m
        if lower:
            return True, _by_parity(k, m)
        if k > (6 if shift else 8) and abs(y) < 1.0:
            angle = math.acos(y)
            sine = math.sin(angle)
            if sine != 0.0:
                return True, math.sin(m * angle) / sine
            return True, m * math.cos(m * angle) / y
        return False, 0.0
    odd_value = float(k + k + 1)
    if kind == CHEB_V:
        if upper:
            return True, 1.0
        if lower:
            return True, _by_parity(k, odd_value)
        if k > (6 if shift else 8) and abs(y) < 1.0:
            angle = math.acos(y)
            half = angle / 2.0
            if math.sin(half) != 1.0:
                return True, math.cos((float(k) + 0.5) * angle) / math.cos(half)
            return True, _by_parity(k, odd_value)
        return False, 0.0
    # W
    if upper:
        return True, odd_value
    if lower:
        return True, _by_parity(k, 1.0)
    if k > (4 if shift else 8) and abs(y) < 1.0:
        angle = math.acos(y)
        half = angle / 2.0
        if math.cos(half) != 1.0:
            return True, math.sin((float(k) + 0.5) * angle) / math.sin(half)
        return True, odd_value if y > 0.0 else _by_parity(k, 1.0)
    return False, 0.0


# Elements a block: its recurrences' arrays stay in the L1 cache. Steps a round: between rounds
# the elements that are done (their degree reached, or nan) are counted, and moved out once they
# are half the block, so that a few of high degree do not keep many others stepping.
_BLOCK = 256
_ROUND = 32


@njit(**_OPTIONS)
def _polynomial(kind, shift, narrow, x, n, n_step, out):
    """out[i] = polynomial ``kind`` of degree n[i * n_step] at x[i] (a step of 0: one degree
    for all), shifted to [0, 1] when ``shift``; ``narrow``: float32 input.

    Compiled once per polynomial (``kind`` is a constant where the entry points below call it),
    and written in loops without branches where it can (selects instead), so that they
    vectorise: a block's elements all start their recurrences (degrees 1 and 2, in float64 and
    in float32), those with a closed form are settled, then the recurrence takes one step at a
    time for all of them (SIMD lanes, and independent chains in flight), where one element at a
    time would wait on each step's latency."""
    one32 = np.float32(1.0)
    index = np.empty(_BLOCK, np.int64)
    degree = np.empty(_BLOCK, np.int64)
    closed = np.zeros(_BLOCK, np.bool_)
    y = np.empty(_BLOCK)
    p = np.empty(_BLOCK)
    q = np.empty(_BLOCK)
    y32 = np.empty(_BLOCK, np.float32)
    p32 = np.empty(_BLOCK, np.float32)
    q32 = np.empty(_BLOCK, np.float32)
    size = out.size
    settles = kind <= CHEB_W or kind == LAGUERRE_L or kind == LEGENDRE_P
    if n_step == 0 and _degree(n[0]) <= 0:  # one degree, 0 or negative
        out[:] = 1.0 if _degree(n[0]) == 0 else 0.0
        return
    for start in range(0, size, _BLOCK):
        m = min(_BLOCK, size - start)
        # degrees 1 and 2 (``p``, ``q``) of every element; the next step is j = 2. (Loops of a
        # few arrays each: with more, the compiler gives up proving they do not overlap, and
        # does not vectorise.)
        if n_step == 0:
            top = _degree(n[0])
            for t in range(m):
                degree[t] = top
        else:
            top = 0
            for t in range(m):
                degree[t] = _degree(n[start + t])
            for t in range(m):
                top = max(top, degree[t])
        if top <= 0:  # all of degree 0 or negative
            for t in range(m):
                out[start + t] = 1.0 if degree[t] == 0 else 0.0
            continue
        for t in range(m):
            x64 = np.float64(x[start + t])
            y64 = x64 + x64 - 1.0 if shift else x64
            first = _first(kind, y64, 1.0)
            y[t] = y64
            p[t] = first
            q[t] = _step(kind, 1.0, y64, 1.0, first, 1.0)
        if narrow:
            for t in range(m):
                x32 = np.float32(x[start + t])
                v32 = x32 + x32 - one32 if shift else x32
                first32 = _first(kind, v32, one32)
                y32[t] = v32
                p32[t] = first32
                q32[t] = _step(kind, one32, v32, one32, first32, one32)
        if settles:  # the closed forms: written now, and no recurrence
            for t in range(m):
                k = degree[t]
                x64 = np.float64(x[start + t])
                done, value = _closed(kind, shift, x64, y[t], k)
                if done and k >= 0:
                    out[start + t] = value
                    closed[t] = True
                    degree[t] = 0
                else:
                    closed[t] = False
        # the recurrences: steps j = 2 .. degree - 1, a round at a time
        compacted = False
        j = 2
        while j < top:
            stop = min(j + _ROUND, top)
            if narrow:  # (a branch outside the loop: the loop vectorises)
                while j < stop:
                    jf = float(j)
                    j32 = np.float32(jf)
                    for t in range(m):
                        live = j < degree[t]
                        r = _step(kind, jf, y[t], p[t], q[t], 1.0)
                        p[t] = q[t] if live else p[t]
                        q[t] = r if live else q[t]
                    for t in range(m):
                        live = j < degree[t]
                        r32 = _step(kind, j32, y32[t], p32[t], q32[t], one32)
                        p32[t] = q32[t] if live else p32[t]
                        q32[t] = r32 if live else q32[t]
                    j += 1
            else:
                while j < stop:
                    jf = float(j)
                    for t in range(m):
                        live = j < degree[t]
                        r = _step(kind, jf, y[t], p[t], q[t], 1.0)
                        p[t] = q[t] if live else p[t]
                        q[t] = r if live else q[t]
                    j += 1
            if j >= top:
                break
            # Still running: below its degree and not nan (PyTorch's loop stops at nan; it
            # stays nan anyway). When they are under half, the others are written out.
            running = 0
            top = 0
            for t in range(m):
                watched = q32[t] if narrow else q[t]
                going = j < degree[t] and not math.isnan(watched)
                running += going
                top = max(top, degree[t] if going else 0)
            if running + running >= m:
                continue
            if not compacted:
                for t in range(m):
                    index[t] = start + t
                compacted = True
            kept = 0
            for t in range(m):
                watched = q32[t] if narrow else q[t]
                if j < degree[t] and not math.isnan(watched):
                    index[kept] = index[t]
                    degree[kept] = degree[t]
                    closed[kept] = False
                    y[kept] = y[t]
                    p[kept] = p[t]
                    q[kept] = q[t]
                    y32[kept] = y32[t]
                    p32[kept] = p32[t]
                    q32[kept] = q32[t]
                    kept += 1
                elif not closed[t]:
                    out[index[t]] = _result(narrow, degree[t], p[t], q[t], q32[t])
            m = kept
        if compacted:
            for t in range(m):
                if not closed[t]:
                    out[index[t]] = _result(narrow, degree[t], p[t], q[t], q32[t])
        elif settles:
            for t in range(m):
                i = start + t
                out[i] = out[i] if closed[t] else _result(narrow, degree[t], p[t], q[t], q32[t])
        else:
            for t in range(m):
                out[start + t] = _result(narrow, degree[t], p[t], q[t], q32[t])


@njit(**_OPTIONS)
def _result(narrow, k, p, q, q32):
    """The value of degree ``k``: 0 below 0, 1 at 0, ``p`` at 1, else the recurrence's ``q``;
    for float32 input, the float32 recurrence's ``q32`` where it did not stay finite (its inf or
    nan, as PyTorch's) and the float64 value rounded elsewhere."""
    value = q if not narrow or math.isfinite(q32) else np.float64(q32)
    value = p if k == 1 else value
    value = 1.0 if k == 0 else value
    return 0.0 if k < 0 else value


# The entry points, one a polynomial (Numba compiles only those used).

@njit(**_OPTIONS)
def chebyshev_t(shift, narrow, x, n, n_step, out):
    _polynomial(CHEB_T, shift, narrow, x, n, n_step, out)


@njit(**_OPTIONS)
def chebyshev_u(shift, narrow, x, n, n_step, out):
    _polynomial(CHEB_U, shift, narrow, x, n, n_step, out)


@njit(**_OPTIONS)
def chebyshev_v(shift, narrow, x, n, n_step, out):
    _polynomial(CHEB_V, shift, narrow, x, n, n_step, out)


@njit(**_OPTIONS)
def chebyshev_w(shift, narrow, x, n, n_step, out):
    _polynomial(CHEB_W, shift, narrow, x, n, n_step, out)


@njit(**_OPTIONS)
def hermite_h(shift, narrow, x, n, n_step, out):
    _polynomial(HERM_H, shift, narrow, x, n, n_step, out)


@njit(**_OPTIONS)
def hermite_he(shift, narrow, x, n, n_step, out):
    _polynomial(HERM_HE, shift, narrow, x, n, n_step, out)


@njit(**_OPTIONS)
def laguerre_l(shift, narrow, x, n, n_step, out):
    _polynomial(LAGUERRE_L, shift, narrow, x, n, n_step, out)


@njit(**_OPTIONS)
def legendre_p(shift, narrow, x, n, n_step, out):
    _polynomial(LEGENDRE_P, shift, narrow, x, n, n_step, out)


# -- erf in float32 -------------------------------------------------------------------------------
# Two branch-free pieces, both evaluated and one selected (so the loop vectorises): below 0.5 the
# Maclaurin series x (2/sqrt(pi)) sum (-x^2)^k / (k! (2k + 1)) to x^13 (the first term left out
# is below 5e-10); above, 1 - erfc(|x|) with erfc(y) = t P(t) exp(-y^2), t = 1 / (1 + 0.4 y),
# the polynomial fitted for the float32 GELU (erf_numerics._PHI32_P: 1e-8 relative).

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_ERF_SERIES = tuple(np.float32(_TWO_OVER_SQRT_PI * (-1.0) ** k / (math.factorial(k) * (2 * k + 1)))
                    for k in range(7))
_ERFC_P = tuple(np.float32(c) for c in _PHI32_P)


@njit(**_OPTIONS)
def erf32(x, out):
    """out = erf(x) for float32 arrays."""
    c = _ERF_SERIES
    d = _ERFC_P
    for i in range(x.size):
        v = x[i]
        z = v * v
        s = c[6]
        s = s * z + c[5]
        s = s * z + c[4]
        s = s * z + c[3]
        s = s * z + c[2]
        s = s * z + c[1]
        s = s * z + c[0]
        small = s * v
        y = abs(v)
        t = np.float32(1.0) / (np.float32(1.0) + np.float32(0.4) * y)
        q = d[9] * t
        q = (q + d[8]) * t
        q = (q + d[7]) * t
        q = (q + d[6]) * t
        q = (q + d[5]) * t
        q = (q + d[4]) * t
        q = (q + d[3]) * t
        q = (q + d[2]) * t
        q = (q + d[1]) * t
        q = (q + d[0]) * t
        erfc = q * _exp_nonpositive(-z)
        large = math.copysign(np.float32(1.0) - erfc, v)
        out[i] = small if y < np.float32(0.5) else large


# -- lgamma and digamma ---------------------------------------------------------------------------

@njit(**_OPTIONS)
def lgamma(x, out):
    """out = log |Gamma(x)|: the C library's lgamma, which is PyTorch's CPU kernel too."""
    for i in range(x.size):
        out[i] = math.lgamma(x[i])


_PI = math.pi
# B_2k / (2k), k = 1..6: psi(x) ~ log x - 1/(2x) - sum B_2k / (2k x^2k), for x >= 10 accurate to
# ~1e-16 relative.
_DIGAMMA_SERIES = (1.0 / 12, -1.0 / 120, 1.0 / 252, -1.0 / 240, 1.0 / 132, -691.0 / 32760)


@njit(**_OPTIONS)
def digamma(x, out):
    """out = digamma(x), computed in float64: reflection below 0.5 (psi(x) = psi(1 - x) -
    pi / tan(pi x)), the recurrence psi(x) = psi(x + 1) - 1/x up to 10, then the asymptotic
    series. Poles as PyTorch: -inf at +0, +inf at -0, nan at negative integers and -inf."""
    s = _DIGAMMA_SERIES
    for i in range(x.size):
        v = float(x[i])
        if v == 0.0:
            out[i] = -math.copysign(math.inf, v)
            continue
        if v < 0.0 and v == math.floor(v):
            out[i] = math.nan
            continue
        if v == math.inf:
            out[i] = math.inf
            continue
        result = 0.0
        if v < 0.5:
            # pi / tan(pi x), with x reduced to (-0.5, 0.5] first so that pi x stays exact
            r = v - math.floor(v + 0.5)
            result = -_PI / math.tan(_PI * r)
            v = 1.0 - v
        while v < 10.0:
            result -= 1.0 / v
            v += 1.0
        inv2 = 1.0 / (v * v)
        series = s[5]
        series = series * inv2 + s[4]
        series = series * inv2 + s[3]
        series = series * inv2 + s[2]
        series = series * inv2 + s[1]
        series = series * inv2 + s[0]
        out[i] = result + math.log(v) - 0.5 / v - series * inv2


# -- nextafter ------------------------------------------------------------------------------------

@njit(**_OPTIONS)
def nextafter(x, y, x_bits, y_bits, out_bits, negative_tiny):
    """out = the next float after x towards y, by stepping x's bit pattern (``x_bits``: x
    viewed as integers of its width) by one: away from zero where y lies beyond x, towards it
    otherwise; from zero, the smallest subnormal with y's sign (``negative_tiny``: its
    negative's pattern)."""
    for i in range(x.size):
        a = x[i]
        b = y[i]
        if math.isnan(a):
            out_bits[i] = x_bits[i]
        elif math.isnan(b) or a == b:
            out_bits[i] = y_bits[i]
        elif a == 0:
            out_bits[i] = 1 if b > 0 else negative_tiny
        elif (b > a) == (a > 0):
            out_bits[i] = x_bits[i] + 1
        else:
            out_bits[i] = x_bits[i] - 1


# B_2k, k = 1..6: psi_1(x) ~ 1/x + 1/(2x^2) + sum B_2k / x^(2k+1), for x >= 10 accurate to
# ~1e-16 relative.
_TRIGAMMA_SERIES = (1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66, -691.0 / 2730)


@njit(**_OPTIONS)
def trigamma(x, out):
    """out = polygamma(1, x) (digamma's derivative), computed in float64: reflection below 0.5
    (psi_1(x) = pi^2 / sin^2(pi x) - psi_1(1 - x)), the recurrence psi_1(x) = psi_1(x + 1) +
    1/x^2 up to 10, then the asymptotic series. As PyTorch: inf at the poles, nan at -inf."""
    s = _TRIGAMMA_SERIES
    for i in range(x.size):
        v = float(x[i])
        if v <= 0.0 and v == math.floor(v):
            out[i] = math.inf
            continue
        if v == -math.inf:
            out[i] = math.nan
            continue
        if v == math.inf:
            out[i] = 0.0
            continue
        sign = 1.0
        reflected = 0.0
        if v < 0.5:
            r = v - math.floor(v + 0.5)  # sin(pi x)^2 from x reduced to (-0.5, 0.5]
            sine = math.sin(_PI * r)
            reflected = _PI * _PI / (sine * sine)
            sign = -1.0
            v = 1.0 - v
        total = 0.0
        while v < 10.0:
            total += 1.0 / (v * v)
            v += 1.0
        inv = 1.0 / v
        inv2 = inv * inv
        series = s[5]
        series = series * inv2 + s[4]
        series = series * inv2 + s[3]
        series = series * inv2 + s[2]
        series = series * inv2 + s[1]
        series = series * inv2 + s[0]
        total += inv + 0.5 * inv2 + series * inv2 * inv
        out[i] = reflected + sign * total
