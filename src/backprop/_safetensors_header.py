"""Reading a safetensors header without trusting it (``load``'s first line of defence).

A safetensors file is an 8-byte little-endian header length, a JSON header giving every tensor's
dtype, shape and byte range, then the tensors' bytes. ``parse_header`` checks every declared size
against the bytes actually present, with Python integers (which cannot overflow), before anything
is allocated from a declared size: a hostile header cannot make the reader allocate more than the
file holds. It also refuses what a lenient JSON parser would let through and a second parser might
read differently (duplicate keys, non-UTF-8 text, floats where sizes belong), so the header that
``load`` checks is exactly the header that safetensors then reads.

The rules are safetensors' own (tensors tile the data area from byte 0 to its last byte with no
gap, overlap or trailing bytes; the header is at most 100 MB), restricted to the dtypes a
``backprop`` checkpoint writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

__all__ = ["HeaderError", "TensorEntry", "parse_header", "quote", "read_stream"]

MAX_HEADER_BYTES = 100_000_000  # safetensors refuses larger headers too
_LENGTH_BYTES = 8
_BEYOND_ANY_FILE = 2**64
_CHUNK = 1 << 20  # how much a stream is asked for at a time
_ENTRY_FIELDS = {"dtype", "shape", "data_offsets"}
# The safetensors dtypes a checkpoint holds (complex numbers are stored as float pairs).
DTYPES = {"BOOL": np.dtype(np.bool_), "U8": np.dtype(np.uint8), "I8": np.dtype(np.int8),
          "U16": np.dtype(np.uint16), "I16": np.dtype(np.int16), "U32": np.dtype(np.uint32),
          "I32": np.dtype(np.int32), "U64": np.dtype(np.uint64), "I64": np.dtype(np.int64),
          "F16": np.dtype(np.float16), "F32": np.dtype(np.float32), "F64": np.dtype(np.float64)}


class HeaderError(ValueError):
    """Why a file's header cannot be trusted; ``load`` turns it into ``CheckpointError``."""


@dataclass(frozen=True)
class TensorEntry:
    """One tensor as the header declares it; ``begin``/``end`` count from the data area's start."""

    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    begin: int
    end: int


def quote(name: Any, limit: int = 60) -> str:
    """``repr(name)``, cut short: names come from the file and may be megabytes long."""
    text = repr(name)
    return text if len(text) <= limit else text[:limit] + "...'"


def parse_header(data: bytes) -> tuple[dict[str, TensorEntry], dict[str, str]]:
    """Validate ``data``'s safetensors header against ``len(data)``; return its tensor entries
    (in file order) and its ``__metadata__``. Raises ``HeaderError`` with the reason (phrased to
    follow "load: FILE ")."""
    size = len(data)
    if size < _LENGTH_BYTES:
        raise HeaderError(f"is not a checkpoint: it is only {size} bytes long (a safetensors "
                          f"file starts with an {_LENGTH_BYTES}-byte header length)")
    length = int.from_bytes(data[:_LENGTH_BYTES], "little")
    if length > size - _LENGTH_BYTES:
        raise HeaderError(f"is truncated or not a safetensors checkpoint: its first 8 bytes "
                          f"announce a {length}-byte header but only {size - _LENGTH_BYTES} "
                          "bytes follow")
    if length > MAX_HEADER_BYTES:
        raise HeaderError(f"is not a safetensors checkpoint: its header is {length} bytes, more "
                          f"than the {MAX_HEADER_BYTES} bytes safetensors allows")
    header = _json_object(data[_LENGTH_BYTES:_LENGTH_BYTES + length])
    metadata = _metadata(header.pop("__metadata__", {}))
    entries = {name: _entry(name, info) for name, info in header.items()}
    _check_tiling(entries, size - _LENGTH_BYTES - length)
    return entries, metadata


def read_stream(read: Callable[[int], bytes]) -> bytes:
    """Read a safetensors file from a stream of unknown length (a pipe, a socket, ``/dev/zero``)
    in chunks, and no further than its own header says the file extends, plus one byte so that
    trailing data is noticed: an endless or lying stream makes the reader hold only what it has
    received. ``parse_header`` then judges the bytes."""
    buffer = bytearray()
    wanted = _LENGTH_BYTES
    while len(buffer) < wanted:
        chunk = read(min(_CHUNK, wanted - len(buffer)))
        if not chunk:
            break
        buffer += chunk
        if len(buffer) == wanted:
            wanted = _next_boundary(buffer)
    return bytes(buffer)


def _next_boundary(prefix: bytearray) -> int:
    """How far to read after ``prefix``: after the length, to the header's end; after the
    header, to the end of the tensor data it declares (plus one byte); nowhere once the prefix
    shows the file is broken."""
    length = int.from_bytes(prefix[:_LENGTH_BYTES], "little")
    if len(prefix) == _LENGTH_BYTES:
        return _LENGTH_BYTES + length if length <= MAX_HEADER_BYTES else len(prefix)
    if len(prefix) != _LENGTH_BYTES + length:
        return len(prefix)
    try:
        header = _json_object(bytes(prefix[_LENGTH_BYTES:]))
        header.pop("__metadata__", None)
        ends = [_entry(name, info).end for name, info in header.items()]
    except HeaderError:
        return len(prefix)
    return len(prefix) + max(ends, default=0) + 1


def data_start(data: bytes) -> int:
    """Where the tensor bytes begin (after a header that ``parse_header`` accepted)."""
    return _LENGTH_BYTES + int.from_bytes(data[:_LENGTH_BYTES], "little")


def strict_json(text: str | bytes) -> Any:
    """``json.loads`` that refuses duplicate keys and the non-standard NaN/Infinity literals, and
    turns every failure (a nesting deep enough to exhaust the stack too) into a ``HeaderError``
    whose reason completes "its header ..." or "its metadata ..."."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except HeaderError:
        raise
    except RecursionError:
        raise HeaderError("nests too deeply to be read") from None
    except ValueError as err:  # JSONDecodeError, too many digits for an int, ...
        raise HeaderError(f"is not JSON ({_short(err)})") from None


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise HeaderError(f"is not a safetensors checkpoint (its header is not JSON: byte "
                          f"{raw[err.start]:#04x} at position {err.start} is not UTF-8)") from None
    try:
        header = strict_json(text)
    except HeaderError as err:
        raise HeaderError(f"is not a safetensors checkpoint (its header {err})") from None
    if not isinstance(header, dict):
        raise HeaderError(f"is not a safetensors checkpoint (its header is a JSON "
                          f"{type(header).__name__}, not an object)")
    return header


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:  # json keeps the last, another parser may keep the first
            raise HeaderError(f"has the key {quote(key)} twice in one object")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise HeaderError(f"is not JSON (it contains {name})")


def _metadata(metadata: Any) -> dict[str, str]:
    if not isinstance(metadata, dict) or not all(isinstance(value, str)
                                                 for value in metadata.values()):
        raise HeaderError("has a corrupted header: its __metadata__ must map strings to strings")
    return metadata


def _entry(name: str, info: Any) -> TensorEntry:
    where = f"has a corrupted header: tensor {quote(name)}"
    if not isinstance(info, dict) or set(info) != _ENTRY_FIELDS:
        fields = sorted(info) if isinstance(info, dict) else type(info).__name__
        raise HeaderError(f"{where} must have exactly the fields data_offsets, dtype and shape "
                          f"(it has {quote(fields)})")
    dtype = info["dtype"]
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise HeaderError(f"{where} has dtype {quote(dtype)}, which backprop checkpoints never "
                          f"hold (they use {', '.join(DTYPES)})")
    shape, offsets = info["shape"], info["data_offsets"]
    if not isinstance(shape, list) or not all(_is_size(n) for n in shape):
        raise HeaderError(f"{where} has shape {quote(shape)}, not a list of non-negative "
                          "integers")
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(map(_is_size, offsets))
            or offsets[0] > offsets[1]):
        raise HeaderError(f"{where} has data_offsets {quote(offsets)}, not two non-negative "
                          "integers [begin, end] with begin <= end")
    # Python ints cannot wrap around; stop multiplying once past any real size, so a shape of
    # a thousand huge numbers does not build a ten-thousand-digit product.
    needed = 0 if 0 in shape else DTYPES[dtype].itemsize
    for n in shape:
        needed *= n
        if needed > _BEYOND_ANY_FILE:
            break
    begin, end = offsets
    if needed != end - begin:
        raise HeaderError(f"{where} declares shape {quote(tuple(shape))} of {dtype}, which needs "
                          f"{_size(needed)} bytes, but its data_offsets [{_size(begin)}, "
                          f"{_size(end)}] span {_size(end - begin)} bytes")
    return TensorEntry(name, DTYPES[dtype], tuple(shape), begin, end)


def _size(n: int) -> str:
    return str(n) if n <= _BEYOND_ANY_FILE else "more than 2**64"


def _is_size(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_tiling(entries: dict[str, TensorEntry], available: int) -> None:
    """The tensors must cover the data area exactly once, in some order, as safetensors asks."""
    previous: TensorEntry | None = None
    for entry in sorted(entries.values(), key=lambda e: (e.begin, e.end)):
        reached = previous.end if previous else 0
        if entry.begin != reached:
            if previous is None:
                detail = (f"the first tensor {quote(entry.name)} starts at byte "
                          f"{_size(entry.begin)}")
            else:
                kind = "overlaps" if entry.begin < reached else "leaves a gap after"
                detail = (f"tensor {quote(entry.name)} (bytes {_size(entry.begin)} to "
                          f"{_size(entry.end)}) {kind} tensor {quote(previous.name)} (bytes "
                          f"{previous.begin} to {previous.end})")
            raise HeaderError(f"has a corrupted header: {detail}; tensors must tile the data "
                              "area")
        previous = entry
    declared = previous.end if previous else 0
    if declared != available:
        last = f" (tensor {quote(previous.name)} ends there)" if previous else ""
        raise HeaderError(f"is truncated or corrupted: its header declares {_size(declared)} "
                          f"bytes of tensor data{last}, but {available} bytes follow the header")


def _short(err: BaseException, limit: int = 120) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[:limit] + "..."
