"""``bp.nn.utils``: gradient clipping and parameter/vector conversion (``torch.nn.utils``)."""

from __future__ import annotations

from . import clip_grad, convert_parameters
from . import rnn  # torch.nn.utils.rnn: padding and packing for the recurrent layers
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters", "clip_grad", "convert_parameters",
           "rnn"]

# The tail of torch.nn (issue 16).
from . import memory_format  # noqa: E402
from .memory_format import (  # noqa: E402
    convert_conv2d_weight_memory_format, convert_conv3d_weight_memory_format)

__all__ += ["memory_format", *memory_format.__all__]
