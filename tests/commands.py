"""Running the `backprop` command as a user does: in a subprocess, in a folder of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from backprop.datasets.idx import write_idx

# Tiny settings: each run takes well under a second of training.
TRAIN = ["train", "--hidden", "8", "--no-progress"]
TRAIN_LM = ["train-lm", "--block-size", "8", "--n-layer", "1", "--n-head", "1", "--n-embd", "8",
            "--batch-size", "4", "--max-iters", "4", "--eval-interval", "2", "--eval-windows",
            "4", "--sample-length", "5", "--no-progress", "--text-file", "play.txt"]
PLAY = "to be or not to be, that is the question.\n" * 20


def command(*args: str, cwd: Path, timeout: float = 120, **popen: Any
            ) -> subprocess.CompletedProcess:
    """``backprop ARGS`` run in ``cwd`` (one BLAS thread), its output captured as text unless
    ``popen`` says where it goes."""
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)
    return subprocess.run([sys.executable, "-m", "backprop", *args], cwd=cwd, env=environment(),
                          text=True, timeout=timeout, **popen)


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "OPENBLAS_NUM_THREADS": "1", **extra}


def refusal(done: subprocess.CompletedProcess) -> str:
    """The one line a refused command printed on stderr (asserting exit 2 and one line)."""
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("backprop: error: "), \
        done.stderr
    return done.stderr


def fake_mnist(folder: Path, train: int = 120, test: int = 40) -> Path:
    """A folder holding MNIST's four IDX files, of random 28x28 images."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for prefix, count in (("train", train), ("t10k", test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte",
                  rng.integers(0, 256, (count, 28, 28), dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte",
                  (np.arange(count) % 10).astype(np.uint8))
    return folder


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative name -> content), to show nothing changed."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}
