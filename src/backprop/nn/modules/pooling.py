"""Pooling layers and ``PixelShuffle``: thin wrappers over the ``F`` functions."""

from __future__ import annotations

from typing import Any

from ...tensor import Tensor
from .. import functional as F
from ..module import Module
from .utils import _pair, _single, _triple

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
           "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
           "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
           "LPPool1d", "LPPool2d", "LPPool3d", "PixelShuffle", "PixelUnshuffle"]


class _MaxPoolNd(Module):
    _fn = ""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Any:
        return getattr(F, self._fn)(input, self.kernel_size, self.stride, self.padding,
                                    self.dilation, ceil_mode=self.ceil_mode,
                                    return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows of ``(N, C, L)`` inputs."""

    _fn = "max_pool1d"


class MaxPool2d(_MaxPoolNd):
    """Max over ``kernel_size`` windows of ``(N, C, H, W)`` inputs; ``stride`` defaults to the
    kernel size.

    >>> import backprop as bp
    >>> pool = bp.nn.MaxPool2d(2)
    >>> pool
    MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    >>> pool(bp.ones(1, 3, 4, 6)).shape
    (1, 3, 2, 3)
    """

    _fn = "max_pool2d"


class MaxPool3d(_MaxPoolNd):
    """Max over ``kernel_size`` windows of ``(N, C, D, H, W)`` inputs.

    >>> import backprop as bp
    >>> bp.nn.MaxPool3d(2)(bp.ones(1, 3, 4, 4, 6)).shape
    (1, 3, 2, 2, 3)
    """

    _fn = "max_pool3d"


class _AvgPoolNd(Module):
    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Mean over sliding windows of ``(N, C, L)`` inputs."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        # Stored as 1-tuples, as PyTorch does (and prints) for AvgPool1d only.
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """Mean over ``kernel_size`` windows of ``(N, C, H, W)`` inputs; ``stride`` defaults to the
    kernel size.

    >>> import backprop as bp
    >>> bp.nn.AvgPool2d(2)(bp.ones(1, 1, 4, 4)).tolist()
    [[[[1.0, 1.0], [1.0, 1.0]]]]
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class AvgPool3d(AvgPool2d):
    """Mean over ``kernel_size`` windows of ``(N, C, D, H, W)`` inputs.

    >>> import backprop as bp
    >>> bp.nn.AvgPool3d(2)(bp.ones(1, 1, 2, 4, 4)).shape
    (1, 1, 1, 2, 2)
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class _AdaptivePoolNd(Module):
    _fn = ""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return getattr(F, self._fn)(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """Mean pooling to a fixed output length."""

    _fn = "adaptive_avg_pool1d"


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """Mean pooling to a fixed ``output_size`` whatever the input size (``1`` gives global
    average pooling); ``None`` in ``output_size`` keeps that input size.

    >>> import backprop as bp
    >>> bp.nn.AdaptiveAvgPool2d((1, 1))(bp.ones(2, 3, 5, 7)).shape
    (2, 3, 1, 1)
    """

    _fn = "adaptive_avg_pool2d"


class AdaptiveAvgPool3d(_AdaptivePoolNd):
    """Mean pooling of ``(N, C, D, H, W)`` inputs to a fixed ``output_size``.

    >>> import backprop as bp
    >>> bp.nn.AdaptiveAvgPool3d(1)(bp.ones(2, 3, 5, 7, 4)).shape
    (2, 3, 1, 1, 1)
    """

    _fn = "adaptive_avg_pool3d"


class _AdaptiveMaxPoolNd(Module):
    _fn = ""

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        return getattr(F, self._fn)(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling of ``(N, C, L)`` inputs to a fixed output length.

    >>> import backprop as bp
    >>> bp.nn.AdaptiveMaxPool1d(2)(bp.tensor([[1., 5., 2., 4., 3.]])).tolist()
    [[5.0, 4.0]]
    """

    _fn = "adaptive_max_pool1d"


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling of ``(N, C, H, W)`` inputs to a fixed ``output_size``; with
    ``return_indices`` also each maximum's flat index (for ``MaxUnpool2d``).

    >>> import backprop as bp
    >>> bp.nn.AdaptiveMaxPool2d((2, 3))(bp.ones(2, 3, 5, 7)).shape
    (2, 3, 2, 3)
    """

    _fn = "adaptive_max_pool2d"


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max pooling of ``(N, C, D, H, W)`` inputs to a fixed ``output_size``.

    >>> import backprop as bp
    >>> bp.nn.AdaptiveMaxPool3d(1)(bp.ones(1, 2, 3, 3, 3)).shape
    (1, 2, 1, 1, 1)
    """

    _fn = "adaptive_max_pool3d"


class _MaxUnpoolNd(Module):
    _fn = ""
    _tuple: Any = staticmethod(_single)

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size = self._tuple(kernel_size)
        self.stride = self._tuple(stride if stride is not None else kernel_size)
        self.padding = self._tuple(padding)

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        return getattr(F, self._fn)(input, indices, self.kernel_size, self.stride, self.padding,
                                    output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool1d``: values put back at their indices, zeros elsewhere.

    >>> import backprop as bp
    >>> values, indices = bp.nn.MaxPool1d(2, return_indices=True)(bp.tensor([[1., 3., 2., 0.]]))
    >>> bp.nn.MaxUnpool1d(2)(values, indices).tolist()
    [[0.0, 3.0, 2.0, 0.0]]
    """

    _fn = "max_unpool1d"
    _tuple = staticmethod(_single)


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool2d``; ``forward(input, indices, output_size=None)``.

    >>> import backprop as bp
    >>> bp.nn.MaxUnpool2d(2)
    MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))
    """

    _fn = "max_unpool2d"
    _tuple = staticmethod(_pair)


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool3d``.

    >>> import backprop as bp
    >>> bp.nn.MaxUnpool3d(2).kernel_size
    (2, 2, 2)
    """

    _fn = "max_unpool3d"
    _tuple = staticmethod(_triple)


class _LPPoolNd(Module):
    _fn = ""

    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        return getattr(F, self._fn)(input, float(self.norm_type), self.kernel_size, self.stride,
                                    self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """Power-average pooling ``(sum of x ** p over each window) ** (1 / p)`` of ``(N, C, L)``.

    >>> import backprop as bp
    >>> bp.nn.LPPool1d(2, 2)(bp.tensor([[[3., 4.]]])).tolist()
    [[[5.0]]]
    """

    _fn = "lp_pool1d"


class LPPool2d(_LPPoolNd):
    """Power-average pooling of ``(N, C, H, W)`` (p = 1: sum pooling; p = inf: max pooling).

    >>> import backprop as bp
    >>> bp.nn.LPPool2d(1, 2)(bp.ones(1, 1, 2, 2)).tolist()
    [[[[4.0]]]]
    """

    _fn = "lp_pool2d"


class LPPool3d(_LPPoolNd):
    """Power-average pooling of ``(N, C, D, H, W)``.

    >>> import backprop as bp
    >>> bp.nn.LPPool3d(2, 2)(bp.ones(1, 1, 2, 2, 2)).shape
    (1, 1, 1, 1, 1)
    """

    _fn = "lp_pool3d"


class PixelShuffle(Module):
    """Rearrange ``(N, C * r^2, H, W)`` into ``(N, C, H * r, W * r)`` (sub-pixel upsampling).

    >>> import backprop as bp
    >>> bp.nn.PixelShuffle(2)(bp.ones(1, 8, 3, 3)).shape
    (1, 2, 6, 6)
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """The inverse of ``PixelShuffle``."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
