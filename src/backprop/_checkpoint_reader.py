"""The checkpoint reader behind ``load``: checks a file from the outside in and rebuilds the saved
object only from parts that passed.

The order matters: header sizes against the file's size (``_safetensors_header``), the metadata
document against its SHA-256, the tensor table against the header, and only then are tensor bytes
read (by safetensors), checked against their SHA-256, and assembled into the tree. Every problem is
a ``CheckpointError`` naming the file; the tree is returned whole or not at all.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import numpy as np

from . import backend, dtypes
from ._safetensors_header import DTYPES, HeaderError, TensorEntry, parse_header, quote, strict_json
from ._checkpoint_format import (CHECKSUM_KEY, COMPLEX_PARTS, FORMAT_KEY, FORMAT_VERSION,
                                 MAX_NESTING, STORABLE, CheckpointError, is_plain_key,
                                 sha256_array, sha256_text, stored_dtype, BFLOAT16_BITS)
from ._module_tree import MODULE_TAG_FIELDS, check_names, decode_tagged, names_to_resolve
from ._safe_globals import Resolver
from .errors import reworded
from .tensor import Tensor

__all__ = ["Reader"]



class _DtypesByName(dict):
    """Dtypes by name, and bfloat16, which needs ml_dtypes: imported when a file names it."""

    def __missing__(self, name: Any) -> np.dtype:
        if name == "bfloat16":
            return dtypes.bfloat16_dtype("load")
        raise KeyError(name)

    def get(self, name: Any, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name: Any) -> bool:
        return dict.__contains__(self, name) or name == "bfloat16"


_DTYPES_BY_NAME = _DtypesByName({dtype.name: dtype for dtype in (*STORABLE, *COMPLEX_PARTS)})
assert set(DTYPES.values()) == STORABLE  # the header reader knows every dtype we store
_MAX_DECODE_DEPTH = 2 * MAX_NESTING + 8  # tuple keys and scalar parts add levels below a leaf
# The fields each tagged node may have (save writes no others).
_TAG_FIELDS = {"$dict": {"$dict"}, "$odict": {"$odict"}, "$tuple": {"$tuple"}, "$int": {"$int"},
               "$float": {"$float"}, "$complex": {"$complex"}, "$np": {"$np", "value"},
               "$tensor": {"$tensor", "requires_grad", "parameter", "device"}, "$ndarray": {"$ndarray"},
               **MODULE_TAG_FIELDS}
# The first bytes of files that torch.save writes: a zip whose first entry is the pickle, or
# (before PyTorch 1.6) a bare pickle.
_ZIP_MAGIC = b"PK\x03\x04"
_LEGACY_TORCH_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"


class Reader:
    """Checks a file from the outside in (header sizes, metadata checksum, tensor table, tensor
    bytes, tree) and builds the object only from parts that passed: nothing is allocated from a
    size the file cannot back, and the result is returned whole or not at all."""

    def __init__(self, where: str, st_numpy: Any, map_location: Any = None) -> None:
        self.where = where
        self.st_numpy = st_numpy
        self.map_location = map_location
        self._to_place: list[tuple[Tensor, str]] = []
        self.arrays: dict[str, np.ndarray] = {}
        self._loaded: dict[tuple, Any] = {}
        self.modules_by_id: dict[int, Any] = {}  # modules built so far, for "$moduleref"
        self.resolver: Resolver | None = None  # built when the tree names a class
        self.dtypes_by_name = _DTYPES_BY_NAME
        self.is_device_name = _is_device_name

    def error(self, reason: str) -> CheckpointError:
        return CheckpointError(f"load: {self.where} {reason}")

    def read(self, data: bytes) -> Any:
        document, entries = self._checked_document(data)
        table = self._table(document["tensors"], entries)
        arrays = self._safetensors_load(data)
        if set(arrays) != set(table):  # safetensors read the header differently from us
            raise self.error(f"is corrupted: safetensors reads the tensors "
                             f"{_names(sorted(arrays))} where its header names "
                             f"{_names(sorted(table))}")
        for key, (dtype, shape, digest) in table.items():
            self.arrays[key] = self._check_array(key, dtype, shape, digest, arrays.pop(key))
        check_names(self, document["tree"])  # refuse unknown classes before building any
        try:
            tree = self._decode(document["tree"], 0)
        except CheckpointError:
            raise
        except MemoryError:
            raise
        except RecursionError:  # called from a deep stack: the tree could not be walked
            raise self.error("has metadata nested too deeply to be read here") from None
        except Exception as err:  # any other surprise in the tree is a malformed file
            raise self.error(f"has malformed metadata (the checkpoint tree: "
                             f"{_short_repr(err)})") from err
        for tensor, saved_on in self._to_place:  # the file passed every check: now place it
            self._place(tensor, saved_on)
        return tree

    def unsafe_names(self, data: bytes) -> list[str]:
        """The class and function names in the file that ``read`` would refuse now."""
        document, _ = self._checked_document(data)
        names = names_to_resolve(document["tree"])
        resolver = Resolver() if names else None
        return [name for name in names if resolver is not None and resolver.find(name) is None]

    def _checked_document(self, data: bytes) -> tuple[dict[str, Any], dict[str, TensorEntry]]:
        try:
            entries, metadata = parse_header(data)
            return self._document(metadata), entries
        except HeaderError as err:
            # Only a file that is no checkpoint is looked at again, so no checkpoint is misread.
            if (data.startswith(_ZIP_MAGIC) and _first_zip_entry(data).endswith(b".pkl")
                    or data.startswith(_LEGACY_TORCH_MAGIC)):
                raise self.error(
                    "is a PyTorch checkpoint (torch.save's pickle), not a backprop checkpoint; "
                    "backprop never unpickles, because unpickling can run code. Convert it "
                    "where PyTorch is installed: safetensors.torch.save_file(torch.load(path, "
                    "weights_only=True), 'model.safetensors'), then read that with "
                    "safetensors.numpy.load_file") from None
            raise self.error(str(err)) from None

    def decode(self, node: Any, depth: int) -> Any:
        return self._decode(node, depth)

    def expect(self, condition: bool, tag: str, value: Any) -> None:
        self._expect(condition, tag, value)

    def _safetensors_load(self, data: bytes) -> dict[str, np.ndarray]:
        """safetensors' own reader, on a header already checked: its errors (including a Rust
        panic, which Python sees as a BaseException) become CheckpointError."""
        try:
            return dict(self.st_numpy.load(data))
        except (MemoryError, KeyboardInterrupt, SystemExit):
            raise
        except BaseException as err:  # its error types differ between versions
            raise self.error(f"is truncated or corrupted: safetensors cannot read it "
                             f"({_short_repr(err)})") from err

    def _document(self, metadata: dict[str, str]) -> dict[str, Any]:
        if FORMAT_KEY not in metadata:
            raise HeaderError("is a safetensors file but not a backprop checkpoint (its metadata "
                              f"has no {FORMAT_KEY!r} entry); read plain safetensors files with "
                              "safetensors.numpy.load_file")
        text = metadata[FORMAT_KEY]
        if metadata.get(CHECKSUM_KEY) != sha256_text(text):
            raise HeaderError("is corrupted: the SHA-256 of its metadata does not match")
        try:
            document = strict_json(text)
        except HeaderError as err:
            raise HeaderError(f"has malformed metadata (its document {err})") from None
        version = document.get("version") if isinstance(document, dict) else None
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise HeaderError("has malformed metadata (no format version)")
        if version > FORMAT_VERSION:
            shown = version if version < 10**20 else "beyond 10**20"
            raise HeaderError(f"was written in checkpoint format version {shown}, but this "
                              f"backprop reads versions up to {FORMAT_VERSION}; upgrade backprop")
        if not isinstance(document.get("tensors"), dict) or "tree" not in document:
            raise HeaderError("has malformed metadata (no tensor table or tree)")
        return document

    def _table(self, table: dict[str, Any], entries: dict[str, TensorEntry]
               ) -> dict[str, tuple[np.dtype, tuple[int, ...], str]]:
        """The document's tensor table, checked against the header before any tensor is read."""
        missing = sorted(set(table) - set(entries))
        unexpected = sorted(set(entries) - set(table))
        if missing or unexpected:
            raise self.error(f"does not match its metadata: tensors missing from the file "
                             f"{_names(missing)}, tensors not in the metadata "
                             f"{_names(unexpected)}")
        checked = {}
        for key, info in table.items():
            where = f"has malformed metadata for tensor {quote(key)}"
            if not isinstance(info, dict):
                raise self.error(where)
            dtype = _DTYPES_BY_NAME.get(info.get("dtype")) if isinstance(info.get("dtype"),
                                                                         str) else None
            shape, digest = info.get("shape"), info.get("sha256")
            if dtype is None:
                raise self.error(f"{where} (dtype {quote(info.get('dtype'))})")
            if not isinstance(shape, list) or not all(
                    isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
                raise self.error(f"{where} (shape {quote(shape)})")
            if not isinstance(digest, str) or len(digest) != 64:
                raise self.error(f"{where} (its SHA-256 is not 64 hex digits)")
            shape = tuple(shape)
            parts = stored_dtype(dtype)
            stored_shape = shape + (2,) if dtype in COMPLEX_PARTS else shape
            entry = entries[key]
            if entry.dtype != parts or entry.shape != stored_shape:
                raise self.error(f"does not match its metadata: tensor {quote(key)} is "
                                 f"{entry.dtype} {quote(entry.shape)} in the file but {parts} "
                                 f"{quote(stored_shape)} in the metadata")
            checked[key] = (dtype, shape, digest)
        return checked

    def _check_array(self, key: str, dtype: np.dtype, shape: tuple[int, ...], digest: str,
                     array: np.ndarray) -> np.ndarray:
        parts = stored_dtype(dtype)
        stored_shape = shape + (2,) if dtype in COMPLEX_PARTS else shape
        if array.dtype != parts or array.shape != stored_shape:  # safetensors disagrees with us
            raise self.error(f"does not match its metadata: tensor {quote(key)} is "
                             f"{array.dtype} {quote(array.shape)} in the file but {parts} "
                             f"{quote(stored_shape)} in the metadata")
        if sha256_array(array) != digest:
            raise self.error(f"is corrupted: the SHA-256 of tensor {quote(key)} does not match "
                             "(its bytes changed after it was saved)")
        if dtype.kind == "b" and array.view(np.uint8).max(initial=0) > 1:
            # NumPy treats such bytes inconsistently (2 == True is False): refuse, do not guess.
            raise self.error(f"is corrupted: bool tensor {quote(key)} holds bytes other than 0 "
                             "and 1")
        if not array.flags.writeable:  # older safetensors hand out views of immutable bytes
            array = array.copy()
        if dtype in COMPLEX_PARTS:
            array = np.ascontiguousarray(array).view(dtype).reshape(shape)
        elif dtype.kind == "V":  # bfloat16, stored as its bits
            array = array.astype(BFLOAT16_BITS, copy=False).view(dtype).reshape(shape)
        return array

    def _decode(self, node: Any, depth: int) -> Any:
        """Rebuild one node of the tree, refusing anything ``save`` would not have written."""
        if depth > _MAX_DECODE_DEPTH:
            raise self.error(f"has malformed metadata (the tree nests deeper than "
                             f"{_MAX_DECODE_DEPTH} levels)")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        depth += 1
        if isinstance(node, list):
            return [self._decode(item, depth) for item in node]
        if not isinstance(node, dict):
            raise self.error(f"has malformed metadata (unexpected {type(node).__name__})")
        tags = [name for name in node if name.startswith("$")]
        if len(tags) != 1:
            raise self.error(f"has malformed metadata (a node with tags {quote(tags)})")
        tag = tags[0]
        if tag not in _TAG_FIELDS:
            raise self.error(f"has malformed metadata (unknown tag {quote(tag)})")
        if not set(node) <= _TAG_FIELDS[tag]:
            raise self.error(f"has malformed metadata (a {tag} node with fields "
                             f"{quote(sorted(node))})")
        value = node[tag]
        if tag in MODULE_TAG_FIELDS:
            return decode_tagged(self, tag, node, depth)
        if tag in ("$dict", "$odict"):
            return self._mapping(tag, value, depth)
        if tag == "$tuple":
            self._expect(isinstance(value, list), tag, value)
            return tuple(self._decode(item, depth) for item in value)
        if tag == "$int":
            self._expect(isinstance(value, str) and value.lstrip("-").startswith("0x"), tag, value)
            return int(value, 16)
        if tag == "$float":
            self._expect(value in ("nan", "inf", "-inf"), tag, value)
            return float(value)
        if tag == "$complex":
            real, imag = self._float_pair(tag, value, depth)
            return complex(real, imag)
        if tag == "$np":
            return self._numpy_scalar(value, node.get("value"), depth)
        self._expect(isinstance(value, str), tag, value)
        return self._array_leaf(tag, value, node)

    def _expect(self, condition: bool, tag: str, value: Any) -> None:
        if not condition:
            raise self.error(f"has malformed metadata (a {tag} node holds {quote(value)})")

    def _mapping(self, tag: str, pairs: Any, depth: int) -> dict:
        result = OrderedDict() if tag == "$odict" else {}
        self._expect(isinstance(pairs, list), tag, pairs)
        for pair in pairs:
            self._expect(isinstance(pair, list) and len(pair) == 2, tag, pair)
            key = self._decode(pair[0], depth)
            if not is_plain_key(key):
                raise self.error(f"has malformed metadata (a dict key is a "
                                 f"{type(key).__name__})")
            result[key] = self._decode(pair[1], depth)
        return result

    def _float_pair(self, tag: str, value: Any, depth: int) -> tuple[float, float]:
        self._expect(isinstance(value, list) and len(value) == 2, tag, value)
        parts = [self._decode(part, depth) for part in value]
        self._expect(all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in parts),
                     tag, value)
        return parts[0], parts[1]

    def _numpy_scalar(self, name: Any, value: Any, depth: int) -> np.generic:
        dtype = _DTYPES_BY_NAME.get(name) if isinstance(name, str) else None
        if dtype is None:
            shown = name if isinstance(name, str) and len(name) <= 40 else quote(name)
            raise self.error(f"has malformed metadata (NumPy scalar of dtype {shown})")
        if dtype.kind == "c":
            return dtype.type(complex(*self._float_pair("$np", value, depth)))
        scalar = self._decode(value, depth)
        if dtype.kind == "b":
            self._expect(isinstance(scalar, bool), "$np", value)
        elif dtype.kind in "iu":
            info = np.iinfo(dtype)
            self._expect(isinstance(scalar, int) and not isinstance(scalar, bool)
                         and info.min <= scalar <= info.max, "$np", value)
        else:
            self._expect(isinstance(scalar, (int, float)) and not isinstance(scalar, bool),
                         "$np", value)
            with np.errstate(over="ignore"):
                result = dtype.type(scalar)
            # save widens float16/32 exactly, so a finite value that overflows was never saved.
            self._expect(np.isfinite(result) or not math.isfinite(scalar), "$np", value)
            return result
        return dtype.type(scalar)

    def _array_leaf(self, tag: str, key: str, node: dict[str, Any]) -> Any:
        if key not in self.arrays:
            raise self.error(f"does not match its metadata: the tree refers to tensor "
                             f"{quote(key)}, which the file does not have")
        requires_grad = node.get("requires_grad", False)
        parameter = node.get("parameter", False)
        if not isinstance(requires_grad, bool) or not isinstance(parameter, bool):
            raise self.error(f"has malformed metadata (tensor {quote(key)} has flags "
                             f"{quote(requires_grad)}, {quote(parameter)})")
        saved_on = node.get("device", "cpu")
        if not isinstance(saved_on, str) or not _is_device_name(saved_on):
            raise self.error(f"has malformed metadata (tensor {quote(key)} has device "
                             f"{quote(saved_on)})")
        # Leaves that were one object (or views of one buffer) load as one shared array.
        identity = (tag, key, requires_grad, parameter, saved_on)
        if identity in self._loaded:
            return self._loaded[identity]
        array = self.arrays[key]
        if requires_grad and array.dtype.kind not in "fc":
            raise self.error(f"has malformed metadata: tensor {quote(key)} of dtype "
                             f"{array.dtype} is marked requires_grad, which only floating-point "
                             "tensors can be")
        if tag == "$ndarray":
            result: Any = array
        elif parameter:
            from .nn.parameter import Parameter  # noqa: PLC0415 - nn sits above this module

            result = Parameter(array, requires_grad=requires_grad)
        else:
            result = Tensor._wrap(array)
            if requires_grad:
                result.requires_grad = True
        if tag == "$tensor":
            self._to_place.append((result, saved_on))
        self._loaded[identity] = result
        return result

    def _place(self, tensor: Tensor, saved_on: str) -> None:
        """Move a loaded tensor where ``map_location`` says (by default, where it was saved
        from), as ``torch.load`` does."""
        target: Any = saved_on
        location = self.map_location
        if callable(location):
            placed = location(tensor, saved_on)
            if isinstance(placed, Tensor):
                tensor._data = placed._data
            return
        if isinstance(location, dict):
            target = location.get(saved_on, saved_on)
        elif location is not None:
            target = location
        try:
            device = backend.as_device(target, "load")
        except (RuntimeError, ValueError) as err:
            raise reworded(err, f"{err}. {self.where} holds tensors saved on {saved_on}; load "
                                "them onto the CPU with map_location='cpu'") from None
        if device is not None and device != "cpu":
            tensor._data = backend.to_device(tensor._data, device)


def _first_zip_entry(data: bytes) -> bytes:
    """The name of a zip file's first entry (its local header: name length at byte 26)."""
    length = int.from_bytes(data[26:28], "little")
    return data[30:30 + length]


def _is_device_name(name: str) -> bool:
    try:
        backend.device(name)
    except ValueError:
        return False
    return True


def _names(names: list[str]) -> str:
    shown = ", ".join(quote(name) for name in names[:5])
    return f"[{shown}{', ...' if len(names) > 5 else ''}]"


def _short_repr(err: BaseException, limit: int = 200) -> str:
    text = " ".join(repr(err).split())
    return text if len(text) <= limit else text[:limit] + "..."
