"""Entry points to the Numba kernels of reductions and scans over float32 arrays
(``_numba_reductions``): sums (plain, skipping NaN, of squares) over trailing axes (``row_sums``)
or over leading and middle ones (``column_sums``), products over trailing axes, the running
trapezoid and the forward difference along the last axis, running sums and products along rows
or columns (cumsum, its VJP, cumprod) and running extremes with their indices along rows
(cummax, cummin). Switched by
``bp.backends.numba.enabled`` like the others: each returns None where it does not apply (Numba
absent or off, another dtype or layout, fewer than ``MIN_SIZE`` elements), and the caller runs
its NumPy code.

>>> import numpy as np
>>> x = np.ones((4, 1000), np.float32)
>>> out = row_sums(x, (1,), False, SUM)
>>> out is None or out.tolist() == [1000.0] * 4
True
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import numpy as np

from . import numba as _switch

SUM, NANSUM, SQUARES = 0, 1, 2  # as ``_numba_reductions`` numbers them

_F32 = np.dtype(np.float32)

# Below this many elements NumPy's own sum costs less than a kernel call.
MIN_SIZE = 2048


def _load() -> ModuleType | None:
    return _switch.kernel_module(f"{__package__}._numba_reductions")


def _rows(x: Any, axes: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """The dims kept when ``x`` is reduced over ``axes`` (None: all) if the kernels can take it:
    a C-contiguous float32 NumPy array of ``MIN_SIZE`` elements or more, reduced over its
    trailing axes (each result then reduces one contiguous row); else None."""
    if (type(x) is not np.ndarray or x.dtype != _F32 or x.size < MIN_SIZE
            or not x.flags.c_contiguous):
        return None
    ndim = x.ndim
    if axes is None or len(axes) == ndim:
        return ()
    if axes == tuple(range(ndim - len(axes), ndim)):
        return x.shape[:ndim - len(axes)]
    return None


def _reduce_rows(kernel_name: str, x: Any, axes: tuple[int, ...] | None, keepdim: bool,
                 *args: Any) -> Any:
    lead = _rows(x, axes)
    if lead is None:
        return None
    kernels = _load()
    if kernels is None or not x.flags.writeable:  # read-only: one more compiled version
        return None
    rows = math.prod(lead)
    out = np.empty(rows, _F32)
    if not _switch._run(getattr(kernels, kernel_name), x.reshape(rows, -1), out, *args):
        return None
    if keepdim:
        return out.reshape(lead + (1,) * (x.ndim - len(lead)))
    return out.reshape(lead)


def row_products(x: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    """The product of ``x`` over ``axes`` (None: all) in float32 lanes, or None where the
    kernel does not apply (as ``row_sums``)."""
    return _reduce_rows("row_products", x, axes, keepdim)


# Columns narrower than this are left to NumPy (a kernel's vector lanes run along them).
MIN_WIDTH = 64


def _columns(x: Any, axes: tuple[int, ...]) -> tuple[int, int, int] | None:
    """``(outer, reduced, width)`` when ``axes`` are neighbouring dims of a C-contiguous float32
    NumPy array of ``MIN_SIZE`` elements or more, followed by dims of ``MIN_WIDTH`` elements or
    more: the array is then (outer, reduced, width) in memory, summed over its middle dim."""
    if (type(x) is not np.ndarray or x.dtype != _F32 or x.size < MIN_SIZE
            or not x.flags.c_contiguous or axes != tuple(range(axes[0], axes[-1] + 1))):
        return None
    shape = x.shape
    width = math.prod(shape[axes[-1] + 1:])
    if width < MIN_WIDTH:
        return None
    return math.prod(shape[:axes[0]]), math.prod(shape[axes[0]:axes[-1] + 1]), width


def column_sums(x: Any, axes: tuple[int, ...] | None, keepdim: bool, kind: int) -> Any:
    """``row_sums`` over leading or middle ``axes`` (the kept dims after them contiguous):
    ``(outer, reduced, width)`` in memory, summed over the middle; None where the kernel does
    not apply."""
    if axes is None or not axes:
        return None
    layout = _columns(x, axes)
    if layout is None:
        return None
    kernels = _load()
    if kernels is None or not x.flags.writeable:
        return None
    outer, _, width = layout
    out = np.empty((outer, width), _F32)
    if not _switch._run(kernels.column_sums, x.reshape(layout), out, kind):
        return None
    return out.reshape(tuple(1 if d in axes else n for d, n in enumerate(x.shape)) if keepdim
                       else tuple(n for d, n in enumerate(x.shape) if d not in axes))


def sums(x: Any, axes: tuple[int, ...] | None, keepdim: bool, kind: int) -> Any:
    """``row_sums`` where the reduced axes are the trailing ones, else ``column_sums``; None
    where neither applies."""
    out = row_sums(x, axes, keepdim, kind)
    return column_sums(x, axes, keepdim, kind) if out is None else out


def row_sums(x: Any, axes: tuple[int, ...] | None, keepdim: bool, kind: int) -> Any:
    """The sum of ``x`` over ``axes`` (None: all) of its elements (``SUM``), of those that are
    not NaN (``NANSUM``) or of their squares (``SQUARES``), as float32; None where the kernel
    does not apply: ``x`` must be a C-contiguous float32 NumPy array of ``MIN_SIZE`` elements or
    more and ``axes`` its trailing axes (the rows it sums are then contiguous)."""
    return _reduce_rows("row_sums", x, axes, keepdim, kind)


def running_trapezoid(y: Any, axis: int, half: float) -> Any:
    """``cumsum((y[1:] + y[:-1]) * half)`` along the last ``axis`` of a C-contiguous float32
    NumPy array, the terms in float32 and their running sums in float64 as NumPy's path; None
    where the kernel does not apply."""
    if (type(y) is not np.ndarray or y.dtype != _F32 or y.size < MIN_SIZE
            or axis != y.ndim - 1 or not y.flags.c_contiguous or y.shape[-1] < 2):
        return None
    kernels = _load()
    if kernels is None or not y.flags.writeable:
        return None
    n = y.shape[-1]
    out = np.empty(y.shape[:-1] + (n - 1,), _F32)
    if not _switch._run(kernels.running_trapezoid, y.reshape(-1, n), np.float32(half),
                        out.reshape(-1, n - 1)):
        return None
    return out


_FLOATS = (_F32, np.dtype(np.float64))


def forward_difference(x: Any, axis: int) -> Any:
    """``x[..., 1:] - x[..., :-1]`` along the last ``axis`` of a C-contiguous float32 or float64
    NumPy array (the same subtractions), or None where the kernel does not apply."""
    if (type(x) is not np.ndarray or x.dtype not in _FLOATS or x.size < MIN_SIZE
            or axis != x.ndim - 1 or not x.flags.c_contiguous or x.shape[-1] < 2):
        return None
    kernels = _load()
    if kernels is None or not x.flags.writeable:
        return None
    n = x.shape[-1]
    out = np.empty(x.shape[:-1] + (n - 1,), x.dtype)
    if not _switch._run(kernels.forward_difference, x.reshape(-1, n), out.reshape(-1, n - 1)):
        return None
    return out


def products_of_others(x: Any, axis: int) -> Any:
    """``out[i]`` = the product of the others along the last ``axis`` of a C-contiguous float32
    or float64 NumPy array (``prod``'s gradient), rounded as the NumPy path's running products;
    None where the kernel does not apply."""
    if (type(x) is not np.ndarray or x.dtype not in _FLOATS or x.size < MIN_SIZE
            or axis != x.ndim - 1 or not x.flags.c_contiguous):
        return None
    kernels = _load()
    if kernels is None or not x.flags.writeable:
        return None
    n = x.shape[-1]
    out = np.empty_like(x)
    if not _switch._run(kernels.products_of_others, x.reshape(-1, n), out.reshape(-1, n)):
        return None
    return out


def _last_axis_rows(x: Any, axis: int) -> bool:
    """Whether a scan along ``axis`` can run on the row kernels: a C-contiguous float32 or
    float64 NumPy array of ``MIN_SIZE`` elements or more, scanned along its last axis."""
    return (type(x) is np.ndarray and x.dtype in _FLOATS and x.size >= MIN_SIZE
            and x.ndim >= 1 and axis % x.ndim == x.ndim - 1 and x.flags.c_contiguous
            and x.shape[-1] > 0)


def running_sums(x: Any, axis: int, reverse: bool, product: bool = False) -> Any:
    """``cumsum`` (or ``cumprod`` when ``product``) along ``axis`` (from the end when
    ``reverse``: cumsum's VJP), float32 accumulated in float64 as NumPy's path, to the bit;
    None where no kernel applies: a C-contiguous float32 or float64 NumPy array of
    ``MIN_SIZE`` elements or more, scanned along its last axis (rows) or along one whose
    following dims hold ``MIN_WIDTH`` elements or more (columns)."""
    if (type(x) is not np.ndarray or x.dtype not in _FLOATS or x.size < MIN_SIZE
            or x.ndim < 1 or not x.flags.c_contiguous):
        return None
    axis %= x.ndim
    n = x.shape[axis]
    width = math.prod(x.shape[axis + 1:])
    if width != 1 and width < MIN_WIDTH:
        return None
    kernels = _load()
    if kernels is None or not x.flags.writeable:
        return None
    out = np.empty_like(x)
    if width == 1:
        kernel, layout = kernels.running_sums, (-1, n)
    else:
        kernel, layout = kernels.column_running_sums, (-1, n, width)
    if not _switch._run(kernel, x.reshape(layout), out.reshape(layout), bool(reverse),
                        bool(product)):
        return None
    return out


def running_extremes(x: Any, axis: int, largest: bool) -> tuple[Any, Any] | None:
    """``(values, indices)`` of cummax (``largest``) or cummin along the last ``axis``, in one
    pass; None where the kernel does not apply (see ``_last_axis_rows``)."""
    if not _last_axis_rows(x, axis):
        return None
    kernels = _load()
    if kernels is None or not x.flags.writeable:
        return None
    n = x.shape[-1]
    values = np.empty_like(x)
    indices = np.empty(x.shape, np.int64)
    if not _switch._run(kernels.running_extremes, x.reshape(-1, n), values.reshape(-1, n),
                        indices.reshape(-1, n), bool(largest)):
        return None
    return values, indices
