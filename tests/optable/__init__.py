"""The op table: one row per public op, gathered from one file per op family."""

from . import (conv, elementwise, extrema, fused, indexing, inplace, join, linalg, nn_activation,
               nn_activation_more, nn_attention, nn_bags, nn_dropout_more, nn_layers, nn_loss,
               nn_loss_composed, nn_loss_margin, nn_norm, nn_recurrent, nn_tail, pooling,
               rearrange, reduction, sampling, scatter, shape, spatial)
from . import pointwise_more, reductions_more, shape_more  # issue 17

ROWS = [row for module in (elementwise, reduction, extrema, fused, shape, join, rearrange, indexing,
                           scatter, linalg, inplace, conv, pooling, nn_activation, nn_layers, nn_norm,
                           nn_loss, nn_loss_composed, nn_attention, spatial, nn_recurrent, nn_tail,
                           nn_loss_margin, nn_activation_more, nn_bags, nn_dropout_more, sampling,
                           shape_more, reductions_more, pointwise_more)
        for row in module.ROWS]
