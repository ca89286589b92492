"""The ``strict`` device: a stand-in for a GPU that runs on the CPU but keeps CuPy's rules.

Code written for NumPy often breaks on CuPy in the same few ways: it makes a new array with
``np.zeros`` (which lands on the host), mixes a host array into a device op, converts a device
array with ``np.asarray``, or calls something CuPy lacks (``np.maximum.accumulate``,
``np.lib.stride_tricks.as_strided``, ``np.vecdot``). Arrays on the ``strict`` device refuse all
of these exactly where CuPy would, so the op and layer tests catch such code on a machine with no
GPU. Like CuPy they take part in NumPy's dispatch (``np.exp(a)`` stays on the device), and, like
several GPUs, they come in fake device numbers (``strict:0``, ``strict:1``) that must not mix.

>>> import backprop as bp
>>> x = bp.ones(3, device="strict:1")
>>> x.device
device(type='strict', index=1)
>>> (x * 2).cpu().tolist()
[2.0, 2.0, 2.0]
"""

from __future__ import annotations

import sys
from typing import Any, Iterator

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from .. import backend

# Fake devices, as many as a small multi-GPU machine.
DEVICE_COUNT = 2
_current = [0]

# NumPy callables and arguments CuPy 14 lacks or refuses (seen on CuPy 14.2 with NumPy 2.5).
_MISSING_UFUNC_METHODS = {"accumulate"}
_MISSING_UFUNCS = {"vecdot"}
_MISSING_KEYWORDS = {"initial", "where"}  # of reductions: max(initial=...), sum(where=...)


class Device:
    """A fake device number; ``with Device(1):`` makes new arrays there, as CuPy's does."""

    __slots__ = ("id", "_previous")

    def __init__(self, id: int = 0) -> None:
        self.id = id

    def __enter__(self) -> Device:
        self._previous = _current[0]
        _current[0] = self.id
        return self

    def __exit__(self, *exc: Any) -> None:
        _current[0] = self._previous

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self) -> int:
        return self.id

    def __repr__(self) -> str:
        return f"<strict device {self.id}>"


class _Flags:
    """CuPy's flags: contiguity and ownership, no ``writeable``."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, flags: Any) -> None:
        self.c_contiguous = flags.c_contiguous
        self.f_contiguous = flags.f_contiguous
        self.owndata = flags.owndata


def _assignable_part(name: str) -> property:
    """A view of the held array's ``name`` (real or imag) that can also be assigned to."""

    def get(self: ndarray) -> ndarray:
        return ndarray(getattr(self._array, name), self._device)

    def assign(self: ndarray, value: Any) -> None:
        _common_device((self, value), None)
        setattr(self._array, name, _unwrap(value))

    return property(get, assign)


class ndarray(NDArrayOperatorsMixin):
    """A NumPy array held on a fake device; see the module docstring for its rules."""

    __slots__ = ("_array", "_device")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, array: np.ndarray, device: int) -> None:
        self._array = array
        self._device = device

    # -- what CuPy refuses -------------------------------------------------------------------

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` "
                        "to construct a NumPy array explicitly.")

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method in _MISSING_UFUNC_METHODS and ufunc is not np.add:
            raise NotImplementedError(f"`{ufunc.__name__}.{method}` is not supported on a "
                                      "device (CuPy lacks it)")
        if method == "at" and _has_slices(inputs[1]):
            raise TypeError(f"{ufunc.__name__}.at: an index with slices, None or ... is not "
                            "supported on a device (CuPy takes integer arrays only)")
        if ufunc.__name__ in _MISSING_UFUNCS:
            raise TypeError(f"operand type(s) all returned NotImplemented from __array_ufunc__"
                            f"({ufunc.__name__}): CuPy lacks {ufunc.__name__}")
        out = kwargs.get("out")
        device = _common_device(inputs, out)
        result = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))
        if out is not None:  # the caller's own arrays, so ``a += b`` keeps ``a``
            return out[0] if len(out) == 1 else out
        return _wrap(result, device)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        _refuse_missing_keywords(func.__name__, kwargs)
        # (NumPy has already dropped a ``like=`` argument, so, as on CuPy, an array made with one
        # lands on the current device.)
        device = _common_device(args, kwargs)
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)), device)

    # -- attributes and methods: NumPy's, run on the held array --------------------------------

    @property
    def device(self) -> Device:
        return Device(self._device)

    @property
    def flags(self) -> _Flags:
        return _Flags(self._array.flags)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._array.shape

    @shape.setter
    def shape(self, value: tuple[int, ...]) -> None:
        self._array.shape = value

    @property
    def dtype(self) -> np.dtype:
        return self._array.dtype

    @property
    def ndim(self) -> int:
        return self._array.ndim

    @property
    def size(self) -> int:
        return self._array.size

    # CuPy's real and imag are properties that can be assigned (``out.real = x`` fills the real
    # parts of a complex array), which the attribute lookup below cannot do.
    real = _assignable_part("real")
    imag = _assignable_part("imag")

    def get(self) -> np.ndarray:
        """A host copy, as CuPy's ``ndarray.get()``."""
        return self._array.copy()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # no __array_interface__ and kin: NumPy must not see the data
            raise AttributeError(f"'ndarray' object has no attribute {name!r}")
        value = getattr(self._array, name)
        if not callable(value):
            return _wrap(value, self._device)
        device = self._device

        def method(*args: Any, **kwargs: Any) -> Any:
            _refuse_missing_keywords(name, kwargs)
            _common_device((self, *args), kwargs)
            return _wrap(value(*_unwrap(args), **_unwrap(kwargs)), device)

        return method

    def __getitem__(self, key: Any) -> Any:
        _common_device((self, key), None)
        return _wrap(self._array[_unwrap_key(key)], self._device)

    def __setitem__(self, key: Any, value: Any) -> None:
        _common_device((self, key, value), None)
        self._array[_unwrap_key(key)] = _unwrap(value)

    def __len__(self) -> int:
        return len(self._array)

    def __iter__(self) -> Iterator[ndarray]:
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        return bool(self._array)

    def __float__(self) -> float:
        return float(self._array)

    def __int__(self) -> int:
        return int(self._array)

    def __index__(self) -> int:
        return self._array.__index__()

    def __complex__(self) -> complex:
        return complex(self._array)

    def __copy__(self) -> ndarray:
        return ndarray(self._array.copy(), self._device)

    def __deepcopy__(self, memo: dict) -> ndarray:
        return self.__copy__()

    def __repr__(self) -> str:
        return f"strict:{self._device}:{self._array!r}"


def _has_slices(key: Any) -> bool:
    parts = key if type(key) is tuple else (key,)
    return any(k is None or k is Ellipsis or type(k) is slice for k in parts)


def _refuse_missing_keywords(name: str, kwargs: dict) -> None:
    missing = _MISSING_KEYWORDS & set(kwargs)
    if missing:
        raise TypeError(f"{name}() got an unexpected keyword argument {sorted(missing)[0]!r} "
                        "(CuPy's reductions do not take it)")


def _unwrap(value: Any) -> Any:
    """The held NumPy arrays in ``value``; host arrays are refused as CuPy refuses them."""
    if type(value) is ndarray:
        return value._array
    if type(value) is np.ndarray:
        raise TypeError(f"Unsupported type {type(value)}: a host (NumPy) array was mixed into an "
                        "operation on the strict device")
    if type(value) in (tuple, list):
        return type(value)(_unwrap(v) for v in value)
    if type(value) is dict:
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _unwrap_key(key: Any) -> Any:
    """An index: CuPy accepts host integer and boolean arrays inside an index, so this does."""
    if type(key) is ndarray:
        return key._array
    if type(key) is tuple:
        return tuple(_unwrap_key(k) for k in key)
    return key


def _wrap(value: Any, device: int) -> Any:
    """Device arrays for the NumPy arrays (and, as CuPy returns 0-d arrays, scalars) in value."""
    if type(value) is np.ndarray:
        return ndarray(value, device)
    if isinstance(value, np.generic):
        return ndarray(np.asarray(value), device)
    if type(value) in (tuple, list):
        return type(value)(_wrap(v, device) for v in value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        # NumPy's named results (np.linalg.svd's SVDResult, eigh's, qr's, slogdet's): their
        # arrays are on the device too, as CuPy's plain tuples are.
        return type(value)(*(_wrap(v, device) for v in value))
    return value


def _common_device(args: Any, kwargs: Any) -> int:
    """The one device of the arrays in ``args`` and ``kwargs``; two different ones are an error,
    as on CuPy, where an array on another GPU than the current one is refused."""
    found: list[int] = []
    _collect_devices(args, found)
    _collect_devices(kwargs, found)
    if not found:
        return _current[0]
    if any(d != found[0] for d in found):
        raise ValueError(f"The device where the array resides ({found[1]}) is different from the "
                         f"device of another operand ({found[0]})")
    return found[0]


def _collect_devices(value: Any, found: list[int]) -> None:
    if type(value) is ndarray:
        found.append(value._device)
    elif type(value) in (tuple, list):
        for v in value:
            _collect_devices(v, found)
    elif type(value) is dict:
        for v in value.values():
            _collect_devices(v, found)


# -- the module namespace: as ``cupy``, functions make arrays on the current device ------------

def asarray(value: Any, dtype: Any = None) -> ndarray:
    """``value`` on the current device (a host array is copied there)."""
    if type(value) is ndarray:
        return value if dtype is None else value.astype(dtype, copy=False)
    return ndarray(np.array(value, dtype=dtype), _current[0])


def asnumpy(value: Any) -> np.ndarray:
    """A host copy of ``value``, as ``cupy.asnumpy``."""
    return value.get() if type(value) is ndarray else np.asarray(value)


class _StrideTricks:
    """``lib.stride_tricks``: strided views exist on CuPy as its own functions."""

    @staticmethod
    def as_strided(x: ndarray, shape: tuple[int, ...], strides: tuple[int, ...]) -> ndarray:
        return ndarray(np.lib.stride_tricks.as_strided(x._array, shape, strides), x._device)

    @staticmethod
    def sliding_window_view(x: ndarray, window_shape: Any, axis: Any = None) -> ndarray:
        view = np.lib.stride_tricks.sliding_window_view(x._array, window_shape, axis=axis)
        return ndarray(view, x._device)


class _Lib:
    stride_tricks = _StrideTricks()


lib = _Lib()


def _on_device(name: str, value: Any) -> Any:
    """NumPy's function ``value`` run on the held arrays, its results on their device (the
    current one when it takes none)."""
    def function(*args: Any, **kwargs: Any) -> Any:
        device = _common_device(args, kwargs)
        return _wrap(value(*_unwrap(args), **_unwrap(kwargs)), device)

    function.__name__ = name
    return function


class _FFT:
    """``cupy.fft``: NumPy's transforms under the same names and arguments (``norm=`` included),
    and only the functions CuPy has; the module itself would pass host arrays back from
    ``fftfreq``, and offer what CuPy lacks."""

    def __init__(self) -> None:
        for name in ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2",
                     "irfft2", "rfftn", "irfftn", "hfft", "ihfft", "fftfreq", "rfftfreq",
                     "fftshift", "ifftshift"):
            setattr(self, name, _on_device(name, getattr(np.fft, name)))


fft = _FFT()


def __getattr__(name: str) -> Any:
    """Any other NumPy name: dtypes and constants as they are, functions making arrays on the
    current device."""
    value = getattr(np, name)
    if isinstance(value, (type, float, int, np.dtype)) or not callable(value):
        return value
    return _on_device(name, value)


class _Backend:
    """The ``strict`` device type, as ``backend.ArrayBackend`` describes."""

    type = "strict"
    module = sys.modules[__name__]
    array_type = ndarray

    def device_count(self) -> int:
        return DEVICE_COUNT

    def check(self, index: int) -> None:
        if not 0 <= index < DEVICE_COUNT:
            raise ValueError(f"device: strict:{index} does not exist; the strict stand-in has "
                             f"devices 0 to {DEVICE_COUNT - 1}")

    def to_device(self, array: np.ndarray, index: int) -> ndarray:
        return ndarray(np.array(array), index)

    def to_host(self, array: ndarray) -> np.ndarray:
        return array.get()

    def index_of(self, array: ndarray) -> int:
        return array._device


backend.register(_Backend())
