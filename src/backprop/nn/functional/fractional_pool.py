"""Fractional max pooling (Graham, 2014): ``fractional_max_pool2d/3d`` as PyTorch's.

Each dimension of size ``n`` is cut into ``m`` windows of size ``k`` whose starts follow
PyTorch's pseudo-random sequence from one sample ``u`` in [0, 1) per (batch, channel, dimension):
with ``alpha = (n - k) / (m - 1)``, window ``i < m - 1`` starts at
``int((i + u) * alpha) - int(u * alpha)`` and the last at ``n - k``. ``_random_samples``
(``(N, C, nd)``: (W, H) for 2-d, (T, H, W) for 3-d) fixes the ``u``; without it they are drawn
uniformly with ``bp.rand``. The gradient goes to the element each window picked.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import backend
from ...creation import rand
from ...errors import ShapeError
from ...ops.conv import _batched, _positive
from ...ops.pooling import _max_pool
from ...ops.shape import reshape
from ...tensor import Tensor

__all__ = ["fractional_max_pool2d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d", "fractional_max_pool3d_with_indices"]


# Which sample drives each spatial dimension (PyTorch's kernels): 2-d (H, W) read samples
# (1, 0); 3-d (T, H, W) read (0, 1, 2).
_SAMPLE = {2: (1, 0), 3: (0, 1, 2)}


def _output_sizes(op: str, nd: int, sizes: tuple[int, ...], output_size: Any,
                  output_ratio: Any) -> tuple[int, ...]:
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if output_size is not None:
        return _positive(op, "output_size", output_size, nd)
    ratios = output_ratio if isinstance(output_ratio, (tuple, list)) else (output_ratio,) * nd
    if len(ratios) != nd:
        raise ValueError(f"{op}: output_ratio must be a float or {nd} floats, got {output_ratio}")
    return tuple(int(n * float(r)) for n, r in zip(sizes, ratios))


def _starts(n: int, m: int, k: int, u: np.ndarray) -> np.ndarray:
    """Window starts, ``u.shape + (m,)``, computed in the samples' dtype as PyTorch does."""
    dtype = u.dtype.type
    starts = np.empty(u.shape + (m,), np.int64)
    if m > 1:
        alpha = dtype(n - k) / dtype(m - 1)
        steps = (np.arange(m - 1, dtype=u.dtype) + u[..., None]) * alpha
        starts[..., :-1] = (steps.astype(np.int64)
                            - (u * alpha).astype(np.int64)[..., None])
    starts[..., -1] = n - k
    return starts


def _fractional_max_pool(op: str, nd: int, input: Tensor, kernel_size: Any, output_size: Any,
                         output_ratio: Any, _random_samples: Any) -> tuple[Tensor, Tensor]:
    batched = _batched(op, input, nd)
    if not batched:
        input = reshape(input, (1,) + tuple(input.shape))
    kernel = _positive(op, "kernel_size", kernel_size, nd)
    n_batch, channels, *spatial = input.shape
    out = _output_sizes(op, nd, tuple(spatial), output_size, output_ratio)
    names = ("time", "height", "width")[-nd:]
    for name, n, m, k in zip(names, spatial, out, kernel):
        if m + k - 1 > n:
            raise ShapeError(f"{op}(): pool {name} {k} too large relative to input {name} {n} "
                             f"(output {name} {m})")
    if _random_samples is None:
        samples = backend.to_host(rand(n_batch, channels, nd, dtype=input.dtype)._data)
    else:
        samples = backend.to_host(backend.array_of(_random_samples))
        if samples.shape != (n_batch, channels, nd):
            raise ShapeError(f"{op}: _random_samples must have shape {(n_batch, channels, nd)} "
                             f"(batch, channels, {nd}), got {tuple(samples.shape)}")
    # Flat index, within each (n, c) plane, of every element of every window:
    # (N, C, *out, *kernel).
    strides = np.cumprod((1,) + tuple(spatial[:0:-1]))[::-1]
    flat = np.zeros((n_batch, channels) + out + kernel, np.int64)
    for d in range(nd):
        starts = _starts(spatial[d], out[d], kernel[d], samples[..., _SAMPLE[nd][d]])
        at = starts[..., None] + np.arange(kernel[d])  # (N, C, m, k)
        shape = [n_batch, channels] + [1] * (2 * nd)
        shape[2 + d], shape[2 + nd + d] = out[d], kernel[d]
        flat = flat + (at * strides[d]).reshape(shape)
    windows = flat.reshape(n_batch, channels, *out, math.prod(kernel))
    data = backend.array_of(input)
    on_device = backend.on_device_of(windows, data)
    values = np.take_along_axis(data.reshape(n_batch, channels, math.prod(spatial)),
                                on_device.reshape(n_batch, channels, -1 if on_device.size else 0), 2)
    values = values.reshape(on_device.shape)
    # argmax takes the first maximum in row-major window order (a NaN wins), as PyTorch's scan.
    picked = values.argmax(-1)[..., None]
    indices = np.take_along_axis(on_device, picked, -1)[..., 0]
    result = _max_pool(input, indices, np.take_along_axis(values, picked, -1)[..., 0])
    if not batched:
        result, indices = reshape(result, tuple(result.shape[1:])), indices[0]
    return result, Tensor._wrap(indices)


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = False,
                                       _random_samples: Any = None) -> tuple[Tensor, Tensor]:
    """``fractional_max_pool2d`` returning ``(output, indices)``.

    >>> import backprop as bp
    >>> out, idx = fractional_max_pool2d_with_indices(bp.randn(1, 2, 7, 7), 2, output_size=3)
    >>> out.shape, idx.shape
    ((1, 2, 3, 3), (1, 2, 3, 3))
    """
    return _fractional_max_pool("fractional_max_pool2d", 2, input, kernel_size, output_size,
                                output_ratio, _random_samples)


def fractional_max_pool2d(input: Tensor, kernel_size: Any, output_size: Any = None,
                          output_ratio: Any = None, return_indices: bool = False,
                          _random_samples: Any = None) -> Any:
    """Max over pseudo-random ``kernel_size`` windows of a ``(N, C, H, W)`` or ``(C, H, W)``
    input giving ``output_size`` (or ``int(size * output_ratio)``) outputs per dimension.

    >>> import backprop as bp
    >>> fractional_max_pool2d(bp.randn(1, 1, 8, 8), 2, output_ratio=0.5).shape
    (1, 1, 4, 4)
    """
    out, indices = fractional_max_pool2d_with_indices(input, kernel_size, output_size,
                                                      output_ratio, return_indices,
                                                      _random_samples)
    return (out, indices) if return_indices else out


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = False,
                                       _random_samples: Any = None) -> tuple[Tensor, Tensor]:
    """``fractional_max_pool3d`` returning ``(output, indices)``.

    >>> import backprop as bp
    >>> fractional_max_pool3d_with_indices(bp.randn(1, 1, 5, 5, 5), 2, output_size=3)[1].shape
    (1, 1, 3, 3, 3)
    """
    return _fractional_max_pool("fractional_max_pool3d", 3, input, kernel_size, output_size,
                                output_ratio, _random_samples)


def fractional_max_pool3d(input: Tensor, kernel_size: Any, output_size: Any = None,
                          output_ratio: Any = None, return_indices: bool = False,
                          _random_samples: Any = None) -> Any:
    """``fractional_max_pool2d`` over ``(N, C, T, H, W)`` or ``(C, T, H, W)`` input.

    >>> import backprop as bp
    >>> fractional_max_pool3d(bp.randn(1, 1, 6, 6, 6), 2, output_ratio=0.5).shape
    (1, 1, 3, 3, 3)
    """
    out, indices = fractional_max_pool3d_with_indices(input, kernel_size, output_size,
                                                      output_ratio, return_indices,
                                                      _random_samples)
    return (out, indices) if return_indices else out
