"""Compiled max pooling (``_numba_pool``): the window maxima and their indices in one pass over
the input, and the gradient's scatter-add, for 1-d and 2-d float32/float64 pools.

Why: the NumPy path (``ops.pooling``) makes a few vectorised passes per kernel offset over
strided views (max, then "not the max" flags by Horner's rule, then a table lookup), and its
gradient is ``np.add.at``, NumPy's slowest scatter. For a LeNet-size batch the compiled pass is
about ten times faster; 2x2 windows at stride 2 that stay inside the input (``MaxPool2d(2)``)
take a kernel with fixed offsets that LLVM vectorises, three times faster again; other pools
whose windows all lie inside the input (no padding) go one kernel offset at a time across an
output row, from a copy in cache, which LLVM vectorises too.

``max_pool`` is called by ``ops.pooling`` directly (the maxima are found before the op is
recorded); ``max_pool_backward`` is registered as the kernel of the primitive of that name.
Both return None where they do not apply (Numba absent or switched off by
``bp.backends.numba.enabled``, 3-d, other dtypes, empty arrays), and the NumPy code runs.
Results equal the NumPy path's exactly (a max and a sum of the same terms in the same order).

>>> import numpy as np
>>> found = max_pool(np.arange(16.).reshape(1, 1, 4, 4), (2, 2), (2, 2), ((0, 0), (0, 0)),
...                  (1, 1), (2, 2))
>>> found is None or (found[0].tolist(), found[1].tolist())
([[[[5.0, 7.0], [13.0, 15.0]]]], [[[[5, 7], [13, 15]]]])
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import numpy as np

from .. import kernels
from . import numba as _switch

_FLOATS = _switch._FLOATS


def _load() -> ModuleType | None:
    return _switch.kernel_module(f"{__package__}._numba_pool")


def max_pool(x: Any, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
             out: tuple) -> tuple[np.ndarray, np.ndarray] | None:
    """``(maxima, int64 indices)`` of the windows of ``x`` (N, C, *S), each (N, C, *out),
    indices flat into an input plane; ``padding`` as ``((before, after), ...)`` (only
    ``before`` is read: windows never reach past the rows ``out`` covers). None where the
    kernel does not apply."""
    nd = len(kernel)
    if (type(x) is not np.ndarray or x.dtype not in _FLOATS or x.size == 0 or nd not in (1, 2)
            or x.ndim != nd + 2):
        return None
    module = _load()
    if module is None:
        return None
    if nd == 1:
        x = x.reshape(x.shape[:2] + (1,) + x.shape[2:])
        kernel, stride, dilation = (1,) + tuple(kernel), (1,) + tuple(stride), (1,) + tuple(dilation)
        padding, sizes = ((0, 0),) + tuple(padding), (1,) + tuple(out)
    else:
        sizes = tuple(out)
    x = _switch.kernel_array(x)
    shape = x.shape[:2] + tuple(out)
    values = np.empty(math.prod(shape), x.dtype)
    indices = np.empty(values.size, np.int64)
    if (tuple(kernel) == tuple(stride) == (2, 2) and tuple(dilation) == (1, 1)
            and padding[0][0] == padding[1][0] == 0 and 2 * sizes[0] <= x.shape[2]
            and 2 * sizes[1] <= x.shape[3]):
        done = _switch._run(module.max_pool_2x2, x, sizes[0], sizes[1], values, indices)
    elif padding[0][0] == padding[1][0] == 0 and all(
            (o - 1) * s + (k - 1) * d < n
            for o, s, k, d, n in zip(sizes, stride, kernel, dilation, x.shape[2:])):
        done = _switch._run(module.max_pool_inside, x, kernel[0], kernel[1], stride[0],
                            stride[1], dilation[0], dilation[1], sizes[0], sizes[1], values,
                            indices)
    else:
        done = _switch._run(module.max_pool, x, kernel[0], kernel[1], stride[0], stride[1],
                            padding[0][0], padding[1][0], dilation[0], dilation[1], sizes[0],
                            sizes[1], values, indices)
    if not done:
        return None
    return values.reshape(shape), indices.reshape(shape)


def max_pool_backward(grad: Any, indices: Any, shape: tuple) -> np.ndarray | None:
    """The ``max_pool_backward`` primitive's forward (zeros of ``shape`` with ``grad`` added at
    ``indices``, flat within each (n, c) plane), or None."""
    if (type(grad) is not np.ndarray or grad.dtype not in _FLOATS or grad.size == 0
            or type(indices) is not np.ndarray or indices.dtype != np.int64
            or indices.shape != grad.shape or grad.ndim < 2):
        return None
    module = _load()
    if module is None:
        return None
    planes = math.prod(grad.shape[:2])
    area = math.prod(shape[2:])
    out = np.zeros(planes * area, grad.dtype)
    g = _switch.kernel_array(grad).reshape(-1)
    idx = _switch.kernel_array(indices).reshape(-1)
    if not _switch._run(module.scatter_add, g, idx, grad.size // planes, area, out):
        return None
    return out.reshape(shape)


kernels.register("max_pool_backward", np.ndarray, max_pool_backward, compiled=True)
