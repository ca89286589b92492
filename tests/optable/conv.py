"""Op-table rows for convolution (backprop/ops/conv.py; pooling: pooling.py).

The NumPy references below are deliberately naive (a loop over output positions and kernel
offsets, straight from the definitions), so they share no code path with the strided-window
implementation they check.
"""

from __future__ import annotations

import itertools

import numpy as np

import backprop as bp

from .shape import _errors
from .spec import OpSpec, Sample, uniform


def _tuple(value, nd):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * nd


def _functional(name):
    return lambda torch, *args, **kwargs: getattr(torch.nn.functional, name)(*args, **kwargs)


def _batched(reference):
    """Run a batched reference on an unbatched input (one fewer dim than ``nd + 2``)."""

    def wrapped(nd, x, *args, **kwargs):
        if x.ndim == nd + 1:
            result = wrapped(nd, x[None], *args, **kwargs)
            return tuple(r[0] for r in result) if isinstance(result, tuple) else result[0]
        return reference(nd, x, *args, **kwargs)

    return wrapped


# -- NumPy references ---------------------------------------------------------------------------

@_batched
def _conv_ref(nd, x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    kernel = w.shape[2:]
    stride, dilation = _tuple(stride, nd), _tuple(dilation, nd)
    if padding == "valid":
        pads = [(0, 0)] * nd
    elif padding == "same":
        pads = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                for k, d in zip(kernel, dilation)]
    else:
        pads = [(p, p) for p in _tuple(padding, nd)]
    xp = np.pad(x, [(0, 0), (0, 0)] + pads)
    out = [(n - d * (k - 1) - 1) // s + 1
           for n, k, s, d in zip(xp.shape[2:], kernel, stride, dilation)]
    o, cg = w.shape[0], w.shape[1]
    og = o // groups
    y = np.zeros((x.shape[0], o, *out))
    for pos in itertools.product(*map(range, out)):
        for k in itertools.product(*map(range, kernel)):
            at = tuple(p * s + ki * d for p, s, ki, d in zip(pos, stride, k, dilation))
            for g in range(groups):
                patch = xp[(slice(None), slice(g * cg, (g + 1) * cg)) + at]  # (N, cg)
                y[(slice(None), slice(g * og, (g + 1) * og)) + pos] += \
                    patch @ w[(slice(g * og, (g + 1) * og), slice(None)) + k].T
    if b is not None:
        y += b.reshape((-1,) + (1,) * nd)
    return y


@_batched
def _conv_transpose_ref(nd, x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                        dilation=1):
    kernel = w.shape[2:]
    stride, dilation = _tuple(stride, nd), _tuple(dilation, nd)
    padding, output_padding = _tuple(padding, nd), _tuple(output_padding, nd)
    cin, cog = w.shape[0], w.shape[1]
    cig = cin // groups
    full = [(n - 1) * s + d * (k - 1) + 1 + e
            for n, s, d, k, e in zip(x.shape[2:], stride, dilation, kernel, output_padding)]
    y = np.zeros((x.shape[0], cog * groups, *full))
    for pos in itertools.product(*map(range, x.shape[2:])):
        for k in itertools.product(*map(range, kernel)):
            at = tuple(p * s + ki * d for p, s, ki, d in zip(pos, stride, k, dilation))
            for g in range(groups):
                value = x[(slice(None), slice(g * cig, (g + 1) * cig)) + pos]  # (N, cig)
                y[(slice(None), slice(g * cog, (g + 1) * cog)) + at] += \
                    value @ w[(slice(g * cig, (g + 1) * cig), slice(None)) + k]
    y = y[(slice(None), slice(None)) + tuple(slice(p, n - p) for p, n in zip(padding, full))]
    if b is not None:
        y = y + b.reshape((-1,) + (1,) * nd)
    return y


# -- samples ------------------------------------------------------------------------------------

def _conv2d_samples(rng):
    u = lambda *shape: uniform(rng, shape)
    return [
        Sample((u(1, 2, 4, 4), u(3, 2, 2, 2), u(3)), name="bias"),
        Sample((u(2, 1, 4, 4), u(2, 1, 3, 3)), {"stride": 2, "padding": 1}, name="stride-pad"),
        Sample((u(1, 1, 5, 5), u(1, 1, 2, 2)), {"stride": 2}, name="unread-rows"),
        Sample((u(1, 4, 3, 3), u(2, 2, 2, 2), u(2)), {"groups": 2}, name="groups"),
        Sample((u(1, 1, 5, 5), u(2, 1, 2, 2)), {"padding": (1, 0), "dilation": (2, 1)},
               name="tuple-pad-dilation"),
        Sample((u(1, 2, 4, 4), u(1, 2, 2, 3)), {"padding": "same"}, name="same-even-kernel"),
        Sample((u(1, 1, 4, 5), u(2, 1, 3, 3)), {"padding": "same", "dilation": (1, 2)},
               name="same-dilated"),
        Sample((u(1, 1, 5, 4), u(1, 1, 3, 2)), {"padding": "valid", "stride": (1, 2)},
               name="valid-stride-tuple"),
        Sample((u(2, 4, 4), u(1, 2, 3, 3), u(1)), {"padding": 1}, name="unbatched"),
        Sample((u(1, 1, 2, 18), u(1, 1, 2, 3)), name="long-rows"),
        # A weight of more than 512 (kernel * in, out) pairs takes the weight gradient's
        # one-matmul path (smaller ones take one product per image).
        Sample((u(1, 8, 3, 3), u(9, 8, 3, 3)), grad_args=(1,), name="weight-one-matmul"),
    ]


def _conv1d_samples(rng):
    u = lambda *shape: uniform(rng, shape)
    return [
        Sample((u(2, 2, 6), u(3, 2, 3), u(3)), {"stride": 2, "padding": 1}, name="stride-pad"),
        Sample((u(1, 4, 5), u(2, 2, 2)), {"groups": 2, "dilation": 2, "padding": "same"},
               name="groups-same"),
        Sample((u(2, 7), u(2, 2, 3)), name="unbatched"),
    ]


def _conv_transpose2d_samples(rng):
    u = lambda *shape: uniform(rng, shape)
    return [
        Sample((u(1, 2, 3, 3), u(2, 1, 2, 2), u(1)), {"stride": 2}, name="stride-bias"),
        Sample((u(1, 2, 3, 3), u(2, 1, 3, 3)), {"stride": 2, "padding": 1, "output_padding": 1},
               name="output-padding"),
        Sample((u(1, 4, 2, 2), u(4, 1, 2, 2), u(2)), {"groups": 2, "stride": (1, 2)},
               name="groups"),
        Sample((u(1, 1, 3, 2), u(1, 2, 2, 3)),
               {"stride": (2, 3), "padding": (0, 1), "output_padding": (1, 2)},
               name="tuples"),
        Sample((u(2, 3, 3), u(2, 1, 2, 2)), {"dilation": 2, "padding": 1},
               name="unbatched-dilated"),
    ]


def _conv_transpose1d_samples(rng):
    u = lambda *shape: uniform(rng, shape)
    return [Sample((u(2, 2, 4), u(2, 3, 3), u(3)), {"stride": 2, "padding": 1,
                                                   "output_padding": 1}, name="stride-pad"),
            Sample((u(2, 3), u(2, 2, 2)), {"dilation": 2}, name="unbatched-dilated")]


# -- error inputs -------------------------------------------------------------------------------

def _conv_errors():
    x = bp.ones(1, 4, 5, 5)
    return _errors(
        (lambda: bp.conv2d(bp.ones(5, 5), bp.ones(1, 1, 3, 3)), bp.ShapeError,
         r"conv2d: expected a 3-d \(unbatched\) or 4-d \(batched\) input, got shape \(5, 5\)"),
        (lambda: bp.conv2d(x, bp.ones(2, 3, 3)), bp.ShapeError, r"conv2d: weight must be 4-d"),
        (lambda: bp.conv2d(x, bp.ones(2, 3, 3, 3)), bp.ShapeError,
         (r"conv2d: the input has 4 channels \(in_channels\) but the weight of shape "
          r"\(2, 3, 3, 3\) with groups=1 expects 3")),
        (lambda: bp.conv2d(x, bp.ones(2, 1, 3, 3), groups=2), bp.ShapeError,
         r"conv2d: the input has 4 channels \(in_channels\) .* groups=2 expects 2"),
        (lambda: bp.conv2d(x, bp.ones(3, 2, 3, 3), groups=2), bp.ShapeError,
         r"conv2d: out_channels \(3, weight.shape\[0\]\) must be divisible by groups \(2\)"),
        (lambda: bp.conv2d(x, bp.ones(2, 4, 6, 6)), bp.ShapeError,
         r"conv2d: the kernel \(6, 6\) .* is larger than the padded input \(5, 5\)"),
        (lambda: bp.conv2d(x, bp.ones(2, 4, 3, 3), stride=2, padding="same"), ValueError,
         r"conv2d: padding='same' is not supported for strided convolutions"),
        (lambda: bp.conv2d(x, bp.ones(2, 4, 3, 3), padding="full"), ValueError,
         r"conv2d: padding must be an int, a tuple, 'valid' or 'same', got 'full'"),
        (lambda: bp.conv2d(x, bp.ones(2, 4, 3, 3), padding=-1), ValueError,
         r"conv2d: padding must be non-negative"),
        (lambda: bp.conv2d(x, bp.ones(2, 4, 3, 3), stride=0), ValueError,
         r"conv2d: stride must be positive, got 0"),
        (lambda: bp.conv2d(x, bp.ones(2, 4, 3, 3), bp.ones(3)), bp.ShapeError,
         r"conv2d: bias must have shape \(2,\)"),
        (lambda: bp.conv2d(x, bp.ones(2, 4, 3, 3), stride=(1, 2, 3)), ValueError,
         r"conv2d: stride must be an int or a tuple of 2 ints"))


def _conv1d_errors():
    return _errors(
        (lambda: bp.conv1d(bp.ones(1, 2, 3, 4), bp.ones(1, 2, 3)), bp.ShapeError,
         (r"conv1d: expected a 2-d \(unbatched\) or 3-d \(batched\) input, got shape "
          r"\(1, 2, 3, 4\)")),
        (lambda: bp.conv1d(bp.ones(1, 3, 4), bp.ones(2, 2, 3), groups=2), bp.ShapeError,
         r"conv1d: the input has 3 channels \(in_channels\) .* groups=2 expects 4"))


def _conv_transpose_errors():
    x = bp.ones(1, 4, 3, 3)
    return _errors(
        (lambda: bp.conv_transpose2d(x, bp.ones(3, 1, 2, 2)), bp.ShapeError,
         (r"conv_transpose2d: the input has 4 channels \(in_channels\) but the weight of shape "
          r"\(3, 1, 2, 2\) expects 3 \(weight.shape\[0\]\)")),
        (lambda: bp.conv_transpose2d(x, bp.ones(4, 1, 2, 2), groups=3), bp.ShapeError,
         r"conv_transpose2d: in_channels \(4\) must be divisible by groups \(3\)"),
        (lambda: bp.conv_transpose2d(x, bp.ones(4, 1, 2, 2), output_padding=1), ValueError,
         (r"conv_transpose2d: output_padding \(1, 1\) must be smaller than either stride "
          r"\(1, 1\) or dilation \(1, 1\)")),
        (lambda: bp.conv_transpose2d(bp.ones(4, 3), bp.ones(4, 1, 2, 2)), bp.ShapeError,
         r"conv_transpose2d: expected a 3-d \(unbatched\) or 4-d \(batched\) input"),
        (lambda: bp.conv_transpose2d(x, bp.ones(4, 1, 2, 2), padding=3), bp.ShapeError,
         r"conv_transpose2d: the output size \(-2, -2\) is not positive"))


# -- the rows -----------------------------------------------------------------------------------

def _row(name, nd, ref, samples, errors=list, **options):
    return OpSpec(name, getattr(bp, name), lambda *a, **k: ref(nd, *a, **k), samples,
                  torch=_functional(name), error_inputs=errors, **options)


ROWS = [
    # conv_weight_grad only runs inside VJPs: the gradgrad checks exercise it (and its VJPs).
    _row("conv2d", 2, _conv_ref, _conv2d_samples, _conv_errors(), aliases=("conv_weight_grad",)),
    _row("conv1d", 1, _conv_ref, _conv1d_samples, _conv1d_errors()),
    _row("conv_transpose2d", 2, _conv_transpose_ref, _conv_transpose2d_samples,
         _conv_transpose_errors()),
    _row("conv_transpose1d", 1, _conv_transpose_ref, _conv_transpose1d_samples),
]
