"""Op-table rows for convolution and pooling (backprop/ops/conv.py).

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


def _pool_windows(nd, sizes, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's output size and, per output position, the window's input positions
    (unclipped, so padding positions lie outside ``[0, n)``)."""
    out = []
    for n, k, s, p, d in zip(sizes, kernel, stride, padding, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        m = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (m - 1) * s >= n + p:
            m -= 1
        out.append(m)
    for pos in itertools.product(*map(range, out)):
        starts = [q * s - p for q, s, p in zip(pos, stride, padding)]
        yield out, pos, starts


@_batched
def _max_pool_ref(nd, x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                  return_indices=False):
    kernel = _tuple(kernel_size, nd)
    stride = kernel if stride is None else _tuple(stride, nd)
    padding, dilation = _tuple(padding, nd), _tuple(dilation, nd)
    sizes = x.shape[2:]
    values = indices = None
    for out, pos, starts in _pool_windows(nd, sizes, kernel, stride, padding, dilation, ceil_mode):
        if values is None:
            values = np.zeros(x.shape[:2] + tuple(out))
            indices = np.zeros(x.shape[:2] + tuple(out), np.int64)
        best = np.full(x.shape[:2], -np.inf)
        best_index = np.full(x.shape[:2], -1)
        for k in itertools.product(*map(range, kernel)):
            at = [s + ki * d for s, ki, d in zip(starts, k, dilation)]
            if any(a < 0 or a >= n for a, n in zip(at, sizes)):
                continue
            v = x[(slice(None), slice(None)) + tuple(at)]
            better = (v > best) | (best_index < 0)
            best = np.where(better, v, best)
            best_index = np.where(better, np.ravel_multi_index(at, sizes), best_index)
        values[(slice(None), slice(None)) + pos] = best
        indices[(slice(None), slice(None)) + pos] = best_index
    return (values, indices) if return_indices else values


@_batched
def _avg_pool_ref(nd, x, kernel_size, stride=None, padding=0, ceil_mode=False,
                  count_include_pad=True, divisor_override=None):
    kernel = _tuple(kernel_size, nd)
    stride = kernel if stride is None else _tuple(stride, nd)
    padding = _tuple(padding, nd)
    sizes = x.shape[2:]
    y = None
    for out, pos, starts in _pool_windows(nd, sizes, kernel, stride, padding, (1,) * nd,
                                          ceil_mode):
        if y is None:
            y = np.zeros(x.shape[:2] + tuple(out))
        ends = [min(s + k, n + p) for s, k, n, p in zip(starts, kernel, sizes, padding)]
        pool = np.prod([e - s for s, e in zip(starts, ends)])
        lo = [max(s, 0) for s in starts]
        hi = [min(e, n) for e, n in zip(ends, sizes)]
        window = x[(slice(None), slice(None)) + tuple(slice(a, b) for a, b in zip(lo, hi))]
        total = window.sum(axis=tuple(range(2, 2 + nd)))
        if divisor_override is not None:
            divisor = divisor_override
        elif count_include_pad:
            divisor = pool
        else:
            divisor = np.prod([b - a for a, b in zip(lo, hi)])
        y[(slice(None), slice(None)) + pos] = total / divisor
    return y


def _adaptive_ref(nd, x, output_size):
    sizes = x.shape[-nd:]
    wanted = [n if m is None else m for n, m in zip(sizes, _tuple(output_size, nd))]
    y = np.zeros(x.shape[:-nd] + tuple(wanted))
    for pos in itertools.product(*map(range, wanted)):
        window = tuple(slice(i * n // m, -(-((i + 1) * n) // m))
                       for i, n, m in zip(pos, sizes, wanted))
        y[(Ellipsis,) + pos] = x[(Ellipsis,) + window].mean(axis=tuple(range(-nd, 0)))
    return y


def _pixel_shuffle_ref(x, r):
    *lead, c, h, w = x.shape
    y = np.zeros((*lead, c // (r * r), h * r, w * r))
    for ch, i, j in itertools.product(range(c), range(h * r), range(w * r)):
        if ch < c // (r * r):
            y[..., ch, i, j] = x[..., ch * r * r + (i % r) * r + j % r, i // r, j // r]
    return y


def _pixel_unshuffle_ref(x, r):
    *lead, c, h, w = x.shape
    y = np.zeros((*lead, c * r * r, h // r, w // r))
    for ch, i, j in itertools.product(range(c * r * r), range(h // r), range(w // r)):
        base, rest = divmod(ch, r * r)
        y[..., ch, i, j] = x[..., base, i * r + rest // r, j * r + rest % r]
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


def _max_pool2d_samples(rng):
    u = lambda *shape: uniform(rng, shape)
    return [
        Sample((u(1, 2, 4, 4), 2), name="default-stride"),
        Sample((u(1, 1, 5, 5), 3), {"stride": 2, "padding": 1, "ceil_mode": True}, name="ceil"),
        Sample((u(1, 1, 5, 5), 2), {"stride": 1, "return_indices": True}, name="overlap-indices"),
        Sample((u(1, 1, 5, 5), 2), {"stride": 1, "dilation": 2}, name="dilation"),
        Sample((u(2, 4, 4), (2, 3)), {"stride": (2, 1), "padding": 1, "return_indices": True},
               name="unbatched-tuples"),
    ]


def _max_pool1d_samples(rng):
    return [Sample((uniform(rng, (2, 2, 7)), 3), {"stride": 2, "padding": 1, "ceil_mode": True,
                                                  "return_indices": True}, name="ceil"),
            Sample((uniform(rng, (2, 6)), 2), name="unbatched")]


def _avg_pool2d_samples(rng):
    u = lambda *shape: uniform(rng, shape)
    return [
        Sample((u(1, 2, 4, 4), 2), name="default-stride"),
        Sample((u(1, 1, 5, 5), 3), {"stride": 2, "padding": 1, "ceil_mode": True,
                                    "count_include_pad": False}, name="ceil-exclude-pad"),
        Sample((u(1, 1, 5, 6), (2, 3)), {"stride": 2, "padding": 1, "ceil_mode": True},
               name="ceil-include-pad"),
        Sample((u(1, 1, 4, 4), 2), {"stride": 1, "divisor_override": 3}, name="divisor-override"),
        Sample((u(2, 5, 4), 3), {"stride": (2, 1), "padding": 1}, name="unbatched"),
    ]


def _avg_pool1d_samples(rng):
    return [Sample((uniform(rng, (2, 2, 7)), 3), {"stride": 2, "padding": 1, "ceil_mode": True,
                                                  "count_include_pad": False}, name="ceil"),
            Sample((uniform(rng, (2, 6)), 2), name="unbatched")]


def _adaptive2d_samples(rng):
    u = lambda *shape: uniform(rng, shape)
    return [Sample((u(1, 1, 5, 5), 3), name="5-to-3"),
            Sample((u(1, 2, 4, 5), (2, 3)), name="mixed"),
            Sample((u(1, 1, 5, 4), (3, None)), name="none"),
            Sample((u(2, 4, 4), 2), name="unbatched-divisible")]


def _adaptive1d_samples(rng):
    return [Sample((uniform(rng, (2, 2, 7)), 3), name="7-to-3"),
            Sample((uniform(rng, (2, 6)), 4), name="unbatched")]


def _pixel_shuffle_samples(rng):
    return [Sample((uniform(rng, (1, 8, 2, 2)), 2), name="batched"),
            Sample((uniform(rng, (2, 1, 4, 2, 2)), 2), name="two-lead-dims"),
            Sample((uniform(rng, (9, 1, 2)), 3), name="unbatched")]


def _pixel_unshuffle_samples(rng):
    return [Sample((uniform(rng, (1, 2, 4, 4)), 2), name="batched"),
            Sample((uniform(rng, (2, 1, 2, 4)), 2), name="two-lead-dims")]


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


def _pool_errors(name):
    fn = getattr(bp, name)
    return _errors(
        (lambda: fn(bp.ones(5), 2), bp.ShapeError,
         rf"{name}: expected a 3-d \(unbatched\) or 4-d \(batched\) input, got shape \(5,\)"),
        (lambda: fn(bp.ones(1, 1, 5, 5), 3, padding=2), ValueError,
         (rf"{name}: padding \(2, 2\) must be non-negative and at most half of kernel_size "
          r"\(3, 3\)")),
        (lambda: fn(bp.ones(1, 1, 5, 5), 6), bp.ShapeError,
         rf"{name}: the output size \(0, 0\) is too small"),
        (lambda: fn(bp.ones(1, 1, 5, 5), 2, stride=0), ValueError,
         rf"{name}: stride must be positive, got 0"))


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
    # Random inputs have no tied maxima, so the max pools are smooth where they are checked.
    _row("max_pool2d", 2, _max_pool_ref, _max_pool2d_samples, _pool_errors("max_pool2d"),
         aliases=("max_pool_gather", "max_pool_backward")),
    _row("max_pool1d", 1, _max_pool_ref, _max_pool1d_samples),
    _row("avg_pool2d", 2, _avg_pool_ref, _avg_pool2d_samples, _pool_errors("avg_pool2d"),
         aliases=("avg_pool_backward",)),
    _row("avg_pool1d", 1, _avg_pool_ref, _avg_pool1d_samples),
    _row("adaptive_avg_pool2d", 2, _adaptive_ref, _adaptive2d_samples, _errors(
        (lambda: bp.adaptive_avg_pool2d(bp.ones(4, 4, 4, 4, 4), 2), bp.ShapeError,
         r"adaptive_avg_pool2d: expected a 3-d \(unbatched\) or 4-d \(batched\) input"),
        (lambda: bp.adaptive_avg_pool2d(bp.ones(1, 4, 4), 0), ValueError,
         r"adaptive_avg_pool2d: output_size must be positive"))),
    _row("adaptive_avg_pool1d", 1, _adaptive_ref, _adaptive1d_samples),
    OpSpec("pixel_shuffle", bp.pixel_shuffle, _pixel_shuffle_ref, _pixel_shuffle_samples,
           torch=_functional("pixel_shuffle"), error_inputs=_errors(
               (lambda: bp.pixel_shuffle(bp.ones(1, 5, 2, 2), 2), bp.ShapeError,
                (r"pixel_shuffle: the channel dim \(5\) must be divisible by upscale_factor \*\* 2 "
                 r"\(4\)")),
               (lambda: bp.pixel_shuffle(bp.ones(4, 2), 2), bp.ShapeError,
                r"pixel_shuffle: expected an input with at least 3 dims"))),
    OpSpec("pixel_unshuffle", bp.pixel_unshuffle, _pixel_unshuffle_ref, _pixel_unshuffle_samples,
           torch=_functional("pixel_unshuffle"), error_inputs=_errors(
               (lambda: bp.pixel_unshuffle(bp.ones(1, 1, 3, 4), 2), bp.ShapeError,
                (r"pixel_unshuffle: height 3 and width 4 must be divisible by downscale_factor "
                 r"\(2\)")),)),
]
