"""What the ``backprop`` command shows while it runs: lines that survive a closed pipe, progress
bars only on a terminal, and durations written to be read.

Every sub-command prints through ``say`` and wraps its loops in ``progress_bar``:

* ``backprop train | head -1``: once ``head`` has its line it closes the pipe, and the next
  write raises ``BrokenPipeError``. ``say`` then points the stream at ``/dev/null`` (what the
  Python documentation advises for SIGPIPE) and returns, so the run goes on and writes all its
  files; it never stops a run because nobody reads its output.
* ``backprop train 2>&1 | tee log``: a bar redraws itself with carriage returns, which a log
  keeps as debris glued to each line; bars are drawn only when stderr is a terminal, and each
  line is flushed as it is said, so a log shows every epoch when it ends.
"""

from __future__ import annotations

import os
import sys
from typing import IO, Iterable, TypeVar

T = TypeVar("T")

__all__ = ["format_duration", "interactive", "progress_bar", "say"]


def say(message: str = "", file: IO[str] | None = None) -> None:
    """Print ``message`` as one line on stdout (or ``file``), flushed at once; when the reader
    of that stream has gone, silence the stream instead of raising.

    >>> say("epoch   1  loss 0.5000")
    epoch   1  loss 0.5000
    """
    stream = sys.stdout if file is None else file
    try:
        print(message, file=stream, flush=True)
    except BrokenPipeError:
        _silence(stream)


def _silence(stream: IO[str]) -> None:
    # Later writes, and the flush at exit, go to /dev/null instead of raising again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stream.fileno())
    finally:
        os.close(devnull)


def interactive() -> bool:
    """Whether a person watches stderr (a terminal), so a progress bar can be redrawn there."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced by an object without isatty, or closed
        return False


def progress_bar(items: Iterable[T], description: str, enabled: bool = True) -> Iterable[T]:
    """Wrap ``items`` in a tqdm bar on stderr that disappears when done; ``items`` itself when
    ``enabled`` is false, stderr is not a terminal or tqdm (an optional extra) is missing."""
    if not (enabled and interactive()):
        return items
    try:
        from tqdm import tqdm  # noqa: PLC0415 - optional extra
    except ImportError:
        return items
    return tqdm(items, desc=description, leave=False, file=sys.stderr, dynamic_ncols=True)


def format_duration(seconds: float) -> str:
    """A duration as a person reads it: milliseconds under a second (an epoch on the embedded
    digits takes about 20 ms, which one decimal of seconds shows as "0.0 s").

    >>> format_duration(0.0198), format_duration(2.345), format_duration(612.4)
    ('20 ms', '2.3 s', '612 s')
    """
    if seconds < 1:
        return f"{1000 * seconds:.0f} ms"
    return f"{seconds:.1f} s" if seconds < 100 else f"{seconds:.0f} s"
