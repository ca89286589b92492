"""Sharpness: the top eigenvalue of the Hessian of the loss with respect to the parameters, by
power iteration on Hessian-vector products.

A Hessian-vector product never forms the Hessian: with g = ∇L(θ) built with ``create_graph=True``,
H·v = ∇_θ (g · v), one more backward pass through the graph of the gradient (Pearlmutter, 1994).
Power iteration v ← H·v / ‖H·v‖ then converges to the eigenvector whose eigenvalue has the
largest magnitude, at a rate set by the ratio of the two largest magnitudes.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Mapping, NamedTuple

import numpy as np

from ..autograd.functional import grad
from ..autograd.grad_mode import enable_grad
from ..errors import GraphError, ShapeError, format_shape
from ..nn.module import Module
from ..tensor import Tensor
from ._batches import Batch, LossFn, as_batches, batch_size, eval_mode, scalar_loss


class HessianEigen(NamedTuple):
    """The result of ``hessian_top_eigenvalue``."""

    eigenvalue: float                 # the Rayleigh quotient v·Hv of the last unit vector v
    iterations: int                   # Hessian-vector products computed
    converged: bool                   # whether the estimate settled within tol before iters ran out
    eigenvector: OrderedDict[str, Tensor]  # unit-norm estimate, by parameter name


def _differentiable(model: Module, op: str) -> list[tuple[str, Tensor]]:
    if not isinstance(model, Module):
        raise TypeError(f"{op}: model must be a backprop.nn.Module, got {type(model).__name__}")
    named = [(name, p) for name, p in model.named_parameters()
             if p.requires_grad and p.is_floating_point()]
    if not named:
        raise ValueError(f"{op}: {type(model).__name__} has no parameters with "
                         "requires_grad=True")
    return named


def _product(model: Module, loss_fn: LossFn, batches: list[Batch], params: list[Tensor],
             vector: list[np.ndarray], op: str) -> list[np.ndarray]:
    """H·v of the batch-size-weighted mean loss, accumulated in float64."""
    total = sum(batch_size(targets) for _, targets in batches)
    result = [np.zeros(p.shape, dtype=np.float64) for p in params]
    tangent = [Tensor._wrap(v.astype(p.dtype)) for v, p in zip(vector, params)]
    with enable_grad():  # the caller may be inside no_grad()
        for inputs, targets in batches:
            loss = scalar_loss(loss_fn(model(inputs), targets), op)
            if not loss.requires_grad:
                raise GraphError(f"{op}: the loss does not depend on any parameter of the model "
                                 "(it does not require grad)")
            gradients = grad(loss, params, create_graph=True, allow_unused=True)
            # g·v; a gradient that is a constant (the loss is linear in that parameter) adds
            # nothing to the Hessian and carries no graph.
            terms = [(g * t).sum() for g, t in zip(gradients, tangent)
                     if g is not None and g.requires_grad]
            if not terms:
                continue
            dot = terms[0]
            for term in terms[1:]:
                dot = dot + term
            weight = batch_size(targets) / total
            for out, h in zip(result, grad(dot, params, allow_unused=True)):
                if h is not None:
                    out += weight * h.detach().numpy()
    return result


def hessian_vector_product(model: Module, loss_fn: LossFn, data: Any,
                           vector: Mapping[str, Any]) -> OrderedDict[str, Tensor]:
    """H·v, where H is the Hessian of the mean loss over ``data`` with respect to the model's
    parameters (those with ``requires_grad``) and ``vector`` a dict of tensors by parameter
    name. Evaluated in eval mode; the result is float64.

    >>> import backprop as bp
    >>> layer = bp.nn.Linear(1, 1, bias=False)
    >>> x, y = bp.tensor([[1.0], [3.0]]), bp.tensor([[0.0], [0.0]])
    >>> hv = hessian_vector_product(layer, bp.nn.MSELoss(), (x, y), {"weight": bp.ones(1, 1)})
    >>> hv["weight"].tolist()  # d²/dw² of mean((w·x)²) = 2·mean(x²) = 10
    [[10.0]]
    """
    op = "hessian_vector_product"
    named = _differentiable(model, op)
    if not isinstance(vector, Mapping):
        raise TypeError(f"{op}: vector must be a dict of tensors by parameter name, got "
                        f"{type(vector).__name__}")
    arrays = []
    for name, p in named:
        if name not in vector:
            raise ValueError(f"{op}: vector has no entry for the parameter {name!r}")
        value = vector[name]
        array = value.detach().numpy() if isinstance(value, Tensor) else np.asarray(value)
        if array.shape != p.shape:
            raise ShapeError(f"{op}: vector[{name!r}] has shape {format_shape(array.shape)} but "
                             f"the parameter has shape {format_shape(p.shape)}")
        arrays.append(array)
    batches = as_batches(data, op)
    with eval_mode(model):
        product = _product(model, loss_fn, batches, [p for _, p in named], arrays, op)
    return OrderedDict((name, Tensor._wrap(h)) for (name, _), h in zip(named, product))


def _norm(arrays: list[np.ndarray]) -> float:
    return float(np.sqrt(sum(float(np.vdot(a, a)) for a in arrays)))


def hessian_top_eigenvalue(model: Module, loss_fn: LossFn, data: Any, *, iters: int = 20,
                           tol: float = 1e-3, seed: int = 0) -> HessianEigen:
    """The Hessian eigenvalue of largest magnitude of the mean loss over ``data`` (at a minimum:
    the largest, the "sharpness"), by power iteration on Hessian-vector products.

    Starts from a Gaussian vector drawn with ``seed`` (NumPy's generator; backprop's global
    stream is left alone) and stops after ``iters`` products or once the estimate changes by
    at most ``tol`` times its size between two iterations. Each product costs a forward pass,
    a backward pass with ``create_graph=True`` and a second backward pass per batch, all in eval
    mode; ``.grad`` fields are not touched.

    >>> import backprop as bp
    >>> layer = bp.nn.Linear(2, 1, bias=False)
    >>> x = bp.tensor([[1.0, 0.0], [0.0, 2.0]])  # H = 2/N·XᵀX = diag(1, 4)
    >>> result = hessian_top_eigenvalue(layer, bp.nn.MSELoss(), (x, bp.zeros(2, 1)), tol=1e-6)
    >>> round(result.eigenvalue, 4), result.converged
    (4.0, True)
    """
    op = "hessian_top_eigenvalue"
    if not isinstance(iters, (int, np.integer)) or isinstance(iters, bool) or iters < 1:
        raise ValueError(f"{op}: iters must be a positive integer; got {iters!r}")
    if not tol >= 0:
        raise ValueError(f"{op}: tol must be a non-negative number; got {tol!r}")
    named = _differentiable(model, op)
    params = [p for _, p in named]
    batches = as_batches(data, op)
    rng = np.random.default_rng(seed)
    vector = [rng.standard_normal(p.shape) for p in params]
    scale = _norm(vector)
    vector = [v / scale for v in vector]
    eigenvalue, converged, done = float("nan"), False, 0
    with eval_mode(model):
        for done in range(1, int(iters) + 1):
            product = _product(model, loss_fn, batches, params, vector, op)
            estimate = sum(float(np.vdot(v, h)) for v, h in zip(vector, product))
            length = _norm(product)
            if length == 0.0 or not np.isfinite(length):
                # H·v = 0: v lies in the null space (a loss linear in the parameters has H = 0);
                # a non-finite product has no direction to follow.
                eigenvalue, converged = estimate, length == 0.0
                break
            vector = [h / length for h in product]
            settled = abs(estimate - eigenvalue) <= tol * abs(estimate)
            eigenvalue = estimate
            if settled:
                converged = True
                break
    eigenvector = OrderedDict((name, Tensor._wrap(v.astype(p.dtype)))
                              for (name, p), v in zip(named, vector))
    return HessianEigen(float(eigenvalue), done, converged, eigenvector)
