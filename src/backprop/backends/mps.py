"""``torch.backends.mps``: Apple's Metal GPUs. backprop does not run on them (NumPy on the CPU,
CuPy on NVIDIA GPUs), so a script's ``if torch.backends.mps.is_available():`` takes its other
branch.

>>> import backprop as bp
>>> bp.backends.mps.is_available(), bp.backends.mps.is_built()
(False, False)
"""

from __future__ import annotations

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """Whether an MPS device can be used: never here.

    >>> import backprop as bp
    >>> bp.backends.mps.is_available()
    False
    """
    return False


def is_built() -> bool:
    """Whether MPS support was built in: never here.

    >>> import backprop as bp
    >>> bp.backends.mps.is_built()
    False
    """
    return False
