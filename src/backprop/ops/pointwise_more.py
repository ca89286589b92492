"""More pointwise ops (issue 17): the inverse trigonometric and hyperbolic functions, log10,
square, trunc and frac, atan2, hypot, logaddexp, degree conversions, one-sided clamps, and the
fused ``addcmul``, ``addcdiv`` and ``lerp``. Gradients are PyTorch's (derivatives.yaml)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor
from .elementwise import _clamp, _zero_gradient, abs, add, div, eq, exp, lt, mul, pow, rsqrt, sub, where
from .primitive import primitive

# Python floats: a NumPy float64 scalar would promote float32 to float64.
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_DEG_TO_RAD = math.pi / 180.0
_RAD_TO_DEG = 180.0 / math.pi


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
    return input - np.trunc(input)


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

def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """``input + value * tensor1 * tensor2``, broadcasting.

    >>> import backprop as bp
    >>> bp.addcmul(bp.ones(2), bp.tensor([1., 2.]), bp.tensor([3., 4.]), value=0.5).tolist()
    [2.5, 5.0]
    """
    product = mul(tensor1, tensor2)
    return add(input, product if value == 1 else mul(product, value))


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """``input + value * tensor1 / tensor2``, broadcasting.

    >>> import backprop as bp
    >>> bp.addcdiv(bp.ones(2), bp.tensor([1., 2.]), bp.tensor([4., 4.]), value=2).tolist()
    [1.5, 2.0]
    """
    quotient = div(tensor1, tensor2)
    return add(input, quotient if value == 1 else mul(quotient, value))


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """``input + weight * (end - input)``, computed as PyTorch does: from ``end`` where
    ``weight >= 0.5``, so a weight of 1 gives ``end`` exactly.

    >>> import backprop as bp
    >>> bp.lerp(bp.tensor([0., 10.]), bp.tensor([10., 20.]), 0.25).tolist()
    [2.5, 12.5]
    """
    difference = sub(end, input)
    if isinstance(weight, (int, float)):
        if -0.5 < weight < 0.5:
            return add(input, mul(difference, weight))
        return sub(end, mul(difference, 1 - weight))
    return where(lt(abs(weight), 0.5), add(input, mul(difference, weight)),
                 sub(end, mul(difference, sub(1, weight))))


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
    "addcdiv", "lerp",
]
