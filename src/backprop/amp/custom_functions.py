"""``custom_fwd`` and ``custom_bwd``: autocast inside custom ``Function``s, as
``torch.amp.custom_fwd``/``custom_bwd``.

``custom_fwd`` on ``forward`` remembers whether autocast was on (so ``custom_bwd`` runs
``backward`` the same way); with ``cast_inputs`` it runs ``forward`` with autocast off and its
floating tensor arguments cast to ``cast_inputs`` instead.

>>> import backprop as bp
>>> class Square(bp.autograd.Function):
...     @staticmethod
...     @bp.amp.custom_fwd(device_type="cpu", cast_inputs=bp.float32)
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x * x
...     @staticmethod
...     @bp.amp.custom_bwd(device_type="cpu")
...     def backward(ctx, g):
...         (x,) = ctx.saved_tensors
...         return 2 * x * g
>>> with bp.autocast("cpu"):
...     y = Square.apply(bp.ones(2, dtype=bp.bfloat16))
>>> y.dtype
dtype('float32')
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .. import dtypes
from ..tensor import Tensor
from .autocast_mode import autocast, get_autocast_dtype, is_autocast_enabled


def _cast_floating(value: Any, dtype: Any) -> Any:
    """``value`` with its floating tensors (in lists, tuples and dicts too) cast to ``dtype``."""
    if isinstance(value, Tensor):
        return value.to(dtype) if value.dtype.kind in "fV" else value
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_floating(v, dtype) for v in value)
    if isinstance(value, dict):
        return {k: _cast_floating(v, dtype) for k, v in value.items()}
    return value


def custom_fwd(fwd: Callable | None = None, *, device_type: str,
               cast_inputs: Any = None) -> Callable:
    """Decorate a custom Function's ``forward`` for autocast on ``device_type`` (see module)."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    target = None if cast_inputs is None else dtypes.as_dtype(cast_inputs, "custom_fwd")

    @functools.wraps(fwd)
    def decorate_fwd(*args: Any, **kwargs: Any) -> Any:
        ctx = args[0]
        ctx._dtype = get_autocast_dtype(device_type)
        if target is None:
            ctx._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        ctx._fwd_used_autocast = False
        if not is_autocast_enabled(device_type):
            return fwd(*args, **kwargs)
        with autocast(device_type, enabled=False):
            return fwd(ctx, *_cast_floating(args[1:], target), **_cast_floating(kwargs, target))

    return decorate_fwd


def custom_bwd(bwd: Callable | None = None, *, device_type: str) -> Callable:
    """Decorate a custom Function's ``backward`` to run with the autocast state its
    ``custom_fwd``-decorated forward ran with."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args: Any, **kwargs: Any) -> Any:
        ctx = args[0]
        with autocast(device_type, dtype=ctx._dtype, enabled=ctx._fwd_used_autocast):
            return bwd(*args, **kwargs)

    return decorate_bwd


__all__ = ["custom_bwd", "custom_fwd"]
