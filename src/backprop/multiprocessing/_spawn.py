"""``spawn`` and ``start_processes``: ``fn(i, *args)`` in ``nprocs`` processes, as PyTorch's
helper, raising in the parent when one of them fails.

A child that raises sends its traceback to the parent as text through a one-way pipe (bytes,
never a pickled object); a child that dies without one (a signal, ``os._exit``) is reported by
its exit code.

>>> spawn(divmod, args=(2,), nprocs=2)  # divmod(0, 2) and divmod(1, 2), one per process
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from ._context import get_context

__all__ = ["ProcessContext", "ProcessException", "ProcessExitedException",
           "ProcessRaisedException", "SpawnContext", "spawn", "start_processes"]


class ProcessException(Exception):
    """A process started by ``spawn`` failed; ``error_index`` is its rank, ``pid`` its id."""

    def __init__(self, msg: str, error_index: int, pid: int) -> None:
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid

    def __reduce__(self) -> tuple:
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """The process raised an exception; the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """The process ended with a non-zero exit code or a signal, without a Python exception."""

    def __init__(self, msg: str, error_index: int, error_pid: int, exit_code: int,
                 signal_name: str | None = None) -> None:
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self) -> tuple:
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code,
                            self.signal_name)


def _run(fn: Callable[..., Any], i: int, args: tuple, report: Any) -> None:
    """The child's body: ``fn(i, *args)``; an exception goes back to the parent as text."""
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass  # the parent is stopping every process: nothing to report
    except BaseException:  # noqa: BLE001 - any failure of the user's fn is reported
        report.send_bytes(traceback.format_exc().encode("utf-8", "replace"))
        sys.exit(1)
    finally:
        report.close()


class ProcessContext:
    """The processes ``start_processes`` started; ``join`` waits for them and raises the
    first failure (stopping the others)."""

    def __init__(self, processes: Sequence[Any], error_pipes: Sequence[Any]) -> None:
        self.processes = list(processes)
        self.error_pipes = list(error_pipes)
        self.sentinels = {process.sentinel: i for i, process in enumerate(self.processes)}

    def pids(self) -> list[int]:
        return [int(process.pid) for process in self.processes]

    def join(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds (forever if None) for a process to end; True once
        all have ended successfully. A failed process stops the others and raises."""
        if not self.sentinels:
            return True
        ready = multiprocessing.connection.wait(list(self.sentinels), timeout=timeout)
        failed = None
        for sentinel in ready:
            i = self.sentinels.pop(sentinel)
            self.processes[i].join()
            if failed is None and self.processes[i].exitcode != 0:
                failed = i
        if failed is None:
            return not self.sentinels
        for process in self.processes:
            if process.is_alive():
                process.terminate()
            process.join()
        self.sentinels.clear()
        raise self._failure(failed)

    def _failure(self, i: int) -> ProcessException:
        process, pipe = self.processes[i], self.error_pipes[i]
        text = None
        if pipe.poll():
            try:
                text = pipe.recv_bytes().decode("utf-8", "replace")
            except EOFError:  # the child closed the pipe without a traceback
                pass
        if text is not None:
            return ProcessRaisedException(
                f"\n\n-- Process {i} terminated with the following error:\n{text}", i,
                int(process.pid))
        code = int(process.exitcode)
        if code < 0:
            name = signal.Signals(-code).name
            return ProcessExitedException(f"process {i} terminated with signal {name}", i,
                                          int(process.pid), code, name)
        return ProcessExitedException(f"process {i} terminated with exit code {code}", i,
                                      int(process.pid), code)


SpawnContext = ProcessContext  # PyTorch's older name


def start_processes(fn: Callable[..., Any], args: tuple = (), nprocs: int = 1,
                    join: bool = True, daemon: bool = False,
                    start_method: str = "spawn") -> ProcessContext | None:
    """Start ``fn(i, *args)`` for ``i`` in ``range(nprocs)``; with ``join`` wait for all (and
    return None), else return the ``ProcessContext``. Every start method forks where fork
    exists (see ``backprop.multiprocessing``)."""
    if not isinstance(nprocs, int) or nprocs < 1:
        raise ValueError(f"spawn: nprocs must be a positive int, got {nprocs!r}")
    context = get_context(start_method)
    processes, pipes = [], []
    for i in range(nprocs):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_run, args=(fn, i, tuple(args), send), daemon=daemon)
        process.start()
        send.close()  # the child holds the writing end now
        processes.append(process)
        pipes.append(receive)
    running = ProcessContext(processes, pipes)
    if not join:
        return running
    while not running.join():
        pass
    return None


def spawn(fn: Callable[..., Any], args: tuple = (), nprocs: int = 1, join: bool = True,
          daemon: bool = False, start_method: str = "spawn") -> ProcessContext | None:
    """PyTorch's ``torch.multiprocessing.spawn``: ``fn(i, *args)`` in ``nprocs`` processes;
    a process that raises makes the parent raise ``ProcessRaisedException`` with its
    traceback.

    >>> spawn(divmod, args=(0,), nprocs=2)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    ProcessRaisedException: divmod by zero
    """
    return start_processes(fn, args, nprocs, join, daemon, start_method)
