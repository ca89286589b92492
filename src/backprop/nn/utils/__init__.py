"""``bp.nn.utils``: gradient clipping and parameter/vector conversion (``torch.nn.utils``)."""

from __future__ import annotations

from . import clip_grad, convert_parameters
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters

# issue 16 item 4: parametrizations, the hook-based norms, fusion, skip_init
from . import fusion, hook_norms, init, parametrizations, parametrize  # noqa: E402
from .clip_grad import clip_grad_norm  # noqa: E402
from .fusion import (fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval,  # noqa: E402
                     fuse_linear_bn_weights)
from .hook_norms import (remove_spectral_norm, remove_weight_norm, spectral_norm,  # noqa: E402
                         weight_norm)
from .init import skip_init  # noqa: E402

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm",
           "parameters_to_vector", "vector_to_parameters", "clip_grad", "convert_parameters",
           "parametrizations", "parametrize",
           "remove_spectral_norm", "remove_weight_norm", "spectral_norm", "weight_norm",
           "clip_grad_norm", "fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights", "fusion", "init", "skip_init"]

# The tail of torch.nn (issue 16).
from . import memory_format  # noqa: E402
from .memory_format import (  # noqa: E402
    convert_conv2d_weight_memory_format, convert_conv3d_weight_memory_format)

__all__ += ["memory_format", *memory_format.__all__]
