"""Small builders the autograd tests share."""

from __future__ import annotations

import numpy as np

import backprop as bp
from backprop.autograd import Function


def leaf(*shape: int, seed: int = 0, dtype=np.float64) -> bp.Tensor:
    """A leaf of standard-normal values that requires grad."""
    rng = np.random.default_rng(seed)
    return bp.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)


def values(t: bp.Tensor) -> np.ndarray:
    return t.detach().numpy()


class Square(Function):
    """x * x as a custom Function that saves its input."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2.0 * x
