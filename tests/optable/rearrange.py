"""Op-table rows for ops that rearrange elements: pad, flip, roll, repeat, tile, tril, triu."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .shape import _errors, _one, _x25
from .spec import OpSpec, Sample, uniform


# -- NumPy references ---------------------------------------------------------------------------

_NUMPY_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
                    "circular": "wrap"}


def _pad_ref(x, pad, mode="constant", value=None):
    widths = [(0, 0)] * x.ndim
    for j in range(len(pad) // 2):
        widths[x.ndim - 1 - j] = (pad[2 * j], pad[2 * j + 1])
    grown = [(max(b, 0), max(a, 0)) for b, a in widths]

    def crop(a):
        return a[tuple(slice(max(-b, 0), n - max(-e, 0)) for (b, e), n in zip(widths, a.shape))]

    if mode == "circular":  # PyTorch crops first in circular mode, pads first in the others
        return np.pad(crop(x), grown, mode="wrap")
    extra = {"constant_values": value or 0.0} if mode == "constant" else {}
    return crop(np.pad(x, grown, mode=_NUMPY_PAD_MODES[mode], **extra))


def _roll_ref(x, shifts, dims=None):
    return np.roll(x, shifts, dims)


def _repeat_ref(x, sizes):
    return np.tile(x, sizes)


# -- samples ------------------------------------------------------------------------------------

def _pad_samples(rng):
    x = uniform(rng, (2, 3, 4))
    return [Sample((uniform(rng, (2, 3)), (1, 2)), name="constant"),
            Sample((x, (1, 0, -1, 2)), {"value": 1.5}, name="constant-crop-value"),
            Sample((x, (2, 1, 1, 2)), {"mode": "reflect"}, name="reflect"),
            Sample((uniform(rng, (2, 4)), (-1, 3)), {"mode": "reflect"}, name="reflect-crop"),
            Sample((uniform(rng, (1, 2, 3)), (2, 1, 1, 0)), {"mode": "replicate"},
                   name="replicate"),
            Sample((uniform(rng, (1, 2, 3)), (3, 1, 1, -1)), {"mode": "circular"},
                   name="circular"),
            Sample((uniform(rng, (1, 2, 3)), (-1, 2, 1, 1)), {"mode": "circular"},
                   name="circular-crop")]


def _flip_samples(rng):
    return [Sample((uniform(rng, (2, 3)), (0,)), name="rows"),
            Sample((uniform(rng, (2, 3, 2)), (0, -1)), name="two"),
            Sample((uniform(rng, (3,)), (0,)), name="vector")]


def _flip_spellings(rng):
    """PyTorch's other spellings: dims as a keyword (issue 15), and the method's varargs."""
    x = uniform(rng, (2, 3, 2))
    return [Sample((x,), {"dims": (0, 2)}, name="issue-flip-dims-keyword"),
            Sample((x,), {"dims": [-1]}, name="dims-list"),
            Sample((x, 0, 1), name="varargs")]


def _roll_samples(rng):
    x = uniform(rng, (2, 3))
    return [Sample((x, 1), name="flat"), Sample((x, (1, -2), (0, 1)), name="tuple"),
            Sample((x, 4, -1), name="wrap")]


def _repeat_samples(rng):
    return [Sample((uniform(rng, (2, 3)), (2, 1)), name="same-dims"),
            Sample((uniform(rng, (3,)), (2, 1, 2)), name="more-dims")]


def _tile_samples(rng):
    return [Sample((uniform(rng, (2, 3)), (2,)), name="fewer-dims"),
            Sample((uniform(rng, (2,)), (2, 1, 2)), name="more-dims")]


def _triangle_samples(rng):
    return [Sample((uniform(rng, (3, 3)),), name="square"),
            Sample((uniform(rng, (3, 4)), 1), name="above"),
            Sample((uniform(rng, (2, 3, 3)),), {"diagonal": -1}, name="batch-below")]


# -- the rows -----------------------------------------------------------------------------------

ROWS = [
    OpSpec("pad", bp.pad, _pad_ref, _pad_samples,
           torch=lambda torch, x, p, **kw: torch.nn.functional.pad(x, p, **kw),
           error_inputs=_errors(
               (lambda: bp.pad(bp.ones(3), (1,)), bp.ShapeError,
                r"pad: the padding \(1,\) must have an even length"),
               (lambda: bp.pad(bp.ones(3), (1, 1, 1, 1)), bp.ShapeError,
                r"pad: the padding \(1, 1, 1, 1\) covers 2 dims but the tensor of shape \(3,\) "
                r"has 1"),
               (lambda: bp.pad(bp.ones(3), (-2, -2)), bp.ShapeError,
                r"pad: padding \(-2, -2\) of dim 0 of size 3 gives a negative size"),
               (lambda: bp.pad(bp.ones(1, 3), (3, 0), mode="reflect"), bp.ShapeError,
                r"pad: reflect padding \(3, 0\) of dim 1 must be less than its size 3"),
               (lambda: bp.pad(bp.ones(1, 3), (4, 0), mode="circular"), bp.ShapeError,
                r"pad: circular padding \(4, 0\) of dim 1 must be at most its size 3"),
               (lambda: bp.pad(bp.ones(1, 3), (1, 0), mode="mirror"), ValueError,
                r"pad: mode must be .* got 'mirror'"))),
    OpSpec("flip", bp.flip, np.flip, _flip_samples, torch=lambda torch, x, d: torch.flip(x, d),
           error_inputs=_errors(
               (lambda: bp.ones(2, 3).flip(0, -2), bp.DimError,
                r"flip: dims \(0, -2\) name a dimension more than once"),
               (lambda: bp.ones(2, 3).flip(2), bp.DimError,
                r"flip: dim 2 is out of range for a tensor with 2 dimensions"))),
    OpSpec("flip", bp.flip, lambda x, *d, dims=(): np.flip(x, tuple(d) + tuple(dims)),
           _flip_spellings,
           torch=lambda torch, x, *d, **kw: torch.flip(x, d) if d else torch.flip(x, **kw),
           error_inputs=_errors(
               (lambda: bp.flip(bp.ones(2)), TypeError, r"missing 1 required positional"))),
    OpSpec("roll", bp.roll, _roll_ref, _roll_samples,
           torch=lambda torch, x, *a: torch.roll(x, *a),
           error_inputs=_errors(
               (lambda: bp.ones(2, 3).roll((1, 2)), bp.ShapeError,
                r"roll: 2 shifts \(1, 2\) given without dims"),
               (lambda: bp.ones(2, 3).roll((1, 2), 0), bp.ShapeError,
                r"roll: shifts \(1, 2\) and dims \(0,\) must have the same length"),
               (lambda: bp.ones(2, 3).roll(1, 5), bp.DimError, r"roll: dim 5 is out of range"))),
    OpSpec("repeat", bp.repeat, _repeat_ref, _repeat_samples,
           torch=lambda torch, x, s: x.repeat(s),
           error_inputs=_errors(
               (lambda: bp.ones(2, 3).repeat(2), bp.ShapeError,
                r"repeat: 1 repeat sizes \(2,\) given for a tensor of shape \(2, 3\)"),
               (lambda: bp.ones(2).repeat(-1), bp.ShapeError,
                r"repeat: repeat sizes must be non-negative"))),
    # Zero-size results. No gradgrad: gradgradcheck refuses an empty grad_output ("inputs must
    # be contiguous", since np.shares_memory is False for empty arrays).
    OpSpec("repeat", bp.repeat, _repeat_ref, _one(Sample((_x25, (0, 2)), name="zero")),
           torch=lambda torch, x, s: x.repeat(s), gradgrad=False),
    OpSpec("tile", bp.tile, np.tile, _tile_samples, torch=lambda torch, x, d: torch.tile(x, d)),
    OpSpec("tril", bp.tril, lambda x, diagonal=0: np.tril(x, diagonal), _triangle_samples,
           torch=lambda torch, x, *a, **kw: torch.tril(x, *a, **kw),
           error_inputs=_errors((lambda: bp.ones(3).tril(), bp.ShapeError,
                                 r"tril: expects a tensor with at least 2 dimensions, got shape "
                                 r"\(3,\)"))),
    OpSpec("triu", bp.triu, lambda x, diagonal=0: np.triu(x, diagonal), _triangle_samples,
           torch=lambda torch, x, *a, **kw: torch.triu(x, *a, **kw),
           error_inputs=_errors((lambda: bp.ones(3).triu(), bp.ShapeError,
                                 r"triu: expects a tensor with at least 2 dimensions"))),
]
