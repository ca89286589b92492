"""Numba kernels for the Bessel and Airy functions and the regularised incomplete gamma functions
(``ops.special_bessel``, ``ops.special_numerics``): the same formulas, tables and regions as the
NumPy code, compiled. Imported by ``backends.numba_special`` on first use only.

Why compiled loops win here: the NumPy code makes ~3 passes per Chebyshev coefficient (30
coefficients: 90 passes) and masks, gathers and scatters every region; a compiled loop keeps an
element in registers. The tables are module-level arrays, which Numba freezes into the compiled
code as constants; with the helpers inlined (``inline="always"``) LLVM unrolls Clenshaw's loop
over them (passing them as arguments, or as tuples, is ~5x slower). A loop whose body has no
branch and no call LLVM also vectorises (4 elements at a time), so the kernels are laid out for
that: the common range runs over every element with its argument clamped into the range, or
each block of 256 elements is sorted by range into buffers, and the series run over a buffer;
exp, log, sin and cos (calls) follow in loops of their own.

Each kernel reads ``x`` (float32 or float64), computes in float64 and stores into ``out`` (the
input's dtype): the rounding the NumPy path does with ``astype``. Results agree with the NumPy
path's bit for bit in float32 and to a few roundings in float64 (libm's exp, log, sin and cos
against NumPy's). Numba's disk cache notices changes to this file only: after editing the tables
in ``special_chebyshev`` or ``special_bessel``, touch this file (or clear ``__pycache__``).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..ops import special_bessel as B
from ..ops import special_chebyshev as C

_OPTIONS = {"fastmath": False, "error_model": "numpy", "cache": True, "nogil": True}
_INLINE = dict(_OPTIONS, inline="always")

# The tables as arrays (frozen as constants into the compiled kernels).
_I0_SMALL = np.array(C.I0_SMALL)
_I0_LARGE = np.array(C.I0_LARGE)
_I1_SMALL = np.array(C.I1_SMALL)
_I1_LARGE = np.array(C.I1_LARGE)
_K0_SMALL = np.array(C.K0_SMALL)
_K0_LARGE = np.array(C.K0_LARGE)
_K1_SMALL = np.array(C.K1_SMALL)
_K1_LARGE = np.array(C.K1_LARGE)
_J0_SMALL = np.array(C.J0_SMALL)
_J1_SMALL = np.array(C.J1_SMALL)
_Y0_SMALL = np.array(C.Y0_SMALL)
_Y1_SMALL = np.array(C.Y1_SMALL)
_PQ0_P = np.array(C.PQ0_P)
_PQ0_Q = np.array(C.PQ0_Q)
_PQ1_P = np.array(C.PQ1_P)
_PQ1_Q = np.array(C.PQ1_Q)
_AI_POS = np.array(C.AI_POS)
_AI_NEG_U = np.array(C.AI_NEG_U)
_AI_NEG_V = np.array(C.AI_NEG_V)
_AIRY_T = 2.0 / C.AIRY_Z0

# The constants of ``special_bessel``.
_SQRT_2_OVER_PI = 0.797884560802865355879892119868763737
_TWO_OVER_PI = 2.0 / math.pi
_QUARTER_PI = 0.785398163397448309615660845819875721
_THREE_QUARTER_PI = 2.356194490192344928846982537459627163
_INV_SQRT_PI = 0.564189583547756286948
_AI_0 = 0.355028053887817239260
_MINUS_AI_PRIME_0 = 0.258819403792806798405
_NAN = math.nan
_INF = math.inf
# spherical_j0's Taylor coefficients (-1)^k / (2k + 1)!, k = 0..9.
_BLOCK = 256  # elements per block where a kernel gathers them into buffers
_SINC = np.array([(-1.0) ** k / math.factorial(2 * k + 1) for k in range(10)])


@njit(**_INLINE)
def _chebyshev(t, c):
    """``sum_k c[k] T_k(t)`` by Clenshaw's recurrence, in the NumPy code's order of operations."""
    two_t = t + t
    b1 = c[c.size - 1]
    b2 = 0.0
    for k in range(c.size - 2, 0, -1):
        b1, b2 = two_t * b1 - b2 + c[k], b1
    return t * b1 - b2 + c[0]


# -- modified Bessel functions of the first kind --------------------------------------------------

@njit(**_INLINE)
def _i0(a):
    if a <= 8.0:
        return math.exp(a) * _chebyshev(a * 0.25 - 1.0, _I0_SMALL)
    if a > 8.0:
        return math.exp(a) * _chebyshev(16.0 / a - 1.0, _I0_LARGE) / math.sqrt(a)
    return _NAN


@njit(**_INLINE)
def _i1(a):
    if a <= 8.0:
        return math.exp(a) * _chebyshev(a * 0.25 - 1.0, _I1_SMALL) * a
    if a > 8.0:
        return math.exp(a) * _chebyshev(16.0 / a - 1.0, _I1_LARGE) / math.sqrt(a)
    return _NAN


# Each kernel first runs the region holding small |x| over every element, the argument clamped
# into the region so that the loop has no branch and LLVM vectorises it (4x faster than one loop
# with the regions' branches), noting whether any element lies elsewhere; only then does a
# second loop overwrite those elements with their own region's formula (for I a select per
# element, vectorised too: the argument clamped to 16, nan where |x| is nan).
#
# I0 and I1 of float32 arrays (``narrow``) sum the shorter series of ``special_bessel`` (the
# terms that cannot move a float32 result left out), as its NumPy code does.
_I0_SMALL32 = np.array(B.I0_SMALL32)
_I1_SMALL32 = np.array(B.I1_SMALL32)
_I0_LARGE32 = np.array(B.I0_LARGE32)
_I1_LARGE32 = np.array(B.I1_LARGE32)


@njit(**_INLINE)
def _i_small(x, out, order, scaled, table):
    """The range |x| <= 8 of I0/I1 (exp(-|x|) times it where ``scaled``) over every element;
    whether any element lies outside it."""
    other = False
    for i in range(x.size):
        v = np.float64(x[i])
        a = abs(v)
        other |= not a <= 8.0
        a = a if a <= 8.0 else 8.0  # noqa: FURB136 - nan too becomes 8
        r = _chebyshev(a * 0.25 - 1.0, table)
        if not scaled:
            r = math.exp(a) * r  # the NumPy code's order: exp(a) * series * a
        if order == 1:
            r = r * a
        out[i] = math.copysign(r, v) if order == 1 else r
    return other


@njit(**_INLINE)
def _i_large(x, out, order, scaled, table):
    """The range |x| > 8 (and nan) over the elements there."""
    for i in range(x.size):
        v = np.float64(x[i])
        a = abs(v)
        b = a if a > 8.0 else 16.0
        r = _chebyshev(16.0 / b - 1.0, table)
        r = r / math.sqrt(b) if scaled else math.exp(b) * r / math.sqrt(b)
        if order == 1:
            r = math.copysign(r, v)
        out[i] = r if a > 8.0 else (out[i] if a <= 8.0 else _NAN)


@njit(**_OPTIONS)
def i0(x, out, narrow):
    if narrow:
        if _i_small(x, out, 0, False, _I0_SMALL32):
            _i_large(x, out, 0, False, _I0_LARGE32)
    elif _i_small(x, out, 0, False, _I0_SMALL):
        _i_large(x, out, 0, False, _I0_LARGE)


@njit(**_OPTIONS)
def i0e(x, out, narrow):
    if narrow:
        if _i_small(x, out, 0, True, _I0_SMALL32):
            _i_large(x, out, 0, True, _I0_LARGE32)
    elif _i_small(x, out, 0, True, _I0_SMALL):
        _i_large(x, out, 0, True, _I0_LARGE)


@njit(**_OPTIONS)
def i1(x, out, narrow):
    if narrow:
        if _i_small(x, out, 1, False, _I1_SMALL32):
            _i_large(x, out, 1, False, _I1_LARGE32)
    elif _i_small(x, out, 1, False, _I1_SMALL):
        _i_large(x, out, 1, False, _I1_LARGE)


@njit(**_OPTIONS)
def i1e(x, out, narrow):
    if narrow:
        if _i_small(x, out, 1, True, _I1_SMALL32):
            _i_large(x, out, 1, True, _I1_LARGE32)
    elif _i_small(x, out, 1, True, _I1_SMALL):
        _i_large(x, out, 1, True, _I1_LARGE)


# -- modified Bessel functions of the second kind (x > 0; inf at 0, nan below) ------------------

@njit(**_INLINE)
def _k0(x, scaled):
    if x == 0.0:
        return _INF
    if x > 0.0 and x <= 2.0:
        small = _chebyshev(x * x * 0.5 - 1.0, _K0_SMALL) - math.log(0.5 * x) * _i0(x)
        return small * math.exp(x) if scaled else small
    if x > 2.0:
        large = _chebyshev(4.0 / x - 1.0, _K0_LARGE) / math.sqrt(x)
        return large if scaled else math.exp(-x) * large
    return _NAN


@njit(**_INLINE)
def _k1(x, scaled):
    if x == 0.0:
        return _INF
    if x > 0.0 and x <= 2.0:
        small = math.log(0.5 * x) * _i1(x) + _chebyshev(x * x * 0.5 - 1.0, _K1_SMALL) / x
        return small * math.exp(x) if scaled else small
    if x > 2.0:
        large = _chebyshev(4.0 / x - 1.0, _K1_LARGE) / math.sqrt(x)
        return large if scaled else math.exp(-x) * large
    return _NAN


@njit(**_OPTIONS)
def k0(x, out):
    for i in range(x.size):
        out[i] = _k0(np.float64(x[i]), False)


@njit(**_OPTIONS)
def k0e(x, out):
    for i in range(x.size):
        out[i] = _k0(np.float64(x[i]), True)


@njit(**_OPTIONS)
def k1(x, out):
    for i in range(x.size):
        out[i] = _k1(np.float64(x[i]), False)


@njit(**_OPTIONS)
def k1e(x, out):
    for i in range(x.size):
        out[i] = _k1(np.float64(x[i]), True)


# -- Bessel functions of the first and second kind ---------------------------------------------

@njit(**_OPTIONS)
def _hankel_blocks(x, out, order, second_kind):
    """Overwrite the elements outside the small range: J's |x| > 8 (Y's x > 8) by Hankel's form,
    Y's 0 by -inf, J's nan and Y's negatives and nan by nan. Per block of elements, those of
    the large range are gathered and their two series run over the buffer without a branch or
    a call (LLVM vectorises that loop); then the sine and cosine per element."""
    at = np.empty(_BLOCK, np.int64)
    values = np.empty(_BLOCK)
    p = np.empty(_BLOCK)
    q = np.empty(_BLOCK)
    shift = _QUARTER_PI if order == 0 else _THREE_QUARTER_PI
    for start in range(0, x.size, _BLOCK):
        count = 0
        for i in range(start, min(start + _BLOCK, x.size)):
            v = np.float64(x[i])
            a = v if second_kind else abs(v)
            if a > 8.0:
                at[count] = i
                values[count] = a
                count += 1
            elif second_kind and not (v > 0.0 and v <= 8.0):
                out[i] = -_INF if v == 0.0 else _NAN
            elif not second_kind and not a <= 8.0:
                out[i] = _NAN
        if order == 0:
            for j in range(count):
                a = values[j]
                t = 128.0 / (a * a) - 1.0  # inf beyond 1e154: t = -1, the limit
                p[j] = _chebyshev(t, _PQ0_P)
                q[j] = _chebyshev(t, _PQ0_Q) / a
        else:
            for j in range(count):
                a = values[j]
                t = 128.0 / (a * a) - 1.0
                p[j] = _chebyshev(t, _PQ1_P)
                q[j] = _chebyshev(t, _PQ1_Q) / a
        for j in range(count):
            a = values[j]
            phase = a - shift
            c, s = math.cos(phase), math.sin(phase)
            amplitude = (p[j] * s + q[j] * c) if second_kind else (p[j] * c - q[j] * s)
            r = amplitude * _SQRT_2_OVER_PI / math.sqrt(a)
            if order == 1 and not second_kind and x[at[j]] < 0.0:
                r = -r
            out[at[j]] = r


@njit(**_OPTIONS)
def j0(x, out):
    other = False
    for i in range(x.size):
        a = abs(np.float64(x[i]))
        other |= not a <= 8.0
        a = a if a <= 8.0 else 8.0  # noqa: FURB136 - nan too becomes 8
        out[i] = _chebyshev(a * a / 32.0 - 1.0, _J0_SMALL)
    if other:
        _hankel_blocks(x, out, 0, False)


@njit(**_OPTIONS)
def j1(x, out):
    other = False
    for i in range(x.size):
        v = np.float64(x[i])
        a = abs(v)
        other |= not a <= 8.0
        a = a if a <= 8.0 else 8.0  # noqa: FURB136 - nan too becomes 8
        r = _chebyshev(a * a / 32.0 - 1.0, _J1_SMALL) * a
        out[i] = -r if v < 0.0 else r
    if other:
        _hankel_blocks(x, out, 1, False)


# Y's small region needs log(x), a call LLVM does not vectorise: each block of elements takes
# its logarithms in one loop and the two series in a second, branch-free one that it vectorises.


@njit(**_INLINE)
def _logs_of_block(x, start, stop, logs):
    """logs[i - start] = log(x[i]) (of 8 outside (0, 8]); whether any x[i] was outside."""
    other = False
    for i in range(start, stop):
        v = np.float64(x[i])
        inside = v > 0.0 and v <= 8.0
        other |= not inside
        logs[i - start] = math.log(v) if inside else 0.0  # the others' are not used
    return other


@njit(**_OPTIONS)
def y0(x, out):
    other = False
    logs = np.empty(_BLOCK)
    for start in range(0, x.size, _BLOCK):
        stop = min(start + _BLOCK, x.size)
        other |= _logs_of_block(x, start, stop, logs)
        for i in range(start, stop):
            v = np.float64(x[i])
            v = v if v > 0.0 and v <= 8.0 else 8.0
            t = v * v / 32.0 - 1.0
            out[i] = (_chebyshev(t, _Y0_SMALL)
                      + _TWO_OVER_PI * logs[i - start] * _chebyshev(t, _J0_SMALL))
    if other:
        _hankel_blocks(x, out, 0, True)


@njit(**_OPTIONS)
def y1(x, out):
    other = False
    logs = np.empty(_BLOCK)
    for start in range(0, x.size, _BLOCK):
        stop = min(start + _BLOCK, x.size)
        other |= _logs_of_block(x, start, stop, logs)
        for i in range(start, stop):
            v = np.float64(x[i])
            v = v if v > 0.0 and v <= 8.0 else 8.0
            t = v * v / 32.0 - 1.0
            series = _chebyshev(t, _Y1_SMALL) * v
            j1_v = _chebyshev(t, _J1_SMALL) * v
            out[i] = series + _TWO_OVER_PI * (j1_v * logs[i - start] - 1.0 / v)
    if other:
        _hankel_blocks(x, out, 1, True)


@njit(**_OPTIONS)
def spherical_j0(x, out):
    c = _SINC
    for i in range(x.size):
        v = np.float64(x[i])
        a = abs(v)
        if a < 0.5:
            s = v * v
            total = 0.0
            for k in range(9, 0, -1):
                total = (total + c[k]) * s
            r = total + 1.0
        elif a < _INF:
            r = math.sin(v) / v
        elif a == _INF:
            r = 0.0
        else:
            r = _NAN
        out[i] = r


# -- the Airy function Ai ------------------------------------------------------------------------

@njit(**_INLINE)
def _airy_series(v):
    z = v * v * v
    f_term = 1.0
    g_term = v
    f = 1.0
    g = v
    for k in range(1, 22):
        f_term = f_term * z / ((3 * k - 1) * (3 * k))
        g_term = g_term * z / ((3 * k) * (3 * k + 1))
        f += f_term
        g += g_term
    return _AI_0 * f - _MINUS_AI_PRIME_0 * g


# Ai has three ranges with series, none of them rare: each block of elements is sorted by range
# into index lists, and each range's series runs over its elements gathered into a buffer (a
# loop without branches or calls, which LLVM vectorises); exp, sin and cos follow per element.

@njit(**_OPTIONS)
def airy_ai(x, out):
    series_at = np.empty(_BLOCK, np.int64)
    negative_at = np.empty(_BLOCK, np.int64)
    positive_at = np.empty(_BLOCK, np.int64)
    values = np.empty(_BLOCK)
    zetas = np.empty(_BLOCK)
    first = np.empty(_BLOCK)
    second = np.empty(_BLOCK)
    for start in range(0, x.size, _BLOCK):
        n_series = n_negative = n_positive = 0
        for i in range(start, min(start + _BLOCK, x.size)):
            v = np.float64(x[i])
            if v >= -2.09 and v < 2.09:
                series_at[n_series] = i
                n_series += 1
            elif v < -2.09 and v > -_INF:
                negative_at[n_negative] = i
                n_negative += 1
            elif v >= 2.09 and v <= 103.892:
                positive_at[n_positive] = i
                n_positive += 1
            elif v > 103.892 and v < _INF:
                out[i] = 0.0
            else:
                out[i] = _NAN
        for j in range(n_series):
            values[j] = x[series_at[j]]
        for j in range(n_series):
            first[j] = _airy_series(values[j])
        for j in range(n_series):
            out[series_at[j]] = first[j]
        for j in range(n_negative):
            v = np.float64(x[negative_at[j]])
            values[j] = v
            zetas[j] = -2.0 * v * math.sqrt(-v) / 3.0  # rounded as PyTorch's (sin depends on it)
        for j in range(n_negative):
            t = _AIRY_T / zetas[j] - 1.0
            first[j] = _chebyshev(t, _AI_NEG_U)
            second[j] = _chebyshev(t, _AI_NEG_V)
        for j in range(n_negative):
            v = values[j]
            theta = zetas[j] + 0.25 * math.pi
            out[negative_at[j]] = _INV_SQRT_PI / math.sqrt(math.sqrt(-v)) * (
                math.sin(theta) * first[j] - math.cos(theta) * second[j])
        for j in range(n_positive):
            v = np.float64(x[positive_at[j]])
            values[j] = v
            zetas[j] = 2.0 * v * math.sqrt(v) / 3.0
        for j in range(n_positive):
            first[j] = _chebyshev(_AIRY_T / zetas[j] - 1.0, _AI_POS)
        for j in range(n_positive):
            v = values[j]
            out[positive_at[j]] = _INV_SQRT_PI * first[j] / (2.0 * math.sqrt(math.sqrt(v))
                                                              * math.exp(zetas[j]))


# -- the regularised incomplete gamma functions P(a, x) and Q(a, x) ------------------------------
# ``special_numerics.incomplete_gamma``'s regions and formulas, each element iterated until it
# converges (the NumPy code iterates converged elements on with their neighbours, which changes
# a result by a rounding at most).

_EPS = float(np.finfo(np.float64).eps)
_TINY = 1e-300
_TEMME_FROM = 1e4
_TWO_PI = 2.0 * math.pi
_LIMIT = 100000


@njit(**_INLINE)
def _log1pmx(d):
    if abs(d) < 0.25:
        series = 0.0
        for k in range(30, 1, -1):
            series = series * d + (1.0 if k % 2 == 1 else -1.0) / k
        return series * d * d
    return math.log1p(d) - d


@njit(**_INLINE)
def _prefactor(a, x):
    if a >= 20.0:
        r = 1.0 / (a * a)
        remainder = (1.0 / 12 - r * (1.0 / 360 - r * (1.0 / 1260 - r * (1.0 / 1680 - r / 1188)))) / a
        return math.sqrt(a / _TWO_PI) * math.exp(a * _log1pmx((x - a) / a) - remainder)
    return math.exp(a * math.log(x) - x - math.lgamma(a))


@njit(**_INLINE)
def _temme(a, x, upper):
    d = (x - a) / a
    log_term = _log1pmx(d)
    eta = math.copysign(math.sqrt(-2.0 * log_term), d)
    if abs(eta) < 1e-3:
        c0 = -1.0 / 3 + eta * (1.0 / 12 - eta * (2.0 / 135 - eta / 864))
        c1 = -1.0 / 540 - eta * (1.0 / 288 - eta / 378)
    else:
        c0 = 1.0 / d - 1.0 / eta
        c1 = 1.0 / eta ** 3 - 1.0 / d ** 3 - 1.0 / d ** 2 - 1.0 / (12.0 * d)
    r = math.exp(a * log_term) / math.sqrt(_TWO_PI * a) * (c0 + c1 / a)
    y = eta * math.sqrt(0.5 * a)
    if upper:
        return 0.5 * math.erfc(y) + r
    return 0.5 * math.erfc(-y) - r


@njit(**_INLINE)
def _p_edge(a, x):
    """P where a or x is 0 or infinite (and neither negative), PyTorch's values."""
    if a == 0.0:
        return 1.0 if x > 0.0 else _NAN
    if x == 0.0:
        return 0.0
    if math.isinf(a):
        return _NAN if math.isinf(x) else 0.0
    if math.isinf(x):
        return 1.0
    return _NAN


@njit(**_INLINE)
def _series_sums(a, x, count, term, total, done):
    """total[j] = sum_n x^n / ((a + 1) ... (a + n)) for the first ``count`` elements, each
    stopped at the step where its term falls below eps of the sum (as ``_p_series``); all step
    together, the stopped ones frozen by selects, so the loop has no branch and vectorises."""
    for j in range(count):
        term[j] = 1.0
        total[j] = 1.0
        done[j] = False
    n = 0.0
    for _ in range(_LIMIT):
        n = n + 1.0
        left = False
        for j in range(count):
            t = term[j] * x[j] / (a[j] + n)
            s = total[j] + t
            d = done[j]
            term[j] = term[j] if d else t
            total[j] = total[j] if d else s
            d = d or t <= _EPS * s
            done[j] = d
            left |= not d
        if not left:
            break


@njit(**_INLINE)
def _fraction_values(a, x, count, b, c, d, h, done):
    """h[j] = the continued fraction of ``_q_continued_fraction`` for the first ``count``
    elements, every element stepped together and frozen where it converged (as
    ``_series_sums``)."""
    for j in range(count):
        b[j] = x[j] + 1.0 - a[j]
        c[j] = 1.0 / _TINY
        d[j] = 1.0 / b[j]
        h[j] = d[j]
        done[j] = False
    i = 0.0
    for _ in range(_LIMIT):
        i = i + 1.0
        left = False
        for j in range(count):
            an = -i * (i - a[j])
            bj = b[j] + 2.0
            dj = an * d[j] + bj
            dj = _TINY if abs(dj) < _TINY else dj
            cj = bj + an / c[j]
            cj = _TINY if abs(cj) < _TINY else cj
            dj = 1.0 / dj
            delta = dj * cj
            hj = h[j] * delta
            stopped = done[j]
            b[j] = b[j] if stopped else bj
            c[j] = c[j] if stopped else cj
            d[j] = d[j] if stopped else dj
            h[j] = h[j] if stopped else hj
            stopped = stopped or abs(delta - 1.0) <= _EPS
            done[j] = stopped
            left |= not stopped
        if not left:
            break


@njit(**_OPTIONS)
def incomplete_gamma(a, x, out, upper):
    """out = P(a, x), or Q(a, x) when ``upper``, for flat arrays of one size. Per block of
    elements, those of the series and of the continued fraction are gathered into buffers and
    iterated there together (``_series_sums``, ``_fraction_values``); the rest directly."""
    series_at = np.empty(_BLOCK, np.int64)
    fraction_at = np.empty(_BLOCK, np.int64)
    s_a = np.empty(_BLOCK)
    s_x = np.empty(_BLOCK)
    f_a = np.empty(_BLOCK)
    f_x = np.empty(_BLOCK)
    w1 = np.empty(_BLOCK)
    w2 = np.empty(_BLOCK)
    w3 = np.empty(_BLOCK)
    w4 = np.empty(_BLOCK)
    done = np.empty(_BLOCK, np.bool_)
    for start in range(0, out.size, _BLOCK):
        n_series = n_fraction = 0
        for i in range(start, min(start + _BLOCK, out.size)):
            ai = np.float64(a[i])
            xi = np.float64(x[i])
            if ai < 0.0 or xi < 0.0:
                out[i] = _NAN
            elif ai == 0.0 or xi == 0.0 or math.isinf(ai) or math.isinf(xi):
                p = _p_edge(ai, xi)
                out[i] = 1.0 - p if upper else p
            elif ai > 0.0 and xi > 0.0:  # both finite here; false at nan
                if ai >= _TEMME_FROM:
                    out[i] = _temme(ai, xi, upper)
                elif xi > ai and xi > 1.0:
                    fraction_at[n_fraction] = i
                    f_a[n_fraction] = ai
                    f_x[n_fraction] = xi
                    n_fraction += 1
                else:
                    series_at[n_series] = i
                    s_a[n_series] = ai
                    s_x[n_series] = xi
                    n_series += 1
            else:
                out[i] = _NAN
        if n_series:
            _series_sums(s_a, s_x, n_series, w1, w2, done)
            for j in range(n_series):
                p = _prefactor(s_a[j], s_x[j]) / s_a[j] * w2[j]
                out[series_at[j]] = 1.0 - p if upper else p
        if n_fraction:
            _fraction_values(f_a, f_x, n_fraction, w1, w2, w3, w4, done)
            for j in range(n_fraction):
                q = _prefactor(f_a[j], f_x[j]) * w4[j]
                out[fraction_at[j]] = q if upper else 1.0 - q
