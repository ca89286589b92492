"""Numba kernels for the special functions (issue 17): the long tails of the orthogonal
polynomials' recurrences. Imported by ``backends.numba_special`` on first use only (importing
this module imports Numba). Kept apart from ``_numba_kernels`` because Numba's disk cache notices
changes to a kernel's own file only.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_OPTIONS = {"fastmath": False, "error_model": "numpy", "cache": True, "nogil": True}

# The recurrences by number, as ``numba_special`` names them (not imported from there: it imports
# this module).
CHEBYSHEV, HERMITE_H, HERMITE_HE, LAGUERRE = 0, 1, 2, 3


@njit(**_OPTIONS)
def polynomial_tail(kind, narrow, x, n, p, q, degree):
    """Carry each element's recurrence on from ``p`` and ``q`` (degrees ``degree - 1`` and
    ``degree``) up to degree ``n``, stopping early at nan as PyTorch's loop does; the result
    overwrites ``q``. ``narrow``: round every step to float32 (so that it overflows where
    float32 arithmetic does)."""
    for i in range(x.size):
        xi = x[i]
        pi = p[i]
        qi = q[i]
        j = float(degree)
        stop = n[i]
        k = degree
        while k < stop and not math.isnan(qi):
            if kind == CHEBYSHEV:
                r = (xi + xi) * qi - pi
            elif kind == HERMITE_H:
                r = (xi + xi) * qi - (j + j) * pi
            elif kind == HERMITE_HE:
                r = xi * qi - j * pi
            elif kind == LAGUERRE:
                r = (((j + j) + (1.0 - xi)) * qi - j * pi) / (j + 1.0)
            else:
                r = ((j + j + 1.0) * xi * qi - j * pi) / (j + 1.0)
            if narrow:
                r = float(np.float32(r))
            pi = qi
            qi = r
            j += 1.0
            k += 1
        q[i] = qi
