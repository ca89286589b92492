"""``torch.backends.openmp``: whether backprop is built with OpenMP. It is not: NumPy's BLAS
brings its own threads, and the compiled convolutions run on Numba's pool (OpenMP's where
Numba finds it; ``bp.set_num_threads`` sets both).

>>> import backprop as bp
>>> bp.backends.openmp.is_available()
False
"""

from __future__ import annotations

__all__ = ["is_available"]


def is_available() -> bool:
    """False: backprop is not built with OpenMP (its threads are BLAS's and Numba's pool's).

    >>> import backprop as bp
    >>> bp.backends.openmp.is_available()
    False
    """
    return False
