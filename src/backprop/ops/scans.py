"""Running maxima, minima, products and log-sum-exps along an axis: ``ufunc.accumulate`` for
the reductions of ``reductions_more`` (cummax, cummin, mode's runs, cumprod, logcumsumexp).

The definition (``_scan``) runs on any array module; the kernel registered for NumPy arrays
(``_scan_numpy``) is NumPy's own ``accumulate``, except for maximum and minimum, which it
computes in a few vectorised steps (see there). ``_repeat`` (runs of repeated values, the
inverse of a scan's run lengths) is built the same way.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import backend, kernels


def _scan(ufunc: Any, input: Any, axis: int) -> Any:
    """``ufunc.accumulate`` along ``axis``: the kernel registered for the array's type, else
    (CuPy has no ``accumulate``) a scan in log2(n) steps, each combining every element with the
    one ``2**step`` before it."""
    for kernel in kernels.kernels_for("scan", input):
        out = kernel(ufunc, input, axis)
        if out is not None:
            return out
    out = np.moveaxis(input, axis, -1)
    shift = 1
    while shift < out.shape[-1]:
        out = np.concatenate([out[..., :shift], ufunc(out[..., shift:], out[..., :-shift])], -1)
        shift *= 2
    return np.moveaxis(out, -1, axis)


# The identity of a running maximum or minimum, by dtype kind, to pad a scan's last block.
def _extreme_identity(ufunc: Any, dtype: np.dtype) -> Any:
    if dtype.kind == "b":
        return ufunc is np.minimum
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return info.min if ufunc is np.maximum else info.max
    return -np.inf if ufunc is np.maximum else np.inf


def _block_width(n: int) -> int:
    """The block width for a scan of length n: about 24 (measured best: fewer steps inside
    blocks against a longer scan across them), a divisor of n when one is near (no padding)."""
    for width in sorted(range(16, 49), key=lambda w: abs(w - 24)):
        if n % width == 0:
            return width
    return 24


def _scan_numpy(ufunc: Any, input: np.ndarray, axis: int) -> np.ndarray:
    """NumPy's scan: ``ufunc.accumulate``, which for maximum and minimum runs element by
    element, several times slower than a vectorised maximum. For them every step below is one
    vectorised call over contiguous memory: along a leading axis, one step per position; along
    the last axis, the axis is cut into blocks (``_block_width``), transposed to
    position-in-block first, scanned inside all blocks at once (one step per position in a
    block), then across the blocks' last values (a short accumulate), then each block is
    combined with the blocks before it. Exact: max and min do not round."""
    n = input.shape[axis] if input.ndim else 1
    if (ufunc is not np.maximum and ufunc is not np.minimum) or n < 64 \
            or input.dtype.kind not in "biuf":
        return ufunc.accumulate(input, axis=axis)
    inner = math.prod(input.shape[axis + 1:])
    if inner >= 64 and n <= 256:
        # Slices along the axis are contiguous runs of ``inner`` values
        out = np.array(input, order="C")
        steps = out.reshape(-1, n, inner)
        for i in range(1, n):
            ufunc(steps[:, i - 1], steps[:, i], out=steps[:, i])
        return out
    moved = np.moveaxis(input, axis, -1)
    lead = moved.shape[:-1]
    rows = int(np.prod(lead))
    width = _block_width(n)
    count = -(-n // width)
    identity = _extreme_identity(ufunc, input.dtype)
    flat = moved.reshape(rows, n)
    if count * width != n:  # the last block is short: fill it with the identity
        padded = np.empty((rows, count * width), input.dtype)
        padded[:, :n] = flat
        padded[:, n:] = identity
        flat = padded
    # (width, rows * count): element i of block b of row r at [i, r * count + b]
    steps = np.ascontiguousarray(flat.reshape(rows * count, width).T)
    for j in range(1, width):
        ufunc(steps[j - 1], steps[j], out=steps[j])
    # The extreme of the blocks before each one (the identity before the first): a short
    # accumulate, n / width values a slice
    last = steps[width - 1].reshape(rows, count)
    carry = np.empty((rows, count), input.dtype)
    carry[:, 0] = identity
    ufunc.accumulate(last[:, :-1], axis=1, out=carry[:, 1:])
    blocks = steps.reshape(width, rows, count)
    ufunc(blocks, carry, out=blocks)
    out = np.ascontiguousarray(steps.T).reshape(rows, count * width)
    return np.moveaxis(out[:, :n].reshape(lead + (n,)), -1, axis)


kernels.register("scan", np.ndarray, _scan_numpy)


def _repeat(values: Any, counts: Any) -> Any:
    """``np.repeat(values, counts)`` for 1-D ``values`` and an array of counts: the kernel
    registered for the array's type (NumPy's own repeat), else (CuPy's repeat takes no array
    of counts) each output position takes the value whose running total of counts first
    passes it.

    >>> _repeat(np.array([7, 8, 9]), np.array([2, 0, 1])).tolist()
    [7, 7, 9]
    """
    for kernel in kernels.kernels_for("repeat_by_counts", values):
        out = kernel(values, counts)
        if out is not None:
            return out
    ends = np.cumsum(counts)
    total = int(ends[-1]) if ends.size else 0
    return values[np.searchsorted(ends, backend.arange(total, counts), side="right")]


kernels.register("repeat_by_counts", np.ndarray, np.repeat)
