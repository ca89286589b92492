"""What the vision data sets share: the missing-files error and the index check."""

from __future__ import annotations

import operator
from typing import Any


class DatasetNotFoundError(FileNotFoundError, RuntimeError):
    """A data set's files are not where they were looked for. backprop never downloads, so
    ``download=True`` cannot help; the message says which files to put in which folder and where
    to get them. It is a ``FileNotFoundError`` and also a ``RuntimeError``, the exception
    torchvision raises when files are missing, so ``except RuntimeError`` in a ported program
    still catches it."""


def check_index(index: Any, size: int, op: str) -> int:
    """``index`` as an int in ``range(size)`` (negative counts from the end), or a clear error."""
    try:
        i = operator.index(index)
    except TypeError:
        raise TypeError(f"{op}: samples are indexed by integers, got "
                        f"{type(index).__name__}") from None
    if not -size <= i < size:
        raise IndexError(f"{op}: index {i} is out of range for {size} samples")
    return i % size
