"""Refusals come first (issue 13, item 6): a bad flag, path or input ends the `backprop` command
with one line on stderr naming the flag or file and why, exit code 2, and nothing written. Each
runs the command in a subprocess, as a user does."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from backprop.apps.images import png_bytes
from backprop.cli import main
from commands import PLAY, TRAIN, TRAIN_LM, command, environment, files, refusal

pytest.importorskip("safetensors", reason="checkpoints need the [checkpoint] extra")


def _png_header(width: int, height: int, depth: int) -> bytes:
    """The start of a grey PNG: signature and header chunk (all predict reads before it
    refuses)."""
    header = struct.pack(">IIBBBBB", width, height, depth, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + header
            + struct.pack(">I", zlib.crc32(b"IHDR" + header)))


def _write(name: str, content: bytes) -> dict[str, Callable[[Path], object]]:
    return {name: lambda path: path.write_bytes(content)}


def _array(value: float) -> dict[str, Callable[[Path], object]]:
    return {"x.npy": lambda path: np.save(path, np.full((1, 64), value))}


def _cannot_create_in(folder: Path) -> bool:
    try:
        (folder / ".probe").touch()
    except OSError:
        return True
    (folder / ".probe").unlink()
    return False


@pytest.fixture
def unwritable(tmp_path: Path) -> Path:
    """A folder this process cannot create files in: a read-only one, or, as root (whom
    permissions do not stop), a kernel file system that refuses new files."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        found = next((f for f in (folder, Path("/sys"), Path("/proc"))
                      if f.is_dir() and _cannot_create_in(f)), None)
        if found is None:
            pytest.skip("no folder here refuses new files")
        yield found
    finally:
        folder.chmod(0o755)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("trained") / "run"
    assert main([*TRAIN, "--epochs", "1", "--out", str(out)]) == 0
    return out / "checkpoint.safetensors"


# (argv, files to make first, what the one line must say). "CKPT" stands for a trained
# checkpoint, "RO" for a folder that cannot be written.
REFUSALS: list[tuple[list[str], dict[str, Callable[[Path], object]], str]] = [
    (["train", "--lr", "inf"], {}, "--lr must be a positive finite number; got inf"),
    (["train", "--lr", "nan"], {}, "--lr must be a positive finite number; got nan"),
    (["gan", "--lr", "0"], {}, "--lr must be a positive finite number; got 0.0"),
    (["train", "--momentum", "2"], {}, "--momentum must be in [0, 1); got 2.0"),
    (["train", "--epochs", "-1"], {}, "--epochs must be at least 1; got -1"),
    (["superres", "--epochs", "-1"], {}, "--epochs must be at least 1; got -1"),
    (["train", "--seed", "-1"], {}, "--seed must be 0 or more; got -1"),
    (["tune", "--seed", "-1"], {}, "argument --seed: must be 0 or more; got -1"),
    (["train", "--out", "RO"], {}, "--out RO: cannot write into RO"),
    (["evaluate", "CKPT", "--out", "RO"], {}, "--out RO: cannot write into RO"),
    (["train", "--out", "taken"], {"taken": lambda p: p.write_text("x")},
     "--out taken is a file, not a folder"),
    (["gan", "--out", "taken/run"], {"taken": lambda p: p.write_text("x")},
     "--out taken/run: taken is a file, not a folder"),
    (["evaluate", "folder"], {"folder": Path.mkdir}, "CHECKPOINT folder is a directory"),
    (["train", "--resume", "folder"], {"folder": Path.mkdir}, "folder is a directory"),
    (["predict", "CKPT", "folder"], {"folder": Path.mkdir}, "INPUT folder is a directory"),
    (["train-lm", "--text-file", "folder"], {"folder": Path.mkdir}, "folder is a directory"),
    (["profile", "--trace", "folder"], {"folder": Path.mkdir}, "--trace folder is a directory"),
    (["train", "--data", "mnist"], {}, "--data mnist needs --data-root DIR"),
    (["train", "--device", "cuda"], {"nocupy/cupy/__init__.py": lambda p: (
        p.parent.mkdir(parents=True), p.write_text("raise ImportError('no CuPy here')"))},
     "--device cuda: a CUDA device needs CuPy"),
    (["train", "--device", "tpu"], {}, "--device: unknown device type 'tpu'"),
    (["predict", "CKPT", "x.npy"], _array(np.nan), "x.npy holds NaN or infinite values"),
    (["predict", "CKPT", "x.npy"], _array(np.inf), "x.npy holds NaN or infinite values"),
    (["predict", "CKPT", "deep.png"], _write("deep.png", _png_header(8, 8, 16)),
     "deep.png is a 16-bit PNG; give an 8-bit PNG"),
    (["predict", "CKPT", "dot.png"], _write("dot.png", png_bytes(np.zeros((1, 1)))),
     "dot.png is 1x1 pixels, but the model takes 8x8 images"),
    (["predict", "CKPT", "big.png"], _write("big.png", png_bytes(np.zeros((32, 32)))),
     "or pass --resize to scale it"),
    (["predict", "CKPT", "photo.png"], _write("photo.png", b"\xff\xd8\xff\xe0JFIF"),
     "photo.png is a JPEG file; predict reads PNG images and .npy arrays"),
    (["train-lm", "--max-iters", "50", "--warmup-iters", "100"], {},
     "--warmup-iters must be in [0, --max-iters 50); got 100"),
]


@pytest.mark.parametrize("argv, make, message", REFUSALS,
                         ids=[" ".join(argv) + (" (exists)" if make else "")
                              for argv, make, _ in REFUSALS])
def test_a_refusal_is_one_line_naming_the_flag_exit_2_and_writes_nothing(
        tmp_path: Path, argv: list[str], make: dict, message: str, checkpoint: Path,
        request: pytest.FixtureRequest) -> None:
    for name, build in make.items():
        build(tmp_path / name)
    unwritable = request.getfixturevalue("unwritable") if "RO" in argv else "RO"
    names = {"CKPT": str(checkpoint), "RO": str(unwritable)}
    argv = [names.get(word, word) for word in argv]
    before = files(tmp_path)
    extra = {}
    if "nocupy" in str(make):  # `import cupy` fails, wherever CuPy is installed
        extra["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "nocupy"),
                                               os.environ.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-m", "backprop", *argv], cwd=tmp_path,
                          env=environment(**extra), capture_output=True, text=True, timeout=120)
    assert message.replace("RO", str(unwritable)) in refusal(done)
    assert files(tmp_path) == before and not (tmp_path / "runs").exists()


def test_a_short_language_run_adapts_its_warmup(tmp_path: Path) -> None:
    (tmp_path / "play.txt").write_text(PLAY)
    argv = list(TRAIN_LM)
    argv[argv.index("--max-iters") + 1] = "50"
    done = command(*argv, "--eval-interval", "50", "--out", "run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "step    50" in done.stdout  # ran its 50 steps, warming up for 5 of them
