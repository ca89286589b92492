"""Op-table rows for the CTC and margin losses (backprop/nn/functional/ctc.py and
loss_margin.py). The NumPy references are written the plain way (loops, brute force)."""

from __future__ import annotations

import itertools

import numpy as np

import backprop as bp
import backprop.nn.functional as F

from .nn_loss import _each_reduction, _np_log_softmax, _np_reduce, _torch_fn
from .spec import ErrorInput, OpSpec, Sample, uniform

# -- CTC ------------------------------------------------------------------------------------------

def _np_ctc(x, targets, input_lengths, target_lengths, blank=0, reduction="mean",
            zero_infinity=False):
    """Every alignment enumerated: the loss is -log of the summed path probabilities of the
    paths that collapse (merge repeats, drop blanks) to the target."""
    log_probs = _np_log_softmax(x, 2)
    losses = []
    for n, (steps, length) in enumerate(zip(input_lengths, target_lengths)):
        target = tuple(targets[n, :length]) if targets.ndim == 2 else tuple(
            targets[sum(target_lengths[:n]):sum(target_lengths[:n]) + length])
        scores = []
        for path in itertools.product(range(x.shape[2]), repeat=int(steps)):
            collapsed = tuple(c for i, c in enumerate(path)
                              if c != blank and (i == 0 or c != path[i - 1]))
            if collapsed == target:
                scores.append(sum(log_probs[t, n, c] for t, c in enumerate(path)))
        loss = -np.logaddexp.reduce(scores) if scores else np.inf
        losses.append(0.0 if zero_infinity and loss == np.inf else loss)
    losses = np.array(losses)
    if reduction == "mean":
        return (losses / np.maximum(target_lengths, 1)).mean()
    return _np_reduce(losses, reduction)


def _ctc_samples(rng, reduction):
    x = uniform(rng, (4, 3, 3))
    padded = np.array([[1, 2], [2, 2], [1, 0]])
    return [Sample((x, padded, np.array([4, 3, 2]), np.array([2, 2, 1])), name="padded"),
            Sample((x, np.array([1, 2, 2, 2, 1]), np.array([4, 4, 2]), np.array([2, 2, 1])),
                   name="concatenated"),
            Sample((x, np.array([[1, 0], [0, 1], [0, 0]]), np.array([4, 4, 2]),
                    np.array([1, 2, 2])), {"blank": 2, "zero_infinity": True},
                   name="blank-2-infinite"),
            Sample((x, padded, np.array([4, 1, 3]), np.array([0, 1, 1])), name="empty-target")]


def _ctc_op(lib_f):
    return lambda x, *args, **kw: lib_f.ctc_loss(lib_f.log_softmax(x, 2), *args, **kw)


def _ctc_errors():
    lp = bp.zeros(4, 2, 3)
    return [ErrorInput(lambda: F.ctc_loss(lp, bp.tensor([[1], [0]]), [4, 4], [1, 1]),
                       IndexError, r"ctc_loss: target labels must be in \[0, 3\) and differ "
                       r"from blank=0"),
            ErrorInput(lambda: F.ctc_loss(lp, bp.tensor([[1], [1]]), [5, 4], [1, 1]),
                       ValueError, r"ctc_loss: input_lengths must be in \[1, 4\]"),
            ErrorInput(lambda: F.ctc_loss(lp, bp.tensor([[1], [1]]), [4], [1, 1]),
                       bp.ShapeError, r"ctc_loss: input_lengths must have one entry per batch "
                       r"element \(2\), got 1"),
            ErrorInput(lambda: F.ctc_loss(lp, bp.tensor([1, 2]), [4, 4], [1, 2]),
                       bp.ShapeError, r"ctc_loss: concatenated targets of length 2 must have "
                       r"sum\(target_lengths\) = 3 entries")]


# -- triplet losses -------------------------------------------------------------------------------

def _np_distance(a, b, p=2.0, eps=1e-6):
    return (np.abs(a - b + eps) ** p).sum(-1) ** (1 / p)


def _np_triplet(a, pos, neg, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
    d_neg = _np_distance(a, neg, p, eps)
    if swap:
        d_neg = np.minimum(d_neg, _np_distance(pos, neg, p, eps))
    return _np_reduce(np.maximum(margin + _np_distance(a, pos, p, eps) - d_neg, 0.0), reduction)


def _triplet_samples(rng, reduction):
    def three(*shape):
        return tuple(uniform(rng, shape) for _ in range(3))

    return [Sample(three(4, 3), name="basic"),
            Sample(three(4, 3), {"p": 1.0, "swap": True, "margin": 0.5}, name="p1-swap"),
            Sample(three(4, 3), {"p": 3.0, "eps": 1e-3}, name="p3"),
            Sample(three(3), {"margin": 2.0}, name="unbatched")]


def _squared(u, v):
    return ((u - v) ** 2).sum(-1)


def _np_triplet_distance(a, pos, neg, margin=1.0, swap=False, reduction="mean"):
    d_neg = _squared(a, neg)
    if swap:
        d_neg = np.minimum(d_neg, _squared(pos, neg))
    return _np_reduce(np.maximum(margin + _squared(a, pos) - d_neg, 0.0), reduction)


def _triplet_distance_samples(rng, reduction):
    return [Sample(tuple(uniform(rng, (4, 3)) for _ in range(3)), {"swap": True, "margin": 2.0},
                   name="squared-swap")]


def _triplet_errors():
    return [ErrorInput(lambda: F.triplet_margin_loss(bp.ones(2, 3), bp.ones(2, 3), bp.ones(3)),
                       bp.ShapeError, r"triplet_margin_loss: anchor \(2, 3\), positive \(2, 3\) "
                       r"and negative \(3,\) must have the same number of dimensions"),
            ErrorInput(lambda: F.triplet_margin_with_distance_loss(
                bp.ones(2), bp.ones(2), bp.ones(2), margin=0.0), ValueError,
                r"triplet_margin_with_distance_loss: margin must be greater than 0, got 0.0")]


# -- multi-class margin losses --------------------------------------------------------------------

def _np_multi_margin(x, y, p=1, margin=1.0, weight=None, reduction="mean"):
    rows, labels = x.reshape(-1, x.shape[-1]), np.asarray(y).reshape(-1)
    losses = []
    for row, label in zip(rows, labels):
        total = 0.0
        for i, value in enumerate(row):
            if i != label:
                term = max(0.0, margin - row[label] + value) ** p
                total += term * (1.0 if weight is None else weight[label])
        losses.append(total / x.shape[-1])
    return _np_reduce(np.array(losses).reshape(x.shape[:-1]), reduction)


def _multi_margin_samples(rng, reduction):
    y = np.array([0, 3, 1, 3, 2])
    return [Sample((uniform(rng, (5, 4)), y), name="p1"),
            Sample((uniform(rng, (5, 4)), y), {"p": 2, "margin": 0.7}, name="p2"),
            Sample((uniform(rng, (5, 4)), y, rng.uniform(0.5, 2, 4)), {"p": 2},
                   grad_args=(0,), name="weight"),
            Sample((uniform(rng, (4,)), np.array(2)), name="unbatched")]


def _np_multilabel_margin(x, y, reduction="mean"):
    rows, labels = x.reshape(-1, x.shape[-1]), y.reshape(-1, x.shape[-1])
    losses = []
    for row, label in zip(rows, labels):
        targets = []
        for j in label:
            if j == -1:
                break
            targets.append(j)
        total = sum(max(0.0, 1.0 - (row[j] - row[i])) for j in targets
                    for i in range(len(row)) if i not in targets)
        losses.append(total / x.shape[-1])
    return _np_reduce(np.array(losses).reshape(x.shape[:-1]), reduction)


def _multilabel_margin_samples(rng, reduction):
    labels = np.array([[3, 0, -1, 1], [1, 2, 3, 0], [-1, 0, 0, 0], [2, 2, -1, 0]])
    return [Sample((uniform(rng, (4, 4)), labels), name="rows"),
            Sample((uniform(rng, (4,)), np.array([1, 3, -1, 0])), name="unbatched")]


def _np_multilabel_soft_margin(x, y, weight=None, reduction="mean"):
    loss = np.logaddexp(0, -x) * y + np.logaddexp(0, x) * (1 - y)
    if weight is not None:
        loss = loss * weight
    return _np_reduce(loss.mean(-1), reduction)


def _multilabel_soft_margin_samples(rng, reduction):
    y = (rng.random((3, 4)) > 0.5).astype(float)
    return [Sample((uniform(rng, (3, 4), -3, 3), y), grad_args=(0,), name="rows"),
            Sample((uniform(rng, (3, 4)), y, rng.uniform(0.5, 2, 4)), grad_args=(0,),
                   name="weight")]


def _np_hinge_embedding(x, y, margin=1.0, reduction="mean"):
    loss = np.where(y != 1, np.maximum(margin - x, 0.0), 0.0) + np.where(y != -1, x, 0.0)
    return _np_reduce(loss, reduction)


def _hinge_embedding_samples(rng, reduction):
    y = np.where(rng.random((3, 4)) > 0.5, 1.0, -1.0)
    y[0, 0] = 0.5  # neither 1 nor -1: both terms, as in PyTorch
    return [Sample((uniform(rng, (3, 4), -2, 2), y), {"margin": 0.8}, grad_args=(0,),
                   name="signs")]


def _multi_errors():
    return [ErrorInput(lambda: F.multi_margin_loss(bp.ones(2, 3), bp.tensor([0, 3])), IndexError,
                       r"multi_margin_loss: target values must be in \[0, 3\)"),
            ErrorInput(lambda: F.multi_margin_loss(bp.ones(2, 3), bp.tensor([0, 1]), p=3),
                       ValueError, r"multi_margin_loss: only p == 1 and p == 2 are supported"),
            ErrorInput(lambda: F.multi_margin_loss(bp.ones(2, 3), bp.tensor([0])), bp.ShapeError,
                       r"multi_margin_loss: target of shape \(1,\) must have shape \(2,\)"),
            ErrorInput(lambda: F.multilabel_margin_loss(bp.ones(2, 3), bp.tensor([[0, 5, -1],
                                                                                  [0, 1, 2]])),
                       IndexError, r"multilabel_margin_loss: target values must be in \[0, 3\)"),
            ErrorInput(lambda: F.multilabel_soft_margin_loss(bp.ones(2, 3), bp.ones(3)),
                       bp.ShapeError, r"multilabel_soft_margin_loss: target of shape \(3,\) "
                       r"must have the input's shape \(2, 3\)")]


ROWS = [
    # PyTorch's gradient is with respect to the logits of a log_softmax (see ctc.py), so the
    # rows feed logits through log_softmax, where finite differences and PyTorch agree.
    OpSpec("ctc_loss", _ctc_op(F), _np_ctc, _each_reduction(_ctc_samples),
           torch=lambda torch, *a, **kw: _ctc_op(torch.nn.functional)(*a, **kw),
           gradgrad=False, error_inputs=_ctc_errors),
    OpSpec("triplet_margin_loss", F.triplet_margin_loss, _np_triplet,
           _each_reduction(_triplet_samples), torch=_torch_fn("triplet_margin_loss"), kinks=True,
           error_inputs=_triplet_errors),
    OpSpec("triplet_margin_with_distance_loss",
           lambda *a, **kw: F.triplet_margin_with_distance_loss(*a, distance_function=_squared,
                                                                **kw),
           _np_triplet_distance, _each_reduction(_triplet_distance_samples),
           torch=lambda torch, *a, **kw: torch.nn.functional.triplet_margin_with_distance_loss(
               *a, distance_function=_squared, **kw), kinks=True),
    OpSpec("triplet_margin_with_distance_loss", F.triplet_margin_with_distance_loss,
           lambda a, pos, neg, **kw: _np_triplet(a, pos, neg, **kw),
           _each_reduction(lambda rng, r: _triplet_samples(rng, r)[3:]),
           torch=_torch_fn("triplet_margin_with_distance_loss"), kinks=True),
    OpSpec("multi_margin_loss", lambda x, y, w=None, **kw: F.multi_margin_loss(x, y, weight=w,
                                                                              **kw),
           lambda x, y, w=None, **kw: _np_multi_margin(x, y, weight=w, **kw),
           _each_reduction(_multi_margin_samples),
           torch=lambda torch, x, y, w=None, **kw: torch.nn.functional.multi_margin_loss(
               x, y, weight=w, **kw),
           kinks=True, error_inputs=_multi_errors),
    OpSpec("multilabel_margin_loss", F.multilabel_margin_loss, _np_multilabel_margin,
           _each_reduction(_multilabel_margin_samples), torch=_torch_fn("multilabel_margin_loss"),
           kinks=True),
    OpSpec("multilabel_soft_margin_loss", F.multilabel_soft_margin_loss,
           _np_multilabel_soft_margin, _each_reduction(_multilabel_soft_margin_samples),
           torch=_torch_fn("multilabel_soft_margin_loss")),
    OpSpec("hinge_embedding_loss", F.hinge_embedding_loss, _np_hinge_embedding,
           _each_reduction(_hinge_embedding_samples), torch=_torch_fn("hinge_embedding_loss"),
           kinks=True),
]
