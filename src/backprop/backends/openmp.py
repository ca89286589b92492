"""``torch.backends.openmp``: whether the CPU kernels can run OpenMP threads. backprop's own
kernels use no OpenMP; NumPy's BLAS brings its own threads (``bp.set_num_threads``).

>>> import backprop as bp
>>> bp.backends.openmp.is_available()
False
"""

from __future__ import annotations

__all__ = ["is_available"]


def is_available() -> bool:
    """False: backprop is not built with OpenMP (its threads are BLAS's and Numba's).

    >>> import backprop as bp
    >>> bp.backends.openmp.is_available()
    False
    """
    return False
