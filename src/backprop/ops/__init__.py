"""The differentiable ops. Each module holds primitives (forward beside VJP), their public
functions (``__all__``) and the Tensor methods and operators they provide (``TENSOR_METHODS``)."""

from __future__ import annotations

from ..tensor import Tensor
from . import (conv, elementwise, extrema, fused, indexing, inplace, join, linalg, pooling,
               rearrange, reduction, scatter, shape, special)
from .primitive import PRIMITIVES, Primitive, primitive

OP_MODULES = (elementwise, shape, join, rearrange, reduction, extrema, fused, indexing, scatter,
              linalg, conv, pooling, inplace, special)


def _install_methods() -> None:
    # The names installed so far live on the class, so a second import of this package (pytest's
    # importlib mode does that) reinstalls them instead of mistaking them for tensor.py's own.
    installed = Tensor.__dict__.get("_op_methods")
    if installed is None:
        installed = set()
        Tensor._op_methods = installed
    for module in OP_MODULES:
        for name, fn in module.TENSOR_METHODS.items():
            if name in Tensor.__dict__ and name not in installed:
                raise RuntimeError(f"Tensor.{name} is defined in tensor.py and by {module.__name__}")
            setattr(Tensor, name, _as_method(fn))
            installed.add(name)


def _as_method(fn: object) -> object:
    """Primitives are callable objects, not functions, so wrap them to bind ``self``."""
    if not isinstance(fn, Primitive):
        return fn

    def method(self: Tensor, *args: object, **kwargs: object) -> object:
        return fn(self, *args, **kwargs)

    method.__name__ = fn.name
    method.__doc__ = fn.__doc__
    return method


_install_methods()

PUBLIC_OPS = {name: getattr(module, name) for module in OP_MODULES for name in module.__all__}

__all__ = ["PRIMITIVES", "PUBLIC_OPS", "Primitive", "primitive"]
