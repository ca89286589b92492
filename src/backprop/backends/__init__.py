"""Optional accelerators, switched like ``torch.backends``: ``bp.backends.numba``, and
``bp.backends.lapack`` (the LAPACK inside NumPy's bundled OpenBLAS, through ctypes); and
PyTorch's own ``torch.backends`` modules, whose switches are recorded but change nothing on
the CPU: ``cuda`` (``cuda.matmul.allow_tf32``), ``cudnn``, ``mps`` and ``openmp``. The CuPy
device itself is ``backends.cupy_device``, loaded only when a CUDA device is asked for.

Each backend is a module with an ``enabled`` flag and ``is_available()``; when one is disabled
or unavailable the library runs its pure-NumPy code, with the same results.

>>> import backprop as bp
>>> isinstance(bp.backends.numba.enabled, bool)
True
"""

from __future__ import annotations

from . import cuda, cudnn, lapack, mps, numba, openmp

__all__ = ["cuda", "cudnn", "lapack", "mps", "numba", "openmp"]
