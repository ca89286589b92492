"""``bp.nn.functional`` activations: leaky_relu, elu/selu/celu, gelu, silu, mish, softplus,
logsigmoid, the hard* family, shrinkage functions, glu and softmin.

Activations with a numerical trap or a hot path are primitives with their own VJPs (written with
our ops, so gradients of gradients work): ``erf`` and ``gelu`` (NumPy has no erf), ``softplus`` and
``logsigmoid`` (overflow), ``elu`` (its exponential branch overflows for large inputs even where it
is not selected), ``leaky_relu``, ``silu`` and ``hardtanh``. The rest are composed from bp ops.
Where an activation has a kink, its gradient there follows PyTorch's convention.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ...backend import as_array, xp_of
from ...backends import numba as _accel
from ...errors import ShapeError, check_dim
from ...ops import elementwise as _ew
from ...ops.elementwise import abs, clamp, exp, ge, gt, le, logical_or, lt, sigmoid, tanh, where
from ...ops.fused import softmax
from ...ops.inplace import apply_inplace
from ...ops.join import narrow
from ...ops.primitive import primitive
from ...tensor import Tensor

# Python floats, never NumPy scalars: a float64 scalar would promote float32 inputs.
_SQRT1_2 = math.sqrt(0.5)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_TANH_CUBIC = 0.044715
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _maybe_inplace(input: Tensor, inplace: bool, name: str, compute: Any) -> Tensor:
    """``compute(input)``, or its result written into ``input`` when ``inplace`` (PyTorch's
    ``inplace=True``: the tensor's version is bumped, so a node that saved it notices)."""
    if inplace:
        return apply_inplace(input, name + "_", compute)
    return compute(input)


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
    if type(x) is not np.ndarray and xp_of(x) is np:  # a list or scalar; device arrays stay
        x = np.asarray(x)
    if x.dtype.kind != "f":
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


def _normal_cdf_float32(x: np.ndarray, density: bool) -> tuple[np.ndarray, Any]:
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


@primitive("erf", save=("input",), grads={
    "input": lambda g, out, input: g * _TWO_OVER_SQRT_PI * exp(-(input * input)),
})
def _erf(input: Any) -> Any:
    return erf_array(input)


def erf(input: Tensor) -> Tensor:
    """The error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``, elementwise (the building
    block of the exact GELU); its derivative is ``2/sqrt(pi) * exp(-x^2)``.

    >>> import backprop as bp
    >>> round(erf(bp.tensor(1.0)).item(), 6)
    0.842701
    """
    return _erf(input)


# -- gelu -----------------------------------------------------------------------------------------


def _gelu_vjp_array(g: np.ndarray, input: np.ndarray, approximate: str) -> np.ndarray:
    """``_gelu_vjp`` on arrays in a plain backward: the same formulas, evaluated in place in a
    few buffers instead of a temporary per operation (under create_graph the operator form in
    ``_gelu_vjp`` runs instead, to build the graph)."""
    if approximate == "tanh":
        grad = _accel.gelu_tanh_backward(g, input)  # one compiled pass, when Numba is there
        if grad is not None:
            return grad
    square = input * input
    if approximate == "tanh":
        t = square * _GELU_TANH_CUBIC
        t *= input
        t += input
        t *= _SQRT_2_OVER_PI
        np.tanh(t, out=t)
        slope = square  # (1 + 3 * 0.044715 x^2) sqrt(2/pi), in square's buffer
        slope *= 3.0 * _GELU_TANH_CUBIC
        slope += 1.0
        slope *= _SQRT_2_OVER_PI
        term = t * t  # x/2 (1 - t^2) slope
        np.subtract(1.0, term, out=term)
        term *= input
        term *= 0.5
        term *= slope
        t += 1.0
        t *= 0.5
        t += term
        t *= g
        return t
    if input.dtype == np.float32:
        cdf, x_pdf = _normal_cdf_float32(input, True)
        cdf += x_pdf
        cdf *= g
        return cdf
    cdf = erf_array(input * _SQRT1_2)  # Phi(x) = (1 + erf(x / sqrt 2)) / 2
    cdf += 1.0
    cdf *= 0.5
    pdf = square  # x phi(x) = x exp(-x^2 / 2) / sqrt(2 pi), in square's buffer
    pdf *= -0.5
    np.exp(pdf, out=pdf)
    pdf *= _INV_SQRT_2PI
    pdf *= input
    cdf += pdf
    cdf *= g
    return cdf


def _gelu_vjp(g: Any, out: Any, input: Any, approximate: str) -> Any:
    if type(g) is np.ndarray and type(input) is np.ndarray and input.ndim:
        return _gelu_vjp_array(g, input, approximate)
    if approximate == "tanh":
        # d/dx [x/2 (1 + tanh(u))] = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) u',
        # u = sqrt(2/pi) (x + 0.044715 x^3)
        square = input * input
        t = tanh((input + _GELU_TANH_CUBIC * square * input) * _SQRT_2_OVER_PI)
        slope = (1.0 + 3.0 * _GELU_TANH_CUBIC * square) * _SQRT_2_OVER_PI
        return g * (0.5 * (1.0 + t) + 0.5 * input * (1.0 - t * t) * slope)
    # Phi(x) + x phi(x); Phi via our erf primitive, so a second derivative is available.
    cdf = 0.5 * (1.0 + _erf(input * _SQRT1_2))
    pdf = exp(input * input * -0.5) * _INV_SQRT_2PI
    return g * (cdf + input * pdf)


@primitive("gelu", save=("input",), grads={"input": _gelu_vjp})
def _gelu(input: Any, approximate: str) -> Any:
    if approximate == "tanh":
        if type(input) is not np.ndarray or input.ndim == 0:
            inner = (input + _GELU_TANH_CUBIC * (input * input * input)) * _SQRT_2_OVER_PI
            return 0.5 * input * (1.0 + np.tanh(inner))
        out = _accel.gelu_tanh(input)  # one compiled pass, when Numba is there and it pays
        if out is not None:
            return out
        # The same operations in the same order, in place in one buffer (x/2 (1 + t) is
        # computed as (1 + t) x / 2: halving is exact).
        out = input * input
        out *= input
        out *= _GELU_TANH_CUBIC
        out += input
        out *= _SQRT_2_OVER_PI
        np.tanh(out, out=out)
        out += 1.0
        out *= input
        out *= 0.5
        return out
    if type(input) is np.ndarray and input.dtype == np.float32 and input.ndim:
        out = _normal_cdf_float32(input, False)[0]
        out *= input
        return out
    # x * Phi(x) with Phi(x) = erfc(-x / sqrt 2) / 2, which keeps its relative accuracy for
    # negative x (1 + erf(x / sqrt 2) cancels there).
    return 0.5 * input * erf_array(input * -_SQRT1_2, complement=True)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit ``x * Phi(x)`` (``approximate='tanh'``: the tanh approximation
    ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``).

    >>> import backprop as bp
    >>> [round(v, 6) for v in gelu(bp.tensor([-1.0, 0.0, 1.0])).tolist()]
    [-0.158655, 0.0, 0.841345]
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _gelu(input, approximate)


# -- rectifiers -----------------------------------------------------------------------------------


# At 0 the slope is negative_slope, PyTorch's convention (input > 0 selects the identity).
@primitive("leaky_relu", save=("input",), grads={
    "input": lambda g, out, input, negative_slope: where(gt(input, 0), g,
    g * negative_slope),
})
def _leaky_relu(input: Any, negative_slope: float) -> Any:
    # max(x, 0) + slope * min(x, 0) is exact (one term is zero) and, unlike np.where, does not
    # branch per element.
    out = np.minimum(input, 0)
    out *= negative_slope
    out += np.maximum(input, 0)
    return out


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``: ``bp.relu`` with PyTorch's functional ``inplace`` flag.

    >>> import backprop as bp
    >>> relu(bp.tensor([-2.0, 3.0])).tolist()
    [0.0, 3.0]
    """
    return _maybe_inplace(input, inplace, "relu", _ew.relu)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise.

    >>> import backprop as bp
    >>> leaky_relu(bp.tensor([-2.0, 3.0]), 0.25).tolist()
    [-0.5, 3.0]
    """
    return _maybe_inplace(input, inplace, "leaky_relu",
                          lambda x: _leaky_relu(x, float(negative_slope)))


# Unlike clamp's, the gradient is zero AT the bounds as well (PyTorch's hardtanh_backward).
@primitive("hardtanh", save=("input",), grads={
    "input": lambda g, out, input, min_val, max_val: where(
    logical_or(le(input, min_val), ge(input, max_val)), 0.0, g),
})
def _hardtanh(input: Any, min_val: float, max_val: float) -> Any:
    return np.clip(input, min_val, max_val)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """``input`` clipped to ``[min_val, max_val]``; zero gradient outside the open interval.

    >>> import backprop as bp
    >>> hardtanh(bp.tensor([-3.0, 0.5, 3.0])).tolist()
    [-1.0, 0.5, 1.0]
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    return _maybe_inplace(input, inplace, "hardtanh",
                          lambda x: _hardtanh(x, float(min_val), float(max_val)))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``: ``hardtanh(input, 0, 6)``.

    >>> import backprop as bp
    >>> relu6(bp.tensor([-1.0, 3.0, 9.0])).tolist()
    [0.0, 3.0, 6.0]
    """
    return hardtanh(input, 0.0, 6.0, inplace)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, else ``value``.

    >>> import backprop as bp
    >>> threshold(bp.tensor([0.5, 2.0]), 1.0, -1.0).tolist()
    [-1.0, 2.0]
    """
    limit = threshold
    return _maybe_inplace(input, inplace, "threshold",
                          lambda x: where(gt(x, limit), x, float(value)))


# -- exponential units ----------------------------------------------------------------------------


def _elu_vjp(g: Any, out: Any, input: Any, alpha: float, scale: float, input_scale: float) -> Any:
    # The exponential is taken of min(x, 0): exp(large x) would be inf, and under create_graph
    # the unselected branch's gradient would be 0 * inf = nan.
    slope = exp(clamp(input, None, 0.0) * input_scale) * (alpha * scale * input_scale)
    return where(gt(input, 0), g * scale, g * slope)


@primitive("elu", save=("input",), grads={"input": _elu_vjp})
def _elu(input: Any, alpha: float, scale: float, input_scale: float) -> Any:
    # scale * max(x, 0) + alpha * scale * expm1(min(x, 0) * input_scale): each part is exactly
    # zero where the other applies, and expm1 of the clipped input cannot overflow.
    out = np.expm1(np.minimum(input, 0) * input_scale)
    out *= alpha * scale
    positive = np.maximum(input, 0)
    if scale != 1.0:
        positive *= scale
    out += positive
    return out


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    >>> import backprop as bp
    >>> [round(v, 4) for v in elu(bp.tensor([-1.0, 2.0])).tolist()]
    [-0.6321, 2.0]
    """
    return _maybe_inplace(input, inplace, "elu", lambda x: _elu(x, float(alpha), 1.0, 1.0))


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants (alpha ~ 1.6733,
    scale ~ 1.0507).

    >>> import backprop as bp
    >>> [round(v, 4) for v in selu(bp.tensor([-1.0, 1.0])).tolist()]
    [-1.1113, 1.0507]
    """
    return _maybe_inplace(input, inplace, "selu",
                          lambda x: _elu(x, _SELU_ALPHA, _SELU_SCALE, 1.0))


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    >>> import backprop as bp
    >>> [round(v, 4) for v in celu(bp.tensor([-1.0, 1.0]), alpha=2.0).tolist()]
    [-0.7869, 1.0]
    """
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0 (the input is divided by it)")
    return _maybe_inplace(input, inplace, "celu",
                          lambda x: _elu(x, float(alpha), 1.0, 1.0 / alpha))


# -- sigmoid-shaped -------------------------------------------------------------------------------


def _silu_vjp(g: Any, out: Any, input: Any) -> Any:
    s = sigmoid(input)
    if type(g) is np.ndarray and type(input) is np.ndarray:
        # Plain backward on arrays: the same formula in place, one temporary instead of five
        # (under create_graph the operators below build the graph).
        result = np.subtract(1.0, s)
        result *= input
        result += 1.0
        result *= s
        result *= g
        return result
    return g * s * (1.0 + input * (1.0 - s))


@primitive("silu", save=("input",), grads={"input": _silu_vjp})
def _silu(input: Any) -> Any:
    # x / (1 + e^-x): where e^-x overflows to inf the quotient is the right limit, -0.
    denominator = np.negative(input)
    if type(denominator) is not np.ndarray or denominator.dtype.kind != "f":  # 0-d or integer
        with np.errstate(over="ignore"):
            return as_array(input / (np.exp(denominator) + 1.0))
    with np.errstate(over="ignore"):
        np.exp(denominator, out=denominator)
    denominator += 1.0
    return np.divide(input, denominator, out=denominator)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (also called swish).

    >>> import backprop as bp
    >>> [round(v, 4) for v in silu(bp.tensor([-1.0, 1.0])).tolist()]
    [-0.2689, 0.7311]
    """
    return _maybe_inplace(input, inplace, "silu", _silu)


def _softplus_vjp(g: Any, out: Any, input: Any, beta: float, threshold: float) -> Any:
    z = input * beta
    return where(gt(z, threshold), g, g * sigmoid(z))


@primitive("softplus", save=("input",), grads={"input": _softplus_vjp})
def _softplus(input: Any, beta: float, threshold: float) -> Any:
    z = input * beta if beta != 1.0 else input
    # log(1 + e^z) = max(z, 0) + log(1 + e^-|z|): exp never overflows.
    out = np.log1p(np.exp(-np.abs(z)))
    out += np.maximum(z, 0)
    if beta != 1.0:
        out /= beta
    linear = z > threshold
    return np.where(linear, input, out) if linear.any() else out


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``.

    >>> import backprop as bp
    >>> [round(v, 4) for v in softplus(bp.tensor([0.0, 30.0])).tolist()]
    [0.6931, 30.0]
    """
    return _softplus(input, float(beta), float(threshold))


@primitive("logsigmoid", save=("input",), grads={"input": lambda g, out, input: g * sigmoid(-input)})
def _logsigmoid(input: Any) -> Any:
    # log(1 / (1 + e^-x)) = min(x, 0) - log(1 + e^-|x|): no overflow for either sign.
    out = np.log1p(np.exp(-np.abs(input)))
    return np.minimum(input, 0) - out


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))``, computed without overflow for large ``|x|``.

    >>> import backprop as bp
    >>> [round(v, 4) for v in logsigmoid(bp.tensor([-800.0, 0.0])).tolist()]
    [-800.0, -0.6931]
    """
    return _logsigmoid(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``.

    >>> import backprop as bp
    >>> [round(v, 4) for v in mish(bp.tensor([-1.0, 1.0])).tolist()]
    [-0.3034, 0.8651]
    """
    return _maybe_inplace(input, inplace, "mish",
                          lambda x: x * tanh(_softplus(x, 1.0, 20.0)))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``; zero gradient outside ``(-3, 3)``.

    >>> import backprop as bp
    >>> hardsigmoid(bp.tensor([-4.0, 0.0, 4.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    return _maybe_inplace(input, inplace, "hardsigmoid",
                          lambda x: _hardtanh(x + 3.0, 0.0, 6.0) / 6.0)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6``.

    >>> import backprop as bp
    >>> hardswish(bp.tensor([-4.0, 1.5, 4.0])).tolist()
    [-0.0, 1.125, 4.0]
    """
    # Written by pieces so the gradient at the kinks is PyTorch's: 0 up to -3, x/3 + 1/2 on
    # (-3, 3), 1 from 3 on.
    def compute(x: Any) -> Any:
        return where(le(x, -3.0), x * 0.0, where(lt(x, 3.0), x * (x + 3.0) / 6.0, x))

    return _maybe_inplace(input, inplace, "hardswish", compute)


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``.

    >>> import backprop as bp
    >>> softsign(bp.tensor([-1.0, 3.0])).tolist()
    [-0.5, 0.75]
    """
    return input / (abs(input) + 1.0)


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``.

    >>> import backprop as bp
    >>> tanhshrink(bp.tensor([0.0])).tolist()
    [0.0]
    """
    return input - tanh(input)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0.

    >>> import backprop as bp
    >>> hardshrink(bp.tensor([-1.0, 0.2, 0.75])).tolist()
    [-1.0, 0.0, 0.75]
    """
    return where(logical_or(lt(input, -lambd), gt(input, lambd)), input, 0.0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between.

    >>> import backprop as bp
    >>> softshrink(bp.tensor([-1.0, 0.2, 0.75])).tolist()
    [-0.5, 0.0, 0.25]
    """
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be at least 0, got {lambd}")
    return where(gt(input, lambd), input - lambd,
                 where(lt(input, -lambd), input + lambd, input * 0.0))


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: ``a * sigmoid(b)`` where ``a`` and ``b`` are the two halves of
    ``input`` along ``dim``.

    >>> import backprop as bp
    >>> glu(bp.tensor([2.0, 0.0])).tolist()
    [1.0]
    """
    if input.ndim == 0:
        raise ShapeError("glu: does not support scalars (dim must have an even size to halve)")
    d = check_dim("glu", dim, input.ndim)
    n = input.shape[d]
    if n % 2:
        raise ShapeError(f"glu: halving dimension must be even, but dimension {dim} of input of "
                         f"shape {tuple(input.shape)} has size {n}")
    half = n // 2
    return narrow(input, d, 0, half) * sigmoid(narrow(input, d, half, half))


def _implicit_softmax_dim(name: str, ndim: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: Any = None) -> Tensor:
    """``softmax(-input, dim)``.

    >>> import backprop as bp
    >>> softmin(bp.tensor([0.0, 0.0]), dim=0).tolist()
    [0.5, 0.5]
    """
    if dim is None:
        dim = _implicit_softmax_dim("softmin", input.ndim)
    if dtype is not None:
        input = input.to(dtype)
    return softmax(-input, dim)


__all__ = ["relu", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus", "softsign",
           "hardtanh", "relu6", "hardsigmoid", "hardswish", "logsigmoid", "tanhshrink",
           "hardshrink", "softshrink", "threshold", "glu", "softmin"]
