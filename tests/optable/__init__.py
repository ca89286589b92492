"""The op table: one row per public op, gathered from one file per op family."""

from . import (elementwise, fused, indexing, inplace, join, linalg, rearrange, reduction, scatter,
               shape)

ROWS = [row for module in (elementwise, reduction, fused, shape, join, rearrange, indexing, scatter,
                           linalg, inplace)
        for row in module.ROWS]
