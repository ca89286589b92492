"""Op-table rows for bp.nn.functional: the losses composed from bp ops
(backprop/nn/functional/loss_composed.py).

Weights are positional args of the rows' calls (so they become tensors) and are left out of
``grad_args`` where PyTorch defines no gradient for them.
"""

from __future__ import annotations

import numpy as np

import backprop as bp
import backprop.nn.functional as F

from .nn_loss import _each_reduction, _np_log_softmax, _np_reduce, _torch_fn
from .spec import ErrorInput, OpSpec, Sample, uniform

# -- regression losses ------------------------------------------------------------------------------

def _np_pointwise(kind):
    def ref(x, t, weight=None, reduction="mean", beta=1.0, delta=1.0):
        d = x - t
        if kind == "mse_loss":
            loss = d * d
        elif kind == "l1_loss":
            loss = np.abs(d)
        elif kind == "smooth_l1_loss":
            loss = np.abs(d) if beta == 0 else np.where(np.abs(d) < beta, 0.5 * d * d / beta,
                                                        np.abs(d) - 0.5 * beta)
        else:
            loss = np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))
        if weight is None:
            return _np_reduce(loss, reduction)
        loss = loss * weight
        if reduction == "mean" and kind in ("mse_loss", "l1_loss"):
            return loss.sum() / weight.sum()
        return _np_reduce(loss, reduction)

    return ref


def _pointwise_samples(extra=None):
    def make(rng, reduction):
        # Differences spread over (-3, 3) so smooth_l1/huber see both of their pieces.
        x, t = uniform(rng, (2, 3), -2, 2), uniform(rng, (2, 3), -1, 1)
        return [Sample((x, t), extra or {}, name="2x3"),
                Sample((uniform(rng, (4,), -2, 2), uniform(rng, (4,))), extra or {},
                       name="vector")]

    return make


def _weighted_samples(rng, reduction):
    return [Sample((uniform(rng, (2, 3)), uniform(rng, (2, 3)), rng.uniform(0.5, 2, (2, 3))),
                   name="weight")]


def _weighted_op(name, **fixed):
    fn = getattr(F, name)
    return lambda x, t, w=None, **kw: fn(x, t, weight=w, **fixed, **kw)


def _weighted_torch(name, **fixed):
    return lambda torch, x, t, w=None, **kw: getattr(torch.nn.functional, name)(
        x, t, weight=w, **fixed, **kw)


def _pointwise_errors(name):
    fn = getattr(F, name)

    def cases():
        return [ErrorInput(lambda: fn(bp.ones(2, 3), bp.ones(4)), bp.ShapeError,
                           rf"{name}: target of shape \(4,\) does not broadcast with input of "
                           r"shape \(2, 3\)"),
                ErrorInput(lambda: fn(bp.ones(2), bp.ones(2), reduction="avg"), ValueError,
                           rf"{name}: 'avg' is not a valid value for reduction"),
                ErrorInput(lambda: fn(bp.ones(2), bp.ones(2), size_average=True), TypeError,
                           rf"{name}: size_average and reduce are deprecated")]

    return cases


def _beta_errors():
    return [ErrorInput(lambda: F.smooth_l1_loss(bp.ones(2), bp.ones(2), beta=-1.0), ValueError,
                       r"smooth_l1_loss: beta must be >= 0, got -1.0"),
            ErrorInput(lambda: F.huber_loss(bp.ones(2), bp.ones(2), delta=0.0), ValueError,
                       r"huber_loss: delta must be > 0, got 0.0"),
            ErrorInput(lambda: F.mse_loss(bp.ones(2, 3), bp.ones(2, 3), weight=bp.ones(3)),
                       bp.ShapeError,
                       r"mse_loss: weight of shape \(3,\) must have the input's shape \(2, 3\)")]


# -- KL divergence ------------------------------------------------------------------------------------

def _np_kl_div(x, t, reduction="mean", log_target=False):
    if log_target:
        loss = np.exp(t) * (t - x)
    else:
        loss = np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0) - t * x
    if reduction == "batchmean":
        return loss.sum() / x.shape[0]
    return _np_reduce(loss, reduction)


def _kl_samples(rng):
    result = []
    for reduction in ("mean", "batchmean", "sum", "none"):
        x = _np_log_softmax(uniform(rng, (3, 4)), 1)
        t = rng.uniform(0.1, 1, (3, 4))
        t /= t.sum(1, keepdims=True)
        result += [Sample((x, t), {"reduction": reduction}, name=f"probs-{reduction}"),
                   Sample((x, np.log(t)), {"reduction": reduction, "log_target": True},
                          name=f"log-target-{reduction}")]
    return result


def _kl_zero_target_samples(rng):
    """A zero target contributes 0 (xlogy); only the input gets a gradient there (PyTorch's
    target gradient at 0 is nan)."""
    t = np.array([[0.0, 0.5, 0.5], [0.25, 0.0, 0.75]])
    return [Sample((uniform(rng, (2, 3)), t), {"reduction": "sum"}, grad_args=(0,),
                   name="zero-target")]


def _kl_errors():
    return [ErrorInput(lambda: F.kl_div(bp.ones(2), bp.ones(2), reduction="avg"), ValueError,
                       r"kl_div: 'avg' is not a valid value for reduction \(expected one of "
                       r"'mean', 'batchmean', 'sum', 'none'\)")]


# -- more losses --------------------------------------------------------------------------------------

def _np_margin_ranking(x1, x2, y, margin=0.0, reduction="mean"):
    return _np_reduce(np.maximum(0.0, -y * (x1 - x2) + margin), reduction)


def _margin_ranking_samples(rng, reduction):
    y = np.array([1.0, -1.0, 1.0, -1.0])
    return [Sample((uniform(rng, (4,)), uniform(rng, (4,)), y), grad_args=(0, 1), name="basic"),
            Sample((uniform(rng, (4,)), uniform(rng, (4,)), y), {"margin": 0.5},
                   grad_args=(0, 1), name="margin"),
            # PyTorch clamps (clamp_min): a NaN difference gets gradient 0, not relu's g.
            Sample((np.array([np.nan, 1.0, 2.0, -1.0]), uniform(rng, (4,)), y),
                   grad_args=(0, 1), name="issue-nan", on_kink=True)]


def _np_soft_margin(x, y, reduction="mean"):
    return _np_reduce(np.logaddexp(0, -y * x), reduction)


def _soft_margin_samples(rng, reduction):
    return [Sample((uniform(rng, (2, 3), -3, 3), np.sign(uniform(rng, (2, 3)))), grad_args=(0,),
                   name="2x3")]


def _np_cosine_embedding(x1, x2, y, margin=0.0, reduction="mean"):
    dot = (x1 * x2).sum(-1)
    cos = dot / np.sqrt(((x1 * x1).sum(-1) + 1e-12) * ((x2 * x2).sum(-1) + 1e-12))
    loss = np.where(y == 1, 1 - cos, 0.0) + np.where(y == -1, np.maximum(cos - margin, 0), 0.0)
    return _np_reduce(loss, reduction)


def _cosine_samples(rng, reduction):
    x1, x2 = uniform(rng, (4, 3)), uniform(rng, (4, 3))
    x2[1] = x1[1] * 0.5  # cos = 1 > margin with target -1: the hinge is active
    return [Sample((x1, x2, np.array([1, -1, -1, 1])), {"margin": -0.2}, name="basic"),
            Sample((uniform(rng, (3,)), uniform(rng, (3,)), np.array(1)), name="unbatched")]


def _np_poisson_nll(x, t, log_input=True, full=False, eps=1e-8, reduction="mean"):
    loss = np.exp(x) - t * x if log_input else x - t * np.log(x + eps)
    if full:
        safe = np.where(t > 1, t, 2.0)
        loss = loss + np.where(t > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe),
                               0.0)
    return _np_reduce(loss, reduction)


def _poisson_samples(rng, reduction):
    t = np.array([[0.0, 0.5, 3.0], [1.0, 2.5, 4.0]])
    return [Sample((uniform(rng, (2, 3)), t), grad_args=(0,), name="log-input"),
            Sample((rng.uniform(0.5, 3, (2, 3)), t), {"log_input": False, "full": True},
                   grad_args=(0,), name="rate-full"),
            Sample((uniform(rng, (2, 3)), rng.uniform(1.5, 4, (2, 3))), {"full": True},
                   name="full-target-grad")]


def _np_gaussian_nll(x, t, var, full=False, eps=1e-6, reduction="mean"):
    var = np.asarray(var, dtype=float)
    if var.shape != x.shape and var.shape == x.shape[:-1]:
        var = var[..., None]
    var = np.maximum(var, eps)
    loss = 0.5 * (np.log(var) + (x - t) ** 2 / var)
    if full:
        loss = loss + 0.5 * np.log(2 * np.pi)
    return _np_reduce(np.broadcast_to(loss, np.broadcast_shapes(loss.shape, x.shape)), reduction)


def _gaussian_samples(rng, reduction):
    x, t = uniform(rng, (2, 3)), uniform(rng, (2, 3))
    return [Sample((x, t, rng.uniform(0.5, 2, (2, 3))), name="full-var"),
            Sample((x, t, rng.uniform(0.5, 2, (2,))), {"full": True}, name="var-per-row"),
            Sample((x, t, rng.uniform(0.5, 2, (2, 1))), name="var-size-1")]


def _more_errors():
    return [
        ErrorInput(lambda: F.margin_ranking_loss(bp.ones(2), bp.ones(2), bp.ones(1, 2)),
                   bp.ShapeError, r"margin_ranking_loss: input1 \(2,\), input2 \(2,\) and "
                   r"target \(1, 2\) must have the same number of dimensions"),
        ErrorInput(lambda: F.cosine_embedding_loss(bp.ones(2, 3), bp.ones(2, 3), bp.ones(3)),
                   bp.ShapeError, r"cosine_embedding_loss: target of shape \(3,\) must have "
                   r"shape \(2,\)"),
        ErrorInput(lambda: F.gaussian_nll_loss(bp.ones(2, 3), bp.ones(2, 3), bp.ones(3, 2)),
                   bp.ShapeError, r"gaussian_nll_loss: var of shape \(3, 2\) does not fit "
                   r"input of shape \(2, 3\)"),
        ErrorInput(lambda: F.gaussian_nll_loss(bp.ones(2), bp.ones(2), bp.tensor([1., -1.])),
                   ValueError, r"gaussian_nll_loss: var has negative entries"),
    ]


def _pointwise_row(name, extra=None, **options):
    return OpSpec(name, _weighted_op(name) if name != "smooth_l1_loss" else getattr(F, name),
                  _np_pointwise(name), _each_reduction(_pointwise_samples(extra)),
                  torch=(_weighted_torch(name) if name != "smooth_l1_loss"
                         else _torch_fn(name)), **options)


ROWS = [
    # The kinks of l1 (d = 0) and smooth_l1/huber (|d| = beta) are never hit by random samples,
    # so the second derivatives (piecewise constant) are checked too.
    _pointwise_row("mse_loss", error_inputs=_pointwise_errors("mse_loss")),
    _pointwise_row("l1_loss", kinks=True, error_inputs=_pointwise_errors("l1_loss")),
    _pointwise_row("smooth_l1_loss", kinks=True,
                   error_inputs=_pointwise_errors("smooth_l1_loss")),
    _pointwise_row("smooth_l1_loss", {"beta": 0.5}, kinks=True),
    _pointwise_row("smooth_l1_loss", {"beta": 0.0}, kinks=True),
    _pointwise_row("huber_loss", kinks=True, error_inputs=_beta_errors),
    _pointwise_row("huber_loss", {"delta": 0.5}, kinks=True),
    OpSpec("mse_loss", _weighted_op("mse_loss"), _np_pointwise("mse_loss"),
           _each_reduction(_weighted_samples), torch=_weighted_torch("mse_loss")),
    OpSpec("l1_loss", _weighted_op("l1_loss"), _np_pointwise("l1_loss"),
           _each_reduction(_weighted_samples), torch=_weighted_torch("l1_loss"), kinks=True),
    OpSpec("huber_loss", _weighted_op("huber_loss", delta=0.7),
           lambda x, t, w, **kw: _np_pointwise("huber_loss")(x, t, w, delta=0.7, **kw),
           _each_reduction(_weighted_samples), torch=_weighted_torch("huber_loss", delta=0.7),
           kinks=True),
    OpSpec("kl_div", F.kl_div, _np_kl_div, _kl_samples, torch=_torch_fn("kl_div"),
           error_inputs=_kl_errors),
    OpSpec("kl_div", F.kl_div, _np_kl_div, _kl_zero_target_samples, torch=_torch_fn("kl_div")),
    OpSpec("margin_ranking_loss", F.margin_ranking_loss, _np_margin_ranking,
           _each_reduction(_margin_ranking_samples), torch=_torch_fn("margin_ranking_loss"),
           kinks=True, error_inputs=_more_errors),
    OpSpec("soft_margin_loss", F.soft_margin_loss, _np_soft_margin,
           _each_reduction(_soft_margin_samples), torch=_torch_fn("soft_margin_loss")),
    OpSpec("cosine_embedding_loss", F.cosine_embedding_loss, _np_cosine_embedding,
           _each_reduction(_cosine_samples), torch=_torch_fn("cosine_embedding_loss"),
           kinks=True),
    OpSpec("poisson_nll_loss", F.poisson_nll_loss, _np_poisson_nll,
           _each_reduction(_poisson_samples), torch=_torch_fn("poisson_nll_loss")),
    OpSpec("gaussian_nll_loss", F.gaussian_nll_loss, _np_gaussian_nll,
           _each_reduction(_gaussian_samples), torch=_torch_fn("gaussian_nll_loss")),
]
