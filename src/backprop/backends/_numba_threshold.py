"""The Numba kernel behind ``backends.numba_threshold``: ReLU's backward (PyTorch's
``threshold_backward``) in one pass. Importing this module imports Numba.

A select, not a branch (which element passes depends on the data; a mispredicted branch costs
more than the select), over flat C-contiguous arrays of one float dtype, so LLVM vectorises it.
Each passed element's bits are copied as they are (inf, nan, -0.0), the others are +0.0: what
``np.where(input <= threshold, 0, grad)`` gives. Kept in its own file: Numba's disk cache
notices changes to a kernel's own file only.
"""

from __future__ import annotations

from numba import njit, uint64

_OPTIONS = {"fastmath": False, "error_model": "numpy", "cache": True, "nogil": True}


@njit(**_OPTIONS)
def threshold_backward(grad, input, threshold, out):
    """``out[i] = 0 if input[i] <= threshold else grad[i]`` (a NaN input passes grad on)."""
    for i in range(uint64(out.size)):
        out[i] = 0.0 if input[i] <= threshold else grad[i]
