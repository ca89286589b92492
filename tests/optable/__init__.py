"""The op table: one row per public op, gathered from one file per op family."""

from . import (complex_ops, conv, copies_more, elementwise, extrema, fused, indexing,
               indexing_more, inplace, join, linalg, linalg_decompositions, linalg_products,
               linalg_solve, masked_reductions, nn_activation, nn_activation_more, nn_attention,
               nn_bags, nn_dropout_more, nn_layers, nn_loss, nn_loss_composed, nn_loss_margin,
               nn_norm, nn_recurrent, nn_tail, pointwise_more, pointwise_tail, pooling,
               rearrange, reduction, reductions_more, sampling, scatter, shape, shape_more,
               spatial, special_functions, special_polynomials, spectral, views_more, windows)

ROWS = [row for module in (elementwise, reduction, extrema, fused, shape, join, rearrange, indexing,
                           scatter, linalg, inplace, conv, pooling, nn_activation, nn_layers, nn_norm,
                           nn_loss, nn_loss_composed, nn_attention, spatial, nn_recurrent, nn_tail,
                           nn_loss_margin, nn_activation_more, nn_bags, nn_dropout_more, sampling,
                           shape_more, reductions_more, pointwise_more, pointwise_tail,
                           special_functions, special_polynomials, views_more, copies_more,
                           indexing_more, linalg_solve, linalg_decompositions, linalg_products,
                           spectral, complex_ops, masked_reductions, windows)
        for row in module.ROWS]
