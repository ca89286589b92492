"""Op-table rows for reductions (logsumexp and the softmax family: fused.py; max, min and their
indices: extrema.py)."""

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
            Sample((x,), {"dim": (-1, 0), "keepdim": True}, name="dims-10-keep"),
            Sample((uniform(rng, ()),), name="scalar"),
            Sample((uniform(rng, ()),), {"dim": 0}, name="scalar-dim0"),
            Sample((uniform(rng, (3,)),), {"dim": 0}, name="vector")]


def single_dim_samples(rng: np.random.Generator) -> list[Sample]:
    """Ops over exactly one dim: positive and negative dims, keepdim, a vector and a scalar."""
    x = uniform(rng, (2, 3, 4))
    return [Sample((x,), {"dim": 1}, name="dim1"), Sample((x,), {"dim": 0}, name="dim0"),
            Sample((x,), {"dim": -1, "keepdim": True}, name="dim-1-keep"),
            Sample((uniform(rng, (5,)),), {"dim": 0}, name="vector"),
            Sample((uniform(rng, ()),), {"dim": 0}, name="scalar")]


def _np_reduce(fn):
    def ref(x, dim=None, keepdim=False):
        return fn(x, axis=None if np.ndim(x) == 0 else dim, keepdims=keepdim)

    return ref


def _torch_reduce(name, all_dims=None):
    """PyTorch's spelling; ``all_dims`` is what the op takes for "every dim" when keepdim is
    given without a dim (``()`` for amax), None where it cannot be spelled."""
    def call(torch, x, dim=None, keepdim=False):
        fn = getattr(torch, name)
        if dim is None and not keepdim:
            return fn(x)
        return fn(x, dim=all_dims if dim is None else dim, keepdim=keepdim)

    return call


def _dim_errors(name, *, tuple_ok=True):
    cases = [ErrorInput(lambda: getattr(bp, name)(bp.ones(2, 3), dim=2), bp.DimError,
                        rf"{name}: dim 2 is out of range for a tensor with 2 dimensions"),
             ErrorInput(lambda: getattr(bp, name)(bp.ones(2, 3), dim=-3), bp.DimError,
                        rf"{name}: dim -3 is out of range .*\[-2, 1\]")]
    if tuple_ok:
        cases.append(ErrorInput(lambda: getattr(bp, name)(bp.ones(2, 3), dim=(0, -2)),
                                bp.DimError, rf"{name}: dim \(0, -2\) names a dimension twice"))
    else:
        cases.append(ErrorInput(lambda: getattr(bp, name)(bp.ones(2, 3), dim=(0, 1)),
                                TypeError, rf"{name}: dim must be an int"))
    return cases


def _float_only(name, match="input dtype must be floating point"):
    return ErrorInput(lambda: getattr(bp, name)(bp.tensor([1, 2])), bp.DTypeError,
                      f"{name}: {match}")


def _sum_to_size_samples(rng):
    return [Sample((uniform(rng, (2, 3)), (1, 3)), name="keep-rows"),
            Sample((uniform(rng, (2, 1, 3)), (3,)), name="drop-leading")]


# -- prod ---------------------------------------------------------------------------------------

def _prod_samples(rng):
    one_zero = uniform(rng, (2, 3))
    one_zero[1, 1] = 0.0
    zero_rows = np.array([[0.0, 1.5, -0.7], [0.0, 0.0, 1.2], [0.8, -1.1, 1.3]])
    return [Sample((uniform(rng, (2, 3)),), name="all"),
            Sample((uniform(rng, (2, 3, 4)),), {"dim": 1}, name="dim1"),
            Sample((uniform(rng, (2, 3, 4)),), {"dim": -1, "keepdim": True},
                   name="dim-1-keep"),
            Sample((uniform(rng, ()),), name="scalar"),
            Sample((uniform(rng, ()),), {"dim": 0}, name="scalar-dim0"),
            Sample((one_zero,), name="one-zero-all"),
            Sample((one_zero,), {"dim": 0}, name="one-zero-dim0"),
            Sample((zero_rows,), {"dim": 1}, name="zeros-by-row"),
            Sample((zero_rows,), name="several-zeros-all"),
            Sample((np.zeros((2, 3)),), {"dim": 0}, name="all-zero")]


def _torch_prod(torch, x, dim=None, keepdim=False):
    return torch.prod(x) if dim is None else torch.prod(x, dim, keepdim)


# -- var and std --------------------------------------------------------------------------------

def _var_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x,), name="all"), Sample((x,), {"dim": 1}, name="dim1"),
            Sample((x,), {"dim": -1, "keepdim": True}, name="dim-1-keep"),
            Sample((x,), {"dim": (0, 2)}, name="dims02"),
            Sample((x,), {"dim": 2, "correction": 0}, name="correction0"),
            Sample((x,), {"dim": (0, 1), "correction": 2, "keepdim": True}, name="correction2"),
            Sample((x,), {"dim": 1, "unbiased": False}, name="unbiased-false"),
            Sample((x, 0, False, True), name="legacy-positional"),
            Sample((x, False), name="legacy-bool"),
            Sample((uniform(rng, ()),), {"correction": 0}, name="scalar"),
            Sample((uniform(rng, (5,)),), {"dim": 0}, name="vector")]


def _np_var_args(dim=None, unbiased=None, keepdim=False, correction=None):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None else int(unbiased)
    return dim, correction, keepdim


def _np_var(x, *args, **kwargs):
    dim, correction, keepdim = _np_var_args(*args, **kwargs)
    return np.var(x, axis=dim, ddof=correction, keepdims=keepdim)


def _np_std(x, *args, **kwargs):
    return np.sqrt(_np_var(x, *args, **kwargs))


def _np_var_mean(x, *args, **kwargs):
    dim, _, keepdim = _np_var_args(*args, **kwargs)
    return _np_var(x, *args, **kwargs), np.mean(x, axis=dim, keepdims=keepdim)


def _np_std_mean(x, *args, **kwargs):
    var, mean = _np_var_mean(x, *args, **kwargs)
    return np.sqrt(var), mean


def _output(fn, k):
    return lambda *args, **kwargs: fn(*args, **kwargs)[k]


def _statistic_and_mean_rows(name, op, ref):
    """One node, two outputs: the generated tests send a gradient into both (the rule adds
    them up); a row for each output alone sends none into the other (the rule gets None)."""
    torch = _torch_stat(name)
    return [OpSpec(name, op, ref, _var_samples, torch=torch, error_inputs=_var_errors(name)),
            *(OpSpec(name, _output(op, k), _output(ref, k), _var_samples, torch=_output(torch, k))
              for k in (0, 1))]


def _torch_stat(name):
    return lambda torch, x, *args, **kwargs: getattr(torch, name)(x, *args, **kwargs)


def _std_zero_samples(rng):
    return [Sample((np.full((2, 3), 0.75),), {"dim": 1}, name="constant-rows"),
            Sample((np.array([[1.0, 1.0, 1.0], [0.5, -0.5, 1.5]]),), {"dim": 1},
                   name="one-constant-row")]


def _var_errors(name):
    def cases():
        return [*_dim_errors(name), _float_only(name),
                ErrorInput(lambda: getattr(bp, name)(bp.ones(3), unbiased=True, correction=1),
                           TypeError, f"{name}: give either correction= or .*unbiased=")]

    return cases


# -- norm ---------------------------------------------------------------------------------------

def _np_norm(x, p="fro", dim=None, keepdim=False):
    p = 2.0 if p == "fro" else float(p)
    a = np.abs(x)
    if p == np.inf:
        return np.amax(a, axis=dim, keepdims=keepdim)
    if p == -np.inf:
        return np.amin(a, axis=dim, keepdims=keepdim)
    if p == 0:
        return np.sum(a != 0, axis=dim, keepdims=keepdim).astype(x.dtype)
    return np.sum(a ** p, axis=dim, keepdims=keepdim) ** (1 / p)


def _norm_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x,), name="default"), Sample((x,), {"dim": 1}, name="p2-dim1"),
            Sample((x,), {"p": "fro", "dim": (0, 2)}, name="fro-dims02"),
            Sample((x,), {"p": 2, "dim": (0, 1, 2), "keepdim": True}, name="p2-all-keep"),
            Sample((x,), {"p": 1, "dim": -1, "keepdim": True}, name="p1"),
            Sample((x,), {"p": float("inf"), "dim": 1}, name="inf"),
            Sample((x,), {"p": -float("inf"), "dim": 0}, name="-inf"),
            Sample((x,), {"p": 3, "dim": (1, 2)}, name="p3"),
            Sample((x,), {"p": 1.5, "dim": 2}, name="p1.5"),
            Sample((x,), {"p": 0.5, "dim": 1}, name="p0.5"),
            Sample((x,), {"p": -1, "dim": 1}, name="p-1"),
            Sample((x,), {"p": 0, "dim": 1}, name="p0"),
            Sample((uniform(rng, ()),), name="scalar"),
            Sample((uniform(rng, (5,)),), {"p": 2, "dim": 0}, name="vector")]


def _norm_zero_samples(rng):
    x = np.array([[0.0, 0.0, 0.0], [0.3, -1.2, 0.8]])
    return [Sample((x,), {"dim": 1}, name="p2-zero-row"),
            Sample((x,), {"p": 3, "dim": 1}, name="p3-zero-row"),
            Sample((x,), {"p": 1.5, "dim": 1}, name="p1.5-zero-row"),
            Sample((np.zeros(4),), name="zero-vector")]


def _norm_tie_samples(rng):
    return [Sample((np.array([[1.0, -3.0, 3.0], [2.0, -2.0, 0.5]]),),
                   {"p": float("inf"), "dim": 1}, name="inf-ties"),
            Sample((np.array([0.5, -0.5, 2.0]),), {"p": -float("inf")}, name="-inf-ties")]


def _torch_norm(torch, x, p="fro", dim=None, keepdim=False):
    return torch.norm(x, p=p, dim=dim, keepdim=keepdim)


def _norm_errors():
    return [*_dim_errors("norm"),
            _float_only("norm", "input dtype must be floating point or complex"),
            ErrorInput(lambda: bp.norm(bp.ones(2, 2, 2), "fro", (0, 1, 2)), ValueError,
                       r"norm: p='fro' is a matrix norm over at most 2 dims"),
            ErrorInput(lambda: bp.norm(bp.ones(2, 2), "spectral"), ValueError,
                       r"norm: p='spectral' is not supported")]


# -- cumsum -------------------------------------------------------------------------------------

def _np_cumsum(x, dim, dtype=None):
    return np.cumsum(x.reshape(1) if x.ndim == 0 else x, axis=dim).reshape(x.shape)


def _cumsum_samples(rng):
    return single_dim_samples(rng)[:2] + [
        Sample((uniform(rng, (2, 3, 4)),), {"dim": -1}, name="dim-1"),
        Sample((uniform(rng, (5,)),), {"dim": 0}, name="vector"),
        Sample((uniform(rng, ()),), {"dim": 0}, name="scalar")]


def _bool_samples(rng):
    x = rng.uniform(size=(2, 3, 4)) > 0.3
    return [Sample((x,), name="all"), Sample((x,), {"dim": 1}, name="dim1"),
            Sample((x,), {"dim": -1, "keepdim": True}, name="dim-1-keep"),
            Sample((x,), {"dim": (0, 2)}, name="dims02"),
            Sample((np.array([[1.0, 0.0], [2.0, -3.0]]),), {"dim": 1}, name="floats"),
            Sample((np.array(True),), name="scalar")]


ROWS = [
    OpSpec("sum", bp.sum, _np_reduce(np.sum), dim_samples, torch=_torch_reduce("sum", ()),
           error_inputs=lambda: _dim_errors("sum")),
    OpSpec("mean", bp.mean, _np_reduce(np.mean), dim_samples, torch=_torch_reduce("mean", ()),
           error_inputs=lambda: [*_dim_errors("mean"),
                                 ErrorInput(lambda: bp.tensor([1, 2]).mean(), TypeError,
                                            "mean: input dtype must be floating point")]),
    OpSpec("sum_to_size", lambda x, size: x.sum_to_size(size),
           lambda x, size: np.sum(x, axis=tuple(range(x.ndim - len(size))) + tuple(
               x.ndim - len(size) + i for i, n in enumerate(size) if n == 1), keepdims=True
           ).reshape(size), _sum_to_size_samples,
           torch=lambda torch, x, size: x.sum_to_size(size)),
    # prod's VJP multiplies by the product of the other elements (no division), and its second
    # derivative goes through prod_others: both are exact at one zero and at several.
    OpSpec("prod", bp.prod, _np_reduce(np.prod), _prod_samples, torch=_torch_prod,
           aliases=("prod_others",),
           error_inputs=lambda: _dim_errors("prod", tuple_ok=False)),
    OpSpec("var", bp.var, _np_var, _var_samples, torch=_torch_stat("var"),
           error_inputs=_var_errors("var")),
    OpSpec("std", bp.std, _np_std, _var_samples, torch=_torch_stat("std"),
           error_inputs=_var_errors("std")),
    # At zero variance std's gradient is zero (PyTorch's convention); the central difference
    # of sqrt(var) there is zero as well, but the second derivative is infinite.
    OpSpec("std", bp.std, _np_std, _std_zero_samples, torch=_torch_stat("std"), gradgrad=False),
    *_statistic_and_mean_rows("var_mean", bp.var_mean, _np_var_mean),
    *_statistic_and_mean_rows("std_mean", bp.std_mean, _np_std_mean),
    OpSpec("std_mean", bp.std_mean, _np_std_mean, _std_zero_samples,
           torch=_torch_stat("std_mean"), gradgrad=False),
    OpSpec("norm", bp.norm, _np_norm, _norm_samples, torch=_torch_norm,
           error_inputs=_norm_errors),
    # At the zero vector PyTorch's gradient is zero (the central difference agrees); the second
    # derivative does not exist there.
    OpSpec("norm", bp.norm, _np_norm, _norm_zero_samples, torch=_torch_norm, gradgrad=False),
    OpSpec("norm", bp.norm, _np_norm, _norm_tie_samples, torch=_torch_norm, kinks=True,
           gradgrad=False),
    OpSpec("cumsum", bp.cumsum, _np_cumsum, _cumsum_samples,
           torch=lambda torch, x, dim: torch.cumsum(x, dim), aliases=("reverse_cumsum",),
           error_inputs=lambda: _dim_errors("cumsum", tuple_ok=False)),
    OpSpec("all", bp.all, _np_reduce(np.all), _bool_samples, torch=_torch_reduce("all"),
           grad=False, error_inputs=lambda: _dim_errors("all")),
    OpSpec("any", bp.any, _np_reduce(np.any), _bool_samples, torch=_torch_reduce("any"),
           grad=False, error_inputs=lambda: _dim_errors("any")),
]
