"""What a dtype can hold, which casts PyTorch allows (``finfo``, ``iinfo``, ``can_cast``), and
the questions about a tensor's kind that PyTorch also asks as functions (``is_tensor``,
``is_floating_point``, ``numel`` ...).

>>> import backprop as bp
>>> bp.finfo(bp.float16).max, bp.iinfo(bp.int8).min
(65504.0, -128)
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from . import dtypes

# PyTorch's order of kinds: a cast may keep or raise the kind, never lower it.
_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "V": 2, "c": 3}  # V: bfloat16


def _ml_dtypes_finfo(dtype: np.dtype) -> Any:
    import ml_dtypes  # loaded already: a bfloat16 dtype exists

    return ml_dtypes.finfo(dtype)


class finfo:  # noqa: N801 - PyTorch's name
    """The limits of a floating-point (or complex: its parts') dtype, as Python floats.

    ``bits``, ``eps`` (the gap above 1), ``max``, ``min``, ``tiny`` and ``smallest_normal`` (the
    smallest positive normal number), ``resolution`` (10 to the minus decimal digits) and
    ``dtype`` (its name). Without an argument, the default dtype's.

    >>> import backprop as bp
    >>> bp.finfo(bp.float32).eps
    1.1920928955078125e-07
    """

    def __init__(self, type: Any = None) -> None:  # noqa: A002 - PyTorch's parameter name
        dtype = dtypes.get_default_dtype() if type is None else dtypes.as_dtype(type, "finfo")
        if dtype.kind not in "fcV":
            raise TypeError(f"finfo: {dtype} is not a floating-point or complex dtype; use "
                            "iinfo for integers")
        # NumPy's finfo does not know ml_dtypes' bfloat16; ml_dtypes' own finfo does
        info = np.finfo(dtype) if dtype.kind != "V" else _ml_dtypes_finfo(dtype)
        self.bits: int = builtins.int(info.bits)
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -builtins.int(info.precision)  # exact, not float32's nearest
        self.dtype: str = str(np.dtype(info.dtype))

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:  # noqa: N801 - PyTorch's name
    """The limits of an integer dtype, as Python ints: ``bits``, ``min``, ``max``,
    ``dtype`` (its name).

    >>> import backprop as bp
    >>> bp.iinfo(bp.uint8).max
    255
    """

    def __init__(self, type: Any) -> None:  # noqa: A002 - PyTorch's parameter name
        dtype = dtypes.as_dtype(type, "iinfo")
        if dtype.kind not in "iu":
            raise TypeError(f"iinfo: {dtype} is not an integer dtype; use finfo for floats")
        info = np.iinfo(dtype)
        self.bits: int = builtins.int(info.bits)
        self.min: int = builtins.int(info.min)
        self.max: int = builtins.int(info.max)
        self.dtype: str = str(dtype)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def can_cast(from_: Any, to: Any) -> bool:
    """Whether PyTorch's in-place ops and ``out=`` may cast ``from_`` to ``to``: any cast that
    does not lower the kind (bool < integer < float < complex); narrowing within a kind is
    allowed.

    >>> import backprop as bp
    >>> bp.can_cast(bp.float64, bp.float32), bp.can_cast(bp.float32, bp.int64)
    (True, False)
    """
    source, target = dtypes.as_dtype(from_, "can_cast"), dtypes.as_dtype(to, "can_cast")
    return _KIND_RANK[source.kind] <= _KIND_RANK[target.kind]


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a backprop Tensor (a Parameter is one).

    >>> import backprop as bp
    >>> bp.is_tensor(bp.zeros(1)), bp.is_tensor([1.0])
    (True, False)
    """
    from .tensor import Tensor

    return isinstance(obj, Tensor)


def is_floating_point(input: Any) -> bool:
    """``input.is_floating_point()``: float16, float32 or float64."""
    return input.is_floating_point()


def is_complex(input: Any) -> bool:
    """``input.is_complex()``."""
    return input.is_complex()


def is_nonzero(input: Any) -> bool:
    """``input.is_nonzero()``: the truth of a one-element tensor."""
    return input.is_nonzero()


def is_same_size(input: Any, other: Any) -> bool:
    """``input.is_same_size(other)``."""
    return input.is_same_size(other)


def is_signed(input: Any) -> bool:
    """``input.is_signed()``."""
    return input.is_signed()


def numel(input: Any) -> int:
    """The number of elements, ``input.numel()``.

    >>> import backprop as bp
    >>> bp.numel(bp.zeros(2, 3))
    6
    """
    return input.numel()


__all__ = ["can_cast", "finfo", "iinfo", "is_complex", "is_floating_point", "is_nonzero",
           "is_same_size", "is_signed", "is_tensor", "numel"]
