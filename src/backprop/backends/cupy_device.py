"""The ``cuda`` device: arrays on NVIDIA GPUs through CuPy (the optional extra ``[gpu]``).

Imported the first time a CUDA device is asked for. Without CuPy, a driver or a card, that request
fails here with the reason, rather than later inside an op.

>>> import backprop as bp                       # doctest: +SKIP
>>> bp.ones(3, device="cuda").device            # doctest: +SKIP
device(type='cuda', index=0)
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .. import backend, kernels

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


# One Adam/AdamW step for one parameter as one kernel (the NumPy code in optim/adam.py launches
# about twelve). The arithmetic is that code's, step for step, so results agree to rounding.
_ADAM_BODY = """
T g = maximize ? -grad : grad;
if (decay == 1) {
    data = data * keep;
} else if (decay == 2) {
    g = data * weight_decay + g;
}
T diff = g - exp_avg;
exp_avg = small_weight ? exp_avg + diff * weight : g - diff * one_minus_weight;
exp_avg_sq = exp_avg_sq * beta2 + (g * one_minus_beta2) * g;
SECOND
T denom = sqrt(second) / bias_correction2_sqrt + eps;
data = data + (exp_avg * neg_step_size) / denom;
"""
_ADAM_INPUTS = ("T grad, T keep, T weight_decay, T weight, T one_minus_weight, T beta2, "
                "T one_minus_beta2, T neg_step_size, T bias_correction2_sqrt, T eps, "
                "int32 decay, bool maximize, bool small_weight")


@functools.cache
def _adam_kernel(amsgrad: bool) -> Any:
    """The Adam kernel, built on first use (CuPy compiles it at its first launch)."""
    if amsgrad:
        return cupy.ElementwiseKernel(
            _ADAM_INPUTS, "T data, T exp_avg, T exp_avg_sq, T max_exp_avg_sq",
            _ADAM_BODY.replace("SECOND", "max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq); "
                                         "T second = max_exp_avg_sq;"), "backprop_amsgrad")
    return cupy.ElementwiseKernel(_ADAM_INPUTS, "T data, T exp_avg, T exp_avg_sq",
                                  _ADAM_BODY.replace("SECOND", "T second = exp_avg_sq;"),
                                  "backprop_adam")


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def adam_update(data: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any, max_exp_avg_sq: Any, *,
                lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
                maximize: bool, decoupled: bool, step_size: float,
                bias_correction2_sqrt: float) -> bool:
    """One Adam/AdamW update of ``data`` and its moments in place, as one kernel (see
    ``optim.Adam``); False (nothing done) when it does not apply."""
    arrays = (grad, exp_avg, exp_avg_sq) + (() if max_exp_avg_sq is None else (max_exp_avg_sq,))
    if data.dtype not in _FLOATS or any(a.dtype != data.dtype or a.shape != data.shape
                                        for a in arrays):
        return False
    weight = 1.0 - beta1
    cast = data.dtype.type  # the Python floats as NumPy casts them for this dtype
    scalars = [cast(v) for v in (1.0 - lr * weight_decay, weight_decay, weight, 1.0 - weight,
                                 beta2, 1.0 - beta2, -step_size, bias_correction2_sqrt, eps)]
    decay = np.int32(0 if weight_decay == 0 else (1 if decoupled else 2))
    flags = (decay, np.bool_(maximize), np.bool_(abs(weight) < 0.5))
    with cupy.cuda.Device(data.device.id):
        outputs = (data, exp_avg, exp_avg_sq) + (() if max_exp_avg_sq is None
                                                 else (max_exp_avg_sq,))
        _adam_kernel(max_exp_avg_sq is not None)(grad, *scalars, *flags, *outputs)
    return True


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


backend.register(_Backend())
kernels.register("adam_update", cupy.ndarray, adam_update, compiled=True)
