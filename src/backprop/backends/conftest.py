"""``_numba_kernels`` imports Numba (the ``[fast]`` extra) and ``cupy_device`` imports CuPy (``[gpu]``):
without them, ``pytest src`` does not collect those modules, so the doctests pass on a
NumPy-only install."""

import importlib.util

collect_ignore = [name for name, needs in (("_numba_kernels.py", "numba"), ("cupy_device.py", "cupy"))
                  if importlib.util.find_spec(needs) is None]
