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
from ..errors import (DTypeError, DTypeOverflowError, IntegerDivisionByZeroError,
                      format_shape)
from ..tensor import Tensor, requested_conversion
from .primitive import primitive

_LN2 = math.log(2.0)  # a Python float: a NumPy float64 scalar would promote float32 to float64


# -- arithmetic ---------------------------------------------------------------------------------

@primitive(promote=("input", "other"), grads={
    "input": lambda g, out, input, other: g,
    "other": lambda g, out, input, other: g,
})
def add(input: Any, other: Any) -> Any:
    return input + other


@primitive(promote=("input", "other"), refuse=("bool operand",), grads={
    "input": lambda g, out, input, other: g,
    "other": lambda g, out, input, other: -g,
})
def sub(input: Any, other: Any) -> Any:
    return input - other


@primitive(save=("input", "other"), promote=("input", "other"), grads={
    "input": lambda g, out, input, other: g * other,
    "other": lambda g, out, input, other: g * input,
})
def mul(input: Any, other: Any) -> Any:
    return input * other


@primitive(save=("input", "other"), promote=("input", "other"), grads={
    "input": lambda g, out, input, other: g / other,
    "other": lambda g, out, input, other: -g * input / (other * other),
})
def div(input: Any, other: Any) -> Any:
    return input / other


# Piecewise constant: the gradient is zero wherever it exists (as PyTorch defines it).
@primitive(promote=("input", "other"), refuse=("bool", "complex"), grads={
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


def _pow_grad_exponent(g: Any, out: Any, input: Any, exponent: Any) -> Any:
    # d(a**b)/db = a**b * log(a); at a == 0 with b >= 0 the limit is 0, not 0 * -inf = nan.
    zero_base = logical_and(eq(input, 0), ge(exponent, 0))
    safe_input = where(zero_base, 1.0, input)
    return where(zero_base, 0.0, g * out * log(safe_input))


@primitive(save=("input", "exponent", "out"), promote=("input", "exponent"),
           refuse=("bool tensors",), grads={
    "input": lambda g, out, input, exponent: g * exponent * input ** (exponent - 1),
    "exponent": _pow_grad_exponent,
})
def pow(input: Any, exponent: Any) -> Any:
    if type(exponent) is bool and input.dtype == np.bool_:  # PyTorch's bool result; NumPy: int8
        return input.copy() if exponent else input | True
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


# Kink at 0: PyTorch's convention is sign(0) = 0, a zero subgradient.
@primitive(save=("input",), promote=("input",), refuse=("bool",),
           grads={"input": lambda g, out, input: g * sign(input)})
def abs(input: Any) -> Any:
    return np.abs(input)


# -- unary maths --------------------------------------------------------------------------------

@primitive(save=("out",), grads={"input": lambda g, out, input: g * out})
def exp(input: Any) -> Any:
    return np.exp(input)


@primitive(save=("out",), grads={"input": lambda g, out, input: g * out * _LN2})
def exp2(input: Any) -> Any:
    return np.exp2(input)


@primitive(save=("out",), grads={"input": lambda g, out, input: g * (out + 1)})
def expm1(input: Any) -> Any:
    return np.expm1(input)


@primitive(save=("input",), grads={"input": lambda g, out, input: g / input})
def log(input: Any) -> Any:
    return np.log(input)


@primitive(save=("input",), grads={"input": lambda g, out, input: g / (input * _LN2)})
def log2(input: Any) -> Any:
    return np.log2(input)


@primitive(save=("input",), grads={"input": lambda g, out, input: g / (input + 1)})
def log1p(input: Any) -> Any:
    return np.log1p(input)


@primitive(save=("out",), grads={"input": lambda g, out, input: g / (out * 2)})
def sqrt(input: Any) -> Any:
    return np.sqrt(input)


@primitive(save=("out",), promote=("input",),
           grads={"input": lambda g, out, input: g * out * out * out * -0.5})
def rsqrt(input: Any) -> Any:
    return 1 / np.sqrt(input)


@primitive(save=("out",), grads={"input": lambda g, out, input: -g * out * out})
def reciprocal(input: Any) -> Any:
    return 1 / input


@primitive(save=("input",), grads={"input": lambda g, out, input: g * cos(input)})
def sin(input: Any) -> Any:
    return np.sin(input)


@primitive(save=("input",), grads={"input": lambda g, out, input: -g * sin(input)})
def cos(input: Any) -> Any:
    return np.cos(input)


@primitive(save=("out",), grads={"input": lambda g, out, input: g * (out * out + 1)})
def tan(input: Any) -> Any:
    return np.tan(input)


@primitive(save=("out",), grads={"input": lambda g, out, input: g * (1 - out * out)})
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
    if not input.ndim or input.dtype.kind != "f":  # 0-d results are scalars; ints need a cast
        return None
    out = np.negative(input)  # one temporary
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    return np.divide(1.0, out, out=out)


# Written from the output, not the input: out > 0 exactly where input > 0, and the gradient at
# 0 is 0 as in PyTorch. ``where`` (not g * mask) keeps an inf/nan in g out of the dead units.
@primitive(save=("out",), grads={"input": lambda g, out, input: where(gt(out, 0), g, 0.0)})
def relu(input: Any) -> Any:
    return np.maximum(input, 0)


# -- piecewise ops ------------------------------------------------------------------------------


def _clamp_inside(input: Any, min: Any, max: Any) -> Any:
    inside = None if min is None else ge(input, min)
    if max is not None:
        inside = le(input, max) if inside is None else logical_and(inside, le(input, max))
    return inside


@primitive("clamp", save=("input", "min", "max"), promote=("input", "min", "max"),
           refuse=("complex",), grads={
    "input": lambda g, out, input, min, max: where(_clamp_inside(input, min, max), g, 0.0),
    "min": lambda g, out, input, min, max: where(lt(input, min), g, 0.0),
    "max": lambda g, out, input, min, max: where(gt(input, max), g, 0.0),
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
    """``g`` where ``larger > smaller``, half of it where they tie (ties share the gradient
    equally, PyTorch's convention for maximum/minimum), 0 elsewhere."""
    return where(eq(larger, smaller), g * 0.5, where(gt(larger, smaller), g, 0.0))


@_split_ties.kernel(np.ndarray)
def _split_ties_without_ties(g: Any, larger: Any, smaller: Any) -> Any:
    # Floats rarely tie exactly; without ties one select does, in under half the time.
    if np.equal(larger, smaller).any():
        return None
    return where(np.greater(larger, smaller), g, 0.0)


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


@primitive(save=("condition",), promote=("input", "other"), grads={
    "input": lambda g, out, condition, input, other: where(condition, g, 0.0),
    "other": lambda g, out, condition, input, other: where(condition, 0.0, g),
})
def where(condition: Any, input: Any, other: Any) -> Any:
    return np.where(condition, input, other)


@where.kernel(np.ndarray)
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
    if dtype.kind != "f" or dtype.itemsize not in _SELECT_INTS:
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
logical_and = _comparison("logical_and", np.logical_and, promote=())
logical_or = _comparison("logical_or", np.logical_or, promote=())
logical_xor = _comparison("logical_xor", np.logical_xor, promote=())
bitwise_and = _comparison("bitwise_and", np.bitwise_and, ("float",))
bitwise_or = _comparison("bitwise_or", np.bitwise_or, ("float",))
bitwise_xor = _comparison("bitwise_xor", np.bitwise_xor, ("float",))


@primitive(differentiable=False)
def logical_not(input: Any) -> Any:
    return np.logical_not(input)


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
    return input.shape == other.shape and bool(np.array_equal(input._data, other._data))


# -- copies and casts ---------------------------------------------------------------------------

@primitive(grads={"input": lambda g, out, input: g})
def clone(input: Any) -> Any:
    return input.copy()


# The engine casts every input gradient back to its input's dtype, so the VJP is the identity.
@primitive("to_dtype", grads={"input": lambda g, out, input, dtype: g})
def _to_dtype(input: Any, dtype: np.dtype) -> Any:
    return input.astype(dtype)


# The gradient goes back to where the input lives (the engine only sums and casts), so the VJP
# copies it, with the same differentiable op for grad-of-grad.
@primitive("to_device", grads={
    "input": lambda g, out, input, device, source: _to_device(g, device=source,
    source=device),
})
def _to_device(input: Any, *, device: backend.device, source: backend.device) -> Any:
    return backend.to_device(input, device)


def to(input: Tensor, *args: Any, dtype: Any = None, copy: bool = False, **kwargs: Any) -> Tensor:
    """Convert to ``dtype`` and/or move to a device (differentiable); ``t.to(bp.float64)``,
    ``t.to("cuda")``, ``t.to(other)`` (other's dtype and device).

    A tensor already of that dtype and on that device is returned as is, unless ``copy``.

    >>> import backprop as bp
    >>> bp.ones(2).to(bp.float64).dtype
    dtype('float64')
    >>> bp.ones(2).to("strict:1", bp.float64).device
    device(type='strict', index=1)
    """
    dtype, device = requested_conversion("to", args, kwargs, dtype)
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
true_divide = divide = div
subtract = sub
multiply = mul
negative = neg
absolute = abs
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

__all__ = [
    "add", "sub", "mul", "div", "floor_divide", "remainder", "pow", "neg", "abs", "exp", "exp2",
    "expm1", "log", "log2", "log1p", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "tan", "tanh",
    "sigmoid", "relu", "clamp", "clip", "maximum", "minimum", "where", "sign", "floor", "ceil",
    "round", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
    "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "isnan", "isinf",
    "isfinite", "clone", "true_divide", "divide", "subtract", "multiply", "negative", "absolute",
    "greater", "greater_equal", "less", "less_equal", "not_equal", "isclose",
]
