"""What every gradient estimator shares: ``estimate_(model, loss_fn, batch)`` fills each
parameter's ``.grad`` (so any ``bp.optim`` optimizer steps on it) and returns an ``Estimate``:
the loss and how many forward and backward passes of the network it spent.

A *forward evaluation* is one forward pass of the model over the whole batch; a *backward
evaluation* is one backward pass through the whole network. These are the units in which
``backprop compare-methods`` sets its budgets.

>>> import backprop as bp
>>> model = bp.nn.Linear(3, 1)
>>> batch = (bp.ones(4, 3), bp.zeros(4, 1))
>>> estimate = Backprop().estimate_(model, bp.nn.functional.mse_loss, batch)
>>> (estimate.forward_evaluations, estimate.backward_evaluations, model.weight.grad.shape)
(1, 1, (1, 3))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = ["Backprop", "Estimate", "GradientEstimator", "LossFn", "assign_gradients",
           "flat_parameters", "trainable"]

LossFn = Callable[[Tensor, Tensor], Tensor]  # (model output, targets) -> scalar loss


@dataclass
class Estimate:
    """What one call of ``estimate_`` spent and saw."""

    loss: float                    # the loss at (or, for perturbation methods, around) the point
    forward_evaluations: int       # forward passes of the network over the batch
    backward_evaluations: int      # backward passes through the whole network


class GradientEstimator:
    """Base class: subclasses define ``estimate_``."""

    def estimate_(self, model: Any, loss_fn: LossFn, batch: tuple[Tensor, Tensor]) -> Estimate:
        """Fill every trainable parameter's ``.grad`` with this method's estimate of the
        gradient of ``loss_fn(model(inputs), targets)``; return the ``Estimate``."""
        raise NotImplementedError


class Backprop(GradientEstimator):
    """The reference: one forward pass and one backward pass give the exact gradient."""

    def estimate_(self, model: Any, loss_fn: LossFn, batch: tuple[Tensor, Tensor]) -> Estimate:
        """Exact gradient by ``loss.backward()``; see the module example."""
        inputs, targets = batch
        for p in trainable(model):
            p.grad = None
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        return Estimate(float(loss.item()), 1, 1)


def trainable(model: Any) -> list[Tensor]:
    """The parameters of ``model`` that require grad, in ``parameters()`` order.

    >>> import backprop as bp
    >>> len(trainable(bp.nn.Linear(2, 2)))
    2
    """
    return [p for p in model.parameters() if p.requires_grad]


def flat_parameters(model: Any) -> np.ndarray:
    """The trainable parameters of ``model`` as one float64 vector (a copy).

    >>> import backprop as bp
    >>> flat_parameters(bp.nn.Linear(2, 3)).shape
    (9,)
    """
    arrays = [np.asarray(p.detach().numpy(), dtype=np.float64).ravel() for p in trainable(model)]
    return np.concatenate(arrays) if arrays else np.zeros(0)


def assign_gradients(model: Any, flat: np.ndarray) -> None:
    """Set each trainable parameter's ``.grad`` to its slice of the vector ``flat``.

    >>> import backprop as bp
    >>> layer = bp.nn.Linear(1, 1)
    >>> assign_gradients(layer, np.array([2.0, 3.0])); layer.bias.grad.tolist()
    [3.0]
    """
    params = trainable(model)
    total = sum(p.numel() for p in params)
    if flat.shape != (total,):
        raise ValueError(f"assign_gradients: the model has {total} trainable values; got a "
                         f"vector of shape {flat.shape}")
    start = 0
    for p in params:
        n = p.numel()
        value = flat[start:start + n].reshape(p.shape).astype(p.detach().numpy().dtype)
        p.grad = Tensor._wrap(value)
        start += n
