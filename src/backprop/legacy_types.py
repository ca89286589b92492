"""PyTorch's legacy tensor types: ``torch.FloatTensor``, ``torch.LongTensor`` ... and the
string ``Tensor.type()`` returns.

Old programs (and some current ones, e.g. pytorch/examples word_language_model's ONNX export)
still build tensors with them: ``torch.LongTensor(35 * 20)`` is an uninitialised int64 tensor
of 700 elements, ``torch.FloatTensor([1, 2])`` copies data, and ``isinstance(x,
torch.FloatTensor)`` asks for a float32 tensor on the host.

>>> import backprop as bp
>>> bp.LongTensor(2, 3).dtype == bp.int64, bp.FloatTensor([1, 2]).tolist()
(True, [1.0, 2.0])
>>> isinstance(bp.zeros(2), bp.FloatTensor), bp.zeros(2).type()
(True, 'torch.FloatTensor')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from .tensor import Tensor

# PyTorch's name for each dtype's legacy type.
NAMES = {np.dtype(np.float32): "FloatTensor", np.dtype(np.float64): "DoubleTensor",
         np.dtype(np.float16): "HalfTensor", np.dtype(np.int64): "LongTensor",
         np.dtype(np.int32): "IntTensor", np.dtype(np.int16): "ShortTensor",
         np.dtype(np.int8): "CharTensor", np.dtype(np.uint8): "ByteTensor",
         np.dtype(np.bool_): "BoolTensor", np.dtype(np.complex64): "ComplexFloatTensor",
         np.dtype(np.complex128): "ComplexDoubleTensor"}


def type_name(t: Tensor) -> str:
    """``Tensor.type()``: ``'torch.FloatTensor'``, or ``'torch.cuda.FloatTensor'`` on a GPU."""
    where = "torch.cuda." if t.device.type == "cuda" else "torch."
    return where + NAMES[t.dtype]


def dtype_of_type(name: Any) -> Any:
    """The dtype ``Tensor.type(x)`` converts to, for a dtype, a legacy type or its name
    (``'torch.LongTensor'``, ``'torch.cuda.LongTensor'``)."""
    if isinstance(name, _LegacyType):
        return name.dtype
    if isinstance(name, str):
        short = name.rsplit(".", 1)[-1]
        for dtype, legacy in NAMES.items():
            if legacy == short:
                return dtype
        raise ValueError(f"type: invalid type {name!r}; use a dtype (bp.int64) or a name such "
                         f"as 'torch.LongTensor'")
    return name


def legacy_construct(args: tuple, dtype: Any, op: str) -> Tensor:
    """What ``torch.Tensor(*args)`` and ``torch.FloatTensor(*args)`` make: sizes give an
    uninitialised tensor of that shape, one sequence or array gives a copy in ``dtype``."""
    from .creation import empty, tensor  # here: creation imports Tensor, which imports us

    # A Size (a tuple subclass: ours, defined among the shape ops, which import this module
    # through Tensor) gives sizes; a plain tuple is data, as in PyTorch.
    if len(args) == 1 and isinstance(args[0], tuple) and type(args[0]) is not tuple:
        args = tuple(args[0])
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))
           for a in args):
        return empty(*(args or (0,)), dtype=dtype)  # torch.Tensor() has shape (0,)
    if len(args) != 1:
        raise TypeError(f"{op}: expected sizes (ints) or one sequence of data, got "
                        f"{len(args)} arguments of types {[type(a).__name__ for a in args]}")
    data = args[0]
    if isinstance(data, Tensor) and data.dtype != dtypes.as_dtype(dtype, op):
        raise TypeError(f"{op}: expected a tensor of dtype {dtypes.as_dtype(dtype, op)}, got "
                        f"{data.dtype}; convert it with .to(...) instead")
    return tensor(data, dtype=dtype)


class _LegacyType(type):
    """The metaclass: calling a legacy type constructs a tensor, ``isinstance`` checks dtype and
    device, as PyTorch's do."""

    dtype: Any

    def __call__(cls, *args: Any, device: Any = None) -> Tensor:
        made = legacy_construct(args, cls.dtype, f"{cls.__name__}")
        return made if device is None else made.to(device)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == "cpu"


def _legacy_type(dtype: Any) -> type:
    return _LegacyType(NAMES[np.dtype(dtype)], (), {"dtype": np.dtype(dtype),
                                                     "__module__": "backprop"})


FloatTensor = _legacy_type(np.float32)
DoubleTensor = _legacy_type(np.float64)
HalfTensor = _legacy_type(np.float16)
LongTensor = _legacy_type(np.int64)
IntTensor = _legacy_type(np.int32)
ShortTensor = _legacy_type(np.int16)
CharTensor = _legacy_type(np.int8)
ByteTensor = _legacy_type(np.uint8)
BoolTensor = _legacy_type(np.bool_)

__all__ = ["BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor", "HalfTensor",
           "IntTensor", "LongTensor", "ShortTensor"]
