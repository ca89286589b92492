"""``bp.backends.numba``: optional Numba kernels for elementwise work NumPy does in many passes.

A NumPy expression such as the tanh GELU makes ~10 passes over memory, each allocating or
rewriting a temporary; a compiled loop makes one. When Numba is installed (``pip install
backprop[fast]``), the tanh GELU, layer norm (and group/instance norm without a per-channel
weight), softmax and log_softmax over the last axis (and attention's scaled, causally masked
softmax), an LSTM layer's step (gates and state
update in one pass, and its backward) and the Adam/AdamW update use such kernels for
C-contiguous float32/float64 arrays of ``min_size`` elements or more, in a plain forward or
backward (under ``create_graph=True`` the VJPs build their graph from bp ops as always).
Everything else, and everything when Numba is absent or switched off, runs the NumPy code.
Results agree with the NumPy path's to rounding (float64: ~1e-15 relative; the Adam update
bit for bit). The kernels run on the calling thread (see ``_numba_kernels`` for why).

Switches, as in ``torch.backends``: ``bp.backends.numba.enabled`` (default True where Numba is
installed; the environment variable ``BACKPROP_NUMBA=0`` makes it False at import) and
``bp.backends.numba.is_available()``. ``import backprop`` does not import Numba: the first
kernel call does (~0.15 s). Each kernel is compiled the first time a process on the machine
uses it (~0.3 s of CPU each, ~6 s for all 22 float32/float64 versions) and later processes load
it from Numba's disk cache (a few ms): the cache lives in the package's ``__pycache__``, or, where
that is not writable, in Numba's per-user cache directory (Numba chooses; ``NUMBA_CACHE_DIR``
overrides it).

Each kernel is registered under the name of the op it speeds up (``backprop.kernels``, at the end
of this file), and returns None (``adam_update``: False) when it does not apply; the op's NumPy
code then runs.

>>> import backprop as bp
>>> bp.backends.numba.enabled in (True, False)
True
"""

from __future__ import annotations

import importlib.util
import math
import os
import warnings
from types import ModuleType
from typing import Any

import numpy as np

from .. import kernels

__all__ = ["enabled", "is_available", "min_size"]


def _enabled_by_default() -> bool:
    if os.environ.get("BACKPROP_NUMBA", "").strip().lower() in ("0", "false", "off", "no"):
        return False
    return importlib.util.find_spec("numba") is not None  # finds it without importing it


#: Use the kernels (when Numba is available). Set to False to run the NumPy code everywhere.
enabled: bool = _enabled_by_default()

#: Arrays with fewer elements run the NumPy code. Kernels win from a few dozen elements on (a
#: call costs 2-8 us); tiny arrays stay on the reference path, where the gain is microseconds.
min_size: int = 256

_kernels: ModuleType | None = None
_import_error: BaseException | None = None
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def is_available() -> bool:
    """Whether the kernels can run: Numba imports (this imports it, the first time).

    >>> import backprop as bp
    >>> bp.backends.numba.is_available() in (True, False)
    True
    """
    return _load() is not None


def _load() -> ModuleType | None:
    global _kernels, _import_error
    if _kernels is None and _import_error is None:
        try:
            from . import _numba_kernels
        except Exception as error:  # not installed, or a Numba that rejects this NumPy
            _import_error = error
        else:
            _kernels = _numba_kernels
    return _kernels


_modules: dict[str, ModuleType | None] = {}  # the other kernels' modules, None where rejected


def kernel_module(name: str) -> ModuleType | None:
    """The kernels' module ``name`` (``"backprop.backends._numba_special"`` ...), imported on
    first use, or None while the accelerator is off, Numba is absent, or it rejects that module
    (asked each time: tests switch the accelerator). Each family of kernels has a module of its
    own because Numba's disk cache notices changes to a kernel's own file only."""
    if not enabled or _load() is None:
        return None
    if name not in _modules:
        try:
            _modules[name] = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a Numba that rejects this code: NumPy code runs
            _modules[name] = None
    return _modules[name]


def _applies(first: Any, *others: Any) -> bool:
    """A kernel applies: enabled, a large enough C-contiguous writeable float32/float64 NumPy
    array, and the other arrays of its dtype, contiguous and writeable too. (A read-only array
    would make Numba compile one more version of the kernel, which takes seconds.)"""
    if (not enabled or type(first) is not np.ndarray or first.size < min_size
            or first.dtype not in _FLOATS):
        return False
    flags = first.flags
    if not (flags.c_contiguous and flags.writeable):
        return False
    dtype = first.dtype
    for array in others:
        if type(array) is not np.ndarray or array.dtype != dtype:
            return False
        flags = array.flags
        if not (flags.c_contiguous and flags.writeable):
            return False
    return _load() is not None


def kernel_array(x: np.ndarray) -> np.ndarray:
    """``x`` C-contiguous and writeable, copied only when it is not: a kernel given another
    layout, or a read-only array, would make Numba compile one more version (seconds)."""
    flags = x.flags
    if flags.c_contiguous and flags.writeable:
        return x
    return np.array(x, order="C")


def _run(kernel: Any, *args: Any) -> bool:
    """``kernel(*args)``; False if Numba failed to compile it here (a Numba release that rejects
    this NumPy or CPU, say): then the accelerator switches itself off with a warning, and the
    caller runs its NumPy code. (Compilation fails before the kernel writes anything.)"""
    global enabled
    try:
        kernel(*args)
    except Exception as error:
        enabled = False
        warnings.warn(f"backprop.backends.numba: disabled, Numba could not compile a kernel "
                      f"({type(error).__name__}: {error}); the NumPy code runs instead",
                      RuntimeWarning, stacklevel=3)
        return False
    return True


def _empty(dtype: np.dtype) -> np.ndarray:
    """A zero-size array: the kernels' "no such array"."""
    return np.empty(0, dtype)


# -- tanh GELU ------------------------------------------------------------------------------------

def gelu_tanh(x: np.ndarray) -> np.ndarray | None:
    """``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``, or None."""
    if not _applies(x):
        return None
    out = np.empty_like(x)
    return out if _run(_kernels.gelu_tanh, x.reshape(-1), out.reshape(-1)) else None


def gelu_tanh_backward(g: np.ndarray, x: np.ndarray) -> np.ndarray | None:
    """The tanh GELU's vector-Jacobian product ``g * gelu'(x)``, or None."""
    if not _applies(x, g) or g.shape != x.shape:
        return None
    out = np.empty_like(x)
    if not _run(_kernels.gelu_tanh_backward, g.reshape(-1), x.reshape(-1), out.reshape(-1)):
        return None
    return out


# -- layer norm: normalisation over the trailing axes ---------------------------------------------

def _trailing(x: np.ndarray, axes: tuple[int, ...]) -> int:
    """The number of elements a row holds when ``axes`` are x's trailing axes, else 0."""
    ndim = x.ndim
    if not axes or axes != tuple(range(ndim - len(axes), ndim)):
        return 0
    return math.prod(x.shape[ndim - len(axes):])  # np.prod would make an array: 3 us a call


def _affine(param: Any, x: np.ndarray, k: int) -> np.ndarray | None:
    """A weight or bias as the kernel takes it: None -> empty; one of the normalised shape ->
    flat; anything else (another broadcast) -> None, the kernel does not apply."""
    if param is None:
        return _empty(x.dtype)
    if (type(param) is not np.ndarray or param.dtype != x.dtype
            or param.shape != x.shape[x.ndim - k:]):
        return None
    return np.ascontiguousarray(param).reshape(-1)


def layer_norm(x: np.ndarray, weight: Any, bias: Any, axes: tuple[int, ...],
               eps: float) -> tuple[np.ndarray, ...] | None:
    """``(out, mean, var, rstd)`` of a normalisation over ``x``'s trailing ``axes`` (statistics
    with those axes kept as 1), or None."""
    n = _trailing(x, axes) if _applies(x) else 0
    if not n:
        return None
    w, b = _affine(weight, x, len(axes)), _affine(bias, x, len(axes))
    if w is None or b is None:
        return None
    rows = x.size // n
    out = np.empty_like(x)
    mean, var, rstd = (np.empty(rows, x.dtype) for _ in range(3))
    if not _run(_kernels.layer_norm, x.reshape(rows, n), w, b, float(eps), out.reshape(rows, n),
                mean, var, rstd):
        return None
    keep = x.shape[:x.ndim - len(axes)] + (1,) * len(axes)
    return out, mean.reshape(keep), var.reshape(keep), rstd.reshape(keep)


def layer_norm_backward(g: np.ndarray, x: np.ndarray, mean: Any, rstd: Any, weight: Any,
                        axes: tuple[int, ...], weight_grad: bool, bias_grad: bool
                        ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None] | None:
    """``(grad_input, grad_weight, grad_bias)`` of a normalisation over the trailing ``axes``,
    from the forward's ``mean`` and ``rstd``; the weight's (sum of g * x_hat) and the bias's (sum
    of g) only when asked, else None. None when the kernel does not apply."""
    n = _trailing(x, axes) if _applies(x, g, mean, rstd) else 0
    if not n or g.shape != x.shape or mean.size * n != x.size or rstd.size != mean.size:
        return None
    w = _affine(weight, x, len(axes))
    if w is None:
        return None
    rows = x.size // n
    dx = np.empty_like(x)
    sums = [np.zeros(n if wanted else 0) for wanted in (weight_grad, bias_grad)]
    if not _run(_kernels.layer_norm_backward, g.reshape(rows, n), x.reshape(rows, n),
                mean.reshape(-1), rstd.reshape(-1), w, dx.reshape(rows, n), *sums):
        return None
    param_shape = x.shape[x.ndim - len(axes):]
    grad_weight, grad_bias = (total.astype(x.dtype).reshape(param_shape) if wanted else None
                              for total, wanted in zip(sums, (weight_grad, bias_grad)))
    return dx, grad_weight, grad_bias


# -- softmax and log_softmax over the last axis ---------------------------------------------------

def _last_axis(x: np.ndarray, axes: Any) -> bool:
    return x.ndim > 0 and axes == (x.ndim - 1,)


def _rows(op: Any, *arrays: np.ndarray) -> np.ndarray | None:
    """Run a row kernel over ``arrays`` (all of one shape) into a new array."""
    n = arrays[0].shape[-1]
    out = np.empty_like(arrays[0])
    return out if _run(op, *(a.reshape(-1, n) for a in arrays), out.reshape(-1, n)) else None


def softmax(x: np.ndarray, axes: Any) -> np.ndarray | None:
    """``softmax(x)`` over ``axes`` when that is the last axis, or None."""
    if not (_applies(x) and _last_axis(x, axes)):
        return None
    return _rows(_kernels.softmax, x)


def softmax_backward(g: np.ndarray, out: np.ndarray, axes: Any) -> np.ndarray | None:
    """``out * (g - sum(g * out))`` over the last axis, or None."""
    if not (_applies(out, g) and g.shape == out.shape and _last_axis(out, axes)):
        return None
    return _rows(_kernels.softmax_backward, g, out)


def log_softmax(x: np.ndarray, axes: Any) -> np.ndarray | None:
    """``log_softmax(x)`` over ``axes`` when that is the last axis, or None."""
    if not (_applies(x) and _last_axis(x, axes)):
        return None
    return _rows(_kernels.log_softmax, x)


def log_softmax_backward(g: np.ndarray, out: np.ndarray, axes: Any) -> np.ndarray | None:
    """``g - exp(out) * sum(g)`` over the last axis, or None."""
    if not (_applies(out, g) and g.shape == out.shape and _last_axis(out, axes)):
        return None
    return _rows(_kernels.log_softmax_backward, g, out)


def attention_softmax(x: np.ndarray, scale: float, causal: bool) -> np.ndarray | None:
    """``softmax(x * scale)`` over the last axis, causally masked when ``causal``, or None."""
    if not (_applies(x) and x.ndim >= 2):
        return None
    n = x.shape[-1]
    out = np.empty_like(x)
    done = _run(_kernels.attention_softmax, x.reshape(-1, n), float(scale), bool(causal),
                x.shape[-2], out.reshape(-1, n))
    return out if done else None


def attention_softmax_backward(g: np.ndarray, out: np.ndarray,
                               scale: float) -> np.ndarray | None:
    """``out * (g - sum(g * out)) * scale`` over the last axis, or None."""
    if not (_applies(out, g) and g.shape == out.shape and out.ndim >= 1):
        return None
    n = out.shape[-1]
    dx = np.empty_like(out)
    done = _run(_kernels.attention_softmax_backward, g.reshape(-1, n), out.reshape(-1, n),
                float(scale), dx.reshape(-1, n))
    return dx if done else None


# -- Adam / AdamW ---------------------------------------------------------------------------------

def adam_update(data: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                exp_avg_sq: np.ndarray, max_exp_avg_sq: np.ndarray | None, *, lr: float,
                beta1: float, beta2: float, eps: float, weight_decay: float, maximize: bool,
                decoupled: bool, step_size: float, bias_correction2_sqrt: float) -> bool:
    """One Adam/AdamW update of ``data`` and its moments, in place (see ``optim.Adam``); False
    (nothing done) when the kernel does not apply."""
    if _kernels is None:
        # The update alone gains ~0.07 ms per 65k parameters: not worth loading LLVM (~100 MB
        # resident) for. It runs once another kernel (GELU, norms, softmax) has loaded Numba.
        return False
    arrays = (grad, exp_avg, exp_avg_sq) + (() if max_exp_avg_sq is None else (max_exp_avg_sq,))
    if not _applies(data, *arrays) or any(a.shape != data.shape for a in arrays):
        return False
    weight = 1.0 - beta1
    # The Python floats the NumPy code combines, cast to the dtype as NumPy casts them.
    hyper = np.array([1.0 - lr * weight_decay, weight_decay, weight, 1.0 - weight, beta2,
                      1.0 - beta2, -step_size, bias_correction2_sqrt, eps], dtype=data.dtype)
    decay = 0 if weight_decay == 0 else (1 if decoupled else 2)
    flags = np.array([decay, maximize, abs(weight) < 0.5], dtype=np.int64)
    flat = [a.reshape(-1) for a in (data, grad, exp_avg, exp_avg_sq)]
    second = _empty(data.dtype) if max_exp_avg_sq is None else max_exp_avg_sq.reshape(-1)
    return _run(_kernels.adam_update, *flat, second, hyper, flags)


# -- one LSTM step, in a whole layer's loop (nn/functional/recurrent_layer.py) ---------------------

def lstm_step(gates: np.ndarray, gates_x: np.ndarray, c: np.ndarray, h: np.ndarray,
              c_next: np.ndarray, h_next: np.ndarray) -> bool:
    """One step's gates (``gates`` holds ``h @ w_hh.T``; ``gates_x`` is added), activated in
    place, and the new states into ``c_next``, ``h_next`` and the running ``c``, ``h``; False
    (nothing done) when the kernel does not apply."""
    if not _applies(gates, gates_x, c, h, c_next, h_next) or gates.shape != gates_x.shape:
        return False
    return _run(_kernels.lstm_step, gates, gates_x, c, h, c_next, h_next)


def lstm_step_backward(grad: np.ndarray, g_output: np.ndarray | None, carry_h: np.ndarray,
                       carry_c: np.ndarray, gates: np.ndarray, c: np.ndarray,
                       c_next: np.ndarray) -> bool:
    """One step's cell backward: the pre-activations' gradient into ``grad`` from
    ``g_output + carry_h`` and ``carry_c``, and the previous cell state's over ``carry_c``;
    False (nothing done) when the kernel does not apply."""
    arrays = (carry_h, carry_c, gates, c, c_next) + (() if g_output is None else (g_output,))
    if not _applies(grad, *arrays) or grad.shape != gates.shape:
        return False
    return _run(_kernels.lstm_step_backward, grad,
                _empty(grad.dtype).reshape(0, 0) if g_output is None else g_output,
                carry_h, carry_c, gates, c, c_next)


# -- registration: each kernel under the name of the op it speeds up -------------------------------

def _gelu(input: np.ndarray, approximate: str) -> np.ndarray | None:
    return gelu_tanh(input) if approximate == "tanh" else None


def _gelu_backward(g: np.ndarray, input: np.ndarray, approximate: str) -> np.ndarray | None:
    return gelu_tanh_backward(g, input) if approximate == "tanh" else None


def _norm_backward(g: np.ndarray, input: np.ndarray, mean: Any, rstd: Any, weight: Any,
                   axes: tuple[int, ...], mask: tuple[bool, ...]) -> tuple | None:
    if not mask[0]:
        return None
    return layer_norm_backward(g, input, mean, rstd, weight, axes,
                               bool(mask[1] and weight is not None), bool(mask[2]))


_KERNELS = {"gelu": _gelu, "gelu_backward": _gelu_backward, "layer_norm": layer_norm,
            "group_norm": layer_norm, "norm_backward": _norm_backward, "softmax": softmax,
            "softmax_backward": softmax_backward, "log_softmax": log_softmax,
            "log_softmax_backward": log_softmax_backward, "adam_update": adam_update,
            "lstm_step": lstm_step, "lstm_step_backward": lstm_step_backward,
            "attention_softmax": attention_softmax,
            "attention_softmax_backward": attention_softmax_backward}
for _op, _kernel in _KERNELS.items():
    kernels.register(_op, np.ndarray, _kernel, compiled=True)
