"""The op table: one row per public op, gathered from one file per op family."""

from . import (conv, elementwise, extrema, fused, indexing, inplace, join, linalg, nn_activation,
               nn_attention, nn_layers, nn_loss, nn_loss_composed, nn_norm, pooling, rearrange,
               reduction, scatter, shape, spatial)
from . import nn_recurrent  # noqa: I001 - the recurrent cells (issue 16)

ROWS = [row for module in (elementwise, reduction, extrema, fused, shape, join, rearrange, indexing,
                           scatter, linalg, inplace, conv, pooling, nn_activation, nn_layers, nn_norm,
                           nn_loss, nn_loss_composed, nn_attention, spatial, nn_recurrent)
        for row in module.ROWS]

# The tail of torch.nn (issue 16).
from . import nn_tail  # noqa: E402

ROWS += nn_tail.ROWS

# Random sampling and the numerics torch.distributions stands on (issue 16).
from . import sampling  # noqa: E402

ROWS += sampling.ROWS
