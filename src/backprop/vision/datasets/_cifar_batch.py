"""Read a CIFAR-10 "python version" batch file without unpickling it.

The batches (``data_batch_1`` .. ``data_batch_5``, ``test_batch``) are Python pickles of a dict
holding ``data`` (a NumPy uint8 array ``(N, 3072)``) and ``labels`` (a list of ints). Unpickling
runs whatever the file names, so it is never done here: this module decodes the pickle opcodes
itself on a small stack machine whose values are inert (numbers, strings, bytes, tuples, lists,
dicts, and records of the form "global G called with these arguments"). Nothing named in the file
is imported or called. Afterwards the records are checked against the exact shapes NumPy writes
for a uint8 array (``numpy.core.multiarray._reconstruct`` + state, or protocol 5's
``numpy.core.numeric._frombuffer``) and the raw pixel bytes are taken as they are; anything else
is refused with an error naming the file and what was found.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# The globals a CIFAR batch may name; each is only recognised, never looked up.
_RECONSTRUCT = {("numpy.core.multiarray", "_reconstruct"),
                ("numpy._core.multiarray", "_reconstruct")}
_FROMBUFFER = {("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer")}
_NDARRAY = {("numpy", "ndarray")}
_DTYPE = {("numpy", "dtype")}
_ENCODE = {("_codecs", "encode")}  # Python 3 bytes under protocol 2: encode(text, "latin1")
_BYTES = {("__builtin__", "bytes"), ("builtins", "bytes"), ("builtins", "bytearray"),
          ("__builtin__", "bytearray")}
_KNOWN = _RECONSTRUCT | _FROMBUFFER | _NDARRAY | _DTYPE | _ENCODE | _BYTES


class CIFARFormatError(ValueError):
    """A CIFAR batch file that is not what the data set expects."""


@dataclass
class _Global:
    module: str
    name: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.module, self.name)


@dataclass
class _Call:
    """``func(*args)`` as the pickle wrote it, with the state a later BUILD gave it."""

    func: _Global
    args: tuple
    state: Any = field(default=None)


_MARK = object()


class _Reader:
    """A cursor over the file's bytes; every read checks that the bytes are there."""

    def __init__(self, raw: bytes, path: Path) -> None:
        self.raw, self.pos, self.path = raw, 0, path

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.raw):
            raise CIFARFormatError(f"{self.path}: the pickle data is truncated at byte "
                                   f"{self.pos} (it needs {n} more bytes); copy the file again")
        chunk = self.raw[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "little")

    def line(self) -> bytes:
        end = self.raw.find(b"\n", self.pos)
        if end < 0:
            raise CIFARFormatError(f"{self.path}: the pickle data is truncated (a text argument "
                                   "has no end of line)")
        text = self.raw[self.pos:end]
        self.pos = end + 1
        return text


def _pop_mark(stack: list, path: Path) -> list:
    """The items above the topmost MARK, which is removed."""
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is _MARK:
            items = stack[i + 1:]
            del stack[i:]
            return items
    raise CIFARFormatError(f"{path}: malformed pickle data (an opcode needs a MARK that is "
                           "not there)")


def _decode(raw: bytes, path: Path) -> Any:
    """The value the pickle describes, with calls kept as ``_Call`` records (never made)."""
    reader, stack, memo = _Reader(raw, path), [], {}
    while True:
        where = reader.pos
        op = reader.take(1)
        if op == b"\x80":  # PROTO
            reader.take(1)
        elif op == b"\x95":  # FRAME: a length hint only
            reader.take(8)
        elif op == b".":  # STOP
            if len(stack) != 1:
                raise CIFARFormatError(f"{path}: malformed pickle data (STOP with "
                                       f"{len(stack)} values on the stack)")
            return stack[0]
        elif op == b"(":
            stack.append(_MARK)
        elif op == b"0":
            stack.pop()
        elif op == b"1":
            _pop_mark(stack, path)
        elif op == b"2":
            stack.append(stack[-1])
        elif op == b"}":
            stack.append({})
        elif op == b"]":
            stack.append([])
        elif op == b")":
            stack.append(())
        elif op == b"t":
            stack.append(tuple(_pop_mark(stack, path)))
        elif op in (b"\x85", b"\x86", b"\x87"):  # TUPLE1..3
            n = op[0] - 0x84
            items = tuple(stack[-n:])
            del stack[-n:]
            stack.append(items)
        elif op == b"l":
            stack.append(_pop_mark(stack, path))
        elif op == b"d":
            items = _pop_mark(stack, path)
            stack.append(dict(zip(items[::2], items[1::2])))
        elif op == b"a":
            value = stack.pop()
            stack[-1].append(value)
        elif op == b"e":
            items = _pop_mark(stack, path)
            stack[-1].extend(items)
        elif op == b"s":
            value, key = stack.pop(), stack.pop()
            stack[-1][key] = value
        elif op == b"u":
            items = _pop_mark(stack, path)
            stack[-1].update(zip(items[::2], items[1::2]))
        elif op == b"q":
            memo[reader.uint(1)] = stack[-1]
        elif op == b"r":
            memo[reader.uint(4)] = stack[-1]
        elif op == b"p":
            memo[int(reader.line())] = stack[-1]
        elif op == b"\x94":  # MEMOIZE
            memo[len(memo)] = stack[-1]
        elif op in (b"h", b"j", b"g"):
            key = reader.uint(1) if op == b"h" else reader.uint(4) if op == b"j" else int(
                reader.line())
            if key not in memo:
                raise CIFARFormatError(f"{path}: malformed pickle data (memo entry {key} is "
                                       "used before it is stored)")
            stack.append(memo[key])
        elif op == b"J":
            stack.append(struct.unpack("<i", reader.take(4))[0])
        elif op == b"K":
            stack.append(reader.uint(1))
        elif op == b"M":
            stack.append(reader.uint(2))
        elif op in (b"\x8a", b"\x8b"):  # LONG1, LONG4
            stack.append(int.from_bytes(reader.take(reader.uint(1 if op == b"\x8a" else 4)),
                                        "little", signed=True))
        elif op == b"I" or op == b"L":
            stack.append(int(reader.line().rstrip(b"L")))
        elif op == b"N":
            stack.append(None)
        elif op == b"\x88":
            stack.append(True)
        elif op == b"\x89":
            stack.append(False)
        elif op == b"G":
            stack.append(struct.unpack(">d", reader.take(8))[0])
        elif op in (b"U", b"T"):  # Python 2 str: bytes, as pickle.load(encoding="bytes") gives
            stack.append(reader.take(reader.uint(1 if op == b"U" else 4)))
        elif op in (b"C", b"B", b"\x8e", b"\x96"):  # SHORT_BINBYTES, BINBYTES(8), BYTEARRAY8
            stack.append(reader.take(reader.uint({b"C": 1, b"B": 4}.get(op, 8))))
        elif op in (b"\x8c", b"X", b"\x8d"):  # SHORT_BINUNICODE, BINUNICODE(8)
            size = reader.uint({b"\x8c": 1, b"X": 4}[op] if op != b"\x8d" else 8)
            stack.append(reader.take(size).decode("utf-8", "surrogatepass"))
        elif op == b"c":  # GLOBAL
            module = reader.line().decode("ascii", "replace")
            stack.append(_known_global(module, reader.line().decode("ascii", "replace"), path))
        elif op == b"\x93":  # STACK_GLOBAL
            name, module = stack.pop(), stack.pop()
            stack.append(_known_global(str(module), str(name), path))
        elif op == b"R":  # REDUCE: recorded, not called
            args, func = stack.pop(), stack.pop()
            if not isinstance(func, _Global) or not isinstance(args, tuple):
                raise CIFARFormatError(f"{path}: malformed pickle data (REDUCE at byte {where} "
                                       "does not apply a global to a tuple)")
            call = _Call(func, args)
            # Python 3 bytes under protocol 2 (dict keys too): the latin-1 text, turned back
            # into bytes here by our own code; the named global is still never called.
            inert = func.key in _ENCODE | _BYTES
            stack.append(_as_bytes(call, "an encoded byte string", path) if inert else call)
        elif op == b"b":  # BUILD: the state is kept for the check afterwards
            state = stack.pop()
            if not isinstance(stack[-1], _Call):
                raise CIFARFormatError(f"{path}: malformed pickle data (BUILD at byte {where} "
                                       "on a value that is not an object)")
            stack[-1].state = state
        else:
            raise CIFARFormatError(
                f"{path}: the pickle holds opcode 0x{op[0]:02x} at byte {where}, which a CIFAR "
                "batch does not use; backprop reads the data without unpickling and refuses "
                "anything it does not recognise")


def _known_global(module: str, name: str, path: Path) -> _Global:
    if (module, name) not in _KNOWN:
        raise CIFARFormatError(
            f"{path}: the pickle names {module}.{name}, which is not part of a CIFAR batch "
            "(NumPy arrays, lists and numbers); backprop never unpickles files and refuses it")
    return _Global(module, name)


def _as_bytes(value: Any, what: str, path: Path) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, _Call) and value.func.key in _ENCODE and len(value.args) == 2 \
            and isinstance(value.args[0], str) and value.args[1] in ("latin1", "latin-1"):
        return value.args[0].encode("latin1")
    if isinstance(value, _Call) and value.func.key in _BYTES and value.args in ((), ((),)):
        return b""
    raise CIFARFormatError(f"{path}: {what} should be raw bytes, found {_describe(value)}")


def _describe(value: Any) -> str:
    if isinstance(value, _Call):
        return f"a call of {value.func.module}.{value.func.name}"
    return type(value).__name__


def _dtype_code(value: Any, path: Path) -> str:
    if isinstance(value, _Call) and value.func.key in _DTYPE and value.args \
            and isinstance(value.args[0], (str, bytes)):
        code = value.args[0]
        return code.decode("ascii") if isinstance(code, bytes) else code
    raise CIFARFormatError(f"{path}: the array's dtype should be numpy.dtype('u1'), found "
                           f"{_describe(value)}")


def _array(value: Any, key: str, path: Path) -> np.ndarray:
    """The uint8 array a ``_Call`` record describes (NumPy's own pickled form)."""
    if isinstance(value, _Call) and value.func.key in _RECONSTRUCT:
        state = value.state
        if not (isinstance(state, tuple) and len(state) == 5 and isinstance(state[1], tuple)):
            raise CIFARFormatError(f"{path}: '{key}' is a NumPy array without the (version, "
                                   "shape, dtype, fortran order, data) state NumPy writes")
        _, shape, dtype, fortran, payload = state
        payload = _as_bytes(payload, f"the bytes of '{key}'", path)
        order = "F" if fortran else "C"
    elif isinstance(value, _Call) and value.func.key in _FROMBUFFER and len(value.args) == 4:
        payload, dtype, shape, order = value.args
        payload = _as_bytes(payload, f"the bytes of '{key}'", path)
        if not isinstance(shape, tuple) or order not in ("C", "F"):
            raise CIFARFormatError(f"{path}: '{key}' is a NumPy array with a malformed shape or "
                                   "order")
    else:
        raise CIFARFormatError(f"{path}: '{key}' should be a NumPy uint8 array, found "
                               f"{_describe(value)}")
    code = _dtype_code(dtype, path)
    if code not in ("u1", "|u1", "uint8"):
        raise CIFARFormatError(f"{path}: '{key}' holds dtype {code!r}; CIFAR pixels are uint8 "
                               "('u1')")
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        raise CIFARFormatError(f"{path}: '{key}' has a malformed shape {shape!r}")
    size = int(np.prod(shape, dtype=np.int64))
    if len(payload) != size:
        raise CIFARFormatError(f"{path}: '{key}' promises shape {shape} ({size:,} bytes) but "
                               f"holds {len(payload):,} bytes")
    return np.frombuffer(payload, dtype=np.uint8).reshape(shape, order=order)


def _entry(batch: dict, key: str, path: Path) -> Any:
    for name in (key, key.encode("ascii")):
        if name in batch:
            return batch[name]
    found = ", ".join(repr(k) for k in batch)
    raise CIFARFormatError(f"{path}: the batch has no '{key}' entry (it has {found}); is this a "
                           "CIFAR-10 python batch?")


def read_cifar_batch(path: Path, label_keys: tuple[str, ...] = ("labels",)
                     ) -> tuple[np.ndarray, list[int]]:
    """The images ``(N, 3, 32, 32)`` uint8 and the labels (the first of ``label_keys`` the
    batch has: CIFAR-100 says ``fine_labels``) of one CIFAR python batch file, read without
    unpickling.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "data_batch_1"
    >>> _ = path.write_bytes(b"\\x80\\x02}q\\x00(X\\x06\\x00\\x00\\x00labelsq\\x01]q\\x02K\\x07a"
    ...     b"X\\x04\\x00\\x00\\x00dataq\\x03C\\x00u.")
    >>> read_cifar_batch(path)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    CIFARFormatError: ... 'data' should be a NumPy uint8 array, found bytes
    """
    path = Path(path)
    batch = _decode(path.read_bytes(), path)
    if not isinstance(batch, dict):
        raise CIFARFormatError(f"{path}: a CIFAR batch is a dict, the file holds "
                               f"{_describe(batch)}")
    data = _array(_entry(batch, "data", path), "data", path)
    key = next((k for k in label_keys if k in batch or k.encode("ascii") in batch),
               label_keys[0])
    labels = _entry(batch, key, path)
    if isinstance(labels, _Call):  # some re-exports keep the labels as an integer array
        labels = _array(labels, key, path).tolist()
    if not isinstance(labels, list) or not all(type(x) is int for x in labels):
        raise CIFARFormatError(f"{path}: '{key}' should be a list of ints, found "
                               f"{_describe(labels)}")
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(data) != len(labels):
        raise CIFARFormatError(f"{path}: expected data of shape (N, 3072) and N labels, found "
                               f"data {data.shape} and {len(labels)} labels")
    return data.reshape(-1, 3, 32, 32), labels


def read_cifar_names(path: Path, key: str) -> list[str]:
    """The list of names under ``key`` in a CIFAR python ``meta`` file (``batches.meta``,
    CIFAR-100's ``meta``), read without unpickling."""
    path = Path(path)
    meta = _decode(path.read_bytes(), path)
    if not isinstance(meta, dict):
        raise CIFARFormatError(f"{path}: a CIFAR meta file is a dict, the file holds "
                               f"{_describe(meta)}")
    names = _entry(meta, key, path)
    if not isinstance(names, list) or not all(isinstance(n, (str, bytes)) for n in names):
        raise CIFARFormatError(f"{path}: '{key}' should be a list of names, found "
                               f"{_describe(names)}")
    return [n.decode("utf-8") if isinstance(n, bytes) else n for n in names]


def read_cifar_binary(path: Path, label_bytes: int = 1) -> tuple[np.ndarray, list[int]]:
    """The images ``(N, 3, 32, 32)`` and labels of one CIFAR binary batch
    (``data_batch_1.bin``): records of ``label_bytes`` label bytes (CIFAR-100: coarse, then
    fine; the last is returned) and 3,072 pixel bytes.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "test_batch.bin"
    >>> _ = path.write_bytes(bytes([4]) + bytes(3072))
    >>> images, labels = read_cifar_binary(path)
    >>> images.shape, labels
    ((1, 3, 32, 32), [4])
    """
    path = Path(path)
    raw = path.read_bytes()
    record = label_bytes + 3 * 32 * 32
    if len(raw) % record:
        raise CIFARFormatError(f"{path}: a CIFAR binary batch is a whole number of "
                               f"{record}-byte records ({label_bytes} label byte"
                               f"{'s' if label_bytes > 1 else ''}, 3072 pixel bytes), but the "
                               f"file holds {len(raw):,} bytes")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, record)
    labels = records[:, label_bytes - 1].astype(int).tolist()
    return records[:, label_bytes:].reshape(-1, 3, 32, 32), labels


__all__ = ["CIFARFormatError", "read_cifar_batch", "read_cifar_binary", "read_cifar_names"]
