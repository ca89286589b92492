"""Layer classes: each wraps a ``bp.nn.functional`` op and owns its parameters."""

from __future__ import annotations

from . import (activation, activation_more, attention, conv, distance, dropout, dropout_more,
               embedding, embedding_bag, flatten, lazy, linear, loss, loss_margin, nntail, norm,
               padding, pooling, rnn, spatial, transformer)
from .activation import *  # noqa: F403
from .activation_more import *  # noqa: F403
from .attention import *  # noqa: F403
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .conv import *  # noqa: F403
from .distance import *  # noqa: F403
from .dropout import *  # noqa: F403
from .dropout_more import *  # noqa: F403
from .embedding import *  # noqa: F403
from .embedding_bag import *  # noqa: F403
from .flatten import *  # noqa: F403
from .lazy import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .loss_margin import *  # noqa: F403
from .nntail import *  # noqa: F403
from .norm import *  # noqa: F403
from .padding import *  # noqa: F403
from .pooling import *  # noqa: F403
from .rnn import *  # noqa: F403
from .spatial import *  # noqa: F403
from .transformer import *  # noqa: F403

__all__ = ["ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential",
           *(name for module in (activation, activation_more, attention, conv, distance,
                                 dropout, dropout_more, embedding, embedding_bag, flatten, lazy,
                                 linear, loss, loss_margin, nntail, norm, padding, pooling, rnn,
                                 spatial, transformer)
             for name in module.__all__)]
