"""The checkpoint format's constants, its error, and what both ``serialization`` (the writer) and
``_checkpoint_reader`` (the reader) need: which keys and dtypes a file may hold, and its
checksums."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

FORMAT_KEY = "backprop.checkpoint"
CHECKSUM_KEY = "backprop.checkpoint.sha256"
# Version 2 added whole modules (``_module_tree``); a file without them is still written as 1.
FORMAT_VERSION = 2

# Dtypes a checkpoint holds: safetensors' own, plus complex stored as (..., 2) real pairs.
STORABLE = {np.dtype(t) for t in (np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32,
                                  np.uint32, np.int64, np.uint64, np.float16, np.float32,
                                  np.float64)}
COMPLEX_PARTS = {np.dtype(np.complex64): np.dtype(np.float32),
                 np.dtype(np.complex128): np.dtype(np.float64)}
# How deep containers may nest. save's encoder and load's decoder recurse once per level, and
# JSON parsers have their own limits: a cap well inside Python's recursion limit makes a file
# that saves also load, and turns a hostile "recursion bomb" into a clear error.
MAX_NESTING = 100
# bfloat16 (ml_dtypes') is stored as its bits in U16 entries, which safetensors' NumPy side can
# write; the document's table names the dtype.
BFLOAT16_BITS = np.dtype("<u2")


def stored_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype of the safetensors entry that holds an array of ``dtype``."""
    if dtype.kind == "V":  # bfloat16, the one such dtype a tensor can have
        return BFLOAT16_BITS
    return COMPLEX_PARTS.get(dtype, dtype)


class CheckpointError(ValueError):
    """A file that is not a readable ``backprop`` checkpoint: not safetensors, truncated,
    corrupted (a checksum does not match), or written by a newer format version."""


def is_plain_key(key: Any) -> bool:
    """Whether ``key`` can be a saved dict's key: a number, a string, None or a tuple of them."""
    if key is None or isinstance(key, (bool, int, float, complex, str)):
        return True
    if isinstance(key, np.generic):
        return key.dtype.kind in "biufc"
    return isinstance(key, tuple) and all(is_plain_key(k) for k in key)


def sha256_array(array: np.ndarray) -> str:
    """The SHA-256 of an array's bytes in little-endian C order (the order the file holds)."""
    little = array.astype(array.dtype.newbyteorder("<"), order="C", copy=False)
    return hashlib.sha256(little.reshape(-1).view(np.uint8)).hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
