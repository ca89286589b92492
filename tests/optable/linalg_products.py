"""Op-table rows for ``backprop.ops.linalg_products``: the addmm family, tensordot, kron, vdot,
cross products, distances, covariance and the trapezoid rule."""

from __future__ import annotations

import functools
import itertools

import numpy as np

import backprop as bp

from .spec import ErrorInput, OpSpec, Sample, uniform


def _torch(name: str):
    def call(torch, *args, **kwargs):
        return functools.reduce(getattr, name.split("."), torch)(*args, **kwargs)

    return call


def _ones(*shape: int) -> bp.Tensor:
    return bp.ones(*shape, dtype=bp.float64)


def _shapes(*groups: tuple[tuple[int, ...], ...], kwargs: tuple[dict, ...] = ({},)):
    """One sample per group of operand shapes and per keyword set."""

    def samples(rng: np.random.Generator) -> list[Sample]:
        return [Sample(tuple(uniform(rng, s) for s in shapes), dict(kw),
                       name=f"{'x'.join(str(s) for s in shapes)}{kw or ''}")
                for shapes in groups for kw in kwargs]

    return samples


_SCALES = ({}, {"beta": 0.5, "alpha": -2.0})


def _add_product(product):
    # beta = 0 ignores input, NaN included
    return lambda input, a, b, beta=1, alpha=1: ((beta * input if beta else 0)
                                                  + alpha * product(a, b))


def _beta_zero_ignores_nan(shapes):
    def samples(rng: np.random.Generator) -> list[Sample]:
        nan = np.full(shapes[0], np.nan)
        return [Sample((nan, uniform(rng, shapes[1]), uniform(rng, shapes[2])), {"beta": 0},
                       grad_args=(1, 2), name="beta0-nan")]

    return samples


def _joined(*sample_sets):
    return lambda rng: [s for samples in sample_sets for s in samples(rng)]


def _cdist_ref(x1, x2, p=2.0, compute_mode=None):
    diff = np.abs(x1[..., :, None, :] - x2[..., None, :, :])
    if p == 0:
        return np.count_nonzero(diff, axis=-1).astype(np.float64)
    if p == np.inf:
        return diff.max(axis=-1)
    return np.sum(diff ** p, axis=-1) ** (1 / p)


def _cdist_samples(rng: np.random.Generator) -> list[Sample]:
    result = []
    for p in (1.0, 2.0, 3.0, 0.5, np.inf):
        result.append(Sample((uniform(rng, (3, 2)), uniform(rng, (4, 2)), p), name=f"p{p}"))
    result.append(Sample((uniform(rng, (2, 1, 3, 2)), uniform(rng, (2, 4, 2))),
                         {"compute_mode": "use_mm_for_euclid_dist"}, name="mm-batched"))
    result.append(Sample((uniform(rng, (2, 3, 2)), uniform(rng, (4, 2)), 0.0), name="p0",
                         grad_args=()))
    return result


def _dist_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((uniform(rng, (2, 3)), uniform(rng, (3,)), p), name=f"p{p}")
            for p in (2, 1, 3, np.inf)]


def _renorm_ref(x, p, dim, maxnorm):
    moved = np.moveaxis(x, dim, 0).reshape(x.shape[dim], -1)
    norms = np.linalg.norm(moved, ord=p, axis=1)
    factor = np.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    shape = [1] * x.ndim
    shape[dim] = -1
    return x * factor.reshape(shape)


def _renorm_samples(rng: np.random.Generator) -> list[Sample]:
    x = uniform(rng, (3, 2, 2))
    x[1] *= 0.05  # a slice under maxnorm, left as it is
    return [Sample((x, 2, 0, 1.0), name="p2"), Sample((x, 1, -1, 1.5), name="p1-last"),
            Sample((x, np.inf, 1, 0.8), name="inf")]


def _block_diag_ref(*arrays):
    blocks = [a.reshape(1, -1) if a.ndim < 2 else a for a in arrays]
    out = np.zeros((sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)))
    r = c = 0
    for b in blocks:
        out[r:r + b.shape[0], c:c + b.shape[1]] = b
        r, c = r + b.shape[0], c + b.shape[1]
    return out


def _cartesian_ref(*arrays):
    if len(arrays) == 1:
        return arrays[0]
    return np.stack([g.ravel() for g in np.meshgrid(*arrays, indexing="ij")], 1)


def _combinations_ref(x, r=2, with_replacement=False):
    choose = itertools.combinations_with_replacement if with_replacement \
        else itertools.combinations
    return np.array([[x[i] for i in c] for c in choose(range(len(x)), r)]).reshape(-1, r)


def _combination_samples(rng: np.random.Generator) -> list[Sample]:
    x = uniform(rng, (4,))
    return [Sample((x,), name="pairs"), Sample((x, 3), name="triples"),
            Sample((x, 2, True), name="with-replacement")]


def _cov_ref(x, correction=1, fweights=None, aweights=None):
    return np.cov(x, ddof=correction, fweights=fweights, aweights=aweights)


def _cov_samples(rng: np.random.Generator) -> list[Sample]:
    x = uniform(rng, (2, 4))
    fw = np.array([1, 2, 1, 3])
    # float32 (so float32 runs stay float32), exact in binary: the weights' float32 sums are
    # then exact, and a correction of 0 keeps PyTorch's float32 normalisation exact too.
    aw = np.array([0.5, 1.25, 0.75, 1.0], dtype=np.float32)
    return [Sample((x,), name="plain"), Sample((uniform(rng, (5,)),), name="one-variable"),
            Sample((x,), {"correction": 0}, name="correction0"),
            Sample((x,), {"fweights": fw}, name="fweights"),
            Sample((x,), {"correction": 0, "fweights": fw, "aweights": aw}, name="weights"),
            Sample((x,), {"correction": 0, "aweights": aw}, name="aweights")]


def _torch_cov(torch, x, **kwargs):
    """The weights (NumPy arrays in the samples' keywords) as torch tensors."""
    return torch.cov(x, **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                           for k, v in kwargs.items()})


def _cumulative_trapezoid_ref(y, x=None, *, dx=None, dim=-1):
    y = np.moveaxis(y, dim, -1)
    pairs = y[..., 1:] + y[..., :-1]
    if x is None:
        spacing = 1.0 if dx is None else dx
    else:
        spacing = np.diff(x if x.ndim == 1 else np.moveaxis(x, dim, -1), axis=-1)
    return np.moveaxis(np.cumsum(pairs * spacing / 2, axis=-1), -1, dim)


def _trapezoid_ref(y, x=None, *, dx=None, dim=-1):
    if x is None:
        return np.trapezoid(y, dx=1.0 if dx is None else dx, axis=dim)
    return np.trapezoid(y, x, axis=dim)


def _trapezoid_samples(rng: np.random.Generator) -> list[Sample]:
    x = np.sort(uniform(rng, (4,)))
    return [Sample((uniform(rng, (2, 4)),), name="unit"),
            Sample((uniform(rng, (4, 2)),), {"dx": 0.5, "dim": 0}, name="dx"),
            Sample((uniform(rng, (2, 4)), x), name="x-1d", grad_args=(0, 1)),
            Sample((uniform(rng, (2, 4)), uniform(rng, (1, 4))), name="x-broadcast")]


def _vander_ref(x, N=None):
    n = x.shape[-1] if N is None else N
    return x[..., None] ** np.arange(n)


def _vander_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((uniform(rng, (3,)),), name="square"),
            Sample((uniform(rng, (2, 3)),), {"N": 4}, name="batched-N"),
            Sample((np.array([0.0, 1.5]),), {"N": 3}, name="zero")]


def _tensordot_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((uniform(rng, (2, 3, 4)), uniform(rng, (3, 4, 2))), name="dims2"),
            Sample((uniform(rng, (2, 3)), uniform(rng, (3, 2)), 1), name="dims1"),
            Sample((uniform(rng, (2, 3)), uniform(rng, (2,)), 0), name="outer"),
            Sample((uniform(rng, (2, 3, 2)), uniform(rng, (3, 4, 2))),
                   {"dims": ([0, 1], [2, 0])}, name="lists")]


def _tensordot_ref(a, b, dims=2):
    return np.tensordot(a, b, dims)


def _addmm_errors() -> list[ErrorInput]:
    return [
        ErrorInput(lambda: bp.addmm(_ones(2, 2), _ones(2, 3), _ones(4, 2)), bp.ShapeError,
                   r"addmm: cannot multiply mat1 \(2, 3\) by mat2 \(4, 2\): inner sizes 3 and 4"),
        ErrorInput(lambda: bp.addmm(_ones(3, 2), _ones(2, 3), _ones(3, 2)), bp.ShapeError,
                   r"addmm: input of shape \(3, 2\) cannot be broadcast to the product's shape "
                   r"\(2, 2\)"),
        ErrorInput(lambda: bp.addmm(_ones(2), _ones(3), _ones(3, 2)), bp.ShapeError,
                   r"addmm: mat1 must be a 2-D tensor, got shape \(3,\)"),
        ErrorInput(lambda: bp.addmm(_ones(2), bp.ones(2, 3), bp.ones(3, 2)), bp.DTypeError,
                   r"addmm: expected operands of one dtype, got input float64, mat1 float32, "
                   r"mat2 float32"),
    ]


def _cdist_errors() -> list[ErrorInput]:
    return [
        ErrorInput(lambda: bp.cdist(_ones(3, 2), _ones(4, 3)), bp.ShapeError,
                   r"cdist: x1 \(3, 2\) and x2 \(4, 3\) must have the same number of columns"),
        ErrorInput(lambda: bp.cdist(_ones(3), _ones(4, 3)), bp.ShapeError,
                   r"cdist: x1 and x2 must have at least 2 dimensions"),
        ErrorInput(lambda: bp.cdist(_ones(3, 2), _ones(4, 2), p=-1), ValueError,
                   r"cdist: p must be non-negative, got -1"),
        ErrorInput(lambda: bp.cdist(_ones(3, 2), _ones(4, 2), compute_mode="fast"), ValueError,
                   r"cdist: compute_mode must be one of"),
        ErrorInput(lambda: bp.cdist(bp.ones(3, 2, dtype=bp.int64), _ones(4, 2)), bp.DTypeError,
                   r"cdist: expected floating-point tensors, got x1 of dtype int64"),
    ]


def _cross_errors() -> list[ErrorInput]:
    return [
        ErrorInput(lambda: bp.cross(_ones(2, 4), _ones(2, 4)), bp.ShapeError,
                   r"cross: no dimension of size 3 in input of shape \(2, 4\)"),
        ErrorInput(lambda: bp.linalg.cross(_ones(3, 2), _ones(3, 2)), bp.ShapeError,
                   r"linalg.cross: dim -1 must have size 3, got shape \(3, 2\)"),
        ErrorInput(lambda: bp.cross(_ones(2, 3), _ones(3)), bp.ShapeError,
                   r"cross: input \(2, 3\) and other \(3,\) must have the same number of "
                   r"dimensions"),
    ]


def _cov_errors() -> list[ErrorInput]:
    return [
        ErrorInput(lambda: bp.cov(_ones(2, 2, 2)), bp.ShapeError,
                   r"cov: expected input with 2 dimensions or fewer, got shape \(2, 2, 2\)"),
        ErrorInput(lambda: bp.cov(_ones(2, 3), fweights=bp.tensor([1, 2])), bp.ShapeError,
                   r"cov: fweights must have as many elements as input has observations \(3\)"),
        ErrorInput(lambda: bp.cov(_ones(2, 3), fweights=_ones(3)), TypeError,
                   r"cov: fweights must be an integer tensor"),
        ErrorInput(lambda: bp.cov(_ones(2, 3), aweights=-_ones(3)), ValueError,
                   r"cov: aweights cannot be negative"),
    ]


def _misc_errors() -> list[ErrorInput]:
    return [
        ErrorInput(lambda: bp.tensordot(_ones(2, 3), _ones(2, 3), dims=([1], [1, 0])),
                   ValueError, r"tensordot: both lists of dims must be as long"),
        ErrorInput(lambda: bp.tensordot(_ones(2, 3), _ones(2, 3), dims=1), bp.ShapeError,
                   r"tensordot: contracted dims differ in size: a's dim 1 is 3"),
        ErrorInput(lambda: bp.vdot(_ones(2), _ones(3)), bp.ShapeError,
                   r"vdot: sizes 2 and 3 differ"),
        ErrorInput(lambda: bp.block_diag(_ones(2, 2, 2)), bp.ShapeError,
                   r"block_diag: input 0 must have 2 dimensions or fewer"),
        ErrorInput(lambda: bp.combinations(_ones(2, 2)), bp.ShapeError,
                   r"combinations: expects a 1-D tensor, got shape \(2, 2\)"),
        ErrorInput(lambda: bp.trapezoid(_ones(3), _ones(4)), bp.ShapeError,
                   r"trapezoid: x of shape \(4,\) must have as many elements as y's dim 0"),
        ErrorInput(lambda: bp.renorm(_ones(3, 2), 0, 0, 1.0), ValueError,
                   r"renorm: p must be positive, got 0"),
        ErrorInput(lambda: bp.renorm(_ones(3), 2, 0, 1.0), bp.ShapeError,
                   r"renorm: input needs at least 2 dimensions, got shape \(3,\)"),
        ErrorInput(lambda: bp.linalg.vecdot(bp.ones(3, dtype=bp.int64), _ones(3)), bp.DTypeError,
                   r"linalg.vecdot: expected floating-point tensors, got x of dtype int64"),
        ErrorInput(lambda: bp.vdot(_ones(3), bp.ones(3)), bp.DTypeError,
                   r"vdot: expected operands of one dtype, got input float64, other float32"),
        ErrorInput(lambda: bp.linalg.vander(_ones(3), N=1), ValueError,
                   r"linalg.vander: N must be greater than 1, got 1"),
        ErrorInput(lambda: bp.chain_matmul(_ones(2, 3), _ones(2, 3)), bp.ShapeError,
                   r"chain_matmul: cannot multiply \(2, 3\) by matrix 1 \(2, 3\)"),
    ]


ROWS = [
    OpSpec("addmm", bp.addmm, _add_product(np.matmul),
           _joined(_shapes(((2, 4), (2, 3), (3, 4)), ((4,), (2, 3), (3, 4)), kwargs=_SCALES),
                   _beta_zero_ignores_nan(((2, 4), (2, 3), (3, 4)))),
           torch=_torch("addmm"), error_inputs=_addmm_errors),
    OpSpec("addmv", bp.addmv, _add_product(np.matmul),
           _shapes(((2,), (2, 3), (3,)), ((), (2, 3), (3,)), kwargs=_SCALES),
           torch=_torch("addmv")),
    OpSpec("addr", bp.addr, _add_product(np.outer),
           _shapes(((2, 3), (2,), (3,)), ((3,), (2,), (3,)), kwargs=_SCALES),
           torch=_torch("addr")),
    OpSpec("addbmm", bp.addbmm, _add_product(lambda a, b: np.einsum("bij,bjk->ik", a, b)),
           _shapes(((2, 4), (3, 2, 2), (3, 2, 4)), kwargs=_SCALES), torch=_torch("addbmm")),
    OpSpec("baddbmm", bp.baddbmm, _add_product(np.matmul),
           _joined(_shapes(((3, 2, 4), (3, 2, 2), (3, 2, 4)), ((4,), (3, 2, 2), (3, 2, 4)),
                           kwargs=_SCALES),
                   _beta_zero_ignores_nan(((1,), (2, 2, 3), (2, 3, 2)))),
           torch=_torch("baddbmm")),
    OpSpec("chain_matmul", bp.chain_matmul, lambda *m: functools.reduce(np.matmul, m),
           _shapes(((2, 3), (3, 4), (4, 2)), ((2, 3), (3, 2))), torch=_torch("chain_matmul"),
           error_inputs=_misc_errors),
    OpSpec("tensordot", bp.tensordot, _tensordot_ref, _tensordot_samples,
           torch=_torch("tensordot")),
    OpSpec("kron", bp.kron, np.kron, _shapes(((2, 3), (2, 2)), ((3,), (2, 1, 2))),
           torch=_torch("kron")),
    OpSpec("vdot", bp.vdot, np.vdot, _shapes(((4,), (4,))), torch=_torch("vdot")),
    OpSpec("cross", bp.cross, lambda a, b, dim=None: np.cross(a, b, axis=0 if dim is None
                                                              else dim),
           _joined(_shapes(((3, 2), (3, 2))), _shapes(((2, 3), (1, 3)), kwargs=({"dim": -1},))),
           torch=_torch("cross"), error_inputs=_cross_errors),
    OpSpec("linalg.cross", bp.linalg.cross, lambda a, b, dim=-1: np.cross(a, b, axis=dim),
           _shapes(((2, 3), (2, 3)), ((1, 3), (2, 3))), torch=_torch("linalg.cross")),
    OpSpec("linalg.vecdot", bp.linalg.vecdot, lambda x, y, dim=-1: np.sum(x * y, axis=dim),
           _shapes(((2, 3), (3,)), ((3, 2), (3, 2)), kwargs=({}, {"dim": 0})),
           torch=_torch("linalg.vecdot")),
    OpSpec("linalg.vander", bp.linalg.vander, _vander_ref, _vander_samples,
           torch=_torch("linalg.vander")),
    OpSpec("cdist", bp.cdist, _cdist_ref, _cdist_samples, torch=_torch("cdist"),
           error_inputs=_cdist_errors, gradgrad=False),
    OpSpec("dist", bp.dist, lambda a, b, p=2: np.linalg.norm(np.ravel(a - b), ord=p),
           _dist_samples, torch=_torch("dist")),
    OpSpec("renorm", bp.renorm, _renorm_ref, _renorm_samples, torch=_torch("renorm")),
    OpSpec("block_diag", bp.block_diag, _block_diag_ref,
           _shapes(((2, 3), (1, 2)), ((2,), (), (2, 1))), torch=_torch("block_diag")),
    OpSpec("cartesian_prod", bp.cartesian_prod, _cartesian_ref,
           _shapes(((2,), (3,)), ((2,), (1,), (2,)), ((3,),)), torch=_torch("cartesian_prod")),
    OpSpec("combinations", bp.combinations, _combinations_ref, _combination_samples,
           torch=_torch("combinations")),
    OpSpec("cov", bp.cov, _cov_ref, _cov_samples, torch=_torch_cov, error_inputs=_cov_errors),
    OpSpec("corrcoef", bp.corrcoef, np.corrcoef, _shapes(((3, 5),), ((2, 4),)),
           torch=_torch("corrcoef")),
    OpSpec("trapezoid", bp.trapezoid, _trapezoid_ref, _trapezoid_samples,
           torch=_torch("trapezoid")),
    OpSpec("trapz", bp.trapz, _trapezoid_ref, _trapezoid_samples,
           torch=_torch("trapezoid")),
    OpSpec("cumulative_trapezoid", bp.cumulative_trapezoid, _cumulative_trapezoid_ref,
           _trapezoid_samples, torch=_torch("cumulative_trapezoid")),
]
