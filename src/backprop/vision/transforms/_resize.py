"""Antialiased resampling of image arrays, the filter PIL and PyTorch's ``antialias=True`` use.

``bp.nn.functional.interpolate`` has no ``antialias``; shrinking an image with plain bilinear
interpolation skips pixels and aliases, which is why torchvision antialiases by default. Each
output pixel here is a normalised weighted sum of the input pixels under a filter (triangle for
bilinear, Keys cubic with a = -0.5 for bicubic) stretched by the shrink factor, so every input
pixel contributes; when enlarging the filter is not stretched and this is plain interpolation.
The weights make one dense matrix per axis (images are small), applied as two matrix products.
"""

from __future__ import annotations

import numpy as np

_SUPPORT = {"bilinear": 1.0, "bicubic": 2.0}


def _filter(mode: str, x: np.ndarray) -> np.ndarray:
    x = np.abs(x)
    if mode == "bilinear":
        return np.clip(1.0 - x, 0.0, None)
    a = -0.5  # the cubic PIL and PyTorch's antialiased bicubic use
    near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    far = (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


def antialias_weights(in_size: int, out_size: int, mode: str) -> np.ndarray:
    """The ``(out_size, in_size)`` matrix that resamples one axis; each row sums to 1.

    >>> (antialias_weights(4, 2, "bilinear") * 7).round(6).tolist()
    [[3.0, 3.0, 1.0, 0.0], [0.0, 1.0, 3.0, 3.0]]
    """
    scale = in_size / out_size
    stretch = max(scale, 1.0)
    support = _SUPPORT[mode] * stretch
    weights = np.zeros((out_size, in_size))
    for i in range(out_size):
        center = scale * (i + 0.5)
        # int() truncates towards zero, as the reference kernels' casts do.
        low = max(int(center - support + 0.5), 0)
        high = min(int(center + support + 0.5), in_size)
        taps = _filter(mode, (np.arange(low, high) - center + 0.5) / stretch)
        total = taps.sum()
        weights[i, low:high] = taps / total if total != 0 else taps
    return weights


def resize_antialiased(pixels: np.ndarray, size: tuple[int, int], mode: str) -> np.ndarray:
    """``pixels`` (..., H, W), floating point, resampled to ``size`` (h, w) in its dtype.

    >>> resize_antialiased(np.arange(16.0).reshape(4, 4), (2, 2), "bilinear").round(4).tolist()
    [[3.5714, 5.1429], [9.8571, 11.4286]]
    """
    height, width = pixels.shape[-2:]
    dtype = pixels.dtype
    rows = antialias_weights(height, size[0], mode).astype(dtype)
    columns = antialias_weights(width, size[1], mode).astype(dtype)
    out = pixels @ columns.T  # width first, then height, as PyTorch's separable kernel
    return np.ascontiguousarray(rows @ out)


def shrinks(in_size: tuple[int, int], out_size: tuple[int, int]) -> bool:
    """Whether either axis gets smaller (only then does antialiasing change the result)."""
    return any(m < n for n, m in zip(in_size, out_size))
