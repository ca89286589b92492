"""``RReLU`` and ``Softmax2d``."""

from __future__ import annotations

from ...errors import ShapeError
from ...tensor import Tensor
from .. import functional as F
from ..module import Module

__all__ = ["RReLU", "Softmax2d"]


class RReLU(Module):
    """Randomized leaky ReLU: a slope drawn from ``[lower, upper]`` for each non-positive element
    while training, the mean slope in eval mode.

    >>> import backprop as bp
    >>> act = bp.nn.RReLU(0.25, 0.75)
    >>> act
    RReLU(lower=0.25, upper=0.75)
    >>> act.eval()(bp.tensor([-2., 3.])).tolist()
    [-1.0, 3.0]
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
                 inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= lower <= upper:
            raise ValueError(f"RReLU: expected 0 <= lower <= upper, got lower={lower}, "
                             f"upper={upper}")
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace
                                                             else "")


class Softmax2d(Module):
    """Softmax over the channels (dim -3) of a ``(N, C, H, W)`` or ``(C, H, W)`` input.

    >>> import backprop as bp
    >>> bp.nn.Softmax2d()(bp.zeros(1, 2, 1, 1)).flatten().tolist()
    [0.5, 0.5]
    """

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise ShapeError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D "
                             "instead")
        return F.softmax(input, -3)
