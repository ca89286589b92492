"""The differentiable ops. Each module holds primitives (forward beside VJP) and their public
functions (``__all__``); the Tensor methods and operators that call them are declared in
``backprop.tensor_methods``."""

from __future__ import annotations

from . import (conv, elementwise, extrema, fused, indexing, inplace, join, linalg, pooling,
               rearrange, reduction, sampling, scatter, shape, special)
from . import pointwise_more, reductions_more, shape_more  # issue 17
from .primitive import PRIMITIVES, Primitive, primitive

OP_MODULES = (elementwise, shape, join, rearrange, reduction, extrema, fused, indexing, scatter,
              linalg, conv, pooling, inplace, special, sampling, shape_more, reductions_more,
              pointwise_more)

PUBLIC_OPS = {name: getattr(module, name) for module in OP_MODULES for name in module.__all__}

__all__ = ["PRIMITIVES", "PUBLIC_OPS", "Primitive", "primitive"]
