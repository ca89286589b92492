"""Numba kernels for outer products (``outer``/``ger``, ``addr``, ``kron`` of matrices).
Imported by ``backends.numba_outer`` on first use only (importing this module imports Numba).

NumPy's broadcast multiply of a column by a row runs its inner loop once per row with a
stride-0 operand, about three times PyTorch's time at 316 x 316; one compiled double loop is
memory-bound like PyTorch's. Each element is the one product NumPy computes (no fastmath, so
no reassociation or fused multiply-adds): the results are NumPy's bit for bit.
"""

from __future__ import annotations

from numba import njit

_OPTIONS = {"fastmath": False, "error_model": "numpy", "cache": True, "nogil": True}


@njit(**_OPTIONS)
def outer(a, b, out):
    """``out[i, j] = a[i] * b[j]``."""
    n = b.shape[0]
    for i in range(a.shape[0]):
        ai = a[i]
        for j in range(n):
            out[i, j] = ai * b[j]


@njit(**_OPTIONS)
def kron2(a, b, out):
    """``out[i p + j, k q + l] = a[i, k] * b[j, l]`` for b (p, q): the Kronecker product of two
    matrices."""
    p, q = b.shape
    for i in range(a.shape[0]):
        for j in range(p):
            row = i * p + j
            for k in range(a.shape[1]):
                aik = a[i, k]
                col = k * q
                for l in range(q):
                    out[row, col + l] = aik * b[j, l]
