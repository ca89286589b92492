"""Numba kernels for float32 reductions (issue 17): the sums of ``sum``, ``mean``, ``nansum`` and
the 2-norm (over rows, and down columns), ``prod`` over rows, and scans: along rows
(``cumulative_trapezoid``'s running sum, ``diff``, cummax/cummin) and along rows or columns
(cumsum and cumprod, in float64 and in order, as NumPy's). Imported by ``backends.numba_reductions`` on
first use only (importing this module imports Numba); a file of its own because Numba's disk
cache notices changes to a kernel's own file only.

NumPy's float32 sum is pairwise but adds one element at a time within its blocks (four times
PyTorch's time); these add blocks of ``_BLOCK`` elements in float32 vector lanes and the blocks'
sums in float64. ``reassoc`` lets LLVM split a block's sum over its vector lanes (each lane then
adds a few elements, a tree joins the lanes), so a block's rounding error is that of a short
cascade; the float64 total adds nothing measurable. Only reassociation is allowed: no
assumptions about NaN or infinity, no fused multiply-adds (x * x is rounded as NumPy rounds it).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_OPTIONS = {"fastmath": {"reassoc"}, "error_model": "numpy", "cache": True, "nogil": True}

# Elements summed in float32 before they join the float64 total: a multiple of every vector
# width LLVM picks (16 float32 lanes, unrolled four times), and short enough that even a
# sequential float32 sum of one block would lose no more than NumPy's pairwise blocks do.
_BLOCK = 256

# What each row sums, by number (``numba_reductions`` passes them).
SUM, NANSUM, SQUARES = 0, 1, 2


@njit(**_OPTIONS)
def row_sums(x, out, kind):
    """``out[a]`` = the sum over row ``a`` of ``x`` (2-d, C-contiguous float32) of its elements
    (``SUM``), of those that are not NaN (``NANSUM``) or of their squares (``SQUARES``)."""
    rows, n = x.shape
    whole = n - n % _BLOCK
    for a in range(rows):
        row = x[a]
        total = 0.0
        for start in range(0, whole, _BLOCK):
            block = np.float32(0.0)
            if kind == SUM:
                for k in range(start, start + _BLOCK):
                    block += row[k]
            elif kind == NANSUM:
                for k in range(start, start + _BLOCK):
                    v = row[k]
                    block += np.float32(0.0) if math.isnan(v) else v
            else:
                for k in range(start, start + _BLOCK):
                    v = row[k]
                    block += v * v
            total += np.float64(block)
        # The rest of the row, through a view: LLVM vectorises a loop from 0 of unknown length
        # but not one from ``whole`` (sequential, it took 3/4 of the time of 1000-long rows).
        rest = row[whole:]
        tail = np.float32(0.0)
        if kind == SUM:
            for k in range(rest.size):
                tail += rest[k]
        elif kind == NANSUM:
            for k in range(rest.size):
                v = rest[k]
                tail += np.float32(0.0) if math.isnan(v) else v
        else:
            for k in range(rest.size):
                v = rest[k]
                tail += v * v
        out[a] = total + np.float64(tail)


@njit(error_model="numpy", cache=True, nogil=True)  # in order: no reassociation in a running sum
def running_trapezoid(y, half, out):
    """``out[a, i]`` = the running sum over ``k <= i`` of ``(y[a, k + 1] + y[a, k]) * half``,
    each term rounded to float32 and the sum kept in float64 (NumPy's ``cumsum`` of the float32
    terms with ``dtype=float64``, to the bit). Four rows at a time: their sums are four
    independent chains of additions, where one row's waits on each addition in turn."""
    rows, n = y.shape
    a = 0
    while a + 4 <= rows:
        s0 = s1 = s2 = s3 = 0.0
        for i in range(n - 1):
            s0 += np.float64((y[a, i + 1] + y[a, i]) * half)
            s1 += np.float64((y[a + 1, i + 1] + y[a + 1, i]) * half)
            s2 += np.float64((y[a + 2, i + 1] + y[a + 2, i]) * half)
            s3 += np.float64((y[a + 3, i + 1] + y[a + 3, i]) * half)
            out[a, i] = s0
            out[a + 1, i] = s1
            out[a + 2, i] = s2
            out[a + 3, i] = s3
        a += 4
    while a < rows:
        s = 0.0
        for i in range(n - 1):
            s += np.float64((y[a, i + 1] + y[a, i]) * half)
            out[a, i] = s
        a += 1


@njit(**_OPTIONS)
def row_products(x, out):
    """``out[a]`` = the product of row ``a`` of ``x`` (2-d, C-contiguous float32), in float32
    vector lanes (``reassoc``), as PyTorch's vectorised product: float32 all the way, so it
    overflows and underflows where a float32 product does."""
    rows, n = x.shape
    for a in range(rows):
        row = x[a]  # a 1-d view: LLVM vectorises its loop more readily than x[a, k]'s
        p = np.float32(1.0)
        for k in range(n):
            p *= row[k]
        out[a] = p


# Rows added in float32 before they join the float64 column totals (a short cascade's worth).
_ROW_BLOCK = 8


@njit(error_model="numpy", cache=True, nogil=True)
def column_sums(x, out, kind):
    """``out[a, b]`` = the sum over ``k`` of ``x[a, k, b]`` (3-d, C-contiguous float32) of the
    elements (``SUM``), of those that are not NaN (``NANSUM``) or of their squares
    (``SQUARES``): whole rows added at a time (vector lanes along ``b``, no reassociation
    needed), ``_ROW_BLOCK`` rows in float32, then into float64 totals."""
    outer, n, width = x.shape
    block = np.empty(width, np.float32)
    total = np.empty(width, np.float64)
    for a in range(outer):
        total[:] = 0.0
        for start in range(0, n, _ROW_BLOCK):
            block[:] = 0.0
            for k in range(start, min(start + _ROW_BLOCK, n)):
                row = x[a, k]  # a 1-d view: its loop vectorises, x[a, k, b]'s did not
                if kind == SUM:
                    for b in range(width):
                        block[b] += row[b]
                elif kind == NANSUM:
                    for b in range(width):
                        v = row[b]
                        block[b] += np.float32(0.0) if math.isnan(v) else v
                else:
                    for b in range(width):
                        v = row[b]
                        block[b] += v * v
            for b in range(width):
                total[b] += block[b]
        for b in range(width):
            out[a, b] = total[b]


@njit(error_model="numpy", cache=True, nogil=True)
def forward_difference(x, out):
    """``out[a, i] = x[a, i + 1] - x[a, i]`` (2-d, C-contiguous): NumPy's subtraction of the two
    overlapping strided views of the rows runs at half the speed of one contiguous loop."""
    rows, n = x.shape
    for a in range(rows):
        row = x[a]
        target = out[a]
        for i in range(n - 1):
            target[i] = row[i + 1] - row[i]


@njit(error_model="numpy", cache=True, nogil=True)  # in order: the NumPy path's roundings
def products_of_others(x, out):
    """``out[a, i]`` = the product of every ``x[a, j]`` with ``j != i`` (2-d, C-contiguous), as
    the running product from the left up to ``i`` times the one from the right after ``i``:
    NumPy's two ``cumprod`` and their product, rounded alike, in two passes over the row."""
    rows, n = x.shape
    for a in range(rows):
        row = x[a]
        target = out[a]
        left = row.dtype.type(1.0)
        for i in range(n):
            target[i] = left
            left *= row[i]
        right = row.dtype.type(1.0)
        for i in range(n - 1, -1, -1):
            target[i] *= right
            right *= row[i]


@njit(error_model="numpy", cache=True, nogil=True, inline="always")
def _step(total, v, product):
    return total * np.float64(v) if product else total + np.float64(v)


@njit(error_model="numpy", cache=True, nogil=True)  # in order: NumPy's cumsum's roundings
def running_sums(x, out, reverse, product):
    """``out[a, i]`` = the running sum (or ``product``) of row ``a`` of ``x`` (2-d,
    C-contiguous float32 or float64) up to ``i`` (from the right when ``reverse``), kept in
    float64 and rounded once into ``out``: NumPy's ``cumsum``/``cumprod`` in float64 then a
    cast, to the bit. Four rows at a time, so four independent chains of operations overlap
    (one row's waits on each)."""
    rows, n = x.shape
    start = 1.0 if product else 0.0
    a = 0
    while a + 4 <= rows:
        s0 = s1 = s2 = s3 = start
        for k in range(n):
            i = n - 1 - k if reverse else k
            s0 = _step(s0, x[a, i], product)
            s1 = _step(s1, x[a + 1, i], product)
            s2 = _step(s2, x[a + 2, i], product)
            s3 = _step(s3, x[a + 3, i], product)
            out[a, i] = s0
            out[a + 1, i] = s1
            out[a + 2, i] = s2
            out[a + 3, i] = s3
        a += 4
    while a < rows:
        s = start
        for k in range(n):
            i = n - 1 - k if reverse else k
            s = _step(s, x[a, i], product)
            out[a, i] = s
        a += 1


@njit(error_model="numpy", cache=True, nogil=True)
def column_running_sums(x, out, reverse, product):
    """``running_sums`` down the middle axis of ``x`` (3-d, C-contiguous): ``out[a, k, b]`` =
    the running sum (or ``product``) of ``x[a, :k + 1, b]`` in float64 (from the end when
    ``reverse``), whole rows at a time (vector lanes along ``b``), to the bit NumPy's."""
    outer, n, width = x.shape
    total = np.empty(width, np.float64)
    for a in range(outer):
        total[:] = 1.0 if product else 0.0
        for j in range(n):
            k = n - 1 - j if reverse else j
            row = x[a, k]  # 1-d views: their loops vectorise
            target = out[a, k]
            if product:
                for b in range(width):
                    total[b] *= np.float64(row[b])
                    target[b] = total[b]
            else:
                for b in range(width):
                    total[b] += np.float64(row[b])
                    target[b] = total[b]


@njit(error_model="numpy", cache=True, nogil=True, inline="always")
def _takes(v, best, largest):
    # An element equal to the running extreme (the last of tied values) or NaN (which then
    # stays the extreme) takes its place, as in PyTorch's cummax and cummin
    return (v >= best if largest else v <= best) or math.isnan(v)


@njit(error_model="numpy", cache=True, nogil=True)
def running_extremes(x, values, indices, largest):
    """``values[a, i]`` = the maximum (``largest``) or minimum of row ``a`` of ``x`` (2-d,
    C-contiguous float32 or float64) up to ``i``, ``indices[a, i]`` where it was reached (see
    ``_takes``). Each element's choice waits on the one before it, so four rows run at once
    (four independent chains), as ``running_sums``."""
    rows, n = x.shape
    a = 0
    while a + 4 <= rows:
        b0, b1, b2, b3 = x[a, 0], x[a + 1, 0], x[a + 2, 0], x[a + 3, 0]
        i0 = i1 = i2 = i3 = 0
        for i in range(n):
            v0, v1, v2, v3 = x[a, i], x[a + 1, i], x[a + 2, i], x[a + 3, i]
            if _takes(v0, b0, largest):
                b0, i0 = v0, i
            if _takes(v1, b1, largest):
                b1, i1 = v1, i
            if _takes(v2, b2, largest):
                b2, i2 = v2, i
            if _takes(v3, b3, largest):
                b3, i3 = v3, i
            values[a, i], values[a + 1, i], values[a + 2, i], values[a + 3, i] = b0, b1, b2, b3
            indices[a, i], indices[a + 1, i] = i0, i1
            indices[a + 2, i], indices[a + 3, i] = i2, i3
        a += 4
    while a < rows:
        best = x[a, 0]
        at = 0
        for i in range(n):
            v = x[a, i]
            if _takes(v, best, largest):
                best, at = v, i
            values[a, i] = best
            indices[a, i] = at
        a += 1
