"""Entry points to the pointwise Numba kernels (``_numba_pointwise``: float32 ``fmod``,
``remainder``, ``floor_divide`` and ``hypot``; the real ``angle``, ``sign``, ``hardshrink`` and
``lerp`` with a weight per element, ``addcmul`` and ``addcdiv``), registered under those ops' names and switched by
``bp.backends.numba.enabled`` like the others. Each returns None where it does not apply
(Numba absent or off, another dtype, a broadcast other than against one element, a small or
non-contiguous array) and the op's NumPy code runs: NumPy's results, bit for bit, either way."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from .. import kernels
from . import numba as _switch

_F32 = np.dtype(np.float32)


def _load() -> ModuleType | None:
    return _switch.kernel_module(f"{__package__}._numba_pointwise")


def _operand(value: Any) -> np.ndarray | None:
    """A float32 array of the operand: itself, or a Python number that float32 holds (as NumPy
    and PyTorch convert it: a weak scalar takes the tensor's dtype)."""
    if type(value) is np.ndarray or type(value) is np.float32:
        return np.asarray(value) if value.dtype == _F32 else None
    if type(value) in (int, float):
        with np.errstate(over="ignore"):
            number = np.float32(value)
        return np.asarray(number) if np.isfinite(number) == np.isfinite(value) else None
    return None


def _divide(mode: int, input: Any, other: Any) -> np.ndarray | None:
    a, b = _operand(input), _operand(other)
    if a is None or b is None:
        return None
    full = a if a.size >= b.size else b
    if not (b.size == a.size or min(a.size, b.size) == 1):
        return None
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:  # the op's own code raises its error
        return None
    if full.shape != shape or not _switch._applies(full, a if full is b else b):
        return None
    module = _load()
    if module is None:
        return None
    out = np.empty(shape, np.float32)
    if not _switch._run(module.divide32, mode, a.reshape(-1), b.reshape(-1), out.reshape(-1)):
        return None
    return out


def hypot(input: Any, other: Any) -> np.ndarray | None:
    """sqrt(input**2 + other**2) of float32 arrays of one shape, or None."""
    if (type(input) is not np.ndarray or type(other) is not np.ndarray
            or input.dtype != _F32 or input.shape != other.shape
            or not _switch._applies(input, other)):
        return None
    module = _load()
    if module is None:
        return None
    out = np.empty_like(input)
    if not _switch._run(module.hypot32, input.reshape(-1), other.reshape(-1), out.reshape(-1)):
        return None
    return out


def _unary(name: str, x: Any, *args: Any) -> np.ndarray | None:
    """``kernel(x, *args, out)`` for a contiguous float32/float64 array ``x``, or None."""
    if not _switch._applies(x):
        return None
    module = _load()
    if module is None:
        return None
    out = np.empty_like(x)
    if not _switch._run(getattr(module, name), x.reshape(-1), *args, out.reshape(-1)):
        return None
    return out


def angle(input: Any) -> np.ndarray | None:
    """PyTorch's angle of a real float array (0, pi below zero, nan kept), or None."""
    if type(input) is not np.ndarray or input.dtype.kind != "f":
        return None
    return _unary("angle_real", input, input.dtype.type(np.pi))


def sign(input: Any) -> np.ndarray | None:
    """-1, 0 or 1 by the sign of a float array (0 for nan), or None."""
    return _unary("sign", input)


def hardshrink(input: Any, lambd: float) -> np.ndarray | None:
    """0 where ``-lambd <= input <= lambd``, else ``input``, of a float array, or None."""
    if type(input) is not np.ndarray or type(lambd) not in (int, float):
        return None
    return _unary("hardshrink", input, input.dtype.type(lambd))


def lerp(input: Any, end: Any, weight: Any) -> np.ndarray | None:
    """lerp of three float arrays of one shape and dtype (a weight per element), or None."""
    if (type(weight) is not np.ndarray or type(end) is not np.ndarray
            or not input.shape == end.shape == weight.shape
            or not _switch._applies(input, end, weight)):
        return None
    module = _load()
    if module is None:
        return None
    out = np.empty_like(input)
    if not _switch._run(module.lerp, input.reshape(-1), end.reshape(-1), weight.reshape(-1),
                        out.reshape(-1)):
        return None
    return out


def _addc(divide: bool, input: Any, tensor1: Any, tensor2: Any, value: Any) -> np.ndarray | None:
    if (type(tensor1) is not np.ndarray or type(tensor2) is not np.ndarray
            or type(value) not in (int, float)
            or not input.shape == tensor1.shape == tensor2.shape
            or not _switch._applies(input, tensor1, tensor2)):
        return None
    module = _load()
    if module is None:
        return None
    out = np.empty_like(input)
    with np.errstate(over="ignore"):
        scale = input.dtype.type(value)
    if not _switch._run(module.addc, divide, input.reshape(-1), tensor1.reshape(-1),
                        tensor2.reshape(-1), scale, out.reshape(-1)):
        return None
    return out


def addcmul(input: Any, tensor1: Any, tensor2: Any, *, value: Any = 1) -> np.ndarray | None:
    """``input + tensor1 * tensor2 * value`` of float arrays of one shape and dtype, or None."""
    return _addc(False, input, tensor1, tensor2, value)


def addcdiv(input: Any, tensor1: Any, tensor2: Any, *, value: Any = 1) -> np.ndarray | None:
    """``input + tensor1 / tensor2 * value`` of float arrays of one shape and dtype, or None."""
    return _addc(True, input, tensor1, tensor2, value)


def fmod(input: Any, other: Any) -> np.ndarray | None:
    """C's fmod of float32 operands (the sign of ``input``), or None."""
    return _divide(0, input, other)


def remainder(input: Any, other: Any) -> np.ndarray | None:
    """Python's remainder of float32 operands (the sign of ``other``), or None."""
    return _divide(1, input, other)


def floor_divide(input: Any, other: Any) -> np.ndarray | None:
    """The floor of the quotient of float32 operands, as NumPy rounds it, or None."""
    return _divide(2, input, other)


for _op, _kernel in {"fmod": fmod, "remainder": remainder, "floor_divide": floor_divide,
                     "hypot": hypot, "angle": angle, "sign": sign,
                     "hardshrink": hardshrink, "lerp": lerp, "addcmul": addcmul,
                     "addcdiv": addcdiv}.items():
    kernels.register(_op, np.ndarray, _kernel, compiled=True)

__all__: list[Any] = []
