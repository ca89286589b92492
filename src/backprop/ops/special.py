"""Special functions: ``erf``, the error function (PyTorch's ``torch.erf``), and the log-gamma
family ``lgamma``, ``digamma``, ``polygamma``.

NumPy has none of them; erf's kernel is W. J. Cody's rational approximations (``erf_numerics``),
the gamma family's are in ``gamma_numerics``.
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes
from ..tensor import Tensor
from .elementwise import exp
from .erf_numerics import erf_array
from .gamma_numerics import lgamma_array, polygamma_array
from .primitive import primitive

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)  # a Python float: keeps float32 float32


@primitive("erf", save=("input",), grads={
    "input": lambda g, out, input: g * _TWO_OVER_SQRT_PI * exp(-(input * input)),
})
def _erf(input: Any) -> Any:
    return erf_array(input)


def erf(input: Tensor) -> Tensor:
    """The error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``, elementwise (the building
    block of the exact GELU); its derivative is ``2/sqrt(pi) * exp(-x^2)``.

    >>> import backprop as bp
    >>> round(bp.erf(bp.tensor(1.0)).item(), 6)
    0.842701
    """
    return _erf(input)


@primitive("lgamma", save=("input",), grads={
    "input": lambda g, out, input: g * _digamma(input),
})
def _lgamma(input: Any) -> Any:
    return lgamma_array(input)


def lgamma(input: Tensor) -> Tensor:
    """``log |Gamma(x)|``, elementwise; its derivative is ``digamma``.

    >>> import backprop as bp
    >>> round(bp.lgamma(bp.tensor(5.0)).item(), 5)  # log(4!)
    3.17805
    """
    return _lgamma(_floating(input))


@primitive("digamma", save=("input",), grads={
    "input": lambda g, out, input: g * _polygamma(input, n=1),
})
def _digamma(input: Any) -> Any:
    return polygamma_array(0, input)


def digamma(input: Tensor) -> Tensor:
    """The derivative of ``lgamma``, elementwise (``-inf`` at 0, ``nan`` at negative integers,
    as in PyTorch).

    >>> import backprop as bp
    >>> round(bp.digamma(bp.tensor(1.0)).item(), 6)  # minus Euler's constant
    -0.577216
    """
    return _digamma(_floating(input))


@primitive("polygamma", save=("input",), grads={
    "input": lambda g, out, input, n: g * _polygamma(input, n=n + 1),
})
def _polygamma(input: Any, *, n: int) -> Any:
    return polygamma_array(n, input)


def polygamma(n: int, input: Tensor) -> Tensor:
    """The ``n``-th derivative of ``digamma``, elementwise (``polygamma(0, x)`` is digamma).

    >>> import backprop as bp
    >>> round(bp.polygamma(1, bp.tensor(1.0)).item(), 6)  # pi^2 / 6
    1.644934
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"polygamma: n must be a non-negative integer, got {n!r}")
    return _digamma(_floating(input)) if n == 0 else _polygamma(_floating(input), n=n)


def _floating(input: Any) -> Any:
    """Integer and boolean tensors are computed in the default float dtype, as in PyTorch."""
    if isinstance(input, Tensor) and input.dtype.kind in "biu":
        return input.to(dtypes.get_default_dtype())
    return input


__all__ = ["erf", "lgamma", "digamma", "polygamma"]
