"""Dtypes: NumPy's own dtype objects under PyTorch's names, so arrays and tensors agree."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import DTypeError

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

# Python's own types, as PyTorch maps them: float -> float64, int -> int64.
_PYTHON_TYPES = {builtins.float: float64, builtins.int: int64, builtins.bool: bool,
                 builtins.complex: complex128}
_SUPPORTED = {float16, float32, float64, int8, uint8, int16, int32, int64, bool, complex64,
              complex128}


# -- bfloat16, through the optional ml_dtypes package ----------------------------------------------
# ml_dtypes (the NumPy extension JAX uses) takes ~0.6 s to import, so it is imported when bfloat16
# is first named (``bp.bfloat16``, ``"bfloat16"``), never by ``import backprop``. Its dtype has
# NumPy kind 'V'; among the dtypes backprop supports only bfloat16 has that kind, so 'V' reads as
# floating wherever kinds are compared.
_BF16_HOOKS: list[Callable[[np.dtype], None]] = []
_bfloat16: np.dtype | None = None
BF16_INSTALL = ("bfloat16 needs the optional ml_dtypes package: pip install 'backprop[bf16]' "
                "(or pip install ml_dtypes)")


class MissingBFloat16:
    """What ``bp.bfloat16`` is when ml_dtypes is not installed: a name scripts may mention at
    import time; using it as a dtype raises an ImportError that says what to install."""

    def __repr__(self) -> str:
        return "torch.bfloat16"

    @property
    def itemsize(self) -> builtins.int:
        return 2

    @property
    def is_floating_point(self) -> builtins.bool:
        return True


_MISSING_BFLOAT16 = MissingBFloat16()


def _import_ml_dtypes() -> Any:
    import ml_dtypes  # optional extra: backprop[bf16]

    return ml_dtypes


def bfloat16_dtype(op: str = "bfloat16") -> np.dtype:
    """NumPy's dtype for bfloat16 (ml_dtypes'), importing ml_dtypes on first use; an ImportError
    naming ``op`` and what to install when it is missing.

    >>> bfloat16_dtype().itemsize
    2
    """
    global _bfloat16
    if _bfloat16 is None:
        try:
            module = _import_ml_dtypes()
        except ImportError:
            raise ImportError(f"{op}: {BF16_INSTALL}") from None
        _bfloat16 = np.dtype(module.bfloat16)
        _SUPPORTED.add(_bfloat16)
        for hook in _BF16_HOOKS:
            hook(_bfloat16)
    return _bfloat16


def bf16_available() -> builtins.bool:
    """Whether bfloat16 can be used: ml_dtypes is installed (this imports it).

    >>> isinstance(bf16_available(), builtins.bool)
    True
    """
    try:
        bfloat16_dtype()
    except ImportError:
        return False
    return True


def on_bfloat16(hook: Callable[[np.dtype], None]) -> None:
    """Call ``hook(dtype)`` once bfloat16 exists (at once if it does): modules that compare
    dtypes by identity on hot paths keep a sentinel until then, at no cost."""
    _BF16_HOOKS.append(hook)
    if _bfloat16 is not None:
        hook(_bfloat16)


def is_bfloat16(dtype: Any) -> builtins.bool:
    """True for bfloat16 (without importing ml_dtypes: an array of it implies it is loaded).

    >>> is_bfloat16(float32)
    False
    """
    return isinstance(dtype, MissingBFloat16) or (
        _bfloat16 is not None and dtype is _bfloat16) or (
        isinstance(dtype, np.dtype) and dtype.kind == "V" and dtype.name == "bfloat16")


def cast(array: Any, dtype: np.dtype) -> Any:
    """``array.astype(dtype)``, except that float64 reaches bfloat16 through float32, as
    PyTorch converts (rounding twice: 1 + 2**-8 + 2**-30 becomes 1.0, not 1.0078125).

    >>> cast(np.array([1.5]), float32)
    array([1.5], dtype=float32)
    """
    if dtype.kind == "V" and array.dtype.kind == "f" and array.dtype.itemsize == 8:
        array = array.astype(float32)
    return array.astype(dtype, copy=False)


def __getattr__(name: str) -> Any:
    if name == "bfloat16":
        try:
            return bfloat16_dtype()
        except ImportError:
            return _MISSING_BFLOAT16
    raise AttributeError(f"module 'backprop.dtypes' has no attribute {name!r}")


def as_dtype(dtype: Any, op: str = "dtype") -> np.dtype:
    """Normalise ``dtype`` (a ``bp`` dtype, NumPy type, name or Python type) to a NumPy dtype.

    >>> as_dtype("float64")
    dtype('float64')
    """
    if isinstance(dtype, type) and dtype in _PYTHON_TYPES:
        return _PYTHON_TYPES[dtype]
    if isinstance(dtype, MissingBFloat16) or (isinstance(dtype, str) and dtype in (
            "bfloat16", "torch.bfloat16")) or is_bfloat16(dtype):
        return bfloat16_dtype(op)
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
    """True for (b)float16/32/64 (and complex), the dtypes that can require grad."""
    return dtype.kind in "fcV"


# -- type promotion (PyTorch's rules, not NumPy's) -----------------------------------------------
# Dtypes rank by category, bool < integer < floating < complex. Operands come in three priorities:
# tensors with dimensions, 0-d tensors and Python numbers. Within the highest priority present
# the dtypes promote as usual; a lower one only matters when its category is higher, and then
# brings the default dtype of that category (a Python float -> float32), except that a 0-d
# tensor brings its own dtype over integers and bools: ``ones(2) + tensor(1., float64)`` is
# float32, ``tensor([1, 2]) + tensor(1., float64)`` float64, ``uint8 + tensor(300)`` uint8.

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "V": 2, "c": 3}  # V: bfloat16
# The dtype of each kind of Python number in a tensor's data (and beside a tensor of a lower
# category); floats and complex numbers follow the default dtype.
PYTHON_NUMBER_DTYPES = {builtins.bool: bool, builtins.int: int64, builtins.float: float32,
                        builtins.complex: complex64}
_COMPLEX_OF = {float32: complex64, float64: complex128}


def get_default_dtype() -> np.dtype:
    """The dtype of floating-point tensors made without one (float32 unless set).

    >>> import backprop as bp
    >>> bp.get_default_dtype()
    dtype('float32')
    """
    return PYTHON_NUMBER_DTYPES[builtins.float]


def set_default_dtype(d: Any) -> None:
    """Make ``d`` (float16, float32 or float64) the dtype of Python floats in new tensors, of
    factories (``zeros``, ``rand``) and modules' parameters, and of integer ops' float results;
    complex numbers follow (complex128 beside float64), as in PyTorch.

    >>> import backprop as bp
    >>> bp.set_default_dtype(bp.float64)
    >>> bp.tensor([1.5]).dtype, bp.zeros(1).dtype
    (dtype('float64'), dtype('float64'))
    >>> bp.set_default_dtype(bp.float32)
    """
    dtype = as_dtype(d, "set_default_dtype")
    if dtype not in (float16, float32, float64):
        raise TypeError(f"set_default_dtype: only floating-point types can be the default "
                        f"dtype (float16, float32, float64), not {dtype}")
    PYTHON_NUMBER_DTYPES[builtins.float] = dtype
    PYTHON_NUMBER_DTYPES[builtins.complex] = _COMPLEX_OF.get(dtype, complex64)
    for cache in PROMOTION_CACHES:  # their plans were made for the old default
        cache.clear()


# Caches of promotion results keyed by operand kinds (a Python float among them), which hold
# the default dtype: primitives register theirs, and set_default_dtype empties them.
PROMOTION_CACHES: list[dict] = []


def promote_types(type1: Any, type2: Any) -> np.dtype:
    """The smallest dtype both ``type1`` and ``type2`` convert to, as ``torch.promote_types``:
    an integer with a float gives the float (NumPy would widen ``int64 + float32`` to float64).

    >>> promote_types(int64, float16), promote_types(uint8, int8)
    (dtype('float16'), dtype('int16'))
    """
    type1, type2 = as_dtype(type1, "promote_types"), as_dtype(type2, "promote_types")
    return _promote(type1, type2)


def _promote(a: np.dtype, b: np.dtype) -> np.dtype:
    if a is b:
        return a
    rank_a, rank_b = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if rank_a == rank_b or rank_a + rank_b == 5:  # one category, or a float with a complex
        # bfloat16 with any other float or complex type gives what float32 would (with
        # float16: float32, as in PyTorch); ml_dtypes knows no complex promotion.
        if a.kind == "V":
            return np.promote_types(float32, b)
        if b.kind == "V":
            return np.promote_types(a, float32)
        return np.promote_types(a, b)
    return a if rank_a > rank_b else b


def _above(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """The result of operands of priority ``higher`` with those of a lower priority."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    rank_high, rank_low = _CATEGORY[higher.kind], _CATEGORY[lower.kind]
    if rank_high == 3:
        return higher
    if rank_low == 3:  # a complex number with real tensors: the complex of their precision
        if rank_high == 2:
            if higher.kind == "V":  # bfloat16: PyTorch has no complex of it either
                return complex64
            if higher not in _COMPLEX_OF:
                raise DTypeError("complex32 (a complex number with a float16 tensor) is not "
                                 "supported; convert the tensor to float32 first")
            return _COMPLEX_OF[higher]
        return lower
    if rank_high == 2:
        return higher
    if rank_high == 0 or rank_low == 2:
        return _promote(higher, lower)
    return higher


def operand_key(operand: Any) -> Any:
    """What promotion reads of an operand: a dtype for an array with dimensions, ``(dtype,)``
    for a 0-d array, the type of a Python number, and None for anything else."""
    dtype = getattr(operand, "dtype", None)
    if dtype is not None:
        return dtype if operand.ndim else (dtype,)
    kind = type(operand)
    return kind if kind in PYTHON_NUMBER_DTYPES else None


def result_of_keys(keys: tuple) -> np.dtype | None:
    """``result_type`` of the operands whose ``operand_key`` are ``keys`` (None: no operand)."""
    with_dims = zero_dim = numbers = None
    for key in keys:
        if key is None:
            continue
        if type(key) is tuple:
            zero_dim = key[0] if zero_dim is None else _promote(zero_dim, key[0])
        elif isinstance(key, np.dtype):
            with_dims = key if with_dims is None else _promote(with_dims, key)
        else:
            number = PYTHON_NUMBER_DTYPES[key]
            numbers = number if numbers is None else _promote(numbers, number)
    return _above(with_dims, _above(zero_dim, numbers))


def result_type(tensor: Any, other: Any) -> np.dtype:
    """The dtype PyTorch computes ``tensor + other`` in (``torch.result_type``); either may be a
    tensor or a Python number.

    >>> import backprop as bp
    >>> bp.result_type(bp.ones(2), bp.tensor(1., dtype=bp.float64))   # a 0-d tensor is a number
    dtype('float32')
    >>> bp.result_type(bp.tensor([1, 2], dtype=bp.uint8), 1000), bp.result_type(bp.tensor(1), 2.5)
    (dtype('uint8'), dtype('float32'))
    """
    keys = tuple(operand_key(getattr(a, "_data", a)) for a in (tensor, other))
    if any(k is None for k in keys):
        raise TypeError(f"result_type: expected tensors or Python numbers, got "
                        f"{type(tensor).__name__} and {type(other).__name__}")
    return result_of_keys(keys)


def integer_range(dtype: np.dtype) -> tuple[builtins.int, builtins.int]:
    """The Python ints PyTorch converts to integer ``dtype``: its range, except that an unsigned
    dtype also takes down to minus its maximum (which wraps: -1 is 255 in uint8).

    >>> integer_range(uint8), integer_range(int8)
    ((-255, 255), (-128, 127))
    """
    info = np.iinfo(dtype)
    return (-info.max if info.kind == "u" else info.min), info.max


def wrap_integer(value: builtins.int, dtype: np.dtype) -> builtins.int:
    """``value`` reduced modulo 2**bits into integer ``dtype``'s range, as PyTorch casts a Python
    int to an integer dtype (C's conversion: -3 becomes 253 in uint8).

    >>> wrap_integer(-3, uint8), wrap_integer(200, int8)
    (253, -56)
    """
    info = np.iinfo(dtype)
    return (value - info.min) % (1 << info.bits) + info.min
