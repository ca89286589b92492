"""``bp.nn.functional`` activations: leaky_relu, elu/selu/celu, gelu (from gelu.py), silu, mish,
softplus, logsigmoid, the hard* family, shrinkage functions, glu and softmin.

Activations with a numerical trap or a hot path are primitives with their own rules (written
with our ops, so gradients of gradients work): ``softplus`` and ``logsigmoid`` (overflow), ``elu``
(its exponential branch overflows for large inputs even where it is not selected),
``leaky_relu``, ``silu`` and ``hardtanh``. The rest are composed from bp ops. Where an
activation has a kink, its gradient there follows PyTorch's convention.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ...errors import ShapeError, check_dim
from ...ops import elementwise as _ew
from ...ops.elementwise import (abs, clamp, exp, ge, gt, le, logical_and, logical_or, lt, sigmoid,
                                tanh, where)
from ...ops.fused import softmax
from .gelu import gelu
from ...ops.inplace import apply_inplace
from ...ops.join import narrow
from ...ops.pointwise_tail import hardshrink
from ...ops.primitive import primitive
from ...tensor import Tensor

# Python floats, never NumPy scalars: a float64 scalar would promote float32 inputs.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _maybe_inplace(input: Tensor, inplace: bool, name: str, compute: Any) -> Tensor:
    """``compute(input)``, or its result written into ``input`` when ``inplace`` (PyTorch's
    ``inplace=True``: the tensor's version is bumped, so a node that saved it notices)."""
    if inplace:
        return apply_inplace(input, name + "_", compute)
    return compute(input)


# -- rectifiers -----------------------------------------------------------------------------------

# At 0 the slope is negative_slope, PyTorch's convention (input > 0 selects the identity).
@primitive("leaky_relu", save=("input",), promote=("input",), grads={
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


# Unlike clamp's, the gradient is zero AT the bounds as well (PyTorch's hardtanh_backward), and
# at NaN, as PyTorch's vectorised loop and its hardsigmoid give (its scalar loop gives g).
@primitive("hardtanh", save=("input",), grads={
    "input": lambda g, out, input, min_val, max_val: where(
    logical_and(gt(input, min_val), lt(input, max_val)), g, 0.0),
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
    # ``value`` only where x <= threshold: a NaN stays NaN, its gradient g (as in PyTorch).
    return _maybe_inplace(input, inplace, "threshold",
                          lambda x: where(le(x, limit), float(value), x))


# -- exponential units ----------------------------------------------------------------------------


def _elu_vjp(g: Any, out: Any, input: Any, alpha: float, scale: float, input_scale: float) -> Any:
    # The exponential is taken of min(x, 0): exp(large x) would be inf, and under create_graph
    # the unselected branch's gradient would be 0 * inf = nan.
    slope = exp(clamp(input, None, 0.0) * input_scale) * (alpha * scale * input_scale)
    return where(gt(input, 0), g * scale, g * slope)


@primitive("elu", save=("input",), promote=("input",), grads={"input": _elu_vjp})
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

@primitive("silu_backward", composite=True, promote=("g", "input"))
def _silu_backward(g: Any, input: Any) -> Any:
    s = sigmoid(input)
    return g * s * (1.0 + input * (1.0 - s))


@_silu_backward.kernel(np.ndarray)
def _silu_backward_in_place(g: np.ndarray, input: np.ndarray) -> Any:
    s = sigmoid(input)  # the same formula, one temporary instead of five
    result = np.subtract(1.0, s)
    result *= input
    result += 1.0
    result *= s
    result *= g
    return result


@primitive("silu", save=("input",), promote=("input",),
           grads={"input": lambda g, out, input: _silu_backward(g, input)})
def _silu(input: Any) -> Any:
    # x / (1 + e^-x): where e^-x overflows to inf the quotient is the right limit, -0.
    with np.errstate(over="ignore"):
        return input / (np.exp(-input) + 1.0)


@_silu.kernel(np.ndarray)
def _silu_in_place(input: np.ndarray) -> Any:
    if not input.ndim or input.dtype.kind not in "fV":  # 0-d results are scalars; ints need a cast
        return None
    denominator = np.negative(input)
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


@primitive("softplus", save=("input",), promote=("input",), grads={"input": _softplus_vjp})
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


@primitive("logsigmoid", save=("input",), promote=("input",), grads={
    "input": lambda g, out, input: g * sigmoid(-input),
})
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
