"""Dropout layers: active in training mode, the identity in eval mode."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from ..module import Module

__all__ = ["Dropout", "Dropout2d"]


class _DropoutNd(Module):
    _fn = "dropout"

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 "
                             f"and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return getattr(F, self._fn)(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` while
    training; pass the input through in eval mode.

    >>> import backprop as bp
    >>> drop = bp.nn.Dropout(0.5)
    >>> drop
    Dropout(p=0.5, inplace=False)
    >>> drop.eval()(bp.ones(3)).tolist()
    [1.0, 1.0, 1.0]
    """


class Dropout2d(_DropoutNd):
    """Zero whole channels of ``(N, C, H, W)`` (or ``(C, H, W)``) inputs with probability ``p``
    while training."""

    _fn = "dropout2d"
