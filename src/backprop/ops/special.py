"""Special functions: ``erf``, the error function (PyTorch's ``torch.erf``).

NumPy has no erf; its kernel is W. J. Cody's rational approximations (``erf_numerics``).
"""

from __future__ import annotations

import math
from typing import Any

from ..tensor import Tensor
from .elementwise import exp
from .erf_numerics import erf_array
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


__all__ = ["erf"]
