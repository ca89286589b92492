"""Op-table rows for shape ops: reshape and view, squeeze, permute and transpose, broadcast and
expand. Its helpers (``_errors``, ``_one`` and the fixed inputs of the zero-size rows) are shared
with join.py and rearrange.py."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .spec import ErrorInput, OpSpec, Sample, uniform


def _errors(*cases):
    """``error_inputs`` from ``(call, error, match)`` triples."""
    return lambda: [ErrorInput(*case) for case in cases]


# -- NumPy references ---------------------------------------------------------------------------

def _flatten_ref(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return x.reshape(1)
    start, end = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1:])


def _unflatten_ref(x, dim, sizes):
    dim %= x.ndim
    return x.reshape(x.shape[:dim] + tuple(sizes) + x.shape[dim + 1:])


def _squeeze_ref(x, dim=None):
    if dim is None or x.ndim == 0:
        return np.squeeze(x)
    dims = tuple(d % x.ndim for d in np.atleast_1d(dim) if x.shape[d] == 1)
    return np.squeeze(x, dims)


def _transpose_ref(x, dim0, dim1):
    return x if x.ndim == 0 else np.swapaxes(x, dim0, dim1)


def _t_ref(x):
    return x.T


def _mt_ref(x):
    return np.swapaxes(x, -2, -1)


# -- samples ------------------------------------------------------------------------------------

def _reshape_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x, (6, 4)), name="merge"), Sample((x, (4, -1)), name="infer"),
            Sample((uniform(rng, ()), (1, 1)), name="scalar")]


def _view_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x, (6, 4)), name="merge"), Sample((x, (-1,)), name="flat"),
            Sample((uniform(rng, (6,)), (3, 1, 2)), name="split")]


def _flatten_samples(rng):
    x = uniform(rng, (2, 3, 2))
    return [Sample((x,), name="all"), Sample((x, 1), name="from-1"),
            Sample((x, 0, -2), name="to-neg2"), Sample((x, 1, 1), name="no-op"),
            Sample((uniform(rng, ()),), name="scalar")]


def _unflatten_samples(rng):
    x = uniform(rng, (2, 6))
    return [Sample((x, 1, (3, -1)), name="infer"), Sample((x, -2, (2, 1)), name="neg-dim")]


def _squeeze_samples(rng):
    x = uniform(rng, (2, 1, 3, 1))
    return [Sample((x,), name="all"), Sample((x, 1), name="dim"), Sample((x, -1), name="neg"),
            Sample((x, (0, 1)), name="tuple"), Sample((x, 0), name="not-size-1"),
            Sample((uniform(rng, ()), 0), name="scalar")]


def _unsqueeze_samples(rng):
    x = uniform(rng, (2, 3))
    return [Sample((x, 0), name="front"), Sample((x, -1), name="back"),
            Sample((x, 1), name="middle"), Sample((uniform(rng, ()), 0), name="scalar")]


def _permute_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x, (2, 0, 1)), name="cycle"), Sample((x, (-1, 0, 1)), name="neg"),
            Sample((uniform(rng, (2, 3)), (1, 0)), name="matrix")]


def _transpose_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x, 0, 2), name="outer"), Sample((x, -1, -2), name="neg"),
            Sample((uniform(rng, (3,)), 0, -1), name="vector"),
            Sample((uniform(rng, ()), 0, -1), name="scalar")]


def _t_samples(rng):
    return [Sample((uniform(rng, (2, 3)),), name="matrix"),
            Sample((uniform(rng, (3,)),), name="vector")]


def _movedim_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((x, 0, -1), name="int"), Sample((x, (0, 1), (2, 0)), name="tuple")]


def _T_samples(rng):
    return [Sample((uniform(rng, s),), name=str(s)) for s in [(2, 3), (2, 3, 2), (3,)]]


def _mT_samples(rng):
    return [Sample((uniform(rng, s),), name=str(s)) for s in [(2, 3), (2, 3, 2)]]


def _broadcast_samples(rng):
    return [Sample((uniform(rng, (3,)), (2, 3)), name="rows"),
            Sample((uniform(rng, (2, 1)), (4, 2, 3)), name="lead")]


def _expand_samples(rng):
    return [Sample((uniform(rng, (3, 1)), (2, -1, 4)), name="keep"),
            Sample((uniform(rng, (3,)), (2, 3)), name="rows"),
            Sample((uniform(rng, ()), (2,)), name="scalar")]


def _as_samples(rng):
    return [Sample((uniform(rng, (3, 1)), uniform(rng, (2, 3, 4))), grad_args=(0,))]


def _view_as_samples(rng):
    return [Sample((uniform(rng, (2, 3)), uniform(rng, (3, 2))), grad_args=(0,))]


# Fixed samples, ignoring the rng; shared with join.py, rearrange.py, views_more.py and
# copies_more.py.
def _one(*samples):
    return lambda rng: list(samples)


_x34 = np.random.default_rng(3).uniform(-2, 2, (3, 4))
_x25 = np.random.default_rng(4).uniform(-2, 2, (2, 5))


# -- the rows -----------------------------------------------------------------------------------

ROWS = [
    OpSpec("reshape", bp.reshape, np.reshape, _reshape_samples,
           torch=lambda torch, x, s: x.reshape(s),
           error_inputs=_errors(
               (lambda: bp.ones(2, 3).reshape(4), bp.ShapeError,
                r"reshape: cannot reshape .* \(2, 3\) \(6 elements\) into \(4,\)"),
               (lambda: bp.ones(2, 3).reshape(-1, -1), bp.ShapeError,
                r"reshape: only one dimension can be inferred"))),
    OpSpec("reshape_as", lambda x, y: x.reshape_as(y), lambda x, y: x.reshape(y.shape),
           _view_as_samples, torch=lambda torch, x, y: x.reshape_as(y)),
    OpSpec("view", bp.view, np.reshape, _view_samples, torch=lambda torch, x, s: x.view(s),
           error_inputs=_errors(
               (lambda: bp.ones(2, 3).view(4), bp.ShapeError,
                r"view: cannot view a tensor of shape \(2, 3\) \(6 elements\) into \(4,\)"),
               (lambda: bp.ones(2, 3).t().view(6), bp.ShapeError,
                r"view: a tensor of shape \(3, 2\) .* cannot be viewed as \(6,\) without a copy"
                r".*\.reshape"))),
    OpSpec("view_as", lambda x, y: x.view_as(y), lambda x, y: x.reshape(y.shape),
           _view_as_samples, torch=lambda torch, x, y: x.view_as(y)),
    OpSpec("flatten", bp.flatten, _flatten_ref, _flatten_samples,
           torch=lambda torch, x, *a: torch.flatten(x, *a),
           error_inputs=_errors(
               (lambda: bp.ones(2, 3).flatten(1, 0), bp.DimError,
                r"flatten: start_dim 1 comes after end_dim 0"),
               (lambda: bp.ones(2, 3).flatten(2), bp.DimError, r"flatten: dim 2 is out of range"))),
    OpSpec("unflatten", bp.unflatten, _unflatten_ref, _unflatten_samples,
           torch=lambda torch, x, d, s: torch.unflatten(x, d, s),
           error_inputs=_errors((lambda: bp.ones(2, 6).unflatten(1, (4, -1)), bp.ShapeError,
                                 r"reshape: cannot reshape .* \(2, 6\)"))),
    OpSpec("squeeze", bp.squeeze, _squeeze_ref, _squeeze_samples,
           torch=lambda torch, x, *a: torch.squeeze(x, *a),
           error_inputs=_errors(
               (lambda: bp.ones(2, 3).squeeze(2), bp.DimError,
                r"squeeze: dim 2 is out of range for a tensor with 2 dimensions "
                r"\(expected a value in \[-2, 1\]\)"),
               (lambda: bp.ones(2, 1).squeeze((1, -1)), bp.DimError,
                r"squeeze: dims \(1, -1\) name a dimension more than once"))),
    OpSpec("unsqueeze", bp.unsqueeze, np.expand_dims, _unsqueeze_samples,
           torch=lambda torch, x, d: torch.unsqueeze(x, d),
           error_inputs=_errors(
               (lambda: bp.ones(2, 3).unsqueeze(3), bp.DimError,
                r"unsqueeze: dim 3 is out of range for a tensor with 2 dimensions "
                r"\(expected a value in \[-3, 2\]\)"),
               (lambda: bp.ones(2, 3).unsqueeze(-4), bp.DimError, r"unsqueeze: dim -4"))),
    OpSpec("permute", bp.permute, np.transpose, _permute_samples,
           torch=lambda torch, x, d: torch.permute(x, d),
           error_inputs=_errors(
               (lambda: bp.ones(2, 3).permute(0, 0), bp.DimError,
                r"permute: dims \(0, 0\) is not a permutation .* \(2, 3\)"),
               (lambda: bp.ones(2, 3).permute(0), bp.ShapeError,
                r"permute: dims \(0,\) has 1 entries but the tensor of shape \(2, 3\) has 2"),
               (lambda: bp.ones(2, 3).permute(0, 2), bp.DimError,
                r"permute: dim 2 is out of range for a tensor with 2 dimensions"))),
    OpSpec("transpose", bp.transpose, _transpose_ref, _transpose_samples,
           torch=lambda torch, x, a, b: torch.transpose(x, a, b), aliases=("swapaxes", "swapdims"),
           error_inputs=_errors(
               (lambda: bp.ones(2, 3).transpose(0, 2), bp.DimError,
                r"transpose: dim 2 is out of range for a tensor with 2 dimensions"),
               (lambda: bp.tensor(1.0).transpose(0, 1), bp.DimError,
                r"transpose: dim 1 is out of range for a tensor with 0 dimensions"))),
    OpSpec("t", bp.t, _t_ref, _t_samples, torch=lambda torch, x: torch.t(x),
           error_inputs=_errors((lambda: bp.ones(2, 3, 4).t(), bp.ShapeError,
                                 r"t: expects a tensor with at most 2 dimensions, got shape "
                                 r"\(2, 3, 4\)"))),
    OpSpec("movedim", bp.movedim, np.moveaxis, _movedim_samples,
           torch=lambda torch, x, s, d: torch.movedim(x, s, d), aliases=("moveaxis",),
           error_inputs=_errors(
               (lambda: bp.ones(2, 3).movedim((0, 1), 0), bp.ShapeError,
                r"movedim: source \(0, 1\) and destination 0 must name the same number"),
               (lambda: bp.ones(2, 3).movedim(0, 2), bp.DimError, r"movedim: dim 2 is out"))),
    # PyTorch warns about .T on tensors that are not 2-d, so its side spells it as permute.
    OpSpec("T", lambda x: x.T, _t_ref, _T_samples,
           torch=lambda torch, x: x.permute(*reversed(range(x.ndim)))),
    OpSpec("mT", lambda x: x.mT, _mt_ref, _mT_samples, torch=lambda torch, x: x.mT,
           error_inputs=_errors((lambda: bp.ones(3).mT, bp.ShapeError,
                                 r"mT: expects a matrix or a batch of matrices, got a 1-d tensor "
                                 r"of shape \(3,\)"))),
    OpSpec("broadcast_to", bp.broadcast_to, np.broadcast_to, _broadcast_samples,
           torch=lambda torch, x, s: torch.broadcast_to(x, s),
           error_inputs=_errors((lambda: bp.ones(2, 3).broadcast_to((3, 3)), bp.ShapeError,
                                 r"broadcast_to: cannot broadcast"))),
    OpSpec("expand", bp.expand, lambda x, s: np.broadcast_to(
               x, tuple(x.shape[i - len(s) + x.ndim] if n == -1 else n for i, n in enumerate(s))),
           _expand_samples, torch=lambda torch, x, s: x.expand(s),
           error_inputs=_errors(
               (lambda: bp.ones(2, 3).expand(2, 4), bp.ShapeError,
                r"expand: cannot broadcast a tensor of shape \(2, 3\) to \(2, 4\)"),
               (lambda: bp.ones(2, 3).expand(3), bp.ShapeError,
                r"expand: 1 sizes \(3,\) given for a tensor of shape \(2, 3\)"),
               (lambda: bp.ones(2, 3).expand(-1, 2, 3), bp.ShapeError,
                r"expand: size -1 is not allowed for the new leading dim 0"))),
    OpSpec("expand_as", lambda x, y: x.expand_as(y), lambda x, y: np.broadcast_to(x, y.shape),
           _as_samples, torch=lambda torch, x, y: x.expand_as(y)),
]
