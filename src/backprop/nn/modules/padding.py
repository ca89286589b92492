"""Padding layers (``ZeroPad2d``, ``ConstantPad1d``, ``ReflectionPad2d``, ...): each holds a
``padding`` tuple and calls ``F.pad`` with its mode, as PyTorch's do."""

from __future__ import annotations

from collections.abc import Sequence
from ...ops.rearrange import pad
from ...tensor import Tensor
from ..module import Module

__all__ = ["CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
           "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d",
           "ZeroPad3d"]


class _PadNd(Module):
    """``padding`` is an int (the same on every side of the last ``_dims`` dims) or a tuple
    ``(left, right, top, bottom, front, back)`` cut to ``2 * _dims`` entries, as in F.pad."""

    _dims: int
    _mode: str

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__()
        name = type(self).__name__
        if isinstance(padding, int):
            self.padding = (padding,) * (2 * self._dims)
        elif isinstance(padding, Sequence) and all(isinstance(p, int) for p in padding):
            self.padding = tuple(padding)
        else:
            raise TypeError(f"{name}: padding must be an int or a tuple of ints, got {padding!r}")

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    _mode = "constant"

    def __init__(self, padding: int | Sequence[int], value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``; ``padding`` is an int or ``(left, right)``.

    >>> import backprop as bp
    >>> bp.nn.ConstantPad1d((1, 2), 3.5)(bp.zeros(1, 2)).tolist()
    [[3.5, 0.0, 0.0, 3.5, 3.5]]
    """

    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with ``value``; ``padding`` is an int or
    ``(left, right, top, bottom)``.

    >>> import backprop as bp
    >>> bp.nn.ConstantPad2d((1, 0, 0, 1), -1.0)(bp.ones(1, 1, 1)).tolist()
    [[[-1.0, 1.0], [-1.0, -1.0]]]
    """

    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims with ``value``; ``padding`` is an int or
    ``(left, right, top, bottom, front, back)``.

    >>> import backprop as bp
    >>> bp.nn.ConstantPad3d(1, 0.5)(bp.ones(1, 1, 1, 1)).shape
    (1, 3, 3, 3)
    """

    _dims = 3


class _ZeroPad(_ConstantPadNd):
    """A ConstantPad with value 0 (subclasses of ``ConstantPadNd``, as in PyTorch), printed
    without the value."""

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pad the last dim with zeros; ``padding`` is an int or ``(left, right)``.

    >>> import backprop as bp
    >>> bp.nn.ZeroPad1d(1)(bp.ones(1, 2)).tolist()
    [[0.0, 1.0, 1.0, 0.0]]
    """


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pad the last two dims with zeros; ``padding`` is an int or
    ``(left, right, top, bottom)``.

    >>> import backprop as bp
    >>> bp.nn.ZeroPad2d((1, 1, 2, 0))(bp.ones(1, 1, 3, 3)).shape
    (1, 1, 5, 5)
    """


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    """Pad the last three dims with zeros; ``padding`` is an int or a 6-tuple.

    >>> import backprop as bp
    >>> bp.nn.ZeroPad3d((1, 0, 0, 0, 0, 2))(bp.ones(1, 1, 1, 1)).shape
    (1, 3, 1, 2)
    """


class ReflectionPad1d(_PadNd):
    """Pad the last dim with its mirror image (the edge not repeated).

    >>> import backprop as bp
    >>> bp.nn.ReflectionPad1d(2)(bp.tensor([[0.0, 1.0, 2.0]])).tolist()
    [[2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0]]
    """

    _dims, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Pad the last two dims with their mirror image; ``padding`` is an int or
    ``(left, right, top, bottom)``.

    >>> import backprop as bp
    >>> bp.nn.ReflectionPad2d((1, 0, 1, 0))(bp.tensor([[[0.0, 1.0], [2.0, 3.0]]])).tolist()
    [[[3.0, 2.0, 3.0], [1.0, 0.0, 1.0], [3.0, 2.0, 3.0]]]
    """

    _dims, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Pad the last three dims with their mirror image.

    >>> import backprop as bp
    >>> bp.nn.ReflectionPad3d(1)(bp.ones(1, 1, 2, 2, 2)).shape
    (1, 1, 4, 4, 4)
    """

    _dims, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pad the last dim by repeating its edge values.

    >>> import backprop as bp
    >>> bp.nn.ReplicationPad1d((2, 1))(bp.tensor([[0.0, 1.0]])).tolist()
    [[0.0, 0.0, 0.0, 1.0, 1.0]]
    """

    _dims, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Pad the last two dims by repeating their edge values.

    >>> import backprop as bp
    >>> bp.nn.ReplicationPad2d(1)(bp.ones(1, 1, 2, 2)).shape
    (1, 1, 4, 4)
    """

    _dims, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Pad the last three dims by repeating their edge values.

    >>> import backprop as bp
    >>> bp.nn.ReplicationPad3d((1, 0, 0, 1, 0, 0))(bp.ones(1, 1, 2, 2, 2)).shape
    (1, 1, 2, 3, 3)
    """

    _dims, _mode = 3, "replicate"


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (self._dims + 1, self._dims + 2):
            raise ValueError(f"{type(self).__name__}: expected {self._dims + 1}D or "
                             f"{self._dims + 2}D input (got {input.ndim}D input)")
        return super().forward(input)


class CircularPad1d(_CircularPadNd):
    """Pad the last dim by wrapping around: the end pads the beginning and the beginning the
    end.

    >>> import backprop as bp
    >>> bp.nn.CircularPad1d((1, 2))(bp.tensor([[0.0, 1.0, 2.0]])).tolist()
    [[2.0, 0.0, 1.0, 2.0, 0.0, 1.0]]
    """

    _dims = 1


class CircularPad2d(_CircularPadNd):
    """Pad the last two dims by wrapping around.

    >>> import backprop as bp
    >>> bp.nn.CircularPad2d(1)(bp.ones(1, 1, 2, 2)).shape
    (1, 1, 4, 4)
    """

    _dims = 2


class CircularPad3d(_CircularPadNd):
    """Pad the last three dims by wrapping around.

    >>> import backprop as bp
    >>> bp.nn.CircularPad3d(1)(bp.ones(1, 1, 2, 2, 2)).shape
    (1, 1, 4, 4, 4)
    """

    _dims = 3
