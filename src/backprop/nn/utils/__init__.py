"""``bp.nn.utils`` (``torch.nn.utils``): gradient clipping, parameter/vector conversion, packed
sequences, parametrizations and the hook-based norms, conv/linear + batch norm fusion."""

from __future__ import annotations

from . import (clip_grad, convert_parameters, fusion, hook_norms, init, memory_format,
               parametrizations, parametrize, rnn)
from .clip_grad import (clip_grad_norm, clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_,
                        get_total_norm)
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .fusion import (fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval,
                     fuse_linear_bn_weights)
from .hook_norms import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm
from .init import skip_init
from .memory_format import (convert_conv2d_weight_memory_format,
                            convert_conv3d_weight_memory_format)

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters", "clip_grad", "convert_parameters",
           "rnn", "parametrizations", "parametrize", "remove_spectral_norm", "remove_weight_norm",
           "spectral_norm", "weight_norm", "clip_grad_norm", "fuse_conv_bn_eval",
           "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights", "fusion",
           "init", "skip_init", "memory_format", *memory_format.__all__]
