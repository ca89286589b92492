"""``ndtri``, the inverse of the standard normal CDF (``Normal.icdf``), as a primitive: its
derivative ``sqrt(2 pi) exp(z^2 / 2)`` is exact where a composition through erfinv would not be
available (NumPy has no erfinv)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import xp_of
from ..ops.elementwise import exp
from ..ops.erf_numerics import erf_array
from ..ops.primitive import primitive

# P. J. Acklam's rational approximations (relative error 1.2e-9); in the central region one
# Halley step on erf refines them to rounding (in the tails 1 + erf(z) has lost the digits).
_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
      6.680131188771972e+01, -1.328068155288572e+01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
      3.754408661907416e+00)
_SQRT_2PI = math.sqrt(2 * math.pi)


def _polynomial(coefficients: tuple, x: Any) -> Any:
    result = 0.0 * x + coefficients[0]
    for c in coefficients[1:]:
        result = result * x + c
    return result


def ndtri_array(p: Any) -> Any:
    """The quantile of an array: on NumPy arrays ``torch.special.ndtri``'s kernel (fitted
    polynomials, refined to rounding in float64), elsewhere Acklam's approximation below."""
    if type(p) is np.ndarray and p.dtype.kind == "f":
        from ..ops.special_numerics import ndtri as ndtri_numpy  # the ops import this module

        with np.errstate(over="ignore"):
            return ndtri_numpy(p.astype(np.float64), p.dtype == np.float64).astype(p.dtype,
                                                                                 copy=False)
    xp = xp_of(p)
    q = xp.asarray(p, dtype=xp.float64)
    with np.errstate(all="ignore"):
        low = xp.minimum(q, 1.0 - q)
        r = xp.sqrt(-2.0 * xp.log(low))
        tail = _polynomial(_C, r) / (_polynomial(_D, r) * r + 1.0)
        tail = xp.where(q < 0.5, tail, -tail)
        c = q - 0.5
        s = c * c
        central = c * _polynomial(_A, s) / (_polynomial(_B, s) * s + 1.0)
        z = xp.where(low < 0.02425, tail, central)
        # One Halley step on erf brings the approximation to rounding.
        error = 0.5 * (1.0 + erf_array(z / math.sqrt(2.0))) - q
        u = error * _SQRT_2PI * xp.exp(z * z / 2.0)
        z = xp.where(low >= 0.02425, z - u / (1.0 + z * u / 2.0), z)
        z = xp.where(q == 0, -xp.inf, xp.where(q == 1, xp.inf, z))
        z = xp.where((q < 0) | (q > 1) | xp.isnan(q), xp.nan, z)
    return z.astype(p.dtype, copy=False)


@primitive("ndtri", save=("out",), grads={
    "input": lambda g, out, input: g * _SQRT_2PI * exp(out * out / 2.0),
})
def ndtri(input: Any) -> Any:
    """The standard normal quantile: ``ndtri(p)`` is the ``z`` with ``Phi(z) = p``."""
    return ndtri_array(input)
