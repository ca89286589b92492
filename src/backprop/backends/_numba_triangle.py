"""Numba kernel for ``tril_indices`` and ``triu_indices`` (``creation.py`` calls it, compiled
first).

The NumPy path writes the (2, N) pairs in four passes over N (repeat, copy, gather, add), which
at N ~ 1e5 cost several times PyTorch's single loop; this kernel is that single loop, writing
each (row, column) pair once. Importing this module imports Numba; ``creation.py`` imports it
through ``backends.numba.kernel_module`` on the first call only.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._numba_kernels import _OPTIONS


@njit(**_OPTIONS)
def triangle_indices(out: np.ndarray, begin: np.ndarray, end: np.ndarray) -> None:
    """Fill ``out`` (2, N) with the pairs (r, c), row by row, c from ``begin[r]`` to
    ``end[r] - 1`` (N is the sum of the non-negative ``end - begin``)."""
    k = 0
    for r in range(begin.shape[0]):
        for c in range(begin[r], end[r]):
            out[0, k] = r
            out[1, k] = c
            k += 1
