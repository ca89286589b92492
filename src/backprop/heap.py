"""Keeping freed memory in the process heap between training steps (Linux with glibc).

A training step allocates and frees the same large temporaries every time. glibc's defaults hand
blocks above 128 KiB back to the kernel on free (mmap, or trimming the heap top), so every step
page-faults them in again: about 13% of the character Transformer's step (W4 of the benchmarks)
went there. ``keep_freed_memory`` raises the thresholds so such blocks stay in the heap and are
reused: blocks up to 32 MiB come from the heap, up to 128 MiB of free space is kept at its top.
Peak memory is unchanged; memory freed after a peak returns to the system later or not at all.

``import backprop`` calls it once; set the environment variable ``BACKPROP_KEEP_HEAP=0`` before
the import to leave the allocator as it is. Elsewhere (macOS, Windows, musl) it does nothing.

>>> keep_freed_memory() in (True, False)
True
"""

from __future__ import annotations

import os
import sys

# mallopt parameter numbers from glibc's malloc.h.
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 << 20  # glibc's own ceiling for its adaptive threshold on 64-bit systems
TRIM_THRESHOLD = 128 << 20
TOP_PAD = 16 << 20


def keep_freed_memory() -> bool:
    """Tune glibc's malloc to reuse large freed blocks; True if the settings were applied."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
                and mallopt(_M_TOP_PAD, TOP_PAD))


def apply_default() -> None:
    """What ``import backprop`` does: tune the heap unless ``BACKPROP_KEEP_HEAP=0``."""
    if os.environ.get("BACKPROP_KEEP_HEAP", "1") != "0":
        keep_freed_memory()
