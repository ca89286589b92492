"""``FractionalMaxPool2d`` and ``FractionalMaxPool3d``: modules over
``bp.nn.functional.fractional_max_pool2d/3d``."""

from __future__ import annotations

from typing import Any

from ...tensor import Tensor
from ..functional import fractional_pool as FP
from ..module import Module

__all__ = ["FractionalMaxPool2d", "FractionalMaxPool3d"]


def _tuple(value: Any, nd: int) -> Any:
    return None if value is None else tuple(value) if isinstance(value, (tuple, list)) \
        else (value,) * nd


class _FractionalMaxPoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                 return_indices: bool = False, _random_samples: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _tuple(kernel_size, self._nd)
        self.return_indices = return_indices
        # Fixed samples (PyTorch keeps them as a buffer): the same windows on every call.
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = _tuple(output_size, self._nd)
        self.output_ratio = _tuple(output_ratio, self._nd)
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling "
                             "ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError(f"{name}: only one of output_size and output_ratio may be "
                             "specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"{name}: output_ratio must be between 0 and 1 (got "
                             f"{output_ratio})")

    def forward(self, input: Tensor) -> Any:
        pool = FP.fractional_max_pool2d if self._nd == 2 else FP.fractional_max_pool3d
        return pool(input, self.kernel_size, self.output_size, self.output_ratio,
                    self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Fractional max pooling over ``(N, C, H, W)`` or ``(C, H, W)`` input (see
    ``bp.nn.functional.fractional_max_pool2d``); windows are drawn anew on every call unless
    ``_random_samples`` fixes them.

    >>> import backprop as bp
    >>> bp.nn.FractionalMaxPool2d(3, output_ratio=0.5)(bp.randn(2, 1, 10, 8)).shape
    (2, 1, 5, 4)
    """

    _nd = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Fractional max pooling over ``(N, C, T, H, W)`` or ``(C, T, H, W)`` input.

    >>> import backprop as bp
    >>> bp.nn.FractionalMaxPool3d(2, output_size=(2, 3, 3))(bp.randn(1, 4, 5, 6, 6)).shape
    (1, 4, 2, 3, 3)
    """

    _nd = 3
