"""The op table: one row per public op, gathered from one file per op family."""

from . import elementwise, indexing, inplace, linalg, reduction, shape

ROWS = [row for module in (elementwise, reduction, shape, indexing, linalg, inplace)
        for row in module.ROWS]
