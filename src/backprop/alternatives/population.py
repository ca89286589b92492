"""Evaluate a population of parameter vectors on one batch: ``population_losses``.

Perturbation methods (evolution strategies, SPSA) need the loss at many points around the
current parameters. For an ``nn.Sequential`` of ``Linear`` layers and elementwise activations
the whole population runs at once as batched matrix products (one ``(P, B, in) @ (P, in, out)``
per layer), several times faster than one forward pass per member; any other model is run member
by member with ``bp.func.functional_call``. (``bp.func.vmap`` would be the general route, but
measured on the digits MLP it was slower than the member-by-member loop, so it is not used.)

>>> import backprop as bp
>>> model = bp.nn.Sequential(bp.nn.Linear(2, 3), bp.nn.ReLU(), bp.nn.Linear(3, 1))
>>> batch = (bp.randn(5, 2), bp.randn(5, 1))
>>> theta = flat_parameters(model)
>>> points = np.stack([theta, theta + 0.1])
>>> losses = population_losses(model, bp.nn.functional.mse_loss, batch, points)
>>> bool(abs(losses[0] - bp.nn.functional.mse_loss(model(batch[0]), batch[1]).item()) < 1e-5)
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .base import LossFn, flat_parameters, trainable

__all__ = ["flat_parameters", "population_losses", "stackable"]

# Modules that act elementwise, so they apply unchanged to a (P, B, features) population batch.
_ELEMENTWISE = (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.SiLU, nn.LeakyReLU, nn.ELU,
                nn.Softplus, nn.Identity)


def stackable(model: Any) -> bool:
    """Whether ``model`` is a ``Linear`` layer or a ``Sequential`` of ``Linear`` layers and
    elementwise activations, so a population of its parameters can run as batched matrix
    products.

    >>> import backprop as bp
    >>> stackable(bp.nn.Sequential(bp.nn.Linear(2, 2), bp.nn.Tanh())), stackable(bp.nn.Conv2d(1, 1, 1))
    (True, False)
    """
    if type(model) is nn.Linear:
        return True
    if not isinstance(model, nn.Sequential):
        return False
    for layer in model:
        if type(layer) is nn.Linear:
            continue
        if not isinstance(layer, _ELEMENTWISE) or list(layer.parameters()):
            return False
    return True


def _split(model: Any, points: np.ndarray) -> dict[str, Tensor]:
    """Each trainable parameter's name -> a (P, *shape) tensor of its values in ``points``."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    dtype = named[0][1].detach().numpy().dtype if named else np.float32
    out, start = {}, 0
    for name, p in named:
        n = p.numel()
        block = points[:, start:start + n].reshape(len(points), *p.shape).astype(dtype)
        out[name] = Tensor._wrap(np.ascontiguousarray(block))
        start += n
    return out


def _stacked_forward(model: Any, stacked: dict[str, Tensor], inputs: Tensor) -> Tensor:
    h = inputs
    named = [("", model)] if type(model) is nn.Linear else [(f"{i}.", m) for i, m in
                                                              enumerate(model)]
    for prefix, layer in named:
        if type(layer) is nn.Linear:
            weight = stacked.get(f"{prefix}weight")
            weight = layer.weight.detach().unsqueeze(0) if weight is None else weight
            h = h @ weight.transpose(-1, -2)  # (B, in) or (P, B, in) by (P, in, out)
            if layer.bias is not None:
                bias = stacked.get(f"{prefix}bias")
                h = h + (layer.bias.detach() if bias is None else bias.unsqueeze(1))
        else:
            h = layer(h)
    return h


def population_losses(model: Any, loss_fn: LossFn, batch: tuple[Tensor, Tensor],
                      points: np.ndarray, chunk: int = 64) -> np.ndarray:
    """The loss of ``model`` on ``batch`` at each row of ``points`` (P, number of trainable
    values, in ``parameters()`` order), evaluated ``chunk`` members at a time; the model's own
    parameters are left as they were. Returns a float64 vector of P losses."""
    total = sum(p.numel() for p in trainable(model))
    if points.ndim != 2 or points.shape[1] != total:
        raise ValueError(f"population_losses: points must be (P, {total}) for this model; got "
                         f"{points.shape}")
    if chunk < 1:
        raise ValueError(f"population_losses: chunk must be at least 1; got {chunk}")
    inputs, targets = batch
    losses = np.empty(len(points))
    fast = stackable(model)
    with no_grad():
        for start in range(0, len(points), chunk):
            stacked = _split(model, points[start:start + chunk])
            if fast:
                outputs = _stacked_forward(model, stacked, inputs)
                for i in range(outputs.shape[0]):
                    losses[start + i] = loss_fn(outputs[i], targets).item()
            else:
                from ..func import functional_call  # here, not on top: keeps the CLI start fast

                for i in range(len(points[start:start + chunk])):
                    member = {name: value[i] for name, value in stacked.items()}
                    output = functional_call(model, member, (inputs,))
                    losses[start + i] = loss_fn(output, targets).item()
    return losses
