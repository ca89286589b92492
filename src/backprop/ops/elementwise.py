"""Elementwise ops: arithmetic, unary maths, activations, comparisons, casts.

Each primitive's VJPs follow right after it. ``g`` is the incoming gradient, ``out`` the forward
result; inputs keep their forward names. VJPs return gradients of the broadcast shape; the engine
sums them down to each input's shape.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import dtypes
from .. import backend
from ..backends import numba_threshold  # noqa: F401 - registers the compiled ReLU backward
from ..errors import DTypeError, DTypeOverflowError, IntegerDivisionByZeroError, format_shape
from ..layout import check_memory_format
from ..tensor import Tensor, requested_conversion
from . import division_numerics
from .conjugation import conjugate_if_complex
from .primitive import primitive

_LN2 = math.log(2.0)  # a Python float: a NumPy float64 scalar would promote float32 to float64


# -- arithmetic ---------------------------------------------------------------------------------

def _times_alpha(op: str, input: Any, other: Any, alpha: Any) -> Any:
    """``alpha * other`` for add's and sub's ``alpha``, as PyTorch computes it: for integer
    inputs alpha must be an integer (a float would silently change the result's dtype) that the
    result's dtype holds (an unsigned one also takes down to minus its maximum), and the product
    wraps in that dtype, as does a Python int ``other``."""
    floating = any(x.dtype.kind in "fcV" if hasattr(x, "dtype") else isinstance(x, (float, complex))
                   for x in (input, other))
    if floating:
        return alpha * other
    if isinstance(alpha, float):
        raise DTypeError(f"{op}: alpha={alpha} is a float but the inputs are integers; give an "
                         "integer alpha, or convert the inputs with .float()")
    dtype = np.result_type(input, other)  # a Python int takes the tensor's dtype
    if dtype.kind not in "iu":
        return alpha * other
    low, high = dtypes.integer_range(dtype)
    if not low <= alpha <= high:
        raise DTypeOverflowError(f"{op}: alpha={alpha} cannot be converted to type {dtype} "
                                 "without overflow")
    if type(other) is int:
        other = np.asarray(dtypes.wrap_integer(other, dtype), dtype)
    return np.multiply(other, dtypes.wrap_integer(alpha, dtype), dtype=dtype)


@primitive(promote=("input", "other"), numbers=True, grads={
    "input": lambda g, out, input, other, alpha=1: g,
    "other": lambda g, out, input, other, alpha=1: g if alpha == 1 else g * alpha,
})
def add(input: Any, other: Any, *, alpha: Any = 1) -> Any:
    """``input + alpha * other``, broadcasting.

    >>> import backprop as bp
    >>> bp.add(bp.tensor([1., 2.]), bp.tensor([10., 20.]), alpha=0.5).tolist()
    [6.0, 12.0]
    """
    if alpha != 1:
        other = _times_alpha("add", input, other, alpha)
    return input + other


@primitive(promote=("input", "other"), numbers=True, refuse=("bool operand",), grads={
    "input": lambda g, out, input, other, alpha=1: g,
    "other": lambda g, out, input, other, alpha=1: -g if alpha == 1 else g * -alpha,
})
def sub(input: Any, other: Any, *, alpha: Any = 1) -> Any:
    """``input - alpha * other``, broadcasting.

    >>> import backprop as bp
    >>> bp.sub(bp.tensor([1., 2.]), bp.tensor([10., 20.]), alpha=0.5).tolist()
    [-4.0, -8.0]
    """
    if alpha != 1:
        other = _times_alpha("sub", input, other, alpha)
    return input - other


@primitive(save=("input", "other"), promote=("input", "other"), numbers=True, grads={
    "input": lambda g, out, input, other: g * conjugate_if_complex(other),
    "other": lambda g, out, input, other: g * conjugate_if_complex(input),
})
def mul(input: Any, other: Any) -> Any:
    return input * other


_ROUNDING_MODES = (None, "trunc", "floor")


def _explain_div(err: Exception, input: Any, other: Any, rounding_mode: Any = None) -> Any:
    return err if rounding_mode not in _ROUNDING_MODES else None  # the forward's own message


# A rounded quotient is piecewise constant: its gradient is zero wherever it exists (PyTorch's).
@primitive(save=("input", "other"), promote=("input", "other"), numbers=True,
           explain=_explain_div, grads={
    "input": lambda g, out, input, other, rounding_mode=None:
    g / conjugate_if_complex(other) if rounding_mode is None else g * 0,
    "other": lambda g, out, input, other, rounding_mode=None:
    -g * conjugate_if_complex(input / (other * other)) if rounding_mode is None else g * 0,
})
def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Any:
    """``input / other``, broadcasting; ``rounding_mode='trunc'`` rounds the quotient toward
    zero, ``'floor'`` down (``floor_divide``). Integer inputs stay integers when rounded.

    >>> import backprop as bp
    >>> x = bp.tensor([-7, 7])
    >>> (x / 2).tolist(), bp.div(x, 2, rounding_mode='trunc').tolist()
    ([-3.5, 3.5], [-3, 3])
    >>> bp.div(x, 2, rounding_mode='floor').tolist()
    [-4, 3]
    """
    if rounding_mode is None:
        return input / other
    if rounding_mode not in _ROUNDING_MODES:
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                         f"{rounding_mode!r}")
    _refuse_integer_division_by_zero("div", input, other)
    if rounding_mode == "floor":
        return input // other
    if np.result_type(input, other).kind in "fcV":
        return np.trunc(input / other)
    # Integers: the floor quotient, one more where a remainder was left and the signs differ.
    quotient = input // other
    inexact = np.not_equal(quotient * other, input)
    return quotient + (inexact & np.not_equal(np.less(input, 0), np.less(other, 0)))


# Piecewise constant: the gradient is zero wherever it exists (as PyTorch defines it).
@primitive(promote=("input", "other"), numbers=True, refuse=("bool", "complex"), grads={
    "input": lambda g, out, input, other: g * 0,
    "other": lambda g, out, input, other: g * 0,
})
def floor_divide(input: Any, other: Any) -> Any:
    _refuse_integer_division_by_zero("floor_divide", input, other)
    return input // other


# input - floor(input / other) * other: slope 1 in input, -floor(input / other) in other.
@primitive(save=("input", "other"), promote=("input", "other"), refuse=("bool", "complex"),
           grads={
    "input": lambda g, out, input, other: g,
    "other": lambda g, out, input, other: -g * floor_divide(input, other),
})
def remainder(input: Any, other: Any) -> Any:
    _refuse_integer_division_by_zero("remainder", input, other)
    return input % other


@remainder.kernel(np.ndarray)
def _remainder_float32(input: Any, other: Any) -> Any:
    # NumPy's float32 remainder calls C's fmodf per element: the same bits from a float64
    # quotient (division_numerics); None (other dtypes, numbers) runs the forward.
    return division_numerics.remainder_float32(input, other) \
        if division_numerics.applies(input, other) else None


def _refuse_integer_division_by_zero(op: str, input: Any, other: Any) -> None:
    """Integer ``//`` and ``%`` by zero raise in PyTorch (NumPy gives 0 and warns); float
    division by zero gives inf or nan in both."""
    if (_is_integral(input) and _is_integral(other) and np.size(input) != 0
            and not np.all(other)):
        divisor = (f"the divisor is {other!r}" if type(other) in (int, bool) else
                   f"the {format_shape(other.shape)} {other.dtype} divisor holds a 0")
        raise IntegerDivisionByZeroError(f"{op}: integer division by zero ({divisor}); divide "
                                         "floats to get inf or nan instead")


def _is_integral(value: Any) -> bool:
    return type(value) in (int, bool) or getattr(value, "dtype", dtypes.float32).kind in "biu"


def _pow_grad_input(g: Any, out: Any, input: Any, exponent: Any) -> Any:
    # d(a**b)/da = b * a**(b - 1), except where b == 0: there a**b is the constant 1 and the
    # gradient 0, where the formula gives 0 * 0**-1 = nan at a == 0 (PyTorch's rule too).
    # Complex numbers: g times the conjugate derivative (ops/complex_ops.py).
    if isinstance(exponent, (int, float)):
        return g * 0 if exponent == 0 else \
            g * conjugate_if_complex(exponent) * conjugate_if_complex(pow(input, exponent - 1))
    constant = eq(exponent, 0)
    # A base of 1 where b == 0 keeps 0**-1 out of the discarded branch and of its derivative.
    safe_input = where(constant, 1.0, input)
    return where(constant, 0.0,
                 g * conjugate_if_complex(exponent)
                 * conjugate_if_complex(safe_input ** (exponent - 1)))


def _pow_grad_exponent(g: Any, out: Any, input: Any, exponent: Any) -> Any:
    # d(a**b)/db = a**b * log(a); at a == 0 with b >= 0 the limit is 0, not 0 * -inf = nan.
    zero_base = logical_and(eq(input, 0), ge(exponent, 0))
    safe_input = where(zero_base, 1.0, input)
    return where(zero_base, 0.0,
                 g * conjugate_if_complex(out) * conjugate_if_complex(log(safe_input)))


# The exponents PyTorch computes by products rather than C's pow (its pow_tensor_scalar fast
# paths): the same roundings as PyTorch's, and ~100x faster than NumPy's general power.
_POW_BY_PRODUCTS = {
    2: lambda x: x * x,
    3: lambda x: x * x * x,
    0.5: np.sqrt,
    -1: lambda x: 1 / x,
    -2: lambda x: 1 / (x * x),
}
_POW_BY_PRODUCTS_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@primitive(save=("input", "exponent", "out"), promote=("input", "exponent"),
           refuse=("bool tensors",), grads={
    "input": _pow_grad_input,
    "exponent": _pow_grad_exponent,
})
def pow(input: Any, exponent: Any) -> Any:
    if type(exponent) is bool and input.dtype == np.bool_:  # PyTorch's bool result; NumPy: int8
        return input.copy() if exponent else input | True
    if type(exponent) is float and exponent == -0.5:
        return 1 / np.sqrt(input)  # PyTorch's rsqrt: -0.0 ** -0.5 is -inf there, inf in C's pow
    if type(exponent) in (int, float) and input.dtype in _POW_BY_PRODUCTS_DTYPES:
        by_products = _POW_BY_PRODUCTS.get(exponent)
        if by_products is not None:
            return by_products(input)
    try:
        return input ** exponent
    except ValueError:  # NumPy refuses integers to negative integer powers
        if type(exponent) is int:  # so does PyTorch, for a Python int exponent only
            raise
        return _integer_power(input, exponent)
    except OverflowError:  # NumPy 2: a Python int beyond the integer dtype
        if type(exponent) is not int:
            raise  # a base beyond it: the engine wraps it into the dtype, as PyTorch does
        if exponent < 0:  # PyTorch refuses an exponent that does not fit, the sign first
            raise ValueError("Integers to negative integer powers are not allowed.") from None
        raise DTypeOverflowError(f"pow: value {exponent} cannot be converted to type "
                                 f"{input.dtype} without overflow") from None


def _integer_power(input: Any, exponent: Any) -> Any:
    """Integers to integer powers, some negative, as PyTorch computes them: ``1 ** -n`` is 1,
    ``(-1) ** -n`` is 1 or -1, and any other base gives 0 (its reciprocal power, truncated)."""
    negative = exponent < 0
    power = input ** np.where(negative, 0, exponent)
    reciprocal = np.where(input == 1, 1, np.where(input == -1, 1 - 2 * (exponent % 2), 0))
    return np.where(negative, reciprocal, power).astype(power.dtype)


def _explain_neg(err: Exception, input: Any) -> Exception | None:
    if getattr(input, "dtype", None) == np.bool_:
        return DTypeError("neg: negation of a bool tensor is not supported, as in PyTorch; to "
                          "invert a mask use ~ or logical_not()")
    return None


@primitive(grads={"input": lambda g, out, input: -g}, explain=_explain_neg)
def neg(input: Any) -> Any:
    return -input


def _abs_grad(g: Any, out: Any, input: Any) -> Any:
    if input.dtype.kind != "c":
        return g * sign(input)
    # Complex z: g z / |z| (0 at 0), written out because sign's gradient is taken as zero, which
    # holds for real numbers only (z / |z| changes with z's angle).
    size = abs(input)
    zero = eq(size, 0)
    return where(zero, 0.0, g * input / where(zero, 1.0, size))


# Kink at 0: PyTorch's convention is sign(0) = 0, a zero subgradient.
@primitive(save=("input",), promote=("input",), refuse=("bool",), grads={"input": _abs_grad})
def abs(input: Any) -> Any:
    return np.abs(input)


# -- unary maths --------------------------------------------------------------------------------
# A complex input's gradient is g times the conjugate derivative (ops/complex_ops.py); for real
# values conjugate_if_complex returns its argument, so the arithmetic is unchanged.


def _rsqrt_grad(g: Any, out: Any) -> Any:
    return g * out * out * out * -0.5

@primitive(save=("out",), grads={"input": lambda g, out, input: g * conjugate_if_complex(out)})
def exp(input: Any) -> Any:
    return np.exp(input)


@primitive(save=("out",), grads={
    "input": lambda g, out, input: g * conjugate_if_complex(out) * _LN2,
})
def exp2(input: Any) -> Any:
    return np.exp2(input)


@primitive(save=("out",), grads={"input": lambda g, out, input: g * conjugate_if_complex(out + 1)})
def expm1(input: Any) -> Any:
    return np.expm1(input)


@primitive(save=("input",), grads={"input": lambda g, out, input: g / conjugate_if_complex(input)})
def log(input: Any) -> Any:
    return np.log(input)


@primitive(save=("input",), grads={
    "input": lambda g, out, input: g / conjugate_if_complex(input * _LN2),
})
def log2(input: Any) -> Any:
    return np.log2(input)


@primitive(save=("input",), grads={
    "input": lambda g, out, input: g / conjugate_if_complex(input + 1),
})
def log1p(input: Any) -> Any:
    return np.log1p(input)


@primitive(save=("out",), grads={"input": lambda g, out, input: g / conjugate_if_complex(out * 2)})
def sqrt(input: Any) -> Any:
    return np.sqrt(input)


@primitive(save=("out",), promote=("input",),
           grads={"input": lambda g, out, input: _rsqrt_grad(g, conjugate_if_complex(out))})
def rsqrt(input: Any) -> Any:
    return 1 / np.sqrt(input)


@primitive(save=("out",), grads={
    "input": lambda g, out, input: -g * conjugate_if_complex(out) * conjugate_if_complex(out),
})
def reciprocal(input: Any) -> Any:
    return 1 / input


@primitive(save=("input",), grads={
    "input": lambda g, out, input: g * conjugate_if_complex(cos(input)),
})
def sin(input: Any) -> Any:
    return np.sin(input)


@primitive(save=("input",), grads={
    "input": lambda g, out, input: -g * conjugate_if_complex(sin(input)),
})
def cos(input: Any) -> Any:
    return np.cos(input)


@primitive(save=("out",), grads={
    "input": lambda g, out, input: g * conjugate_if_complex(out * out + 1),
})
def tan(input: Any) -> Any:
    return np.tan(input)


@primitive(save=("out",), grads={
    "input": lambda g, out, input: g * conjugate_if_complex(1 - out * out),
})
def tanh(input: Any) -> Any:
    return np.tanh(input)


@primitive("sigmoid_backward", composite=True, promote=("g", "out"))
def _sigmoid_backward(g: Any, out: Any) -> Any:
    return g * out * (1 - out)


@_sigmoid_backward.kernel(np.ndarray)
def _sigmoid_backward_in_place(g: np.ndarray, out: np.ndarray) -> Any:
    result = np.subtract(1.0, out)  # the same product, one temporary instead of three
    result *= out
    result *= g
    return result


@primitive(save=("out",), promote=("input",),
           grads={"input": lambda g, out, input: _sigmoid_backward(g, out)})
def sigmoid(input: Any) -> Any:
    # 1 / (1 + e^-x): where e^-x overflows to inf the quotient is the right limit, 0 (only
    # values below the dtype's smallest normal are flushed to 0).
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(np.negative(input)))


@sigmoid.kernel(np.ndarray)
def _sigmoid_in_place(input: np.ndarray) -> Any:
    if not input.ndim or input.dtype.kind not in "fV":  # 0-d results are scalars; ints need a cast
        return None
    out = np.negative(input)  # one temporary
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    return np.divide(1.0, out, out=out)


# Written from the output, not the input: out > 0 exactly where input > 0, and the gradient at
# 0 is 0 as in PyTorch. A select (not g * mask) keeps an inf/nan in g out of the dead units.
# PyTorch zeroes it where out <= 0, so a NaN input passes g on.
@primitive(save=("out",), grads={"input": lambda g, out, input: threshold_backward(g, out, 0)})
def relu(input: Any) -> Any:
    return np.maximum(input, 0)


# PyTorch's own name for ReLU's backward: one primitive, so that a compiled kernel
# (``backends.numba_threshold``) does it in one pass. Linear in ``grad``; ``input`` only chooses
# where, so it gets no gradient (PyTorch's derivative for it is zero too).
# Its incoming gradient is named ``g`` as in the other backward ops (vmap batches it by name).
@primitive(save=("input",), grads={
    "g": lambda gg, out, g, input, threshold: threshold_backward(gg, input, threshold),
    "input": lambda gg, out, g, input, threshold: None,
})
def threshold_backward(g: Any, input: Any, threshold: Any) -> Any:
    mask = np.less_equal(input, threshold)
    selected = _select_bits(mask, 0.0, g) if type(mask) is np.ndarray else None
    return np.where(mask, 0.0, g) if selected is None else selected


# -- piecewise ops ------------------------------------------------------------------------------


def _clamp_inside(input: Any, min: Any, max: Any) -> Any:
    inside = None if min is None else ge(input, min)
    if max is not None:
        inside = le(input, max) if inside is None else logical_and(inside, le(input, max))
    return inside


def _clamp_grad_min(g: Any, out: Any, input: Any, min: Any, max: Any) -> Any:
    below = lt(input, min)
    if max is not None:  # min > max gives max everywhere (it is applied last), so max wins
        below = logical_and(below, lt(min, max))
    return where(below, g, 0.0)


def _clamp_grad_max(g: Any, out: Any, input: Any, min: Any, max: Any) -> Any:
    above = gt(input, max)
    if min is not None:
        above = logical_or(above, lt(max, min))
    return where(above, g, 0.0)


@primitive("clamp", save=("input", "min", "max"), promote=("input", "min", "max"),
           refuse=("complex",), grads={
    "input": lambda g, out, input, min, max: where(_clamp_inside(input, min, max), g, 0.0),
    "min": _clamp_grad_min,
    "max": _clamp_grad_max,
})
def _clamp(input: Any, min: Any, max: Any) -> Any:
    return np.clip(input, min, max)


def clamp(input: Any, min: Any = None, max: Any = None) -> Any:
    """Limit values to [min, max]; either bound may be a tensor. Gradient flows where the value
    was inside the bounds (and to a tensor bound where it was applied).

    >>> import backprop as bp
    >>> bp.tensor([-2., 0., 2.]).clamp(-1, 1).tolist()
    [-1.0, 0.0, 1.0]
    """
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return _clamp(input, min, max)


@primitive("split_ties", composite=True)
def _split_ties(g: Any, larger: Any, smaller: Any) -> Any:
    """0 where ``larger < smaller``, half of ``g`` where they tie (ties share the gradient
    equally, PyTorch's convention for maximum/minimum), ``g`` elsewhere: where either is NaN,
    both get ``g`` (PyTorch's rule)."""
    return where(eq(larger, smaller), g * 0.5, where(lt(larger, smaller), 0.0, g))


@_split_ties.kernel(np.ndarray)
def _split_ties_without_ties(g: Any, larger: Any, smaller: Any) -> Any:
    # Floats rarely tie exactly; without ties one select does, in under half the time.
    if np.equal(larger, smaller).any():
        return None
    return where(np.less(larger, smaller), 0.0, g)


# Each input's gradient is g where it is the one chosen: for maximum where it is the larger.
@primitive(save=("input", "other"), promote=("input", "other"), refuse=("complex",), grads={
    "input": lambda g, out, input, other: _split_ties(g, input, other),
    "other": lambda g, out, input, other: _split_ties(g, other, input),
})
def maximum(input: Any, other: Any) -> Any:
    return np.maximum(input, other)


@primitive(save=("input", "other"), promote=("input", "other"), refuse=("complex",), grads={
    "input": lambda g, out, input, other: _split_ties(g, other, input),
    "other": lambda g, out, input, other: _split_ties(g, input, other),
})
def minimum(input: Any, other: Any) -> Any:
    return np.minimum(input, other)


_SELECT_INTS = {2: np.int16, 4: np.int32, 8: np.int64}  # same-width integers, to select bits
_SELECT_MIN_SIZE = 4096  # below this np.where's lower call overhead wins (measured)


@primitive("where", save=("condition",), promote=("input", "other"), grads={
    "input": lambda g, out, condition, input, other: _where(condition, g, 0.0),
    "other": lambda g, out, condition, input, other: _where(condition, 0.0, g),
})
def _where(condition: Any, input: Any, other: Any) -> Any:
    return np.where(condition, input, other)


def where(condition: Any, input: Any = None, other: Any = None) -> Any:
    """``input`` where ``condition`` is True, else ``other`` (broadcast; either may be a number).
    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``, as in PyTorch.

    >>> import backprop as bp
    >>> c = bp.tensor([True, False, True])
    >>> bp.where(c, bp.ones(3), 0.).tolist(), bp.where(c)[0].tolist()
    ([1.0, 0.0, 1.0], [0, 2])
    """
    if input is None and other is None:  # as nonzero(as_tuple=True): a 0-d tensor counts as 1-D
        positions = np.nonzero(np.atleast_1d(backend.array_of(condition)))
        return tuple(Tensor._wrap(p.astype(np.int64, copy=False)) for p in positions)
    if input is None or other is None:
        raise TypeError("where: give both input and other, or neither (where(condition) is "
                        "nonzero(condition, as_tuple=True))")
    return _where(condition, input, other)


@_where.kernel(np.ndarray)
def _select_bits(condition: np.ndarray, input: Any, other: Any) -> Any:
    """``np.where(condition, input, other)`` for a bool mask and same-dtype float operands (or
    a Python number for one of them) by bit masking: ``other ^ ((input ^ other) & -condition)``.
    It copies each element's bits exactly (inf, nan and -0.0 included), as np.where does, but
    without a branch per element: np.where costs ~4 ns an element on an unpredictable mask, this
    ~0.5 ns. Declines (None) where it does not apply: np.where then does the work."""
    if type(condition) is not np.ndarray or condition.dtype != np.bool_:
        return None
    if type(input) is np.ndarray:
        dtype = input.dtype
        if type(other) is np.ndarray:
            if other.dtype != dtype:
                return None
        elif type(other) not in (float, int):
            return None
        size = input.size
    elif type(other) is np.ndarray and type(input) in (float, int):
        dtype = other.dtype
        size = other.size
    else:
        return None
    if dtype.kind not in "fV" or dtype.itemsize not in _SELECT_INTS:
        return None
    if max(size, condition.size) < _SELECT_MIN_SIZE:
        return None
    ints = _SELECT_INTS[dtype.itemsize]
    # A Python number becomes a 0-d array of the result dtype: NumPy's own (weak) promotion.
    a = (input if type(input) is np.ndarray else np.array(input, dtype)).view(ints)
    b = (other if type(other) is np.ndarray else np.array(other, dtype)).view(ints)
    full = np.broadcast_shapes(condition.shape, a.shape, b.shape)
    if b.ndim == 0 and not b:  # other is +0.0 (the usual gradient mask): input & mask
        mask = np.subtract(0, condition, dtype=ints)  # all bits set where True, none where False
        return np.bitwise_and(a, mask, out=mask if mask.shape == full else None).view(dtype)
    if a.ndim == 0 and not a:  # input is +0.0: other & ~mask
        mask = np.subtract(condition, 1, dtype=ints)  # no bits where True, all where False
        return np.bitwise_and(b, mask, out=mask if mask.shape == full else None).view(dtype)
    mask = np.subtract(0, condition, dtype=ints)
    bits = np.bitwise_xor(a, b)
    bits = np.bitwise_and(bits, mask, out=bits if bits.shape == full else None)
    bits ^= b
    return bits.view(dtype)


def _zero_gradient(g: Any, out: Any, input: Any, *args: Any, **kwargs: Any) -> Any:
    return g * 0


@primitive(grads={"input": _zero_gradient})
def sign(input: Any) -> Any:
    """-1, 0 or 1 by the sign of each element; as in PyTorch, 0 for nan (np.sign gives nan),
    and a bool tensor is its own sign.

    >>> import backprop as bp
    >>> bp.sign(bp.tensor([-2., 0., float("nan"), float("inf")])).tolist()
    [-1.0, 0.0, 0.0, 1.0]
    """
    if input.dtype.kind == "b":
        return input.copy()
    if input.dtype.kind in "fV" and input.ndim == 0:  # NumPy gives scalars here, not arrays
        return np.subtract(input > 0, input < 0, dtype=input.dtype)
    if input.dtype.kind in "fV":
        # In int8, then one conversion: subtracting the bools in the float dtype casts both
        # in small buffers (3x slower).
        signs = np.greater(input, 0).view(np.int8)
        np.subtract(signs, np.less(input, 0).view(np.int8), out=signs)
        return signs.astype(input.dtype)
    return np.sign(input)


@primitive(grads={"input": _zero_gradient})
def floor(input: Any) -> Any:
    return np.floor(input)


@primitive(grads={"input": _zero_gradient})
def ceil(input: Any) -> Any:
    return np.ceil(input)


@primitive(grads={"input": _zero_gradient})
def round(input: Any, decimals: int = 0) -> Any:
    return np.round(input, decimals)


# -- comparisons and logic (no gradient) --------------------------------------------------------

def _comparison(name: str, ufunc: np.ufunc, refuse: tuple[str, ...] = (),
                promote: tuple[str, ...] = ("input", "other")) -> Any:
    def forward(input: Any, other: Any) -> Any:
        return ufunc(input, other)

    forward.__doc__ = f"Elementwise ``{name}``: a bool tensor."
    return primitive(name, differentiable=False, promote=promote, refuse=refuse)(forward)


# Compared in the operands' common dtype, as PyTorch: uint8 < tensor(-1) compares with 255.
eq = _comparison("eq", np.equal)
ne = _comparison("ne", np.not_equal)
lt = _comparison("lt", np.less, ("complex",))
le = _comparison("le", np.less_equal, ("complex",))
gt = _comparison("gt", np.greater, ("complex",))
ge = _comparison("ge", np.greater_equal, ("complex",))


def _truth(value: Any) -> Any:
    """``value != 0``: the truth NumPy's logical functions take (nan is true), but without their
    conversion of each number to bool in small buffers (10x slower than the comparison)."""
    return value if getattr(value, "dtype", None) == np.bool_ else np.not_equal(value, 0)


def _logical(name: str, ufunc: np.ufunc) -> Any:
    def forward(input: Any, other: Any) -> Any:
        return ufunc(_truth(input), _truth(other))

    forward.__doc__ = f"Elementwise ``{name}`` of the operands' truth values: a bool tensor."
    return primitive(name, differentiable=False, promote=())(forward)


logical_and = _logical("logical_and", np.logical_and)
logical_or = _logical("logical_or", np.logical_or)
logical_xor = _logical("logical_xor", np.logical_xor)
bitwise_and = _comparison("bitwise_and", np.bitwise_and, ("float",))
bitwise_or = _comparison("bitwise_or", np.bitwise_or, ("float",))
bitwise_xor = _comparison("bitwise_xor", np.bitwise_xor, ("float",))


@primitive(differentiable=False)
def logical_not(input: Any) -> Any:
    return np.logical_not(input) if getattr(input, "dtype", None) == np.bool_ else np.equal(input, 0)


@primitive(differentiable=False)
def bitwise_not(input: Any) -> Any:
    return np.invert(input)


@primitive(differentiable=False)
def isnan(input: Any) -> Any:
    return np.isnan(input)


@primitive(differentiable=False)
def isinf(input: Any) -> Any:
    return np.isinf(input)


@primitive(differentiable=False)
def isfinite(input: Any) -> Any:
    return np.isfinite(input)


@primitive(differentiable=False)
def isclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Any:
    return np.isclose(input, other, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True when every element of ``input`` is within ``atol + rtol * |other|`` of ``other``.

    >>> import backprop as bp
    >>> bp.allclose(bp.tensor([1.0, 2.0]), bp.tensor([1.0, 2.0 + 1e-9]))
    True
    """
    return bool(isclose(input, other, rtol=rtol, atol=atol, equal_nan=equal_nan)._data.all())


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both tensors have the same shape and the same values (``torch.equal``; the
    elementwise comparison is ``eq``).

    >>> import backprop as bp
    >>> bp.equal(bp.ones(2), bp.ones(2)), bp.equal(bp.ones(2), bp.ones(3))
    (True, False)
    """
    if input.shape != other.shape:
        return False
    a, b = input._data, other._data
    # Unequal tensors usually differ at once: one scalar comparison (NaN differs from itself,
    # as in the full comparison) answers before a pass over every element.
    if type(a) is np.ndarray and type(b) is np.ndarray and a.size and a.flat[0] != b.flat[0]:
        return False
    return bool(np.array_equal(a, b))


# -- copies and casts ---------------------------------------------------------------------------

@primitive("clone", grads={"input": lambda g, out, input: g})
def _clone(input: Any) -> Any:
    return input.copy()


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """A copy with its own storage, differentiable; ``memory_format`` may be
    ``bp.preserve_format`` or ``bp.contiguous_format`` (every copy is row-major).

    >>> import backprop as bp
    >>> bp.clone(bp.ones(2), memory_format=bp.contiguous_format).tolist()
    [1.0, 1.0]
    """
    check_memory_format("clone", memory_format)
    return _clone(input)


# The engine casts every input gradient back to its input's dtype, so the VJP is the identity.
@primitive("to_dtype", grads={"input": lambda g, out, input, dtype: g})
def _to_dtype(input: Any, dtype: np.dtype) -> Any:
    return dtypes.cast(input, dtype) if dtype.kind == "V" else input.astype(dtype)


# The gradient goes back to where the input lives (the engine only sums and casts), so the VJP
# copies it, with the same differentiable op for grad-of-grad.
@primitive("to_device", grads={
    "input": lambda g, out, input, device, source: _to_device(g, device=source,
    source=device),
})
def _to_device(input: Any, *, device: backend.device, source: backend.device) -> Any:
    return backend.to_device(input, device)


def to(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Convert to ``dtype`` and/or move to a device (differentiable); ``t.to(bp.float64)``,
    ``t.to("cuda")``, ``t.to(other)`` (other's dtype and device), each optionally followed by
    ``non_blocking`` and ``copy`` (positional or keywords) as in PyTorch, and a keyword
    ``memory_format`` (``bp.contiguous_format`` or ``bp.preserve_format``).

    A tensor already of that dtype and on that device is returned as is, unless ``copy``.

    >>> import backprop as bp
    >>> bp.ones(2).to(bp.float64).dtype
    dtype('float64')
    >>> bp.ones(2).to("strict:1", bp.float64).device
    device(type='strict', index=1)
    """
    dtype, device, copy = requested_conversion("to", args, kwargs)
    out = input
    if device is not None and device != input.device:
        out = _to_device(out, device=device, source=input.device)
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype, "to")
        if dtype != out.dtype:
            out = _to_dtype(out, dtype)
    if out is input and copy:
        return input.clone()
    return out


clip = clamp
sgn = sign
true_divide = divide = div
subtract = sub
multiply = mul
negative = neg
absolute = abs
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

__all__ = [
    "add", "sub", "mul", "div", "floor_divide", "remainder", "pow", "neg", "abs", "exp", "exp2",
    "expm1", "log", "log2", "log1p", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "tan", "tanh",
    "sigmoid", "relu", "clamp", "clip", "maximum", "minimum", "where", "sign", "sgn", "floor",
    "ceil", "round", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
    "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "isnan", "isinf",
    "isfinite", "clone", "true_divide", "divide", "subtract", "multiply", "negative", "absolute",
    "greater", "greater_equal", "less", "less_equal", "not_equal", "isclose",
]
