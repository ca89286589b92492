"""Op-table rows for ``bp.masked`` (backprop/ops/masked_reductions.py): each op on a (2, 3, 4)
input under a mask with a fully masked-out slice, against NumPy's reduction of the input with
the masked-out elements replaced by the op's identity."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .spec import ErrorInput, OpSpec, Sample, uniform


def _mask(empty_slice: bool = False) -> np.ndarray:
    """Keeps about two thirds of a (2, 3, 4) input; with ``empty_slice`` the slice [1, 2, :]
    is fully masked out."""
    mask = (np.arange(24).reshape(2, 3, 4) % 3) != 1
    if empty_slice:
        mask[1, 2, :] = False
    return mask


def _empty_slice(rng: np.random.Generator) -> Sample:
    """A slice with nothing kept: the op's identity, or NaN, where it reduces. Its infinities
    leave no directional derivative, so only the Jacobian test checks it (``on_kink``)."""
    return Sample((uniform(rng, (2, 3, 4)), _mask(empty_slice=True)), {"dim": -1},
                  name="empty-slice", on_kink=True)


def _reduction_samples(rng: np.random.Generator) -> list[Sample]:
    x = uniform(rng, (2, 3, 4))
    return [Sample((x, _mask()), {"dim": -1}, name="last"),
            Sample((x, _mask()), {"dim": (0, 2), "keepdim": True}, name="two-dims"),
            Sample((x, _mask()[:1]), {"dim": 1}, name="broadcast-mask"), _empty_slice(rng)]


def _scan_samples(rng: np.random.Generator, infinite: bool = False) -> list[Sample]:
    """``infinite``: the op gives -inf at masked-out elements (log_softmax), so no sample has
    a directional derivative; the Jacobian test checks them."""
    x = uniform(rng, (2, 3, 4))
    return [Sample((x, _mask()), {"dim": -1}, name="last", on_kink=infinite),
            Sample((x, _mask()), {"dim": 1}, name="middle", on_kink=infinite), _empty_slice(rng)]


def _kept(x, mask, fill):
    return x if mask is None else np.where(np.broadcast_to(mask, x.shape), x, fill)


def _reduced(reduce, fill):
    return lambda x, mask, dim=None, keepdim=False: reduce(_kept(x, mask, fill), axis=dim,
                                                           keepdims=keepdim)


def _count(mask, shape, dim, keepdim):
    return np.broadcast_to(mask, shape).sum(axis=dim, keepdims=keepdim)


def _mean(x, mask, dim=None, keepdim=False):
    with np.errstate(invalid="ignore"):
        return _kept(x, mask, 0).sum(axis=dim, keepdims=keepdim) / _count(mask, x.shape, dim,
                                                                            keepdim)


def _var(x, mask, dim=None, keepdim=False, take_sqrt=False):
    with np.errstate(invalid="ignore", divide="ignore"):
        n = _count(mask, x.shape, dim, True)
        centred = x - _kept(x, mask, 0).sum(axis=dim, keepdims=True) / n
        total = _kept(centred * centred, mask, 0).sum(axis=dim, keepdims=keepdim)
        out = total / np.maximum(_count(mask, x.shape, dim, keepdim) - 1, 0)
    return np.sqrt(out) if take_sqrt else out


def _softmax(x, mask, dim, sign=1.0, log=False):
    kept = _kept(sign * x, mask, -np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        shifted = kept - np.max(kept, axis=dim, keepdims=True)
        log_sum = np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
    return shifted - log_sum if log else np.exp(shifted - log_sum)


def _row(name, ref, samples=_reduction_samples, **options):
    function = getattr(bp.masked, name)
    return OpSpec(
        f"masked.{name}",
        op=lambda x, mask, **kw: function(x, mask=mask, **kw),
        ref=ref, samples=samples,
        torch=lambda torch, x, mask, **kw: getattr(torch.masked, name)(x, mask=mask, **kw),
        error_inputs=lambda: [ErrorInput(
            lambda: function(bp.ones(2, 3), dim=0, mask=bp.ones(3, 2, dtype=bp.bool),
                             **({"ord": 2.0} if name == "normalize" else {})),
            Exception, "masked.[a-z]+: a mask of shape \\(3, 2\\) does not broadcast")],
        **options)


def _logaddexp_samples(rng: np.random.Generator) -> list[Sample]:
    # Each element kept on one side at least (where neither is kept, the result is -inf).
    return [Sample((uniform(rng, (2, 3, 4)), uniform(rng, (2, 3, 4)), _mask(), ~_mask()),
                   name="one-side-kept"),
            Sample((uniform(rng, (2, 3, 4)), uniform(rng, (3, 4)), _mask(), None),
                   name="broadcast-unmasked-other")]


def _logaddexp_ref(x, y, x_mask, y_mask):
    with np.errstate(invalid="ignore"):
        return np.logaddexp(_kept(x, x_mask, -np.inf), _kept(y, y_mask, -np.inf))


def _norm_samples(rng: np.random.Generator) -> list[Sample]:
    x = uniform(rng, (2, 3, 4))
    return [Sample((x, _mask()), {"ord": 2.0, "dim": -1}, name="two"),
            Sample((x, _mask()), {"ord": 1.0, "dim": (0, 2)}, name="one")]


def _norm_ref(x, mask, ord=2.0, dim=None, keepdim=False):
    return (np.abs(_kept(x, mask, 0)) ** ord).sum(axis=dim, keepdims=keepdim) ** (1 / ord)


def _normalize_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((uniform(rng, (2, 3, 4)), _mask()), {"ord": 2.0, "dim": -1}, name="two")]


def _normalize_ref(x, mask, ord, dim, eps=1e-12):
    size = _norm_ref(x, mask, ord, dim, keepdim=True)
    return _kept(x, mask, 0) / np.maximum(size, eps)


def _median_ref(x, mask, dim=-1, keepdim=False):
    with np.errstate(invalid="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the all-NaN slice's median
            sorted_ = np.sort(_kept(x, mask, np.nan), axis=dim)
            count = np.sum(~np.isnan(sorted_), axis=dim, keepdims=True)
            index = np.maximum((count - 1) // 2, 0)
            out = np.take_along_axis(sorted_, index, axis=dim)
            out = np.where(count == 0, np.nan, out)
    return out if keepdim else np.squeeze(out, axis=dim)


ROWS = [
    _row("sum", _reduced(np.sum, 0.0)),
    _row("prod", lambda x, mask, dim=None, keepdim=False: _reduced(np.prod, 1.0)(
        x, mask, dim, keepdim), gradgrad=False),
    _row("amax", _reduced(np.max, -np.inf), kinks=True, gradgrad=False),
    _row("amin", _reduced(np.min, np.inf), kinks=True, gradgrad=False),
    _row("argmax", lambda x, mask, dim=None, keepdim=False: np.argmax(
        _kept(x, mask, -np.inf), axis=dim, keepdims=keepdim).astype(x.dtype), grad=False,
         samples=_scan_samples),
    _row("argmin", lambda x, mask, dim=None, keepdim=False: np.argmin(
        _kept(x, mask, np.inf), axis=dim, keepdims=keepdim).astype(x.dtype), grad=False,
         samples=_scan_samples),
    _row("mean", _mean),
    _row("var", _var),
    _row("std", lambda x, mask, dim=None, keepdim=False: _var(x, mask, dim, keepdim, True)),
    _row("logsumexp", lambda x, mask, dim=None, keepdim=False: np.log(_reduced(np.sum, 0.0)(
        np.exp(x), mask, dim, keepdim))),
    _row("median", _median_ref, samples=_scan_samples, gradgrad=False),
    _row("cumsum", lambda x, mask, dim: np.cumsum(_kept(x, mask, 0.0), axis=dim),
         samples=_scan_samples),
    _row("cumprod", lambda x, mask, dim: np.cumprod(_kept(x, mask, 1.0), axis=dim),
         samples=_scan_samples, gradgrad=False),
    _row("softmax", lambda x, mask, dim: _softmax(x, mask, dim), samples=_scan_samples),
    _row("log_softmax", lambda x, mask, dim: _softmax(x, mask, dim, log=True),
         samples=lambda rng: _scan_samples(rng, infinite=True)),
    _row("softmin", lambda x, mask, dim: _softmax(x, mask, dim, sign=-1.0),
         samples=_scan_samples),
    _row("norm", _norm_ref, samples=_norm_samples),
    _row("normalize", _normalize_ref, samples=_normalize_samples),
    OpSpec("masked.logaddexp",
           op=lambda x, y, x_mask, y_mask: bp.masked.logaddexp(x, y, input_mask=x_mask,
                                                               other_mask=y_mask),
           ref=_logaddexp_ref, samples=_logaddexp_samples,
           torch=lambda torch, x, y, x_mask, y_mask: torch.masked.logaddexp(
               x, y, input_mask=x_mask, other_mask=y_mask)),
]
