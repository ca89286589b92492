"""Atomic file writes: every file backprop writes appears whole, or not at all.

A write goes to a temporary file in the destination's folder, named ``.NAME.<12 hex>.tmp`` (the
name ``train.checkpointing.remove_partial_writes`` recognises), is fsynced, renamed over the
destination with ``os.replace``, and the folder is fsynced so the rename survives a power cut.
A failure at any point (an exception, a full disk, Ctrl-C) removes the temporary file and leaves
the previous file untouched, so a reader never sees half a file.

The file gets the permissions a plain ``open(path, "w")`` would give it: a new file
``0o666 & ~umask`` (the kernel applies the umask, and any default ACL, when the temporary file
is created, so the umask is never read or changed, which would race other threads), a file
that exists keeps its mode. ``tempfile.mkstemp`` would make every file private (0o600).

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> atomic_write_text(folder / "notes.txt", "hello\\n").read_text()
'hello\\n'
>>> with atomic_writer(folder / "data.bin") as file:
...     _ = file.write(b"\\x00\\x01")
>>> sorted(p.name for p in folder.iterdir())
['data.bin', 'notes.txt']
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path
from typing import BinaryIO, Iterator, Union

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_writer"]

PathLike = Union[str, "os.PathLike[str]"]
_MAX_WRITE = 1 << 30  # some platforms refuse a single write() above 2 GiB


@contextlib.contextmanager
def atomic_writer(path: PathLike, op: str = "write") -> Iterator[BinaryIO]:
    """A binary file object that becomes ``path`` only when the ``with`` block finishes, for
    writers that stream into a file (``figure.savefig(file)``, ``np.savez(file)``). ``op``
    names the caller in errors.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.bin"
    >>> try:
    ...     with atomic_writer(path) as file:
    ...         _ = file.write(b"half")
    ...         raise RuntimeError("the writer failed")
    ... except RuntimeError:
    ...     pass
    >>> path.exists(), list(path.parent.iterdir())
    (False, [])
    """
    with _replacing(path, op) as fd, os.fdopen(fd, "wb", closefd=False) as file:
        yield file


def atomic_write_bytes(path: PathLike, data: bytes, op: str = "write") -> Path:
    """Write ``data`` to ``path`` atomically; returns ``path``.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.bin"
    >>> atomic_write_bytes(path, b"abc").read_bytes()
    b'abc'
    """
    with _replacing(path, op) as fd:
        _write_all(fd, data)
    return Path(path)


def atomic_write_text(path: PathLike, text: str, op: str = "write",
                      encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8 unless ``encoding`` says otherwise);
    returns ``path``.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> atomic_write_text(path, "[1, 2]").read_text()
    '[1, 2]'
    """
    return atomic_write_bytes(path, text.encode(encoding), op)


@contextlib.contextmanager
def _replacing(path: PathLike, op: str) -> Iterator[int]:
    """The descriptor of a new temporary file beside ``path``, renamed over it when the block
    finishes and removed when it fails."""
    target = _destination(path, op)
    fd, temporary = _create_temporary(target)
    try:
        try:
            yield fd
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(target.parent)


def _destination(path: PathLike, op: str) -> Path:
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))  # replace the file the link points to
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"{op}: cannot write a file: it is a directory",
                                str(path))
    if not target.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"{op}: the directory to write into does not exist",
                                str(target.parent))
    return target


def _create_temporary(target: Path) -> tuple[int, Path]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temporary = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(temporary, flags, 0o666)  # the kernel applies the umask, as open() does
            break
        except FileExistsError:
            continue
    try:
        _copy_mode(target, fd)
    except BaseException:
        os.close(fd)
        os.unlink(temporary)
        raise
    return fd, temporary


def _copy_mode(target: Path, fd: int) -> None:
    """Give the new file an existing file's permissions, as overwriting it in place would."""
    if not hasattr(os, "fchmod"):
        return
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return
    os.fchmod(fd, mode)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view[:_MAX_WRITE])
        view = view[written:]


def _fsync_directory(directory: Path) -> None:
    if os.name == "nt":  # Windows cannot open a folder; its rename is already durable
        return
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as err:
        # Some file systems cannot sync a folder; the file itself is synced already.
        if err.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)
