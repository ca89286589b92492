"""One event file: TFRecord-framed ``Event`` protocol buffers (tensorboardX's ``RecordWriter``),
written in the caller's thread and flushed to disk every ``max_queue`` events, ``flush_secs``
after the first event not yet flushed (a timer thread), on ``flush()`` and on ``close()``.

Why not tensorboardX's ``FileWriter``: its ``flush()`` does not wait for the events still queued
for its writer thread, so a reader right after ``flush()`` can miss them; and two writers opened
in the same second in one folder get the same file name, the second truncating the first. Here
``flush()`` means on disk, and each file is named with the host, process and a counter.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
import time
import weakref
from typing import Any

from ._summaries import protos

_file_numbers = itertools.count()


class EventFile:
    """Append events to a new file in ``log_dir`` (made if missing)."""

    def __init__(self, log_dir: str, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str = "") -> None:
        from tensorboardX.record_writer import RecordWriter  # optional extra

        os.makedirs(log_dir, exist_ok=True)
        self._log_dir = log_dir
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_file_numbers)}{filename_suffix}")
        self.path = os.path.join(log_dir, name)
        self._records = RecordWriter(self.path)
        self._max_queue = max(int(max_queue), 1)
        self._flush_secs = float(flush_secs)
        self._pending = 0
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._closed = False
        # events still buffered when the writer is dropped or the program ends reach the disk
        self._finalizer = weakref.finalize(self, _close_records, self._records, self._lock)
        self.add_event(protos().Event(wall_time=time.time(), file_version="brain.Event:2"))

    def get_logdir(self) -> str:
        return self._log_dir

    def add_event(self, event: Any, step: int | None = None,
                  walltime: float | None = None) -> None:
        """Append ``event``, stamped with ``walltime`` (default: now) and ``step`` if given."""
        if not event.wall_time or walltime is not None:
            event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        data = event.SerializeToString()
        with self._lock:
            if self._closed:
                raise RuntimeError(f"SummaryWriter: the event file {self.path} is closed")
            self._records.write(data)
            self._pending += 1
            if self._pending >= self._max_queue:
                self._flush_locked()
            elif self._timer is None:
                self._timer = threading.Timer(self._flush_secs, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def add_summary(self, summary: Any, global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """Append an event holding ``summary``."""
        self.add_event(protos().Event(summary=summary), global_step, walltime)

    def flush(self) -> None:
        """Write every buffered event to disk."""
        with self._lock:
            if not self._closed:
                self._flush_locked()

    def _flush_locked(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            self._records.flush()
            self._pending = 0

    def close(self) -> None:
        """Flush and close the file; closing twice is fine."""
        with self._lock:
            if self._closed:
                return
            self._flush_locked()
            self._closed = True
        self._finalizer()


def _close_records(records: Any, lock: threading.Lock) -> None:
    with lock:
        records.close()
