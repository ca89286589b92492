"""``autocast``: mixed precision as an engine observer (PyTorch's ``torch.autocast``).

Inside ``with bp.autocast("cpu"):`` the ops on PyTorch's lower-precision list (matmul,
linear, convolutions ...) run in bfloat16 (or the ``dtype`` given), those on its float32 list
(losses, linear algebra ...) in float32, and every other op as called: see
``autocast_policy``. Casts are ordinary differentiable ``to`` calls, so gradients come back to
float32 parameters in float32. Outside any autocast block nothing is registered and ops pay
nothing; inside, an observer sees each op call and casts its operands.

>>> import backprop as bp
>>> x, w = bp.randn(2, 3), bp.randn(4, 3, requires_grad=True)
>>> with bp.autocast("cpu"):
...     y = bp.nn.functional.linear(x, w)
...     z = y.exp()                           # not on a list: runs in y's dtype
>>> y.dtype == bp.bfloat16, z.dtype == bp.bfloat16
(True, True)
>>> z.float().sum().backward(); w.grad.dtype
dtype('float32')
"""

from __future__ import annotations

import contextlib
import functools
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import dtypes
from ..autograd import observers
from ..ops.primitive import Primitive
from ..tensor import Tensor
from . import autocast_policy

_DEVICE_TYPES = ("cpu", "cuda")
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_F16 = np.dtype(np.float16)


class _State(threading.local):
    """This thread's autocast settings, per device type (as PyTorch keeps them thread-local)."""

    def __init__(self) -> None:
        self.enabled = dict.fromkeys(_DEVICE_TYPES, False)
        # None: the device type's default (bfloat16 on the CPU, float16 on CUDA), resolved when
        # asked so that bfloat16's optional package loads only when autocast is used.
        self.dtype: dict[str, np.dtype | None] = dict.fromkeys(_DEVICE_TYPES, None)
        self.cache_enabled = True
        self.registered = False  # whether _AutocastObserver is registered in this thread
        self.cache: dict[tuple[int, Any], tuple[Tensor, Tensor]] = {}
        self.depth = 0  # enabled autocast blocks open (the cache lives while any is)


_state = _State()


def _check_device_type(device_type: Any, op: str) -> str:
    if device_type not in _DEVICE_TYPES:
        raise ValueError(f"{op}: device_type must be 'cpu' or 'cuda', got {device_type!r}")
    return device_type


def _default_dtype(device_type: str) -> Any:
    if device_type == "cuda":
        return _F16
    try:
        return dtypes.bfloat16_dtype("autocast")
    except ImportError:
        return dtypes.bfloat16  # MissingBFloat16: autocast says what to install when entered


def get_autocast_dtype(device_type: str) -> Any:
    """The dtype autocast casts to on ``device_type`` (bfloat16 on ``'cpu'``, float16 on
    ``'cuda'`` unless set), as ``torch.get_autocast_dtype``.

    >>> import backprop as bp
    >>> bp.get_autocast_dtype("cuda")
    dtype('float16')
    """
    _check_device_type(device_type, "get_autocast_dtype")
    dtype = _state.dtype[device_type]
    return _default_dtype(device_type) if dtype is None else dtype


def set_autocast_dtype(device_type: str, dtype: Any) -> None:
    """Make ``dtype`` the one autocast casts to on ``device_type`` (``torch.set_autocast_dtype``).

    >>> import backprop as bp
    >>> bp.set_autocast_dtype("cpu", bp.float16); bp.get_autocast_dtype("cpu")
    dtype('float16')
    >>> bp.set_autocast_dtype("cpu", bp.bfloat16)
    """
    _check_device_type(device_type, "set_autocast_dtype")
    _state.dtype[device_type] = dtypes.as_dtype(dtype, "set_autocast_dtype")


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether autocast is on for ``device_type`` in this thread (``'cuda'`` when not given,
    as ``torch.is_autocast_enabled()``).

    >>> import backprop as bp
    >>> with bp.autocast("cpu"):
    ...     bp.is_autocast_enabled("cpu"), bp.is_autocast_enabled()
    (True, False)
    """
    return _state.enabled[_check_device_type(device_type, "is_autocast_enabled")]


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast supports ``device_type`` (``torch.amp.is_autocast_available``).

    >>> import backprop as bp
    >>> bp.amp.is_autocast_available("cpu"), bp.amp.is_autocast_available("mps")
    (True, False)
    """
    return device_type in _DEVICE_TYPES


def is_autocast_cache_enabled() -> bool:
    """Whether casts of leaf tensors (parameters) are reused within an autocast block.

    >>> import backprop as bp
    >>> bp.is_autocast_cache_enabled()
    True
    """
    return _state.cache_enabled


def clear_autocast_cache() -> None:
    """Forget the casts autocast reused (it does so itself when its outermost block ends).

    >>> import backprop as bp
    >>> bp.clear_autocast_cache()
    """
    _state.cache.clear()


def _device_type_of(t: Tensor) -> str:
    return "cpu" if type(t._data) is np.ndarray else "cuda"


def _cast(t: Tensor, dtype: np.dtype) -> Tensor:
    """``t.to(dtype)``, reusing the cast of a leaf that requires grad (a parameter) within the
    block, as PyTorch's autocast cache does."""
    state = _state
    if not (state.cache_enabled and t._requires_grad and t._grad_fn is None):
        return t.to(dtype)
    key = (id(t), dtype)
    hit = state.cache.get(key)
    if hit is not None and hit[0] is t:
        return hit[1]
    cast = t.to(dtype)
    state.cache[key] = (t, cast)
    return cast


def _is_low(dtype: np.dtype) -> bool:
    return dtype is _F16 or dtype.kind == "V"  # float16 or bfloat16


def _recast(values: tuple, target: Callable[[np.dtype], np.dtype | None]) -> tuple | None:
    """``values`` with each floating tensor cast to ``target(its dtype)`` (None: kept), or None
    when nothing changes."""
    changed = False
    out = list(values)
    for i, v in enumerate(values):
        if isinstance(v, Tensor):
            dtype = v._data.dtype
            if dtype.kind in "fV":
                wanted = target(dtype)
                if wanted is not None and wanted != dtype:
                    out[i] = _cast(v, wanted)
                    changed = True
    return tuple(out) if changed else None


def _policy_casts(policy: str, args: tuple, low: np.dtype) -> tuple | None:
    if policy == autocast_policy.LOWER:
        # PyTorch leaves float64 alone: only float32 and the other low dtype are cast.
        return _recast(args, lambda d: None if d is _F64 else low)
    if policy == autocast_policy.FLOAT32:
        return _recast(args, lambda d: _F32 if _is_low(d) else None)
    widest = None
    for v in args:  # PROMOTE: the widest floating dtype among the operands
        if isinstance(v, Tensor) and v._data.dtype.kind in "fV":
            widest = v._data.dtype if widest is None else dtypes.promote_types(widest,
                                                                               v._data.dtype)
    return None if widest is None else _recast(args, lambda d: widest)


def _first_device_type(values: tuple) -> str | None:
    for v in values:
        if isinstance(v, Tensor):
            return _device_type_of(v)
    return None


class _AutocastObserver(observers.Observer):
    """Casts the operands of the ops on the autocast lists (registered while autocast is on)."""

    def op(self, op: Any, args: tuple, params: dict, proceed: Callable[[], Any]) -> Any:
        if type(op) is not Primitive and not isinstance(op, Primitive):
            return proceed()
        policy = autocast_policy.policy_for(op.name, args)
        if policy is None:
            return proceed()
        device_type = _first_device_type(args)
        if device_type is None or not _state.enabled[device_type]:
            return proceed()
        cast = _policy_casts(policy, args, get_autocast_dtype(device_type))
        return proceed() if cast is None else op(*cast, **params)

    def module(self, module: Any, args: tuple, kwargs: dict, proceed: Callable[[], Any]) -> Any:
        if type(module).__name__ not in autocast_policy.FLOAT32_MODULES:
            return proceed()
        device_type = _first_device_type(args)
        if device_type is None or not _state.enabled[device_type]:
            return proceed()
        cast = _policy_casts(autocast_policy.FLOAT32, args, _F32)
        return proceed() if cast is None else module(*cast, **kwargs)


_OBSERVER = _AutocastObserver()


class autocast:
    """Run the block (or the decorated function) with mixed precision on ``device_type``
    (``'cpu'`` or ``'cuda'``): ``dtype`` defaults to bfloat16 on the CPU and float16 on CUDA;
    ``enabled=False`` turns autocast off inside an enclosing block; ``cache_enabled`` reuses
    each parameter's cast within the block (default True).

    >>> import backprop as bp
    >>> a = bp.randn(2, 2)
    >>> with bp.autocast("cpu", dtype=bp.float16):
    ...     with bp.autocast("cpu", enabled=False):
    ...         inner = (a @ a).dtype
    ...     outer = (a @ a).dtype
    >>> inner, outer
    (dtype('float32'), dtype('float16'))
    """

    def __init__(self, device_type: str, dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):  # a ValueError, as PyTorch's
            raise ValueError(  # noqa: TRY004
                f"autocast: device_type must be a string ('cpu' or 'cuda'), got "
                f"{type(device_type).__name__}")
        self.device = _check_device_type(device_type, "autocast")
        self.fast_dtype = (get_autocast_dtype(device_type) if dtype is None
                           else dtypes.as_dtype(dtype, "autocast"))
        if isinstance(self.fast_dtype, dtypes.MissingBFloat16) and enabled:
            raise ImportError("autocast: the CPU's autocast dtype is bfloat16, which needs "
                              "ml_dtypes: pip install 'backprop[bf16]', or pass "
                              "dtype=bp.float16")
        self._enabled = bool(enabled)
        if self._enabled and not _is_low(self.fast_dtype):
            # PyTorch's words: it warns and runs the block without autocast
            warnings.warn(f"In {device_type.upper()} autocast, but the target dtype "
                          f"{self.fast_dtype} is not supported (use bfloat16 or float16). "
                          "Disabling autocast.", UserWarning, stacklevel=2)
            self._enabled = False
        self._cache_enabled = True if cache_enabled is None else bool(cache_enabled)
        self._saved: list[tuple] = []

    def __enter__(self) -> autocast:
        state = _state
        registration: contextlib.AbstractContextManager | None = None
        if self._enabled and not state.registered:
            registration = observers.observing(_OBSERVER)
            registration.__enter__()
            state.registered = True
        self._saved.append((state.enabled[self.device], state.dtype[self.device],
                            state.cache_enabled, registration))
        state.enabled[self.device] = self._enabled
        state.dtype[self.device] = self.fast_dtype
        state.cache_enabled = self._cache_enabled
        state.depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        state = _state
        enabled, dtype, cache_enabled, registration = self._saved.pop()
        state.enabled[self.device] = enabled
        state.dtype[self.device] = dtype
        state.cache_enabled = cache_enabled
        state.depth -= 1
        if state.depth == 0:
            state.cache.clear()  # PyTorch clears its cast cache when the outermost block ends
        if registration is not None:
            state.registered = False
            registration.__exit__(None, None, None)

    def __call__(self, function: Callable) -> Callable:
        @functools.wraps(function)
        def run_in_autocast(*args: Any, **kwargs: Any) -> Any:
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return function(*args, **kwargs)

        return run_in_autocast


__all__ = ["autocast", "clear_autocast_cache", "get_autocast_dtype", "is_autocast_available",
           "is_autocast_cache_enabled", "is_autocast_enabled", "set_autocast_dtype"]
