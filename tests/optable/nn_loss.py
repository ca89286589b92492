"""Op-table rows for bp.nn.functional: the fused losses of nn/functional/loss.py (the composed
ones of loss_composed.py: nn_loss_composed.py).

Weights are positional args of the rows' calls (so they become tensors) and are left out of
``grad_args`` where PyTorch defines no gradient for them. Class-index targets are int64 arrays.
"""

from __future__ import annotations

import warnings

import numpy as np

import backprop as bp
import backprop.nn.functional as F

from .spec import ErrorInput, OpSpec, Sample, uniform

REDUCTIONS = ("mean", "sum", "none")


def _np_reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _torch_fn(name):
    """PyTorch's F.<name>, called quietly."""

    def call(torch, *args, **kwargs):
        fn = getattr(torch.nn.functional, name)
        with warnings.catch_warnings():  # kl_div's reduction='mean' warning
            warnings.simplefilter("ignore", UserWarning)
            return fn(*args, **kwargs)

    return call


def _each_reduction(make):
    """Samples for every reduction from ``make(rng, reduction) -> list of Samples``."""

    def samples(rng):
        result = []
        for reduction in REDUCTIONS:
            for s in make(rng, reduction):
                s.kwargs = {**s.kwargs, "reduction": reduction}
                s.name = f"{s.name}-{reduction}" if s.name else reduction
                result.append(s)
        return result

    return samples


# -- cross entropy and nll ----------------------------------------------------------------------------

def _np_log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _np_class_loss(logp, t, weight, ignore_index, reduction, label_smoothing):
    """Loss per target from log-probabilities with the class dim last."""
    classes = logp.shape[-1]
    w = np.ones(classes) if weight is None else weight
    keep = t != ignore_index
    safe = np.where(keep, t, 0)
    picked = np.take_along_axis(logp, safe[..., None], -1)[..., 0]
    loss = -w[safe] * picked * keep
    if label_smoothing:
        smooth = -(logp * w).sum(-1) * keep
        loss = (1 - label_smoothing) * loss + label_smoothing / classes * smooth
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    norm = (w[safe] * keep).sum()
    return loss.sum() / norm if norm else np.nan  # nothing to average: nan, as in PyTorch


def _np_cross_entropy(x, t, weight=None, ignore_index=-100, reduction="mean",
                      label_smoothing=0.0):
    axis = 1 if x.ndim > 1 else 0
    classes = x.shape[axis]
    logp = _np_log_softmax(x, axis)
    if t.dtype.kind == "f":  # class probabilities
        q = t * (1 - label_smoothing) + label_smoothing / classes
        w = 1.0 if weight is None else weight.reshape((classes,) + (1,) * (x.ndim - axis - 1))
        loss = -(logp * q * w).sum(axis)
        if reduction == "mean":
            return loss.sum() / (x.size / classes)
        return _np_reduce(loss, reduction)
    return _np_class_loss(np.moveaxis(logp, axis, -1), t, weight, ignore_index, reduction,
                          label_smoothing)


def _np_nll_loss(x, t, weight=None, ignore_index=-100, reduction="mean"):
    axis = 1 if x.ndim > 1 else 0
    return _np_class_loss(np.moveaxis(x, axis, -1), t, weight, ignore_index, reduction, 0.0)


def _ce_op(name):
    fn = getattr(F, name)
    return lambda x, t, w=None, **kw: fn(x, t, w, **kw)


def _ce_torch(name):
    return lambda torch, x, t, w=None, **kw: getattr(torch.nn.functional, name)(x, t, w, **kw)


def _class_index_samples(smoothing):
    def make(rng, reduction):
        extra = {"label_smoothing": 0.2} if smoothing else {}
        x = uniform(rng, (3, 4))
        w = rng.uniform(0.5, 2, 4)
        return [
            Sample((x, np.array([0, 3, 1])), extra, grad_args=(0,), name="basic"),
            Sample((x, np.array([2, 1, 1]), w), extra, grad_args=(0,), name="weight"),
            Sample((x, np.array([2, -100, 0])), extra, grad_args=(0,), name="ignore-default"),
            Sample((x, np.array([2, 1, 3]), w), {**extra, "ignore_index": 1}, grad_args=(0,),
                   name="ignore-class-weight"),
            Sample((uniform(rng, (2, 3, 2)), np.array([[0, 2], [1, 1]])), extra,
                   grad_args=(0,), name="kdim"),
            Sample((uniform(rng, (2, 3, 2)), np.array([[0, 2], [-100, 1]]), w[:3]), extra,
                   grad_args=(0,), name="kdim-weight-ignore"),
            Sample((uniform(rng, (4,)), np.array(2)), extra, grad_args=(0,), name="unbatched"),
            Sample((np.array([[1000.0, -1000.0, 0.0], [5.0, 5.0, 5.0]]), np.array([1, 2])),
                   extra, grad_args=(0,), name="large-logits"),
            *_nothing_kept_samples(x, w, extra),
        ]

    return make


def _nothing_kept_samples(x, w, extra=None):
    """Every target ignored (an all-padding batch): 'mean' is 0 / 0, a nan loss, but PyTorch's
    gradient is zero, not nan (issue 15). Targets whose class weights are all 0 also divide by
    0, and there PyTorch's gradient is nan where the targets are (ignored ones still 0). A nan
    loss has no directional derivative to check, hence on_kink."""
    zero_weight = w.copy()
    zero_weight[[0, 2]] = 0.0
    extra = extra or {}
    return [
        Sample((x, np.array([-100, -100, -100])), extra, grad_args=(0,), on_kink=True,
               name="issue-all-ignored"),
        Sample((x, np.array([-100, -100, -100]), w), extra, grad_args=(0,), on_kink=True,
               name="all-ignored-weight"),
        Sample((x, np.array([1, 1, 1])), {**extra, "ignore_index": 1}, grad_args=(0,),
               on_kink=True, name="all-ignored-index"),
        Sample((x[:2, :3].reshape(2, 3, 1).repeat(2, 2), np.full((2, 2), -100)), extra,
               grad_args=(0,), on_kink=True, name="all-ignored-kdim"),
        Sample((x, np.array([0, 2, 2]), zero_weight), extra, grad_args=(0,), on_kink=True,
               name="zero-weight-targets"),
        Sample((x, np.array([0, -100, 2]), zero_weight), extra, grad_args=(0,), on_kink=True,
               name="zero-weight-and-ignored"),
    ]


def _nll_samples(rng, reduction):
    logp = _np_log_softmax(uniform(rng, (3, 4)), 1)
    w = rng.uniform(0.5, 2, 4)
    return [
        Sample((logp, np.array([0, 3, 1])), grad_args=(0,), name="basic"),
        Sample((logp, np.array([2, 1, 1]), w), grad_args=(0,), name="weight"),
        Sample((logp, np.array([2, -100, 0]), w), grad_args=(0,), name="weight-ignore"),
        Sample((uniform(rng, (2, 3, 2)), np.array([[0, 2], [1, 1]])), {"ignore_index": 2},
               grad_args=(0,), name="kdim-ignore"),
        Sample((uniform(rng, (4,)), np.array(3)), grad_args=(0,), name="unbatched"),
        *_nothing_kept_samples(logp, w),
    ]


def _probability_samples(rng, reduction):
    def probs(shape, axis):
        p = rng.uniform(0.1, 1, shape)
        return p / p.sum(axis=axis, keepdims=True)

    x, w = uniform(rng, (3, 4)), rng.uniform(0.5, 2, 4)
    return [
        Sample((x, probs((3, 4), 1)), grad_args=(0, 1), name="probs"),
        Sample((x, probs((3, 4), 1), w), {"label_smoothing": 0.3}, grad_args=(0, 1),
               name="probs-weight-smoothing"),
        Sample((uniform(rng, (2, 3, 2)), probs((2, 3, 2), 1)), {"label_smoothing": 0.1},
               grad_args=(0, 1), name="probs-kdim"),
        Sample((uniform(rng, (4,)), probs((4,), 0)), grad_args=(0, 1), name="probs-unbatched"),
    ]


def _class_errors(name):
    fn = getattr(F, name)

    def cases():
        x = bp.zeros(3, 4)
        result = [
            ErrorInput(lambda: fn(x, bp.tensor([0, 1])), bp.ShapeError,
                       rf"{name}: target of shape \(2,\) does not fit input of shape \(3, 4\): "
                       r"class indices need shape \(3,\)"),
            ErrorInput(lambda: fn(x, bp.tensor([0, 4, 1])), IndexError,
                       rf"{name}: target class 4 is out of range for 4 classes \(expected "
                       r"values in \[0, 3\], or ignore_index=-100\)"),
            ErrorInput(lambda: fn(x, bp.tensor([0, -1, 1])), IndexError,
                       rf"{name}: target class -1 is out of range for 4 classes"),
            ErrorInput(lambda: fn(x, bp.tensor([0, 5, -100]), ignore_index=5), IndexError,
                       rf"{name}: target class -100 is out of range for 4 classes"),
            ErrorInput(lambda: fn(x, bp.tensor([0.0, 1.0, 2.0])), bp.DTypeError,
                       rf"{name}: class-index target must be an integer \(int64\) tensor, got "
                       r"float32 of shape \(3,\)"),
            ErrorInput(lambda: fn(x, bp.tensor([0, 1, 2]), bp.ones(3)), bp.ShapeError,
                       rf"{name}: weight of shape \(3,\) must be a vector with one entry per "
                       r"class, \(4,\)"),
            ErrorInput(lambda: fn(x, bp.tensor([0, 1, 2]), reduction="batchmean"), ValueError,
                       rf"{name}: 'batchmean' is not a valid value for reduction"),
            ErrorInput(lambda: fn(bp.zeros(4), bp.tensor([1])), bp.ShapeError,
                       rf"{name}: target of shape \(1,\) does not fit input of shape \(4,\)"),
            ErrorInput(lambda: fn(bp.tensor([[1, 2]]), bp.tensor([0])), bp.DTypeError,
                       rf"{name}: input must be a floating point tensor, got int64"),
        ]
        if name == "cross_entropy":
            result += [
                ErrorInput(lambda: fn(x, bp.zeros(3, 4, dtype=bp.int64)), bp.DTypeError,
                           r"cross_entropy: target of shape \(3, 4\) has the input's shape, so "
                           r"it is read as class probabilities, which must be floating point"),
                ErrorInput(lambda: fn(x, bp.tensor([0, 1, 2]), label_smoothing=1.5), ValueError,
                           r"cross_entropy: label_smoothing must be in \[0, 1\], got 1.5"),
            ]
        return result

    return cases


# -- binary cross entropy ---------------------------------------------------------------------------

def _np_bce(x, t, weight=None, reduction="mean"):
    loss = -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log1p(-x), -100))
    if weight is not None:
        loss = loss * weight
    return _np_reduce(loss, reduction)


def _bce_samples(rng, reduction):
    x, t = rng.uniform(0.05, 0.95, (2, 3)), rng.uniform(0, 1, (2, 3))
    return [Sample((x, t), name="2x3"),
            Sample((x, t, rng.uniform(0.5, 2, (3,))), grad_args=(0, 1), name="weight"),
            Sample((rng.uniform(0.05, 0.95, (4,)), (rng.uniform(0, 1, 4) > 0.5) * 1.0),
                   name="hard-targets")]


def _np_bce_logits(x, t, weight=None, pos_weight=None, reduction="mean"):
    log_sigmoid = -np.logaddexp(0, -x)  # log(sigmoid(x)), log(1 - sigmoid(x)) = log_sigmoid(-x)
    pw = 1.0 if pos_weight is None else pos_weight
    loss = -(pw * t * log_sigmoid + (1 - t) * -np.logaddexp(0, x))
    if weight is not None:
        loss = loss * weight
    return _np_reduce(loss, reduction)


def _bce_logits_samples(rng, reduction):
    x, t = uniform(rng, (2, 3), -3, 3), rng.uniform(0, 1, (2, 3))
    return [Sample((x, t), name="2x3"),
            Sample((x, t, rng.uniform(0.5, 2, (2, 1))), grad_args=(0, 1), name="weight"),
            Sample((x, t, None, rng.uniform(0.5, 3, (3,))), grad_args=(0, 1),
                   name="pos-weight"),
            Sample((x, t, rng.uniform(0.5, 2, (3,)), rng.uniform(0.5, 3, (3,))),
                   grad_args=(0, 1), name="both-weights"),
            Sample((np.array([50.0, -50.0, 0.0]), np.array([0.0, 1.0, 0.5])), name="large")]


def _bce_errors():
    return [
        ErrorInput(lambda: F.binary_cross_entropy(bp.tensor([0.5, 1.5]), bp.tensor([0., 1.])),
                   ValueError, r"binary_cross_entropy: input values must be probabilities in "
                   r"\[0, 1\], found 1.5"),
        ErrorInput(lambda: F.binary_cross_entropy(bp.tensor([0.5, 0.5]), bp.tensor([1.])),
                   bp.ShapeError, r"binary_cross_entropy: target of shape \(1,\) must have the "
                   r"input's shape \(2,\)"),
        ErrorInput(lambda: F.binary_cross_entropy(bp.tensor([0.5, 0.5]), bp.tensor([1, 0])),
                   bp.DTypeError, r"binary_cross_entropy: target must be a floating point "
                   r"tensor, got int64"),
        ErrorInput(lambda: F.binary_cross_entropy(bp.full((2, 3), 0.5), bp.ones(2, 3),
                                                  bp.ones(2)),
                   bp.ShapeError, r"binary_cross_entropy: weight of shape \(2,\) does not "
                   r"broadcast with input of shape \(2, 3\)"),
    ]


def _bce_logits_errors():
    op = "binary_cross_entropy_with_logits"
    return [
        ErrorInput(lambda: F.binary_cross_entropy_with_logits(bp.ones(2, 3), bp.ones(3)),
                   bp.ShapeError, rf"{op}: target of shape \(3,\) must have the input's shape "
                   r"\(2, 3\)"),
        ErrorInput(lambda: F.binary_cross_entropy_with_logits(bp.ones(2, 3), bp.ones(2, 3),
                                                              pos_weight=bp.ones(2)),
                   bp.ShapeError, rf"{op}: pos_weight of shape \(2,\) does not broadcast"),
        ErrorInput(lambda: F.binary_cross_entropy_with_logits(bp.ones(2), bp.ones(2),
                                                              reduction="batchmean"),
                   ValueError, rf"{op}: 'batchmean' is not a valid value for reduction"),
    ]


ROWS = [
    OpSpec("cross_entropy", _ce_op("cross_entropy"), _np_cross_entropy,
           _each_reduction(_class_index_samples(False)), torch=_ce_torch("cross_entropy"),
           error_inputs=_class_errors("cross_entropy")),
    OpSpec("cross_entropy", _ce_op("cross_entropy"), _np_cross_entropy,
           _each_reduction(_class_index_samples(True)), torch=_ce_torch("cross_entropy")),
    OpSpec("cross_entropy", _ce_op("cross_entropy"), _np_cross_entropy,
           _each_reduction(_probability_samples), torch=_ce_torch("cross_entropy")),
    OpSpec("nll_loss", _ce_op("nll_loss"), _np_nll_loss, _each_reduction(_nll_samples),
           torch=_ce_torch("nll_loss"), error_inputs=_class_errors("nll_loss")),
    OpSpec("binary_cross_entropy", _ce_op("binary_cross_entropy"), _np_bce,
           _each_reduction(_bce_samples), torch=_ce_torch("binary_cross_entropy"),
           error_inputs=_bce_errors),
    OpSpec("binary_cross_entropy_with_logits",
           lambda x, t, w=None, pw=None, **kw: F.binary_cross_entropy_with_logits(
               x, t, w, pos_weight=pw, **kw),
           _np_bce_logits, _each_reduction(_bce_logits_samples),
           torch=lambda torch, x, t, w=None, pw=None, **kw:
           torch.nn.functional.binary_cross_entropy_with_logits(x, t, w, pos_weight=pw, **kw),
           error_inputs=_bce_logits_errors),
]
