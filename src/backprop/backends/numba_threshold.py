"""Compiled ReLU backward (``_numba_threshold``): the ``threshold_backward`` primitive's kernel,
``g`` where ``input > threshold``, else 0, in one pass.

Why: the NumPy path makes a mask (``less_equal``) and then selects through it (bit masking,
``ops.elementwise._select_bits``): two passes and a temporary as large as the gradient. For
W3's first ReLU (64 x 8 x 24 x 24 float32) that took 0.30 ms of CPU; one compiled pass takes
about a quarter of it. Results equal the NumPy path's bit for bit.

Registered under the primitive's name (``backprop.kernels``); returns None where it does not
apply (Numba absent or switched off by ``bp.backends.numba.enabled``, small, non-contiguous or
read-only arrays, dtypes other than one float32 or float64 for both, a threshold that is not a
Python number, shapes that differ), and the op's NumPy code runs.

>>> import numpy as np
>>> out = threshold_backward(np.ones(300), np.arange(300.) - 1, 0)
>>> out is None or out[:4].tolist()
[0.0, 0.0, 1.0, 1.0]
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from .. import kernels
from . import numba as _switch


def _load() -> ModuleType | None:
    return _switch.kernel_module(f"{__package__}._numba_threshold")


def threshold_backward(g: Any, input: Any, threshold: Any) -> np.ndarray | None:
    """``g`` where ``input > threshold``, else 0 (the ``threshold_backward`` primitive's
    forward), or None."""
    if (type(threshold) not in (int, float) or type(g) is not np.ndarray
            or type(input) is not np.ndarray or g.shape != input.shape
            or not _switch._applies(g, input)):
        return None
    module = _load()
    if module is None:
        return None
    out = np.empty_like(g)
    if not _switch._run(module.threshold_backward, g.reshape(-1), input.reshape(-1),
                        g.dtype.type(threshold), out.reshape(-1)):
        return None
    return out


kernels.register("threshold_backward", np.ndarray, threshold_backward, compiled=True)
