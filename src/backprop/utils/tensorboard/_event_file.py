"""One event file: ``Event`` protocol buffers framed as TFRecords (length, masked CRC-32C of the
length, data, masked CRC-32C of the data), framed in the caller's thread, held in memory and
written every ``max_queue`` events, every ``flush_secs`` seconds (a daemon thread), on ``flush()``,
on ``close()``, and when the writer is dropped or the program ends.

Why not tensorboardX's ``FileWriter``: its ``flush()`` does not wait for the events still queued
for its writer thread, so a reader right after ``flush()`` can miss them; and two writers opened
in the same second in one folder get the same file name, the second truncating the first. Here
``flush()`` means written, and each file is named with the host, process and a counter.
"""

from __future__ import annotations

import itertools
import os
import socket
import struct
import threading
import time
import weakref
from typing import IO, Any

from ._summaries import protos

_file_numbers = itertools.count()
# The shortest interval between timed flushes: flush_secs=0 must not spin a core.
_MIN_FLUSH_SECS = 0.05


class EventFile:
    """Append events to a new file in ``log_dir`` (made if missing)."""

    def __init__(self, log_dir: str, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str = "") -> None:
        self._checksum = protos().masked_crc32c
        os.makedirs(log_dir, exist_ok=True)
        self._log_dir = log_dir
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_file_numbers)}{filename_suffix}")
        self.path = os.path.join(log_dir, name)
        # Unbuffered: the events not yet written wait in our own list, which a forked child's
        # copy never writes (see _shut).
        self._file: IO[bytes] = open(self.path, "wb", buffering=0)  # noqa: SIM115 - close()
        self._max_queue = max(int(max_queue), 1)
        self._buffer: list[bytes] = []
        self._lock = threading.Lock()
        self._closed = False
        stop = threading.Event()
        # The flushing thread holds the file weakly, so a writer nobody keeps is still collected;
        # then, or at exit, the finalizer stops the thread and closes the file (which writes it).
        self._finalizer = weakref.finalize(self, _shut, self._file, self._buffer, self._lock,
                                           stop, os.getpid())
        interval = max(float(flush_secs), _MIN_FLUSH_SECS)
        thread = threading.Thread(target=_flush_every, args=(weakref.ref(self), interval, stop),
                                  name=f"SummaryWriter flush {name}", daemon=True)
        thread.start()
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
        length = struct.pack("<Q", len(data))
        record = (length + struct.pack("<I", self._checksum(length)) + data
                  + struct.pack("<I", self._checksum(data)))
        with self._lock:
            if self._closed:
                raise RuntimeError(f"SummaryWriter: the event file {self.path} is closed")
            self._buffer.append(record)
            if len(self._buffer) >= self._max_queue:
                _write(self._file, self._buffer)

    def add_summary(self, summary: Any, global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """Append an event holding ``summary``."""
        self.add_event(protos().Event(summary=summary), global_step, walltime)

    def flush(self) -> None:
        """Hand every buffered event to the operating system (readers see them now)."""
        with self._lock:
            if not self._closed:
                _write(self._file, self._buffer)

    def close(self) -> None:
        """Write what is buffered and close the file; closing twice is fine."""
        with self._lock:
            self._closed = True
        self._finalizer()


def _flush_every(file: weakref.ref, seconds: float, stop: threading.Event) -> None:
    while not stop.wait(seconds):
        alive = file()
        if alive is None:
            return
        alive.flush()
        del alive


def _write(handle: IO[bytes], buffer: list[bytes]) -> None:
    """Write the buffered records and empty the buffer."""
    if not buffer:
        return
    data = memoryview(b"".join(buffer))
    buffer.clear()
    while data:  # a raw write may take only part
        data = data[handle.write(data) or 0:]


def _shut(handle: IO[bytes], buffer: list[bytes], lock: threading.Lock, stop: threading.Event,
          owner: int) -> None:
    stop.set()
    # A process forked from the owner (a data loader worker) holds a copy of the records not yet
    # written: writing them too would duplicate those events, so only the owner writes them (and
    # the child skips the lock, which a thread of the parent may have held when it forked).
    if os.getpid() != owner:
        buffer.clear()
        handle.close()
        return
    with lock:
        _write(handle, buffer)
        handle.close()
