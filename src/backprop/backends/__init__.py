"""Optional accelerators, switched like ``torch.backends``: ``bp.backends.numba``, and
``bp.backends.lapack`` (the LAPACK inside NumPy's bundled OpenBLAS, through ctypes).

Each backend is a module with an ``enabled`` flag and ``is_available()``; when one is disabled
or unavailable the library runs its pure-NumPy code, with the same results.

>>> import backprop as bp
>>> isinstance(bp.backends.numba.enabled, bool)
True
"""

from __future__ import annotations

from . import lapack, numba

__all__ = ["lapack", "numba"]
