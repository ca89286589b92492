"""Op-table rows for extremes: max, min, amax, amin, argmax, argmin (backprop/ops/extrema.py)."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .reduction import _dim_errors, _np_reduce, _torch_reduce, dim_samples, single_dim_samples
from .spec import ErrorInput, OpSpec, Sample, uniform

# -- extremes -----------------------------------------------------------------------------------

def _ties():
    return np.array([[1.0, 3.0, 3.0], [2.0, 2.0, -1.0]])


def _full_extreme_samples(rng):
    return [Sample((uniform(rng, (2, 3, 4)),), name="all"),
            Sample((uniform(rng, ()),), name="scalar"),
            Sample((uniform(rng, (5,)),), name="vector")]


def _tie_samples(rng):
    return [Sample((_ties(),), name="ties"), Sample((-_ties(),), name="ties-negated")]


def _extreme_dim_samples(rng):
    return single_dim_samples(rng) + [Sample((uniform(rng, (2, 3)),), {"dim": 1, "keepdim": True},
                                             name="keep")]


def _tie_dim_samples(rng):
    return [Sample((_ties(),), {"dim": 1}, name="ties-dim1", on_kink=True),
            Sample((-_ties(),), {"dim": 0, "keepdim": True}, name="ties-dim0", on_kink=True),
            Sample((_ties(),), {"dim": -1}, name="ties-dim-1", on_kink=True)]


def _np_extreme_dim(values, index):
    def ref(x, dim, keepdim=False):
        dim = None if x.ndim == 0 else dim
        return values(x, axis=dim, keepdims=keepdim), index(x, axis=dim, keepdims=keepdim)

    return ref


def _torch_extreme_dim(name):
    return lambda torch, x, dim, keepdim=False: getattr(torch, name)(x, dim, keepdim)


def _amax_tie_samples(rng):
    return [Sample((_ties(),), name="ties-all"), Sample((_ties(),), {"dim": 1}, name="ties-dim1"),
            Sample((-_ties(),), {"dim": (0, 1), "keepdim": True}, name="ties-dims01"),
            Sample((np.ones((2, 2)),), {"dim": 0}, name="all-equal")]


def _extreme_errors(name):
    def cases():
        return [ErrorInput(lambda: getattr(bp, name)(bp.ones(2, 3), 2), bp.DimError,
                           rf"{name}: dim 2 is out of range for a tensor with 2 dimensions"),
                ErrorInput(lambda: getattr(bp, name)(bp.ones(2, 3), (0, 1)), TypeError,
                           rf"{name}: dim must be an int"),
                ErrorInput(lambda: getattr(bp, name)(bp.ones(2, 3), keepdim=True), TypeError,
                           rf"{name}: keepdim needs a dim"),
                ErrorInput(lambda: getattr(bp, name)(bp.ones(2, 0), 1), bp.ShapeError,
                           rf"{name}: cannot take the {name} over dim 1 of size 0"),
                ErrorInput(lambda: getattr(bp, name)(bp.ones(0)), bp.ShapeError,
                           r"(amax|amin): cannot reduce over a dim of size 0 "
                           r"\(input shape \(0,\)\)")]

    return cases


def _binary_extreme_samples(rng):
    return [Sample((uniform(rng, (2, 3)), uniform(rng, (3,))), name="tensor-other"),
            Sample((uniform(rng, (2, 1)), uniform(rng, (2, 3))), name="broadcast")]


def _arg_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x,), name="flat"), Sample((x,), {"dim": 1}, name="dim1"),
            Sample((x,), {"dim": -1, "keepdim": True}, name="dim-1-keep"),
            Sample((x,), {"keepdim": True}, name="flat-keep"),
            Sample((uniform(rng, ()),), name="scalar"),
            Sample((uniform(rng, ()),), {"dim": 0}, name="scalar-dim0"),
            Sample((_ties(),), {"dim": 1}, name="ties-first"),
            Sample((-_ties(),), name="ties-flat")]


def _np_arg(fn):
    def ref(x, dim=None, keepdim=False):
        return np.asarray(fn(x, axis=None if np.ndim(x) == 0 else dim, keepdims=keepdim))

    return ref


def _torch_arg(name):
    return lambda torch, x, dim=None, keepdim=False: getattr(torch, name)(x, dim, keepdim)


ROWS = [
    OpSpec("max", bp.max, _np_reduce(np.max), _full_extreme_samples, torch=_torch_reduce("max"),
           error_inputs=_extreme_errors("max")),
    OpSpec("max", bp.max, _np_extreme_dim(np.max, np.argmax), _extreme_dim_samples,
           torch=_torch_extreme_dim("max"), aliases=("values_at_index", "scatter_to_index")),
    OpSpec("max", bp.max, np.maximum, _binary_extreme_samples,
           torch=lambda torch, a, b: torch.max(a, b)),
    # Ties: max() spreads the gradient evenly over the tied elements, max(dim) gives it all to
    # the (first) index it returns, as PyTorch does.
    OpSpec("max", bp.max, _np_reduce(np.max), _tie_samples, torch=_torch_reduce("max"),
           kinks=True, gradgrad=False),
    OpSpec("max", bp.max, _np_extreme_dim(np.max, np.argmax), _tie_dim_samples,
           torch=_torch_extreme_dim("max"), kinks=True, gradgrad=False),
    OpSpec("min", bp.min, _np_reduce(np.min), _full_extreme_samples, torch=_torch_reduce("min"),
           error_inputs=_extreme_errors("min")),
    OpSpec("min", bp.min, _np_extreme_dim(np.min, np.argmin), _extreme_dim_samples,
           torch=_torch_extreme_dim("min")),
    OpSpec("min", bp.min, np.minimum, _binary_extreme_samples,
           torch=lambda torch, a, b: torch.min(a, b)),
    OpSpec("min", bp.min, _np_reduce(np.min), _tie_samples, torch=_torch_reduce("min"),
           kinks=True, gradgrad=False),
    OpSpec("min", bp.min, _np_extreme_dim(np.min, np.argmin), _tie_dim_samples,
           torch=_torch_extreme_dim("min"), kinks=True, gradgrad=False),
    OpSpec("amax", bp.amax, _np_reduce(np.amax), dim_samples, torch=_torch_reduce("amax", ()),
           error_inputs=lambda: _dim_errors("amax")),
    OpSpec("amax", bp.amax, _np_reduce(np.amax), _amax_tie_samples,
           torch=_torch_reduce("amax", ()), kinks=True, gradgrad=False),
    OpSpec("amin", bp.amin, _np_reduce(np.amin), dim_samples, torch=_torch_reduce("amin", ()),
           error_inputs=lambda: _dim_errors("amin")),
    OpSpec("amin", bp.amin, _np_reduce(np.amin), _amax_tie_samples,
           torch=_torch_reduce("amin", ()), kinks=True, gradgrad=False),
    OpSpec("argmax", bp.argmax, _np_arg(np.argmax), _arg_samples, torch=_torch_arg("argmax"),
           grad=False, error_inputs=lambda: [
               *_dim_errors("argmax", tuple_ok=False),
               ErrorInput(lambda: bp.argmax(bp.ones(2, 0), 1), bp.ShapeError,
                          r"argmax: cannot reduce over a dim of size 0 \(input shape \(2, 0\)\)")]),
    OpSpec("argmin", bp.argmin, _np_arg(np.argmin), _arg_samples, torch=_torch_arg("argmin"),
           grad=False, error_inputs=lambda: _dim_errors("argmin", tuple_ok=False)),
]
