"""Margin and embedding losses of ``bp.nn.functional`` composed from bp ops, with PyTorch's
signatures, defaults and reductions: ``triplet_margin_loss``,
``triplet_margin_with_distance_loss``, ``multi_margin_loss``, ``multilabel_margin_loss``,
``multilabel_soft_margin_loss`` and ``hinge_embedding_loss``. Their gradients are those of the
ops they are written with; every hinge is a ``clamp`` (PyTorch's ``clamp_min``), so a tie at the
hinge gets gradient 0 as in PyTorch.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ... import backend
from ...errors import ShapeError, format_shape
from ...ops.elementwise import clamp, minimum, where
from ...ops.reduction import sum
from ...ops.scatter import gather
from ...ops.shape import reshape
from ...tensor import Tensor
from .activation import logsigmoid
from .layers import pairwise_distance
from .loss import _check_reduction, _legacy, _reduce


def _triplet_shapes(op: str, anchor: Tensor, positive: Tensor, negative: Tensor) -> None:
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ShapeError(f"{op}: anchor {format_shape(anchor.shape)}, positive "
                         f"{format_shape(positive.shape)} and negative "
                         f"{format_shape(negative.shape)} must have the same number of dimensions")


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average: None = None, reduce: None = None,
                        reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` the ``p``-norm pairwise distance (``eps``
    added to the difference); ``swap`` uses ``min(d(a, n), d(p, n))`` as the negative distance.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> a, pos, neg = bp.tensor([[0., 0.]]), bp.tensor([[0., 1.]]), bp.tensor([[3., 0.]])
    >>> round(F.triplet_margin_loss(a, pos, neg, margin=3.0).item(), 4)
    1.0
    """
    op = "triplet_margin_loss"
    _legacy(op, size_average, reduce)
    _check_reduction(op, reduction)
    _triplet_shapes(op, anchor, positive, negative)
    if anchor.ndim not in (1, 2):
        raise ShapeError(f"{op}: expected 1-D (D,) or 2-D (N, D) inputs, got anchor of shape "
                         f"{format_shape(anchor.shape)}")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(clamp(d_pos - d_neg + margin, 0.0), reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Callable[[Tensor, Tensor], Tensor]
                                      | None = None,
                                      margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` for any ``distance_function`` (default:
    ``pairwise_distance``); ``swap`` as in ``triplet_margin_loss``.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> a, pos, neg = bp.tensor([[0., 0.]]), bp.tensor([[0., 1.]]), bp.tensor([[3., 0.]])
    >>> F.triplet_margin_with_distance_loss(a, pos, neg, distance_function=lambda u, v:
    ...                                     ((u - v) ** 2).sum(1), margin=9.0).item()
    1.0
    """
    op = "triplet_margin_with_distance_loss"
    _check_reduction(op, reduction)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    _triplet_shapes(op, anchor, positive, negative)
    distance = pairwise_distance if distance_function is None else distance_function
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = minimum(d_neg, distance(positive, negative))
    return _reduce(clamp(d_pos - d_neg + margin, 0.0), reduction)


def _class_index_target(op: str, input: Tensor, target: Any) -> np.ndarray:
    """``(N,)`` class indices in ``[0, C)`` for an ``(N, C)`` input; one index, shaped ``()`` or
    ``(1,)``, for a ``(C,)`` input (a 0-d input is one class)."""
    if input.ndim > 2 or (input.ndim and input.shape[-1] == 0):
        raise ShapeError(f"{op}: expected a non-empty (N, C) or (C,) input, got "
                         f"{format_shape(input.shape)}")
    y = backend.array_of(target)
    if input.ndim == 2 and tuple(y.shape) != input.shape[:1] or input.ndim < 2 and y.size != 1:
        raise ShapeError(f"{op}: target of shape {format_shape(y.shape)} must have shape "
                         f"{format_shape(input.shape[:-1])} for input of shape "
                         f"{format_shape(input.shape)}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold class indices (integers), got {y.dtype}")
    classes = input.shape[-1] if input.ndim else 1
    if y.size and (int(y.min()) < 0 or int(y.max()) >= classes):
        raise IndexError(f"{op}: target values must be in [0, {classes}), got "
                         f"{y.min()}..{y.max()}")
    return y


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average: None = None,
                      reduce: None = None, reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: per sample ``sum_{i != y} w[y] max(0, margin - x[y] + x[i])**p
    / C`` for class-index targets ``y`` (``p`` is 1 or 2).

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> round(F.multi_margin_loss(bp.tensor([[0.1, 0.2, 0.4, 0.8]]), bp.tensor([3])).item(), 4)
    0.325
    """
    op = "multi_margin_loss"
    _legacy(op, size_average, reduce)
    _check_reduction(op, reduction)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 are supported, got {p}")
    y = _class_index_target(op, input, target)
    classes = input.shape[-1] if input.ndim else 1
    rows = reshape(input, (-1, classes))
    flat = y.reshape(-1, 1).astype(np.int64)
    classes_row = backend.arange(classes, like=flat)
    xy = gather(rows, 1, flat)
    terms = clamp(rows - xy + margin, 0.0)
    if p == 2:
        terms = terms * terms
    if weight is not None:
        w = backend.array_of(weight)
        if w.shape != (classes,):
            raise ShapeError(f"{op}: weight of shape {format_shape(w.shape)} must have one entry "
                             f"per class, ({classes},)")
        terms = terms * gather(weight, 0, flat.reshape(-1)).reshape(-1, 1)
    # The target's own class is left out (its term would be margin**p and carry no gradient).
    other = classes_row != flat
    loss = sum(where(other, terms, 0.0), 1) / classes
    return _reduce(reshape(loss, y.shape), reduction)  # a (C,) input's loss has the target's shape


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: None = None,
                           reduce: None = None, reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss: per sample ``sum_j sum_{i not a target} max(0, 1 - (x[y_j] -
    x[i])) / C``, where the targets ``y_j`` are the leading entries of each ``target`` row up to
    the first -1.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> x = bp.tensor([[0.1, 0.2, 0.4, 0.8]])
    >>> round(F.multilabel_margin_loss(x, bp.tensor([[3, 0, -1, 1]])).item(), 4)
    0.85
    """
    op = "multilabel_margin_loss"
    _legacy(op, size_average, reduce)
    _check_reduction(op, reduction)
    if input.ndim > 2:
        raise ShapeError(f"{op}: expected a (N, C) or (C,) input, got "
                         f"{format_shape(input.shape)}")
    y = backend.array_of(target)
    if tuple(y.shape) != input.shape:
        raise ShapeError(f"{op}: target of shape {format_shape(y.shape)} must have the input's "
                         f"shape {format_shape(input.shape)}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold class indices (integers), got {y.dtype}")
    classes = input.shape[-1] if input.ndim else 1  # a 0-d input is one class
    xp = backend.xp_of(y)
    labels = y.reshape(-1, classes).astype(np.int64)
    # A slot counts while no -1 has been seen in its row.
    valid = xp.cumprod(labels != -1, axis=1).astype(bool)
    if bool((((labels < 0) | (labels >= classes)) & valid).any()):
        raise IndexError(f"{op}: target values must be in [0, {classes}) before the first -1")
    slots = xp.where(valid, labels, 0)
    is_target = (valid[:, :, None] & (slots[:, :, None] == backend.arange(classes, like=y))).any(1)
    rows = reshape(input, (-1, classes))
    xy = gather(rows, 1, slots)  # (N, slot)
    # (N, slot, class): one hinge per (target slot, non-target class) pair.
    hinge = clamp(reshape(rows, (-1, 1, classes)) - reshape(xy, (-1, classes, 1)) + 1.0, 0.0)
    pairs = valid[:, :, None] & ~is_target[:, None, :]
    loss = sum(where(pairs, hinge, 0.0), (1, 2)) / classes
    return _reduce(reshape(loss, input.shape[:-1]), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: None = None, reduce: None = None,
                                reduction: str = "mean") -> Tensor:
    """Per-class logistic loss ``-(y log sigmoid(x) + (1 - y) log sigmoid(-x))``, weighted by
    ``weight`` and averaged over the classes (the last dim), then reduced over samples.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> round(F.multilabel_soft_margin_loss(bp.tensor([[0., 0.]]), bp.tensor([[1., 0.]])).item(), 4)
    0.6931
    """
    op = "multilabel_soft_margin_loss"
    _legacy(op, size_average, reduce)
    _check_reduction(op, reduction)
    if input.ndim == 0 or tuple(target.shape) != input.shape:
        raise ShapeError(f"{op}: target of shape {format_shape(target.shape)} must have the "
                         f"input's shape {format_shape(input.shape)} (at least 1-D)")
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    return _reduce(sum(loss, class_dim) / input.shape[class_dim], reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average: None = None, reduce: None = None,
                         reduction: str = "mean") -> Tensor:
    """``x`` where ``target == 1``, ``max(0, margin - x)`` where ``target == -1`` (any other
    target value takes both terms, as in PyTorch).

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> loss = F.hinge_embedding_loss(bp.tensor([0.3, 0.4]), bp.tensor([1., -1.]), reduction="none")
    >>> [round(v, 4) for v in loss.tolist()]
    [0.3, 0.6]
    """
    op = "hinge_embedding_loss"
    _legacy(op, size_average, reduce)
    _check_reduction(op, reduction)
    try:
        np.broadcast_shapes(input.shape, tuple(target.shape))
    except ValueError:
        raise ShapeError(f"{op}: target of shape {format_shape(target.shape)} does not "
                         f"broadcast with input of shape {format_shape(input.shape)}") from None
    y = backend.array_of(target)
    loss = where(y != 1, clamp(margin - input, 0.0), 0.0) + where(y != -1, input, 0.0)
    return _reduce(loss, reduction)


__all__ = [
    "hinge_embedding_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]
