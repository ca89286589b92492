"""The ``cuda`` device: arrays on NVIDIA GPUs through CuPy (the optional extra ``[gpu]``).

Imported the first time a CUDA device is asked for. Without CuPy, a driver or a card, that request
fails here with the reason, rather than later inside an op.

>>> import backprop as bp                       # doctest: +SKIP
>>> bp.ones(3, device="cuda").device            # doctest: +SKIP
device(type='cuda', index=0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend

try:
    import cupy
except ImportError as err:  # not installed, or installed for another CUDA than the driver's
    raise RuntimeError(
        f"device: a CUDA device needs CuPy, which could not be imported ({err}); install it with "
        "pip install 'backprop[gpu]' (the cupy-cuda12x wheel; use cupy-cuda13x for CUDA 13 "
        "drivers)") from None


def _device_count() -> int:
    try:
        return cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError as err:
        raise RuntimeError(f"device: CuPy is installed but no CUDA driver answered ({err}); a "
                           "CUDA device needs an NVIDIA GPU and its driver") from None


class _Backend:
    """The ``cuda`` device type, as ``backend.ArrayBackend`` describes."""

    type = "cuda"
    module = cupy
    array_type = cupy.ndarray

    def device_count(self) -> int:
        return _device_count()

    def check(self, index: int) -> None:
        count = _device_count()
        if count == 0:
            raise RuntimeError("device: CuPy and a CUDA driver are installed, but the driver sees "
                               "no GPU")
        if index >= count:
            raise ValueError(f"device: cuda:{index} does not exist; this machine has {count} CUDA "
                             f"device{'s' if count > 1 else ''} (cuda:0 to cuda:{count - 1})")

    def to_device(self, array: np.ndarray, index: int) -> Any:
        with cupy.cuda.Device(index):
            return cupy.asarray(array)

    def to_host(self, array: Any) -> np.ndarray:
        return cupy.asnumpy(array)

    def index_of(self, array: Any) -> int:
        return array.device.id

    def use(self, index: int) -> Any:
        return cupy.cuda.Device(index)


backend.register(_Backend())
