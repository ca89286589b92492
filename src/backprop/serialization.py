"""Checkpoints: ``save`` and ``load`` in the safetensors format, never pickle.

A checkpoint is one safetensors file. Every tensor and NumPy array in the saved object is a
safetensors entry under a readable flattened key (``model/fc.weight``,
``optimizer/state/0/exp_avg``); everything else (the nesting, dict key types, tuples vs lists,
numbers, strings, which leaves are ``bp`` tensors and which are arrays) is one JSON document in
the file's metadata, with a format version, a SHA-256 of every tensor's bytes and a SHA-256 of
the document itself. Loading only parses JSON and copies bytes into arrays: nothing in a file is
ever executed, so a checkpoint from a stranger is as safe to open as a CSV.

Loading trusts nothing in the file (tests/test_load_fuzz.py throws thousands of broken and hostile
files at it): every declared size is checked against the bytes present before anything is
allocated (``_safetensors_header``), JSON with duplicate keys is refused (two parsers could read
it differently), the tree may nest at most ``MAX_NESTING`` containers deep (``save`` refuses
deeper objects, so whatever saves also loads), and every problem, whoever finds it, is one
``CheckpointError``.

The document encodes ``None``, ``bool``, ``str``, ``int`` (within int64) and finite ``float`` as
themselves; everything else is an object with one ``$``-tag::

    {"$dict": [[key, value], ...]}   {"$odict": ...}   {"$tuple": [...]}   lists are JSON arrays
    {"$int": "0x..."}                Python ints beyond int64 (RNG states), in hex
    {"$float": "nan" | "inf" | "-inf"}                 {"$complex": [re, im]}
    {"$np": "float32", "value": v}   NumPy scalars, with their dtype
    {"$tensor": key, "requires_grad": true, "parameter": true}   {"$ndarray": key}

Whole modules (``save(model, f)``), dtypes, devices, ``Size``s, dataclass configurations and
named functions have tags of their own (format version 2, written only when used; see
``_module_tree``). Their classes are saved as names and rebuilt only from backprop's own or the
user's allowlist (``safe_globals``, ``add_safe_globals``, as in PyTorch >= 2.6), never by
importing a name read from the file. The writer is ``_checkpoint_writer``, the reader
``_checkpoint_reader``.

``safetensors`` is an optional extra (``pip install backprop[checkpoint]``), imported only when a
checkpoint is written or read.
"""

from __future__ import annotations

import errno
import io
import json
import os
import stat
from typing import IO, Any, Union

from ._checkpoint_format import CHECKSUM_KEY, FORMAT_KEY, MAX_NESTING, CheckpointError, sha256_text
from ._checkpoint_reader import Reader
from ._checkpoint_writer import Writer
from ._safe_globals import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from ._safetensors_header import read_stream
from .atomic import atomic_write_bytes

__all__ = ["MAX_NESTING", "CheckpointError", "add_safe_globals", "clear_safe_globals",
           "get_safe_globals", "get_unsafe_globals_in_checkpoint", "load", "safe_globals", "save"]

PathLike = Union[str, "os.PathLike[str]"]


# -- saving ---------------------------------------------------------------------------------------


def save(obj: Any, f: PathLike | IO[bytes], pickle_module: Any = None, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:
    """Write ``obj`` to ``f`` as a safetensors checkpoint, atomically (as ``torch.save``).

    ``obj`` is a tensor, a NumPy array, or nested dicts, lists and tuples of tensors, arrays,
    ints (of any size), floats, complex numbers, bools, ``None``, strings and NumPy scalars: a
    model's ``state_dict()``, an optimizer's or scheduler's, or a whole training state. Dict keys
    may be strings, numbers, ``None`` or tuples of them. Whole ``nn.Module``s are saved as data
    (their class by name, attributes, parameters, buffers and submodules; see ``_module_tree``),
    and so are dtypes, devices, ``Size``s and named functions and classes; anything else (a
    lambda, an open file) is refused, naming where it is. Nothing is pickled: PyTorch's pickle
    arguments are taken for its signature, and ``pickle_module`` must stay None.

    ``f`` is a path: the file is written to a temporary file in the same directory, synced and
    renamed over ``f``, so a crash at any moment leaves either the old checkpoint or the new one,
    never a torn file. ``f`` may also be a binary file object (written in place, not atomically).

    >>> import os, tempfile
    >>> import backprop as bp
    >>> from backprop.serialization import load, save
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "ckpt.safetensors")
    >>> save({"weight": bp.ones(2, 3), "epoch": 3, "seen": (1, 2)}, path)
    >>> state = load(path)
    >>> state["weight"].shape, state["epoch"], state["seen"]
    ((2, 3), 3, (1, 2))
    >>> folder.cleanup()
    """
    if pickle_module is not None:
        raise ValueError("save: pickle_module must be None: backprop never pickles; a "
                         "checkpoint is a safetensors file with a JSON document")
    st_numpy = _import_safetensors("save")
    writer = Writer()
    tree = writer.encode(obj, ())
    document = json.dumps({"version": writer.version, "tree": tree, "tensors": writer.table},
                          allow_nan=False, separators=(",", ":"))
    metadata = {FORMAT_KEY: document, CHECKSUM_KEY: sha256_text(document)}
    data = st_numpy.save(writer.arrays, metadata=metadata)
    if _is_file_object(f, "write"):
        f.write(data)
        if hasattr(f, "flush"):
            f.flush()
        return
    atomic_write_bytes(_as_path(f, "save"), data, "save")


# -- loading --------------------------------------------------------------------------------------


def load(f: PathLike | IO[bytes], map_location: Any = None, pickle_module: Any = None, *,
         weights_only: bool | None = None, mmap: bool | None = None,
         **pickle_load_args: Any) -> Any:
    """Read a checkpoint written by ``save`` (as ``torch.load``): tensors come back as ``bp``
    tensors with their dtype (and ``requires_grad``), arrays as NumPy arrays, every dict,
    OrderedDict, list, tuple, number and string as it was saved, and whole modules as modules.

    The file is checked before anything is returned: a file that is not a checkpoint, is
    truncated, or whose metadata or tensor bytes fail their SHA-256 raises ``CheckpointError``
    naming the file (and the tensor), and the whole object is returned or none of it. Nothing
    in a checkpoint is executed, and no declared size is trusted: loading allocates about the
    file's size, never more, whatever its header claims.

    A saved module is rebuilt only if its class is backprop's own or allowed by the user, as
    PyTorch's ``weights_only`` loading does: ``with safe_globals([Net]): load(f)`` or
    ``add_safe_globals([Net])``. Classes are matched by the name they were saved under and are
    never imported; their ``__init__`` is not called (the saved state is set directly).

    Tensors saved from a device load back onto it, unless ``map_location`` says otherwise, as in
    PyTorch: a device (``"cpu"``, ``"cuda:1"``), a dict from saved to wanted device, or a
    callable ``f(tensor_on_cpu, saved_device) -> tensor``. NumPy arrays always load on the host.
    ``weights_only`` must stay ``True`` (None means True, as in PyTorch 2.6): backprop never
    unpickles anything. ``mmap`` is taken for PyTorch's signature; the file is read whole.

    >>> import io
    >>> import backprop as bp
    >>> from backprop.serialization import load, save
    >>> buffer = io.BytesIO()
    >>> save({"step": 10, "exp_avg": bp.zeros(3, dtype=bp.float64)}, buffer)
    >>> _ = buffer.seek(0)
    >>> state = load(buffer, map_location="cpu")
    >>> state["step"], state["exp_avg"].dtype
    (10, dtype('float64'))
    """
    if weights_only is not None and not weights_only:
        raise ValueError("load: weights_only=False asks to unpickle arbitrary objects, which "
                         "backprop never does: nothing in a file may run code. Leave "
                         "weights_only=True (the default); whole models load too, with "
                         "torch.serialization.safe_globals([YourModel]) for your own classes")
    if pickle_module is not None or pickle_load_args:
        given = "pickle_module" if pickle_module is not None else ", ".join(pickle_load_args)
        raise ValueError(f"load: {given} only apply to pickle files, which backprop never "
                         "reads; call load(f, map_location=...) without them")
    if mmap is not None and not isinstance(mmap, bool):
        raise TypeError(f"load: mmap must be a bool or None, got {type(mmap).__name__}")
    st_numpy = _import_safetensors("load")
    where, data = _read_checkpoint(f, "load")
    return Reader(where, st_numpy, map_location).read(data)


def get_unsafe_globals_in_checkpoint(f: PathLike | IO[bytes]) -> list[str]:
    """The class and function names in a checkpoint that ``load`` would refuse now (neither
    backprop's own nor allowed with ``add_safe_globals``/``safe_globals``), as PyTorch's.

    >>> import io
    >>> import backprop as bp
    >>> from backprop.serialization import get_unsafe_globals_in_checkpoint, save
    >>> class Net(bp.nn.Module):
    ...     pass
    >>> buffer = io.BytesIO()
    >>> save(bp.nn.Sequential(Net(), bp.nn.ReLU()), buffer)
    >>> _ = buffer.seek(0)
    >>> get_unsafe_globals_in_checkpoint(buffer)
    ['backprop.serialization.Net']
    """
    st_numpy = _import_safetensors("get_unsafe_globals_in_checkpoint")
    where, data = _read_checkpoint(f, "get_unsafe_globals_in_checkpoint")
    return Reader(where, st_numpy).unsafe_names(data)


def _read_checkpoint(f: PathLike | IO[bytes], op: str) -> tuple[str, bytes]:
    if _is_file_object(f, "read"):
        where = str(getattr(f, "name", f"<{type(f).__name__}>"))
        return where, bytes(_read_all(f, where))
    where = _as_path(f, op)
    try:
        with open(where, "rb") as file:
            return where, bytes(_read_all(file, where))
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, f"{op}: no checkpoint file at this path",
                                where) from None


def load_tagged(path: PathLike, tag: str, op: str, not_tagged: str) -> dict[str, Any]:
    """A program's checkpoint: a saved dict whose ``"format"`` is ``tag``. Raises
    ``FileNotFoundError`` when ``path`` is missing and ``ValueError(f"{op}: {path} {not_tagged}")``
    when the checkpoint is something else (the model and state are the caller's to rebuild)."""
    if os.path.isdir(path):
        raise IsADirectoryError(f"{op}: {path} is a directory, not a checkpoint file")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{op}: no such checkpoint: {path}")
    state = load(path, map_location="cpu")  # the program moves its model where it runs
    if not isinstance(state, dict) or state.get("format") != tag:
        raise ValueError(f"{op}: {path} {not_tagged}")
    return state


def _read_all(f: IO[bytes], where: str) -> bytes:
    """The file's bytes: all of a regular file or in-memory buffer (their size is what it is);
    from anything else (a pipe, a socket, a device such as /dev/zero) only as far as the
    checkpoint's own header says it extends, so an endless stream cannot exhaust memory."""
    def read(size: int = -1) -> bytes:
        chunk = f.read(size)
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError(f"load: {where} returned {type(chunk).__name__} from read(); open "
                            "the checkpoint in binary mode ('rb')")
        return chunk

    return read() if _has_known_size(f) else read_stream(read)


def _has_known_size(f: Any) -> bool:
    if isinstance(f, io.BytesIO):
        return True
    if not isinstance(f, (io.BufferedReader, io.FileIO)):  # GzipFile has a file's fileno too
        return False
    try:
        return stat.S_ISREG(os.fstat(f.fileno()).st_mode)
    except (OSError, ValueError):  # a closed file, or no descriptor (io.UnsupportedOperation)
        return False


# -- shared helpers -------------------------------------------------------------------------------


def _import_safetensors(op: str) -> Any:
    try:
        import safetensors.numpy  # noqa: PLC0415 - an optional extra, imported on first use
    except ImportError as err:
        raise ImportError(f"{op}: checkpoints are safetensors files and need the optional "
                          "'safetensors' package: pip install backprop[checkpoint] "
                          "(or pip install safetensors)") from err
    return safetensors.numpy


def _is_file_object(f: Any, method: str) -> bool:
    return not isinstance(f, (str, bytes, os.PathLike)) and callable(getattr(f, method, None))


def _as_path(f: Any, op: str) -> str:
    try:
        path = os.fspath(f)
    except TypeError:
        raise TypeError(f"{op}: f must be a path (str or os.PathLike) or a binary file object, "
                        f"got {type(f).__name__}") from None
    return os.fsdecode(path)
