"""A progress bar from tqdm when it is installed (the optional extra), else none."""

from __future__ import annotations

import sys
from typing import Iterable, TypeVar

T = TypeVar("T")


def progress_bar(items: Iterable[T], description: str, enabled: bool = True) -> Iterable[T]:
    """Wrap ``items`` in a tqdm bar on stderr that disappears when done."""
    if not enabled:
        return items
    try:
        from tqdm import tqdm  # noqa: PLC0415 - optional extra
    except ImportError:
        return items
    return tqdm(items, desc=description, leave=False, file=sys.stderr, dynamic_ncols=True)
