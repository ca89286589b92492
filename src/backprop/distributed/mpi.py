"""Finding MPI: mpi4py is imported here, and only here, the first time a process group is made.

``import backprop`` never imports mpi4py: importing ``mpi4py.MPI`` initialises MPI, which a
single-process user should not pay for (or need installed).
"""

from __future__ import annotations

import faulthandler
import os
import sys
from typing import Any

INSTALL_HINT = ("pip install 'backprop[mpi]' (mpi4py with the mpich wheel, no system packages "
                "needed), or on a cluster mpi4py built against its MPI (Debian: apt install "
                "python3-mpi4py openmpi-bin)")

# Set by the launchers of MPICH (Hydra, and Slurm's PMI plugins) and of Open MPI for each rank.
_LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")


def load_mpi(caller: str, timeout: float | None = None) -> Any:
    """The ``mpi4py.MPI`` module (initialising MPI), or an ImportError that says what to install.

    Under a launcher, ``MPI_Init`` waits for every rank to start MPI, forever if one failed
    before it got there, and it holds the GIL, so no Python thread can interrupt it. So with a
    ``timeout`` faulthandler's watchdog (a C thread) is armed: past the timeout it prints
    "Timeout", the stack (ending in this function) and ends the process with exit code 1.
    """
    watchdog = timeout is not None and "mpi4py.MPI" not in sys.modules and \
        (launcher_world_size() or 1) > 1
    if watchdog:
        faulthandler.dump_traceback_later(timeout, exit=True)
    try:
        from mpi4py import MPI  # noqa: PLC0415 - optional, and importing it starts MPI
    except ImportError as err:
        raise ImportError(f"{caller}: data-parallel training needs mpi4py, which is not "
                          f"installed ({err}); {INSTALL_HINT}") from None
    except (RuntimeError, OSError) as err:  # mpi4py found no MPI library to load
        raise ImportError(f"{caller}: mpi4py could not load an MPI library ({err}); "
                          f"{INSTALL_HINT}") from None
    finally:
        if watchdog:
            faulthandler.cancel_dump_traceback_later()
    return MPI


def launcher_world_size() -> int | None:
    """The number of processes the launcher says it started, when a launcher started this one."""
    for name in _LAUNCHER_SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return None


def check_launch(mpi_size: int, caller: str) -> None:
    """Refuse the classic mis-launch: an ``mpiexec`` from another MPI than the one mpi4py loaded
    starts N copies that each see a world of one, and each would train alone, silently."""
    launched = launcher_world_size()
    if launched is not None and launched > 1 and mpi_size == 1:
        raise RuntimeError(f"{caller}: the launcher started {launched} processes but MPI sees a "
                           "world of 1: mpiexec belongs to a different MPI library than the one "
                           "mpi4py loaded. Use the mpiexec next to your Python (with the mpich "
                           "wheel: the virtual environment's bin/mpiexec) or rebuild mpi4py "
                           "against the cluster's MPI")


__all__ = ["INSTALL_HINT", "check_launch", "launcher_world_size", "load_mpi"]
