"""Dtypes: NumPy's own dtype objects under PyTorch's names, so arrays and tensors agree."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
bool = np.dtype(np.bool_)
complex64 = np.dtype(np.complex64)
complex128 = np.dtype(np.complex128)

DEFAULT_FLOAT = float32

# Python's own types, as PyTorch maps them: float -> float64, int -> int64.
_PYTHON_TYPES = {builtins.float: float64, builtins.int: int64, builtins.bool: bool,
                 builtins.complex: complex128}
_SUPPORTED = {float16, float32, float64, int8, uint8, int16, int32, int64, bool, complex64,
              complex128}


def as_dtype(dtype: Any, op: str = "dtype") -> np.dtype:
    """Normalise ``dtype`` (a ``bp`` dtype, NumPy type, name or Python type) to a NumPy dtype.

    >>> as_dtype("float64")
    dtype('float64')
    """
    if isinstance(dtype, type) and dtype in _PYTHON_TYPES:
        return _PYTHON_TYPES[dtype]
    try:
        result = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: {dtype!r} is not a dtype; use bp.float32, bp.float64, bp.int64, "
                        "bp.bool, ...") from None
    if result not in _SUPPORTED:
        raise TypeError(f"{op}: dtype {result} is not supported; use one of "
                        f"{sorted(str(d) for d in _SUPPORTED)}")
    return result


def is_floating(dtype: np.dtype) -> builtins.bool:
    """True for float16/32/64 (and complex), the dtypes that can require grad."""
    return dtype.kind in "fc"


def promote_types(type1: Any, type2: Any) -> np.dtype:
    """The dtype PyTorch gives a mix of ``type1`` and ``type2`` values (``torch.promote_types``):
    NumPy's rule, except that a float or complex dtype wins over every integer one (NumPy makes
    int64 with float16 float64; PyTorch keeps float16).

    >>> promote_types(int64, float16), promote_types(int8, uint8)
    (dtype('float16'), dtype('int16'))
    """
    type1, type2 = np.dtype(type1), np.dtype(type2)
    floating1, floating2 = type1.kind in "fc", type2.kind in "fc"
    if floating1 != floating2:
        return type1 if floating1 else type2
    return np.promote_types(type1, type2)


def wrap_integer(value: builtins.int, dtype: np.dtype) -> builtins.int:
    """``value`` reduced modulo 2**bits into integer ``dtype``'s range, as PyTorch casts a Python
    int to an integer dtype (C's conversion: -3 becomes 253 in uint8).

    >>> wrap_integer(-3, uint8), wrap_integer(200, int8)
    (253, -56)
    """
    info = np.iinfo(dtype)
    return (value - info.min) % (1 << info.bits) + info.min
