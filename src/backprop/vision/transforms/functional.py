"""``torchvision.transforms.functional``: the image operations behind the transform classes.

An image is a PIL Image, a uint8 ndarray ``(H, W)`` or ``(H, W, C)`` (what the data sets give
without Pillow), or a Tensor ``(..., C, H, W)``; each function returns the kind it was given
(``to_tensor`` and ``to_pil_image`` convert). PIL Images are resized, cropped and flipped by
Pillow itself, so the numbers are torchvision's. The geometric functions work on a Tensor's
values and return a new Tensor that is not part of the autograd graph (``normalize`` is, as it
uses Tensor operations); they are for preparing data.
"""

from __future__ import annotations

import enum
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...backend import device_of, to_device, to_host
from ...nn.functional import interpolate
from ...tensor import Tensor
from .._image import check_image, describe, get_dimensions, is_pil, require_pillow
from ._resize import resize_antialiased, shrinks


class InterpolationMode(enum.Enum):
    """How ``resize`` computes new pixels; the values are torchvision's."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PIL_FILTERS = {InterpolationMode.NEAREST: 0, InterpolationMode.LANCZOS: 1,
                InterpolationMode.BILINEAR: 2, InterpolationMode.BICUBIC: 3,
                InterpolationMode.BOX: 4, InterpolationMode.HAMMING: 5}
_PIL_MODE_NAMES = {0: InterpolationMode.NEAREST, 1: InterpolationMode.LANCZOS,
                   2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
                   4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING}


# -- the three kinds of image as one array with height and width last --------------------------

def _unpack(img: Any, op: str) -> tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    """The pixels as an ndarray (..., H, W) (channels first) and the function that turns such
    an array back into the kind of ``img``."""
    check_image(img, op)
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise TypeError(f"{op}: a Tensor image needs at least 2 dimensions (..., H, W), got "
                            f"shape {tuple(img.shape)}")
        # The work is done on the host; the result goes back to the Tensor's device.
        where = device_of(img._data)
        return to_host(img._data), lambda a: Tensor._wrap(to_device(np.ascontiguousarray(a),
                                                                      where))
    if isinstance(img, np.ndarray):
        get_dimensions(img, op)
        if img.ndim == 2:
            return img, np.ascontiguousarray
        return img.transpose(2, 0, 1), lambda a: np.ascontiguousarray(a.transpose(1, 2, 0))
    pixels = np.asarray(img)
    image, palette, mode = require_pillow(op), img.getpalette(), img.mode

    def to_pil(a: np.ndarray) -> Any:
        out = image.fromarray(np.ascontiguousarray(a if a.ndim == 2 else a.transpose(1, 2, 0)))
        if palette is not None and mode == "P":
            out.putpalette(palette)
        return out

    return (pixels if pixels.ndim == 2 else pixels.transpose(2, 0, 1)), to_pil


def _size_pair(size: Any, op: str, name: str = "size") -> tuple[int, int]:
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) in (1, 2) \
            and all(isinstance(n, numbers.Integral) for n in size):
        return (int(size[0]), int(size[0])) if len(size) == 1 else (int(size[0]), int(size[1]))
    raise ValueError(f"{op}: {name} must be an int or a sequence of one or two ints "
                     f"(height, width), got {size!r}")


# -- conversions ---------------------------------------------------------------------------------

def to_tensor(pic: Any) -> Tensor:
    """A PIL Image or ndarray ``(H, W[, C])`` as a Tensor ``(C, H, W)``; uint8 pixels become
    float32 in [0, 1] (divided by 255), other dtypes keep their values.

    >>> to_tensor(np.array([[0, 255]], dtype=np.uint8)).tolist()
    [[[0.0, 1.0]]]
    """
    if not (isinstance(pic, np.ndarray) or is_pil(pic)):
        raise TypeError(f"to_tensor: pic should be a PIL Image or an ndarray (H, W[, C]); got "
                        f"{describe(pic)} (for a Tensor use convert_image_dtype)")
    if is_pil(pic):
        pixels = np.array(pic)
        if pic.mode == "1":
            pixels = pixels.astype(np.uint8) * np.uint8(255)
    else:
        pixels = pic
        if pixels.ndim not in (2, 3):
            raise ValueError(f"to_tensor: pic should be 2 or 3 dimensional (H, W[, C]), got "
                             f"shape {pixels.shape}")
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    chw = np.ascontiguousarray(pixels.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        return Tensor._wrap(chw.astype(np.float32) / np.float32(255))
    return Tensor._wrap(chw.copy())


def pil_to_tensor(pic: Any) -> Tensor:
    """A PIL Image (or ndarray ``(H, W[, C])``) as a Tensor ``(C, H, W)`` of the same dtype,
    values unchanged.

    >>> pil_to_tensor(np.array([[0, 255]], dtype=np.uint8)).tolist()
    [[[0, 255]]]
    """
    if not (isinstance(pic, np.ndarray) or is_pil(pic)):
        raise TypeError(f"pil_to_tensor: pic should be a PIL Image; got {describe(pic)}")
    pixels = np.array(pic)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return Tensor._wrap(np.ascontiguousarray(pixels.transpose(2, 0, 1)))


def _max_value(dtype: np.dtype) -> int:
    return int(np.iinfo(dtype).max)


def convert_image_dtype(image: Tensor, dtype: Any = np.float32) -> Tensor:
    """``image`` in ``dtype``, rescaled: integers span [0, max of the dtype], floats [0, 1].

    >>> convert_image_dtype(Tensor._wrap(np.array([0, 128, 255], np.uint8))).tolist()
    [0.0, 0.501960813999176, 1.0]
    """
    if not isinstance(image, Tensor):
        raise TypeError(f"convert_image_dtype: image should be a Tensor; got {describe(image)}")
    target = np.dtype(dtype)
    pixels = np.asarray(image._data)
    if pixels.dtype == target:
        return image
    if pixels.dtype.kind == "f":
        if target.kind == "f":
            return Tensor._wrap(pixels.astype(target))
        if (pixels.dtype == np.float32 and target in (np.int32, np.int64)) or \
                (pixels.dtype == np.float64 and target == np.int64):
            raise RuntimeError(f"convert_image_dtype: the cast from {pixels.dtype} to {target} "
                               "cannot be performed safely")
        # 1 - eps below the next integer: 1.0 maps to max, and [0, 1) splits into equal bins.
        scaled = pixels * pixels.dtype.type(_max_value(target) + 1.0 - 1e-3)
        return Tensor._wrap(scaled.astype(target))
    input_max = _max_value(pixels.dtype)
    if target.kind == "f":
        return Tensor._wrap(pixels.astype(target) / target.type(input_max))
    output_max = _max_value(target)
    if input_max > output_max:
        factor = (input_max + 1) // (output_max + 1)
        return Tensor._wrap((pixels // factor).astype(target))
    factor = (output_max + 1) // (input_max + 1)
    return Tensor._wrap(pixels.astype(target) * target.type(factor))


def to_pil_image(pic: Any, mode: str | None = None) -> Any:
    """A Tensor ``(C, H, W)`` or ndarray ``(H, W, C)`` as a PIL Image; floating-point Tensors are
    multiplied by 255 and truncated to uint8 (values outside [0, 1] wrap around, as
    ``Tensor.byte()``). One channel gives mode 'L' (uint8) or 'F' (float32), three 'RGB', four
    'RGBA'; ``mode`` converts the result.

    >>> to_pil_image(Tensor._wrap(np.ones((3, 2, 2), np.float32))).mode  # doctest: +SKIP
    'RGB'
    """
    image = require_pillow("to_pil_image")
    if isinstance(pic, Tensor):
        pixels = np.asarray(pic._data)
        if pixels.ndim == 2:
            pixels = pixels[None]
        if pixels.ndim != 3:
            raise ValueError(f"to_pil_image: pic should be 2 or 3 dimensional (C, H, W), got "
                             f"shape {pixels.shape}")
        if pixels.dtype.kind == "f" and mode != "F":
            pixels = np.mod(np.trunc(pixels * pixels.dtype.type(255)).astype(np.int64),
                            256).astype(np.uint8)
        pixels = pixels.transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        pixels = pic if pic.ndim == 3 else pic[:, :, None]
        if pixels.ndim != 3:
            raise ValueError(f"to_pil_image: pic should be 2 or 3 dimensional (H, W, C), got "
                             f"shape {pic.shape}")
    else:
        raise TypeError(f"to_pil_image: pic should be a Tensor or an ndarray; got "
                        f"{describe(pic)}")
    channels = pixels.shape[2]
    if channels not in (1, 3, 4):
        raise ValueError(f"to_pil_image: pic should have 1, 3 or 4 channels, got {channels} "
                         f"(shape {tuple(pixels.shape)})")
    if channels == 1:
        pixels = pixels[:, :, 0]
    elif pixels.dtype != np.uint8:
        raise TypeError(f"to_pil_image: {channels}-channel images must be uint8, got "
                        f"{pixels.dtype}")
    result = image.fromarray(np.ascontiguousarray(pixels))
    return result if mode is None or mode == result.mode else result.convert(mode)


# -- values --------------------------------------------------------------------------------------

def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float],
              inplace: bool = False) -> Tensor:
    """``(tensor - mean) / std`` per channel of a float Tensor ``(..., C, H, W)``.

    >>> import backprop as bp
    >>> normalize(bp.ones(2, 1, 1), [0.5, 0.0], [0.5, 2.0]).flatten().tolist()
    [1.0, 0.5]
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"normalize: tensor should be a Tensor; got {describe(tensor)}")
    if tensor.dtype.kind != "f":
        raise TypeError(f"normalize: the tensor should be a float tensor, got {tensor.dtype}; "
                        "convert it first (ToTensor or ConvertImageDtype)")
    if tensor.ndim < 3:
        raise ValueError(f"normalize: expected a tensor image of size (..., C, H, W), got shape "
                         f"{tuple(tensor.shape)}")
    dtype = tensor.dtype
    mean_values = np.asarray(mean, dtype=dtype)
    std_values = np.asarray(std, dtype=dtype)
    if (std_values == 0).any():
        raise ValueError(f"normalize: std evaluated to zero after conversion to {dtype}, "
                         f"leading to division by zero (std={std!r})")
    if mean_values.ndim == 1:
        mean_values = mean_values.reshape(-1, 1, 1)
    if std_values.ndim == 1:
        std_values = std_values.reshape(-1, 1, 1)
    where = device_of(tensor._data)
    mean_t = Tensor._wrap(to_device(mean_values, where))
    std_t = Tensor._wrap(to_device(std_values, where))
    if inplace:
        return tensor.sub_(mean_t).div_(std_t)
    return (tensor - mean_t) / std_t


def rgb_to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    """Luma ``0.2989 R + 0.587 G + 0.114 B`` in 1 channel (or 3 equal ones), as torchvision:
    integer pixels are truncated (the weights sum to 0.9999, so grey 100 becomes 99). PIL
    Images are converted by Pillow (``convert("L")``, which rounds).

    >>> rgb_to_grayscale(np.full((1, 1, 3), 100, np.uint8)).tolist()
    [[99]]
    """
    if num_output_channels not in (1, 3):
        raise ValueError(f"rgb_to_grayscale: num_output_channels should be 1 or 3, got "
                         f"{num_output_channels!r}")
    if is_pil(img):
        grey = img.convert("L")
        if num_output_channels == 3:
            grey = require_pillow("rgb_to_grayscale").merge("RGB", (grey, grey, grey))
        return grey
    pixels, restore = _unpack(img, "rgb_to_grayscale")
    channels = 1 if pixels.ndim == 2 else pixels.shape[-3]
    if pixels.ndim == 2:
        pixels = pixels[None]
    if channels == 3:
        work = np.float32 if pixels.dtype.kind != "f" else pixels.dtype.type
        r, g, b = (pixels[..., i, :, :].astype(work) for i in range(3))
        luma = (work(0.2989) * r + work(0.587) * g + work(0.114) * b).astype(pixels.dtype)
        grey = luma[..., None, :, :]
    elif channels == 1:
        grey = pixels.copy()
    else:
        raise TypeError(f"rgb_to_grayscale: expected 1 or 3 channels, got {channels} "
                        f"({describe(img)})")
    if num_output_channels == 3:
        grey = np.repeat(grey, 3, axis=-3)
    if isinstance(img, np.ndarray):  # (H, W) as a grey PIL Image's array, or (H, W, 3)
        return np.ascontiguousarray(grey[0] if num_output_channels == 1
                                    else grey.transpose(1, 2, 0))
    return restore(grey)


def to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    """``rgb_to_grayscale`` for PIL Images (torchvision's older name)."""
    return rgb_to_grayscale(img, num_output_channels)


# -- geometry ------------------------------------------------------------------------------------

def _output_size(height: int, width: int, size: Any, max_size: int | None) -> tuple[int, int]:
    """torchvision's rule: an int (or one-item list) sets the shorter side, keeping the aspect
    ratio (the longer side truncated); a pair is (height, width)."""
    if isinstance(size, numbers.Integral) or (isinstance(size, Sequence) and len(size) == 1):
        requested = int(size if isinstance(size, numbers.Integral) else size[0])
        short, long = (width, height) if width <= height else (height, width)
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(f"resize: max_size = {max_size} must be strictly greater than "
                                 f"the requested size for the smaller edge, {requested}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if width <= height else (new_short, new_long)
    if max_size is not None:
        raise ValueError("resize: max_size is only allowed when size is an int or a one-item "
                         f"list (the shorter side), got size={size!r}")
    return int(size[0]), int(size[1])


def _check_size(size: Any, op: str) -> None:
    ok = isinstance(size, numbers.Integral) or (
        isinstance(size, Sequence) and len(size) in (1, 2)
        and all(isinstance(n, numbers.Integral) for n in size))
    if not ok:
        raise TypeError(f"{op}: size should be an int or a sequence of one or two ints, got "
                        f"{size!r}")
    values = [size] if isinstance(size, numbers.Integral) else list(size)
    if any(n <= 0 for n in values):
        raise ValueError(f"{op}: sizes must be positive, got {size!r}")


def _interpolation(interpolation: Any, op: str) -> InterpolationMode:
    if isinstance(interpolation, InterpolationMode):
        return interpolation
    if isinstance(interpolation, int) and interpolation in _PIL_MODE_NAMES:
        return _PIL_MODE_NAMES[interpolation]  # PIL's integer constants, as torchvision allows
    raise TypeError(f"{op}: interpolation should be an InterpolationMode, got "
                    f"{interpolation!r}")


def resize(img: Any, size: Any, interpolation: Any = InterpolationMode.BILINEAR,
           max_size: int | None = None, antialias: bool | None = True) -> Any:
    """``img`` resized: an int ``size`` sets the shorter side (aspect ratio kept), ``(h, w)``
    the exact size. PIL Images are resized by Pillow (antialiased, torchvision's numbers);
    Tensors and ndarrays use our antialiased filter (PyTorch's ``antialias=True``, which
    ``bp.nn.functional.interpolate`` lacks) when shrinking and for bicubic, and
    ``bp.nn.functional.interpolate`` otherwise (enlarging, nearest, or ``antialias=False``).
    Integer pixels are rounded back to their dtype; a uint8 array (an image without Pillow)
    comes within 1 of what Pillow gives for the same picture (Pillow computes in fixed point).

    >>> resize(np.zeros((4, 6), np.uint8), 2).shape
    (2, 3)
    """
    op = "resize"
    _check_size(size, op)
    mode = _interpolation(interpolation, op)
    _, height, width = get_dimensions(img, op)
    out_h, out_w = _output_size(height, width, size, max_size)
    if (out_h, out_w) == (height, width):
        return img
    if is_pil(img):
        if mode not in _PIL_FILTERS:
            raise ValueError(f"resize: PIL Images cannot be resized with {mode}")
        return img.resize((out_w, out_h), _PIL_FILTERS[mode])
    if mode not in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT,
                    InterpolationMode.BILINEAR, InterpolationMode.BICUBIC):
        raise ValueError(f"resize: Tensors and ndarrays can be resized with nearest, "
                         f"nearest-exact, bilinear or bicubic, not {mode.value}")
    pixels, restore = _unpack(img, op)
    dtype = pixels.dtype
    work = pixels.astype(np.float32) if dtype.kind != "f" else pixels
    lead = work.shape[:-2]
    flat = work.reshape((-1, 1) + work.shape[-2:])  # (N, 1, H, W) for interpolate
    linear = mode in (InterpolationMode.BILINEAR, InterpolationMode.BICUBIC)
    # Antialiased bicubic uses PIL's cubic (a = -0.5) even when enlarging; interpolate's
    # bicubic is a = -0.75, as PyTorch's without antialias.
    bicubic = mode == InterpolationMode.BICUBIC
    if linear and antialias and (bicubic or shrinks((height, width), (out_h, out_w))):
        out = resize_antialiased(flat, (out_h, out_w), mode.value)
    else:
        out = np.asarray(interpolate(Tensor._wrap(flat), size=(out_h, out_w), mode=mode.value,
                                     align_corners=False if linear else None)._data)
    out = out.reshape(lead + (out_h, out_w))
    if dtype.kind != "f":
        info = np.iinfo(dtype)
        out = np.clip(np.round(out), info.min, info.max).astype(dtype)
    return restore(out)


def _pad_widths(padding: Any, op: str) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) from an int, a pair (left/right, top/bottom) or a 4-tuple."""
    if isinstance(padding, numbers.Integral):
        p = int(padding)
        return p, p, p, p
    if isinstance(padding, Sequence) and all(isinstance(n, numbers.Integral) for n in padding):
        if len(padding) == 1:
            return (int(padding[0]),) * 4  # type: ignore[return-value]
        if len(padding) == 2:
            return int(padding[0]), int(padding[1]), int(padding[0]), int(padding[1])
        if len(padding) == 4:
            left, top, right, bottom = (int(n) for n in padding)
            return left, top, right, bottom
    raise ValueError(f"{op}: padding must be an int or a sequence of 1, 2 or 4 ints, got "
                     f"{padding!r}")


_NUMPY_PAD_MODES = {"edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}


def pad(img: Any, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> Any:
    """``img`` with ``padding`` pixels added: an int for every side, ``(left/right,
    top/bottom)`` or ``(left, top, right, bottom)``. ``padding_mode`` is constant (``fill``, a
    number or one per channel), edge, reflect or symmetric. Negative padding crops.

    >>> pad(np.ones((1, 2), np.uint8), (1, 0)).tolist()
    [[0, 1, 1, 0]]
    """
    op = "pad"
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError(f"{op}: padding_mode should be constant, edge, reflect or symmetric, "
                         f"got {padding_mode!r}")
    left, top, right, bottom = _pad_widths(padding, op)
    pixels, restore = _unpack(img, op)
    height, width = pixels.shape[-2:]
    # Negative sides crop first, so only non-negative padding remains.
    pixels = pixels[..., max(-top, 0):height - max(-bottom, 0),
                    max(-left, 0):width - max(-right, 0)]
    left, top, right, bottom = (max(n, 0) for n in (left, top, right, bottom))
    if padding_mode != "constant":
        widths = [(0, 0)] * (pixels.ndim - 2) + [(top, bottom), (left, right)]
        return restore(np.pad(pixels, widths, mode=_NUMPY_PAD_MODES[padding_mode]))
    height, width = pixels.shape[-2:]
    out = np.empty(pixels.shape[:-2] + (height + top + bottom, width + left + right),
                   dtype=pixels.dtype)
    fill_values = np.asarray(0 if fill is None else fill, dtype=np.float64)
    if fill_values.ndim == 1 and pixels.ndim >= 3:
        if len(fill_values) not in (1, pixels.shape[-3]):
            raise ValueError(f"{op}: fill has {len(fill_values)} values but the image has "
                             f"{pixels.shape[-3]} channels")
        fill_values = fill_values.reshape(-1, 1, 1)
    elif fill_values.ndim == 1 and len(fill_values) == 1:
        fill_values = fill_values[0]
    elif fill_values.ndim != 0:
        raise ValueError(f"{op}: fill should be a number or one number per channel, got "
                         f"{fill!r}")
    out[...] = fill_values.astype(pixels.dtype)
    out[..., top:top + height, left:left + width] = pixels
    return restore(out)


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """The ``height`` x ``width`` window whose top-left pixel is (``top``, ``left``); parts
    outside the image are zeros.

    >>> crop(np.arange(9, dtype=np.uint8).reshape(3, 3), 1, 1, 2, 2).tolist()
    [[4, 5], [7, 8]]
    """
    if is_pil(img):
        return img.crop((left, top, left + width, top + height))
    pixels, restore = _unpack(img, "crop")
    image_h, image_w = pixels.shape[-2:]
    right, bottom = left + width, top + height
    inside = pixels[..., max(top, 0):max(bottom, 0), max(left, 0):max(right, 0)]
    if left < 0 or top < 0 or right > image_w or bottom > image_h:
        widths = (max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                  max(right - max(image_w, left), 0), max(bottom - max(image_h, top), 0))
        return pad(restore(inside), list(widths), fill=0)
    return restore(inside.copy())


def center_crop(img: Any, output_size: Any) -> Any:
    """The central ``output_size`` window (an int for a square), the offset rounded as
    torchvision rounds it (Python's ``round``); smaller images are padded with zeros first.

    >>> center_crop(np.arange(16, dtype=np.uint8).reshape(4, 4), 2).tolist()
    [[5, 6], [9, 10]]
    """
    crop_h, crop_w = _size_pair(output_size, "center_crop", "output_size")
    _, image_h, image_w = get_dimensions(img, "center_crop")
    if crop_w > image_w or crop_h > image_h:
        widths = [(crop_w - image_w) // 2 if crop_w > image_w else 0,
                  (crop_h - image_h) // 2 if crop_h > image_h else 0,
                  (crop_w - image_w + 1) // 2 if crop_w > image_w else 0,
                  (crop_h - image_h + 1) // 2 if crop_h > image_h else 0]
        img = pad(img, widths, fill=0)
        _, image_h, image_w = get_dimensions(img, "center_crop")
        if (crop_h, crop_w) == (image_h, image_w):
            return img
    top = round((image_h - crop_h) / 2.0)  # round half to even, as torchvision
    left = round((image_w - crop_w) / 2.0)
    return crop(img, top, left, crop_h, crop_w)


def resized_crop(img: Any, top: int, left: int, height: int, width: int, size: Any,
                 interpolation: Any = InterpolationMode.BILINEAR,
                 antialias: bool | None = True) -> Any:
    """``crop`` then ``resize`` to ``size``.

    >>> resized_crop(np.arange(16, dtype=np.uint8).reshape(4, 4), 0, 0, 2, 2, [4, 4]).shape
    (4, 4)
    """
    return resize(crop(img, top, left, height, width), size, interpolation,
                  antialias=antialias)


def hflip(img: Any) -> Any:
    """``img`` mirrored left to right.

    >>> hflip(np.array([[1, 2, 3]], np.uint8)).tolist()
    [[3, 2, 1]]
    """
    if is_pil(img):
        return img.transpose(require_pillow("hflip").Transpose.FLIP_LEFT_RIGHT)
    pixels, restore = _unpack(img, "hflip")
    return restore(pixels[..., ::-1].copy())


def vflip(img: Any) -> Any:
    """``img`` mirrored top to bottom.

    >>> vflip(np.array([[1], [2]], np.uint8)).tolist()
    [[2], [1]]
    """
    if is_pil(img):
        return img.transpose(require_pillow("vflip").Transpose.FLIP_TOP_BOTTOM)
    pixels, restore = _unpack(img, "vflip")
    return restore(pixels[..., ::-1, :].copy())


def get_image_size(img: Any) -> list[int]:
    """``[width, height]`` of ``img``."""
    _, height, width = get_dimensions(img, "get_image_size")
    return [width, height]


def get_image_num_channels(img: Any) -> int:
    return get_dimensions(img, "get_image_num_channels")[0]


__all__ = ["InterpolationMode", "center_crop", "convert_image_dtype", "crop", "get_dimensions",
           "get_image_num_channels", "get_image_size", "hflip", "normalize", "pad", "pil_to_tensor",
           "resize", "rgb_to_grayscale", "to_grayscale", "to_pil_image", "to_tensor", "vflip"]
