"""``torch.backends.cudnn``: the switches PyTorch reads when it runs convolutions through
NVIDIA's cuDNN library. backprop has no cuDNN (its convolutions are NumPy matrix products, on
a GPU through CuPy), so these are plain module attributes: set and read back, with no effect.

What each would mean in PyTorch:

- ``enabled`` (True): use cuDNN at all.
- ``benchmark`` (False): time the convolution algorithms for each new input shape and keep the
  fastest (fast for fixed shapes, run-to-run differences in the last bits).
- ``deterministic`` (False): only choose algorithms that give the same bits on every run.
- ``allow_tf32`` (True): convolutions may round float32 inputs to TensorFloat-32.

>>> import backprop as bp
>>> bp.backends.cudnn.is_available(), bp.backends.cudnn.version()
(False, None)
>>> bp.backends.cudnn.benchmark
False
"""

from __future__ import annotations

__all__ = ["allow_tf32", "benchmark", "deterministic", "enabled", "is_available", "version"]

# PyTorch's defaults
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """Whether cuDNN can be used: never, as backprop does not call it.

    >>> import backprop as bp
    >>> bp.backends.cudnn.is_available()
    False
    """
    return False


def version() -> int | None:
    """cuDNN's version number; None, as in a PyTorch built without it.

    >>> import backprop as bp
    >>> bp.backends.cudnn.version() is None
    True
    """
    return None
