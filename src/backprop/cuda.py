"""``bp.cuda``: whether a GPU is usable, how many, and waiting for queued GPU work, as
``torch.cuda``. Nothing here imports CuPy until asked.

>>> import backprop as bp
>>> device = "cuda" if bp.cuda.is_available() else "cpu"
"""

from __future__ import annotations

from . import backend


def is_available() -> bool:
    """True when CuPy imports and its driver sees at least one GPU (never raises)."""
    return device_count() > 0


def device_count() -> int:
    """The number of GPUs CuPy sees; 0 without CuPy, a driver or a card."""
    try:
        return backend.backend_for("cuda").device_count()
    except (ImportError, RuntimeError):
        return 0


def synchronize(device: object = None) -> None:
    """Wait until the GPU has finished the work queued so far (for timing: GPU calls return
    before their kernels run)."""
    index = backend.as_device(backend.cuda_device(device), "cuda.synchronize").index
    cupy = backend.backend_for("cuda").module
    with cupy.cuda.Device(index):
        cupy.cuda.runtime.deviceSynchronize()
