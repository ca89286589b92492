"""Optional accelerators, switched like ``torch.backends``: ``bp.backends.numba``.

Each backend is a module with an ``enabled`` flag and ``is_available()``; when one is disabled
or unavailable the library runs its pure-NumPy code, with the same results.

>>> import backprop as bp
>>> isinstance(bp.backends.numba.enabled, bool)
True
"""

from __future__ import annotations

from . import numba

__all__ = ["numba"]
