"""A failed rank ends the whole job, with its error shown, instead of leaving the others waiting.

When a rank is killed, the MPI launcher notices and stops the others. When a rank raises, it does
not: the process reaches ``MPI_Finalize`` and waits there, while the other ranks wait in their
next collective. So ``init()`` (with more than one rank) replaces ``sys.excepthook``: the
traceback is printed as usual, then ``MPI_Abort`` asks the launcher to stop every rank, and
``mpiexec`` exits non-zero. Code that catches exceptions itself (a command line that turns them
into exit codes) wraps its work in ``abort_on_error()`` for the same effect. Ranks that are
merely stuck are caught by the collectives' timeout (``waiting.py``), whose error then takes
this same path.
"""

from __future__ import annotations

import contextlib
import sys
import traceback
from typing import Any, Callable, Iterator, NoReturn

_previous_hook: Callable[..., Any] | None = None
_world: tuple[Any, int, int] | None = None  # (mpi, rank, world size) while the hook is in place


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def abort(message: str, errorcode: int = 1) -> NoReturn:
    """Print ``message`` on stderr and stop every rank of the job (``MPI_Abort``).

    Without a multi-rank group (not initialized, or a world of one) it raises ``SystemExit``
    with ``errorcode`` instead, since there is nobody else to stop.
    """
    sys.stderr.write(message.rstrip("\n") + "\n")
    _flush()
    if _world is None:
        raise SystemExit(errorcode)
    mpi = _world[0]
    mpi.COMM_WORLD.Abort(errorcode)
    raise SystemExit(errorcode)  # not reached: Abort does not return


def _abort_message(error: BaseException) -> str:
    _, rank, size = _world  # type: ignore[misc]
    return (f"backprop.distributed: rank {rank} of {size} failed with "
            f"{type(error).__name__}; stopping all ranks (MPI_Abort)")


def _excepthook(exc_type: type[BaseException], error: BaseException, tb: Any) -> None:
    if _previous_hook is not None:
        _previous_hook(exc_type, error, tb)
    if _world is not None:
        abort(_abort_message(error))


def install_excepthook(mpi: Any, rank: int, world_size: int) -> None:
    """Make an uncaught exception in this rank abort the job (called by ``init()``)."""
    global _previous_hook, _world
    _world = (mpi, rank, world_size)
    if sys.excepthook is not _excepthook:
        _previous_hook = sys.excepthook
        sys.excepthook = _excepthook


def uninstall_excepthook() -> None:
    global _previous_hook, _world
    if sys.excepthook is _excepthook:
        sys.excepthook = _previous_hook or sys.__excepthook__
    _previous_hook, _world = None, None


@contextlib.contextmanager
def abort_on_error() -> Iterator[None]:
    """Stop every rank of the job when the block raises in this one (after printing the
    traceback); with one process, or before ``init()``, the exception just propagates.

    For code that would catch the exception itself (and so never reach the uncaught-exception
    hook that ``init()`` installs), such as a command that turns errors into exit codes.

    >>> from backprop.distributed import abort_on_error
    >>> with abort_on_error():
    ...     total = 1 + 1
    >>> total
    2
    """
    try:
        yield
    except BaseException as error:
        if _world is None or (isinstance(error, SystemExit) and error.code in (None, 0)):
            raise
        traceback.print_exception(type(error), error, error.__traceback__)
        abort(_abort_message(error))


__all__ = ["abort", "abort_on_error", "install_excepthook", "uninstall_excepthook"]
