"""Op-table rows for ops along a dim and masks: gather, scatter, index_select, index_add,
take_along_dim, masked_fill, one_hot, nonzero and the in-place forms."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .indexing import _i
from .spec import ErrorInput, OpSpec, Sample, uniform


# -- gather and scatter ---------------------------------------------------------------------------

def _along(index, dim, d_index):
    """The position in the source that element ``d_index`` of an along-dim op refers to."""
    position = list(d_index)
    position[dim] = index[d_index]
    return tuple(position)


def _block(src, index):
    """PyTorch fails to backward a scatter whose src is larger than its index, so its rows get
    src cut to the index's shape: the same forward, with the unused part getting no gradient."""
    return src[tuple(slice(0, n) for n in index.shape)]


def _np_gather(x, dim, index):
    out = np.empty(index.shape)
    for p in np.ndindex(index.shape):
        out[p] = x[_along(index, dim % x.ndim, p)]
    return out


def _np_scatter_add(x, dim, index, src):
    out = x.copy()
    for p in np.ndindex(index.shape):
        out[_along(index, dim % x.ndim, p)] += src[p]
    return out


def _np_scatter(x, dim, index, src=None, value=None):
    out = x.copy()
    for p in np.ndindex(index.shape):
        out[_along(index, dim % x.ndim, p)] = value if src is None else src[p]
    return out


def _gather_samples(rng):
    a, b = uniform(rng, (3, 4)), uniform(rng, (2, 3, 4))
    return [
        Sample((a, 1, _i([0, 0], [3, 1], [2, 2])), name="dim1-repeats"),
        Sample((a, 0, _i([2, 1, 0, 2], [0, 0, 1, 1])), name="dim0"),
        Sample((a, -1, _i([1], [0])), name="negative-dim-smaller"),
        Sample((b, 1, rng.integers(0, 3, (2, 2, 3))), name="3d"),
    ]


def _gather_errors():
    x = bp.ones(3, 4)
    return [
        ErrorInput(lambda: bp.gather(x, 1, bp.tensor([0, 1])), bp.ShapeError,
                   r"gather: index has 1 dimension but input has 2 dimensions \(input \(3, 4\), "
                   r"index \(2,\)\)"),
        ErrorInput(lambda: bp.gather(x, 1, bp.tensor([[0, 7]])), IndexError,
                   r"gather: index 7 is out of range for dimension 1 with size 4"),
        ErrorInput(lambda: bp.gather(x, 1, bp.tensor([[-1]])), IndexError,
                   r"gather: index -1 is out of range for dimension 1"),
        ErrorInput(lambda: bp.gather(x, 2, bp.tensor([[0]])), bp.DimError,
                   r"gather: dim 2 is out of range for a tensor with 2 dimensions"),
        ErrorInput(lambda: bp.gather(x, 0, bp.tensor([[0, 1, 2, 0, 1]])), bp.ShapeError,
                   r"gather: index of shape \(1, 5\) is larger than input of shape \(3, 4\) at "
                   r"dimension 1"),
        ErrorInput(lambda: bp.gather(x, 0, bp.tensor([[0.0]])), bp.DTypeError,
                   r"gather: index must be an integer .* got float32"),
    ]


def _scatter_add_samples(rng):
    a = uniform(rng, (3, 4))
    return [
        Sample((a, 0, _i([0, 1, 2, 0], [0, 1, 0, 2]), uniform(rng, (2, 4))), name="repeats"),
        Sample((a, 1, _i([0, 0], [3, 1]), uniform(rng, (3, 3))), name="src-larger"),
        Sample((a, -2, _i([2, 2, 2, 2]), uniform(rng, (1, 4))), name="negative-dim"),
    ]


def _scatter_add_errors():
    x = bp.zeros(3, 4)
    return [
        ErrorInput(lambda: bp.scatter_add(x, 1, bp.tensor([[0, 1, 2]]), bp.ones(1, 2)),
                   bp.ShapeError, r"scatter_add: index of shape \(1, 3\) is larger than src of "
                                  r"shape \(1, 2\)"),
        ErrorInput(lambda: bp.scatter_add(x, 0, bp.tensor([[3]]), bp.ones(1, 1)), IndexError,
                   r"scatter_add: index 3 is out of range for dimension 0 with size 3"),
    ]


def _scatter_samples(rng):
    a = uniform(rng, (3, 4))
    return [
        Sample((a, 1, _i([3, 0], [1, 2], [0, 1]), uniform(rng, (3, 2))), name="dim1"),
        Sample((a, 0, _i([2, 0, 1, 1]), uniform(rng, (2, 4))), name="src-larger"),
        Sample((a, -1, _i([0], [2], [1])), {"value": 1.5}, name="value"),
    ]


_NP_REDUCE = {"sum": np.add, "prod": np.multiply, "mean": np.add, "amax": np.maximum,
              "amin": np.minimum}


def _np_scatter_reduce(x, dim, index, src, reduce, include_self=True):
    out = x.copy()
    counts = np.ones(x.shape) if include_self else np.zeros(x.shape)
    written = np.zeros(x.shape, dtype=bool)
    for p in np.ndindex(index.shape):
        at = _along(index, dim % x.ndim, p)
        if not include_self and not written[at]:
            out[at], written[at] = src[p], True
        else:
            out[at] = _NP_REDUCE[reduce](out[at], src[p])
        counts[at] += 1
    if reduce == "mean":
        counts = np.maximum(counts, 1)
        out = out // counts if out.dtype.kind in "iu" else out / counts
    return out


def _np_legacy_scatter(x, dim, index, src=None, value=None, reduce=None):
    if src is None:
        src = np.full(index.shape, value)
    return _np_scatter_reduce(x, dim, index, src, {"add": "sum", "multiply": "prod"}[reduce])


def _scatter_reduce_samples(rng):
    """Each reduction with and without the input's own values, on repeated positions; prod with
    zeros (a lone zero's gradient is the product of the rest, computed without dividing by
    it); amax and amin with ties (which share the gradient) are the ``-ties`` samples."""
    result = []
    index = _i([0, 1, 0, 2], [0, 0, 1, 2])
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            kw = {"include_self": include_self}
            name = f"{reduce}-{'self' if include_self else 'no-self'}"
            x, src = uniform(rng, (3, 4)), uniform(rng, (2, 4))
            result.append(Sample((x, 0, index, src, reduce), kw, name=name))
            if reduce == "prod":
                x, src = x.copy(), src.copy()
                x[0, 0], src[0, 1], src[1, 1], src[1, 3] = 0.0, 0.0, 0.0, 0.0
                result.append(Sample((x, 0, index, src, reduce), kw, name=f"{name}-zeros"))
            if reduce in ("amax", "amin"):
                x, src = x.copy(), src.copy()
                src[1, 0] = src[0, 0] = x[0, 0] = 5.0 if reduce == "amax" else -5.0
                result.append(Sample((x, 0, index, src, reduce), kw, name=f"{name}-ties",
                                     on_kink=True))
    result.append(Sample((uniform(rng, (2, 3)), 1, _i([2, 2], [0, 1]), uniform(rng, (2, 3)),
                          "mean"), name="dim1-src-larger"))
    return result


def _integer_scatter_reduce_samples(rng):
    x, src, index = np.array([[5, 1], [2, 7]]), np.array([[3, 4], [6, 8]]), _i([0, 0], [0, 1])
    return [Sample((x, 0, index, src, reduce), {"include_self": include_self},
                   name=f"int64-{reduce}-{include_self}")
            for reduce in ("sum", "prod", "mean", "amax", "amin") for include_self in (True, False)]


def _scatter_reduce_torch(torch, x, dim, index, src, reduce, **kw):
    return torch.scatter_reduce(x, dim, index, _block(src, index), reduce, **kw)


def _legacy_scatter_samples(rng):
    a, index = uniform(rng, (3, 4)), _i([0, 1, 0, 2], [0, 0, 1, 2])
    return [Sample((a, 0, index, uniform(rng, (2, 4))), {"reduce": "add"}, name="issue-add"),
            Sample((a, 0, index, uniform(rng, (2, 4))), {"reduce": "multiply"}, name="multiply"),
            Sample((a, 0, index), {"value": 1.5, "reduce": "add"}, name="value-add"),
            Sample((a, 0, index), {"value": -2.0, "reduce": "multiply"},
                   name="value-multiply")]


def _legacy_scatter_torch(torch, x, dim, index, src=None, value=None, reduce=None):
    """PyTorch defines no derivative for scatter(reduce=); its scatter_reduce computes the same
    values and has one, which ours matches (an addition where PyTorch raises)."""
    if src is None:
        src = torch.full(index.shape, value, dtype=x.dtype)
    return torch.scatter_reduce(x, dim, index, src, {"add": "sum", "multiply": "prod"}[reduce])


def _scatter_reduce_errors():
    x, index = bp.zeros(3), bp.tensor([0, 1])
    return [
        ErrorInput(lambda: bp.scatter_reduce(x, 0, index, bp.ones(2), "max"), ValueError,
                   r"scatter_reduce: reduce must be 'sum', 'prod', 'mean', 'amax' or 'amin', "
                   r"got 'max'"),
        ErrorInput(lambda: bp.scatter(x, 0, index, bp.ones(2), reduce="sum"), ValueError,
                   r"scatter: reduce must be 'add' or 'multiply', got 'sum'"),
        ErrorInput(lambda: bp.scatter_reduce(x, 0, bp.tensor([0, 3]), bp.ones(2), "sum"),
                   IndexError, r"scatter_reduce: index 3 is out of range for dimension 0"),
    ]


def _index_select_samples(rng):
    a, b = uniform(rng, (3, 4)), uniform(rng, (2, 3, 4))
    return [
        Sample((a, 0, _i(2, 0, 2)), name="dim0-repeats"),
        Sample((a, -1, _i(1, 3)), name="negative-dim"),
        Sample((b, 1, np.array(2)), name="0d-index"),
    ]


def _np_index_select(x, dim, index):
    return np.take(x, np.reshape(index, -1), axis=dim)


def _index_select_errors():
    x = bp.ones(3, 4)
    return [
        ErrorInput(lambda: bp.index_select(x, 0, bp.tensor([[0, 1]])), bp.ShapeError,
                   r"index_select: index must be a vector \(1-D\), got shape \(1, 2\)"),
        ErrorInput(lambda: bp.index_select(x, 1, bp.tensor([4])), IndexError,
                   r"index_select: index 4 is out of range for dimension 1 with size 4"),
    ]


def _index_add_samples(rng):
    a, b = uniform(rng, (3, 4)), uniform(rng, (2, 3, 4))
    return [
        Sample((a, 0, _i(0, 2, 0), uniform(rng, (3, 4))), name="dim0-repeats"),
        Sample((a, 1, _i(3, 1), uniform(rng, (3, 2))), {"alpha": 2.0}, name="alpha"),
        Sample((b, -1, _i(0, 0, 3), uniform(rng, (2, 3, 3))), name="last-dim-repeats"),
    ]


def _np_index_add(x, dim, index, source, alpha=1):
    out = np.moveaxis(x.copy(), dim, 0)
    moved = np.moveaxis(source, dim, 0)
    for j, i in enumerate(index):
        out[i] += alpha * moved[j]
    return np.moveaxis(out, 0, dim)


def _take_along_dim_samples(rng):
    a = uniform(rng, (3, 4))
    return [
        Sample((a, _i([0, 3], [1, 1], [2, 0]), 1), name="dim1"),
        Sample((a, _i([2, 0, 1, 1]), 0), name="dim0"),
        Sample((a, _i([1], [-1], [-4]), -1), name="negative"),
        Sample((uniform(rng, (1, 4)), _i([0], [1], [3]), 1), name="broadcast"),
        Sample((a, _i(0, 11, 5, 5)), name="flat"),
    ]


def _np_take_along_dim(x, indices, dim=None):
    if dim is None:
        return np.take_along_axis(x.reshape(-1), indices.reshape(-1), 0)
    return np.take_along_axis(x, indices, dim)


def _masked_fill_samples(rng):
    a = uniform(rng, (2, 3))
    return [
        Sample((a, np.array([True, False, True]), uniform(rng, ())), name="row-mask-tensor"),
        Sample((a, a > 0, -1.0), name="full-mask-number"),
        Sample((uniform(rng, (3,)), rng.uniform(size=(2, 3)) > 0.5, 0.5), name="mask-broadcasts"),
    ]


def _masked_fill_errors():
    x = bp.zeros(2, 3)
    return [
        ErrorInput(lambda: bp.masked_fill(x, bp.tensor([1, 0, 1]), 1.0), bp.DTypeError,
                   r"masked_fill: mask must be a bool tensor, got int64"),
        ErrorInput(lambda: bp.masked_fill(x, x > 0, bp.ones(3)), bp.ShapeError,
                   r"masked_fill: value must be a number or a 0-dimensional tensor, got a tensor "
                   r"of shape \(3,\)"),
        ErrorInput(lambda: bp.masked_fill(x, bp.tensor([True, False]), 1.0), bp.ShapeError,
                   r"masked_fill: cannot broadcast shapes \(2, 3\) and \(2,\)"),
    ]


def _one_hot_errors():
    return [
        ErrorInput(lambda: bp.one_hot(bp.tensor([0, -1]), 3), ValueError,
                   r"one_hot: class values must be non-negative, got -1"),
        ErrorInput(lambda: bp.one_hot(bp.tensor([0, 5]), 3), ValueError,
                   r"one_hot: class value 5 is out of range for num_classes=3"),
        ErrorInput(lambda: bp.one_hot(bp.tensor([0.0]), 3), bp.DTypeError,
                   r"one_hot: tensor must be an integer .* got float32"),
    ]


def _nonzero_samples(rng):
    return [Sample((np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]]),), name="2d"),
            Sample((np.array([0.0, 3.0, 0.0, 4.0]),), {"as_tuple": True}, name="as-tuple")]


def _np_nonzero(x, as_tuple=False):
    return np.nonzero(x) if as_tuple else np.argwhere(x)


ROWS = [
    OpSpec("gather", bp.gather, _np_gather, _gather_samples,
           torch=lambda torch, x, dim, index: torch.gather(x, dim, index),
           error_inputs=_gather_errors),
    OpSpec("scatter_add", bp.scatter_add, _np_scatter_add, _scatter_add_samples,
           torch=lambda torch, x, dim, index, src:
           torch.scatter_add(x, dim, index, _block(src, index)),
           error_inputs=_scatter_add_errors),
    OpSpec("scatter_add_", lambda x, dim, index, src: x.clone().scatter_add_(dim, index, src),
           _np_scatter_add, _scatter_add_samples,
           torch=lambda torch, x, dim, index, src:
           x.clone().scatter_add_(dim, index, _block(src, index))),
    OpSpec("scatter", bp.scatter, _np_scatter, _scatter_samples,
           torch=lambda torch, x, dim, index, src=None, value=None:
           torch.scatter(x, dim, index, _block(src, index)) if src is not None
           else torch.scatter(x, dim, index, value=value)),
    OpSpec("scatter_", lambda x, dim, index, *src, **kw: x.clone().scatter_(dim, index, *src, **kw),
           _np_scatter, _scatter_samples,
           torch=lambda torch, x, dim, index, src=None, value=None:
           x.clone().scatter_(dim, index, _block(src, index)) if src is not None
           else x.clone().scatter_(dim, index, value=value)),
    OpSpec("scatter", bp.scatter, _np_legacy_scatter, _legacy_scatter_samples,
           torch=_legacy_scatter_torch),
    OpSpec("scatter_", lambda x, dim, index, *src, **kw: x.clone().scatter_(dim, index, *src, **kw),
           _np_legacy_scatter, _legacy_scatter_samples, torch=_legacy_scatter_torch),
    OpSpec("scatter_reduce", bp.scatter_reduce, _np_scatter_reduce,
           lambda rng: [s for s in _scatter_reduce_samples(rng) if not s.on_kink],
           torch=_scatter_reduce_torch, error_inputs=_scatter_reduce_errors),
    OpSpec("scatter_reduce", bp.scatter_reduce, _np_scatter_reduce,
           lambda rng: [s for s in _scatter_reduce_samples(rng) if s.on_kink],
           torch=_scatter_reduce_torch, kinks=True, gradgrad=False),
    OpSpec("scatter_reduce", bp.scatter_reduce, _np_scatter_reduce,
           _integer_scatter_reduce_samples, torch=_scatter_reduce_torch, grad=False,
           float32=False),
    OpSpec("scatter_reduce_",
           lambda x, *args, **kw: x.clone().scatter_reduce_(*args, **kw), _np_scatter_reduce,
           lambda rng: _scatter_reduce_samples(rng)[:3],
           torch=lambda torch, x, *args, **kw: _scatter_reduce_torch(torch, x.clone(), *args,
                                                                     **kw)),
    OpSpec("index_select", bp.index_select, _np_index_select, _index_select_samples,
           torch=lambda torch, x, dim, index: torch.index_select(x, dim, index),
           error_inputs=_index_select_errors),
    OpSpec("index_add", bp.index_add, _np_index_add, _index_add_samples,
           torch=lambda torch, x, dim, index, source, alpha=1:
           torch.index_add(x, dim, index, source, alpha=alpha),
           error_inputs=lambda: [ErrorInput(
               lambda: bp.index_add(bp.zeros(3, 4), 1, bp.tensor([0, 1]), bp.ones(3, 3)),
               bp.ShapeError, r"index_add: source must have shape \(3, 2\) .* got \(3, 3\)")]),
    OpSpec("index_add_", lambda x, dim, index, source, alpha=1:
           x.clone().index_add_(dim, index, source, alpha=alpha),
           _np_index_add, _index_add_samples,
           torch=lambda torch, x, dim, index, source, alpha=1:
           x.clone().index_add_(dim, index, source, alpha=alpha)),
    OpSpec("take_along_dim", bp.take_along_dim, _np_take_along_dim, _take_along_dim_samples,
           torch=lambda torch, x, indices, dim=None: torch.take_along_dim(x, indices, dim),
           error_inputs=lambda: [ErrorInput(
               lambda: bp.take_along_dim(bp.ones(3, 4), bp.tensor([0]), 1), bp.ShapeError,
               r"take_along_dim: input and indices must have the same number of dimensions")]),
    OpSpec("masked_fill", bp.masked_fill, lambda x, mask, value: np.where(mask, value, x),
           _masked_fill_samples,
           torch=lambda torch, x, mask, value: torch.masked_fill(x, mask, value),
           error_inputs=_masked_fill_errors),
    OpSpec("masked_fill_", lambda x, mask, value: (x * 1).masked_fill_(mask, value),
           lambda x, mask, value: np.where(mask, value, x),
           lambda rng: _masked_fill_samples(rng)[:2],
           torch=lambda torch, x, mask, value: (x * 1).masked_fill_(mask, value)),
    OpSpec("one_hot", bp.one_hot,
           lambda x, num_classes=-1: np.eye(x.max() + 1 if num_classes == -1 else num_classes,
                                            dtype=np.int64)[x],
           lambda rng: [Sample((_i(0, 2, 1, 2),), name="infer"),
                        Sample((_i([0, 1], [3, 0]), 5), name="2d")],
           torch=lambda torch, x, num_classes=-1: torch.nn.functional.one_hot(x, num_classes),
           grad=False, error_inputs=_one_hot_errors),
    OpSpec("nonzero", bp.nonzero, _np_nonzero, _nonzero_samples,
           torch=lambda torch, x, as_tuple=False: torch.nonzero(x, as_tuple=as_tuple),
           grad=False),
]
