"""Shared memory for tensors: an anonymous ``mmap`` block that forked processes keep sharing.

``mmap.mmap(-1, n)`` maps anonymous memory MAP_SHARED on POSIX, so a process forked after the
map writes into the very pages its parent reads (private memory would be copied on write).
This file imports nothing from Python's ``multiprocessing``: moving a tensor needs no process.

>>> import numpy as np
>>> a = to_shared(np.arange(6.0).reshape(2, 3).T)
>>> is_shared(a), is_shared(a[1:]), a.strides, a.tolist()
(True, True, (8, 24), [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]])
"""

from __future__ import annotations

import mmap

import numpy as np

__all__ = ["is_shared", "to_shared"]


class SharedBlock(mmap.mmap):
    """An anonymous shared map; its own type tells ``is_shared`` a tensor's memory lives here
    (a ``np.memmap`` of a file is an ``mmap`` too, but is not what ``share_memory_`` made)."""


def _byte_bounds(array: np.ndarray) -> tuple[int, int]:
    bounds = getattr(getattr(np.lib, "array_utils", np), "byte_bounds", None) or np.byte_bounds
    return bounds(array)


def to_shared(array: np.ndarray) -> np.ndarray:
    """A copy of ``array`` in a new shared block, with the same dtype, shape and strides (so
    the same C or Fortran order, the same gaps of a slice); read-only stays read-only."""
    low, high = _byte_bounds(array)
    # mmap refuses a length of 0; an empty tensor still gets a (one-byte) block of its own.
    block = SharedBlock(-1, max(high - low, 1))
    start = array.__array_interface__["data"][0]
    shared: np.ndarray = np.ndarray(array.shape, array.dtype, buffer=block, offset=start - low,
                                    strides=array.strides)
    np.copyto(shared, array)
    if not array.flags.writeable:
        shared.flags.writeable = False
    return shared


def is_shared(array: object) -> bool:
    """Whether ``array``'s memory is a block made by ``to_shared`` (views of it included)."""
    base = array
    while isinstance(base, np.ndarray):
        base = base.base
    return isinstance(base, SharedBlock)
