"""Super-resolution: an ESPCN-style network and the classical baselines it must beat.

``ESPCN`` (Shi et al., 2016, "Real-Time Single Image and Video Super-Resolution Using an
Efficient Sub-Pixel Convolutional Neural Network") works at the *low* resolution throughout:
a few convolutions produce ``r * r`` channels per output channel, and ``pixel_shuffle`` moves
them into an ``r``-times larger image, so no convolution ever runs on the big image.

The baselines are written here in NumPy: ``upsample`` with bilinear or bicubic interpolation,
using ``align_corners=False`` semantics (PyTorch's and OpenCV's default: pixel *centres* are
aligned, so output pixel ``o`` samples the input at ``(o + 0.5) / r - 0.5``), ``downsample`` by
block averaging, and ``psnr``.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .. import nn
from ..tensor import Tensor

__all__ = ["ESPCN", "downsample", "interpolation_matrix", "psnr", "upsample"]

BICUBIC_A = -0.75  # the cubic convolution kernel's free parameter, as PyTorch and OpenCV use


class ESPCN(nn.Module):
    """Low-resolution images (N, C, H, W) to (N, C, H * r, W * r): convolutions with ``tanh``
    (``features`` channels, kernels ``kernel_sizes``, "same" padding), a last convolution to
    ``C * r * r`` channels, and ``PixelShuffle(r)``.

    >>> import backprop as bp
    >>> ESPCN(upscale_factor=2)(bp.zeros(3, 1, 4, 4)).shape
    (3, 1, 8, 8)
    """

    def __init__(self, upscale_factor: int = 2, channels: int = 1,
                 features: Sequence[int] = (64, 32), kernel_sizes: Sequence[int] = (5, 3, 3)
                 ) -> None:
        super().__init__()
        if upscale_factor < 1 or channels < 1:
            raise ValueError(f"ESPCN: upscale_factor and channels must be positive; got "
                             f"{upscale_factor}, {channels}")
        if len(kernel_sizes) != len(features) + 1 or any(k < 1 or k % 2 == 0
                                                         for k in kernel_sizes):
            raise ValueError(f"ESPCN: need one odd kernel size per layer ({len(features) + 1} for "
                             f"features {tuple(features)}); got {tuple(kernel_sizes)}")
        if any(f < 1 for f in features):
            raise ValueError(f"ESPCN: features must be positive; got {tuple(features)}")
        self.upscale_factor, self.channels = int(upscale_factor), int(channels)
        sizes = [self.channels, *map(int, features)]
        layers: list[nn.Module] = []
        for fan_in, fan_out, kernel in zip(sizes, sizes[1:], kernel_sizes):
            layers += [nn.Conv2d(fan_in, fan_out, kernel, padding=kernel // 2), nn.Tanh()]
        last = kernel_sizes[-1]
        layers += [nn.Conv2d(sizes[-1], self.channels * self.upscale_factor ** 2, last,
                             padding=last // 2),
                   nn.PixelShuffle(self.upscale_factor)]
        self.net = nn.Sequential(*layers)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim != 4 or input.shape[1] != self.channels:
            raise ValueError(f"ESPCN: expected images of shape (N, {self.channels}, H, W); got "
                             f"{tuple(input.shape)}")
        return self.net(input)


def downsample(images: Any, factor: int = 2) -> np.ndarray:
    """Average each ``factor`` x ``factor`` block of the last two axes (the low-resolution
    input the super-resolution network learns to undo).

    >>> downsample(np.arange(16.0).reshape(4, 4)).tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """
    array = np.asarray(images)
    if array.ndim < 2 or factor < 1 or array.shape[-1] % factor or array.shape[-2] % factor:
        raise ValueError(f"downsample: the last two sizes of {array.shape} must be divisible by "
                         f"factor {factor} (>= 1)")
    *lead, height, width = array.shape
    blocks = array.reshape(*lead, height // factor, factor, width // factor, factor)
    return blocks.mean(axis=(-3, -1))


def _cubic_weights(t: np.ndarray) -> np.ndarray:
    """The four weights of the cubic convolution kernel (Keys, 1981) for the input pixels at
    offsets -1, 0, 1, 2 from ``floor(x)``, where ``t = x - floor(x)``."""
    a = BICUBIC_A

    def near(d: np.ndarray) -> np.ndarray:  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d: np.ndarray) -> np.ndarray:  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=-1)


def interpolation_matrix(in_size: int, out_size: int, mode: str = "bicubic") -> np.ndarray:
    """The (out_size, in_size) matrix ``M`` with ``M @ signal`` the 1-D resampled signal:
    bilinear or bicubic, ``align_corners=False``, indices beyond the border clamped to it (the
    edge pixel repeats), as ``torch.nn.functional.interpolate``.

    >>> interpolation_matrix(2, 4, "bilinear").tolist()
    [[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]]
    """
    if mode not in ("bilinear", "bicubic"):
        raise ValueError(f"interpolation_matrix: mode must be 'bilinear' or 'bicubic'; got "
                         f"{mode!r}")
    if in_size < 1 or out_size < 1:
        raise ValueError(f"interpolation_matrix: sizes must be positive; got {in_size} -> "
                         f"{out_size}")
    source = (np.arange(out_size) + 0.5) * (in_size / out_size) - 0.5
    if mode == "bilinear":
        # Linear interpolation clamps the position at 0 (PyTorch does too): the first output
        # pixels copy the edge instead of extrapolating past it.
        source = np.maximum(source, 0.0)
        offsets, base = np.arange(2), np.floor(source).astype(np.int64)
        t = source - base
        weights = np.stack([1 - t, t], axis=-1)
    else:
        offsets, base = np.arange(-1, 3), np.floor(source).astype(np.int64)
        weights = _cubic_weights(source - base)
    matrix = np.zeros((out_size, in_size))
    columns = np.clip(base[:, None] + offsets, 0, in_size - 1)
    rows = np.repeat(np.arange(out_size)[:, None], len(offsets), axis=1)
    np.add.at(matrix, (rows, columns), weights)  # clamped taps pile onto the edge pixel
    return matrix


def upsample(images: Any, scale_factor: int = 2, mode: str = "bicubic") -> np.ndarray:
    """Resize the last two axes ``scale_factor`` times by bilinear or bicubic interpolation
    (``align_corners=False``); separable, so one matrix per axis. Bicubic can overshoot the
    input's range; the result is not clipped.

    >>> upsample(np.full((2, 2), 0.5), 2, "bicubic").round(6).tolist()[0]
    [0.5, 0.5, 0.5, 0.5]
    """
    array = np.asarray(images, dtype=np.float64)
    if array.ndim < 2:
        raise ValueError(f"upsample: expected images with at least 2 dims (..., H, W); got "
                         f"shape {array.shape}")
    if scale_factor < 1 or int(scale_factor) != scale_factor:
        raise ValueError(f"upsample: scale_factor must be a positive integer; got {scale_factor}")
    height, width = array.shape[-2:]
    rows = interpolation_matrix(height, height * int(scale_factor), mode)
    columns = interpolation_matrix(width, width * int(scale_factor), mode)
    return rows @ array @ columns.T


def psnr(prediction: Any, target: Any, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB over all values: ``10 log10(data_range**2 / MSE)``;
    infinite for identical inputs.

    >>> round(psnr(np.zeros(4), np.full(4, 0.1)), 6)
    20.0
    """
    prediction, target = np.asarray(prediction, np.float64), np.asarray(target, np.float64)
    if prediction.shape != target.shape:
        raise ValueError(f"psnr: prediction {prediction.shape} and target {target.shape} "
                         "differ in shape")
    if data_range <= 0:
        raise ValueError(f"psnr: data_range must be positive; got {data_range}")
    mse = float(np.mean((prediction - target) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(data_range ** 2 / mse)
