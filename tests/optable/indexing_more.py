"""Op-table rows for ``backprop.ops.indexing_more`` (and the ``counting`` and
``numeric_gradient`` modules it exports): take, put, index_*, masked_select/scatter,
repeat_interleave, unique, searchsorted, bucketize, isin, bincount, histograms, gradient."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .indexing import _i
from .spec import ErrorInput, OpSpec, Sample, uniform


def _b(*values):
    return np.array(values, dtype=bool)


# -- writes and reads at positions ---------------------------------------------------------------

def _np_put(x, index, source, accumulate=False):
    out = x.copy().reshape(-1)
    if accumulate:
        np.add.at(out, index.reshape(-1), source.reshape(-1))
    else:
        out[index.reshape(-1)] = source.reshape(-1)
    return out.reshape(x.shape)


def _put_samples(rng):
    x = uniform(rng, (2, 3))
    return [Sample((x, _i(0, 5, -2), uniform(rng, (3,))), name="write"),
            Sample((x, _i([1, 1], [4, 0]), uniform(rng, (2, 2))), {"accumulate": True},
                   name="accumulate-repeats")]


def _np_index_put(x, indices, values, accumulate=False):
    out = x.copy()
    if accumulate:
        np.add.at(out, tuple(indices), values)
    else:
        out[tuple(indices)] = values
    return out


def _index_put_samples(rng):
    x = uniform(rng, (3, 4))
    return [Sample((x, (_i(2, 0),), uniform(rng, (2, 4))), name="rows"),
            Sample((x, (_i(0, 0, 2), _i(1, 1, 3)), uniform(rng, (3,))), {"accumulate": True},
                   name="accumulate-repeats"),
            Sample((x, (_b(True, False, True),), uniform(rng, (4,))), name="mask-broadcast")]


def _index_put_torch(torch, x, indices, values, accumulate=False):
    return torch.index_put(x, tuple(torch.tensor(i) for i in indices), values, accumulate)


def _np_index_copy(x, dim, index, source):
    out = np.moveaxis(x.copy(), dim, 0)
    out[index] = np.moveaxis(source, dim, 0)
    return np.moveaxis(out, 0, dim)


def _index_copy_samples(rng):
    x = uniform(rng, (3, 4))
    return [Sample((x, 0, _i(2, 0), uniform(rng, (2, 4))), name="dim0"),
            Sample((x, -1, _i(3, 1, 0), uniform(rng, (3, 3))), name="last-dim")]


def _np_index_fill(x, dim, index, value):
    out = np.moveaxis(x.copy(), dim, 0)
    out[index] = value
    return np.moveaxis(out, 0, dim)


def _index_fill_samples(rng):
    x = uniform(rng, (3, 4))
    return [Sample((x, 1, _i(0, 3, 0), 2.5), name="number-repeats"),
            Sample((x, 0, _i(1,), uniform(rng, ())), name="tensor-value")]


def _np_index_reduce(x, dim, index, source, reduce, include_self=True):
    ufunc = {"prod": np.multiply, "mean": np.add, "amax": np.maximum, "amin": np.minimum}[reduce]
    out = np.moveaxis(x.copy(), dim, 0)
    moved = np.moveaxis(source, dim, 0)
    counts = np.ones(out.shape[0]) if include_self else np.zeros(out.shape[0])
    seen = np.zeros(out.shape[0], dtype=bool)
    for j, i in enumerate(index):
        if not include_self and not seen[i]:
            out[i], seen[i] = moved[j], True
        else:
            out[i] = ufunc(out[i], moved[j])
        counts[i] += 1
    if reduce == "mean":
        shape = (-1,) + (1,) * (out.ndim - 1)
        out = out / np.maximum(counts, 1).reshape(shape)
    return np.moveaxis(out, 0, dim)


def _index_reduce_samples(rng):
    result = []
    for reduce in ("prod", "mean", "amax", "amin"):
        for include_self in (True, False):
            result.append(Sample((uniform(rng, (3, 2)), 0, _i(0, 2, 0), uniform(rng, (3, 2)),
                                  reduce), {"include_self": include_self},
                                 name=f"{reduce}-{include_self}"))
    return result


def _index_reduce_tie_samples(rng):
    """Ties share the gradient evenly (amax/amin); a zero's gradient in prod is the product of
    the rest."""
    x, source = uniform(rng, (3, 2)), uniform(rng, (3, 2))
    x[0, 0] = source[0, 0] = source[2, 0] = 3.0
    zeros = source.copy()
    zeros[0, 1] = 0.0
    return [Sample((x, 0, _i(0, 2, 0), source, "amax"), name="amax-ties", on_kink=True),
            Sample((-x, 0, _i(0, 2, 0), -source, "amin"), name="amin-ties", on_kink=True),
            Sample((x, 0, _i(0, 2, 0), zeros, "prod"), name="prod-zero")]


def _np_masked_scatter(x, mask, source):
    shape = np.broadcast_shapes(x.shape, mask.shape)
    out = np.broadcast_to(x, shape).copy()
    m = np.broadcast_to(mask, shape)
    out[m] = source.reshape(-1)[:m.sum()]
    return out


def _masked_samples(rng):
    x = uniform(rng, (2, 3))
    return [Sample((x, _b([True, False, True], [False, False, True])), name="same-shape"),
            Sample((uniform(rng, (3,)), _b([True, False, True], [True, True, False])),
                   name="broadcast")]


def _masked_scatter_samples(rng):
    return [Sample(s.args + (uniform(rng, (2, 4)),), name=s.name) for s in _masked_samples(rng)]


def _np_repeat_interleave(x, repeats, dim=None):
    if dim is None:
        return np.repeat(x.reshape(-1), repeats)
    return np.repeat(x, repeats, axis=dim)


def _repeat_interleave_samples(rng):
    x = uniform(rng, (2, 3))
    return [Sample((x, 2), name="flat"), Sample((x, _i(1, 0, 2), 1), name="counts-dim1"),
            Sample((x, 3, 0), name="dim0")]


# -- finite differences -------------------------------------------------------------------------

def _np_gradient(x, spacing=1, dim=None, edge_order=1):
    axes = tuple(range(x.ndim)) if dim is None else ((dim,) if isinstance(dim, int) else dim)
    if isinstance(spacing, (list, tuple)):
        out = np.gradient(x, *spacing, axis=axes, edge_order=edge_order)
    else:
        out = np.gradient(x, spacing, axis=axes, edge_order=edge_order)
    return tuple(out) if isinstance(out, (list, tuple)) else (out,)


def _gradient_samples(rng):
    return [Sample((uniform(rng, (5,)),), name="1d"),
            Sample((uniform(rng, (4, 3)),), {"spacing": 0.5, "edge_order": 2}, name="order2"),
            Sample((uniform(rng, (3, 4)),), {"spacing": [2.0, 0.5], "dim": (0, 1)},
                   name="per-dim"),
            Sample((uniform(rng, (3, 4)),), {"spacing": [np.array([0.0, 0.5, 2.0, 2.5])],
                                             "dim": 1, "edge_order": 2},
                   name="coordinates")]


def _gradient_op(x, spacing=1, dim=None, edge_order=1):
    if isinstance(spacing, list):
        # coordinates in the input's dtype (float64 ones would promote a float32 result) and
        # on its device (PyTorch refuses coordinates on another one)
        spacing = [bp.tensor(s, dtype=x.dtype, device=x.device) if isinstance(s, np.ndarray)
                   else s
                   for s in spacing]
    return bp.gradient(x, spacing=spacing, dim=dim, edge_order=edge_order)


def _gradient_torch(torch, x, spacing=1, dim=None, edge_order=1):
    if isinstance(spacing, list):
        spacing = [torch.tensor(s) if isinstance(s, np.ndarray) else s for s in spacing]
    return torch.gradient(x, spacing=spacing, dim=dim, edge_order=edge_order)


# -- searching and counting ---------------------------------------------------------------------

def _np_unique(x, sorted=True, return_inverse=False, return_counts=False, dim=None):
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True, axis=dim)
    out = [values]
    if return_inverse:
        out.append(inverse.reshape(x.shape) if dim is None else inverse.reshape(-1))
    if return_counts:
        out.append(counts)
    return tuple(out) if len(out) > 1 else values


def _unique_samples(rng):
    x = np.array([[3.0, 1.0, 3.0], [2.0, 1.0, 1.0]])
    rows = np.array([[1.0, 2.0], [0.0, 5.0], [1.0, 2.0]])
    return [Sample((x,), name="values"),
            Sample((x,), {"return_inverse": True, "return_counts": True}, name="inverse-counts"),
            Sample((rows,), {"return_counts": True, "dim": 0}, name="rows")]


def _np_unique_consecutive(x, return_inverse=False, return_counts=False, dim=None):
    flat = x.reshape(-1)
    starts = np.concatenate([[True], flat[1:] != flat[:-1]])
    out = [flat[starts]]
    if return_inverse:
        out.append((np.cumsum(starts) - 1).reshape(x.shape))
    if return_counts:
        out.append(np.diff(np.append(np.flatnonzero(starts), flat.size)))
    return tuple(out) if len(out) > 1 else out[0]


def _unique_consecutive_samples(rng):
    x = np.array([1.0, 1.0, 2.0, 2.0, 1.0, 3.0])
    return [Sample((x,), name="runs"),
            Sample((x,), {"return_inverse": True, "return_counts": True}, name="inverse-counts")]


def _np_searchsorted(sequence, values, out_int32=False, right=False, side=None, sorter=None):
    side = side or ("right" if right else "left")
    if sequence.ndim == 1:
        return np.searchsorted(sequence, values, side=side, sorter=sorter)
    return np.stack([np.searchsorted(s, v, side=side) for s, v in zip(sequence, values)])


def _searchsorted_samples(rng):
    sequence = np.array([-1.0, 0.0, 0.0, 1.5])
    values = np.array([0.0, 2.0, -3.0, 0.7])
    return [Sample((sequence, values), name="left"),
            Sample((sequence, values), {"right": True}, name="right"),
            Sample((np.array([0.0, 1.5, -1.0, 0.0]), values),
                   {"side": "right", "sorter": _i(2, 0, 3, 1)}, name="sorter"),
            Sample((np.sort(uniform(rng, (2, 3))), uniform(rng, (2, 2))), name="batched"),
            # past 256 rows the rows are searched together (a vectorised binary search)
            Sample((np.sort(uniform(rng, (300, 3))), uniform(rng, (300, 2))), name="many-rows")]


def _isin_samples(rng):
    return [Sample((np.array([1.0, 2.0, 3.0, 2.0]), np.array([2.0, 5.0])), name="tensors"),
            Sample((np.array([1.0, 2.0]), np.array([2.0])), {"invert": True}, name="invert")]


def _np_histc(x, bins=100, min=0, max=0):
    if min == max:
        min, max = x.min(), x.max()
    return np.histogram(x, bins=bins, range=(min, max))[0].astype(x.dtype)


def _histc_samples(rng):
    x = np.array([0.1, 0.5, 0.5, 0.9, 1.0, 2.0, -1.0])
    return [Sample((x,), {"bins": 4, "min": 0, "max": 1}, name="range"),
            Sample((x,), {"bins": 3}, name="data-range")]


def _np_histogram(x, bins=100, range=None, weight=None, density=False):
    hist, edges = np.histogram(x, bins=bins, range=range, weights=weight, density=density)
    return hist.astype(x.dtype), edges.astype(x.dtype)


def _histogram_samples(rng):
    x = np.array([0.1, 0.5, 0.5, 0.9, 1.0, 2.0])
    return [Sample((x, 4), {"range": (0.0, 1.0)}, name="range"),
            Sample((x, np.array([0.0, 0.5, 2.0])), {"weight": uniform(rng, (6,))},
                   name="edges-weight"),
            Sample((x, 3), {"density": True}, name="density")]


def _np_histogramdd(x, bins=10, range=None, weight=None, density=False):
    pairs = None if range is None else [range[i:i + 2] for i in (0, 2)]
    hist, edges = np.histogramdd(x, bins=bins, range=pairs, weights=weight, density=density)
    return (hist,) + tuple(edges)


def _histogramdd_samples(rng):
    x = uniform(rng, (6, 2))
    return [Sample((x, [2, 3]), name="counts"),
            Sample((x, 2), {"range": [-2.0, 2.0, -2.0, 2.0], "weight": uniform(rng, (6,))},
                   name="range-weight")]


def _histogramdd_op(x, bins=10, **kw):
    hist, edges = bp.histogramdd(x, bins, **kw)
    return (hist, *edges)


def _histogramdd_torch(torch, x, bins=10, **kw):
    if "weight" in kw:
        kw["weight"] = torch.as_tensor(kw["weight"])
    hist, edges = torch.histogramdd(x, bins, **kw)
    return (hist, *edges)


def _np_unravel_index(indices, shape):
    return np.unravel_index(np.where(indices < 0, indices + np.prod(shape), indices), shape)


def _errors():
    x = bp.zeros(2, 3)
    return [
        ErrorInput(lambda: bp.take(x, bp.tensor([6])), IndexError,
                   r"take: index 6 is out of range for a tensor of 6 elements"),
        ErrorInput(lambda: bp.put(x, bp.tensor([0, 1]), bp.ones(3)), bp.ShapeError,
                   r"put: source must have as many elements as index \(2\)"),
        ErrorInput(lambda: bp.index_copy(x, 1, bp.tensor([0]), bp.ones(2, 2)), bp.ShapeError,
                   r"index_copy: source must have shape \(2, 1\)"),
        ErrorInput(lambda: bp.index_reduce(x, 0, bp.tensor([0]), bp.ones(1, 3), "sum"),
                   ValueError, r"index_reduce: reduce must be 'prod', 'mean', 'amax' or 'amin'"),
        ErrorInput(lambda: bp.masked_select(x, bp.tensor([1, 0, 1])), bp.DTypeError,
                   r"masked_select: mask must be a bool tensor, got int64"),
        ErrorInput(lambda: bp.masked_scatter(x, x == 0, bp.ones(2)), bp.ShapeError,
                   r"masked_scatter: source has 2 elements but the mask selects 6"),
        ErrorInput(lambda: bp.repeat_interleave(x, bp.tensor([1, 2]), dim=1), bp.ShapeError,
                   r"repeat_interleave: repeats must have one count per slice: 3 along dim 1"),
        ErrorInput(lambda: bp.gradient(bp.zeros(1)), ValueError,
                   r"gradient: each dim differentiated needs at least edge_order \+ 1 = 2"),
        ErrorInput(lambda: bp.bincount(bp.tensor([0, -1])), ValueError,
                   r"bincount: input must be non-negative, got -1"),
        ErrorInput(lambda: bp.searchsorted(bp.ones(3), bp.ones(2), side="up"), ValueError,
                   r"searchsorted: side must be 'left' or 'right', got 'up'"),
        ErrorInput(lambda: bp.histc(bp.tensor([1, 2])), bp.DTypeError,
                   r"histc: input must be a floating-point tensor, got int64"),
        ErrorInput(lambda: bp.unravel_index(bp.tensor([6]), (2, 3)), IndexError,
                   r"unravel_index: index 6 is out of range for shape \(2, 3\)"),
        ErrorInput(lambda: bp.unique(bp.zeros(2, 0), dim=0), ValueError,
                   r"unique: the tensor of shape \(2, 0\) has a 0-sized dim other than dim 0"),
    ]


def _call(name):
    return lambda torch, *args, **kw: getattr(torch, name)(*args, **kw)


ROWS = [
    OpSpec("take", bp.take, lambda x, index: x.reshape(-1)[index],
           lambda rng: [Sample((uniform(rng, (2, 3)), _i([0, 5], [-1, 0])), name="2d-index")],
           torch=_call("take"), error_inputs=_errors),
    OpSpec("put", bp.put, _np_put, _put_samples, torch=_call("put")),
    OpSpec("put_", lambda x, *args, **kw: x.clone().put_(*args, **kw), _np_put,
           lambda rng: _put_samples(rng)[1:],
           torch=lambda torch, x, *args, **kw: x.clone().put_(*args, **kw)),
    OpSpec("index_put", bp.index_put, _np_index_put, _index_put_samples,
           torch=_index_put_torch),
    OpSpec("index_put_", lambda x, *args, **kw: x.clone().index_put_(*args, **kw),
           _np_index_put, lambda rng: _index_put_samples(rng)[1:2],
           torch=lambda torch, x, *args, **kw: _index_put_torch(torch, x.clone(), *args, **kw)),
    OpSpec("index_copy", bp.index_copy, _np_index_copy, _index_copy_samples,
           torch=_call("index_copy")),
    OpSpec("index_copy_", lambda x, *args: x.clone().index_copy_(*args), _np_index_copy,
           lambda rng: _index_copy_samples(rng)[:1],
           torch=lambda torch, x, *args: x.clone().index_copy_(*args)),
    OpSpec("index_fill", bp.index_fill, _np_index_fill, _index_fill_samples,
           torch=_call("index_fill")),
    OpSpec("index_fill_", lambda x, *args: x.clone().index_fill_(*args), _np_index_fill,
           lambda rng: _index_fill_samples(rng)[:1],
           torch=lambda torch, x, *args: x.clone().index_fill_(*args)),
    OpSpec("index_reduce", bp.index_reduce, _np_index_reduce, _index_reduce_samples,
           torch=_call("index_reduce")),
    OpSpec("index_reduce", bp.index_reduce, _np_index_reduce, _index_reduce_tie_samples,
           torch=_call("index_reduce"), kinks=True, gradgrad=False),
    OpSpec("index_reduce_", lambda x, *args, **kw: x.clone().index_reduce_(*args, **kw),
           _np_index_reduce, lambda rng: _index_reduce_samples(rng)[2:3],
           torch=lambda torch, x, *args, **kw: x.clone().index_reduce_(*args, **kw),
           gradgrad=False),
    OpSpec("masked_select", bp.masked_select,
           lambda x, mask: np.broadcast_to(x, np.broadcast_shapes(x.shape, mask.shape))[
               np.broadcast_to(mask, np.broadcast_shapes(x.shape, mask.shape))],
           _masked_samples, torch=_call("masked_select")),
    OpSpec("masked_scatter", bp.masked_scatter, _np_masked_scatter, _masked_scatter_samples,
           torch=_call("masked_scatter")),
    OpSpec("masked_scatter_", lambda x, *args: x.clone().masked_scatter_(*args),
           _np_masked_scatter, lambda rng: _masked_scatter_samples(rng)[:1],
           torch=lambda torch, x, *args: x.clone().masked_scatter_(*args)),
    OpSpec("repeat_interleave", bp.repeat_interleave, _np_repeat_interleave,
           _repeat_interleave_samples, torch=_call("repeat_interleave")),
    OpSpec("gradient", _gradient_op, _np_gradient, _gradient_samples, torch=_gradient_torch),
    OpSpec("argwhere", bp.argwhere, np.argwhere,
           lambda rng: [Sample((np.array([[0.0, 1.0], [2.0, 0.0]]),), name="2d")],
           torch=_call("argwhere"), grad=False),
    OpSpec("nonzero_static", bp.nonzero_static,
           lambda x, size, fill_value=-1: np.concatenate(
               [np.argwhere(x), np.full((size, x.ndim), fill_value)])[:size],
           lambda rng: [Sample((np.array([0.0, 1.0, 2.0]),), {"size": 4}, name="padded"),
                        Sample((np.array([[0.0, 1.0], [2.0, 3.0]]),), {"size": 2,
                               "fill_value": 7}, name="cut")],
           torch=_call("nonzero_static"), grad=False),
    OpSpec("unique", bp.unique, _np_unique, _unique_samples, torch=_call("unique"), grad=False),
    OpSpec("unique_consecutive", bp.unique_consecutive, _np_unique_consecutive,
           _unique_consecutive_samples, torch=_call("unique_consecutive"), grad=False),
    OpSpec("unravel_index", bp.unravel_index, _np_unravel_index,
           lambda rng: [Sample((_i(0, 5, 23, -1), (2, 3, 4)), name="3d")],
           torch=_call("unravel_index"), grad=False, float32=False),
    OpSpec("searchsorted", bp.searchsorted, _np_searchsorted, _searchsorted_samples,
           torch=lambda torch, seq, x, sorter=None, **kw: torch.searchsorted(
               seq, x, sorter=None if sorter is None else torch.tensor(sorter), **kw),
           grad=False),
    OpSpec("bucketize", bp.bucketize,
           lambda x, boundaries, right=False: np.searchsorted(
               boundaries, x, side="right" if right else "left"),
           lambda rng: [Sample((np.array([[-1.0, 0.5], [1.0, 3.0]]), np.array([0.0, 1.0, 2.0])),
                               name="left"),
                        Sample((np.array([0.0, 1.0, 2.5]), np.array([0.0, 1.0, 2.0])),
                               {"right": True}, name="right")],
           torch=_call("bucketize"), grad=False),
    OpSpec("isin", bp.isin, lambda e, t, invert=False: np.isin(e, t, invert=invert),
           _isin_samples, torch=_call("isin"), grad=False),
    OpSpec("bincount", bp.bincount,
           lambda x, weights=None, minlength=0: np.bincount(x, weights, minlength),
           lambda rng: [Sample((_i(0, 3, 3, 1),), name="counts"),
                        Sample((_i(0, 3, 3, 1), uniform(rng, (4,)), 6), name="weights")],
           torch=_call("bincount"), grad=False),
    OpSpec("histc", bp.histc, _np_histc, _histc_samples, torch=_call("histc"), grad=False),
    OpSpec("histogram", bp.histogram, _np_histogram, _histogram_samples,
           torch=lambda torch, x, bins, **kw: torch.histogram(
               x, bins, **{k: torch.as_tensor(v) if k == "weight" else v
                           for k, v in kw.items()}), grad=False),
    OpSpec("histogramdd", _histogramdd_op, _np_histogramdd, _histogramdd_samples,
           torch=_histogramdd_torch, grad=False),
]
