"""Array kernels for ``erfcx``, the inverse error functions (``erfinv``, ``ndtri``) and the
Hurwitz zeta function. Each takes float64 arrays and returns float64.

- ``erfcx(x) = exp(x^2) erfc(x)``: for x > 0.46875 it is the rational part of W. J. Cody's
  erfc (``erf_numerics``) without its factor exp(-x^2), so it neither under- nor overflows;
  below, ``exp(x^2) erfc(x)`` and, for negative x, ``2 exp(x^2) - erfcx(-x)``.
- The inverse error functions solve ``erf(x) = w`` by Halley's method near 0 and
  ``log erfc(x) = log q`` (q = 1 - w, exact where it is used) by Newton's method beyond, from
  Winitzki's closed-form estimate (relative error ~2e-3): three and four steps reach float64
  rounding, the residuals taken from erf and erfcx, which are accurate to a few ulps.
- ``zeta(x, q) = sum_k (q + k)^-x`` by the Euler-Maclaurin formula: at least nine terms summed,
  up to a point w > 9, then the integral of the rest and Bernoulli-number corrections.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .erf_numerics import _ERFC_C, _ERFC_D, _ERFC_P, _ERFC_Q, _INV_SQRT_PI, _rational, erf_array

_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0
_EPS = float(np.finfo(np.float64).eps)


# -- erfcx ----------------------------------------------------------------------------------------

def _exp_square(y: np.ndarray) -> np.ndarray:
    """exp(y*y) without the rounding error of y*y (split y into a short head and the rest)."""
    head = np.trunc(y * 16.0) / 16.0
    return np.exp(head * head) * np.exp((y - head) * (y + head))


def _erfcx_beyond(y: np.ndarray) -> np.ndarray:
    """erfcx(y) for y > 0.46875: Cody's erfc without its exp(-y^2)."""
    p, q = _rational(np.clip(y, 0.46875, 4.0), _ERFC_C[8], _ERFC_C[:7], _ERFC_D[:7])
    near = (p + _ERFC_C[7]) / (q + _ERFC_D[7])
    yt = np.clip(y, 4.0, 1e300)
    z = 1.0 / (yt * yt)  # underflows to 0 beyond 1e154: the limit 1 / (sqrt(pi) y)
    pt, qt = _rational(z, _ERFC_P[5], _ERFC_P[:4], _ERFC_Q[:4])
    far = (_INV_SQRT_PI - z * (pt + _ERFC_P[4]) / (qt + _ERFC_Q[4])) / y
    return np.where(y > 4.0, far, near)


def erfcx(x: np.ndarray) -> np.ndarray:
    """exp(x^2) erfc(x): 1 at 0, ~1 / (sqrt(pi) x) for large x, inf below about -26.6."""
    with np.errstate(all="ignore"):
        y = np.abs(x)
        small = y <= 0.46875
        out = _erfcx_beyond(np.where(small, 1.0, y))
        out = np.where(x < 0, 2.0 * _exp_square(np.minimum(y, 27.0)) - out, out)
        out = np.where(x < -27.0, np.inf, out)
        near_zero = _exp_square(np.where(small, y, 0.0)) * erf_array(np.where(small, x, 0.0),
                                                                     complement=True)
        out = np.where(small, near_zero, out)
        out = np.where(x == np.inf, 0.0, out)
    return np.where(np.isnan(x), np.nan, out)


# -- the inverse error functions -------------------------------------------------------------------

def _solve_erf(w: np.ndarray, q: np.ndarray, tail: np.ndarray) -> np.ndarray:
    """x >= 0 with erf(x) = w, given also as erfc(x) = q: by ``w`` where ``tail`` is false
    (w <= 1/2), by ``q`` where it is true (q < 1/2, where 1 - q would lose digits). w and q
    must be in (0, 1)."""
    # Winitzki's estimate, with log((1 - w)(1 + w)) from whichever of w, q is exact.
    a = 0.147
    log_term = np.where(tail, np.log(q * (2.0 - q)), np.log1p(-w * w))
    t1 = 2.0 / (math.pi * a) + 0.5 * log_term
    x = np.sqrt(np.sqrt(t1 * t1 - log_term / a) - t1)
    # Near 0 the estimate cancels; erf(x) ~ 2x / sqrt(pi) there is better.
    x = np.where(~tail & (w < 1e-3), w * _SQRT_PI_OVER_2, x)
    body = ~tail
    if body.any():
        xb, wb = x[body], w[body]
        for _ in range(3):  # Halley: f = erf(x) - w, f'' / f' = -2x
            step = (erf_array(xb) - wb) * _SQRT_PI_OVER_2 * np.exp(xb * xb)
            xb = xb - step / (1.0 + xb * step)
        x[body] = xb
    if tail.any():
        xt, log_q = x[tail], np.log(q[tail])
        for _ in range(4):  # Newton on g = log erfc(x) - log q, g' = -2 / (sqrt(pi) erfcx(x))
            e = erfcx(xt)
            xt = xt + (np.log(e) - xt * xt - log_q) * _SQRT_PI_OVER_2 * e
        x[tail] = xt
    return x


def erfinv(y: np.ndarray) -> np.ndarray:
    """The inverse of erf on [-1, 1]: +-inf at +-1, nan outside."""
    with np.errstate(all="ignore"):
        w = np.abs(y)
        inside = w < 1.0
        ws = np.where(inside & (w > 0.0), w, 0.25)
        tail = ws > 0.5
        x = _solve_erf(ws, np.where(tail, 1.0 - ws, 0.75), tail)  # 1 - ws is exact above 1/2
        x = np.where(w == 1.0, np.inf, np.where(inside, x, np.nan))
        x = np.where(w == 0.0, 0.0, x)
    return np.copysign(x, y)


def ndtri(p: np.ndarray) -> np.ndarray:
    """The inverse of the standard normal CDF: ``-sqrt(2) erfcinv(2p)``; -inf at 0, inf at 1."""
    with np.errstate(all="ignore"):
        inside = (p > 0.0) & (p < 1.0)
        upper = p > 0.5
        # s = erfc(|x| / sqrt 2), in (0, 1]: 2p below 1/2, 2 (1 - p) above (both exact).
        s = np.where(inside, np.where(upper, 2.0 * (1.0 - p), 2.0 * p), 0.5)
        tail = s < 0.5
        x = _solve_erf(np.where(tail, 0.25, 1.0 - s), np.where(tail, s, 0.75), tail)
        x = np.where(s == 1.0, 0.0, x) * math.sqrt(2.0)
        x = np.where(upper, x, -x)
        x = np.where(p == 0.0, -np.inf, np.where(p == 1.0, np.inf, x))
        x = np.where(inside | (p == 0.0) | (p == 1.0), x, np.nan)
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
    return out.reshape(shape)
