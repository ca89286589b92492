"""Tensor factories: ``tensor``, ``zeros``, ``arange``, ``randn`` and friends."""

from __future__ import annotations

import operator
from typing import Any, Sequence

import numpy as np

from . import dtypes
from . import backend
from .errors import ShapeError, format_shape
from .layout import check_memory_format
from .random import Generator, get_rng
from .tensor import Tensor


def _native(array: np.ndarray, op: str) -> np.ndarray:
    """``array`` in the machine's byte order, refusing dtypes that are not numbers."""
    if array.dtype.kind not in "biufc":
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

    Python floats become ``float32`` (the default); NumPy arrays keep their dtype.

    >>> import backprop as bp
    >>> bp.tensor([[1, 2], [3, 4]]).dtype, bp.tensor([0.5]).dtype
    (dtype('int64'), dtype('float32'))
    """
    target = backend.as_device(device, "tensor")
    if isinstance(data, Tensor):
        array = data._data.copy()
    elif type(data) is np.ndarray or isinstance(data, np.generic):
        array = _native(np.array(data), "tensor")
    elif isinstance(data, backend.ARRAY_TYPES) or backend.device_of(data).type != "cpu":
        array = data.copy()
    else:
        array = _from_python(data)
    if dtype is not None:
        array = array.astype(dtypes.as_dtype(dtype, "tensor"), copy=False)
    return _finish(array, requires_grad, target)


def _from_python(data: Any) -> np.ndarray:
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
        data = [d._data if isinstance(d, Tensor) else d for d in data]
    try:
        array = np.array(data)
    except ValueError as err:
        raise ShapeError(f"tensor: the nested sequence is ragged (sub-lists of different "
                         f"lengths) and cannot become a tensor: {err}") from None
    if array.dtype == object:
        _check_int_range(array)
    if array.dtype == object or array.dtype.kind in "US":
        raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__} values of "
                        f"type {array.dtype}; give numbers, booleans or arrays")
    if array.dtype == np.float64:
        array = array.astype(dtypes.DEFAULT_FLOAT)
    elif array.dtype == np.complex128:
        array = array.astype(np.complex64)
    return array


def _check_int_range(array: np.ndarray) -> None:
    """NumPy turns integers beyond 64 bits into Python objects: name the value instead."""
    for value in array.reshape(-1):
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise OverflowError(f"tensor: the integer {value} does not fit in int64 (which holds "
                                "-2**63 to 2**63 - 1)")


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or tensor when no conversion is needed.

    >>> import numpy as np, backprop as bp
    >>> a = np.zeros(3); t = bp.as_tensor(a); a[0] = 1; t[0].item()
    1.0
    """
    target = backend.as_device(device, "as_tensor")
    if isinstance(data, Tensor):
        return data.to(*(a for a in (dtype, target) if a is not None))
    if isinstance(data, np.ndarray):
        data = _native(data, "as_tensor")  # shares memory unless the byte order must change
    if isinstance(data, backend.ARRAY_TYPES) or backend.device_of(data).type != "cpu":
        array = data if dtype is None else data.astype(dtypes.as_dtype(dtype, "as_tensor"),
                                                       copy=False)
        return _finish(array, False, target)
    return tensor(data, dtype=dtype, device=target)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (same dtype).

    >>> import numpy as np, backprop as bp
    >>> bp.from_numpy(np.arange(3)).tolist()
    [0, 1, 2]
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    if array.dtype.kind in "biufc" and not array.dtype.isnative:
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


def _dtype(dtype: Any, op: str, default: np.dtype = dtypes.DEFAULT_FLOAT) -> np.dtype:
    return default if dtype is None else dtypes.as_dtype(dtype, op)


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


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (its values are whatever the memory held).

    >>> import backprop as bp
    >>> bp.empty(3).shape
    (3,)
    """
    target = backend.as_device(device, "empty")
    return _finish(np.empty(_size(size, "empty"), _dtype(dtype, "empty")), requires_grad, target)


def full(size: Sequence[int], fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; the dtype follows the value as in PyTorch.

    >>> import backprop as bp
    >>> bp.full((2,), 7).tolist(), bp.full((1,), 0.5).dtype
    ([7, 7], dtype('float32'))
    """
    target = backend.as_device(device, "full")
    if dtype is None:
        dtype = _from_python(fill_value).dtype
    return _finish(np.full(_size((size,), "full"), fill_value, dtypes.as_dtype(dtype, "full")),
                   requires_grad, target)


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
randn_like = _like("randn_like", lambda shape, dtype: get_rng().standard_normal(shape).astype(dtype))


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
    return _finish(np.full(input.shape, fill_value, dtype), requires_grad, target or input.device)


def arange(start: float, end: float | None = None, step: float = 1, *, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` up to (not including) ``end``; int64 for integers, else float32.

    >>> import backprop as bp
    >>> bp.arange(3).tolist(), bp.arange(0, 1, 0.5).tolist()
    ([0, 1, 2], [0.0, 0.5])
    """
    target = backend.as_device(device, "arange")
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    integral = all(isinstance(v, (int, np.integer)) for v in values)
    default = dtypes.int64 if integral else dtypes.DEFAULT_FLOAT
    array = np.arange(*values, dtype=np.int64 if integral else np.float64)
    return _finish(array.astype(_dtype(dtype, "arange", default)), requires_grad, target)


def linspace(start: float | Tensor, end: float | Tensor, steps: int, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive; either bound may be a
    number or a 0-d tensor.

    >>> import backprop as bp
    >>> bp.linspace(0, 1, 3).tolist(), bp.linspace(bp.tensor(0.), bp.tensor(1.), 3).tolist()
    ([0.0, 0.5, 1.0], [0.0, 0.5, 1.0])
    """
    target = backend.as_device(device, "linspace")
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    start, end = _bound("linspace", "start", start), _bound("linspace", "end", end)
    return _finish(np.linspace(start, end, steps).astype(_dtype(dtype, "linspace")), requires_grad,
                   target)


def _bound(op: str, name: str, value: Any) -> Any:
    """A range bound given as a number or a 0-d tensor (PyTorch takes both), as a number."""
    if not isinstance(value, Tensor):
        return value
    if value.ndim:
        raise ShapeError(f"{op}: {name} must be a number or a 0-d tensor, got a tensor of shape "
                         f"{format_shape(value.shape)}")
    return value.item()


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
    array = get_rng(generator).standard_normal(_size(size, "randn"))
    return _finish(array.astype(_dtype(dtype, "randn")), requires_grad, target)


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
