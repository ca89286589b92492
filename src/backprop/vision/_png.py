"""A PNG encoder for uint8 pictures (grey, RGB, RGBA), standard library only, so that
``save_image`` writes PNG files without Pillow."""

from __future__ import annotations

import struct
import zlib

import numpy as np

_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (grey, grey+alpha, ...)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    # Each chunk: length, type, data, then the CRC-32 of type and data.
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def png_bytes(pixels: np.ndarray) -> bytes:
    """An 8-bit PNG of uint8 ``pixels`` (H, W) or (H, W, C) with C in 1..4.

    >>> png_bytes(np.zeros((2, 3, 3), np.uint8))[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3) or pixels.size == 0:
        raise ValueError(f"png_bytes: expected non-empty uint8 pixels (H, W) or (H, W, C), got "
                         f"{pixels.dtype} of shape {pixels.shape}")
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    height, width, channels = pixels.shape
    if channels not in _COLOUR_TYPES:
        raise ValueError(f"png_bytes: PNG stores 1 to 4 channels, got {channels}")
    rows = pixels.reshape(height, width * channels)
    # Every scanline starts with its filter type; 0 means "none".
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPES[channels], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 6))
            + _chunk(b"IEND", b""))
