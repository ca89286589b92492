"""The differentiable ops. Each module holds primitives (forward beside VJP) and their public
functions (``__all__``); the Tensor methods and operators that call them are declared in
``backprop.tensor_methods``."""

from __future__ import annotations

from . import (complex_ops, conv, copies_more, elementwise, extrema, fused, indexing,
               indexing_more, inplace, join, linalg, linalg_decompositions, linalg_products,
               linalg_solve, masked_reductions, pointwise_more, pointwise_tail, pooling,
               rearrange, reduction, reductions_more, sampling, scatter, shape, shape_more,
               special, special_functions, special_polynomials, spectral, views_more)
from .primitive import PRIMITIVES, Primitive, primitive

OP_MODULES = (elementwise, shape, join, rearrange, reduction, extrema, fused, indexing, scatter,
              linalg, conv, pooling, inplace, special, sampling, shape_more, reductions_more,
              pointwise_more, pointwise_tail, special_functions, special_polynomials, views_more,
              copies_more, indexing_more, linalg_solve, linalg_decompositions, linalg_products,
              spectral, complex_ops, masked_reductions)

PUBLIC_OPS = {name: getattr(module, name) for module in OP_MODULES for name in module.__all__}

__all__ = ["PRIMITIVES", "PUBLIC_OPS", "Primitive", "primitive"]
