"""Op-table rows for reductions."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .spec import ErrorInput, OpSpec, Sample, uniform


def dim_samples(rng: np.random.Generator) -> list[Sample]:
    """Reductions over all dims, one dim (positive and negative), a tuple, with keepdim."""
    x = uniform(rng, (2, 3, 4))
    return [Sample((x,), name="all"), Sample((x,), {"dim": 1}, name="dim1"),
            Sample((x,), {"dim": -1, "keepdim": True}, name="dim-1-keep"),
            Sample((x,), {"dim": (0, 2)}, name="dims02"),
            Sample((uniform(rng, ()),), name="scalar"), Sample((uniform(rng, (3,)),), {"dim": 0},
                                                               name="vector")]


def _np_reduce(fn):
    def ref(x, dim=None, keepdim=False):
        return fn(x, axis=dim, keepdims=keepdim)

    return ref


def _torch_reduce(name):
    def call(torch, x, dim=None, keepdim=False):
        fn = getattr(torch, name)
        return fn(x) if dim is None and not keepdim else fn(x, dim=dim, keepdim=keepdim)

    return call


def _dim_errors(name):
    return lambda: [ErrorInput(lambda: getattr(bp, name)(bp.ones(2, 3), dim=2), bp.DimError,
                               rf"{name}: dim 2 is out of range for a tensor with 2 dimensions")]


def _sum_to_size_samples(rng):
    return [Sample((uniform(rng, (2, 3)), (1, 3)), name="keep-rows"),
            Sample((uniform(rng, (2, 1, 3)), (3,)), name="drop-leading")]


ROWS = [
    OpSpec("sum", bp.sum, _np_reduce(np.sum), dim_samples, torch=_torch_reduce("sum"),
           error_inputs=_dim_errors("sum")),
    OpSpec("mean", bp.mean, _np_reduce(np.mean), dim_samples, torch=_torch_reduce("mean"),
           error_inputs=lambda: [ErrorInput(lambda: bp.tensor([1, 2]).mean(), TypeError,
                                            "mean: input dtype must be floating point")]),
    OpSpec("sum_to_size", lambda x, size: x.sum_to_size(size),
           lambda x, size: np.sum(x, axis=tuple(range(x.ndim - len(size))) + tuple(
               x.ndim - len(size) + i for i, n in enumerate(size) if n == 1), keepdims=True
           ).reshape(size), _sum_to_size_samples,
           torch=lambda torch, x, size: x.sum_to_size(size)),
]
