"""``torchvision.utils``: ``make_grid`` tiles a batch of images into one picture and
``save_image`` writes it (PNG without Pillow; any format Pillow knows with it)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, BinaryIO, Union

import numpy as np

from ..atomic import atomic_write_bytes, atomic_writer
from ..backend import device, device_of, to_device, to_host
from ..tensor import Tensor
from ._image import pillow
from ._png import png_bytes

PathOrFile = Union[str, "os.PathLike[str]", BinaryIO]


def _as_batch(tensor: Any) -> tuple[np.ndarray, device]:
    """The images on the host and the device they came from."""
    if isinstance(tensor, (list, tuple)):
        if not tensor:
            raise ValueError("make_grid: got an empty list of images")
        for i, t in enumerate(tensor):
            if not isinstance(t, Tensor):
                raise TypeError(f"make_grid: tensor should be a Tensor or a list of Tensors; "
                                f"item {i} is a {type(t).__name__}")
        shapes = {tuple(t.shape) for t in tensor}
        if len(shapes) != 1:
            raise ValueError(f"make_grid: the images of a list must have one shape, got "
                             f"{sorted(shapes)}")
        return np.stack([to_host(t._data) for t in tensor]), device_of(tensor[0]._data)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"make_grid: tensor should be a Tensor or a list of Tensors, got a "
                        f"{type(tensor).__name__}")
    return to_host(tensor._data), device_of(tensor._data)


def _normalize(images: np.ndarray, value_range: tuple[float, float] | None) -> None:
    """Clamp to the range (the images' own min and max by default) and map it to [0, 1], in
    place and in the images' dtype."""
    low, high = ((float(images.min()), float(images.max())) if value_range is None
                 else (float(value_range[0]), float(value_range[1])))
    np.clip(images, low, high, out=images)
    images -= images.dtype.type(low)
    images /= images.dtype.type(max(high - low, 1e-5))


def make_grid(tensor: Tensor | list[Tensor], nrow: int = 8, padding: int = 2,
              normalize: bool = False, value_range: tuple[float, float] | None = None,
              scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Tile images ``(B, C, H, W)`` (or a list of ``(C, H, W)``) into one ``(C, H', W')``
    picture: ``nrow`` images a row, ``padding`` pixels of ``pad_value`` around each. One-channel
    images become three channels. ``normalize`` maps ``value_range`` (default: the min and max
    of all images, or of each image with ``scale_each``) to [0, 1], clamping outside it.

    >>> import backprop as bp
    >>> make_grid(bp.zeros(5, 1, 4, 4), nrow=2, padding=1).shape
    (3, 16, 11)
    """
    if value_range is not None and not isinstance(value_range, tuple):
        raise TypeError(f"make_grid: value_range has to be a tuple (min, max), got "
                        f"{value_range!r}")
    images, where = _as_batch(tensor)
    if images.ndim == 2:  # one image (H, W)
        images = images[None]
    if images.ndim == 3:  # one image (C, H, W)
        if images.shape[0] == 1:
            images = np.concatenate([images] * 3, axis=0)
        images = images[None]
    if images.ndim != 4:
        raise ValueError(f"make_grid: expected images (B, C, H, W), (C, H, W) or (H, W), got "
                         f"shape {images.shape}")
    if images.shape[1] == 1:
        images = np.concatenate([images] * 3, axis=1)
    if normalize:
        images = images.copy()
        if scale_each:
            for image in images:
                _normalize(image, value_range)
        else:
            _normalize(images, value_range)
    if images.shape[0] == 1:
        return Tensor._wrap(to_device(np.array(images[0]), where))
    count, channels, height, width = images.shape
    columns = min(nrow, count)
    rows = math.ceil(count / columns)
    cell_h, cell_w = height + padding, width + padding
    grid = np.full((channels, cell_h * rows + padding, cell_w * columns + padding), pad_value,
                   dtype=images.dtype)
    for k in range(count):
        top, left = (k // columns) * cell_h + padding, (k % columns) * cell_w + padding
        grid[:, top:top + height, left:left + width] = images[k]
    return Tensor._wrap(to_device(grid, where))


def _format(fp: Any, format: str | None, image: Any) -> str:
    if format is not None:
        return format
    suffix = Path(os.fspath(fp)).suffix.lower() if isinstance(fp, (str, os.PathLike)) else ""
    if image is not None:
        known = image.registered_extensions()
        if suffix in known:
            return known[suffix]
    elif suffix == ".png":
        return "PNG"
    raise ValueError(f"save_image: cannot tell the image format from {fp!r}; give format= "
                     "(e.g. 'PNG') or a file name ending in a known extension such as .png")


def save_image(tensor: Tensor | list[Tensor], fp: PathOrFile, format: str | None = None,
               **kwargs: Any) -> None:
    """``make_grid(tensor, **kwargs)`` saved as a picture: values in [0, 1] become 0..255
    (rounded, clamped). The format comes from ``format`` or the file name's extension. Paths
    are written atomically (the file appears whole or not at all). Without Pillow only PNG can
    be written.

    >>> import backprop as bp, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "grid.png"
    >>> save_image(bp.rand(4, 3, 8, 8), path, nrow=2)
    >>> path.read_bytes()[:4]
    b'\\x89PNG'
    """
    grid = to_host(make_grid(tensor, **kwargs)._data)
    # torchvision's conversion: x * 255 + 0.5, clamped, truncated to uint8, in the grid's dtype.
    scaled = grid * grid.dtype.type(255) + grid.dtype.type(0.5) if grid.dtype.kind == "f" \
        else grid.astype(np.float64) * 255 + 0.5
    pixels = np.clip(scaled, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    pixels = np.ascontiguousarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    image = pillow()
    kind = _format(fp, format, image)
    if image is None:
        if kind.upper() != "PNG":
            raise ImportError(f"save_image: writing {kind} needs Pillow, which is not "
                              "installed; install it with pip install 'backprop[vision]', or "
                              "save a .png")
        payload = png_bytes(pixels)
        if isinstance(fp, (str, os.PathLike)):
            atomic_write_bytes(fp, payload, "save_image")
        else:
            fp.write(payload)
        return
    picture = image.fromarray(pixels)
    if isinstance(fp, (str, os.PathLike)):
        with atomic_writer(fp, "save_image") as file:
            picture.save(file, format=kind)
    else:
        picture.save(fp, format=kind)


__all__ = ["make_grid", "save_image"]
