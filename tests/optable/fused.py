"""Op-table rows for the fused ops: logsumexp, softmax and log_softmax."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .reduction import _dim_errors
from .spec import ErrorInput, OpSpec, Sample, uniform


# -- logsumexp ----------------------------------------------------------------------------------

def _np_logsumexp(x, dim, keepdim=False):
    dim = None if x.ndim == 0 else dim
    shift = np.amax(x, axis=dim, keepdims=True)
    out = np.log(np.sum(np.exp(x - shift), axis=dim, keepdims=True)) + shift
    return out if keepdim else np.squeeze(out, axis=dim)


def _logsumexp_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x,), {"dim": 1}, name="dim1"),
            Sample((x,), {"dim": -1, "keepdim": True}, name="dim-1-keep"),
            Sample((x,), {"dim": (0, 2)}, name="dims02"),
            Sample((x,), {"dim": (0, 1, 2), "keepdim": True}, name="all-keep"),
            Sample((uniform(rng, ()),), {"dim": 0}, name="scalar"),
            Sample((np.array([[1000.0, 1000.5, 999.0], [-1000.0, -999.0, -1001.0]]),),
                   {"dim": 1}, name="large")]


# -- softmax ------------------------------------------------------------------------------------

def _np_softmax(x, dim, dtype=None):
    dim = None if x.ndim == 0 else dim
    e = np.exp(x - np.amax(x, axis=dim, keepdims=True))
    return e / np.sum(e, axis=dim, keepdims=True)


def _np_log_softmax(x, dim, dtype=None):
    dim = None if x.ndim == 0 else dim
    shifted = x - np.amax(x, axis=dim, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))


def _softmax_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x,), {"dim": 1}, name="dim1"), Sample((x,), {"dim": 0}, name="dim0"),
            Sample((x,), {"dim": -1}, name="dim-1"),
            Sample((uniform(rng, (5,)),), {"dim": 0}, name="vector"),
            Sample((uniform(rng, ()),), {"dim": 0}, name="scalar"),
        Sample((np.array([[1000.0, 1001.0, 999.5], [-1000.0, -1002.0, -999.0]]),), {"dim": 1},
               name="large"),
        Sample((np.array([[1000.0, 1001.0, 999.5], [-1000.0, -1002.0, -999.0]]),), {"dim": 0},
               name="large-dim0")]


def _masked_samples(rng):
    x = uniform(rng, (2, 4))
    x[0, 1] = x[1, 3] = -np.inf
    return [Sample((x,), {"dim": 1}, name="masked-inf")]


def _softmax_dtype_samples(rng):
    return [Sample((uniform(rng, (2, 3)),), {"dim": 1, "dtype": bp.float64}, name="dtype")]


def _torch_softmax(name):
    def call(torch, x, dim, dtype=None):
        return getattr(torch, name)(x, dim, dtype=None if dtype is None else torch.float64)

    return call


def _softmax_errors(name):
    def cases():
        return [ErrorInput(lambda: getattr(bp, name)(bp.ones(2, 3), 2), bp.DimError,
                           rf"{name}: dim 2 is out of range for a tensor with 2 dimensions"),
                ErrorInput(lambda: getattr(bp, name)(bp.ones(2, 3), (0, 1)), TypeError,
                           rf"{name}: dim must be an int"),
                ErrorInput(lambda: getattr(bp, name)(bp.tensor([1, 2]), 0), bp.DTypeError,
                           rf"{name}: input dtype must be floating point")]

    return cases


ROWS = [
    OpSpec("logsumexp", bp.logsumexp, _np_logsumexp, _logsumexp_samples,
           torch=lambda torch, x, dim, keepdim=False: torch.logsumexp(x, dim, keepdim),
           error_inputs=lambda: _dim_errors("logsumexp")),
    OpSpec("softmax", bp.softmax, _np_softmax, _softmax_samples,
           torch=_torch_softmax("softmax"), error_inputs=_softmax_errors("softmax")),
    # -inf entries (attention masks) get probability 0 and a zero gradient.
    OpSpec("softmax", bp.softmax, _np_softmax, _masked_samples, torch=_torch_softmax("softmax")),
    # dtype= casts float32 input to float64 first, so the float32 check does not apply.
    OpSpec("softmax", bp.softmax, _np_softmax, _softmax_dtype_samples,
           torch=_torch_softmax("softmax"), float32=False),
    OpSpec("log_softmax", bp.log_softmax, _np_log_softmax, _softmax_samples,
           torch=_torch_softmax("log_softmax"), error_inputs=_softmax_errors("log_softmax")),
    OpSpec("log_softmax", bp.log_softmax, _np_log_softmax, _softmax_dtype_samples,
           torch=_torch_softmax("log_softmax"), float32=False),
]
