"""``torch.accelerator``: the device-neutral way PyTorch programs find their GPU. backprop's
one accelerator is CUDA, through CuPy (the ``[gpu]`` extra), so each call here asks
``bp.cuda``; on a machine without a usable GPU, ``is_available()`` is False and programs take
their CPU branch, as they do under PyTorch::

    device = (torch.accelerator.current_accelerator()
              if torch.accelerator.is_available() else "cpu")

The calls about the current device raise without one, as PyTorch's do.

>>> import backprop as bp
>>> device = bp.accelerator.current_accelerator() if bp.accelerator.is_available() else "cpu"
"""

from __future__ import annotations

import importlib.util
from typing import Any

from . import backend, cuda

__all__ = ["current_accelerator", "current_device_idx", "current_device_index", "device_count",
           "empty_cache", "is_available", "set_device_idx", "set_device_index", "synchronize"]


def is_available() -> bool:
    """True when a CUDA GPU can be used (CuPy imports and its driver sees a card).

    >>> import backprop as bp
    >>> bp.accelerator.is_available() == bp.cuda.is_available()
    True
    """
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> backend.device | None:
    """The accelerator's device type, ``device(type='cuda')``, or None when there is none.

    As PyTorch's answer comes from how it was built, without ``check_available`` this asks
    only whether CuPy is installed (without importing it); ``check_available=True`` also needs
    a usable GPU. The device carries no index: ``current_device_index()`` gives it.

    >>> import backprop as bp
    >>> bp.accelerator.current_accelerator(check_available=True) == (
    ...     bp.device("cuda") if bp.accelerator.is_available() else None)
    True
    """
    if check_available:
        built = is_available()
    else:
        built = importlib.util.find_spec("cupy") is not None
    return backend.device("cuda") if built else None


def device_count() -> int:
    """How many accelerator devices can be used; 0 without one.

    >>> import backprop as bp
    >>> bp.accelerator.device_count() == bp.cuda.device_count()
    True
    """
    return cuda.device_count()


def _require(op: str) -> Any:
    """CuPy, once a GPU is known to be usable; PyTorch's error otherwise."""
    if not is_available():
        raise RuntimeError(f"accelerator.{op}: Cannot access accelerator device when none is "
                           "available (backprop's accelerator is a CUDA GPU through CuPy: pip "
                           "install 'backprop[gpu]'); check bp.accelerator.is_available() first")
    return backend.backend_for("cuda").module


def _index(device: Any, op: str) -> int:
    """The CUDA index of ``device`` (an int, ``"cuda:N"`` or a ``bp.device``)."""
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    if device is None:
        raise ValueError(f"accelerator.{op}: expected a device with an index or an integer, "
                         "got None")
    found = backend.as_device(device, f"accelerator.{op}")
    if found is None or found.type != "cuda":
        raise ValueError(f"accelerator.{op}: expected a CUDA device (an index, 'cuda:N' or a "
                         f"device), got {device!r}")
    return found.index or 0


def current_device_index() -> int:
    """The index of the GPU in use (raises without one).

    >>> import backprop as bp
    >>> bp.accelerator.current_device_index() if bp.accelerator.is_available() else 0
    0
    """
    return int(_require("current_device_index").cuda.runtime.getDevice())


def set_device_index(device: Any, /) -> None:
    """Make ``device`` (an index, ``"cuda:N"`` or a ``bp.device``) the GPU in use. Raises
    without a GPU, as PyTorch's does.

    >>> import backprop as bp
    >>> bp.accelerator.set_device_index(0) if bp.accelerator.is_available() else None
    """
    index = _index(device, "set_device_index")
    _require("set_device_index").cuda.Device(index).use()


def synchronize(device: Any = None, /) -> None:
    """Wait for the work queued on ``device`` (default: the current GPU) to finish; raises
    without a GPU, as PyTorch's does.

    >>> import backprop as bp
    >>> bp.accelerator.synchronize() if bp.accelerator.is_available() else None
    """
    _require("synchronize")
    cuda.synchronize(current_device_index() if device is None
                     else _index(device, "synchronize"))


def empty_cache() -> None:
    """Hand the GPU memory kept for reuse back to the driver; raises without a GPU, as
    PyTorch's does (``bp.cuda.empty_cache()`` does nothing instead).

    >>> import backprop as bp
    >>> bp.accelerator.empty_cache() if bp.accelerator.is_available() else None
    """
    _require("empty_cache")
    cuda.empty_cache()


# PyTorch's earlier names, still accepted there
current_device_idx = current_device_index
set_device_idx = set_device_index
