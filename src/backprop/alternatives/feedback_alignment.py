"""Feedback alignment (Lillicrap et al. 2016, "Random synaptic feedback weights support error
backpropagation for deep learning"): the backward pass sends the error through fixed random
matrices instead of the transposed forward weights.

``with_feedback_alignment(model)`` swaps every ``nn.Linear`` in ``model`` for a
``FeedbackAlignmentLinear`` holding the *same* weight and bias parameters and a fixed random
buffer ``feedback`` B (the weight's shape, drawn like the weight's initialisation). Its
forward is the ordinary ``x @ W^T + b``; its backward gives the input the gradient ``g @ B``
where backprop gives ``g @ W``, and the weight and bias their usual gradients ``g^T x`` and
``sum(g)``. Everything else (the loss, activations, optimizers, ``loss.backward()``) is
unchanged, so the difference from backprop is exactly the transposed weights.

>>> import backprop as bp
>>> model = with_feedback_alignment(bp.nn.Sequential(bp.nn.Linear(4, 3), bp.nn.Linear(3, 2)))
>>> type(model[0]).__name__, tuple(model[1].feedback.shape)
('FeedbackAlignmentLinear', (2, 3))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import nn
from ..autograd.function import Function, FunctionCtx
from ..tensor import Tensor

__all__ = ["FeedbackAlignmentLinear", "with_feedback_alignment"]


class _FeedbackLinearFunction(Function):
    """``x @ W^T + b`` whose input gradient goes through ``feedback`` instead of W."""

    @staticmethod
    def forward(ctx: FunctionCtx, input: Any, weight: Any, bias: Any, feedback: Any) -> Any:
        ctx.save_for_backward(input, feedback)
        ctx.has_bias = bias is not None
        out = input @ weight.transpose(0, 1)
        return out + bias if bias is not None else out

    @staticmethod
    def backward(ctx: FunctionCtx, g: Any) -> Any:
        input, feedback = ctx.saved_tensors
        rows_g = g.reshape(-1, g.shape[-1])
        rows_x = input.reshape(-1, input.shape[-1])
        grad_weight = rows_g.transpose(0, 1) @ rows_x
        grad_bias = rows_g.sum(0) if ctx.has_bias else None
        return g @ feedback, grad_weight, grad_bias, None


class FeedbackAlignmentLinear(nn.Linear):
    """A ``Linear`` layer trained by feedback alignment: see the module docstring.

    >>> import backprop as bp
    >>> layer = FeedbackAlignmentLinear(3, 2)
    >>> x = bp.ones(1, 3, requires_grad=True)
    >>> layer(x).sum().backward()
    >>> bool(np.allclose(x.grad.numpy(), layer.feedback.sum(0).numpy()))
    True
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 generator: np.random.Generator | None = None) -> None:
        super().__init__(in_features, out_features, bias=bias)
        rng = generator if generator is not None else np.random.default_rng()
        bound = 1.0 / math.sqrt(in_features)  # the scale of Linear's own initialisation
        values = rng.uniform(-bound, bound, size=(out_features, in_features))
        self.register_buffer("feedback", Tensor._wrap(values.astype(self.weight.detach().numpy().dtype)))

    def forward(self, input: Tensor) -> Tensor:
        return _FeedbackLinearFunction.apply(input, self.weight, self.bias, self.feedback)


def with_feedback_alignment(model: Any, seed: int = 0) -> Any:
    """Replace, in place, every ``nn.Linear`` inside ``model`` (or ``model`` itself) by a
    ``FeedbackAlignmentLinear`` sharing its parameters, with fixed random feedback matrices
    drawn from ``seed``; return the model. A model without a ``Linear`` is refused.
    See the module docstring for an example."""
    rng = np.random.default_rng(seed)

    def convert(layer: nn.Linear) -> FeedbackAlignmentLinear:
        new = FeedbackAlignmentLinear(layer.in_features, layer.out_features,
                                      bias=layer.bias is not None, generator=rng)
        new.weight = layer.weight
        new.bias = layer.bias
        return new

    if type(model) is nn.Linear:
        return convert(model)
    swapped = 0
    for module in list(model.modules()):
        for name, child in list(module._modules.items()):
            if type(child) is nn.Linear:
                module._modules[name] = convert(child)
                swapped += 1
    if swapped == 0:
        raise ValueError(f"with_feedback_alignment: {type(model).__name__} holds no nn.Linear "
                         "layer; feedback alignment replaces the backward pass of Linear layers")
    return model
