"""Entry points to the indexing kernels (``_numba_indexing``), switched by
``bp.backends.numba.enabled`` like the others: each takes NumPy arrays of one float dtype
(float32 or float64) with int64 indices, and returns None where it does not apply (Numba absent
or off, another array type, dtype or layout, fewer than ``numba.min_size`` elements, an index
out of range); the caller then runs its NumPy code, which gives the same numbers (or raises).

>>> import numpy as np
>>> out = flip_last(np.arange(600.).reshape(2, 300))
>>> out is None or float(out[0, 0]) == 299.0
True
"""

from __future__ import annotations

import collections
import math
from types import ModuleType
from typing import Any

import numpy as np

from . import numba as _switch

__all__ = ["flip_last", "gather", "index_combine", "negated_picks", "prelu", "scatter_add"]

_FLOATS = _switch._FLOATS
_I64 = np.dtype(np.int64)

#: Calls that ran a kernel, by name: tests read it to know the fast path ran.
calls: collections.defaultdict[str, int] = collections.defaultdict(int)


_MODULE = f"{__package__}._numba_indexing"
_loaded: ModuleType | None = None


def _load() -> ModuleType | None:
    # Kept once imported: these ops take 1-10 us, of which the switch's lookup would be a tenth
    # (callers test ``enabled`` themselves).
    global _loaded
    if _loaded is None:
        _loaded = _switch.kernel_module(_MODULE)
    return _loaded


def _usable(array: Any, dtypes: tuple[np.dtype, ...]) -> bool:
    # C-contiguous writeable arrays only: each other layout (or a read-only array) would make
    # Numba compile one more version of the kernel, which takes seconds.
    if type(array) is not np.ndarray or array.dtype not in dtypes:
        return False
    flags = array.flags
    return flags.c_contiguous and flags.writeable


def _ran(name: str, kernel: Any, *args: Any) -> int | None:
    """The kernel's status (0: done), or None where Numba could not compile it."""
    try:
        status = kernel(*args)
    except Exception:  # noqa: BLE001 - compiling failed: the switch's handling (warns, turns off)
        _switch._run(kernel, *args)
        return None  # the status is unknown: the caller's NumPy code runs
    calls[name] += 1
    return status


def flip_last(a: Any) -> np.ndarray | None:
    """``a`` with its last axis reversed, as a new C-contiguous array, for a matrix (or a
    C-contiguous array of more dims read as one), or None."""
    if (type(a) is not np.ndarray or a.ndim < 1 or a.size < _switch.min_size
            or a.dtype not in _FLOATS or not _switch.enabled):
        return None
    shape = a.shape
    if a.ndim != 2:
        if not (a.flags.c_contiguous and a.flags.writeable):
            return None
        a = a.reshape(-1, shape[-1])
    elif a.strides[1] != a.itemsize or not a.flags.writeable:
        return None  # rows may run either way (flip of dims 0 and 1), not their elements
    module = _load()
    if module is None:
        return None
    out = np.empty(a.shape, a.dtype)
    return out.reshape(shape) if _ran("flip_last", module.flip_last, a, out) == 0 else None


def _along(input: Any, index: Any, dim: int, src: Any = None) -> ModuleType | None:
    """The kernels' module when ``index`` (int64) has ``input``'s (and ``src``'s) size in
    every dim but ``dim``, all C-contiguous, ``input`` and ``src`` of one float dtype."""
    if (not _switch.enabled or index.size < _switch.min_size or not _usable(input, _FLOATS)
            or not _usable(index, (_I64,)) or index.ndim != input.ndim):
        return None
    shape, wanted = input.shape, index.shape
    if shape[:dim] != wanted[:dim] or shape[dim + 1:] != wanted[dim + 1:]:
        return None
    if src is not None and (not _usable(src, (input.dtype,)) or src.shape != wanted):
        return None
    return _load()


def _three(shape: tuple[int, ...], dim: int) -> tuple[int, int, int]:
    """``shape`` as (before ``dim``, along it, after it)."""
    if len(shape) == 2:  # the common case, without math.prod's calls
        return (1, shape[0], shape[1]) if dim == 0 else (shape[0], shape[1], 1)
    return math.prod(shape[:dim]), shape[dim], math.prod(shape[dim + 1:])


def gather(input: Any, dim: int, index: Any) -> np.ndarray | None:
    """``input`` read at ``index`` along ``dim`` (``torch.gather``) where the index has the
    input's size in every other dim, or None (also for an index out of range: the caller's
    checks word the error)."""
    module = _along(input, index, dim)
    if module is None:
        return None
    out = np.empty(index.shape, input.dtype)
    three = _three(index.shape, dim)
    status = _ran("gather", module.gather, input.reshape(_three(input.shape, dim)),
                  index.reshape(three), out.reshape(three))
    return out if status == 0 else None


def scatter_add(input: Any, dim: int, index: Any, src: Any) -> np.ndarray | None:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim``
    (``torch.scatter_add``) where index and src have the input's size in every other dim, or
    None (also for an index out of range)."""
    module = _along(input, index, dim, src)
    if module is None:
        return None
    out = input.copy()
    three = _three(index.shape, dim)
    status = _ran("scatter_add", module.scatter_add, out.reshape(_three(out.shape, dim)),
                  index.reshape(three), src.reshape(three))
    return out if status == 0 else None


def negated_picks(input: Any, classes: Any) -> np.ndarray | None:
    """``-input[i, classes[i]]`` for each row ``i`` of a matrix (``nll_loss``'s terms), or None
    (also for a class out of range)."""
    if (not _switch.enabled or input.ndim != 2 or not _usable(input, _FLOATS)
            or not _usable(classes, (_I64,)) or classes.shape != input.shape[:1]):
        return None
    module = _load()
    if module is None:
        return None
    out = np.empty(classes.shape, input.dtype)
    return out if _ran("negated_picks", module.negated_picks, input, classes, out) == 0 else None


def index_combine(out: Any, dim: int, index: Any, source: Any, multiply: bool) -> bool:
    """Multiply (add) each slice of ``source`` along ``dim`` into ``out``'s slice at
    ``index`` in place, in order (``index_reduce``'s 'prod', or its 'mean' before dividing);
    False, ``out`` untouched, where the kernel does not apply."""
    if (not _switch.enabled or source.size < _switch.min_size or not _usable(out, _FLOATS)
            or not _usable(index, (_I64,)) or index.ndim != 1 or source.ndim != out.ndim
            or not _usable(source, (out.dtype,))):
        return False
    shape, given = out.shape, source.shape
    if shape[:dim] != given[:dim] or shape[dim + 1:] != given[dim + 1:]:
        return False
    if given[dim] != index.shape[0] or int(np.maximum.reduce(index.view(np.uint64), None)) >= shape[dim]:
        return False  # a bad index would leave out half written
    module = _load()
    if module is None:
        return False
    return _ran("index_combine", module.index_combine, out.reshape(_three(shape, dim)), index,
                source.reshape(_three(given, dim)), multiply) == 0


def prelu(input: Any, weight: Any) -> np.ndarray | None:
    """``input > 0 ? input : weight * input`` with one slope (a 1-element ``weight``) or one per
    channel (``weight`` of shape (C, 1, ..., 1) for an input (N, C, ...)), or None."""
    if (not _switch.enabled or not _usable(input, _FLOATS) or input.size < _switch.min_size
            or not _usable(weight, (input.dtype,))):
        return None
    shape = input.shape
    if weight.size == 1 and weight.ndim <= input.ndim:
        three = (1, 1, input.size)
    elif input.ndim >= 2 and weight.shape == (shape[1],) + (1,) * (input.ndim - 2):
        three = (shape[0], shape[1], math.prod(shape[2:]))
    else:
        return None
    module = _load()
    if module is None:
        return None
    out = np.empty(shape, input.dtype)
    status = _ran("prelu", module.prelu, input.reshape(three), weight.reshape(-1),
                  out.reshape(three))
    return out if status == 0 else None
