"""``bp.nn.functional``: stateless layers, activations and losses (PyTorch's ``F``)."""

from __future__ import annotations

from ...ops import conv as _conv
from ...ops import pooling as _pooling
from ...ops.conv import *  # noqa: F403
from ...ops.elementwise import sigmoid, tanh
from ...ops.fused import log_softmax, softmax
from ...ops.pooling import *  # noqa: F403
from ...ops.rearrange import pad
from . import activation, attention, layers, loss, loss_composed, norm
from .activation import *  # noqa: F403
from .attention import *  # noqa: F403
from .layers import *  # noqa: F403
from .loss import *  # noqa: F403
from .loss_composed import *  # noqa: F403
from .norm import *  # noqa: F403

# Spatial: resampling, the F-only pools, fold/unfold and friends (issue 16).
from . import pooling, resample, spatial
from .pooling import *  # noqa: F403
from .resample import *  # noqa: F403
from .spatial import *  # noqa: F403

__all__ = ["sigmoid", "tanh", "softmax", "log_softmax", "pad", *_conv.__all__, *_pooling.__all__,
           *activation.__all__, *attention.__all__, *layers.__all__, *loss.__all__,
           *loss_composed.__all__, *norm.__all__, *pooling.__all__, *resample.__all__,
           *spatial.__all__]

# The tail of torch.nn (issue 16).
from . import fractional_pool  # noqa: E402
from .conv_tbc import conv_tbc  # noqa: E402
from .fractional_pool import *  # noqa: E402,F403
from .linear_cross_entropy import linear_cross_entropy  # noqa: E402

__all__ += ["conv_tbc", "linear_cross_entropy", *fractional_pool.__all__]
