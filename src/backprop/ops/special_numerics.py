"""Array kernels for ``erfcx``, the inverse error functions (``erfinv``, ``ndtri``), the
Hurwitz zeta function and float32 ``erfc``. Each takes float64 arrays and returns float64 (but
``erfc_float32``). The Numba kernels of ``backends._numba_erf`` compute the same formulas in one
pass; these are the reference and the path without Numba.

- ``erfcx(x) = exp(x^2) erfc(x)``: for x > 0.46875 it is the rational part of W. J. Cody's
  erfc (``erf_numerics``) without its factor exp(-x^2), so it neither under- nor overflows;
  below, ``exp(x^2) erfc(x)`` and, for negative x, ``2 exp(x^2) - erfcx(-x)``.
- The inverse error functions: polynomials in w = -log(1 - y^2) and sqrt(w) fitted to 1e-9
  (``ERFINV_REGIONS``), which float32 results round from directly; float64 ones take one
  Halley step on ``erf(x) = y`` near 0, two Newton steps on ``log erfc(x) = log q`` (q = 1 - y,
  exact where it is used) beyond, the residuals taken from erf and erfcx (a few ulps).
- ``zeta(x, q) = sum_k (q + k)^-x`` by the Euler-Maclaurin formula: at least nine terms summed,
  up to a point w > 9, then the integral of the rest and Bernoulli-number corrections;
  elements a rule settles (x <= 1, the poles) are not summed.
- ``erfc_float32``: one fit for all of float32, ``t P(t) exp(-y^2)``, evaluated in float64.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .erf_numerics import (
    _ERFC_C,
    _ERFC_D,
    _ERFC_P,
    _ERFC_Q,
    _INV_SQRT_PI,
    _PHI32_P,
    _blend,
    _erf_small,
    _rational,
    erf_array,
)

_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0
_EPS = float(np.finfo(np.float64).eps)


# -- erfc of float32 -------------------------------------------------------------------------------
# One approximation for every y = |x| >= 0, the float32 normal CDF's (erf_numerics._PHI32_P):
# erfc(y) = t P(t) exp(-y^2), t = 1 / (1 + 0.4 y), relative error 1e-8, computed in float64 (y^2
# of a float32 is exact there), so that it rounds to float32 as erfc itself does; erfc(-y) =
# 2 - erfc(y). About 30 passes over cache-sized blocks, where Cody's three ranges take 85.

_BLOCK = 16384


def erfc_float32(x: np.ndarray) -> np.ndarray:
    """erfc of a float32 NumPy array (the Numba kernel's formula, in NumPy).

    >>> [round(v, 6) for v in erfc_float32(np.array([0.0, 1.0, -1.0], np.float32)).tolist()]
    [1.0, 0.157299, 1.842701]
    """
    flat = x.reshape(-1)
    out = np.empty_like(flat)
    with np.errstate(all="ignore"):
        for start in range(0, flat.size, _BLOCK):
            block = flat[start:start + _BLOCK]
            y = np.abs(block, dtype=np.float64)
            t = y * 0.4
            t += 1.0
            np.divide(1.0, t, out=t)
            q = t * _PHI32_P[9]
            for c in _PHI32_P[8::-1]:
                q += c
                q *= t
            np.multiply(y, y, out=y)
            np.negative(y, out=y)
            np.exp(y, out=y)
            q *= y
            negative = block < 0
            # 2 - q below 0, by a blend (NumPy's where and masked subtract are 20-80 times
            # slower on a mask of mixed values)
            out[start:start + _BLOCK] = _blend(negative, 2.0 - q, q) if negative.any() else q
    return out.reshape(x.shape)


# -- erfcx ----------------------------------------------------------------------------------------

def _exp_square(y: np.ndarray) -> np.ndarray:
    """exp(y*y) without the rounding error of y*y (split y into a short head and the rest)."""
    head = np.trunc(y * 16.0) / 16.0
    return np.exp(head * head) * np.exp((y - head) * (y + head))


def _erfcx_near(y: np.ndarray) -> np.ndarray:
    """erfcx(y) for 0.46875 < y <= 4: Cody's erfc without its exp(-y^2)."""
    p, q = _rational(y, _ERFC_C[8], _ERFC_C[:7], _ERFC_D[:7])
    return (p + _ERFC_C[7]) / (q + _ERFC_D[7])


def _erfcx_far(y: np.ndarray) -> np.ndarray:
    """erfcx(y) for y > 4."""
    z = 1.0 / (np.minimum(y, 1e300) ** 2)  # 0 beyond 1e154: the limit 1 / (sqrt(pi) y)
    p, q = _rational(z, _ERFC_P[5], _ERFC_P[:4], _ERFC_Q[:4])
    return (_INV_SQRT_PI - z * (p + _ERFC_P[4]) / (q + _ERFC_Q[4])) / y


def _erfcx_negative(x: np.ndarray) -> np.ndarray:
    """erfcx(x) = 2 exp(x^2) - erfcx(-x) for x < -0.46875; inf below -27 (overflow)."""
    y = -x
    tail = np.where(y > 4.0, _erfcx_far(np.maximum(y, 4.0)), _erfcx_near(np.minimum(y, 4.0)))
    return np.where(y > 27.0, np.inf, 2.0 * _exp_square(np.minimum(y, 27.0)) - tail)


def erfcx(x: np.ndarray) -> np.ndarray:
    """exp(x^2) erfc(x): 1 at 0, ~1 / (sqrt(pi) x) for large x, inf below about -26.6. Each
    range is computed on its own elements only."""
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        y = np.abs(x)
        for mask, f in (
                # erfc = 1 - Cody's small-range erf there (what erf_array computes, without
                # evaluating its other ranges too)
                (y <= 0.46875, lambda x: _exp_square(x) * (1.0 - _erf_small(x))),
                ((x > 0.46875) & (x <= 4.0), _erfcx_near),
                (x > 4.0, _erfcx_far),
                (x < -0.46875, _erfcx_negative)):
            if mask.any():
                out[mask] = f(x[mask])
    return out


# -- the inverse error functions -------------------------------------------------------------------
# x = erfinv(y) from w = -log((1 - y)(1 + y)) (M. Giles, "Approximating the erfinv function", GPU
# Computing Gems, 2011: polynomials in w near 0 and in sqrt(w) beyond). The polynomials are ours:
# Chebyshev fits of degree 12 (A, B) and 10 (C, D) to float64 values of erfinv, converted to powers
# of t = (v - center) * scale, t in [-1, 1]. Relative error below 1e-9 (A: 8e-10 on w in [0, 6.25],
# x / y fitted; B: 3e-10 on r = sqrt(w) in [2.5, 6]; C: 7e-11 on [6, 12]; D: 2e-11 on [12, 26.6],
# x fitted): float32 results need nothing more, float64 ones take one refinement (Halley's cubic
# step on erf near 0, two of Newton's on log erfc in the tail), which brings them to rounding.

#: The float32 kernels' shortcut for blocks whose elements all have w < 3 (|y| < 0.975): x / y as
#: a polynomial of degree 8 in t = (w - 1.5) / 1.5 (relative error 7e-10), highest power first.
ERFINV_CENTRAL = (1.5, 1.0 / 1.5, (
    2.7377152018229777e-06, -1.6542757972797074e-06, -6.095880281238387e-05,
    0.00017723135685240873, 0.0008993656732583541, -0.0070617115119482364,
    0.0019794812097647567, 0.37554367574989206, 1.2520638403719575))
#: Where regions A, B and C end: w = 6.25 (r = 2.5), r = 6, r = 12; D takes the rest.
ERFINV_BOUNDS = (6.25, 6.0, 12.0)
#: (center, scale, coefficients from t^12 down to t^0) of regions A (in w), B, C, D (in r).
ERFINV_REGIONS = (
    (3.125, 1.0 / 3.125, (
      -1.0741302683424565e-05, 1.526579066199772e-06, 9.156612748741899e-05,
      -0.0001349372242305963, -0.00026284000325930745, 0.0012425459664341574,
      -0.0012722981674276371, -0.004140117340215181, 0.017808469225069776, -0.02260410782449836,
      -0.058922574087923875, 0.7504943082203518, 1.6536545627563548,)),
    (4.25, 1.0 / 1.75, (
      -7.069162192929116e-06, 2.1290336196873673e-05, -1.6475102781615915e-05,
      -1.5675684204018642e-05, 6.254753781817187e-05, -0.00016301110452342617,
      0.0004122398899762934, -0.0009486611243937854, 0.001946909119160223, -0.0032445567474693434,
      0.0021798029977197365, 1.7674624081861103, 4.092223394739488,)),
    (9.0, 1.0 / 3.0, (
      0.0, 0.0, 9.58116440487604e-07, -2.5633602946323445e-06, 4.208288314896784e-06,
      -1.0289795462589543e-05, 2.4140893257328977e-05, -3.729151269521475e-05,
      -1.9227953712930645e-05, 0.000555065726824381, -0.003680433803928629, 3.0201820910361037,
      8.88427051008666,)),
    (19.3, 1.0 / 7.3, (
      0.0, 0.0, 3.270975937770586e-07, -2.3771424786379197e-07, -1.9107747088611616e-06,
      8.213075180705295e-06, -3.095418456098965e-05, 0.00011497659252186807,
      -0.0004092256836575249, 0.0014283051777316982, -0.0050000048833013675, 7.318085859951236,
      19.226366052665806,)),
)


def _polynomial(t: np.ndarray, coefficients: tuple) -> np.ndarray:
    """Horner's rule, in place: ``coefficients`` from the highest power down (leading zeros
    skipped)."""
    coefficients = coefficients[next(i for i, c in enumerate(coefficients) if c != 0.0):]
    p = t * coefficients[0]
    for c in coefficients[1:-1]:
        p += c
        p *= t
    p += coefficients[-1]
    return p


def _estimate(y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, bool]:
    """erfinv's estimate (relative error < 1e-9) from y and w = -log((1 - y)(1 + y)), each
    region on its own elements (nan where w is nan); and whether every element was central
    (w < 6.25: no nan, no infinity)."""
    largest = np.max(w) if w.size else 0.0  # nan if any is
    for (mid, scale, coefficients), end in ((ERFINV_CENTRAL, 3.0),
                                            (ERFINV_REGIONS[0], ERFINV_BOUNDS[0])):
        if largest < end:  # the common cases: |y| < 0.975, |y| < 0.9981
            t = w - mid
            t *= scale
            p = _polynomial(t, coefficients)
            p *= y
            return p, True
    (mid_a, scale_a, a), *rest = ERFINV_REGIONS
    in_a = w < ERFINV_BOUNDS[0]
    x = np.full(w.shape, np.nan)
    if in_a.any():
        x[in_a] = y[in_a] * _polynomial((w[in_a] - mid_a) * scale_a, a)
    r = np.sqrt(w)
    low = ERFINV_BOUNDS[0] ** 0.5
    for (mid, scale, coefficients), high in zip(rest, ERFINV_BOUNDS[1:] + (np.inf,)):
        mask = (r >= low) & (r < high)
        if mask.any():
            x[mask] = _polynomial((r[mask] - mid) * scale, coefficients)
        low = high
    x[r == np.inf] = np.inf
    return x, False


def _refine(x: np.ndarray, y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """One step from the estimate x >= 0 to float64's rounding, towards erf(x) = y where
    y <= 1/2 (Halley's, cubic: f = erf(x) - y, f'' / f' = -2x), towards erfc(x) = s (s = 1 - y,
    exact there) beyond: two of Newton's on g = log erfc(x) - log s, g' = -2 / (sqrt(pi)
    erfcx(x)), which neither under- nor overflows where s is tiny."""
    body = y <= 0.5
    every = body.all()
    xb, yb = (x, y) if every else (x[body], y[body])
    step = (erf_array(xb) - yb) * _SQRT_PI_OVER_2 * np.exp(xb * xb)
    xb = xb - step / (1.0 + xb * step)
    if every:
        return xb
    x = x.copy()
    x[body] = xb
    tail = ~body
    xt, log_s = x[tail], np.log(s[tail])
    for _ in range(2):
        e = erfcx(xt)
        xt = xt + (np.log(e) - xt * xt - log_s) * _SQRT_PI_OVER_2 * e
    x[tail] = xt
    return x


def erfinv(y: np.ndarray, refine: bool = True) -> np.ndarray:
    """The inverse of erf on [-1, 1]: +-inf at +-1, nan outside. ``refine``: one step to
    float64's rounding (float32 results need the estimate only)."""
    with np.errstate(all="ignore"):
        a = np.abs(y)
        s = 1.0 - a  # exact above 1/2, where the tail's refinement uses it
        w = np.log(s * (2.0 - s))  # (1 - a)(1 + a)
        np.negative(w, out=w)
        x, central = _estimate(a, w)
        if central and not refine:
            return np.copysign(x, y, out=x)  # no infinities, no nan to put in
        if refine:
            inside = (a > 0.0) & (a < 1.0)
            if inside.all():
                x = _refine(x, a, s)
            elif inside.any():
                x[inside] = _refine(x[inside], a[inside], s[inside])
        # outside the estimate's domain: +-inf at +-1, nan beyond (w is nan or -inf there)
        x = np.where(a < 1.0, x, np.where(a == 1.0, np.inf, np.nan))
    return np.copysign(x, y)


def ndtri(p: np.ndarray, refine: bool = True) -> np.ndarray:
    """The inverse of the standard normal CDF: ``-sqrt(2) erfcinv(2p)``; -inf at 0, inf at 1,
    nan outside."""
    with np.errstate(all="ignore"):
        # s = erfc(|x| / sqrt 2), in (0, 1]: 2p below 1/2, 2 (1 - p) above (both exact). (Signs
        # and choices by minimum and copysign: NumPy's where is several times slower on a mask
        # of mixed values.)
        s = np.minimum(p, 1.0 - p)
        s *= 2.0
        y = 1.0 - s
        w = np.log(s * (2.0 - s))
        np.negative(w, out=w)
        x, central = _estimate(y, w)
        if refine:
            inside = (s > 0.0) & (s < 1.0)
            if inside.all():
                x = _refine(x, y, s)
            elif inside.any():
                x[inside] = _refine(x[inside], y[inside], s[inside])
        x *= math.sqrt(2.0)
        np.copysign(x, p - 0.5, out=x)  # x >= 0 so far; negative below p = 1/2
        if central:
            return x  # no infinities, no nan to put in
        x = np.where((p > 0.0) & (p < 1.0), x,
                     np.where(p == 0.0, -np.inf, np.where(p == 1.0, np.inf, np.nan)))
    return x


# -- the Hurwitz zeta function ---------------------------------------------------------------------

def _bernoulli(count: int) -> list[Fraction]:
    """B_0 .. B_(count-1), from sum_{j<=m} C(m+1, j) B_j = 0."""
    b: list[Fraction] = []
    for m in range(count):
        b.append(Fraction(1) if m == 0 else
                 -sum(math.comb(m + 1, j) * b[j] for j in range(m)) / (m + 1))
    return b


# (2k)! / B_2k, k = 1..12: the Euler-Maclaurin corrections' denominators.
_EULER_MACLAURIN = [float(math.factorial(2 * k) / b) for k, b in
                    enumerate(_bernoulli(25)[2::2], start=1)]


def _direct_sum_long(x: float, q: float, terms: int) -> tuple[float, float, float, bool]:
    """The direct sum of one element whose q lies far below 0 (millions of terms): as arrays,
    accumulated in order as the loop would (np.cumsum adds sequentially)."""
    a = q + np.arange(1, terms + 1, dtype=np.float64)  # exact: q + k needs no rounding here
    b = np.power(a, -x)
    sums = np.cumsum(np.concatenate([[q ** -x], b]))[1:]
    stop = np.flatnonzero((-_EPS * sums < b) & (b < _EPS * sums))
    i = int(stop[0]) if stop.size else terms - 1
    return float(sums[i]), float(a[i]), float(b[i]), bool(stop.size)


def zeta(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hurwitz's zeta(x, q) = sum_{k>=0} (q + k)^-x, for x > 1 (inf at x = 1, nan below; at
    q <= 0, inf at the poles q = 0, -1, ... and nan for a non-integer x)."""
    x, q = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(q, dtype=np.float64))
    shape = x.shape
    x, q = x.reshape(-1), q.reshape(-1)
    with np.errstate(all="ignore"):
        # Elements whose value a rule settles (x <= 1, a pole, a non-integer power of a negative
        # number) take it without a sum; only the others are summed.
        below = x < 1.0
        if below.all():  # nan everywhere: no sum, no poles to look for
            return np.full(shape, np.nan)
        ruled = below | (x == 1.0) | ((q <= 0.0) & ((q == np.floor(q)) | (x != np.floor(x))))
        if ruled.all():
            out = np.where(x < 1.0, np.nan, np.where(x == 1.0, np.inf,
                                                     np.where(q == np.floor(q), np.inf, np.nan)))
            return out.reshape(shape)
        if not ruled.any():
            return _zeta_sum(x, q).reshape(shape)
        out = np.where(x < 1.0, np.nan, np.where(x == 1.0, np.inf,
                                                 np.where(q == np.floor(q), np.inf, np.nan)))
        out[~ruled] = _zeta_sum(x[~ruled], q[~ruled])
    return out.reshape(shape)


def _zeta_sum(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """zeta(x, q) of flat arrays by the sum (the rules applied again at the end, for nan)."""
    with np.errstate(all="ignore"):
        # Where the answer is settled without a sum (x <= 1, a pole of q, a non-integer power of
        # a negative number, nan), take q = 1: those elements' counts are not looped over.
        settled = (x <= 1.0) | ((q <= 0.0) & ((q == np.floor(q)) | (x != np.floor(x))))
        settled |= np.isnan(x) | np.isnan(q) | np.isinf(q)
        # The direct sum: at least 9 terms, and on until the point a passes 9 (far from the
        # poles); it stops early where a term no longer counts.
        terms = np.maximum(9, np.floor(9.0 - np.where(settled, 1.0, q)) + 1)
        long = terms > 1000
        terms = np.where(long, 9, terms)
        s = np.power(q, -x)
        done = np.zeros(s.shape, dtype=bool)
        a = q.copy()
        b = np.zeros_like(s)
        for i in range(1, int(np.max(terms, initial=9)) + 1):
            active = ~done & (i <= terms)
            a = np.where(active, a + 1.0, a)
            b = np.where(active, np.power(a, -x), b)
            s = np.where(active, s + b, s)
            done |= active & (-_EPS * s < b) & (b < _EPS * s)
        for i in np.flatnonzero(long):
            s[i], a[i], b[i], done[i] = _direct_sum_long(x[i], q[i], int(np.floor(9.0 - q[i])) + 1)
        # Euler-Maclaurin at w = a: the integral of the rest, half the last term, corrections.
        w = a
        s = np.where(done, s, s + b * w / (x - 1.0) - 0.5 * b)
        factor = np.ones_like(s)
        k = 0.0
        for denominator in _EULER_MACLAURIN:
            factor = factor * (x + k)
            b = b / w
            t = factor * b / denominator
            s = np.where(done, s, s + t)
            done |= np.abs(t / s) < _EPS
            k += 1.0
            factor = factor * (x + k)
            b = b / w
            k += 1.0
        out = s
        pole_or_undefined = np.where(q == np.floor(q), np.inf,
                                     np.where(x != np.floor(x), np.nan, out))
        out = np.where(q <= 0.0, pole_or_undefined, out)
        out = np.where(x < 1.0, np.nan, out)
        out = np.where(x == 1.0, np.inf, out)
    return out


# -- the regularised incomplete gamma functions P(a, x) and Q(a, x) = 1 - P --------------------
# Up to a = 1e4: the power series of P where x <= a (or x <= 1), else the continued fraction of
# Q (modified Lentz), both over the prefactor x^a e^-x / Gamma(a). From a = 1e4: Temme's uniform
# asymptotic expansion (DLMF 8.12), whose first two terms leave under 2e-13 there.

_TEMME_FROM = 1e4


def _log1pmx(d: np.ndarray) -> np.ndarray:
    """log(1 + d) - d, without the cancellation near 0 (its series below |d| = 1/4)."""
    small = np.abs(d) < 0.25
    ds = np.where(small, d, 0.0)
    series = np.zeros_like(ds)
    for k in range(30, 1, -1):  # -d^2/2 + d^3/3 - ...: the 30th term is below 1e-18 of the first
        series = series * ds + (-1.0) ** (k + 1) / k
    series = series * ds * ds
    with np.errstate(all="ignore"):
        direct = np.log1p(d) - d
    return np.where(small, series, direct)


def _stirling_remainder(a: np.ndarray) -> np.ndarray:
    """lgamma(a) - ((a - 1/2) log a - a + log(2 pi) / 2), for a >= 10."""
    r = 1.0 / (a * a)
    return (1.0 / 12 - r * (1.0 / 360 - r * (1.0 / 1260 - r * (1.0 / 1680 - r / 1188)))) / a


def _prefactor(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """x^a e^-x / Gamma(a): for large a as sqrt(a / 2 pi) exp(a log1pmx((x - a) / a) - mu(a)),
    which keeps its digits where a log x and x are large and nearly cancel."""
    from .gamma_numerics import lgamma_array

    large = a >= 20.0
    if not large.any():  # the common case computes one of the two forms (alike per element)
        with np.errstate(all="ignore"):
            return np.exp(a * np.log(x) - x - lgamma_array(a))
    with np.errstate(all="ignore"):
        al = np.where(large, a, 20.0)
        stirling = np.sqrt(al / (2.0 * math.pi)) * np.exp(
            al * _log1pmx((x - al) / al) - _stirling_remainder(al))
        direct = np.exp(a * np.log(x) - x - lgamma_array(np.where(large, 1.0, a)))
    return np.where(large, stirling, direct)


def _until_converged(state: list[np.ndarray], step, limit: int = 100000) -> np.ndarray:
    """Repeat ``step(*state) -> (state, converged)`` until every element has converged; the
    last state array's values. (Numbers in the state, such as a step count that every element
    shares, are passed on as they are.) Finished elements are dropped once half of those left
    have finished (until then they iterate on: a converged series or fraction stays converged;
    dropping, a gather of every state array, costs as much as several steps), so a few slow
    elements cost little and most steps copy nothing."""
    result = np.empty_like(state[-1])
    index = np.arange(state[-1].size)
    current = list(state)
    for _ in range(limit):
        if index.size == 0:
            break
        current, converged = step(*current)
        finished = int(np.count_nonzero(converged))
        if finished == index.size:
            result[index] = current[-1]
            return result
        if finished * 2 >= index.size:
            result[index[converged]] = current[-1][converged]
            keep = ~converged
            index = index[keep]
            current = [c[keep] if type(c) is np.ndarray else c for c in current]
    result[index] = current[-1]  # the limit was reached: the last values
    return result


def _p_series(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """P(a, x) = x^a e^-x / Gamma(a + 1) sum_n x^n / ((a + 1) ... (a + n))."""
    def step(a, x, n, term, total):  # in place: term and total are this loop's own arrays
        n = n + 1.0  # every element left has taken as many steps: one number
        np.multiply(term, x, out=term)
        np.divide(term, a + n, out=term)
        total += term
        return [a, x, n, term, total], term <= _EPS * total

    total = _until_converged([a, x, 0.0, np.ones_like(a), np.ones_like(a)], step)
    with np.errstate(all="ignore"):
        return _prefactor(a, x) / a * total


def _q_continued_fraction(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Q(a, x) = x^a e^-x / Gamma(a) / (x + 1 - a - 1 (1 - a) / (x + 3 - a - 2 (2 - a) / ...)),
    evaluated forwards by the modified Lentz method."""
    tiny = 1e-300

    def step(a, x, i, b, c, d, h):
        i = i + 1.0  # the same for every element: one number
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        return [a, x, i, b, c, d, h], np.abs(delta - 1.0) <= _EPS

    b = x + 1.0 - a
    with np.errstate(all="ignore"):
        h = _until_converged([a, x, 0.0, b, np.full_like(a, 1.0 / tiny),
                                  1.0 / b, 1.0 / b], step)
        return _prefactor(a, x) * h


def _temme(a: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P, Q) for large a: Q = erfc(eta sqrt(a / 2)) / 2 + R, P = erfc(-eta sqrt(a / 2)) / 2 - R,
    R = exp(-a eta^2 / 2) / sqrt(2 pi a) (c0(eta) + c1(eta) / a), with eta^2 / 2 = lambda - 1 -
    log(lambda), lambda = x / a (DLMF 8.12.3-8.12.10; the c_k's Taylor series near eta = 0)."""
    with np.errstate(all="ignore"):
        d = (x - a) / a
        log_term = _log1pmx(d)  # -eta^2 / 2
        eta = np.copysign(np.sqrt(-2.0 * log_term), d)
        near = np.abs(eta) < 1e-3
        dd = np.where(near, 1.0, d)
        ee = np.where(near, 1.0, eta)
        c0 = np.where(near, -1.0 / 3 + eta * (1.0 / 12 - eta * (2.0 / 135 - eta / 864)),
                      1.0 / dd - 1.0 / ee)
        c1 = np.where(near, -1.0 / 540 - eta * (1.0 / 288 - eta / 378),
                      1.0 / ee ** 3 - 1.0 / dd ** 3 - 1.0 / dd ** 2 - 1.0 / (12.0 * dd))
        r = np.exp(a * log_term) / np.sqrt(2.0 * math.pi * a) * (c0 + c1 / a)
        y = eta * np.sqrt(0.5 * a)
        q = 0.5 * erf_array(y, complement=True) + r
        p = 0.5 * erf_array(-y, complement=True) - r
    return p, q


def incomplete_gamma(a: np.ndarray, x: np.ndarray, upper: bool) -> np.ndarray:
    """P(a, x) (``upper`` false) or Q(a, x), with PyTorch's values at the edges: nan for a
    negative a or x; at a = 0, P = 1 for x > 0; at x = 0, P = 0; P = 0 at a = inf, 1 at x = inf
    (nan when both are)."""
    a, x = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(x, dtype=np.float64))
    shape = a.shape
    a, x = a.reshape(-1), x.reshape(-1)
    out = np.full(a.shape, np.nan)
    p_edge = np.where(a == 0.0, np.where(x > 0.0, 1.0, np.nan),
                      np.where(x == 0.0, 0.0,
                               np.where(np.isinf(a), np.where(np.isinf(x), np.nan, 0.0),
                                        np.where(np.isinf(x), 1.0, np.nan))))
    edge = (a == 0.0) | (x == 0.0) | np.isinf(a) | np.isinf(x)
    edge &= ~((a < 0.0) | (x < 0.0))  # in PyTorch's order: a nan beside an edge is no nan
    out[edge] = p_edge[edge] if not upper else 1.0 - p_edge[edge]
    regular = (a > 0.0) & (x > 0.0) & np.isfinite(a) & np.isfinite(x)
    temme = regular & (a >= _TEMME_FROM)
    if temme.any():
        p, q = _temme(a[temme], x[temme])
        out[temme] = q if upper else p
    fraction = regular & ~temme & (x > a) & (x > 1.0)
    if fraction.any():
        q = _q_continued_fraction(a[fraction], x[fraction])
        out[fraction] = q if upper else 1.0 - q
    series = regular & ~temme & ~fraction
    if series.any():
        p = _p_series(a[series], x[series])
        out[series] = 1.0 - p if upper else p
    return out.reshape(shape)
