"""``_numba_kernels`` imports Numba (the ``[fast]`` extra): without it, ``pytest src`` does not
collect that module, so the doctests pass on a NumPy-only install."""

import importlib.util

if importlib.util.find_spec("numba") is None:
    collect_ignore = ["_numba_kernels.py"]
