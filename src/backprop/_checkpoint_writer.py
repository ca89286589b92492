"""The checkpoint writer behind ``save``: turns an object tree into the JSON document and the
named arrays of one safetensors file, refusing (before anything is written) whatever a
checkpoint cannot hold, with the path to it (``obj['model'].fc.act``)."""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import numpy as np

from . import backend, dtypes
from ._checkpoint_format import (BFLOAT16_BITS, COMPLEX_PARTS, MAX_NESTING, STORABLE, is_plain_key,
                                 sha256_array)
from ._module_tree import Attribute, encode_special
from .tensor import Tensor

__all__ = ["Writer"]

_INT64_RANGE = range(-(2**63), 2**63)


class Writer:
    """Turns an object tree into a JSON-able tree plus named contiguous little-endian arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.table: dict[str, dict[str, Any]] = {}
        self._by_buffer: dict[tuple, str] = {}  # one entry for views of the same memory
        self._active: set[int] = set()  # containers being encoded, to catch reference cycles
        self._keep: list[np.ndarray] = []  # keeps memoised buffers alive so no address is reused
        self.version = 1  # plain trees stay readable by readers of format 1
        self.module_ids: dict[int, int] = {}  # modules written so far, by id(), to their node id
        self.kept: list[Any] = []  # keeps those modules alive so no id() is reused

    def where(self, trail: tuple) -> str:
        return _where(trail)

    def encode(self, value: Any, trail: tuple) -> Any:
        if value is None or isinstance(value, bool):
            return value
        # Before the Python types: np.float64 and np.complex128 subclass float and complex.
        if isinstance(value, np.generic) and not isinstance(value, np.str_):
            return _encode_numpy_scalar(value, trail)
        if isinstance(value, str):
            return str(value)
        if isinstance(value, int):
            return _encode_int(int(value))
        if isinstance(value, float):
            return _encode_float(float(value))
        if isinstance(value, complex):
            return {"$complex": [_encode_float(value.real), _encode_float(value.imag)]}
        if isinstance(value, Tensor):
            return self._tensor(value, trail)
        if isinstance(value, backend.ARRAY_TYPES):
            return {"$ndarray": self._store(value, trail)}
        if not isinstance(value, (dict, list)):  # modules, dtypes, Size (a tuple), functions
            special = encode_special(self, value, trail)
            if special is not NotImplemented:
                return special
        if isinstance(value, (dict, list, tuple)):
            if len(trail) >= MAX_NESTING:
                raise ValueError(f"save: {_where(trail[:4])}... nests containers more than "
                                 f"{MAX_NESTING} deep, more than a checkpoint holds")
            if id(value) in self._active:
                raise ValueError(f"save: {_where(trail)} contains itself (a reference cycle); "
                                 "a checkpoint must be a tree")
            self._active.add(id(value))
            try:
                if isinstance(value, dict):
                    pairs = [[self._key(k, trail), self.encode(v, trail + (k,))]
                             for k, v in value.items()]
                    return {"$odict" if isinstance(value, OrderedDict) else "$dict": pairs}
                items = [self.encode(v, trail + (i,)) for i, v in enumerate(value)]
                return items if isinstance(value, list) else {"$tuple": items}
            finally:
                self._active.discard(id(value))
        hint = ("; save its state_dict() instead" if callable(getattr(value, "state_dict", None))
                else "")
        raise TypeError(f"save: {_where(trail)} is a {type(value).__name__}, which a checkpoint "
                        f"cannot hold{hint}. Checkpoints hold tensors, NumPy arrays, numbers, "
                        "bools, None, strings, dtypes, devices, nn.Modules, named functions and "
                        "dicts/lists/tuples of them (never pickled objects)")

    def _key(self, key: Any, trail: tuple) -> Any:
        if not is_plain_key(key):
            raise TypeError(f"save: {_where(trail)} has a key of type {type(key).__name__} "
                            f"({key!r:.60}); dict keys must be strings, numbers, bools, None or "
                            "tuples of them")
        return self.encode(key, trail)

    def _tensor(self, tensor: Tensor, trail: tuple) -> dict[str, Any]:
        node: dict[str, Any] = {"$tensor": self._store(tensor._data, trail)}
        if type(tensor._data) is not np.ndarray:
            node["device"] = str(tensor.device)  # loads back there unless map_location says not
        if tensor.requires_grad:
            node["requires_grad"] = True
        from .nn.parameter import Parameter  # nn sits above this module

        if isinstance(tensor, Parameter):
            node["parameter"] = True
        return node

    def _store(self, array: Any, trail: tuple) -> str:
        if not isinstance(array, np.ndarray):
            array = backend.to_host(array)  # checkpoints are host memory
        dtype = array.dtype.newbyteorder("=")  # big-endian arrays are saved little-endian
        bfloat16 = dtypes.is_bfloat16(dtype)
        if dtype not in STORABLE and dtype not in COMPLEX_PARTS and not bfloat16:
            raise TypeError(f"save: {_where(trail)} has dtype {array.dtype}, which a checkpoint "
                            "cannot hold; use a bool, integer, float or complex dtype")
        interface = array.__array_interface__
        identity = (interface["data"][0], array.shape, array.strides, array.dtype.str)
        if identity in self._by_buffer:  # the same memory seen twice (tied weights): store once
            return self._by_buffer[identity]
        # safetensors wants dense little-endian bytes: copy views, transposes and negative strides.
        if bfloat16:
            stored = np.ascontiguousarray(array).view(np.uint16).astype(BFLOAT16_BITS, copy=False)
        else:
            stored = array.astype(dtype.newbyteorder("<"), order="C", copy=False)
        if dtype in COMPLEX_PARTS:
            parts = COMPLEX_PARTS[dtype].newbyteorder("<")
            stored = stored.reshape(-1).view(parts).reshape(array.shape + (2,))
        key = self._fresh_key(trail)
        self.arrays[key] = stored
        self.table[key] = {"dtype": dtype.name, "shape": list(array.shape),
                           "sha256": sha256_array(stored)}
        self._by_buffer[identity] = key
        self._keep.append(array)
        return key

    def _fresh_key(self, trail: tuple) -> str:
        name = "/".join(str(part) for part in trail) or "tensor"
        # Header names are UTF-8 and "__metadata__" is safetensors' own entry.
        name = name.encode("utf-8", "backslashreplace").decode("utf-8")
        if name == "__metadata__":
            name = "_metadata_"
        key, n = name, 1
        while key in self.arrays:
            n += 1
            key = f"{name}~{n}"
        return key


def _encode_int(value: int) -> Any:
    # JSON has no integer limit, but many readers do (and Python's str() of huge ints does).
    return value if value in _INT64_RANGE else {"$int": hex(value)}


def _encode_float(value: float) -> Any:
    if math.isfinite(value):
        return value
    return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}


def _encode_numpy_scalar(value: np.generic, trail: tuple) -> dict[str, Any]:
    dtype = value.dtype
    if dtype.kind == "b":
        encoded: Any = bool(value)
    elif dtype.kind in "iu":
        encoded = _encode_int(int(value))
    elif dtype in STORABLE and dtype.kind == "f":
        encoded = _encode_float(float(value))  # float16/32 widen to float64 exactly
    elif dtype in COMPLEX_PARTS:
        encoded = [_encode_float(float(value.real)), _encode_float(float(value.imag))]
    else:
        raise TypeError(f"save: {_where(trail)} is a NumPy {dtype} scalar, which a checkpoint "
                        "cannot hold exactly; convert it to a supported type first")
    return {"$np": dtype.name, "value": encoded}


def _where(trail: tuple) -> str:
    return "obj" + "".join(repr(part) if isinstance(part, Attribute) else f"[{part!r}]"
                           for part in trail)
