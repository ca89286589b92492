"""Evolution strategies under ``mpiexec -n 2`` give every rank the single-process estimate
(tests/mpi/evolution.py). Skips without mpi4py or mpiexec, unless BACKPROP_REQUIRE_MPI=1."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _mpiexec() -> str | None:
    beside = Path(sys.executable).parent / "mpiexec"  # the mpich wheel's, next to Python
    return str(beside) if beside.is_file() else shutil.which("mpiexec")


def test_evolution_strategies_split_the_population_over_two_ranks() -> None:
    reason = ("mpi4py is not installed" if importlib.util.find_spec("mpi4py") is None
              else "no mpiexec" if _mpiexec() is None else None)
    if reason is not None:
        if os.environ.get("BACKPROP_REQUIRE_MPI") == "1":
            pytest.fail(f"BACKPROP_REQUIRE_MPI=1 but {reason}")
        pytest.skip(f"MPI test skipped: {reason} (pip install 'backprop[mpi]')")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", BACKPROP_NUMBA="0")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    done = subprocess.run([_mpiexec(), "-n", "2", sys.executable, str(ROOT / "tests" / "mpi" /
                                                                      "evolution.py")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    # the two ranks share stdout, so their lines may interleave: look for each
    assert "rank 0: ok" in done.stdout and "rank 1: ok" in done.stdout, done.stdout
