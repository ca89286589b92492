"""Array kernels for the log-gamma function and its derivatives (``lgamma``, ``digamma``,
``polygamma``), written with the array module's functions so that they run on NumPy and CuPy
alike (NumPy has none of them). Each computes in float64 and returns the input's dtype.

- ``lgamma_array``: Lanczos' approximation (g = 7, 9 terms, ~1e-15 relative) for x >= 0.5, the
  reflection formula ``lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x)`` below.
- ``polygamma_array(n, x)``: x below 0.5 is reflected to 1 - x; then the recurrence
  ``psi_n(x) = psi_n(x + 1) + (-1)^(n+1) n! / x^(n+1)`` moves it above 20 + n, where the
  asymptotic (Bernoulli-number) series is accurate to rounding.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import xp_of

_LANCZOS_G = 7.0
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
# The Bernoulli numbers B_2k, k = 1..8, of the asymptotic series.
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def _float64(x: Any) -> tuple[Any, Any]:
    xp = xp_of(x)
    return xp, xp.asarray(x, dtype=xp.float64)


def _sinpi(xp: Any, x: Any) -> Any:
    """sin(pi x), exact at integers (reduced to [-1, 1] first)."""
    r = x - 2.0 * xp.round(x / 2.0)
    return xp.sin(math.pi * r)


def _lanczos_lgamma(xp: Any, x: Any) -> Any:
    """lgamma for x >= 0.5."""
    z = x - 1.0
    series = xp.full_like(z, _LANCZOS[0])
    for i, c in enumerate(_LANCZOS[1:], start=1):
        series = series + c / (z + i)
    t = z + _LANCZOS_G + 0.5
    return _HALF_LOG_2PI + (z + 0.5) * xp.log(t) - t + xp.log(series)


def lgamma_array(input: Any) -> Any:
    xp, x = _float64(input)
    with np.errstate(all="ignore"):
        upper = _lanczos_lgamma(xp, xp.where(x >= 0.5, x, 1.0 - x))
        reflected = xp.log(math.pi / xp.abs(_sinpi(xp, x))) - upper
        out = xp.where(x >= 0.5, upper, reflected)
        out = xp.where(xp.isinf(x), xp.inf, out)
        out = xp.where((x <= 0) & (x == xp.floor(x)), xp.inf, out)  # the poles
        out = xp.where((x == 1.0) | (x == 2.0), 0.0, out)  # exact zeros, as log(1)
    return out.astype(input.dtype, copy=False)


def _shift_up(xp: Any, x: Any, n: int, threshold: float) -> tuple[Any, Any]:
    """``(x', s)`` with x' >= threshold and psi_n(x) = psi_n(x') + s (the recurrence)."""
    sign = (-1.0) ** (n + 1) * math.factorial(n)
    acc = xp.zeros_like(x)
    x = xp.where(xp.isfinite(x), x, threshold)  # infinities and nans are handled by the caller
    while True:
        low = x < threshold
        if not bool(low.any()):
            return x, acc
        acc = acc + xp.where(low, sign / x ** (n + 1), 0.0)
        x = xp.where(low, x + 1.0, x)


def _asymptotic(xp: Any, x: Any, n: int) -> Any:
    """psi_n(x) for x >= 20 + n."""
    if n == 0:
        inv2 = 1.0 / (x * x)
        series = xp.zeros_like(x)  # sum_k B_2k / (2k x^2k), by Horner's rule
        for k in range(len(_BERNOULLI), 0, -1):
            series = (series + _BERNOULLI[k - 1] / (2 * k)) * inv2
        return xp.log(x) - 0.5 / x - series
    sign = (-1.0) ** (n + 1)
    total = math.factorial(n - 1) / x ** n + math.factorial(n) / (2.0 * x ** (n + 1))
    for k, bernoulli in enumerate(_BERNOULLI, start=1):
        total = total + bernoulli * math.factorial(2 * k + n - 1) / (
            math.factorial(2 * k) * x ** (2 * k + n))
    return sign * total


def _cot_derivative_coefficients(n: int) -> list[float]:
    """Coefficients (lowest power first) of the polynomial P_n with
    ``d^n/dx^n cot(pi x) = P_n(cot(pi x))``: ``P_0(c) = c`` and, as ``d cot(pi x)/dx =
    -pi (1 + c^2)``, ``P_(k+1)(c) = -pi (1 + c^2) P_k'(c)``."""
    coefficients = np.array([0.0, 1.0])
    for _ in range(n):
        derivative = np.polynomial.polynomial.polyder(coefficients)
        coefficients = -math.pi * np.polynomial.polynomial.polymul([1.0, 0.0, 1.0], derivative)
    return coefficients.tolist()


def polygamma_array(n: int, input: Any) -> Any:
    xp, x = _float64(input)
    threshold = 20.0 + n
    with np.errstate(all="ignore"):
        # Reflection: psi_n(x) = (-1)^n psi_n(1 - x) - pi d^n/dx^n cot(pi x), so that the
        # recurrence only ever climbs from above 0.5.
        reflect = x < 0.5
        y = xp.where(reflect, 1.0 - x, x)
        shifted, acc = _shift_up(xp, y, n, threshold)
        out = _asymptotic(xp, shifted, n) + acc
        cot = _sinpi(xp, x + 0.5) / _sinpi(xp, x)
        cot_derivative = xp.zeros_like(x)
        for c in reversed(_cot_derivative_coefficients(n)):
            cot_derivative = cot_derivative * cot + c
        out = xp.where(reflect, (-1.0) ** n * out - math.pi * cot_derivative, out)
        pole = (x <= 0) & (x == xp.floor(x))
        if n == 0:
            out = xp.where(pole, xp.where(x == 0, -xp.copysign(xp.inf, x), xp.nan), out)
            out = xp.where(x == xp.inf, xp.inf, xp.where(x == -xp.inf, xp.nan, out))
        else:
            pole_value = xp.inf if n % 2 else -xp.inf
            out = xp.where(pole, pole_value, out)
            # PyTorch's values at the infinities
            at_inf, at_minus_inf = (0.0, xp.nan) if n == 1 else (xp.nan, pole_value)
            out = xp.where(x == xp.inf, at_inf, xp.where(x == -xp.inf, at_minus_inf, out))
        out = xp.where(xp.isnan(x), xp.nan, out)
        return out.astype(input.dtype, copy=False)  # (beyond float32's range: inf, unwarned)


def standard_gamma_grad_array(alpha: Any, x: Any) -> Any:
    """``dx/dalpha`` of a standard Gamma(alpha) sample ``x`` at a fixed value of its CDF
    (implicit reparameterisation): ``-(dP(alpha, x)/dalpha) / density(x)``, with ``P`` the
    regularised lower incomplete gamma function.

    ``P = sum_n t_n`` with ``t_n = x^(alpha+n) e^-x / Gamma(alpha+n+1)``, so ``dP/dalpha =
    sum_n t_n (log x - digamma(alpha+n+1))``; the terms are summed until they stop counting.
    Where that needs too many terms (alpha above 500) the Wilson-Hilferty approximation
    ``x = alpha (1 - 1/(9 alpha) + z / (3 sqrt(alpha)))^3`` is differentiated at fixed z."""
    xp, a = _float64(alpha)
    x = xp.asarray(x, dtype=xp.float64)
    a, x = xp.broadcast_arrays(a, x)
    large = a > 500.0
    with np.errstate(all="ignore"):
        small_a = xp.where(large, 1.0, a)
        small_x = xp.where(large, 1.0, xp.maximum(x, 1e-300))
        log_x = xp.log(small_x)
        term = xp.exp(small_a * log_x - small_x - lgamma_array(small_a + 1.0))
        psi = polygamma_array(0, small_a + 1.0)
        total = term
        d_total = term * (log_x - psi)
        steps = int(min(float(xp.max(small_x)) + 12.0 * math.sqrt(float(xp.max(small_x))) + 40,
                        4000))
        for n in range(1, steps):
            term = term * small_x / (small_a + n)
            psi = psi + 1.0 / (small_a + n)
            total = total + term
            d_total = d_total + term * (log_x - psi)
        log_density = (small_a - 1.0) * log_x - small_x - lgamma_array(small_a)
        grad = -d_total / xp.exp(log_density)
        # Wilson-Hilferty for large alpha: d/dalpha at fixed z.
        cube = xp.cbrt(x / a)
        z = (cube - 1.0 + 1.0 / (9.0 * a)) * 3.0 * xp.sqrt(a)
        base = 1.0 - 1.0 / (9.0 * a) + z / (3.0 * xp.sqrt(a))
        d_base = 1.0 / (9.0 * a * a) - z / (6.0 * a * xp.sqrt(a))
        grad_large = base ** 3 + 3.0 * a * base ** 2 * d_base
        grad = xp.where(large, grad_large, grad)
        grad = xp.where(x > 0, grad, 0.0)
    return grad.astype(alpha.dtype, copy=False)
