"""The last pointwise ops (issue 17): hyperbolic sine and cosine, fmax/fmin, gcd/lcm, bit shifts,
nextafter, frexp, and torch.special's entr and xlog1py. Gradients are PyTorch's
(derivatives.yaml); nextafter, frexp, gcd, lcm and the shifts have none (integer-valued or
piecewise constant, and PyTorch defines none)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backends import numba_indexing
from ..errors import DTypeError, ShapeError, format_shape
from ..tensor import Tensor
from .elementwise import eq, exp2, ge, gt, isnan, le, log, logical_and, logical_or, where
from .pointwise_more import _zero_where_input_is_zero
from .primitive import primitive
from .special import _floating  # integers computed in the default float dtype

# -- hyperbolic sine and cosine -----------------------------------------------------------------

@primitive("sinh", save=("input",), grads={"input": lambda g, out, input: g * cosh(input)})
def _sinh(input: Any) -> Any:
    return np.sinh(input)


@primitive("cosh", save=("input",), grads={"input": lambda g, out, input: g * sinh(input)})
def _cosh(input: Any) -> Any:
    return np.cosh(input)


def sinh(input: Tensor) -> Tensor:
    """The hyperbolic sine, elementwise; integers give the default float dtype.

    >>> import backprop as bp
    >>> bp.sinh(bp.tensor([0.0, 1.0])).tolist()
    [0.0, 1.175201177597046]
    """
    return _sinh(_floating(input))


def cosh(input: Tensor) -> Tensor:
    """The hyperbolic cosine, elementwise; integers give the default float dtype.

    >>> import backprop as bp
    >>> bp.cosh(bp.tensor([0.0])).tolist()
    [1.0]
    """
    return _cosh(_floating(input))


# -- fmax and fmin: maximum and minimum that ignore nan ----------------------------------------

# PyTorch's rule: input takes the whole gradient where it was chosen (ties go to input, unlike
# maximum's split), or where other is nan; other takes it everywhere else.
def _fmax_input_wins(input: Any, other: Any) -> Any:
    return logical_or(ge(input, other), isnan(other))


def _fmin_input_wins(input: Any, other: Any) -> Any:
    return logical_or(le(input, other), isnan(other))


@primitive(save=("input", "other"), promote=("input", "other"), refuse=("complex",), grads={
    "input": lambda g, out, input, other: where(_fmax_input_wins(input, other), g, 0.0),
    "other": lambda g, out, input, other: where(_fmax_input_wins(input, other), 0.0, g),
})
def fmax(input: Any, other: Any) -> Any:
    """The larger of each pair, taking the number where one of them is nan.

    >>> import backprop as bp
    >>> bp.fmax(bp.tensor([1.0, float("nan")]), bp.tensor([2.0, 3.0])).tolist()
    [2.0, 3.0]
    """
    return np.fmax(input, other)


@primitive(save=("input", "other"), promote=("input", "other"), refuse=("complex",), grads={
    "input": lambda g, out, input, other: where(_fmin_input_wins(input, other), g, 0.0),
    "other": lambda g, out, input, other: where(_fmin_input_wins(input, other), 0.0, g),
})
def fmin(input: Any, other: Any) -> Any:
    """The smaller of each pair, taking the number where one of them is nan.

    >>> import backprop as bp
    >>> bp.fmin(bp.tensor([1.0, float("nan")]), bp.tensor([2.0, 3.0])).tolist()
    [1.0, 3.0]
    """
    return np.fmin(input, other)


# -- integer ops -------------------------------------------------------------------------------

@primitive(differentiable=False, promote=("input", "other"), refuse=("float", "bool"))
def gcd(input: Any, other: Any) -> Any:
    """The greatest common divisor of each pair of integers (non-negative; ``gcd(0, 0) = 0``).

    >>> import backprop as bp
    >>> bp.gcd(bp.tensor([4, -6, 0]), bp.tensor([6, 4, 0])).tolist()
    [2, 2, 0]
    """
    return np.gcd(input, other)


@primitive(differentiable=False, promote=("input", "other"), refuse=("float", "bool"))
def lcm(input: Any, other: Any) -> Any:
    """The least common multiple of each pair of integers (non-negative; 0 if either is 0).

    >>> import backprop as bp
    >>> bp.lcm(bp.tensor([4, -6]), bp.tensor([6, 4])).tolist()
    [12, 12]
    """
    return np.lcm(input, other)


def _shift_amounts(input: Any, other: Any, fill: int | None = None) -> tuple[Any, Any, int]:
    """The shift amounts in the result's dtype, whether each is out of range (negative or at
    least the width: C leaves those undefined, PyTorch defines them), and the width in bits.
    Out-of-range amounts become ``fill`` (the width less one when None)."""
    dtype = np.result_type(input, other)
    bits = dtype.itemsize * 8
    fill = bits - 1 if fill is None else fill
    if not hasattr(other, "dtype"):
        # A Python number stays one: np.where would make it a host array, which a GPU's input
        # cannot be shifted by.
        out_of_range = other < 0 or other >= bits
        return (fill if out_of_range else other), out_of_range, bits
    out_of_range = (other < 0) | (other >= bits)
    return np.where(out_of_range, fill, other).astype(dtype, copy=False), out_of_range, bits


def _amounts_in_range(input: Any, other: Any) -> bool:
    """Whether the shifts are a NumPy array of input's integer dtype with every amount in
    [0, width): the common call, where NumPy's shift is PyTorch's. One reduction of the amounts
    seen as unsigned (a negative one is then huge) instead of the masks of the general path."""
    if (type(other) is not np.ndarray or type(input) is not np.ndarray
            or other.dtype != input.dtype or other.dtype.kind not in "iu" or other.size == 0):
        return False
    bits = other.dtype.itemsize * 8
    return int(other.view(f"u{other.dtype.itemsize}").max()) < bits


@primitive(differentiable=False, promote=("input", "other"), refuse=("float", "bool"))
def bitwise_left_shift(input: Any, other: Any) -> Any:
    """``input << other``, elementwise; bits shifted out are lost, and a shift that is negative
    or at least the width gives 0 (as in PyTorch).

    >>> import backprop as bp
    >>> bp.bitwise_left_shift(bp.tensor([1, -3]), bp.tensor([4, 1])).tolist()
    [16, -6]
    """
    if _amounts_in_range(input, other):
        with np.errstate(over="ignore"):
            return np.left_shift(input, other)
    amounts, out_of_range, _ = _shift_amounts(input, other, fill=0)
    with np.errstate(over="ignore"):
        shifted = np.left_shift(input, amounts)
    return np.where(out_of_range, 0, shifted).astype(shifted.dtype, copy=False)


@primitive(differentiable=False, promote=("input", "other"), refuse=("float", "bool"))
def bitwise_right_shift(input: Any, other: Any) -> Any:
    """``input >> other``, elementwise (arithmetic for signed integers); a shift that is negative
    or at least the width fills with the sign bit (as in PyTorch).

    >>> import backprop as bp
    >>> bp.bitwise_right_shift(bp.tensor([16, -16]), bp.tensor([2, 70])).tolist()
    [4, -1]
    """
    if _amounts_in_range(input, other):
        return np.right_shift(input, other)
    amounts, out_of_range, _ = _shift_amounts(input, other)  # out of range: by the width less 1
    shifted = np.right_shift(input, amounts)
    if np.result_type(input, other).kind == "u":  # no sign bit to fill with: 0, as in PyTorch
        return np.where(out_of_range, 0, shifted).astype(shifted.dtype, copy=False)
    return shifted


# -- floating-point representation --------------------------------------------------------------

def _refuse_non_float(op: str, *operands: Any) -> None:
    for name, value in zip(("input", "other"), operands):
        dtype = getattr(value, "dtype", None)
        if dtype is not None and dtype.kind not in "fV":
            raise DTypeError(f"{op}: {name} has dtype {dtype}; it takes floating-point tensors "
                             "only, as in PyTorch")


# PyTorch's rule: the step of one ulp is ignored, so input's slope is 1 (0 where input equals
# other, and the result is other itself) and other's 0.
@primitive("nextafter", save=("input", "other"), promote=("input", "other"), grads={
    "input": lambda g, out, input, other: where(eq(input, other), 0.0, g),
    "other": lambda g, out, input, other: g * 0,
})
def _nextafter(input: Any, other: Any) -> Any:
    return np.nextafter(input, other)


def nextafter(input: Tensor, other: Any) -> Tensor:
    """The next float after ``input`` in the direction of ``other``, elementwise.

    >>> import backprop as bp
    >>> bp.nextafter(bp.tensor([1.0], dtype=bp.float64), bp.tensor([2.0], dtype=bp.float64)).item()
    1.0000000000000002
    """
    _refuse_non_float("nextafter", input, other)
    return _nextafter(input, other)


def _frexp_grad(g: tuple, out: tuple, input: Any) -> Any:
    # mantissa = input / 2**exponent, with the exponent piecewise constant (PyTorch's rule)
    return None if g[0] is None else g[0] / exp2(out[1])


@primitive("frexp", outputs=("mantissa", "exponent"), save=("exponent",),
           grads={"input": _frexp_grad})
def _frexp(input: Any) -> Any:
    mantissa, exponent = np.frexp(input)
    return mantissa, exponent.astype(np.int32, copy=False)


def frexp(input: Tensor) -> tuple[Tensor, Tensor]:
    """``(mantissa, exponent)`` with ``input = mantissa * 2**exponent`` and ``0.5 <= |mantissa|
    < 1`` (int32 exponents; 0, inf and nan give themselves and exponent 0).

    >>> import backprop as bp
    >>> mantissa, exponent = bp.frexp(bp.tensor([8.0]))
    >>> mantissa.tolist(), exponent.tolist()
    ([0.5], [4])
    """
    _refuse_non_float("frexp", input)
    return _frexp(input)


# -- torch.special's entr and xlog1py ----------------------------------------------------------

# d/dx (-x log x) = -(1 + log x): inf at 0, nan below it (PyTorch's, from the same formula).
@primitive("entr", save=("input",), grads={"input": lambda g, out, input: -g * (log(input) + 1)})
def _entr(input: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        value = -input * np.log(input)
    value = np.where(input == 0, 0, value)
    return np.where(input < 0, -np.inf, value).astype(input.dtype, copy=False)


def entr(input: Tensor) -> Tensor:
    """The elementwise entropy ``-x log x``: 0 at 0 and ``-inf`` below it.

    >>> import backprop as bp
    >>> bp.special.entr(bp.tensor([0.0, 1.0, -1.0])).tolist()
    [0.0, -0.0, -inf]
    """
    return _entr(_floating(input))


# The slope in x is log1p(y); PyTorch takes 0 where x == 0 and y <= -1 (not finite there).
@primitive("xlog1py", save=("input", "other"), promote=("input", "other"), refuse=("complex",),
           grads={
    "input": lambda g, out, input, other: where(logical_and(eq(input, 0), le(other, -1)), 0.0,
                                                xlog1py(g, other)),
    "other": lambda g, out, input, other: g * input / (other + 1),
})
def _xlog1py(input: Any, other: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        product = input * np.log1p(other)
    return _zero_where_input_is_zero(product, input, other)


def xlog1py(input: Any, other: Any) -> Tensor:
    """``input * log1p(other)``, taken as 0 where ``input`` is 0 (unless ``other`` is nan).

    >>> import backprop as bp
    >>> bp.special.xlog1py(bp.tensor([0.0, 2.0]), bp.tensor([-1.0, 0.0])).tolist()
    [0.0, 0.0]
    """
    return _xlog1py(_floating(input), _floating(other))


# -- the activations PyTorch also has at the top level and as Tensor methods --------------------

def _hardshrink_grad(g: Any, out: Any, input: Any, lambd: float) -> Any:
    return where(logical_and(ge(input, -lambd), le(input, lambd)), 0.0, g)


@primitive("hardshrink", save=("input",), grads={"input": _hardshrink_grad})
def _hardshrink(input: Any, lambd: float) -> Any:
    # Zero only inside [-lambd, lambd]: a NaN stays NaN, as in PyTorch.
    return np.where((input >= -lambd) & (input <= lambd), input.dtype.type(0), input)


@_hardshrink.kernel(np.ndarray)
def _hardshrink_bits(input: Any, lambd: float) -> Any:
    # np.where branches per element (slow on a mask like a coin toss): on the bits instead,
    # |x| <= lambd is (x's bits without the sign) <= lambd's, as the bits of non-negative floats
    # order like the floats (a nan's are above every number's, so nan is kept); the sign of
    # (lambd's bits - |x|'s bits) spread by an arithmetic shift masks x (+0 inside).
    if (input.dtype not in _SHRINK_BITS or input.ndim == 0 or type(lambd) not in (int, float)
            or not 0 <= lambd < math.inf):
        return None
    ints, shift = _SHRINK_BITS[input.dtype]
    bits = input.view(ints)
    limit = np.asarray(lambd, input.dtype).view(ints)
    masked = np.bitwise_and(bits, ints(np.iinfo(ints).max))
    np.subtract(limit, masked, out=masked)
    np.right_shift(masked, shift, out=masked)
    np.bitwise_and(masked, bits, out=masked)
    return masked.view(input.dtype)


_SHRINK_BITS = {np.dtype(np.float32): (np.int32, 31), np.dtype(np.float64): (np.int64, 63)}


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0.

    >>> import backprop as bp
    >>> bp.hardshrink(bp.tensor([-1.0, 0.2, 0.75])).tolist()
    [-1.0, 0.0, 0.75]
    """
    return _hardshrink(input, lambd)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where ``x > 0``, ``weight * x`` elsewhere; ``weight`` has one entry, or one per
    channel (dim 1; an input of fewer dims has one channel, as in PyTorch).

    >>> import backprop as bp
    >>> bp.prelu(bp.tensor([[-2., 3.]]), bp.tensor([0.25, 0.5])).tolist()
    [[-0.5, 3.0]]
    """
    if weight.numel() != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if weight.ndim != 1 or weight.shape[0] != channels:
            raise ShapeError(f"prelu: weight of shape {format_shape(weight.shape)} must have 1 "
                             f"entry or one per channel ({channels}) of input "
                             f"{format_shape(input.shape)}")
        weight = weight.reshape((-1,) + (1,) * (input.ndim - 2))
    else:
        weight = weight.reshape(())  # the result has the input's shape, whatever weight's
    if (isinstance(input, Tensor) and isinstance(weight, Tensor) and input.dtype == weight.dtype
            and input.dtype.kind in "fV"):
        return _prelu(input, weight)
    # PyTorch's prelu: x where x > 0, so the gradient at exactly 0 is the slope's.
    return where(gt(input, 0), input, weight * input)


# One op rather than gt, mul and where (three passes, three nodes); its gradients are PyTorch's
# (x > 0 ? g : weight * g, and x > 0 ? 0 : g * x summed down to weight's shape by the engine).
@primitive("prelu", save=("input", "weight"), grads={
    "input": lambda g, out, input, weight: where(gt(input, 0), g, g * weight),
    "weight": lambda g, out, input, weight: where(gt(input, 0), 0.0, g * input),
})
def _prelu(input: Any, weight: Any) -> Any:
    out = weight * input
    if type(out) is np.ndarray and out.dtype == input.dtype and out.shape == input.shape:
        # With every slope in (0, 1], x > 0 ? x : w x is max(w x, x), and with every slope in
        # [1, inf) it is min(w x, x): the same bits everywhere, signed zeros (w x has x's sign),
        # infinities and nan included, in one pass instead of a compare and a select (which
        # branches per element).
        low, high = weight.min(initial=math.inf), weight.max(initial=-math.inf)
        if 0 < low and high <= 1:
            return np.maximum(out, input, out=out)
        if 1 <= low and high < math.inf:
            return np.minimum(out, input, out=out)
    return np.where(input > 0, input, out)


_prelu.kernel(np.ndarray, compiled=True)(numba_indexing.prelu)


__all__ = [
    "hardshrink",
    "prelu",
    "bitwise_left_shift",
    "bitwise_right_shift",
    "cosh",
    "fmax",
    "fmin",
    "frexp",
    "gcd",
    "lcm",
    "nextafter",
    "sinh",
]
