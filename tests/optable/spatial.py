"""Op-table rows for the spatial ops of issue 16: 3-d convolution and pooling (ops/conv.py,
ops/pooling.py), and ``F``'s adaptive max pooling, unpooling, LP pooling, interpolation,
grid sampling, fold/unfold, channel shuffle and local response norm (nn/functional/pooling.py,
resample.py, spatial.py).

The NumPy references are naive loops over output positions straight from PyTorch's documented
formulas, sharing no code path with the vectorised implementations they check.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

import backprop as bp
import backprop.nn.functional as F
from backprop.nn.functional import spatial

from .conv import _conv_ref, _conv_transpose_ref, _functional, _row, _tuple
from .pooling import _adaptive_ref, _avg_pool_ref, _max_pool_ref
from .shape import _errors
from .spec import OpSpec, Sample, positive, uniform


def _frow(name, ref, samples, errors=list, **options):
    """A row for a function of ``bp.nn.functional`` only."""
    return OpSpec(name, getattr(F, name), ref, samples, torch=_functional(name),
                  error_inputs=errors, **options)


# -- pooling references ---------------------------------------------------------------------------

def _adaptive_max_ref(nd, x, output_size, return_indices=False):
    batched = x.ndim == nd + 2
    x = x if batched else x[None]
    sizes = x.shape[2:]
    wanted = [n if m is None else m for n, m in zip(sizes, _tuple(output_size, nd))]
    values = np.zeros(x.shape[:2] + tuple(wanted))
    indices = np.zeros(x.shape[:2] + tuple(wanted), np.int64)
    for pos in itertools.product(*map(range, wanted)):
        ranges = [range(i * n // m, -(-((i + 1) * n) // m)) for i, n, m in zip(pos, sizes, wanted)]
        for b, c in itertools.product(range(x.shape[0]), range(x.shape[1])):
            best = max(itertools.product(*ranges), key=lambda at: x[(b, c) + at])
            values[(b, c) + pos] = x[(b, c) + best]
            indices[(b, c) + pos] = np.ravel_multi_index(best, sizes)
    if not batched:
        values, indices = values[0], indices[0]
    return (values, indices) if return_indices else values


def _unpool_ref(nd, x, indices, kernel_size, stride=None, padding=0, output_size=None):
    kernel = _tuple(kernel_size, nd)
    stride = kernel if stride is None else _tuple(stride, nd)
    padding = _tuple(padding, nd)
    if output_size is None:
        out = [(n - 1) * s - 2 * p + k
               for n, s, p, k in zip(x.shape[-nd:], stride, padding, kernel)]
    else:
        out = list(output_size)[-nd:]
    y = np.zeros(x.shape[:-nd] + (math.prod(out),))
    for lead in itertools.product(*map(range, x.shape[:-nd])):
        for pos in itertools.product(*map(range, x.shape[-nd:])):
            y[lead + (indices[lead + pos],)] = x[lead + pos]
    return y.reshape(x.shape[:-nd] + tuple(out))


def _lp_ref(nd, x, norm_type, kernel_size, stride=None, ceil_mode=False):
    kernel = _tuple(kernel_size, nd)
    mean = _avg_pool_ref(nd, x ** norm_type, kernel, stride, 0, ceil_mode)
    return (mean * math.prod(kernel)) ** (1 / norm_type)


def _pooled(rng, shape, nd, kernel):
    """A max pool's values and indices of a random input of ``shape``, for the unpools."""
    values, indices = _max_pool_ref(nd, uniform(rng, shape), kernel, return_indices=True)
    return values, indices


# -- resampling references ------------------------------------------------------------------------

def _cubic(t):
    a = -0.75
    return [((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
            ((a + 2) * t - (a + 3)) * t * t + 1,
            ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
            ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a]


def _axis_weights(mode, n, m, align_corners, scale):
    """(m, n) matrix: output i's weight on each input of one axis."""
    w = np.zeros((m, n))
    for i in range(m):
        if mode in ("nearest", "nearest-exact"):
            step = (1 / scale) if scale else n / m
            at = (i + 0.5) * step if mode == "nearest-exact" else i * step
            w[i, min(int(np.floor(np.float32(at))), n - 1)] = 1
            continue
        if align_corners:
            x = i * (n - 1) / (m - 1) if m > 1 else 0.0
        else:
            x = ((1 / scale) if scale else n / m) * (i + 0.5) - 0.5
        if mode == "bicubic":
            low = math.floor(x)
            for j, c in enumerate(_cubic(x - low)):
                w[i, min(max(low - 1 + j, 0), n - 1)] += c
        else:
            x = max(x, 0.0)
            low = min(math.floor(x), n - 1)
            w[i, low] += 1 - (x - low)
            w[i, min(low + 1, n - 1)] += x - low
    return w


def _interpolate_ref(x, size=None, scale_factor=None, mode="nearest", align_corners=None,
                     recompute_scale_factor=None, antialias=False):
    nd = x.ndim - 2
    if size is not None:
        out, scales = _tuple(size, nd), (None,) * nd
    else:
        scales = _tuple(scale_factor, nd)
        out = tuple(math.floor(n * s) for n, s in zip(x.shape[2:], scales))
        if recompute_scale_factor:
            scales = (None,) * nd
    if mode == "area":
        return _adaptive_ref(nd, x, out)
    for d in range(nd):
        w = _axis_weights(mode, x.shape[2 + d], out[d], bool(align_corners), scales[d])
        x = np.moveaxis(np.tensordot(w, x, axes=([1], [2 + d])), 0, 2 + d)
    return x


def _unnormalise(g, n, align_corners):
    return (g + 1) / 2 * (n - 1) if align_corners else ((g + 1) * n - 1) / 2


def _reflect_ref(x, low, high):
    if low == high:
        return 0.0
    lo, span = low / 2, (high - low) / 2
    x = abs(x - lo)
    flips, extra = divmod(x, span)
    return extra + lo if flips % 2 == 0 else span - extra + lo


def _pad_ref(x, n, padding_mode, align_corners):
    if padding_mode == "border":
        return min(max(x, 0), n - 1)
    if padding_mode == "reflection":
        x = _reflect_ref(x, 0, 2 * (n - 1)) if align_corners else _reflect_ref(x, -1, 2 * n - 1)
        return min(max(x, 0), n - 1)
    return x


def _grid_sample_ref(x, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    nd = x.ndim - 2
    sizes = x.shape[2:]
    ac = bool(align_corners)
    out = np.zeros(x.shape[:2] + grid.shape[1:-1])
    for b in range(x.shape[0]):
        for pos in itertools.product(*map(range, grid.shape[1:-1])):
            point = grid[(b,) + pos][::-1]  # (x, y[, z]) -> dim order
            raw = [_unnormalise(p, n, ac) for p, n in zip(point, sizes)]

            def value(at):
                at = tuple(int(a) for a in at)
                inside = all(0 <= a < n for a, n in zip(at, sizes))
                return x[(b, slice(None)) + at] if inside else 0.0

            if mode == "bicubic":
                low = [math.floor(r) for r in raw]
                taps = [_cubic(r - lo) for r, lo in zip(raw, low)]
                for j, i in itertools.product(range(4), range(4)):
                    at = [_pad_ref(lo - 1 + k, n, padding_mode, ac)
                          for lo, k, n in zip(low, (j, i), sizes)]
                    out[(b, slice(None)) + pos] += taps[0][j] * taps[1][i] * value(at)
                continue
            src = [_pad_ref(r, n, padding_mode, ac) for r, n in zip(raw, sizes)]
            if mode == "nearest":
                out[(b, slice(None)) + pos] = value([np.rint(s) for s in src])
                continue
            low = [math.floor(s) for s in src]
            for corner in itertools.product((0, 1), repeat=nd):
                weight = math.prod((s - lo) if k else (lo + 1 - s)
                                   for s, lo, k in zip(src, low, corner))
                at = [lo + k for lo, k in zip(low, corner)]
                out[(b, slice(None)) + pos] += weight * value(at)
    return out


def _affine_grid_ref(theta, size, align_corners=None):
    spatial = size[2:]

    def axis(s):
        if s == 1:
            return np.zeros(1)
        v = np.linspace(-1, 1, s)
        return v if align_corners else v * (s - 1) / s

    grid = np.zeros((size[0],) + tuple(spatial) + (len(spatial),))
    for b in range(size[0]):
        for pos in itertools.product(*map(range, spatial)):
            point = [axis(s)[p] for s, p in zip(spatial, pos)][::-1] + [1.0]
            grid[(b,) + pos] = theta[b] @ np.array(point)
    return grid


# -- fold, unfold, shuffle, LRN references --------------------------------------------------------

def _blocks(size, kernel, dilation, padding, stride):
    return [(s + 2 * p - d * (k - 1) - 1) // st + 1
            for s, k, d, p, st in zip(size, kernel, dilation, padding, stride)]


def _unfold_ref(x, kernel_size, dilation=1, padding=0, stride=1):
    batched = x.ndim == 4
    x = x if batched else x[None]
    k, d, p, s = (_tuple(v, 2) for v in (kernel_size, dilation, padding, stride))
    xp = np.pad(x, [(0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])])
    blocks = _blocks(x.shape[2:], k, d, p, s)
    cols = np.zeros((x.shape[0], x.shape[1] * k[0] * k[1], blocks[0] * blocks[1]))
    for c, i, j in itertools.product(range(x.shape[1]), range(k[0]), range(k[1])):
        for bi, bj in itertools.product(range(blocks[0]), range(blocks[1])):
            cols[:, (c * k[0] + i) * k[1] + j, bi * blocks[1] + bj] = \
                xp[:, c, bi * s[0] + i * d[0], bj * s[1] + j * d[1]]
    return cols if batched else cols[0]


def _fold_ref(cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
    batched = cols.ndim == 3
    cols = cols if batched else cols[None]
    k, d, p, s, size = (_tuple(v, 2) for v in (kernel_size, dilation, padding, stride,
                                               output_size))
    blocks = _blocks(size, k, d, p, s)
    channels = cols.shape[1] // (k[0] * k[1])
    y = np.zeros((cols.shape[0], channels, size[0] + 2 * p[0], size[1] + 2 * p[1]))
    for c, i, j in itertools.product(range(channels), range(k[0]), range(k[1])):
        for bi, bj in itertools.product(range(blocks[0]), range(blocks[1])):
            y[:, c, bi * s[0] + i * d[0], bj * s[1] + j * d[1]] += \
                cols[:, (c * k[0] + i) * k[1] + j, bi * blocks[1] + bj]
    y = y[:, :, p[0]:p[0] + size[0], p[1]:p[1] + size[1]]
    return y if batched else y[0]


def _cross_map_ref(x, size, alpha=1e-4, beta=0.75, k=1.0):
    """PyTorch's CrossMapLRN2d forward: a window of (size - 1) // 2 channels either side, plus
    channel 0 for the channels past (size - 1) // 2 + 1 (its running sum never drops it)."""
    reach = (size - 1) // 2
    c = x.shape[1]
    y = np.zeros_like(x)
    for ch in range(c):
        chosen = set(range(max(ch - reach, 0), min(ch + reach, c - 1) + 1))
        if ch > reach:
            chosen.add(0)
        total = sum(x[:, j] ** 2 for j in chosen)
        y[:, ch] = x[:, ch] / (k + alpha / size * total) ** beta
    return y


def _channel_shuffle_ref(x, groups):
    c = x.shape[1]
    order = [g * (c // groups) + i for i in range(c // groups) for g in range(groups)]
    return x[:, order]


def _lrn_ref(x, size, alpha=1e-4, beta=0.75, k=1.0):
    c = x.shape[1]
    y = np.zeros_like(x)
    for ch in range(c):
        lo, hi = max(ch - size // 2, 0), min(ch + (size - 1) // 2, c - 1)
        total = (x[:, lo:hi + 1] ** 2).sum(axis=1)
        y[:, ch] = x[:, ch] / (k + alpha / size * total) ** beta
    return y


# -- samples --------------------------------------------------------------------------------------

def _conv3d_samples(rng):
    u = lambda *shape: uniform(rng, shape)
    return [Sample((u(1, 2, 3, 4, 3), u(2, 2, 2, 2, 2), u(2)), {"stride": (1, 2, 1),
                                                              "padding": 1}, name="stride-pad"),
            Sample((u(2, 3, 3, 3), u(1, 2, 2, 1, 2)), {"dilation": (2, 1, 1)},
                   name="unbatched-dilated")]


def _conv_transpose3d_samples(rng):
    u = lambda *shape: uniform(rng, shape)
    return [Sample((u(1, 2, 2, 2, 2), u(2, 1, 2, 2, 2), u(1)), {"stride": 2, "padding": 1,
                                                              "output_padding": 1},
                   name="stride-pad")]


def _pool3d_samples(rng):
    return [Sample((uniform(rng, (1, 2, 3, 4, 4)), 2), {"stride": 1, "padding": 1},
                   name="overlap-pad"),
            Sample((uniform(rng, (2, 3, 3, 2)), (2, 2, 1)), {"ceil_mode": True},
                   name="unbatched-ceil")]


def _adaptive3d_samples(rng):
    return [Sample((uniform(rng, (1, 2, 3, 5, 4)), (2, 3, None)), name="mixed"),
            Sample((uniform(rng, (2, 4, 2, 2)), 2), name="unbatched-divisible")]


def _adaptive_max_samples(nd):
    shapes = {1: (2, 2, 7), 2: (1, 2, 5, 4), 3: (1, 1, 3, 4, 5)}
    outs = {1: 3, 2: (3, 2), 3: (2, None, 3)}

    def samples(rng):
        return [Sample((uniform(rng, shapes[nd]), outs[nd]), {"return_indices": True},
                       name="uneven-indices"),
                Sample((uniform(rng, shapes[nd][1:]), 2), name="unbatched")]

    return samples


def _with_indices_samples(nd):
    shapes = {1: (2, 2, 5), 2: (1, 2, 4, 5), 3: (1, 1, 3, 4, 4)}
    return lambda rng: [Sample((uniform(rng, shapes[nd]), 2), {"stride": 1}, name="overlap")]


def _unpool_samples(nd):
    shapes = {1: (1, 2, 6), 2: (1, 2, 4, 6), 3: (1, 1, 4, 2, 4)}

    def samples(rng):
        values, indices = _pooled(rng, shapes[nd], nd, 2)
        return [Sample((values, indices, 2), name="default"),
                Sample((values, indices, 2), {"output_size": shapes[nd][2:]},
                       name="output-size")]

    return samples


def _lp_samples(nd):
    shapes = {1: (1, 2, 7), 2: (1, 2, 4, 5), 3: (1, 1, 3, 4, 4)}
    return lambda rng: [Sample((positive(rng, shapes[nd]), 2.0, 2), name="p2"),
                        Sample((positive(rng, shapes[nd]), 1.5, 3 if nd == 1 else (2,) * nd, 1),
                               {"ceil_mode": True}, name="p1.5-stride1")]


def _interpolate_samples(rng):
    u = lambda *shape: uniform(rng, shape)
    return [
        Sample((u(1, 2, 3),), {"scale_factor": 2}, name="nearest-1d"),
        Sample((u(1, 1, 3, 4),), {"size": (5, 3)}, name="nearest-2d-size"),
        Sample((u(1, 1, 2, 3, 2),), {"scale_factor": (1.5, 1, 2)}, name="nearest-3d"),
        Sample((u(1, 1, 5, 3),), {"scale_factor": 1.7, "mode": "nearest-exact"},
               name="nearest-exact"),
        Sample((u(2, 1, 4),), {"size": 7, "mode": "linear"}, name="linear"),
        Sample((u(1, 2, 3, 4),), {"scale_factor": 1.5, "mode": "bilinear"}, name="bilinear"),
        Sample((u(1, 1, 4, 3),), {"size": (3, 5), "mode": "bilinear", "align_corners": True},
               name="bilinear-align"),
        Sample((u(1, 1, 4, 4),), {"scale_factor": 1.6, "mode": "bicubic"}, name="bicubic"),
        Sample((u(1, 1, 3, 4),), {"size": (5, 2), "mode": "bicubic", "align_corners": True},
               name="bicubic-align"),
        Sample((u(1, 1, 2, 3, 2),), {"scale_factor": 1.5, "mode": "trilinear",
                                     "recompute_scale_factor": True}, name="trilinear"),
        Sample((u(1, 2, 5, 4),), {"size": (3, 2), "mode": "area"}, name="area"),
    ]


def _upsample_samples(rng):
    return [Sample((uniform(rng, (1, 1, 3, 2)),), {"scale_factor": 2, "mode": "bilinear"},
                   name="bilinear")]


def _upsample_fixed_samples(rng):
    return [Sample((uniform(rng, (1, 2, 2, 3)), (3, 4)), name="size"),
            Sample((uniform(rng, (1, 1, 2, 2)), None, 2), name="scale")]


def _grid_sample_samples(rng):
    u = lambda *shape: uniform(rng, shape)
    g = lambda *shape: uniform(rng, shape, -1.2, 1.2)
    samples = []
    for mode, padding, align in itertools.product(("bilinear", "nearest", "bicubic"),
                                                  ("zeros", "border", "reflection"),
                                                  (False, True)):
        samples.append(Sample((u(1, 2, 3, 4), g(1, 2, 3, 2), mode, padding, align),
                              grad_args=(0,) if mode == "nearest" else None,
                              name=f"{mode}-{padding}-{'align' if align else 'area'}"))
    samples.append(Sample((u(1, 1, 2, 3, 2), g(1, 2, 1, 2, 3), "bilinear", "reflection"),
                          name="trilinear"))
    samples.append(Sample((u(1, 1, 2, 3, 2), g(1, 1, 2, 2, 3), "nearest", "border", True),
                          grad_args=(0,), name="nearest-3d"))
    return samples


def _affine_grid_samples(rng):
    return [Sample((uniform(rng, (2, 2, 3)), (2, 1, 3, 4)), name="2d"),
            Sample((uniform(rng, (1, 2, 3)), (1, 3, 1, 2), True), name="2d-align-single-row"),
            Sample((uniform(rng, (1, 3, 4)), (1, 1, 2, 3, 2)), name="3d")]


def _unfold_samples(rng):
    return [Sample((uniform(rng, (2, 2, 4, 5)), 2), name="default"),
            Sample((uniform(rng, (1, 5, 4)), (2, 3)), {"dilation": (1, 2), "padding": 1,
                                                       "stride": (2, 1)}, name="unbatched-all")]


def _fold_samples(rng):
    return [Sample((uniform(rng, (2, 8, 12)), (4, 5), 2), name="default"),
            Sample((uniform(rng, (6, 6)), (4, 5), (2, 3)), {"dilation": (1, 2), "padding": 1,
                                                           "stride": 2}, name="unbatched-all")]


def _channel_shuffle_samples(rng):
    return [Sample((uniform(rng, (2, 6, 3)), 3), name="3d"),
            Sample((uniform(rng, (1, 4, 2, 2)), 2), name="4d")]


def _lrn_samples(rng):
    return [Sample((uniform(rng, (2, 5, 3)), 3, 0.2, 0.75, 1.0), name="3d"),
            Sample((uniform(rng, (1, 4, 2, 3)), 2, 0.5, 0.6, 2.0), name="4d-even-size"),
            Sample((uniform(rng, (1, 3, 2, 1, 2)), 5), name="5d-wide")]


# -- error inputs ---------------------------------------------------------------------------------

def _interpolate_errors():
    x = bp.ones(1, 1, 2, 2)
    return _errors(
        (lambda: F.interpolate(x, size=3, scale_factor=2), ValueError,
         r"interpolate: size and scale_factor cannot both be given"),
        (lambda: F.interpolate(x), ValueError,
         r"interpolate: either size or scale_factor must be given"),
        (lambda: F.interpolate(x, 3, mode="cubic"), ValueError, r"interpolate: mode must be one"),
        (lambda: F.interpolate(x, 3, align_corners=True), ValueError,
         r"interpolate: align_corners can only be set with the interpolating modes"),
        (lambda: F.interpolate(x, 3, mode="linear"), NotImplementedError,
         r"interpolate: got a 4-d input, but mode 'linear' needs a 3-d input"),
        (lambda: F.interpolate(x, 3, mode="bilinear", antialias=True), NotImplementedError,
         r"interpolate: antialias=True is not supported"),
        (lambda: F.interpolate(x, size=(3, 3, 3)), ValueError,
         r"interpolate: size must have 2 entries"),
        (lambda: F.interpolate(x, scale_factor=0.1), ValueError,
         r"interpolate: the output size \(0, 0\) must be positive"),
        (lambda: F.interpolate(bp.ones(2, 2), 3), bp.ShapeError,
         r"interpolate: expected a 3-d, 4-d or 5-d input"))


def _grid_sample_errors():
    x = bp.ones(1, 1, 2, 2)
    return _errors(
        (lambda: F.grid_sample(x, bp.zeros(1, 2, 2, 3)), bp.ShapeError,
         r"grid_sample: expected input \(N, C, H, W\) with grid \(N, H_out, W_out, 2\)"),
        (lambda: F.grid_sample(x, bp.zeros(2, 2, 2, 2)), bp.ShapeError,
         r"grid_sample: input and grid must have the same batch size"),
        (lambda: F.grid_sample(x, bp.zeros(1, 2, 2, 2), mode="area"), ValueError,
         r"grid_sample: mode must be 'bilinear', 'nearest' or 'bicubic', got 'area'"),
        (lambda: F.grid_sample(x, bp.zeros(1, 2, 2, 2), padding_mode="edge"), ValueError,
         r"grid_sample: padding_mode must be 'zeros', 'border' or 'reflection'"),
        (lambda: F.grid_sample(bp.ones(1, 1, 2, 2, 2), bp.zeros(1, 1, 1, 1, 3), "bicubic"),
         ValueError, r"grid_sample: mode='bicubic' supports 4-d inputs only"))


def _fold_errors():
    return _errors(
        (lambda: F.unfold(bp.ones(2, 2), 2), bp.ShapeError,
         r"unfold: expected a 3-d \(C, H, W\) or 4-d \(N, C, H, W\) input"),
        (lambda: F.unfold(bp.ones(1, 1, 3, 3), 2, stride=0), ValueError,
         r"unfold: stride must be positive, got 0"),
        (lambda: F.fold(bp.ones(1, 5, 4), (3, 3), 2), bp.ShapeError,
         r"fold: expected the input's dim 1 \(5\) to be divisible by the product of "
         r"kernel_size \(2, 2\) \(4\)"),
        (lambda: F.fold(bp.ones(1, 4, 5), (3, 3), 2), bp.ShapeError,
         r"fold: expected the input's last dim \(5\) to be the number of sliding blocks, "
         r"\(2, 2\) = 4"))


def _unpool_errors():
    values, indices = F.max_pool2d(bp.ones(1, 1, 4, 4), 2, return_indices=True)
    return _errors(
        (lambda: F.max_unpool2d(values, indices[..., :1], 2), bp.ShapeError,
         r"max_unpool2d: indices must have the input's shape \(1, 1, 2, 2\), got \(1, 1, 2, 1\)"),
        (lambda: F.max_unpool2d(values, indices + 20, 2), IndexError,
         r"max_unpool2d: indices must lie in \[0, 16\)"),
        (lambda: F.max_unpool2d(values, indices, 2, output_size=(7, 7)), ValueError,
         r"max_unpool2d: output_size \(7, 7\) is out of range"))


def _affine_grid_errors():
    return _errors(
        (lambda: F.affine_grid(bp.zeros(1, 2, 3), (1, 1, 2)), ValueError,
         r"affine_grid: size must be \(N, C, H, W\) or \(N, C, D, H, W\)"),
        (lambda: F.affine_grid(bp.zeros(1, 3, 4), (1, 1, 2, 2)), bp.ShapeError,
         r"affine_grid: expected theta of shape \(1, 2, 3\) for size \(1, 1, 2, 2\), got "
         r"\(1, 3, 4\)"))


# -- the rows -------------------------------------------------------------------------------------

def _nd(ref, nd):
    return lambda *a, **k: ref(nd, *a, **k)


ROWS = [
    _row("conv3d", 3, _conv_ref, _conv3d_samples),
    _row("conv_transpose3d", 3, _conv_transpose_ref, _conv_transpose3d_samples),
    _row("max_pool3d", 3, _max_pool_ref, _pool3d_samples),
    _row("avg_pool3d", 3, _avg_pool_ref, _pool3d_samples),
    _row("adaptive_avg_pool3d", 3, _adaptive_ref, _adaptive3d_samples),
    *[_frow(f"adaptive_max_pool{nd}d", _nd(_adaptive_max_ref, nd), _adaptive_max_samples(nd))
      for nd in (1, 2, 3)],
    *[_frow(f"adaptive_max_pool{nd}d_with_indices",
            lambda *a, nd=nd, **k: _adaptive_max_ref(nd, *a, return_indices=True, **k),
            lambda rng, nd=nd: _adaptive_max_samples(nd)(rng)[1:]) for nd in (1, 2, 3)],
    *[_frow(f"max_pool{nd}d_with_indices",
            lambda *a, nd=nd, **k: _max_pool_ref(nd, *a, return_indices=True, **k),
            _with_indices_samples(nd)) for nd in (1, 2, 3)],
    *[_frow(f"max_unpool{nd}d", _nd(_unpool_ref, nd), _unpool_samples(nd),
            _unpool_errors() if nd == 2 else list) for nd in (1, 2, 3)],
    *[_frow(f"lp_pool{nd}d", _nd(_lp_ref, nd), _lp_samples(nd)) for nd in (1, 2, 3)],
    _frow("interpolate", _interpolate_ref, _interpolate_samples, _interpolate_errors()),
    _frow("upsample", _interpolate_ref, _upsample_samples),
    _frow("upsample_nearest", lambda x, size=None, scale_factor=None: _interpolate_ref(
        x, size, scale_factor), _upsample_fixed_samples),
    _frow("upsample_bilinear", lambda x, size=None, scale_factor=None: _interpolate_ref(
        x, size, scale_factor, "bilinear", True), _upsample_fixed_samples),
    _frow("grid_sample", _grid_sample_ref, _grid_sample_samples, _grid_sample_errors()),
    _frow("affine_grid", _affine_grid_ref, _affine_grid_samples, _affine_grid_errors()),
    _frow("unfold", _unfold_ref, _unfold_samples, _fold_errors()),
    _frow("fold", _fold_ref, _fold_samples),
    _frow("channel_shuffle", _channel_shuffle_ref, _channel_shuffle_samples, _errors(
        (lambda: F.channel_shuffle(bp.ones(1, 5, 2), 2), bp.ShapeError,
         r"channel_shuffle: the number of channels \(5\) must be divisible by groups \(2\)"),)),
    # PyTorch's CrossMapLRN2d gradient is its own formula, not the forward's derivative, so the
    # row checks values only; tests/test_spatial.py compares the gradients with PyTorch's.
    OpSpec("cross_map_lrn2d", spatial.cross_map_lrn2d, _cross_map_ref, lambda rng: [
        Sample((uniform(rng, (2, 6, 2, 2)), 3, 0.5, 0.7, 1.5), name="6-channels"),
        Sample((uniform(rng, (1, 3, 2, 1)), 4), name="even-size")], grad=False,
        torch=lambda torch, x, *args: torch.nn.CrossMapLRN2d(*args)(x)),
    _frow("local_response_norm", _lrn_ref, _lrn_samples, _errors(
        (lambda: F.local_response_norm(bp.ones(2, 3), 2), bp.ShapeError,
         r"local_response_norm: expected an input with at least 3 dims"),)),
]
