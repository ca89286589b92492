"""Image grids written as PNG files, with the standard library only (``zlib``).

The programs write a picture every epoch; a grey PNG is a few lines of ``zlib`` and ``struct``
and needs neither matplotlib nor Pillow, and it is written in milliseconds. Files are written
atomically (``backprop.atomic``), so a reader never sees half a picture.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write_bytes

__all__ = ["make_grid", "png_bytes", "save_grid", "save_png"]


def make_grid(images: Any, nrow: int = 10, padding: int = 1, scale: int = 4,
              pad_value: float = 0.5) -> np.ndarray:
    """Tile grey images ``(N, H, W)`` or ``(N, 1, H, W)`` with values in [0, 1] into one array:
    ``nrow`` images a row, ``padding`` pixels of ``pad_value`` between them, each pixel blown up
    to ``scale`` x ``scale`` (nearest neighbour) so 8x8 digits are big enough to see.

    >>> make_grid(np.zeros((3, 2, 2)), nrow=2, padding=1, scale=1).shape
    (7, 7)
    """
    array = np.asarray(images, dtype=np.float32)
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 3 or len(array) == 0:
        raise ValueError(f"make_grid: expected grey images of shape (N, H, W) or (N, 1, H, W), "
                         f"N >= 1; got {array.shape}")
    if nrow < 1 or padding < 0 or scale < 1:
        raise ValueError(f"make_grid: nrow and scale must be >= 1 and padding >= 0; got "
                         f"nrow={nrow}, padding={padding}, scale={scale}")
    array = array.repeat(scale, axis=1).repeat(scale, axis=2)
    count, height, width = array.shape
    columns = min(nrow, count)
    rows = -(-count // columns)
    grid = np.full((padding + rows * (height + padding), padding + columns * (width + padding)),
                   pad_value, dtype=np.float32)
    for index, image in enumerate(array):
        top = padding + (index // columns) * (height + padding)
        left = padding + (index % columns) * (width + padding)
        grid[top:top + height, left:left + width] = image
    return grid


def _chunk(kind: bytes, payload: bytes) -> bytes:
    # Each PNG chunk: length, type, data, CRC-32 of type and data.
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def png_bytes(image: Any) -> bytes:
    """An 8-bit grey PNG of a 2-D array with values in [0, 1] (clipped).

    >>> png_bytes(np.zeros((2, 3)))[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    array = np.asarray(image, dtype=np.float64)
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"png_bytes: expected a non-empty 2-D grey image; got shape "
                         f"{array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("png_bytes: the image holds NaN or infinite values")
    pixels = np.round(np.clip(array, 0.0, 1.0) * 255).astype(np.uint8)
    height, width = pixels.shape
    # Every scanline starts with its filter type; 0 means "none".
    raw = np.concatenate([np.zeros((height, 1), np.uint8), pixels], axis=1).tobytes()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit, grey, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b""))


def save_png(image: Any, path: str | os.PathLike[str]) -> Path:
    """Write a 2-D array with values in [0, 1] as a grey PNG, atomically.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_png(np.eye(4), pathlib.Path(folder) / "eye.png")
    ...     path.read_bytes()[:4]
    b'\\x89PNG'
    """
    return atomic_write_bytes(path, png_bytes(image), "save_png")


def save_grid(images: Any, path: str | os.PathLike[str], nrow: int = 10, scale: int = 4) -> Path:
    """``make_grid`` then ``save_png``: a picture of many small grey images in [0, 1]."""
    return save_png(make_grid(images, nrow=nrow, scale=scale), path)
