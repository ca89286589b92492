"""Compiled SGD update (``_numba_sgd``): ``optim.SGD``'s arithmetic for one parameter in one
pass, registered as ``sgd_update`` (``backprop.kernels``).

Why: with momentum the NumPy code makes four passes (scale the buffer, add the gradient, scale
by the learning rate, add to the weights), weight decay or Nesterov momentum one or two more.
One compiled pass reads each array once: W1's update (270k float32 parameters) took 237 us
that way against 124 us compiled. Results equal the NumPy path's bit for bit.

Like the Adam kernel it runs only once another kernel has loaded Numba: the update alone gains
~0.05 ms per 100k parameters, not worth loading LLVM (~100 MB resident) for. Returns False
(nothing done) where it does not apply (Numba absent, not loaded or switched off, small,
non-contiguous or read-only arrays, dtypes that differ), and the NumPy code runs.

>>> import numpy as np
>>> w, g = np.ones(300), np.full(300, 2.0)
>>> done = sgd_update(w, g, None, first=False, lr=0.5, momentum=0.0, dampening=0.0,
...                   weight_decay=0.0, nesterov=False, maximize=False)
>>> bool(not done or w[0] == 0.0)
True
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from .. import kernels
from . import numba as _switch


def _load() -> ModuleType | None:
    return _switch.kernel_module(f"{__package__}._numba_sgd")


def sgd_update(data: np.ndarray, grad: np.ndarray, buffer: np.ndarray | None, *, first: bool,
               lr: float, momentum: float, dampening: float, weight_decay: float,
               nesterov: bool, maximize: bool) -> bool:
    """One SGD update of ``data`` (and its momentum ``buffer``, None without momentum) in
    place, as ``optim.SGD`` defines it; False (nothing done) when the kernel does not apply."""
    if _switch._kernels is None:  # Numba not loaded yet (see the module's note)
        return False
    arrays = (grad,) if buffer is None else (grad, buffer)
    if not _switch._applies(data, *arrays) or any(a.shape != data.shape for a in arrays):
        return False
    module = _load()
    if module is None:
        return False
    # The Python floats the NumPy code combines, cast to the dtype as NumPy casts them.
    hyper = np.array([weight_decay, momentum, 1.0 - dampening, -lr], dtype=data.dtype)
    flags = np.array([weight_decay != 0, maximize, dampening != 0, nesterov, first],
                     dtype=np.int64)
    flat_buffer = _switch._empty(data.dtype) if buffer is None else buffer.reshape(-1)
    return _switch._run(module.sgd_update, data.reshape(-1), grad.reshape(-1), flat_buffer,
                        hyper, flags)


kernels.register("sgd_update", np.ndarray, sgd_update, compiled=True)
