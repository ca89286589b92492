"""Op-table rows for pooling and pixel (un)shuffle (backprop/ops/pooling.py).

The NumPy references below are deliberately naive (a loop over output positions and kernel
offsets, straight from the definitions), so they share no code path with the strided-window
implementation they check.
"""

from __future__ import annotations

import itertools

import numpy as np

import backprop as bp

from .conv import _batched, _functional, _row, _tuple
from .shape import _errors
from .spec import OpSpec, Sample, uniform

# -- NumPy references ---------------------------------------------------------------------------

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

ROWS = [
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
