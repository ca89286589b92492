"""``Parameter``: a leaf tensor that a ``Module`` registers as one of its weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a module's weight: requires grad by default and is found by
    ``Module.parameters()`` when assigned as a module attribute.

    >>> import backprop as bp
    >>> p = bp.nn.Parameter(bp.zeros(2))
    >>> p.requires_grad, p.is_leaf
    (True, True)
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            array = np.zeros(0, dtype=np.float32)
        elif isinstance(data, Tensor):
            array = data._data  # shares storage, as torch.nn.Parameter does
        else:
            array = np.asarray(data)
        self._init_leaf(array, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
