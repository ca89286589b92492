"""Tensor factories: ``tensor``, ``zeros``, ``arange``, ``randn`` and friends."""

from __future__ import annotations

import functools
import math
import operator
from typing import Any, Sequence

import numpy as np

from . import dtypes
from . import backend
from .backends import numba as numba_backend
from .errors import DTypeOverflowError, ShapeError, format_shape
from .layout import check_memory_format
from .random import Generator, get_rng, standard_normal
from .tensor import Tensor


def _native(array: np.ndarray, op: str) -> np.ndarray:
    """``array`` in the machine's byte order, refusing dtypes that are not numbers."""
    if array.dtype.kind not in "biufcV":
        raise TypeError(f"{op}: cannot make a tensor from an array of dtype {array.dtype}; give "
                        "numbers or booleans")
    if not array.dtype.isnative:  # big-endian data from a file: same values, native layout
        array = array.astype(array.dtype.newbyteorder("="))
    return array


def _finish(array: Any, requires_grad: bool, device: backend.device | None = None) -> Tensor:
    """Wrap ``array`` (made on the host) as a tensor on ``device``.

    Random factories draw on the host, so one seed gives the same values on every device.
    """
    if device is not None:
        array = backend.to_device(array, device)
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad = True
    return t


def tensor(data: Any, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, NumPy arrays, scalars, tensors).

    The dtype is inferred as PyTorch infers it: Python floats become ``float32`` (the default),
    ints ``int64``; NumPy arrays, NumPy scalars and tensors keep theirs, and a list mixing them
    takes the widest (a list of float64 NumPy scalars is float64). A number that ``dtype`` cannot
    hold is refused (``tensor([300], dtype=bp.uint8)``), while arrays and tensors convert as
    ``.to`` does (wrapping).

    >>> import backprop as bp
    >>> bp.tensor([[1, 2], [3, 4]]).dtype, bp.tensor([0.5]).dtype
    (dtype('int64'), dtype('float32'))
    >>> bp.tensor(0.7, dtype=bp.float64).item()
    0.7
    """
    target = backend.as_device(device, "tensor")
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype, "tensor")
    if isinstance(data, Tensor):
        array = data._data.copy()
    elif type(data) is np.ndarray:
        array = _native(np.array(data), "tensor")
    elif isinstance(data, backend.ARRAY_TYPES) or backend.device_of(data).type != "cpu":
        array = data.copy()
    else:
        return _finish(_from_python(data, dtype, "tensor"), requires_grad, target)
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    return _finish(array, requires_grad, target)


def _from_python(data: Any, dtype: np.dtype | None, op: str) -> np.ndarray:
    """An array of Python data (numbers, NumPy scalars, 0-d tensors, nested lists of them) in
    ``dtype``, or in the dtype PyTorch infers; each value is read at full precision and
    converted once, so ``0.7`` to float64 stays 0.7."""
    try:  # NumPy reads Python floats as float64 and ints as int64: no value is rounded yet
        values = np.array(data)
    except ValueError as err:
        raise ShapeError(f"{op}: the nested sequence is ragged (sub-lists of different "
                         f"lengths) and cannot become a tensor: {err}") from None
    if values.dtype == object and dtype is not None and dtype.kind in "bfcV":
        values = _as_floats(values)  # integers beyond 64 bits, which a float can hold
    if values.dtype.kind not in "biufcV":
        if values.dtype == object:
            _check_int_range(values, op)
        raise TypeError(f"{op}: cannot make a tensor from {type(data).__name__} values of "
                        f"type {values.dtype}; give numbers, booleans or arrays")
    values = _native(values, op)
    if dtype is None:
        dtype = _inferred_dtype(data)
        if dtype.kind in "iu" and (values.dtype.kind in "fV" or values.dtype == np.uint64 != dtype):
            # NumPy made floats or uint64 of integers beyond int64, which PyTorch refuses
            _check_int_range(np.array(data, dtype=object), op)
    else:
        _refuse_overflow(values, dtype, op)
    with np.errstate(over="ignore"):  # 1e40 becomes inf in float32, as in PyTorch
        return dtypes.cast(values, dtype)


def _as_floats(values: np.ndarray) -> np.ndarray:
    try:
        return values.astype(np.float64)
    except (TypeError, ValueError):
        return values  # not numbers: refused by the caller


_PYTHON_NUMBER_DTYPES = dtypes.PYTHON_NUMBER_DTYPES


def _inferred_dtype(data: Any) -> np.dtype:
    """PyTorch's dtype for nested data: each Python number gives its default dtype (floats
    float32), each NumPy scalar, array or tensor its own, and the dtypes found are promoted
    together (``promote_types``); no values at all give float32."""
    found: set[np.dtype] = set()
    pending = [data if isinstance(data, (list, tuple)) else (data,)]
    while pending:
        sequence = pending.pop()
        for kind in set(map(type, sequence)):  # one pass in C over each innermost list
            if kind in _PYTHON_NUMBER_DTYPES:
                found.add(_PYTHON_NUMBER_DTYPES[kind])
            elif issubclass(kind, (list, tuple)):
                pending.extend(d for d in sequence if isinstance(d, (list, tuple)))
            elif issubclass(kind, (np.generic, np.ndarray, Tensor)):
                found.update(d.dtype for d in sequence if type(d) is kind)
            else:  # bool and int subclasses, such as IntEnum
                found.update(_PYTHON_NUMBER_DTYPES[base] for base in _PYTHON_NUMBER_DTYPES
                             if issubclass(kind, base))
    result = None
    for dtype in found:
        result = dtype if result is None else dtypes.promote_types(result, dtype)
    return dtypes.get_default_dtype() if result is None else result


def _check_int_range(array: np.ndarray, op: str) -> None:
    """NumPy turns integers beyond 64 bits into Python objects: name the value instead."""
    for value in array.reshape(-1):
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise OverflowError(f"{op}: the integer {value} does not fit in int64 (which holds "
                                "-2**63 to 2**63 - 1)")


# The largest float64 below 2**63: int64's maximum, 2**63 - 1, is no float64.
_BELOW_2_63 = float(np.nextafter(2.0**63, 0))


def _refuse_overflow(values: np.ndarray, dtype: np.dtype, op: str) -> None:
    """Refuse a number (not an array or tensor) that integer ``dtype`` cannot hold, as PyTorch
    does: an integer must lie in the dtype's range (an unsigned dtype also takes down to minus
    its maximum, wrapping: -1 is 255 in uint8) and a float too, before it is truncated toward
    zero; NaN and inf never fit. Complex numbers do not become real ones."""
    if values.dtype.kind == "c" and dtype.kind in "iufV":
        raise TypeError(f"{op}: cannot convert the complex value {values.reshape(-1)[0]} to "
                        f"{dtype}; give real numbers or a complex dtype")
    if dtype.kind not in "iu" or values.dtype.kind == "b" or values.size == 0:
        return
    info = np.iinfo(dtype)
    if values.dtype.kind in "fV":
        fits = (values >= info.min) & (values <= min(float(info.max), _BELOW_2_63))
    else:
        low, high = dtypes.integer_range(dtype)
        fits = np.asarray((values >= low) & (values <= high), dtype=bool)
    if not fits.all():
        _refuse_value(values[~fits].reshape(-1)[0], dtype, op)


def _refuse_value(value: Any, dtype: np.dtype, op: str) -> None:
    value = value.item() if isinstance(value, np.generic) else value
    if dtype.kind in "iu":
        holds = f"{np.iinfo(dtype).min} to {np.iinfo(dtype).max}"
    else:
        holds = f"magnitudes up to {np.finfo(dtype).max:.6g}"
    raise DTypeOverflowError(f"{op}: value {value!r} cannot be converted to type {dtype} without "
                             f"overflow ({dtype} holds {holds})")


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or tensor when no conversion is needed.

    >>> import numpy as np, backprop as bp
    >>> a = np.zeros(3); t = bp.as_tensor(a); a[0] = 1; t[0].item()
    1.0
    """
    if dtype is None and device is None and isinstance(data, Tensor):
        return data  # nothing to convert: the tensor itself, as in PyTorch (and at once)
    target = backend.as_device(device, "as_tensor")
    if isinstance(data, Tensor):
        return data.to(*(a for a in (dtype, target) if a is not None))
    if isinstance(data, np.ndarray):
        data = _native(data, "as_tensor")  # shares memory unless the byte order must change
    if isinstance(data, backend.ARRAY_TYPES) or backend.device_of(data).type != "cpu":
        array = data if dtype is None else data.astype(dtypes.as_dtype(dtype, "as_tensor"),
                                                       copy=False)
        return _finish(array, False, target)
    dtype = None if dtype is None else dtypes.as_dtype(dtype, "as_tensor")
    return _finish(_from_python(data, dtype, "as_tensor"), False, target)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (same dtype).

    >>> import numpy as np, backprop as bp
    >>> bp.from_numpy(np.arange(3)).tolist()
    [0, 1, 2]
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    if array.dtype.kind in "biufcV" and not array.dtype.isnative:
        raise TypeError(f"from_numpy: the array is {array.dtype} (not the machine's byte order), "
                        "which a tensor cannot share; copy it with bp.tensor(array) or "
                        "array.astype(array.dtype.newbyteorder('='))")
    dtypes.as_dtype(array.dtype, "from_numpy")
    return Tensor._wrap(array)


def _size(size: Sequence[Any], op: str) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:  # operator.index, as PyTorch: 2.5 is not a size (int() would quietly make it 2)
        result = tuple(operator.index(n) for n in size)
    except TypeError:
        bad = next(n for n in size if not _is_index(n))
        raise TypeError(f"{op}: sizes must be integers, got {bad!r} ({type(bad).__name__}) in "
                        f"{tuple(size)!r}") from None
    if any(n < 0 for n in result):
        raise ValueError(f"{op}: sizes must be non-negative, got {result}")
    return result


def _is_index(value: Any) -> bool:
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


def _dtype(dtype: Any, op: str, default: np.dtype | None = None) -> np.dtype:
    if dtype is None:
        return dtypes.get_default_dtype() if default is None else default
    return dtypes.as_dtype(dtype, op)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros. ``bp.zeros(2, 3)`` or ``bp.zeros((2, 3))``.

    >>> import backprop as bp
    >>> bp.zeros(2, 3).shape
    (2, 3)
    """
    target = backend.as_device(device, "zeros")
    return _finish(np.zeros(_size(size, "zeros"), _dtype(dtype, "zeros")), requires_grad, target)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones.

    >>> import backprop as bp
    >>> bp.ones(2).tolist()
    [1.0, 1.0]
    """
    target = backend.as_device(device, "ones")
    return _finish(np.ones(_size(size, "ones"), _dtype(dtype, "ones")), requires_grad, target)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          memory_format: Any = None) -> Tensor:
    """An uninitialised tensor (its values are whatever the memory held); ``memory_format`` may
    be ``bp.contiguous_format`` or ``bp.preserve_format``.

    >>> import backprop as bp
    >>> bp.empty(3).shape, bp.empty(2, memory_format=bp.contiguous_format).shape
    ((3,), (2,))
    """
    check_memory_format("empty", memory_format)
    target = backend.as_device(device, "empty")
    return _finish(np.empty(_size(size, "empty"), _dtype(dtype, "empty")), requires_grad, target)


def full(size: Sequence[int], fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; the dtype follows the value's kind as in PyTorch (a
    float gives float32, an int int64), and a value the dtype cannot hold is refused.

    >>> import backprop as bp
    >>> bp.full((2,), 7).tolist(), bp.full((1,), 0.5).dtype
    ([7, 7], dtype('float32'))
    """
    target = backend.as_device(device, "full")
    value = _number(fill_value, "full")
    dtype = _PYTHON_NUMBER_DTYPES[type(value)] if dtype is None else dtypes.as_dtype(dtype, "full")
    return _finish(_filled(_size((size,), "full"), value, dtype, "full"), requires_grad, target)


def _number(value: Any, op: str) -> Any:
    """``value`` (a Python number, NumPy scalar or one-element tensor) as a Python number."""
    if isinstance(value, (Tensor, np.generic)):
        value = value.item()
    if type(value) not in _PYTHON_NUMBER_DTYPES:
        raise TypeError(f"{op}: expected a number, got {value!r} ({type(value).__name__})")
    if type(value) is int and not -(2**63) <= value < 2**64:
        raise OverflowError(f"{op}: the integer {value} is too large (PyTorch takes -2**63 to "
                            "2**64 - 1)")
    return value


def _filled(shape: tuple[int, ...], value: Any, dtype: np.dtype, op: str) -> np.ndarray:
    """A ``shape`` array of ``dtype`` filled with Python number ``value``, converted as PyTorch
    converts a scalar it fills with: refused where it does not fit (see ``_refuse_overflow``; also
    a finite float beyond the range of float16, float32 or complex64, and a complex number with
    an imaginary part in a real dtype), integers wrapped, floats truncated toward zero."""
    if isinstance(value, complex) and dtype.kind in "iufV":
        if value.imag != 0:
            _refuse_value(value, dtype, op)
        value = value.real
    if dtype.kind in "iu":
        _refuse_overflow(np.array(value), dtype, op)
        if isinstance(value, int):  # NumPy 2 refuses -1 for uint8; PyTorch makes it 255
            value = dtypes.wrap_integer(value, dtype)
    elif dtype.kind == "b":
        value = bool(value)
    elif float(np.finfo(dtype).max) < abs(value) < math.inf:
        _refuse_value(value, dtype, op)
    return np.full(shape, value, dtype)


def _like(name: str, make: Any) -> Any:
    def like(input: Tensor, dtype: Any = None, device: Any = None,
             requires_grad: bool = False, memory_format: Any = None, **kwargs: Any) -> Tensor:
        check_memory_format(name, memory_format)
        target = backend.as_device(device, name) or input.device
        dtype = input.dtype if dtype is None else dtypes.as_dtype(dtype, name)
        return _finish(make(input.shape, dtype, **kwargs), requires_grad, target)

    like.__name__ = like.__qualname__ = name
    like.__doc__ = f"``{name}(t)``: a new tensor with ``t``'s shape and dtype (see ``{name[:-5]}``)."
    return like


zeros_like = _like("zeros_like", lambda shape, dtype: np.zeros(shape, dtype))
ones_like = _like("ones_like", lambda shape, dtype: np.ones(shape, dtype))
empty_like = _like("empty_like", lambda shape, dtype: np.empty(shape, dtype))
rand_like = _like("rand_like", lambda shape, dtype: get_rng().random(shape).astype(dtype))
randn_like = _like("randn_like", lambda shape, dtype: standard_normal(get_rng(), shape, dtype))


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """A tensor of ``input``'s shape (and dtype, unless given) filled with ``fill_value``.

    >>> import backprop as bp
    >>> bp.full_like(bp.zeros(2), 3).tolist()
    [3.0, 3.0]
    """
    check_memory_format("full_like", memory_format)
    target = backend.as_device(device, "full_like")
    dtype = input.dtype if dtype is None else dtypes.as_dtype(dtype, "full_like")
    array = _filled(input.shape, _number(fill_value, "full_like"), dtype, "full_like")
    return _finish(array, requires_grad, target or input.device)


def arange(start: float, end: float | None = None, step: float = 1, *, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` up to (not including) ``end``; int64 for integers, else float32.

    The values are PyTorch's: an integer dtype counts from ``start`` in steps of ``step``, both
    truncated toward zero (``arange(10, 0, -1.5, dtype=bp.int64)`` counts down by 1); a float
    dtype computes them as PyTorch's CPU kernel does (see ``_float_range``).

    >>> import backprop as bp
    >>> bp.arange(3).tolist(), bp.arange(0, 1, 0.5).tolist()
    ([0, 1, 2], [0.0, 0.5])
    """
    target = backend.as_device(device, "arange")
    if end is None:
        start, end = 0, start
    start, end, step = (_number(v, "arange") for v in (start, end, step))
    integral = all(isinstance(v, int) for v in (start, end, step))
    dtype = _dtype(dtype, "arange", dtypes.int64 if integral else None)
    if dtype.kind not in "iufV":
        raise TypeError(f"arange: dtype {dtype} is not supported; give an integer or float dtype")
    _check_range_bounds(start, end, step)
    if dtype.kind in "fV":
        size = _range_size(math.ceil((float(end) - float(start)) / float(step)))
        return _finish(_float_range(start, step, size, dtype), requires_grad, target)
    first, last, stride = (int(_filled((), v, dtypes.int64, "arange")) for v in (start, end, step))
    if dtype == dtypes.int64:  # counted in int64, exact beyond 2**53
        if stride == 0:
            raise ValueError(f"arange: step must be non-zero (it is {step}, 0 as an int64)")
        sign = 1 if stride > 0 else -1
        size = _range_size(_truncated_quotient(last - first + stride - sign, stride))
    else:
        size = _range_size(math.ceil((float(end) - float(start)) / float(step)))
    values = first + stride * np.arange(size, dtype=np.int64)  # wraps in dtype, as in PyTorch
    return _finish(values.astype(dtype), requires_grad, target)


def _check_range_bounds(start: Any, end: Any, step: Any) -> None:
    start, end, step = float(start), float(end), float(step)
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise ValueError(f"arange: unsupported range: {start} -> {end}")
    if not ((step > 0 and end >= start) or (step < 0 and end <= start)):
        raise ValueError(f"arange: the bounds {start} -> {end} are inconsistent with the sign of "
                         f"step {step}")


def _truncated_quotient(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded toward zero (C's integer division)."""
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient


def _range_size(size: int) -> int:
    if not 0 <= size < 2**63:
        raise ValueError(f"arange: invalid size {size}, possible overflow")
    return size


def _float_range(start: Any, step: Any, size: int, dtype: np.dtype) -> np.ndarray:
    """``arange``'s float values, to the bit as PyTorch's CPU kernel computes them on x86.

    The kernel works in float64 (float32 for float16) with fused multiply-adds. It fills
    32-byte vectors two at a time: each vector's first value is ``start + step * i`` in
    ``dtype``, and its others that value plus ``step * lane``; the values left over after the
    last pair are each ``start + step * i``.
    """
    if dtype in _EXACT_INTEGERS and _integral_range(start, step, size, _EXACT_INTEGERS[dtype]):
        return _integral_float_range(start, step, size, dtype)
    compute = np.float32 if dtype == dtypes.float16 else np.float64
    with np.errstate(over="ignore", invalid="ignore"):
        first, stride = compute(start), compute(step)
        lanes = 32 // dtype.itemsize
        index = np.arange(size)
        lane = np.where(index < size - size % (2 * lanes), index % lanes, 0)
        vector_start = _fma_index(stride, index - lane, size, first).astype(compute).astype(dtype)
        return _fma_index(stride, lane, lanes, vector_start).astype(compute).astype(dtype)


# The largest integer up to which every integer is exact in a float dtype (2 ** significand bits).
_EXACT_INTEGERS = {np.dtype(np.float32): 2**24, np.dtype(np.float64): 2**53}


def _integral_range(start: Any, step: Any, size: int, limit: int) -> bool:
    """Whether ``start`` and ``step`` are integers and ``|start| + |step| * (size - 1)`` is at
    most ``limit``: then every value and partial result of ``_float_range`` is an exact integer
    in the dtype, and the fused, vectorised arithmetic there adds nothing."""
    start, step = float(start), float(step)
    if not (start.is_integer() and step.is_integer()):
        return False
    return abs(start) + abs(step) * max(size - 1, 0) <= limit


def _integral_float_range(start: Any, step: Any, size: int, dtype: np.dtype) -> np.ndarray:
    """``start + step * i`` for an integral range (see ``_integral_range``), every operation
    exact in ``dtype``: one pass each, no float64 temporaries."""
    values = np.arange(size, dtype=dtype)
    if float(step) != 1:
        values *= dtype.type(step)
    # Always added, even 0: a zero start turns -0.0 (0 * a negative step) into 0.0 unless it is
    # -0.0 itself, as a fused multiply-add does.
    values += dtype.type(start)
    return values


def _exact_product(a: float, n: int) -> bool:
    """Whether ``a * i`` is exact in float64 for every integer ``|i| <= n``: ``a``'s significant
    bits plus ``n``'s fit in float64's 53."""
    if a == 0 or not math.isfinite(a):
        return a == 0
    mantissa = int(math.frexp(abs(a))[0] * 2**53)
    significant = 53 - ((mantissa & -mantissa).bit_length() - 1)
    return significant + int(n).bit_length() <= 53


def _fma_index(a: Any, b: np.ndarray, n: int, c: Any,
               out: np.ndarray | None = None) -> np.ndarray:
    """``_fma(a, b, c)`` for a scalar ``a`` and integers ``b`` of magnitude at most ``n``: where
    every product is exact, ``a * b + c`` rounds once already (two passes instead of a dozen).
    With ``out``, the float64 result is converted into it (as assigning it would)."""
    if _exact_product(float(a), n):
        with np.errstate(over="ignore", invalid="ignore"):
            product = np.multiply(b, np.float64(a))
            # The sum is computed in float64 and only then cast into out.
            return np.add(product, np.float64(c) if np.ndim(c) == 0 else c,
                          out=product if out is None else out, casting="unsafe")
    fused = _fma(a, b, c)
    if out is None:
        return fused
    out[...] = fused
    return out


def _fma(a: Any, b: Any, c: Any) -> np.ndarray:
    """``a * b + c`` in float64 rounded once, as a fused multiply-add (which PyTorch's compiled
    kernels use): the product's rounding error (Dekker's exact product) and the sum's (Knuth's
    two-sum) are added back before the last rounding."""
    a, b, c = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in (a, b, c)))
    with np.errstate(over="ignore", invalid="ignore"):
        product = a * b
        a_high, a_low = _split(a)
        b_high, b_low = _split(b)
        product_error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high
                         + a_low * b_low)
        total = product + c
        c_part = total - product
        sum_error = (product - (total - c_part)) + (c - c_part)
        errors = sum_error + product_error
        # An exact sum keeps its own sign: adding zero errors would turn -0.0 into 0.0.
        fused = np.where(errors == 0, total, total + errors)
    return np.where(np.isfinite(fused), fused, product + c)  # splitting overflows near 1e300


def _split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x`` as high + low halves of 26 significant bits each, whose products are exact."""
    scaled = 134217729.0 * x  # 2**27 + 1 (Veltkamp)
    high = scaled - (scaled - x)
    return high, x - high


def linspace(start: float | Tensor, end: float | Tensor, steps: int, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive; either bound may be a
    number or a 0-d tensor.

    The values are PyTorch's: start and end are converted to ``dtype``, the first half of the
    values counts up from ``start`` and the second down from ``end``, in ``dtype`` (in float64
    for an integer dtype, then truncated toward zero) with fused multiply-adds.

    >>> import backprop as bp
    >>> bp.linspace(0, 1, 3).tolist(), bp.linspace(0, 10, 4, dtype=bp.int64).tolist()
    ([0.0, 0.5, 1.0], [0, 3, 6, 10])
    >>> bp.linspace(bp.tensor(0.), bp.tensor(1.), 3).tolist()
    [0.0, 0.5, 1.0]
    """
    target, dtype, start, end = _spaced_args("linspace", start, end, steps, dtype, device)
    if steps <= 1:  # PyTorch fills with start, converted as a fill value (not at all for 0 steps)
        array = _filled((1,), start, dtype, "linspace") if steps else np.empty(0, dtype)
        return _finish(array, requires_grad, target)
    compute = np.float64 if dtype.kind in "iu" else dtype.type
    first, last = (compute(_filled((), v, dtype, "linspace")) for v in (start, end))
    # The first half counts up from first, the rest down from last (to 0 steps before it).
    half = steps // 2
    values = np.empty(steps, dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        step = (last - first) / compute(steps - 1)
        if compute in (np.float32, np.float64):  # float32 products are exact in float64
            # The down half is written backwards, so both count up from 0 (cached numbers).
            _fma_index(step, _counting(half), steps, first, out=values[:half])
            _fma_index(-step, _counting(steps - half), steps, last, out=values[half:][::-1])
        else:  # float16 arithmetic rounds each operation; complex has no fused form
            up_index, down_index = np.arange(half), np.arange(steps - 1 - half, -1, -1)
            values[:half] = first + step * up_index.astype(compute)
            values[half:] = last - step * down_index.astype(compute)
    return _finish(values, requires_grad, target)


def logspace(start: float | Tensor, end: float | Tensor, steps: int, base: float = 10.0, *,
             dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``steps`` values from ``base ** start`` to ``base ** end``, evenly spaced in the exponent
    (computed in float64 as PyTorch does, then converted to ``dtype``).

    >>> import backprop as bp
    >>> bp.logspace(0, 2, 3).tolist()
    [1.0, 10.0, 100.0]
    """
    target, dtype, start, end = _spaced_args("logspace", start, end, steps, dtype, device)
    if dtype.kind == "c":
        powers = np.power(dtype.type(base), linspace(start, end, steps, dtype=dtype)._data)
        return _finish(powers, requires_grad, target)
    if steps <= 1:  # PyTorch fills with base ** start, start not converted to dtype first
        with np.errstate(invalid="ignore"):
            power = np.power(np.float64(base), np.float64(start)).item()
        array = _filled((1,), power, dtype, "logspace") if steps else np.empty(0, dtype)
        return _finish(array, requires_grad, target)
    first, last = (_filled((), v, dtype, "logspace")[()] for v in (start, end))
    # PyTorch subtracts in dtype, in C: floats round, small integers promote to int
    step = float(last - first if dtype.kind in "fV" else last.item() - first.item()) / (steps - 1)
    index = np.arange(steps)
    exponents = np.where(index < steps // 2, float(first) + step * index,
                         float(last) - step * (steps - 1 - index))
    with np.errstate(over="ignore", invalid="ignore"):  # C's conversions, as PyTorch's
        powers = np.power(np.float64(base), exponents).astype(dtype)
    return _finish(powers, requires_grad, target)


def _spaced_args(op: str, start: Any, end: Any, steps: int, dtype: Any,
                 device: Any) -> tuple[Any, np.dtype, Any, Any]:
    """linspace's and logspace's device, dtype and bounds (numbers or 0-d tensors, as numbers),
    checked."""
    target = backend.as_device(device, op)
    if steps < 0:
        raise ValueError(f"{op}: steps must be non-negative, got {steps}")
    return target, _dtype(dtype, op), _bound(op, "start", start), _bound(op, "end", end)


def _bound(op: str, name: str, value: Any) -> Any:
    """A range bound, a number or a 0-d tensor (PyTorch refuses tensors with dimensions), as a
    Python number."""
    if isinstance(value, Tensor) and value.ndim:
        raise ShapeError(f"{op}: {name} must be a number or a 0-d tensor, got a tensor of shape "
                         f"{format_shape(value.shape)}")
    return _number(value, op)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The ``n`` x ``m`` identity matrix.

    >>> import backprop as bp
    >>> bp.eye(2).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    target = backend.as_device(device, "eye")
    return _finish(np.eye(n, m, dtype=_dtype(dtype, "eye")), requires_grad, target)


def rand(*size: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples from [0, 1).

    >>> import backprop as bp
    >>> bool(((bp.rand(100) >= 0) & (bp.rand(100) < 1)).all())
    True
    """
    target = backend.as_device(device, "rand")
    array = get_rng(generator).random(_size(size, "rand"))
    return _finish(array.astype(_dtype(dtype, "rand")), requires_grad, target)


def randn(*size: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples.

    >>> import backprop as bp
    >>> bp.randn(2, 3).shape
    (2, 3)
    """
    target = backend.as_device(device, "randn")
    array = standard_normal(get_rng(generator), _size(size, "randn"), _dtype(dtype, "randn"))
    return _finish(array, requires_grad, target)


def randint(low: int, high: int | None = None, size: Sequence[int] = (), *,
            generator: Generator | None = None, dtype: Any = None, device: Any = None) -> Tensor:
    """Integers drawn uniformly from [low, high); ``randint(high, size)`` as in PyTorch.

    >>> import backprop as bp
    >>> bool((bp.randint(0, 3, (50,)) < 3).all())
    True
    """
    target = backend.as_device(device, "randint")
    if high is None:
        low, high = 0, low
    elif isinstance(high, (tuple, list)):  # randint(high, size), PyTorch's short form
        low, high, size = 0, low, high
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    array = get_rng(generator).integers(low, high, size=_size((size,), "randint"))
    return _finish(array.astype(_dtype(dtype, "randint", dtypes.int64)), False, target)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, dtype: Any = None,
                 device: Any = None, requires_grad: bool = False,
                 memory_format: Any = None) -> Tensor:
    """Integers from ``[low, high)`` in ``input``'s shape (and dtype, unless given);
    ``randint_like(t, high)`` means ``low = 0``, as in PyTorch.

    >>> import backprop as bp
    >>> t = bp.randint_like(bp.zeros(50), 3)
    >>> t.dtype, bool(((t >= 0) & (t < 3)).all())
    (dtype('float32'), True)
    """
    check_memory_format("randint_like", memory_format)
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint_like: high ({high}) must be greater than low ({low})")
    target = backend.as_device(device, "randint_like") or input.device
    dtype = input.dtype if dtype is None else dtypes.as_dtype(dtype, "randint_like")
    array = get_rng().integers(low, high, size=input.shape).astype(dtype)
    return _finish(array, requires_grad, target)


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = None,
             device: Any = None) -> Tensor:
    """A random permutation of ``0..n-1``.

    >>> import backprop as bp
    >>> sorted(bp.randperm(4).tolist())
    [0, 1, 2, 3]
    """
    target = backend.as_device(device, "randperm")
    array = get_rng(generator).permutation(n).astype(_dtype(dtype, "randperm", dtypes.int64))
    return _finish(array, False, target)


# -- Tensor.new_*: factories that default to the tensor's dtype and device (issue 17) ------------

def _new(factory: Any, self: Any, dtype: Any, device: Any) -> Any:
    """``factory`` with the dtype and device defaulting to ``self``'s."""
    return functools.partial(factory, dtype=self.dtype if dtype is None else dtype,
                             device=self.device if device is None else device)


def new_zeros(self: Any, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """``zeros`` with ``self``'s dtype and device unless given (``Tensor.new_zeros``).

    >>> import backprop as bp
    >>> bp.zeros(1, dtype=bp.float64).new_zeros(2, 3).dtype
    dtype('float64')
    """
    return _new(zeros, self, dtype, device)(*size, requires_grad=requires_grad)


def new_ones(self: Any, *size: Any, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``ones`` with ``self``'s dtype and device unless given (``Tensor.new_ones``).

    >>> import backprop as bp
    >>> bp.tensor([1, 2]).new_ones(2).tolist()
    [1, 1]
    """
    return _new(ones, self, dtype, device)(*size, requires_grad=requires_grad)


def new_empty(self: Any, *size: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """``empty`` with ``self``'s dtype and device unless given (``Tensor.new_empty``).

    >>> import backprop as bp
    >>> bp.zeros(1).new_empty((2, 2)).shape
    (2, 2)
    """
    return _new(empty, self, dtype, device)(*size, requires_grad=requires_grad)


def new_full(self: Any, size: Sequence[int], fill_value: Any, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """``full`` with ``self``'s dtype (not the value's) and device unless given
    (``Tensor.new_full``).

    >>> import backprop as bp
    >>> bp.zeros(1).new_full((2,), 3).tolist()
    [3.0, 3.0]
    """
    return _new(full, self, dtype, device)(size, fill_value, requires_grad=requires_grad)


def new_tensor(self: Any, data: Any, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """``tensor(data)`` with ``self``'s dtype and device unless given (``Tensor.new_tensor``).

    >>> import backprop as bp
    >>> bp.zeros(1, dtype=bp.float64).new_tensor([1, 2]).dtype
    dtype('float64')
    """
    return _new(tensor, self, dtype, device)(data, requires_grad=requires_grad)


# -- tril_indices, triu_indices (issue 17) -------------------------------------------------------

def _triangle_indices(op: str, lower: bool, row: int, col: int, offset: int, dtype: Any,
                      device: Any) -> Tensor:
    if row < 0 or col < 0:
        raise ValueError(f"{op}: row and col must be non-negative, got {row} and {col}")
    dtype = dtypes.as_dtype(dtype, op)
    if dtype not in (np.dtype(np.int64), np.dtype(np.int32)):
        raise TypeError(f"{op}: dtype must be int64 or int32, got {dtype}")
    # Row by row, as PyTorch lists them: row r holds the columns begin[r] to end[r] - 1 (the
    # diagonal r + offset inclusive). Built from the per-row counts, without an (row, col) mask.
    offset = min(max(offset, -row - 1), col + 1)  # the same triangles, no int64 overflow
    rows = np.arange(row, dtype=np.int64)
    diagonal = np.clip(rows + offset, -1, col)
    begin = np.zeros(row, np.int64) if lower else np.maximum(diagonal, 0)
    end = np.clip(diagonal + 1, 0, col) if lower else np.full(row, col, np.int64)
    counts = np.maximum(end - begin, 0)
    total = int(counts.sum())
    pairs = np.empty((2, total), dtype)
    if total >= numba_backend.min_size:  # one pass in Numba where it is on
        kernels = numba_backend.kernel_module(f"{__package__}.backends._numba_triangle")
        if kernels is not None and numba_backend._run(kernels.triangle_indices, pairs, begin,
                                                       end):
            return _finish(pairs, False, backend.as_device(device, op))
    pairs[0] = np.repeat(rows, counts)
    # Entry j of row r (whose entries start at position first[r]) is column begin[r] + j - first[r]:
    # a gather from the per-row shifts plus the counting numbers (fresh large temporaries cost
    # more than the arithmetic here, in page faults).
    first = np.cumsum(counts) - counts
    np.take((begin - first).astype(dtype), pairs[0], out=pairs[1], mode="clip")  # unbuffered
    np.add(pairs[1], _counting(total), out=pairs[1])
    return _finish(pairs, False, backend.as_device(device, op))


_COUNTING: list[np.ndarray] = [np.arange(0)]


def _counting(n: int) -> np.ndarray:
    """``arange(n)`` (int64, read-only), kept between calls up to 2**22 elements (32 MiB)."""
    if n > len(_COUNTING[0]):
        if n > 2**22:
            return np.arange(n)
        _COUNTING[0] = np.arange(max(n, 2 * len(_COUNTING[0])))
        _COUNTING[0].flags.writeable = False
    return _COUNTING[0][:n]


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = dtypes.int64,
                 device: Any = None, layout: Any = None) -> Tensor:
    """The (2, N) row and column indices of the lower triangle of a ``row`` x ``col`` matrix
    (``offset`` shifts the diagonal up).

    >>> import backprop as bp
    >>> bp.tril_indices(2, 2).tolist()
    [[0, 1, 1], [0, 0, 1]]
    """
    return _triangle_indices("tril_indices", True, row, col, offset, dtype, device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = dtypes.int64,
                 device: Any = None, layout: Any = None) -> Tensor:
    """The (2, N) row and column indices of the upper triangle of a ``row`` x ``col`` matrix
    (``offset`` shifts the diagonal up).

    >>> import backprop as bp
    >>> bp.triu_indices(2, 2).tolist()
    [[0, 0, 1], [0, 1, 1]]
    """
    return _triangle_indices("triu_indices", False, row, col, offset, dtype, device)
