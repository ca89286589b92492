"""The doctests of ``bp.nn.parallel`` start MPI; without mpi4py (the ``[mpi]`` extra) they are
not collected, so ``pytest src`` passes on a NumPy-only install. CI sets
``BACKPROP_REQUIRE_MPI=1``, which collects them anyway: there a missing mpi4py must fail."""

import importlib.util
import os

if importlib.util.find_spec("mpi4py") is None and os.environ.get("BACKPROP_REQUIRE_MPI") != "1":
    collect_ignore_glob = ["*.py"]
