"""Layer classes: each wraps a ``bp.nn.functional`` op and owns its parameters."""

from __future__ import annotations

from . import (activation, attention, conv, distance, dropout, embedding, flatten, linear, loss,
               norm, padding, pooling)
from .activation import *  # noqa: F403
from .attention import *  # noqa: F403
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .conv import *  # noqa: F403
from .distance import *  # noqa: F403
from .dropout import *  # noqa: F403
from .embedding import *  # noqa: F403
from .flatten import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .norm import *  # noqa: F403
from .padding import *  # noqa: F403
from .pooling import *  # noqa: F403
from . import nntail, rnn, spatial, transformer
from .nntail import *  # noqa: F403
from .rnn import *  # noqa: F403
from .spatial import *  # noqa: F403
from .transformer import *  # noqa: F403

__all__ = ["ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential",
           *activation.__all__, *attention.__all__, *conv.__all__, *distance.__all__,
           *dropout.__all__, *embedding.__all__, *flatten.__all__, *linear.__all__, *loss.__all__,
           *norm.__all__, *padding.__all__, *pooling.__all__, *nntail.__all__, *rnn.__all__,
           *spatial.__all__, *transformer.__all__]
