"""Complex conjugation, which the gradient rules of real ops need for complex inputs (PyTorch's
convention: a holomorphic op's input gets ``g * conj(df/dz)``; see ops/complex_ops.py). Kept
apart so that ops/elementwise.py can use it and ops/complex_ops.py can use elementwise's ops."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .primitive import primitive


def conjugate_if_complex(x: Any) -> Any:
    """``conj(x)`` for a complex array, tensor or number; ``x`` itself otherwise (no copy: the
    rules of real ops call this on every backward)."""
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return x.conjugate() if type(x) is complex else x
    return _conj_physical(x) if dtype.kind == "c" else x


# conj is antiholomorphic: the gradient of conj(z) is conj(g).
@primitive("conj_physical", grads={"input": lambda g, out, input: conjugate_if_complex(g)})
def _conj_physical(input: Any) -> Any:
    return np.conjugate(input) if input.dtype.kind == "c" else input.copy()


def conj_physical(input: Any) -> Any:
    """The complex conjugate, in new memory; a real tensor is returned itself, as PyTorch does
    (its values need no change, and the benchmark's real input then costs one type check).

    >>> import backprop as bp
    >>> bp.conj_physical(bp.tensor([1 + 2j])).tolist()
    [(1-2j)]
    >>> x = bp.ones(2); bp.conj_physical(x) is x
    True
    """
    if isinstance(input, Tensor) and input._data.dtype.kind != "c":
        return input
    return _conj_physical(input)
