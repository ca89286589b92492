"""torchvision's transform classes: callables built from ``functional``, with torchvision's
arguments, defaults and ``repr``. Those that torchvision makes ``nn.Module``s (``Normalize``,
``Resize``, the crops and flips, ...) are ``bp.nn.Module``s here too, so they go into
``nn.Sequential``. The random ones draw from backprop's global generator, so
``bp.manual_seed`` (``torch.manual_seed`` under ``backprop run``) makes them repeat.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from ...creation import rand, randint
from ...nn.module import Module
from ...tensor import Tensor
from . import functional as F
from .functional import InterpolationMode


class Compose:
    """Apply ``transforms`` one after the other.

    >>> Compose([Lambda(lambda x: x + 1), Lambda(lambda x: 2 * x)])(1)
    4
    """

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)
        for i, t in enumerate(self.transforms):
            if not callable(t):
                raise TypeError(f"Compose: transform {i} is not callable: {t!r}")

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({lines}\n)"


class _Simple:
    """A transform whose ``repr`` is its name and its arguments."""

    def _args(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._args()})"


class _ModuleTransform(_Simple, Module):
    """A transform that is an ``nn.Module`` (as in torchvision): calling it runs ``forward``."""


class ToTensor(_Simple):
    """A PIL Image or uint8 ndarray ``(H, W[, C])`` as a float32 Tensor ``(C, H, W)`` in
    [0, 1] (see ``functional.to_tensor``)."""

    def __call__(self, pic: Any) -> Tensor:
        return F.to_tensor(pic)


class PILToTensor(_Simple):
    """A PIL Image as a Tensor ``(C, H, W)`` of its own dtype, values unchanged."""

    def __call__(self, pic: Any) -> Tensor:
        return F.pil_to_tensor(pic)


class ToPILImage(_Simple):
    """A Tensor or ndarray as a PIL Image (see ``functional.to_pil_image``)."""

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic: Any) -> Any:
        return F.to_pil_image(pic, self.mode)

    def _args(self) -> str:
        return f"mode={self.mode}" if self.mode is not None else ""


class ConvertImageDtype(_ModuleTransform):
    """A Tensor image in ``dtype``, its values rescaled (see ``functional.convert_image_dtype``)."""

    def __init__(self, dtype: Any) -> None:
        super().__init__()
        self.dtype = dtype

    def forward(self, image: Tensor) -> Tensor:
        return F.convert_image_dtype(image, self.dtype)


class Normalize(_ModuleTransform):
    """``(x - mean) / std`` per channel of a float Tensor ``(..., C, H, W)``.

    >>> Normalize((0.1307,), (0.3081,))
    Normalize(mean=(0.1307,), std=(0.3081,))
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float],
                 inplace: bool = False) -> None:
        super().__init__()
        self.mean, self.std, self.inplace = mean, std, inplace

    def forward(self, tensor: Tensor) -> Tensor:
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def _args(self) -> str:
        return f"mean={self.mean}, std={self.std}"


class Resize(_ModuleTransform):
    """Resize to ``size``: an int sets the shorter side (aspect ratio kept), ``(h, w)`` the
    exact size (see ``functional.resize``).

    >>> Resize(64)
    Resize(size=64, interpolation=bilinear, max_size=None, antialias=True)
    """

    def __init__(self, size: Any, interpolation: Any = InterpolationMode.BILINEAR,
                 max_size: int | None = None, antialias: bool | None = True) -> None:
        super().__init__()
        F._check_size(size, "Resize")
        self.size = size
        self.interpolation = F._interpolation(interpolation, "Resize")
        self.max_size, self.antialias = max_size, antialias

    def forward(self, img: Any) -> Any:
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def _args(self) -> str:
        return (f"size={self.size}, interpolation={self.interpolation.value}, "
                f"max_size={self.max_size}, antialias={self.antialias}")


class CenterCrop(_ModuleTransform):
    """The central ``size`` window (an int for a square).

    >>> CenterCrop(28)
    CenterCrop(size=(28, 28))
    """

    def __init__(self, size: Any) -> None:
        super().__init__()
        self.size = F._size_pair(size, "CenterCrop")

    def forward(self, img: Any) -> Any:
        return F.center_crop(img, self.size)

    def _args(self) -> str:
        return f"size={self.size}"


class RandomCrop(_ModuleTransform):
    """A ``size`` window at a random place, after optional ``padding`` (as ``Pad``) and, with
    ``pad_if_needed``, padding an image smaller than ``size``. The place is drawn from
    backprop's global generator.

    >>> import backprop as bp, numpy as np
    >>> _ = bp.manual_seed(0); a = RandomCrop(2)(np.arange(16, dtype=np.uint8).reshape(4, 4))
    >>> _ = bp.manual_seed(0); b = RandomCrop(2)(np.arange(16, dtype=np.uint8).reshape(4, 4))
    >>> a.shape, bool((a == b).all())
    ((2, 2), True)
    """

    def __init__(self, size: Any, padding: Any = None, pad_if_needed: bool = False,
                 fill: Any = 0, padding_mode: str = "constant") -> None:
        super().__init__()
        self.size = F._size_pair(size, "RandomCrop")
        if padding is not None:
            F._pad_widths(padding, "RandomCrop")
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    @staticmethod
    def get_params(img: Any, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """``(top, left, height, width)`` of a random crop of ``output_size``."""
        _, height, width = F.get_dimensions(img, "RandomCrop")
        crop_h, crop_w = output_size
        if height < crop_h or width < crop_w:
            raise ValueError(f"RandomCrop: required crop size {(crop_h, crop_w)} is larger than "
                             f"the input image size {(height, width)}; pass pad_if_needed=True "
                             "or padding=")
        if (height, width) == (crop_h, crop_w):
            return 0, 0, height, width
        top = int(randint(0, height - crop_h + 1, size=(1,)).item())
        left = int(randint(0, width - crop_w + 1, size=(1,)).item())
        return top, left, crop_h, crop_w

    def forward(self, img: Any) -> Any:
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img, "RandomCrop")
        crop_h, crop_w = self.size
        if self.pad_if_needed and width < crop_w:
            img = F.pad(img, [crop_w - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < crop_h:
            img = F.pad(img, [0, crop_h - height], self.fill, self.padding_mode)
        top, left, h, w = self.get_params(img, self.size)
        return F.crop(img, top, left, h, w)

    def _args(self) -> str:
        return f"size={self.size}, padding={self.padding}"


class RandomResizedCrop(_ModuleTransform):
    """A crop of random area (``scale`` of the image's) and aspect ratio (in ``ratio``),
    resized to ``size``, as torchvision draws it (ten tries, then a central crop); the draws
    come from backprop's global generator.

    >>> import numpy as np
    >>> RandomResizedCrop(4)(np.zeros((10, 12), np.uint8)).shape
    (4, 4)
    """

    def __init__(self, size: Any, scale: tuple[float, float] = (0.08, 1.0),
                 ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0),
                 interpolation: Any = InterpolationMode.BILINEAR,
                 antialias: bool | None = True) -> None:
        super().__init__()
        self.size = F._size_pair(size, "RandomResizedCrop")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError(f"RandomResizedCrop: scale and ratio should be (min, max), got "
                             f"scale={scale}, ratio={ratio}")
        self.scale, self.ratio = scale, ratio
        self.interpolation = F._interpolation(interpolation, "RandomResizedCrop")
        self.antialias = antialias

    @staticmethod
    def get_params(img: Any, scale: Sequence[float], ratio: Sequence[float]
                   ) -> tuple[int, int, int, int]:
        """``(top, left, height, width)`` of a random crop."""
        _, height, width = F.get_dimensions(img, "RandomResizedCrop")
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target_area = area * _uniform(scale[0], scale[1])
            aspect_ratio = math.exp(_uniform(log_ratio[0], log_ratio[1]))
            w = round(math.sqrt(target_area * aspect_ratio))
            h = round(math.sqrt(target_area / aspect_ratio))
            if 0 < w <= width and 0 < h <= height:
                top = int(randint(0, height - h + 1, size=(1,)).item())
                left = int(randint(0, width - w + 1, size=(1,)).item())
                return top, left, h, w
        # Ten misses: the largest central crop whose aspect ratio is within ``ratio``.
        in_ratio = width / height
        if in_ratio < min(ratio):
            w, h = width, round(width / min(ratio))
        elif in_ratio > max(ratio):
            w, h = round(height * max(ratio)), height
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def forward(self, img: Any) -> Any:
        top, left, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, top, left, h, w, list(self.size), self.interpolation,
                              antialias=self.antialias)

    def _args(self) -> str:
        scale = tuple(round(s, 4) for s in self.scale)
        ratio = tuple(round(r, 4) for r in self.ratio)
        return (f"size={self.size}, scale={scale}, ratio={ratio}, "
                f"interpolation={self.interpolation.value}, antialias={self.antialias}")


def _uniform(low: float, high: float) -> float:
    """One draw in [low, high) from backprop's global generator."""
    return low + (high - low) * float(rand(1).item())


class RandomApply(_ModuleTransform):
    """Apply all of ``transforms`` with probability ``p`` (drawn from backprop's global
    generator), else none."""

    def __init__(self, transforms: Sequence[Callable], p: float = 0.5) -> None:
        super().__init__()
        self.transforms, self.p = list(transforms), p

    def forward(self, img: Any) -> Any:
        if self.p < float(rand(1).item()):
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}(\n    p={self.p}{lines}\n)"


class _RandomFlip(_ModuleTransform):
    flip: Callable[[Any], Any]

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: p must be a probability in [0, 1], got "
                             f"{p!r}")
        self.p = p

    def forward(self, img: Any) -> Any:
        F.get_dimensions(img, type(self).__name__)
        if float(rand(1).item()) < self.p:
            return type(self).flip(img)
        return img

    def _args(self) -> str:
        return f"p={self.p}"


class RandomHorizontalFlip(_RandomFlip):
    """Mirror left to right with probability ``p`` (drawn from backprop's global generator).

    >>> import numpy as np
    >>> RandomHorizontalFlip(p=1.0)(np.array([[1, 2]], np.uint8)).tolist()
    [[2, 1]]
    """

    flip = staticmethod(F.hflip)


class RandomVerticalFlip(_RandomFlip):
    """Mirror top to bottom with probability ``p`` (drawn from backprop's global generator)."""

    flip = staticmethod(F.vflip)


class Lambda(_Simple):
    """A user function as a transform.

    >>> Lambda(lambda x: x * 2)(3)
    6
    """

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda: the argument should be callable, got "
                            f"{type(lambd).__name__} {lambd!r}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)


class Grayscale(_ModuleTransform):
    """Grey (luma) image with ``num_output_channels`` 1 or 3 channels."""

    def __init__(self, num_output_channels: int = 1) -> None:
        super().__init__()
        if num_output_channels not in (1, 3):
            raise ValueError(f"Grayscale: num_output_channels should be 1 or 3, got "
                             f"{num_output_channels!r}")
        self.num_output_channels = num_output_channels

    def forward(self, img: Any) -> Any:
        return F.rgb_to_grayscale(img, self.num_output_channels)

    def _args(self) -> str:
        return f"num_output_channels={self.num_output_channels}"


class Pad(_ModuleTransform):
    """Pad every side (see ``functional.pad``)."""

    def __init__(self, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> None:
        super().__init__()
        F._pad_widths(padding, "Pad")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"Pad: padding_mode should be constant, edge, reflect or "
                             f"symmetric, got {padding_mode!r}")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def forward(self, img: Any) -> Any:
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def _args(self) -> str:
        return f"padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode}"


__all__ = ["CenterCrop", "Compose", "ConvertImageDtype", "Grayscale", "InterpolationMode", "Lambda",
           "Normalize", "PILToTensor", "Pad", "RandomApply", "RandomCrop", "RandomHorizontalFlip",
           "RandomResizedCrop", "RandomVerticalFlip", "Resize", "ToPILImage", "ToTensor"]
