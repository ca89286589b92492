"""Numba kernels for moving values by index: reversing the last axis (``flip``), ``gather``
and ``scatter_add`` along a dim. Imported by ``backends.numba_indexing`` on first use only
(importing this module imports Numba).

NumPy copies a reversed last axis with a scalar strided loop (three to four times PyTorch's
time), and ``gather``/``scatter_add`` along a dim build a flat index or use ``np.add.at``, each
a few passes; these loops make one. Each value is moved, or added in the order NumPy adds it
(C order of the index, no fastmath), so results are NumPy's bit for bit.
"""

from __future__ import annotations

from numba import njit, uint64

_OPTIONS = {"fastmath": False, "error_model": "numpy", "cache": True, "nogil": True}


@njit(**_OPTIONS)
def flip_last(a, out):
    """``out[i, j] = a[i, n - 1 - j]`` for a matrix ``a`` of n columns (rows in any order);
    returns 0, the status every kernel here returns."""
    n = a.shape[1]
    for i in range(a.shape[0]):
        for j in range(n):
            # Unsigned indices: no wraparound test for negative ones, so LLVM vectorizes the
            # reversed read (three times faster than with signed ones).
            out[i, uint64(j)] = a[i, uint64(n - 1 - j)]
    return 0


@njit(**_OPTIONS)
def gather(a, index, out):
    """``out[i, j, k] = a[i, index[i, j, k], k]``; returns 1 at the first index outside
    ``[0, a.shape[1])`` (``out`` is then incomplete), else 0."""
    n = a.shape[1]
    for i in range(index.shape[0]):
        for j in range(index.shape[1]):
            for k in range(index.shape[2]):
                at = index[i, j, k]
                if at < 0 or at >= n:
                    return 1
                out[i, j, k] = a[i, at, k]
    return 0


@njit(**_OPTIONS)
def scatter_add(out, index, src):
    """``out[i, index[i, j, k], k] += src[i, j, k]`` in C order of the index; returns 1 at
    the first index outside ``[0, out.shape[1])`` (``out`` is then partly written)."""
    n = out.shape[1]
    for i in range(index.shape[0]):
        for j in range(index.shape[1]):
            for k in range(index.shape[2]):
                at = index[i, j, k]
                if at < 0 or at >= n:
                    return 1
                out[i, at, k] += src[i, j, k]
    return 0


@njit(**_OPTIONS)
def negated_picks(a, classes, out):
    """``out[i] = -a[i, classes[i]]`` (nll_loss's terms); returns 1 at the first class outside
    ``[0, a.shape[1])``."""
    n = a.shape[1]
    for i in range(classes.shape[0]):
        at = classes[i]
        if at < 0 or at >= n:
            return 1
        out[i] = -a[i, at]
    return 0


@njit(**_OPTIONS)
def index_combine(out, index, src, multiply):
    """``out[:, index[i], :] = out[:, index[i], :] * src[:, i, :]`` (``+`` unless ``multiply``)
    for each i in order, as ``index_reduce``'s slices combine; returns 1 at the first index
    outside ``[0, out.shape[1])``."""
    n = out.shape[1]
    for i in range(index.shape[0]):
        at = index[i]
        if at < 0 or at >= n:
            return 1
        for a in range(out.shape[0]):
            if multiply:
                for b in range(out.shape[2]):
                    out[a, at, b] *= src[a, i, b]
            else:
                for b in range(out.shape[2]):
                    out[a, at, b] += src[a, i, b]
    return 0


@njit(**_OPTIONS)
def prelu(x, weight, out):
    """``out[a, c, b] = x[a, c, b] if x[a, c, b] > 0 else weight[c] * x[a, c, b]``; returns 0.
    (A select per element, which LLVM vectorizes; NumPy needs a multiply and a compare.)"""
    for a in range(x.shape[0]):
        for c in range(x.shape[1]):
            w = weight[c]
            for b in range(x.shape[2]):
                v = x[a, c, b]
                out[a, c, b] = v if v > 0 else w * v
    return 0
