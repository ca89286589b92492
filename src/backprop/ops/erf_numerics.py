"""erf, erfc and the normal distribution's CDF for NumPy arrays (NumPy has no erf).

The kernels behind ``bp.erf`` and the exact GELU. They are written with NumPy's functions, so
they also run on CuPy arrays; ``normal_cdf_float32`` reads float32 bit patterns and is NumPy's
GELU kernel only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# -- erf ------------------------------------------------------------------------------------------
# W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969),
# 631-638: three rational approximations (|x| <= 0.46875 for erf, up to 4 and beyond for erfc),
# accurate to about one unit in the last place of a float64. The coefficients are the paper's.

_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
          3.20937758913846947e03, 1.85777706184603153e-1)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
          2.84423683343917062e03)
_ERFC_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
           2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
           2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_ERFC_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
           1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
           3.43936767414372164e03, 1.23033935480374942e03)
_ERFC_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
           1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_ERFC_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
           6.05183413124413191e-2, 2.33520497626869185e-3)
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)
_ERF_BLOCK = 32768


def _rational(t: np.ndarray, top: float, num: tuple, den: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Horner's rule, in place: ``(((top t + num0) t + num1) t ...) t`` over the numerator and
    ``(((t + den0) t + den1) t ...) t`` over the denominator."""
    p = t * top
    q = t.copy()
    for a, b in zip(num, den):
        p += a
        p *= t
        q += b
        q *= t
    return p, q


def _erf_small(x: np.ndarray) -> np.ndarray:
    """erf(x) for |x| <= 0.46875."""
    p, q = _rational(x * x, _ERF_A[4], _ERF_A[:3], _ERF_B[:3])
    p += _ERF_A[3]
    q += _ERF_B[3]
    p *= x
    p /= q
    return p


def _exp_minus_square(y: np.ndarray) -> np.ndarray:
    """exp(-y*y) without the rounding error of y*y: y is split into a part with few bits,
    whose square is exact, and a small remainder."""
    head = np.trunc(y * 16.0) / 16.0
    return np.exp(-head * head) * np.exp(-(y - head) * (y + head))


def _blend(mask: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.where(mask, a, b)`` for finite ``a`` and ``b`` as ``a * m + b * (1 - m)``, which is
    exact when both are finite (one term is a zero) and, unlike NumPy's where, does not branch
    per element: several times faster on unpredictable masks."""
    m = mask.astype(a.dtype)
    a = a * m
    np.subtract(1.0, m, out=m)
    m *= b
    a += m
    return a


def _erfc_beyond_small(y: np.ndarray) -> np.ndarray:
    """erfc(y) for y >= 0, correct where y > 0.46875 (other lanes hold finite filler)."""
    # Every element goes through the formula of its range, evaluated over the whole array with
    # the argument clipped into that range: gathering each range's elements (x[mask]) would cost
    # more than the arithmetic it saves.
    p, q = _rational(np.clip(y, 0.46875, 4.0), _ERFC_C[8], _ERFC_C[:7], _ERFC_D[:7])
    p += _ERFC_C[7]
    q += _ERFC_D[7]
    p /= q
    tail = y > 4.0
    if tail.any():
        yt = np.clip(y, 4.0, 1e30)  # 1 / y^2 underflows harmlessly; y = inf stays finite
        with np.errstate(over="ignore"):  # float32's y^2 overflows above 1.8e19: z is 0 then
            z = 1.0 / (yt * yt)
        pt, qt = _rational(z, _ERFC_P[5], _ERFC_P[:4], _ERFC_Q[:4])
        pt += _ERFC_P[4]
        qt += _ERFC_Q[4]
        pt /= qt
        pt *= z
        np.subtract(_INV_SQRT_PI, pt, out=pt)
        pt /= yt
        p = _blend(tail, pt, p)
    # exp(-40^2) underflows to 0, the answer for y >= 40; y = inf would give inf - inf.
    with np.errstate(under="ignore"):
        p *= _exp_minus_square(np.minimum(y, 40.0))
    return p


def erf_array(x: np.ndarray, complement: bool = False) -> np.ndarray:
    """erf(x) (or erfc(x) when ``complement``) of an array, elementwise, to float64 accuracy.

    >>> [round(float(v), 12) for v in erf_array(np.array([0.0, 0.5, -3.0]))]
    [0.0, 0.520499877813, -0.999977909503]
    """
    if not hasattr(x, "ndim"):  # a list or a number
        x = np.asarray(x)
    if x.dtype.kind not in "fV":
        x = x.astype(np.float64)
    if x.ndim == 0:  # NumPy turns 0-d results into scalars, which the in-place steps refuse
        return erf_array(x.reshape(1), complement).reshape(())
    if x.size > _ERF_BLOCK:
        # Some 60 passes over the data: in blocks that stay in cache they run ~3x faster than
        # over a large array (measured on 2M elements, float32 and float64).
        flat = x.reshape(-1)
        out = np.empty_like(flat)
        for start in range(0, flat.size, _ERF_BLOCK):
            out[start:start + _ERF_BLOCK] = erf_array(flat[start:start + _ERF_BLOCK], complement)
        return out.reshape(x.shape)
    y = np.abs(x)
    small = y <= 0.46875
    erf_small = _erf_small(np.clip(x, -0.46875, 0.46875))
    tail = _erfc_beyond_small(y)  # erfc(|x|), finite
    if complement:  # 1 - erf(x) near 0; erfc(x), or erfc(-y) = 2 - erfc(y), beyond
        np.subtract(1.0, erf_small, out=erf_small)
        negative = x < 0
        if negative.any():
            tail = _blend(negative, 2.0 - tail, tail)
        out = _blend(small, erf_small, tail)
    else:  # erf(y) = 1 - erfc(y), odd in x
        np.subtract(0.5, tail, out=tail)
        tail += 0.5
        tail *= np.sign(x)
        out = _blend(small, erf_small, tail)
    nan = np.isnan(x)
    if nan.any():  # the blend's zero term is nan there, which keeps the result nan
        out[nan] = np.nan
    return out


# -- the normal distribution in float32, for the exact GELU ---------------------------------------
# Phi(x) = erfc(y) / 2 with y = -x / sqrt 2. For float32 one approximation covers every y >= 0:
# erfc(y) = t * P(t) * exp(-y^2) with t = 1 / (1 + 0.4 y) and P of degree 9, fitted by us
# (least squares weighted for relative error, reweighted towards minimax, on y in [0, 11]):
# relative error 1.0e-8, well below float32's 6e-8 rounding. About 35 passes over the data
# where Cody's three float64 ranges take about 85; exp(-x^2 / 2) is taken from x itself (one
# rounding) and also gives the density the GELU's derivative needs. Measured against a float64
# reference on [-13, 14]: max relative error 4e-6 (from exp's argument) against 1.2e-5 for Cody
# evaluated in float32.
_PHI32_SCALE = 0.4 * _SQRT1_2
_PHI32_P = (0.22570087747886666, 0.22507094096561658, 0.21391864516669146, 0.13439904485567553,
            0.25828568993415874, -0.25848402829805167, 0.5160960963258105, -0.4751679241155448,
            0.1879052358546537, -0.027724567884742465)


def _normal_cdf_block(x: np.ndarray, cdf: np.ndarray, x_pdf: np.ndarray | None) -> None:
    """Phi(x) into ``cdf`` and, when given, x phi(x) into ``x_pdf``: flat float32 blocks."""
    t = np.abs(x)
    t *= _PHI32_SCALE
    t += 1.0
    np.divide(1.0, t, out=t)
    q = t * _PHI32_P[9]
    for c in _PHI32_P[8::-1]:
        q += c
        q *= t
    e = np.multiply(x, x, out=t)  # t is no longer needed: exp(-x^2 / 2) in its buffer
    e *= -0.5
    np.exp(e, out=e)
    if x_pdf is not None:
        np.multiply(e, x, out=x_pdf)
        x_pdf *= _INV_SQRT_2PI
    q *= e
    q *= 0.5  # h = Phi(-|x|)
    np.subtract(1.0, q, out=cdf)
    # cdf = h where x's sign bit is set, else 1 - h: a bit select (no branch per element) with
    # the mask taken from the sign bit itself (arithmetic shift: all ones or none).
    mask = np.right_shift(x.view(np.int32), 31)
    h_bits = q.view(np.int32)
    cdf_bits = cdf.view(np.int32)
    np.bitwise_xor(h_bits, cdf_bits, out=h_bits)
    h_bits &= mask
    cdf_bits ^= h_bits


def normal_cdf_float32(x: np.ndarray, density: bool) -> tuple[np.ndarray, Any]:
    """``(Phi(x), x phi(x) or None)`` for a float32 array, in cache-sized blocks."""
    flat = x.reshape(-1)
    cdf = np.empty_like(flat)
    x_pdf = np.empty_like(flat) if density else None
    with np.errstate(under="ignore", over="ignore"):
        for start in range(0, flat.size, _ERF_BLOCK):
            stop = start + _ERF_BLOCK
            _normal_cdf_block(flat[start:stop], cdf[start:stop],
                              None if x_pdf is None else x_pdf[start:stop])
    return cdf.reshape(x.shape), None if x_pdf is None else x_pdf.reshape(x.shape)
