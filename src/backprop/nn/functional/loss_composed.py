"""Loss functions of ``bp.nn.functional`` composed from bp ops (no primitives of their own),
with PyTorch's signatures, defaults and reductions: the regression losses (``mse_loss``,
``l1_loss``, ``smooth_l1_loss``, ``huber_loss``), ``kl_div``, the margin losses
(``margin_ranking_loss``, ``soft_margin_loss``, ``cosine_embedding_loss``) and the likelihood
losses (``poisson_nll_loss``, ``gaussian_nll_loss``). Their gradients are those of the ops they
are written with, except ``mse_loss`` without weights, which calls the fused ``_mse_loss``. The
fused losses and the helpers shared with them are in loss.py.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from ... import backend
from ...errors import ShapeError, format_shape
from ...ops.elementwise import abs, clamp, exp, log, log1p, lt, relu, where
from ...ops.reduction import sum
from ...ops.shape import _unsqueeze
from ...tensor import Tensor
from .loss import _check_reduction, _legacy, _mse_loss, _pointwise_target, _reduce

# -- regression losses (composed) ------------------------------------------------------------------

def _weighted_reduce(op: str, loss: Tensor, input: Tensor, weight: Any, reduction: str,
                     mean_by_weight: bool) -> Tensor:
    """Reduce a pointwise loss; with ``weight`` (the input's shape) each term is scaled first and
    'mean' divides by the summed weights (mse, l1) or by the count (huber), as PyTorch does."""
    if weight is None:
        return _reduce(loss, reduction)
    if tuple(weight.shape) != input.shape:
        raise ShapeError(f"{op}: weight of shape {format_shape(weight.shape)} must have the "
                         f"input's shape {format_shape(input.shape)}")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return sum(loss) / sum(weight)
    return _reduce(loss, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average: None = None, reduce: None = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error ``(input - target)**2``, reduced by ``reduction``.

    ``weight`` (the input's shape) scales each term; 'mean' then divides by its sum.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> F.mse_loss(bp.tensor([1., 2.]), bp.tensor([0., 0.])).item()
    2.5
    """
    _legacy("mse_loss", size_average, reduce)
    _check_reduction("mse_loss", reduction)
    _pointwise_target("mse_loss", input, target)
    if weight is None and reduction != "none" and input.shape == tuple(target.shape) and input.numel():
        return _mse_loss(input, target, reduction == "mean")
    diff = input - target
    return _weighted_reduce("mse_loss", diff * diff, input, weight, reduction, True)


def l1_loss(input: Tensor, target: Tensor, size_average: None = None, reduce: None = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error ``|input - target|`` (gradient ``sign``, 0 at a tie as PyTorch).

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> F.l1_loss(bp.tensor([1., -3.]), bp.tensor([0., 0.]), reduction="sum").item()
    4.0
    """
    _legacy("l1_loss", size_average, reduce)
    _check_reduction("l1_loss", reduction)
    _pointwise_target("l1_loss", input, target)
    return _weighted_reduce("l1_loss", abs(input - target), input, weight, reduction, True)


def _quadratic_then_linear(input: Tensor, target: Tensor, limit: float,
                           linear_slope: float) -> Tensor:
    # Both branches are evaluated; ``where`` routes the gradient to the taken one only. Neither
    # branch can produce inf/nan for finite inputs, so the masked branch adds no nan gradient.
    diff = input - target
    size = abs(diff)
    quadratic = diff * diff * (0.5 * linear_slope / limit)
    linear = (size - 0.5 * limit) * linear_slope
    return where(lt(size, limit), quadratic, linear)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: None = None,
                   reduce: None = None, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = input - target``);
    ``beta=0`` is the L1 loss.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> F.smooth_l1_loss(bp.tensor([0.5, 3.]), bp.tensor([0., 0.]), reduction="none").tolist()
    [0.125, 2.5]
    """
    _legacy("smooth_l1_loss", size_average, reduce)
    _check_reduction("smooth_l1_loss", reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    _pointwise_target("smooth_l1_loss", input, target)
    if beta == 0:
        return _reduce(abs(input - target), reduction)
    return _reduce(_quadratic_then_linear(input, target, float(beta), 1.0),
                   reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """``0.5 d**2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> F.huber_loss(bp.tensor([0.5, 3.]), bp.tensor([0., 0.]), reduction="none").tolist()
    [0.125, 2.5]
    """
    _check_reduction("huber_loss", reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    _pointwise_target("huber_loss", input, target)
    loss = _quadratic_then_linear(input, target, float(delta), float(delta))
    return _weighted_reduce("huber_loss", loss, input, weight, reduction, False)


# -- KL divergence ----------------------------------------------------------------------------------

def kl_div(input: Tensor, target: Tensor, size_average: None = None, reduce: None = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence ``target * (log(target) - input)`` for log-probabilities
    ``input`` (``exp(target) * (target - input)`` when ``log_target``).

    'mean' averages over every element, as PyTorch does (and warns about); 'batchmean' divides
    the sum by the batch size ``input.size(0)``, which is the mathematical KL divergence.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> p = bp.tensor([[0.5, 0.5]])
    >>> F.kl_div(p.log(), p, reduction="batchmean").item()
    0.0
    """
    _legacy("kl_div", size_average, reduce)
    _check_reduction("kl_div", reduction, ("mean", "batchmean", "sum", "none"))
    _pointwise_target("kl_div", input, target, warn=False)
    if log_target:
        loss = exp(target) * (target - input)
    else:
        # xlogy(t, t): 0 where t == 0. The log reads a safe 1 there, so the masked branch cannot
        # send a 0 * -inf = nan gradient back through ``where``.
        positive = backend.array_of(target) > 0
        safe = where(positive, target, 1.0)
        loss = where(positive, target * log(safe), 0.0) - target * input
    if reduction == "batchmean":
        total = sum(loss)
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


# -- more losses (composed) ---------------------------------------------------------------------------

def _softplus(x: Tensor) -> Tensor:
    """``log(1 + exp(x))`` without overflow: ``max(x, 0) + log1p(exp(-|x|))``."""
    return relu(x) + log1p(exp(-abs(x)))


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: None = None, reduce: None = None,
                        reduction: str = "mean") -> Tensor:
    """``max(0, -target * (input1 - input2) + margin)`` with ``target`` in {1, -1}.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> F.margin_ranking_loss(bp.tensor([1., 2.]), bp.tensor([2., 1.]), bp.tensor([1., 1.])).item()
    0.5
    """
    op = "margin_ranking_loss"
    _legacy(op, size_average, reduce)
    _check_reduction(op, reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise ShapeError(f"{op}: input1 {format_shape(input1.shape)}, input2 "
                         f"{format_shape(input2.shape)} and target {format_shape(target.shape)} "
                         "must have the same number of dimensions")
    # clamp, not relu: PyTorch's clamp_min gives a NaN difference a zero gradient.
    return _reduce(clamp((input2 - input1) * target + margin, 0.0), reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: None = None,
                     reduce: None = None, reduction: str = "mean") -> Tensor:
    """Two-class logistic loss ``log(1 + exp(-target * input))`` with ``target`` in {1, -1}.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> round(F.soft_margin_loss(bp.tensor([0.]), bp.tensor([1.])).item(), 4)
    0.6931
    """
    _legacy("soft_margin_loss", size_average, reduce)
    _check_reduction("soft_margin_loss", reduction)
    _pointwise_target("soft_margin_loss", input, target, warn=False)
    return _reduce(_softplus(-(input * target)), reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average: None = None, reduce: None = None,
                          reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos(x1, x2) - margin)`` where
    ``target == -1``; ``input1``/``input2`` are ``(N, D)`` (target ``(N,)``) or ``(D,)``.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> F.cosine_embedding_loss(bp.tensor([[1., 0.]]), bp.tensor([[0., 1.]]),
    ...                         bp.tensor([1])).item()
    1.0
    """
    op = "cosine_embedding_loss"
    _legacy(op, size_average, reduce)
    _check_reduction(op, reduction)
    if input1.shape != input2.shape or input1.ndim not in (1, 2):
        raise ShapeError(f"{op}: input1 {format_shape(input1.shape)} and input2 "
                         f"{format_shape(input2.shape)} must have the same shape, (N, D) or (D,)")
    if tuple(target.shape) != input1.shape[:-1]:
        raise ShapeError(f"{op}: target of shape {format_shape(target.shape)} must have shape "
                         f"{format_shape(input1.shape[:-1])} for inputs of shape "
                         f"{format_shape(input1.shape)}")
    dim = input1.ndim - 1
    # PyTorch adds 1e-12 to each squared norm, so zero vectors give cos = 0, not nan.
    norms = (sum(input1 * input1, dim) + 1e-12) * (sum(input2 * input2, dim) + 1e-12)
    cos = sum(input1 * input2, dim) / (norms ** 0.5)
    y = backend.array_of(target)
    loss = where(y == 1, 1 - cos, 0.0) + where(y == -1, clamp(cos - margin, 0.0), 0.0)
    return _reduce(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: None = None, eps: float = 1e-8, reduce: None = None,
                     reduction: str = "mean") -> Tensor:
    """Poisson negative log likelihood: ``exp(input) - target * input`` for a log rate
    (``input - target * log(input + eps)`` when ``log_input=False``); ``full`` adds Stirling's
    approximation of ``log(target!)`` where ``target > 1``.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> F.poisson_nll_loss(bp.tensor([0.]), bp.tensor([2.])).item()
    1.0
    """
    _legacy("poisson_nll_loss", size_average, reduce)
    _check_reduction("poisson_nll_loss", reduction)
    _pointwise_target("poisson_nll_loss", input, target, warn=False)
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * log(input + eps)
    if full:
        above = backend.array_of(target) > 1
        safe = where(above, target, 2.0)  # the masked entries never reach log
        stirling = safe * log(safe) - safe + log(safe * (2 * math.pi)) * 0.5
        loss = loss + where(above, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """Gaussian negative log likelihood ``0.5 (log(var) + (input - target)**2 / var)`` with
    ``var`` clamped at ``eps`` (the clamp passes the gradient through, as in PyTorch); ``var``
    may drop the last dim or have size 1 in one dim (one variance shared along it).

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> F.gaussian_nll_loss(bp.tensor([1.]), bp.tensor([1.]), bp.tensor([1.])).item()
    0.0
    """
    op = "gaussian_nll_loss"
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError(f"{op}: var must be non-negative, got {var}")
        var = Tensor._wrap(np.full_like(input._data, var, dtype=input.dtype))  # input's device
    elif (backend.array_of(var) < 0).any():
        raise ValueError(f"{op}: var has negative entries")
    if tuple(var.shape) != input.shape:
        if input.shape[:-1] == tuple(var.shape):
            var = _unsqueeze(var, var.ndim)
        elif not (input.ndim == var.ndim and builtins.sum(
                m for n, m in zip(input.shape, var.shape) if n != m) == 1):
            raise ShapeError(f"{op}: var of shape {format_shape(var.shape)} does not fit input "
                             f"of shape {format_shape(input.shape)}: give the input's shape, "
                             "that shape without the last dim, or size 1 in one dim")
    _check_reduction(op, reduction)
    values = backend.array_of(var)
    # PyTorch clamps var in place under no_grad: the value changes, the gradient does not.
    var = var + (np.maximum(values, eps) - values)
    diff = input - target
    loss = (log(var) + diff * diff / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


__all__ = [
    "cosine_embedding_loss",
    "gaussian_nll_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "margin_ranking_loss",
    "mse_loss",
    "poisson_nll_loss",
    "smooth_l1_loss",
    "soft_margin_loss",
]
