"""The Numba kernel behind ``backends.numba_sgd``: SGD's update (sgd.py's ``SGD._update``) in
one pass instead of four or more. Importing this module imports Numba.

Operation for operation as the NumPy code, so the results are the same to the last bit: no
fused multiply-add (``fastmath`` off), each constant rounded to the arrays' dtype as NumPy rounds
a Python float. The options are tested once per call, outside the loop's data dependences, so
LLVM unswitches the loop and vectorises each version. Kept in its own file: Numba's disk cache
notices changes to a kernel's own file only.
"""

from __future__ import annotations

from numba import njit, uint64

_OPTIONS = {"fastmath": False, "error_model": "numpy", "cache": True, "nogil": True}


@njit(**_OPTIONS)
def sgd_update(data, grad, buffer, hyper, flags):
    """SGD's update of flat ``data`` in place. ``hyper`` (data's dtype) = (weight_decay,
    momentum, 1 - dampening, -lr); ``flags`` = (weight decay, maximize, dampening, Nesterov,
    first step: the buffer starts as the gradient). An empty ``buffer``: no momentum."""
    decay, momentum, undamped, neg_lr = hyper[0], hyper[1], hyper[2], hyper[3]
    decayed, maximize, dampened = flags[0] != 0, flags[1] != 0, flags[2] != 0
    nesterov, first = flags[3] != 0, flags[4] != 0
    has_buffer = buffer.size != 0
    for i in range(uint64(data.size)):
        p = data[i]
        g = grad[i]
        if decayed:
            g = p * decay - g if maximize else g + p * decay
        elif maximize:
            g = -g
        if has_buffer:
            if first:
                b = g
            else:
                b = buffer[i] * momentum + (g * undamped if dampened else g)
            buffer[i] = b
            g = g + b * momentum if nesterov else b
        data[i] = p + g * neg_lr
