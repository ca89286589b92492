"""The IDX file format of MNIST and Fashion-MNIST: a strict reader and a writer.

An IDX file is a header and a C-order array, all big-endian::

    bytes 0-1   0x00 0x00
    byte  2     the type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64
    byte  3     the number of dimensions, d
    then        d sizes, each an unsigned 32-bit integer
    then        the values: exactly prod(sizes) of them

Files may be gzip-compressed (recognised by their content, whatever their name). The reader
checks every part and names the file and what is wrong; trailing bytes are an error too.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import Union

import numpy as np

from ..atomic import atomic_write_bytes

PathLike = Union[str, "os.PathLike[str]"]

# type code -> dtype (big-endian in the file)
IDX_DTYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODES = {dtype.newbyteorder("=") if dtype.itemsize > 1 else dtype: code
          for code, dtype in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """A file that is not a valid IDX file (or not the IDX file a data set expects)."""


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise IDXError(f"{path}: the gzip data is corrupt or truncated ({err}); download or "
                       "copy the file again") from None


def read_idx(path: PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzipped) into a NumPy array of native byte order.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
    >>> write_idx(path, np.array([3, 1, 4], dtype=np.uint8))
    >>> read_idx(path)
    array([3, 1, 4], dtype=uint8)
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise IDXError(f"{path}: not an IDX file: it holds {len(raw)} bytes, fewer than the "
                       "4-byte header (two zero bytes, a type code, a dimension count)")
    if raw[0] != 0 or raw[1] != 0:
        raise IDXError(f"{path}: not an IDX file: it starts with bytes {raw[:4].hex(' ')}, but "
                       "an IDX file starts with two zero bytes, a type code and a dimension count")
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X} ({d.name})" for c, d in IDX_DTYPES.items())
        raise IDXError(f"{path}: unknown IDX type code 0x{code:02X} (the third byte); known "
                       f"codes are {known}")
    if ndim == 0:
        raise IDXError(f"{path}: the IDX header gives 0 dimensions; an IDX array needs at least "
                       "one")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"{path}: truncated IDX header: {ndim} dimensions need {header} header "
                       f"bytes, the file holds {len(raw)}")
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header
    if found != expected:
        what = "truncated" if found < expected else "has trailing bytes"
        dims = " x ".join(str(n) for n in shape)
        raise IDXError(f"{path}: the IDX file {what}: its header promises a {dims} array of "
                       f"{dtype.name} ({expected:,} bytes of values), but {found:,} bytes follow "
                       "the header")
    values = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="), copy=True)  # native order, writeable


def write_idx(path: PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends in ``.gz``.

    The dtype must be one IDX has: uint8, int8, int16, int32, float32 or float64.
    """
    path = Path(path)
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("=") if array.dtype.itemsize > 1 else array.dtype)
    if code is None:
        raise IDXError(f"write_idx: IDX has no type for dtype {array.dtype}; convert the array to "
                       "uint8, int8, int16, int32, float32 or float64")
    if not 1 <= array.ndim <= 255 or any(n >= 2**32 for n in array.shape):
        raise IDXError(f"write_idx: cannot store an array of shape {array.shape} in IDX (1 to 255 "
                       "dimensions, each smaller than 2**32)")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    if path.name.endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    atomic_write_bytes(path, payload, "write_idx")


__all__ = ["read_idx", "write_idx", "IDXError"]
