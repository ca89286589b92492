"""Where a run writes its files: a folder of its own, never one an earlier run wrote into; and
the checks on the other paths a command is given (``existing_file``, ``check_output_file``).

Without ``--out`` each run of a sub-command gets a new folder ``runs/<command>/<date>-<time>``
(``-2``, ``-3`` ... when one started in the same second: the folder is created with
``exist_ok=False``, so two runs can never share it), and once the run has written its first
checkpoint ``runs/<command>/latest`` points at it (a relative symbolic link, replaced
atomically), so ``backprop evaluate runs/train/latest/checkpoint.safetensors`` reads the newest
run that got somewhere. An explicit ``--out`` that already holds a run's files is refused: its
checkpoint, history or pictures would be replaced, or left beside the new ones as if they
belonged to them. ``--resume CHECKPOINT`` writes next to that checkpoint (or into ``--out``).

Everything is checked by ``prepare``, before any data is read; the folder is made by
``RunFolder.create``, just before the run writes, so a refused or failed start leaves nothing.
"""

from __future__ import annotations

import errno
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Callable

from .config import ConfigError

__all__ = ["RUNS", "RunFolder", "check_output_file", "existing_file", "prepare",
           "writable_folder"]

RUNS = Path("runs")
# What the training commands write into a run folder; a folder holding any of these belongs to
# an earlier run.
RUN_OUTPUTS = ("*.safetensors", "history.json", "*.png", "*.npz", "diagnosis.txt",
               "sample.txt", "samples", "best", "tune.db")


class RunFolder:
    """The folder a run writes into: ``path`` once ``create`` made it (at once for an explicit
    or resumed one).

    >>> import os, tempfile
    >>> here = os.getcwd(); os.chdir(tempfile.mkdtemp())
    >>> folder = prepare(None, "train")
    >>> path = folder.create(log=print)  # doctest: +ELLIPSIS
    run folder runs/train/...
    >>> folder.mark_latest(); os.path.samefile("runs/train/latest", path)
    True
    >>> os.chdir(here)
    """

    def __init__(self, path: Path | None, base: Path | None = None) -> None:
        self.path = path
        self.base = base  # where a new folder and its `latest` link go (None: given folder)
        self._latest_marked = False

    def create(self, log: Callable[[str], None]) -> Path:
        """Make the folder (a new dated one, unless one was given) and say where it is."""
        if self.base is None:
            assert self.path is not None
            self.path.mkdir(parents=True, exist_ok=True)
            return self.path
        self.base.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for attempt in range(1, 1000):
            candidate = self.base / (stamp if attempt == 1 else f"{stamp}-{attempt}")
            try:
                candidate.mkdir()
            except FileExistsError:
                continue
            self.path = candidate
            log(f"run folder {candidate}")
            return candidate
        raise FileExistsError(errno.EEXIST, "run folder: 999 runs started in the same second",
                              str(self.base / stamp))

    def mark_latest(self) -> None:
        """Point ``<base>/latest`` at this run (once; for new dated folders only)."""
        if self.base is None or self.path is None or self._latest_marked:
            return
        self._latest_marked = True
        link = self.base / "latest"
        if link.exists() and not link.is_symlink():
            return  # someone's own folder of that name: leave it alone
        temporary = self.base / f".latest.{secrets.token_hex(6)}.tmp"
        try:
            os.symlink(self.path.name, temporary, target_is_directory=True)
            os.replace(temporary, link)
        except OSError:  # no symbolic links here (Windows without the privilege): no `latest`
            temporary.unlink(missing_ok=True)


def prepare(out: str | os.PathLike[str] | None, command: str, *,
            resume: str | os.PathLike[str] | None = None, base: Path | None = None) -> RunFolder:
    """Check where ``command``'s run will write, before it reads any data: ``out`` (the
    ``--out`` flag), else the folder of the ``resume`` checkpoint, else a new folder under
    ``base`` (default ``runs/<command>``). Raises ``ConfigError`` naming ``--out`` when it is a
    file, cannot be written, or holds an earlier run's files (except the resumed run's own)."""
    if out is None and resume is not None:
        folder = _real_folder(Path(resume).parent)
        writable_folder(folder, "--resume", "; give --out DIR to write the resumed run elsewhere")
        return RunFolder(folder)
    if out is None:
        base = RUNS / command if base is None else base
        writable_folder(base, "run folder", "; give --out DIR to write the run elsewhere")
        return RunFolder(None, base)
    folder = Path(out)
    writable_folder(folder, "--out")
    if folder.is_dir():
        own = resume is not None and folder.resolve() == Path(resume).parent.resolve()
        held = [] if own else holdings(folder)
        if held:
            hint = (f", or continue that run with --resume {folder / 'checkpoint.safetensors'}"
                    if command == "train" and (folder / "checkpoint.safetensors").is_file() else "")
            raise ConfigError(f"--out {out} already holds {', '.join(held)} from an earlier run; "
                              f"give a new folder (or no --out: a new one under runs/{command}/)"
                              f"{hint}")
    return RunFolder(folder)


def holdings(folder: Path) -> list[str]:
    """The names in ``folder`` that a run wrote (``RUN_OUTPUTS``), sorted."""
    return sorted({path.name for pattern in RUN_OUTPUTS for path in folder.glob(pattern)})


def writable_folder(folder: str | os.PathLike[str], flag: str, hint: str = "") -> Path:
    """``folder`` if files can be made in it, or in the folder that will hold it once made;
    else ``ConfigError`` naming ``flag`` and why (then ``hint``). It tries: creating a file is
    the only test that also holds for root, read-only mounts and access control lists.

    >>> import tempfile
    >>> writable_folder(tempfile.mkstemp()[1] + "/run", "--out")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    backprop.train.config.ConfigError: --out /.../run: /... is a file, not a folder
    """
    folder = Path(folder)
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        if existing == folder:
            raise ConfigError(f"{flag} {folder} is a file, not a folder")
        raise ConfigError(f"{flag} {folder}: {existing} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".backprop-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise ConfigError(f"{flag} {folder}: cannot write into {existing}: "
                          f"{err.strerror or err}{hint}") from None
    return folder


def check_output_file(path: str | os.PathLike[str], flag: str) -> Path:
    """``path`` if a file can be written there (its folder exists and is writable, and it is
    not a folder); else ``ConfigError`` naming ``flag``.

    >>> check_output_file(".", "--trace")
    Traceback (most recent call last):
    ...
    backprop.train.config.ConfigError: --trace . is a directory; give a file name
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{flag} {path} is a directory; give a file name")
    if not path.parent.is_dir():
        raise ConfigError(f"{flag} {path}: no such folder: {path.parent}")
    writable_folder(path.parent, flag)
    return path


def existing_file(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` if it is a file to read; else ``FileNotFoundError`` or ``IsADirectoryError``
    naming ``what`` (the flag or argument) and the path.

    >>> existing_file(".", "CHECKPOINT")
    Traceback (most recent call last):
    ...
    IsADirectoryError: CHECKPOINT . is a directory; give a file
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{what} {path} is a directory; give a file")
    if not path.is_file():
        raise FileNotFoundError(f"{what}: no such file: {path}")
    return path


def _real_folder(folder: Path) -> Path:
    """``folder`` with symbolic links (``runs/train/latest``) followed, relative to the current
    folder when inside it: a resumed run keeps writing into its own folder even after
    ``latest`` moves on."""
    real = Path(os.path.realpath(folder))
    try:
        return real.relative_to(Path.cwd().resolve())
    except ValueError:
        return real
