"""Op-table rows for sorting and the further reductions (backprop/ops/reductions_more.py)."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .spec import ErrorInput, OpSpec, Sample, uniform


def _sort_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x,), name="last"), Sample((x,), {"dim": 1}, name="dim1"),
            Sample((x,), {"dim": 0, "descending": True}, name="dim0-desc"),
            Sample((uniform(rng, (5,)),), {"descending": True}, name="vector-desc"),
            Sample((uniform(rng, ()),), name="scalar")]


def _tie_samples(rng):
    # Ties keep their order in both directions (a stable sort); only the indices show it.
    ties = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, 2.0]])
    return _sort_samples(rng) + [
        Sample((ties,), {"stable": True}, name="ties"),
        Sample((ties,), {"descending": True, "stable": True}, name="ties-desc")]


def _np_argsort(x, dim=-1, descending=False, stable=False):
    if np.ndim(x) == 0:
        return np.asarray(0)
    if not descending:
        return np.argsort(x, axis=dim, kind="stable")
    # Stable descending: sort by (-value, position).
    return np.argsort(-x, axis=dim, kind="stable")


def _np_sort(x, dim=-1, descending=False, stable=False):
    indices = _np_argsort(x, dim, descending)
    if np.ndim(x) == 0:
        return x, indices
    return np.take_along_axis(x, indices, dim), indices


def _topk_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x, 2), name="last"), Sample((x, 3), {"dim": 1}, name="dim1"),
            Sample((x, 1), {"dim": 0, "largest": False}, name="dim0-smallest"),
            Sample((uniform(rng, (5,)), 5), name="vector-all"),
            Sample((uniform(rng, (5,)), 0), name="k0"),
            Sample((uniform(rng, ()), 1), name="scalar")]


def _np_topk(x, k, dim=-1, largest=True, sorted=True):
    values, indices = _np_sort(x, dim, descending=largest)
    if np.ndim(x) == 0:
        return values, indices
    return (np.take(values, np.arange(k), axis=dim), np.take(indices, np.arange(k), axis=dim))


def _select_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x,), {"dim": 1}, name="dim1"), Sample((x,), {"dim": -1, "keepdim": True},
                                                          name="dim-1-keep"),
            Sample((uniform(rng, (5,)),), {"dim": 0}, name="vector"),
            Sample((uniform(rng, ()),), {"dim": 0}, name="scalar")]


def _np_select(position):
    def ref(x, dim=-1, keepdim=False, k=None):
        if np.ndim(x) == 0:
            return x, np.asarray(0)
        indices = np.argsort(x, axis=dim, kind="stable")
        at = np.take(indices, [position(x.shape[dim], k)], axis=dim)
        values, index = np.take_along_axis(x, at, dim), at
        return (values, index) if keepdim else (values.squeeze(dim), index.squeeze(dim))

    return ref


def _np_kthvalue(x, k, dim=-1, keepdim=False):
    return _np_select(lambda n, k: k - 1)(x, dim, keepdim, k)


def _kth_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x, 2), {"dim": 1}, name="dim1"), Sample((x, 4), name="last-largest"),
            Sample((x, 1), {"dim": 0, "keepdim": True}, name="dim0-keep"),
            Sample((uniform(rng, ()), 1), name="scalar")]


def _median_all_samples(rng):
    return [Sample((uniform(rng, (2, 3, 4)),), name="even"),
            Sample((uniform(rng, (3, 3)),), name="odd"), Sample((uniform(rng, ()),), name="scalar"),
            Sample((np.array([1.0, 2.0, 2.0, 0.0]),), name="ties", on_kink=True)]


def _np_mode(x, dim=-1, keepdim=False):
    # Continuous random values: every value occurs once, so the mode is the smallest.
    return _np_select(lambda n, k: 0)(x, dim, keepdim)


def _mode_repeat_samples(rng):
    repeats = np.array([[3.0, 1.0, 1.0, 3.0, 3.0, 1.0], [2.0, 0.5, 2.0, 0.5, 0.5, -1.0]])
    return [Sample((repeats,), {"dim": 1}, name="repeats")]


def _np_mode_with_repeats(x, dim=-1, keepdim=False):
    # The smallest of the most frequent values, and the last index where it occurs.
    return np.array([1.0, 0.5]), np.array([5, 4])


def _cumulative_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x, 1), name="dim1"), Sample((x, -1), name="dim-1"),
            Sample((uniform(rng, ()), 0), name="scalar")]


def _cumulative_tie_samples(rng):
    # The last of tied values is the index (PyTorch's); a tie is a kink, so no gradient check.
    return [Sample((np.array([[1.0, 3.0, 2.0, 3.0], [0.0, -1.0, -1.0, 2.0]]), 1), name="ties")]


def _np_cumulative(accumulate):
    def ref(x, dim):
        if np.ndim(x) == 0:
            return x, np.asarray(0)
        values = accumulate(x, axis=dim)
        shape = [1] * x.ndim
        shape[dim] = x.shape[dim]
        positions = np.where(x == values, np.arange(x.shape[dim]).reshape(shape), 0)
        return values, np.maximum.accumulate(positions, axis=dim)

    return ref


def _cumprod_samples(rng):
    x = uniform(rng, (2, 3, 4))
    zeros = uniform(rng, (2, 5))
    zeros[0, 1] = zeros[1, 2] = zeros[1, 4] = 0.0
    return [Sample((x, 1), name="dim1"), Sample((x, -1), name="dim-1"),
            Sample((uniform(rng, ()), 0), name="scalar"),
            Sample((zeros, 1), name="zeros"), Sample((zeros, 0), name="zeros-dim0")]


def _np_cumulative_op(fn):
    return lambda x, dim: x.copy() if np.ndim(x) == 0 else fn(x, axis=dim)


def _logcumsumexp_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x, 1), name="dim1"), Sample((x, -1), name="dim-1"),
            Sample((uniform(rng, ()), 0), name="scalar"),
            Sample((100.0 * uniform(rng, (6,)), 0), name="wide-range")]


def _nanquantile_samples(rng):
    x = uniform(rng, (2, 3, 5))
    x[0, 1, 2] = x[1, 2, 0] = np.nan
    return _quantile_samples(rng) + [Sample((x, 0.4), {"dim": 2}, name="nan")]


def _quantile_samples(rng):
    x = uniform(rng, (2, 3, 5))
    samples = [Sample((x, 0.3), name="all"), Sample((x, 0.25), {"dim": 1}, name="dim1"),
               Sample((x, np.array([0.0, 0.5, 1.0])), {"dim": -1, "keepdim": True},
                      grad_args=(0,), name="q-tensor-keep"),
               Sample((uniform(rng, ()), 0.7), name="scalar")]
    return samples + [Sample((x, 0.35), {"dim": 2, "interpolation": mode}, name=mode)
                      for mode in ("lower", "higher", "midpoint", "nearest")]


def _np_quantile(fn):
    def ref(x, q, dim=None, keepdim=False, interpolation="linear"):
        axis = None if np.ndim(x) == 0 else dim
        return fn(x, q, axis=axis, keepdims=keepdim and np.ndim(x) > 0, method=interpolation)

    return ref


def _torch_quantile(name):
    def call(torch, x, q, **kw):
        q = torch.tensor(q, dtype=x.dtype) if isinstance(q, np.ndarray) else q
        return getattr(torch, name)(x, q, **kw)

    return call


def _quantile_errors(name):
    return lambda: [
        ErrorInput(lambda: getattr(bp, name)(bp.ones(3), 1.5), ValueError,
                   rf"{name}: q values must be in the range \[0, 1\]"),
        ErrorInput(lambda: getattr(bp, name)(bp.ones(3), 0.5, interpolation="cubic"), ValueError,
                   rf"{name}: interpolation must be one of"),
        ErrorInput(lambda: getattr(bp, name)(bp.tensor([1, 2]), 0.5), TypeError,
                   rf"{name}: input must be a float tensor")]


def _aminmax_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x,), name="all"), Sample((x,), {"dim": 1}, name="dim1"),
            Sample((x,), {"dim": -1, "keepdim": True}, name="dim-1-keep"),
            Sample((uniform(rng, ()),), name="scalar")]


def _np_aminmax(x, dim=None, keepdim=False):
    axis = None if np.ndim(x) == 0 else dim
    return np.min(x, axis=axis, keepdims=keepdim), np.max(x, axis=axis, keepdims=keepdim)


def _nan_samples(rng):
    x = uniform(rng, (2, 3, 4))
    with_nan = x.copy()
    with_nan[0, 1, 2] = with_nan[1, 0, 0] = np.nan
    return [Sample((x,), name="all"), Sample((x,), {"dim": 1}, name="dim1"),
            Sample((x,), {"dim": (0, 2), "keepdim": True}, name="dims02-keep"),
            Sample((with_nan,), name="nan-all"), Sample((with_nan,), {"dim": -1}, name="nan-dim"),
            Sample((uniform(rng, ()),), name="scalar")]


def _np_nan(fn):
    def ref(x, dim=None, keepdim=False):
        return np.asarray(fn(x, axis=None if np.ndim(x) == 0 else dim, keepdims=keepdim))

    return ref


def _torch_nan(name):
    def call(torch, x, dim=None, keepdim=False):
        return getattr(torch, name)(x, dim=dim, keepdim=keepdim)

    return call


def _count_samples(rng):
    x = uniform(rng, (2, 3, 4))
    x[x > 1.0] = 0.0
    return [Sample((x,), name="all"), Sample((x,), {"dim": 1}, name="dim1"),
            Sample((x,), {"dim": (0, 2)}, name="dims02"), Sample((np.zeros(()),), name="scalar")]


def _np_count(x, dim=None):
    return np.asarray(np.count_nonzero(x, axis=None if np.ndim(x) == 0 else dim))


def _diff_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x,), name="last"), Sample((x,), {"n": 2, "dim": 1}, name="n2-dim1"),
            Sample((x,), {"n": 0}, name="n0"), Sample((x,), {"n": 5}, name="n-past-length"),
            Sample((x, 1, 0, uniform(rng, (1, 3, 4)), uniform(rng, (2, 3, 4))),
                   name="prepend-append"),
            Sample((x, 2, -1, None, uniform(rng, (2, 3, 1))), name="append")]


def _np_diff(x, n=1, dim=-1, prepend=None, append=None):
    kwargs = {k: v for k, v in (("prepend", prepend), ("append", append)) if v is not None}
    return np.diff(x, n=n, axis=dim, **kwargs)


ROWS = [
    OpSpec("sort", bp.sort, _np_sort, _sort_samples,
           torch=lambda torch, x, **kw: torch.sort(x, **kw), aliases=("argsort",),
           error_inputs=lambda: [
               ErrorInput(lambda: bp.sort(bp.ones(2, 3), 2), bp.DimError,
                          r"sort: dim 2 is out of range for a tensor with 2 dimensions")]),
    OpSpec("argsort", bp.argsort, _np_argsort, _tie_samples, grad=False,
           torch=lambda torch, x, **kw: torch.argsort(x, **kw)),
    OpSpec("msort", bp.msort, lambda x: np.sort(x, axis=0),
           lambda rng: [Sample((uniform(rng, (4, 3)),), name="matrix"),
                        Sample((uniform(rng, (5,)),), name="vector")],
           torch=lambda torch, x: torch.msort(x)),
    OpSpec("topk", bp.topk, _np_topk, _topk_samples,
           torch=lambda torch, x, k, **kw: torch.topk(x, k, **kw), error_inputs=lambda: [
               ErrorInput(lambda: bp.topk(bp.ones(2, 3), 4), ValueError,
                          r"topk: k \(4\) is out of range for dim -1 of size 3")]),
    OpSpec("kthvalue", bp.kthvalue, _np_kthvalue, _kth_samples,
           torch=lambda torch, x, k, **kw: torch.kthvalue(x, k, **kw),
           aliases=("order_statistic_index",), error_inputs=lambda: [
               ErrorInput(lambda: bp.kthvalue(bp.ones(2, 3), 4), ValueError,
                          r"kthvalue: k \(4\) is out of range for dim -1 of size 3")]),
    OpSpec("median", bp.median, _np_select(lambda n, k: (n - 1) // 2), _select_samples,
           torch=lambda torch, x, **kw: torch.median(x, **kw)),
    # median() over all elements: tied elements share the gradient evenly (PyTorch's rule).
    OpSpec("median", bp.median, lambda x: np.sort(x, axis=None)[(x.size - 1) // 2],
           _median_all_samples, torch=lambda torch, x: torch.median(x), kinks=True,
           gradgrad=False, error_inputs=lambda: [
               ErrorInput(lambda: bp.median(bp.ones(2, 3), keepdim=True), TypeError,
                          r"median: keepdim needs a dim")]),
    OpSpec("nanmedian", bp.nanmedian, _np_select(lambda n, k: (n - 1) // 2), _select_samples,
           torch=lambda torch, x, **kw: torch.nanmedian(x, **kw)),
    OpSpec("mode", bp.mode, _np_mode, _select_samples,
           torch=lambda torch, x, **kw: torch.mode(x, **kw)),
    OpSpec("mode", bp.mode, _np_mode_with_repeats, _mode_repeat_samples, grad=False,
           torch=lambda torch, x, **kw: torch.mode(x, **kw)),
    OpSpec("cummax", bp.cummax, _np_cumulative(np.maximum.accumulate), _cumulative_samples,
           torch=lambda torch, x, dim: torch.cummax(x, dim),
           aliases=("cumulative_extreme_index",)),
    OpSpec("cummin", bp.cummin, _np_cumulative(np.minimum.accumulate), _cumulative_samples,
           torch=lambda torch, x, dim: torch.cummin(x, dim)),
    OpSpec("cummax", bp.cummax, _np_cumulative(np.maximum.accumulate), _cumulative_tie_samples,
           torch=lambda torch, x, dim: torch.cummax(x, dim), grad=False),
    OpSpec("cummin", bp.cummin, _np_cumulative(np.minimum.accumulate), _cumulative_tie_samples,
           torch=lambda torch, x, dim: torch.cummin(x, dim), grad=False),
    OpSpec("cumprod", bp.cumprod, _np_cumulative_op(np.cumprod), _cumprod_samples,
           torch=lambda torch, x, dim: torch.cumprod(x, dim)),
    OpSpec("logcumsumexp", bp.logcumsumexp, _np_cumulative_op(np.logaddexp.accumulate),
           _logcumsumexp_samples, torch=lambda torch, x, dim: torch.logcumsumexp(x, dim)),
    OpSpec("quantile", bp.quantile, _np_quantile(np.quantile), _quantile_samples,
           torch=_torch_quantile("quantile"), error_inputs=_quantile_errors("quantile")),
    OpSpec("nanquantile", bp.nanquantile, _np_quantile(np.nanquantile), _nanquantile_samples,
           torch=_torch_quantile("nanquantile"), error_inputs=_quantile_errors("nanquantile")),
    OpSpec("aminmax", bp.aminmax, _np_aminmax, _aminmax_samples,
           torch=lambda torch, x, **kw: torch.aminmax(x, **kw), error_inputs=lambda: [
               ErrorInput(lambda: bp.aminmax(bp.ones(0)), bp.ShapeError,
                          r"aminmax: cannot reduce a tensor of shape \(0,\) with no elements")]),
    OpSpec("nansum", bp.nansum, _np_nan(np.nansum), _nan_samples, torch=_torch_nan("nansum")),
    OpSpec("nanmean", bp.nanmean, _np_nan(np.nanmean), _nan_samples, torch=_torch_nan("nanmean"),
           error_inputs=lambda: [
               ErrorInput(lambda: bp.nanmean(bp.tensor([1, 2])), TypeError,
                          r"nanmean: expected a floating point or complex tensor")]),
    OpSpec("count_nonzero", bp.count_nonzero, _np_count, _count_samples, grad=False,
           torch=lambda torch, x, dim=None: torch.count_nonzero(x, dim)),
    OpSpec("diff", bp.diff, _np_diff, _diff_samples,
           torch=lambda torch, *args, **kw: torch.diff(*args, **kw), error_inputs=lambda: [
               ErrorInput(lambda: bp.diff(bp.tensor(1.0)), ValueError,
                          r"diff: expected a tensor of at least one dimension")]),
]
