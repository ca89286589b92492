"""More pointwise ops (issue 17): the inverse trigonometric and hyperbolic functions, log10,
square, trunc and frac, atan2, hypot, logaddexp, degree conversions, one-sided clamps, and the
fused ``addcmul``, ``addcdiv`` and ``lerp``. Gradients are PyTorch's (derivatives.yaml)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import dtypes
from ..backends import numba_pointwise  # noqa: F401 - registers the compiled fmod/remainder
from ..errors import DTypeError
from ..tensor import Tensor
from . import division_numerics
from .elementwise import (_clamp, _refuse_integer_division_by_zero, _select_bits, _zero_gradient,
                          add, cos, div, eq, exp, gt, isfinite, le, logical_and, logical_or, lt,
                          mul, pow, rsqrt,
                          sin, where)
from .erf_numerics import erf_array
from .primitive import primitive
from .special import _floating  # integers computed in the default float dtype

# Python floats: a NumPy float64 scalar would promote float32 to float64.
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_DEG_TO_RAD = math.pi / 180.0
_RAD_TO_DEG = 180.0 / math.pi
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# -- inverse trigonometric and hyperbolic functions ---------------------------------------------

@primitive(save=("input",), grads={"input": lambda g, out, input: g * rsqrt(1 - input * input)})
def asin(input: Any) -> Any:
    return np.arcsin(input)


@primitive(save=("input",), grads={"input": lambda g, out, input: -g * rsqrt(1 - input * input)})
def acos(input: Any) -> Any:
    return np.arccos(input)


@primitive(save=("input",), grads={"input": lambda g, out, input: g / (input * input + 1)})
def atan(input: Any) -> Any:
    return np.arctan(input)


@primitive(save=("input",), grads={"input": lambda g, out, input: g * rsqrt(input * input + 1)})
def asinh(input: Any) -> Any:
    return np.arcsinh(input)


@primitive(save=("input",), grads={"input": lambda g, out, input: g * rsqrt(input * input - 1)})
def acosh(input: Any) -> Any:
    return np.arccosh(input)


@primitive(save=("input",), grads={"input": lambda g, out, input: g / (1 - input * input)})
def atanh(input: Any) -> Any:
    return np.arctanh(input)


# -- logarithms, powers, rounding ----------------------------------------------------------------

@primitive(save=("input",), grads={"input": lambda g, out, input: g / (input * _LN10)})
def log10(input: Any) -> Any:
    return np.log10(input)


def square(input: Tensor) -> Tensor:
    """``input ** 2``, elementwise (``torch.square``); integers stay integers.

    >>> import backprop as bp
    >>> bp.square(bp.tensor([-3., 2.])).tolist()
    [9.0, 4.0]
    """
    return pow(input, 2)


@primitive(grads={"input": _zero_gradient})
def trunc(input: Any) -> Any:
    """Round toward zero; the gradient is zero (PyTorch's, as for floor and ceil).

    >>> import backprop as bp
    >>> bp.trunc(bp.tensor([-1.7, 1.7])).tolist()
    [-1.0, 1.0]
    """
    if input.dtype.kind in "iub":  # NumPy's trunc turns integers into floats; PyTorch's keeps them
        return input.copy()
    return np.trunc(input)


# input - trunc(input): slope 1.
@primitive(grads={"input": lambda g, out, input: g})
def frac(input: Any) -> Any:
    """The fractional part ``input - trunc(input)``, with the sign of ``input``.

    >>> import backprop as bp
    >>> bp.frac(bp.tensor([-1.25, 2.5])).tolist()
    [-0.25, 0.5]
    """
    whole = np.trunc(input)
    if whole.ndim:  # in place: one temporary, not two (0-d: NumPy returns a scalar)
        return np.subtract(input, whole, out=whole)
    return input - whole


@primitive(grads={"input": lambda g, out, input: g * _DEG_TO_RAD})
def deg2rad(input: Any) -> Any:
    return input * _DEG_TO_RAD


@primitive(grads={"input": lambda g, out, input: g * _RAD_TO_DEG})
def rad2deg(input: Any) -> Any:
    return input * _RAD_TO_DEG


# -- binary ops -----------------------------------------------------------------------------------

def _atan2_grad(g: Any, out: Any, input: Any, other: Any, needs: Any) -> tuple[Any, Any]:
    # At the origin PyTorch takes 0 for 1 / (input**2 + other**2): both gradients are then 0.
    squares = input * input + other * other
    origin = eq(squares, 0)
    recip = where(origin, 0.0, 1 / where(origin, 1.0, squares))
    return (g * other * recip if needs[0] else None, g * -input * recip if needs[1] else None)


@primitive(save=("input", "other"), promote=("input", "other"), refuse=("bool", "complex"),
           grads=_atan2_grad)
def atan2(input: Any, other: Any) -> Any:
    """The angle of the point ``(other, input)``, in ``(-pi, pi]``.

    >>> import backprop as bp
    >>> round(bp.atan2(bp.tensor(1.), bp.tensor(-1.)).item(), 4)
    2.3562
    """
    return np.arctan2(input, other)


@primitive(save=("input", "other", "out"), promote=("input", "other"), refuse=("bool", "complex"),
           grads={
    "input": lambda g, out, input, other: g * input / out,
    "other": lambda g, out, input, other: g * other / out,
})
def hypot(input: Any, other: Any) -> Any:
    """``sqrt(input**2 + other**2)`` without overflow or underflow in the squares.

    >>> import backprop as bp
    >>> bp.hypot(bp.tensor([3.]), bp.tensor([4.])).tolist()
    [5.0]
    """
    return np.hypot(input, other)


@primitive(save=("input", "other"), promote=("input", "other"), refuse=("bool", "complex"),
           grads={
    "input": lambda g, out, input, other: g / (exp(other - input) + 1),
    "other": lambda g, out, input, other: g / (exp(input - other) + 1),
})
def logaddexp(input: Any, other: Any) -> Any:
    """``log(exp(input) + exp(other))``, without overflow.

    >>> import backprop as bp
    >>> round(bp.logaddexp(bp.tensor(1000.), bp.tensor(1000.)).item(), 4)
    1000.6931
    """
    return np.logaddexp(input, other)


@primitive(save=("input", "other"), promote=("input", "other"), refuse=("bool", "complex"),
           grads={
    "input": lambda g, out, input, other: g / (pow(2.0, other - input) + 1),
    "other": lambda g, out, input, other: g / (pow(2.0, input - other) + 1),
})
def logaddexp2(input: Any, other: Any) -> Any:
    """``log2(2**input + 2**other)``, without overflow.

    >>> import backprop as bp
    >>> bp.logaddexp2(bp.tensor(3.), bp.tensor(3.)).item()
    4.0
    """
    return np.logaddexp2(input, other)


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _logaddexp_numpy(input: Any, other: Any, base2: bool) -> Any:
    """NumPy's logaddexp (``base2``: logaddexp2) in five vectorised passes, where NumPy's own
    evaluates C's exp and log1p per element (10x PyTorch's time): ``max + log1p(exp(min - max))``
    (``min - max`` is NumPy's ``-|x - y|``, rounded alike; log2 scales by 1/ln 2 as NumPy's
    ``npy_log2_1p``). Equal operands give ``x + log1p(1)``, which is NumPy's ``x + ln 2`` (or
    ``x + 1``) to the bit; where ``inf - inf`` makes a nan the few elements are NumPy's. None
    for what it does not cover (other dtypes, mixed ones, numbers, small arrays)."""
    if (type(input) is not np.ndarray or type(other) is not np.ndarray
            or input.dtype != other.dtype or input.dtype not in _FLOATS
            or max(input.size, other.size) < 64 or input.ndim + other.ndim == 0):
        return None
    with np.errstate(all="ignore"):
        big = np.maximum(input, other)
        small = np.minimum(input, other)
        np.subtract(small, big, out=small)
        (np.exp2 if base2 else np.exp)(small, out=small)
        np.log1p(small, out=small)
        if base2:
            np.multiply(small, input.dtype.type(1 / _LN2), out=small)
        np.add(big, small, out=big)
        nan = np.isnan(big)
        if nan.any():  # infinities of one sign (NumPy: that infinity), or a nan operand
            shape = big.shape
            big[nan] = (np.logaddexp2 if base2 else np.logaddexp)(
                np.broadcast_to(input, shape)[nan], np.broadcast_to(other, shape)[nan])
    return big


@logaddexp.kernel(np.ndarray)
def _logaddexp_kernel(input: Any, other: Any) -> Any:
    return _logaddexp_numpy(input, other, base2=False)


@logaddexp2.kernel(np.ndarray)
def _logaddexp2_kernel(input: Any, other: Any) -> Any:
    return _logaddexp_numpy(input, other, base2=True)


def clamp_min(input: Tensor, min: Any) -> Tensor:
    """``clamp(input, min=min)``; ``min`` may be a tensor.

    >>> import backprop as bp
    >>> bp.clamp_min(bp.tensor([-1., 2.]), 0.).tolist()
    [0.0, 2.0]
    """
    return _clamp(input, min, None)


def clamp_max(input: Tensor, max: Any) -> Tensor:
    """``clamp(input, max=max)``; ``max`` may be a tensor.

    >>> import backprop as bp
    >>> bp.clamp_max(bp.tensor([-1., 2.]), 0.).tolist()
    [-1.0, 0.0]
    """
    return _clamp(input, None, max)


# -- fused ----------------------------------------------------------------------------------------

def _fusable(value: Any, *tensors: Any) -> bool:
    """Tensors of one real float dtype and a real number: the fused rows below apply (other
    mixes keep the composition, whose ops promote and check as PyTorch's)."""
    first = tensors[0]
    return (type(value) in (int, float) and all(type(t) is Tensor for t in tensors)
            and first.dtype in (np.float32, np.float64)
            and all(t.dtype == first.dtype for t in tensors))


def _addc_grads(divide: bool) -> Any:
    def rule(g: Any, out: Any, input: Any, tensor1: Any, tensor2: Any, *,
             needs: tuple[bool, ...], value: Any = 1) -> tuple[Any, Any, Any]:
        scaled = g if value == 1 else g * value
        if divide:  # d(t1 / t2) = 1 / t2, -t1 / t2**2
            return (g if needs[0] else None, scaled / tensor2 if needs[1] else None,
                    -scaled * tensor1 / (tensor2 * tensor2) if needs[2] else None)
        return (g if needs[0] else None, scaled * tensor2 if needs[1] else None,
                scaled * tensor1 if needs[2] else None)
    return rule


def _addc(divide: bool, input: Any, tensor1: Any, tensor2: Any, value: Any) -> Any:
    # As the composition rounds: the product (quotient), times value, plus input; in place in
    # the one temporary where its shape is the result's.
    term = tensor1 / tensor2 if divide else tensor1 * tensor2
    if value != 1:
        term *= value  # (a new array, or a NumPy scalar: rebound)
    if type(term) is np.ndarray and term.shape == np.broadcast_shapes(term.shape, input.shape):
        return np.add(input, term, out=term)
    return input + term


@primitive("addcmul", save=("tensor1", "tensor2"), grads=_addc_grads(divide=False))
def _addcmul(input: Any, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Any:
    return _addc(False, input, tensor1, tensor2, value)


@primitive("addcdiv", save=("tensor1", "tensor2"), grads=_addc_grads(divide=True))
def _addcdiv(input: Any, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Any:
    return _addc(True, input, tensor1, tensor2, value)


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """``input + value * tensor1 * tensor2``, broadcasting.

    >>> import backprop as bp
    >>> bp.addcmul(bp.ones(2), bp.tensor([1., 2.]), bp.tensor([3., 4.]), value=0.5).tolist()
    [2.5, 5.0]
    """
    if _fusable(value, input, tensor1, tensor2):
        return _addcmul(input, tensor1, tensor2, value=value)
    product = mul(tensor1, tensor2)
    return add(input, product if value == 1 else mul(product, value))


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """``input + value * tensor1 / tensor2``, broadcasting.

    >>> import backprop as bp
    >>> bp.addcdiv(bp.ones(2), bp.tensor([1., 2.]), bp.tensor([4., 4.]), value=2).tolist()
    [1.5, 2.0]
    """
    if _fusable(value, input, tensor1, tensor2):
        return _addcdiv(input, tensor1, tensor2, value=value)
    quotient = div(tensor1, tensor2)
    return add(input, quotient if value == 1 else mul(quotient, value))


def _lerp_grads(g: Any, out: Any, input: Any, end: Any, weight: Any,
                needs: tuple[bool, ...]) -> tuple[Any, Any, Any]:
    # PyTorch's (derivatives.yaml): the same slopes on both sides of 0.5.
    return (g * (1 - weight) if needs[0] else None, g * weight if needs[1] else None,
            g * (end - input) if needs[2] else None)


@primitive("lerp", save=("input", "end", "weight"), promote=("input", "end", "weight"),
           refuse=("bool", "complex"), grads=_lerp_grads)
def _lerp(input: Any, end: Any, weight: Any) -> Any:
    # One op rather than nine (their temporaries cost more than the arithmetic): PyTorch's two
    # formulas, each element from the one its weight selects.
    difference = end - input
    if isinstance(weight, (int, float)):  # (difference has the result's shape: in place)
        if -0.5 < weight < 0.5:
            difference *= weight
            difference += input
            return difference
        difference *= 1 - weight
        return end - difference
    high = end - difference * (1 - weight)
    low = input + weight * difference
    small = np.abs(weight) < 0.5
    if high.shape == low.shape == small.shape and type(high) is np.ndarray:
        chosen = _select_bits(small, low, high)  # np.where branches per element: slow
        if chosen is not None:
            return chosen
    return np.where(small, low, high)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """``input + weight * (end - input)``, computed as PyTorch does: from ``end`` where
    ``weight >= 0.5``, so a weight of 1 gives ``end`` exactly.

    >>> import backprop as bp
    >>> bp.lerp(bp.tensor([0., 10.]), bp.tensor([10., 20.]), 0.25).tolist()
    [2.5, 12.5]
    """
    return _lerp(input, end, weight)


# -- batch 2: sign and special values ------------------------------------------------------------

def _copysign_grad_input(g: Any, out: Any, input: Any, other: Any) -> Any:
    # d|x| sign(y) / dx = out / x; PyTorch takes 0 at x == 0.
    zero = eq(input, 0)
    return g * where(zero, 0.0, out / where(zero, 1.0, input))


@primitive(save=("input", "out"), promote=("input", "other"), refuse=("complex",), grads={
    "input": _copysign_grad_input,
    "other": _zero_gradient,
})
def _copysign(input: Any, other: Any) -> Any:
    return np.copysign(input, other)


def copysign(input: Tensor, other: Any) -> Tensor:
    """The magnitude of ``input`` with the sign of ``other`` (signed zeros included); integers
    give the default float dtype, as in PyTorch.

    >>> import backprop as bp
    >>> bp.copysign(bp.tensor([1., -2.]), bp.tensor([-0., 3.])).tolist()
    [-1.0, 2.0]
    """
    return _copysign(_floating(input), other)


# The slope in x is log y; PyTorch takes 0 where x == 0 and y <= 0 (log y is not finite there).
@primitive(save=("input", "other"), promote=("input", "other"), refuse=("complex",), grads={
    "input": lambda g, out, input, other: where(logical_and(eq(input, 0), le(other, 0)), 0.0,
                                                xlogy(g, other)),
    "other": lambda g, out, input, other: g * input / other,
})
def _xlogy(input: Any, other: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        product = input * np.log(other)
    return _zero_where_input_is_zero(product, input, other)


def _zero_where_input_is_zero(product: Any, input: Any, other: Any) -> Any:
    """``product`` with 0 where ``input`` is 0 and ``other`` is not nan (xlogy and xlog1py)."""
    return np.where((input == 0) & ~np.isnan(other), 0, product).astype(product.dtype, copy=False)


def xlogy(input: Any, other: Any) -> Tensor:
    """``input * log(other)``, taken as 0 where ``input`` is 0 (unless ``other`` is nan).

    >>> import backprop as bp
    >>> bp.xlogy(bp.tensor([0., 2.]), bp.tensor([0., 1.])).tolist()
    [0.0, 0.0]
    """
    return _xlogy(_floating(input), other)


def _sinc_grad(g: Any, out: Any, input: Any) -> Any:
    # (pi x cos(pi x) - sin(pi x)) / (pi x^2), and 0 at x == 0 (the limit).
    zero = eq(input, 0)
    x = where(zero, 1.0, input)
    pi_x = x * math.pi
    return g * where(zero, 0.0, (pi_x * cos(pi_x) - sin(pi_x)) / (pi_x * x))


@primitive(save=("input",), grads={"input": _sinc_grad})
def _sinc(input: Any) -> Any:
    return np.sinc(input).astype(input.dtype, copy=False)


def sinc(input: Tensor) -> Tensor:
    """``sin(pi x) / (pi x)``, 1 at 0.

    >>> import backprop as bp
    >>> bp.sinc(bp.tensor([0., 0.5])).tolist()
    [1.0, 0.6366197466850281]
    """
    return _sinc(_floating(input))


def _logit_grad(g: Any, out: Any, input: Any, eps: Any) -> Any:
    slope = g / (input * (1 - input))
    if eps is None:  # outside [0, 1] the logit is nan, and so is its gradient (PyTorch's)
        return where(logical_or(lt(input, 0), gt(input, 1)), math.nan, slope)
    return where(logical_or(lt(input, eps), gt(input, 1 - eps)), 0.0, slope)


@primitive(save=("input",), grads={"input": _logit_grad})
def _logit(input: Any, eps: Any) -> Any:
    if eps is not None:
        input = np.clip(input, eps, 1 - eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(input / (1 - input))


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """``log(p / (1 - p))``, with ``p`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given.

    >>> import backprop as bp
    >>> bp.logit(bp.tensor([0.5, 0.0]), eps=1e-6).tolist()[0]
    0.0
    """
    return _logit(_floating(input), eps)


def float_power(input: Any, exponent: Any) -> Tensor:
    """``input ** exponent`` computed in float64, as ``torch.float_power``.

    >>> import backprop as bp
    >>> bp.float_power(bp.tensor([2], dtype=bp.float32), 2).dtype
    dtype('float64')
    """
    input = input.to(dtypes.float64) if isinstance(input, Tensor) else float(input)
    if isinstance(exponent, Tensor):
        exponent = exponent.to(dtypes.float64)
    else:
        exponent = float(exponent)
    return pow(input, exponent)


# input - trunc(input / other) * other: slope 1 in input, -trunc(input / other) in other.
@primitive(save=("input", "other"), promote=("input", "other"), refuse=("bool", "complex"),
           grads={
    "input": lambda g, out, input, other: g,
    "other": lambda g, out, input, other: -g * div(input, other, rounding_mode="trunc"),
})
def fmod(input: Any, other: Any) -> Any:
    """The remainder of ``input / other`` with the sign of ``input`` (C's fmod).

    >>> import backprop as bp
    >>> bp.fmod(bp.tensor([-3., 3.]), 2).tolist()
    [-1.0, 1.0]
    """
    _refuse_integer_division_by_zero("fmod", input, other)
    return np.fmod(input, other)


@fmod.kernel(np.ndarray)
def _fmod_float32(input: Any, other: Any) -> Any:
    # NumPy's float32 fmod calls C's fmodf per element, 10x PyTorch's time: the same bits from
    # a float64 quotient (division_numerics); None (other dtypes, numbers) runs the forward.
    return division_numerics.fmod_float32(input, other) \
        if division_numerics.applies(input, other) else None


def positive(input: Tensor) -> Tensor:
    """``input`` itself (``+input``); refused for bool tensors, as in PyTorch.

    >>> import backprop as bp
    >>> x = bp.ones(2)
    >>> bp.positive(x) is x
    True
    """
    if input.dtype == np.bool_:
        raise DTypeError("positive: the positive of a bool tensor is not supported, as in "
                         "PyTorch; convert it with .int() first")
    return input


@primitive(differentiable=False)
def signbit(input: Any) -> Any:
    """True where the sign bit is set (negative numbers and -0.0).

    >>> import backprop as bp
    >>> bp.signbit(bp.tensor([-0., 0., -1.])).tolist()
    [True, False, True]
    """
    return np.signbit(input)


@primitive(differentiable=False)
def isposinf(input: Any) -> Any:
    return np.isposinf(input) if input.dtype.kind in "fcV" else np.zeros_like(input, dtype=bool)


@primitive(differentiable=False)
def isneginf(input: Any) -> Any:
    return np.isneginf(input) if input.dtype.kind in "fcV" else np.zeros_like(input, dtype=bool)


@primitive(differentiable=False, promote=("input", "values"), refuse=("complex",))
def heaviside(input: Any, values: Any) -> Any:
    """0 where ``input < 0``, 1 where ``input > 0``, ``values`` where it is 0.

    >>> import backprop as bp
    >>> bp.heaviside(bp.tensor([-1., 0., 2.]), bp.tensor([0.5])).tolist()
    [0.0, 0.5, 1.0]
    """
    # Not np.heaviside: PyTorch's is (input > 0) for a nan input too, where NumPy's gives nan.
    return np.where(input == 0, values, input > 0).astype(np.result_type(input, values),
                                                          copy=False)


# -- nan_to_num ------------------------------------------------------------------------------------

# Where the value was replaced the result is a constant: gradient 0 there (PyTorch's).
@primitive(save=("input",), grads={
    "input": lambda g, out, input, nan=0.0, posinf=None, neginf=None:
    where(isfinite(input), g, 0.0),
})
def nan_to_num(input: Any, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Any:
    """nan, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default 0 and the
    dtype's largest and lowest finite values).

    >>> import backprop as bp
    >>> bp.nan_to_num(bp.tensor([float("nan"), float("inf"), 1.]), posinf=9.).tolist()
    [0.0, 9.0, 1.0]
    """
    if input.dtype.kind not in "fcV":
        return input.copy()
    return np.nan_to_num(input, nan=nan, posinf=posinf, neginf=neginf)


@nan_to_num.kernel(np.ndarray)
def _nan_to_num_all_finite(input: Any, nan: float = 0.0, posinf: float | None = None,
                           neginf: float | None = None) -> Any:
    # The common case, nothing to replace: a copy, where np.nan_to_num makes several passes and
    # temporaries (5x PyTorch's time). (NumPy arrays only: the test reads the array.)
    return input.copy() if input.dtype.kind in "fV" and np.isfinite(input).all() else None


# -- batch 3 ---------------------------------------------------------------------------------------

@primitive("erfc", save=("input",), grads={
    "input": lambda g, out, input: g * -_TWO_OVER_SQRT_PI * exp(-(input * input)),
})
def _erfc(input: Any) -> Any:
    return erf_array(input, complement=True)


@_erfc.kernel(np.ndarray)
def _erfc_float32(input: np.ndarray) -> np.ndarray | None:
    # float32 by one approximation in a third of Cody's passes (Numba's kernel, when present,
    # is tried first)
    if input.dtype != np.float32 or input.ndim == 0:
        return None
    from .special_numerics import erfc_float32

    return erfc_float32(input)


def erfc(input: Tensor) -> Tensor:
    """``1 - erf(x)``, computed directly so that it keeps its precision for large ``x``.

    >>> import backprop as bp
    >>> bp.erfc(bp.tensor([0., 5.], dtype=bp.float64)).tolist()[1] > 0
    True
    """
    return _erfc(_floating(input))


def ldexp(input: Any, other: Any) -> Tensor:
    """``input * 2 ** other``.

    >>> import backprop as bp
    >>> bp.ldexp(bp.tensor([1., 3.]), bp.tensor([2, -1])).tolist()
    [4.0, 1.5]
    """
    return mul(input, pow(2.0, other))


@primitive(differentiable=False)
def isreal(input: Any) -> Any:
    """True everywhere: backprop's tensors are real (``torch.isreal``).

    >>> import backprop as bp
    >>> bp.isreal(bp.tensor([1., float("nan")])).tolist()
    [True, True]
    """
    return np.ones_like(input, dtype=bool)


arcsin = asin
arccos = acos
arctan = atan
arcsinh = asinh
arccosh = acosh
arctanh = atanh
arctan2 = atan2
fix = trunc

__all__ = [
    "asin", "acos", "atan", "asinh", "acosh", "atanh", "arcsin", "arccos", "arctan", "arcsinh",
    "arccosh", "arctanh", "log10", "square", "trunc", "fix", "frac", "deg2rad", "rad2deg",
    "atan2", "arctan2", "hypot", "logaddexp", "logaddexp2", "clamp_min", "clamp_max", "addcmul",
    "addcdiv", "lerp", "copysign", "xlogy", "sinc", "logit", "float_power", "fmod", "positive",
    "signbit", "isposinf", "isneginf", "heaviside", "nan_to_num", "erfc", "ldexp", "isreal",
]
