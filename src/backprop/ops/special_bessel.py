"""Array kernels for the Bessel and Airy functions (``bp.special.bessel_j0`` and kin, ``bp.i0``).

Each takes a float64 array and returns one: ``special_functions`` rounds the result to the
input's dtype. They assemble the functions from the Chebyshev series in ``special_chebyshev``
(fitted by us) with the textbook relations: the logarithmic terms of Y and K near 0, Hankel's
amplitude-phase form ``sqrt(2 / (pi x)) (P cos(theta) - Q sin(theta))`` for large x, and the
Maclaurin series of the Airy function near 0. Where a result depends on the rounding of a large
argument (``cos(x - pi/4)`` at x = 1e20), the phase is rounded as PyTorch rounds it, so that both
give the same number for the same float.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import special_chebyshev as C
from .special_chebyshev import chebyshev

_SQRT_2_OVER_PI = 0.797884560802865355879892119868763737  # sqrt(2 / pi)
_TWO_OVER_PI = 2.0 / math.pi
_QUARTER_PI = 0.785398163397448309615660845819875721
_THREE_QUARTER_PI = 2.356194490192344928846982537459627163
_INV_SQRT_PI = 0.564189583547756286948  # 1 / sqrt(pi)
_AI_0 = 0.355028053887817239260  # Ai(0)
_MINUS_AI_PRIME_0 = 0.258819403792806798405  # -Ai'(0)


def _pieces(x: np.ndarray, *pieces: tuple[np.ndarray, Callable[[np.ndarray], Any]],
            fill: float = math.nan) -> np.ndarray:
    """``out[mask] = f(x[mask])`` for each ``(mask, f)``: every range is computed on its own
    elements only (a range's formula may overflow or divide by zero on the others'). Elements
    in no range get ``fill``. Where one range holds every element (the common case), its
    formula runs on ``x`` itself: no gather, scatter or fill."""
    with np.errstate(all="ignore"):
        for mask, f in pieces:
            if mask.all():
                return np.asarray(f(x), dtype=np.float64)
    out = np.full(x.shape, fill)
    with np.errstate(all="ignore"):
        for mask, f in pieces:
            if mask.any():
                out[mask] = f(x[mask])
    return out


# -- modified Bessel functions of the first kind --------------------------------------------------
# For float32 results (``narrow``) the series leave out the terms that cannot move them: the
# tails whose coefficients add up to less than 2^-34 of the function's least value on the range.
# What remains is a float64 sum within ~1e-10 of the whole one, so a float32 result changes by
# one rounding in ~1 case of 1000, and the small range costs 22 terms instead of 30, the large
# 10 instead of 27 (PyTorch's float32 i1e sums 17 and 7 terms, in float32).

def float32_table(table: tuple[float, ...], least: float) -> tuple[float, ...]:
    """``table`` without its tail of absolute sum below 2^-34 ``least``.

    >>> len(float32_table((1.0, 0.5, 1e-12, 1e-13), 1.0))
    2
    """
    tail = np.cumsum(np.abs(np.array(table))[::-1])[::-1]  # tail[k]: what dropping k.. drops
    keep = int(np.argmax(tail < least * 2.0 ** -34)) or len(table)
    return tuple(table[:keep])


# least values: exp(-x) I0(x) and exp(-x) I1(x) / x at x = 8; sqrt(x) exp(-x) I(x) near x = 8
I0_SMALL32 = float32_table(C.I0_SMALL, 0.14)
I1_SMALL32 = float32_table(C.I1_SMALL, 0.016)
I0_LARGE32 = float32_table(C.I0_LARGE, 0.39)
I1_LARGE32 = float32_table(C.I1_LARGE, 0.36)


def _i_tables(order: int, narrow: bool) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if order == 0:
        return (I0_SMALL32, I0_LARGE32) if narrow else (C.I0_SMALL, C.I0_LARGE)
    return (I1_SMALL32, I1_LARGE32) if narrow else (C.I1_SMALL, C.I1_LARGE)


def i0_scaled(x: np.ndarray, narrow: bool = False) -> np.ndarray:
    """exp(-|x|) I0(x)."""
    small, large = _i_tables(0, narrow)
    a = np.abs(x)
    return _pieces(a, (a <= 8.0, lambda a: chebyshev(a * 0.25 - 1.0, small)),
                   (a > 8.0, lambda a: chebyshev(16.0 / a - 1.0, large) / np.sqrt(a)))


def i0(x: np.ndarray, narrow: bool = False) -> np.ndarray:
    """I0(x); inf (overflow) beyond |x| ~ 713, nan at the infinities, as PyTorch's."""
    small, large = _i_tables(0, narrow)
    a = np.abs(x)
    return _pieces(a, (a <= 8.0, lambda a: np.exp(a) * chebyshev(a * 0.25 - 1.0, small)),
                   (a > 8.0, lambda a: np.exp(a) * chebyshev(16.0 / a - 1.0, large)
                    / np.sqrt(a)))


def i1_scaled(x: np.ndarray, narrow: bool = False) -> np.ndarray:
    """exp(-|x|) I1(x)."""
    small, large = _i_tables(1, narrow)
    a = np.abs(x)
    out = _pieces(a, (a <= 8.0, lambda a: chebyshev(a * 0.25 - 1.0, small) * a),
                  (a > 8.0, lambda a: chebyshev(16.0 / a - 1.0, large) / np.sqrt(a)))
    return np.copysign(out, x)


def i1(x: np.ndarray, narrow: bool = False) -> np.ndarray:
    """I1(x), odd."""
    small, large = _i_tables(1, narrow)
    a = np.abs(x)
    out = _pieces(a, (a <= 8.0, lambda a: np.exp(a) * chebyshev(a * 0.25 - 1.0, small) * a),
                  (a > 8.0, lambda a: np.exp(a) * chebyshev(16.0 / a - 1.0, large)
                   / np.sqrt(a)))
    return np.copysign(out, x)


# -- modified Bessel functions of the second kind (x > 0; inf at 0, nan below) ------------------

def _k0_small(x: np.ndarray) -> np.ndarray:
    return chebyshev(x * x * 0.5 - 1.0, C.K0_SMALL) - np.log(0.5 * x) * i0(x)


def _k1_small(x: np.ndarray) -> np.ndarray:
    return np.log(0.5 * x) * i1(x) + chebyshev(x * x * 0.5 - 1.0, C.K1_SMALL) / x


def _k_large(table: tuple[float, ...], scaled: bool) -> Callable[[np.ndarray], np.ndarray]:
    def large(x: np.ndarray) -> np.ndarray:
        out = chebyshev(4.0 / x - 1.0, table) / np.sqrt(x)
        return out if scaled else np.exp(-x) * out

    return large


def _k(x: np.ndarray, small: Callable[[np.ndarray], np.ndarray],
       large: Callable[[np.ndarray], np.ndarray], scaled: bool) -> np.ndarray:
    def near_zero(x: np.ndarray) -> np.ndarray:
        return small(x) * np.exp(x) if scaled else small(x)

    return _pieces(x, (x == 0.0, lambda x: np.full(x.shape, np.inf)),
                   ((x > 0.0) & (x <= 2.0), near_zero), (x > 2.0, large))


def k0(x: np.ndarray, scaled: bool = False) -> np.ndarray:
    """K0(x), or exp(x) K0(x) when ``scaled``."""
    return _k(x, _k0_small, _k_large(C.K0_LARGE, scaled), scaled)


def k1(x: np.ndarray, scaled: bool = False) -> np.ndarray:
    """K1(x), or exp(x) K1(x) when ``scaled``."""
    return _k(x, _k1_small, _k_large(C.K1_LARGE, scaled), scaled)


# -- Bessel functions of the first and second kind ---------------------------------------------

def _hankel(x: np.ndarray, order: int, second_kind: bool) -> np.ndarray:
    """J or Y of order 0 or 1 for x > 8 from Hankel's amplitudes P and Q of 1 / x^2."""
    p_table, q_table = (C.PQ0_P, C.PQ0_Q) if order == 0 else (C.PQ1_P, C.PQ1_Q)
    t = 128.0 / (x * x) - 1.0  # x * x overflows to inf beyond 1e154: t = -1, the limit
    p = chebyshev(t, p_table)
    q = chebyshev(t, q_table) / x
    phase = x - (_QUARTER_PI if order == 0 else _THREE_QUARTER_PI)
    cos, sin = np.cos(phase), np.sin(phase)
    amplitude = (p * sin + q * cos) if second_kind else (p * cos - q * sin)
    return amplitude * _SQRT_2_OVER_PI / np.sqrt(x)


def j0(x: np.ndarray) -> np.ndarray:
    a = np.abs(x)
    return _pieces(a, (a <= 8.0, lambda a: chebyshev(a * a / 32.0 - 1.0, C.J0_SMALL)),
                   (a > 8.0, lambda a: _hankel(a, 0, False)))


def j1(x: np.ndarray) -> np.ndarray:
    a = np.abs(x)
    out = _pieces(a, (a <= 8.0, lambda a: chebyshev(a * a / 32.0 - 1.0, C.J1_SMALL) * a),
                  (a > 8.0, lambda a: _hankel(a, 1, False)))
    return np.where(x < 0, -out, out)


def y0(x: np.ndarray) -> np.ndarray:
    """Y0(x): -inf at 0, nan below."""
    def small(x: np.ndarray) -> np.ndarray:
        return chebyshev(x * x / 32.0 - 1.0, C.Y0_SMALL) + _TWO_OVER_PI * np.log(x) * j0(x)

    return _pieces(x, (x == 0.0, lambda x: np.full(x.shape, -np.inf)),
                   ((x > 0.0) & (x <= 8.0), small), (x > 8.0, lambda x: _hankel(x, 0, True)))


def y1(x: np.ndarray) -> np.ndarray:
    """Y1(x): -inf at 0, nan below."""
    def small(x: np.ndarray) -> np.ndarray:
        series = chebyshev(x * x / 32.0 - 1.0, C.Y1_SMALL) * x
        return series + _TWO_OVER_PI * (j1(x) * np.log(x) - 1.0 / x)

    return _pieces(x, (x == 0.0, lambda x: np.full(x.shape, -np.inf)),
                   ((x > 0.0) & (x <= 8.0), small), (x > 8.0, lambda x: _hankel(x, 1, True)))


def spherical_j0(x: np.ndarray) -> np.ndarray:
    """sin(x) / x, by its Taylor series below 0.5 (no 0 / 0), 0 at the infinities."""
    def series(x: np.ndarray) -> np.ndarray:
        s = x * x
        total = np.zeros_like(s)
        for k in range(9, 0, -1):  # (-s)^k / (2k + 1)!, the 9th term ~1e-22 at |x| = 0.5
            total = (total + (-1.0) ** k / math.factorial(2 * k + 1)) * s
        return total + 1.0

    # sin(x) / x over every element (the most take it: no gather or scatter), then the series
    # where |x| < 0.5 and 0 at the infinities, where it gave 0 / 0 or nan.
    with np.errstate(all="ignore"):
        out = np.sin(x)
        out /= x
    a = np.abs(x)
    small = a < 0.5
    if small.any():
        out[small] = series(x[small])
    out[a == np.inf] = 0.0
    return out


# -- the Airy function Ai ------------------------------------------------------------------------

def _airy_series(x: np.ndarray) -> np.ndarray:
    """Ai(x) = Ai(0) f(x) + Ai'(0) g(x) by the Maclaurin series of f and g (|x| <= 2.09: their
    terms stay below e^2, so the cancellation costs under two digits)."""
    z = x * x * x
    f_term = np.ones_like(x)
    g_term = x.copy()
    f, g = f_term.copy(), g_term.copy()
    for k in range(1, 22):  # the 21st terms are below 1e-40
        f_term = f_term * z / ((3 * k - 1) * (3 * k))
        g_term = g_term * z / ((3 * k) * (3 * k + 1))
        f += f_term
        g += g_term
    return _AI_0 * f - _MINUS_AI_PRIME_0 * g


def _airy_positive(x: np.ndarray) -> np.ndarray:
    zeta = 2.0 * x * np.sqrt(x) / 3.0
    t = (2.0 / C.AIRY_Z0) / zeta - 1.0
    return _INV_SQRT_PI * chebyshev(t, C.AI_POS) / (2.0 * np.sqrt(np.sqrt(x)) * np.exp(zeta))


def _airy_negative(x: np.ndarray) -> np.ndarray:
    zeta = -2.0 * x * np.sqrt(-x) / 3.0  # rounded as PyTorch's: sin(zeta + pi/4) depends on it
    t = (2.0 / C.AIRY_Z0) / zeta - 1.0
    theta = zeta + 0.25 * math.pi
    u, v = chebyshev(t, C.AI_NEG_U), chebyshev(t, C.AI_NEG_V)
    return _INV_SQRT_PI / np.sqrt(np.sqrt(-x)) * (np.sin(theta) * u - np.cos(theta) * v)


def airy_ai(x: np.ndarray) -> np.ndarray:
    """Ai(x): 0 beyond 103.892 (where it underflows), nan at the infinities (PyTorch's)."""
    finite = np.isfinite(x)
    return _pieces(x, (finite & (x < -2.09), _airy_negative),
                   ((x >= -2.09) & (x < 2.09), _airy_series),
                   ((x >= 2.09) & (x <= 103.892), _airy_positive),
                   (finite & (x > 103.892), lambda x: np.zeros(x.shape)))
