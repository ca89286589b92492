"""``gelu``: the Gaussian error linear unit, exact (``x * Phi(x)``) or with the tanh
approximation, and its backward ``gelu_backward``.

Both are rows whose forward is the definition, portable to any array module; the NumPy kernels
below compute the same formulas in place in a few buffers (~10 passes over memory become 3-4),
and Numba's compiled kernels, when installed, make one pass for the tanh form
(``backends.numba``). ``gelu_backward`` is composite: under create_graph it records the ops it
is made of (``erf``'s row included), which give the second derivative.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...backends import numba as numba_backend
from ...ops.elementwise import exp, tanh
from ...ops.erf_numerics import erf_array, normal_cdf_float32
from ...ops.primitive import primitive
from ...ops.special import erf
from ...tensor import Tensor

# Python floats, never NumPy scalars: a float64 scalar would promote float32 inputs.
_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_CUBIC = 0.044715  # of the tanh approximation


@primitive("gelu_backward", composite=True, promote=("g", "input"))
def _gelu_backward(g: Any, input: Any, approximate: str) -> Any:
    if approximate == "tanh":
        # d/dx [x/2 (1 + tanh(u))] = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) u',
        # u = sqrt(2/pi) (x + 0.044715 x^3)
        square = input * input
        t = tanh((input + _CUBIC * square * input) * _SQRT_2_OVER_PI)
        slope = (1.0 + 3.0 * _CUBIC * square) * _SQRT_2_OVER_PI
        return g * (0.5 * (1.0 + t) + 0.5 * input * (1.0 - t * t) * slope)
    # Phi(x) + x phi(x)
    cdf = 0.5 * (1.0 + erf(input * _SQRT1_2))
    pdf = exp(input * input * -0.5) * _INV_SQRT_2PI
    return g * (cdf + input * pdf)


@_gelu_backward.kernel(np.ndarray)
def _gelu_backward_in_place(g: np.ndarray, input: np.ndarray, approximate: str) -> Any:
    if not input.ndim:  # NumPy makes 0-d results scalars, which the in-place steps refuse
        return None
    square = input * input
    if approximate == "tanh":
        t = square * _CUBIC
        t *= input
        t += input
        t *= _SQRT_2_OVER_PI
        np.tanh(t, out=t)
        slope = square  # (1 + 3 * 0.044715 x^2) sqrt(2/pi), in square's buffer
        slope *= 3.0 * _CUBIC
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
        cdf, x_pdf = normal_cdf_float32(input, True)
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


@primitive("gelu", save=("input",), promote=("input",), grads={
    "input": lambda g, out, input, approximate: _gelu_backward(g, input, approximate),
})
def _gelu(input: Any, approximate: str) -> Any:
    if approximate == "tanh":
        inner = (input + _CUBIC * (input * input * input)) * _SQRT_2_OVER_PI
        return 0.5 * input * (1.0 + np.tanh(inner))
    # x * Phi(x) with Phi(x) = erfc(-x / sqrt 2) / 2, which keeps its relative accuracy for
    # negative x (1 + erf(x / sqrt 2) cancels there).
    return 0.5 * input * erf_array(input * -_SQRT1_2, complement=True)


@_gelu.kernel(np.ndarray)
def _gelu_in_place(input: np.ndarray, approximate: str) -> Any:
    if not input.ndim:
        return None
    if approximate == "tanh":
        # The forward's operations in the same order, in one buffer (x/2 (1 + t) is computed
        # as (1 + t) x / 2: halving is exact).
        out = input * input
        out *= input
        out *= _CUBIC
        out += input
        out *= _SQRT_2_OVER_PI
        np.tanh(out, out=out)
        out += 1.0
        out *= input
        out *= 0.5
        return out
    if input.dtype == np.float32:
        out = normal_cdf_float32(input, False)[0]
        out *= input
        return out
    return None  # float64: the forward's erfc formula, as it is


# -- Numba: the exact float32 GELU and its backward in one pass (see _gelu_kernels) ------------

def _exact32(x: np.ndarray, *others: np.ndarray) -> Any:
    """The kernels module when the float32 kernels apply to ``x`` (and ``others``), else None."""
    if x.dtype != np.float32 or not numba_backend._applies(x, *others):
        return None
    if any(other.shape != x.shape for other in others):
        return None
    return numba_backend.kernel_module(f"{__package__}._gelu_kernels")


@_gelu.kernel(np.ndarray, compiled=True)
def _gelu_compiled(input: np.ndarray, approximate: str) -> Any:
    kernels = None if approximate != "none" else _exact32(input)
    if kernels is None:
        return None
    out = np.empty_like(input)
    ran = numba_backend._run(kernels.gelu_exact32, input.reshape(-1), out.reshape(-1))
    return out if ran else None


@_gelu_backward.kernel(np.ndarray, compiled=True)
def _gelu_backward_compiled(g: np.ndarray, input: np.ndarray, approximate: str) -> Any:
    kernels = None if approximate != "none" else _exact32(input, g)
    if kernels is None:
        return None
    out = np.empty_like(input)
    ran = numba_backend._run(kernels.gelu_exact32_backward, g.reshape(-1), input.reshape(-1),
                             out.reshape(-1))
    return out if ran else None


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


__all__ = ["gelu"]
