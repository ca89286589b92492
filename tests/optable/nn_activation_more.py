"""Op-table rows for the activations of backprop/nn/functional/activation_more.py: the in-place
forms (applied to a non-leaf copy), rrelu (eval mode here; its training slopes are tested by
distribution in tests/test_nn_rest.py), prelu, gumbel_softmax (seeded), pdist and one_hot."""

from __future__ import annotations

import numpy as np

import backprop as bp
import backprop.nn.functional as F
from backprop.random import get_rng

from .nn_activation import _np_elu, _np_hardtanh, _np_leaky_relu, _np_threshold, _torch_f
from .spec import ErrorInput, OpSpec, Sample, uniform

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _inplace_row(name, ref, *args, **options):
    """``F.<name>_`` on ``x * 1`` (a leaf that requires grad refuses in-place writes)."""
    return OpSpec(name + "_", lambda x: getattr(F, name + "_")(x * 1.0, *args),
                  lambda x: ref(x, *args),
                  lambda rng: [Sample((uniform(rng, (2, 3)),), name="2x3")],
                  torch=lambda torch, x: getattr(torch.nn.functional, name + "_")(x * 1.0, *args),
                  kinks=True, **options)


def _np_celu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0) / alpha))


def _np_selu(x):
    return _SELU_SCALE * _np_elu(x, _SELU_ALPHA)


def _np_prelu(x, w):
    shape = [1] * x.ndim
    if w.size != 1:
        shape[1] = -1
    return np.where(x > 0, x, w.reshape(shape) * x)


def _prelu_samples(rng):
    return [Sample((uniform(rng, (2, 3, 2)), rng.uniform(0.1, 0.5, 3)), name="per-channel"),
            Sample((uniform(rng, (2, 3)), rng.uniform(0.1, 0.5, 1)), name="shared"),
            Sample((uniform(rng, (3,)), rng.uniform(0.1, 0.5, 1)), name="1-d")]


def _seeded_gumbel(x, **kwargs):
    bp.manual_seed(0)
    return F.gumbel_softmax(x, **kwargs)


def _np_gumbel(x, tau=1.0, hard=False, dim=-1):
    bp.manual_seed(0)
    y = (x - np.log(get_rng().exponential(1.0, x.shape))) / tau
    e = np.exp(y - y.max(dim, keepdims=True))
    soft = e / e.sum(dim, keepdims=True)
    if not hard:
        return soft
    return (soft == soft.max(dim, keepdims=True)).astype(float)


def _gumbel_samples(rng):
    return [Sample((uniform(rng, (2, 4)),), {"tau": 0.5}, name="soft"),
            Sample((uniform(rng, (3, 2)),), {"dim": 0}, name="dim0"),
            # The straight-through gradient is the soft sample's, not the one-hot's derivative
            # (zero), so finite differences cannot check it: values only.
            Sample((uniform(rng, (2, 4)),), {"hard": True}, grad_args=(), name="hard")]


def _np_pdist(x, p=2.0):
    pairs = [x[i] - x[j] for i in range(len(x)) for j in range(i + 1, len(x))]
    if p == np.inf:
        return np.array([np.abs(d).max() for d in pairs])
    if p == 0:
        return np.array([float((d != 0).sum()) for d in pairs])
    return np.array([(np.abs(d) ** p).sum() ** (1 / p) for d in pairs])


def _pdist_samples(rng):
    return [Sample((uniform(rng, (4, 3)),), name="p2"),
            Sample((uniform(rng, (4, 3)),), {"p": 1.0}, name="p1"),
            Sample((uniform(rng, (3, 2)),), {"p": 3.5}, name="p3.5"),
            Sample((uniform(rng, (3, 2)),), {"p": np.inf}, name="inf")]


def _errors():
    return [ErrorInput(lambda: F.rrelu(bp.ones(2), 0.5, 0.1), ValueError,
                       r"rrelu: expected 0 <= lower <= upper, got lower=0.5, upper=0.1"),
            ErrorInput(lambda: F.prelu(bp.ones(2, 3), bp.ones(2)), bp.ShapeError,
                       r"prelu: weight of shape \(2,\) must have 1 entry or one per channel "
                       r"\(3\)"),
            ErrorInput(lambda: F.prelu(bp.ones(3), bp.ones(3)), bp.ShapeError,
                       r"prelu: weight of shape \(3,\) must have 1 entry or one per channel "
                       r"\(1\) of input \(3,\)"),
            ErrorInput(lambda: F.pdist(bp.ones(3)), bp.ShapeError,
                       r"pdist: input must be 2-D \(N, M\), got \(3,\)")]


ROWS = [
    _inplace_row("relu", lambda x: np.maximum(x, 0)),
    _inplace_row("elu", _np_elu, 0.5),
    _inplace_row("celu", _np_celu),  # alpha 1: PyTorch rounds 1/alpha to float32 (1e-9 off)
    _inplace_row("selu", _np_selu),
    _inplace_row("leaky_relu", _np_leaky_relu, 0.2),
    _inplace_row("hardtanh", _np_hardtanh, -0.5, 1.5),
    _inplace_row("threshold", _np_threshold, 0.1, -2.0),
    _inplace_row("rrelu", lambda x, lo, hi: _np_leaky_relu(x, (lo + hi) / 2), 0.1, 0.3),
    OpSpec("rrelu", F.rrelu, lambda x, lower=0.125, upper=1 / 3: _np_leaky_relu(
        x, (lower + upper) / 2), lambda rng: [
            Sample((uniform(rng, (2, 3)),), name="defaults"),
            Sample((uniform(rng, (3,)),), {"lower": 0.2, "upper": 0.6}, name="bounds")],
           torch=_torch_f("rrelu"), kinks=True, error_inputs=_errors),
    OpSpec("prelu", F.prelu, _np_prelu, _prelu_samples, torch=_torch_f("prelu"), kinks=True),
    OpSpec("gumbel_softmax", _seeded_gumbel, _np_gumbel, _gumbel_samples,
           torch_reason="the Gumbel noise comes from bp.manual_seed's generator; PyTorch draws "
           "its own (the distribution is tested in tests/test_nn_rest.py)"),
    OpSpec("pdist", F.pdist, _np_pdist, _pdist_samples, torch=_torch_f("pdist"), kinks=True),
]
