"""``LinearCrossEntropyLoss``: a ``Linear`` classifier head fused with cross-entropy (PyTorch
2.13), its weight stored flat as PyTorch does (``linear.weight`` is
``(num_classes * prod(out_features), in_features)``)."""

from __future__ import annotations

import math
from typing import Any

from ...tensor import Tensor
from ..functional.linear_cross_entropy import LinearCrossEntropyOptions, linear_cross_entropy
from .linear import Linear
from .loss import _WeightedLoss

__all__ = ["LinearCrossEntropyLoss", "LinearCrossEntropyOptions"]


class LinearCrossEntropyLoss(_WeightedLoss):
    """Cross-entropy of ``linear(input)`` against ``target``; ``out_features=(d1, ..., dK)``
    makes a K-dimensional loss (targets ``(N, d1, ..., dK)``), ``options`` computes it in batch
    chunks so the logits are never held whole.

    >>> import backprop as bp
    >>> loss = bp.nn.LinearCrossEntropyLoss(5, 10)
    >>> loss(bp.randn(4, 5), bp.tensor([0, 9, 2, 2])).shape
    ()
    """

    def __init__(self, in_features: int, num_classes: int, *, out_features: tuple[int, ...] = (),
                 bias: bool = False, device: Any = None, dtype: Any = None,
                 reduction: str = "mean", weight: Tensor | None = None,
                 ignore_index: int | None = None, label_smoothing: float = 0.0,
                 options: LinearCrossEntropyOptions | None = None) -> None:
        name = type(self).__name__
        if weight is not None and tuple(weight.shape) != (num_classes,):
            raise RuntimeError(f"{name}: expected weight shape to be {(num_classes,)}, got "
                               f"{tuple(weight.shape)}")
        if label_smoothing < 0 or label_smoothing > 1.0:
            raise RuntimeError(f"{name}: expected label_smoothing to be in range [0, 1], got "
                               f"{label_smoothing}")
        super().__init__(weight=weight, reduction=reduction)
        self.num_classes = num_classes
        self.out_features = out_features
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        # Linear holds a 2-D weight; forward reshapes it to (C, *out_features, in_features).
        self.linear = Linear(in_features, math.prod(out_features, start=num_classes), bias=bias,
                             device=device, dtype=dtype)
        self.options = options

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        shape = (self.num_classes, *self.out_features)
        bias = self.linear.bias
        return linear_cross_entropy(
            input, self.linear.weight.reshape(*shape, self.linear.in_features), target,
            linear_bias=None if bias is None else bias.reshape(*shape), weight=self.weight,
            reduction=self.reduction, ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing, options=self.options)

    def extra_repr(self) -> str:
        return (f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
                f"reduction={self.reduction}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}, options={self.options}")
