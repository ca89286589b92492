"""What an image is to ``backprop.vision``: a PIL Image when Pillow is installed (the ``vision``
extra; torchvision always gives PIL images and programs' transforms expect them), else a uint8
NumPy array ``(H, W)`` or ``(H, W, C)``; transforms also take Tensors ``(..., C, H, W)``.
Pillow is imported here, lazily, and nowhere at module level.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor

_NO_PILLOW = object()
_pillow: Any = None


def pillow() -> Any:
    """``PIL.Image``, or None when Pillow is not installed."""
    global _pillow
    if _pillow is None:
        try:
            from PIL import Image
        except ImportError:
            _pillow = _NO_PILLOW
        else:
            _pillow = Image
    return None if _pillow is _NO_PILLOW else _pillow


def require_pillow(op: str) -> Any:
    image = pillow()
    if image is None:
        raise ImportError(f"{op}: needs Pillow, which is not installed; install it with "
                          "pip install 'backprop[vision]'")
    return image


def is_pil(img: Any) -> bool:
    image = pillow()
    return image is not None and isinstance(img, image.Image)


def from_pixels(pixels: np.ndarray) -> Any:
    """A dataset's uint8 pixels ``(H, W)`` or ``(H, W, 3)`` as a PIL Image ('L' or 'RGB'), or
    as the array itself (a copy) when Pillow is missing."""
    image = pillow()
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    if image is None:
        return pixels.copy()
    return image.fromarray(pixels)


def describe(img: Any) -> str:
    if isinstance(img, Tensor):
        return f"a Tensor of shape {tuple(img.shape)} and dtype {img.dtype}"
    if isinstance(img, np.ndarray):
        return f"an ndarray of shape {img.shape} and dtype {img.dtype}"
    if is_pil(img):
        return f"a PIL Image (mode {img.mode}, size {img.size})"
    return f"a {type(img).__name__}"


def check_image(img: Any, op: str) -> None:
    """Refuse anything that is not a PIL Image, an ndarray or a Tensor, naming ``op``."""
    if not (isinstance(img, (Tensor, np.ndarray)) or is_pil(img)):
        raise TypeError(f"{op}: img should be a PIL Image, a uint8 ndarray (H, W[, C]) or a "
                        f"Tensor (..., C, H, W); got {describe(img)}")


def get_dimensions(img: Any, op: str = "get_dimensions") -> list[int]:
    """``[channels, height, width]`` of a PIL Image, an ndarray (H, W[, C]) or a Tensor
    (..., C, H, W), as torchvision's ``get_dimensions``."""
    check_image(img, op)
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise TypeError(f"{op}: a Tensor image needs at least 2 dimensions (H, W), got "
                            f"shape {tuple(img.shape)}")
        channels = 1 if img.ndim == 2 else img.shape[-3]
        return [channels, img.shape[-2], img.shape[-1]]
    if isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            raise TypeError(f"{op}: an ndarray image is (H, W) or (H, W, C), got shape "
                            f"{img.shape}")
        return [1 if img.ndim == 2 else img.shape[2], img.shape[0], img.shape[1]]
    width, height = img.size
    return [len(img.getbands()), height, width]
