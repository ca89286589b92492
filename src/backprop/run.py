"""Run an unmodified PyTorch program on backprop.

Usage: backprop run SCRIPT [ARGS...]   (or: python -m backprop.run SCRIPT [ARGS...])

The script runs as ``python SCRIPT ARGS...`` would run it (as ``__main__``, with ``sys.argv ==
[SCRIPT, *ARGS]``, its folder first on ``sys.path``, relative paths from the caller's folder,
its exit code passed on), except that ``import torch`` gives ``backprop``, ``torch.A.B`` gives
``backprop.A.B`` and ``torchvision[.X]`` gives ``backprop.vision[.X]``.

A name backprop does not have ends the run with one line on stderr and exit code 2, naming
the name as PyTorch spells it and the line of the program that asked for it::

    backprop run: main.py:42: torch.nn.functional.foo is not in backprop yet

Any other exception prints Python's traceback and exits 1, as ``python SCRIPT`` would.

In a notebook, ``torch_served()`` is the same hook as a context manager:

>>> import backprop
>>> with torch_served():
...     import torch
...     import torch.nn as nn
>>> torch is backprop and nn.Linear is backprop.nn.Linear
True
"""

from __future__ import annotations

import runpy
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from ._run_errors import explain, is_machinery, user_frame, where
from ._torch_modules import SERVED, torch_served

__all__ = ["main", "run_script", "torch_served"]

USAGE = "usage: backprop run SCRIPT [ARGS...]"
HELP = f"""{USAGE}

Run a PyTorch program with backprop serving `import torch` and `import torchvision`.
Everything after SCRIPT reaches the script unchanged (its own --help included)."""


class _Refused(Exception):
    """A mistake in how ``backprop run`` itself was called."""


def run_script(script: str, args: Sequence[str] = ()) -> int:
    """Run ``script`` with ``sys.argv == [script, *args]`` and torch served by backprop; returns
    the exit code (0; 2 for a name backprop lacks, after one line on stderr; 1 for any other
    exception, after its traceback). ``sys.exit(n)`` in the script passes through as SystemExit.
    ``sys.argv``, ``sys.path`` and ``sys.modules``' torch entries are restored afterwards.

    >>> run_script("no/such/script.py")
    Traceback (most recent call last):
    ...
    FileNotFoundError: run: cannot open SCRIPT no/such/script.py: no such file
    """
    path = Path(script)
    if not (path.is_file() or (path / "__main__.py").is_file()):
        kind = "a folder without __main__.py" if path.is_dir() else "no such file"
        raise FileNotFoundError(f"run: cannot open SCRIPT {script}: {kind}")
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    sys.argv = [script, *args]
    # As `python SCRIPT`: the script's own folder (symbolic links resolved) replaces ours
    # (the runner's folder, or the current one under -m); under `python -P` there is none.
    folder = str(path.resolve() if path.is_dir() else path.resolve().parent)
    sys.path[0:0 if getattr(sys.flags, "safe_path", False) else 1] = [folder]
    try:
        with torch_served(SERVED):
            runpy.run_path(script, run_name="__main__")
    except (SystemExit, KeyboardInterrupt, GeneratorExit):
        raise
    except BaseException as err:  # noqa: BLE001 - the script's error, reported as Python would
        return _report(err, script)
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return 0


def _report(err: BaseException, script: str) -> int:
    reason = explain(err)
    if reason is not None:
        print(f"backprop run: {where(err, script)}: {reason}", file=sys.stderr)
        return 2
    if isinstance(err, ImportError) and user_frame(err.__traceback__, True) is None:
        # Raised by one of our modules on purpose (an out-of-scope module, a missing extra).
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"backprop run: {where(err, script)}: {message}", file=sys.stderr)
        return 2
    traceback.print_exception(type(err), err, _without_runner(err.__traceback__),
                              file=sys.stderr)
    return 1


def _without_runner(tb: TracebackType | None) -> TracebackType | None:
    """The traceback from the script's first frame on, as ``python SCRIPT`` would show it."""
    while tb is not None and is_machinery(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return tb


def main(argv: Sequence[str] | None = None) -> int:
    """``backprop run SCRIPT [ARGS...]``: everything after SCRIPT goes to the script verbatim.
    Returns the exit code; a mistake in the call itself is one line on stderr and 2.

    >>> main([])  # stderr: backprop: error: run: give the program to run (usage: ...)
    2
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] in (["-h"], ["--help"]):
            print(HELP)
            return 0
        if not argv:
            raise _Refused(f"run: give the program to run ({USAGE})")
        if argv[0].startswith("-"):
            raise _Refused(f"run: unknown option {argv[0]}; put the script's own options "
                           f"after SCRIPT ({USAGE})")
        return run_script(argv[0], argv[1:])
    except (_Refused, FileNotFoundError) as err:
        print(f"backprop: error: {err}", file=sys.stderr)
        return 2


def register(commands: Any) -> None:
    """Lists ``run`` in ``backprop --help``; ``cli.main`` hands ``run`` to ``main`` before
    argparse, so the script's own flags are never parsed as ours."""
    commands.add_parser("run", help="run a PyTorch program (SCRIPT [ARGS...]) with `import "
                        "torch` served by backprop", add_help=False)


if __name__ == "__main__":
    sys.exit(main())
