"""``skip_init`` (``torch.nn.utils.init``)."""

from __future__ import annotations

import inspect
from typing import Any

from ..module import Module

__all__ = ["skip_init"]


def skip_init(module_cls: type[Module], *args: Any, **kwargs: Any) -> Module:
    """Build ``module_cls(*args, **kwargs)`` for parameters that will be overwritten (by a
    state dict, say). PyTorch skips the initialisation by building on its meta device; we have
    none, so the parameters are initialised as usual, which costs time but changes nothing a
    caller may rely on (the values are unspecified either way).

    >>> import backprop as bp
    >>> bp.nn.utils.skip_init(bp.nn.Linear, 3, 2).weight.shape
    (2, 3)
    """
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError(f"skip_init: {module_cls.__name__} must take a 'device' argument to "
                           "skip initialization")
    return module_cls(*args, **kwargs)
