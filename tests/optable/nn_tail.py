"""Rows: the functional ops of torch.nn's tail (fused linear cross-entropy, ...)."""

from __future__ import annotations

import numpy as np

import backprop as bp
from backprop.nn import functional as F

from .nn_loss import _np_cross_entropy
from .spec import ErrorInput, OpSpec, Sample, uniform


def _lce(lib, x, w, t, b=None, cw=None, chunk=None, **kw):
    options = None if chunk is None else lib.nn.LinearCrossEntropyOptions(batch_chunk_size=chunk)
    return lib.nn.functional.linear_cross_entropy(x, w, t, linear_bias=b, weight=cw,
                                                  options=options, **kw)


def _np_lce(x, w, t, b=None, cw=None, chunk=None, ignore_index=-100, **kw):
    logits = x @ w.reshape(-1, w.shape[-1]).T + (0 if b is None else b.reshape(-1))
    logits = logits.reshape(*x.shape[:-1], *w.shape[:-1])
    return _np_cross_entropy(logits, t, cw, ignore_index=ignore_index, **kw)


def _lce_samples(rng):
    x, w, b = uniform(rng, (5, 3)), uniform(rng, (4, 3)), uniform(rng, (4,))
    t = np.array([0, 3, 2, -100, 1])
    cw = rng.uniform(0.5, 2, 4)
    result = []
    for reduction in ("mean", "sum", "none"):
        for chunk in (None, 2):
            result.append(Sample((x, w, t, b, cw), {"reduction": reduction, "chunk": chunk},
                                 grad_args=(0, 1, 3), name=f"{reduction}-chunk{chunk}"))
    result += [
        Sample((uniform(rng, (3,)), w, np.array(2)), {"chunk": 1}, name="unbatched-chunked"),
        # K-dimensional: weight (C, d1, F), targets (N, d1); smoothing takes the plain path.
        Sample((x, uniform(rng, (4, 2, 3)), rng.integers(0, 4, (5, 2)), uniform(rng, (4, 2))),
               {"label_smoothing": 0.1}, name="k-dim"),
        Sample((x, w, rng.dirichlet(np.ones(4), 5)), name="probabilities"),
    ]
    return result


def _lce_errors():
    x, w = bp.randn(5, 3), bp.randn(4, 3)
    fn = F.linear_cross_entropy
    return [
        ErrorInput(lambda: fn(bp.randn(2, 5, 3), w, bp.zeros(2, 5, dtype=bp.int64)),
                   RuntimeError, r"linear_cross_entropy: expected input with dimensionality 1 "
                   r"or 2, got 3"),
        ErrorInput(lambda: fn(x, bp.randn(4, 2), bp.zeros(5, dtype=bp.int64)), RuntimeError,
                   r"expected equal input and linear_weight last dimensions \(in_features\), "
                   r"got 3 and 2"),
        ErrorInput(lambda: fn(x, w, bp.zeros(5, dtype=bp.int64), linear_bias=bp.zeros(3)),
                   RuntimeError, r"expected linear_bias shape \(4,\), got \(3,\)"),
        ErrorInput(lambda: fn(bp.randn(3), bp.randn(4, 2, 3), bp.zeros(2, dtype=bp.int64)),
                   RuntimeError, r"requires batched input, \(N, 3\)"),
        ErrorInput(lambda: fn(x, w, bp.tensor([0, 1, 4, 2, 2]),
                              options=bp.nn.LinearCrossEntropyOptions(batch_chunk_size=2)),
                   IndexError, r"linear_cross_entropy: target class 4 is out of range for 4 "
                   r"classes"),
        ErrorInput(lambda: fn(x, w, bp.softmax(bp.randn(5, 4), 1), ignore_index=0),
                   RuntimeError, r"ignore_index cannot be specified when target contains "
                   r"probabilities"),
    ]


def _np_conv_tbc(x, w, b, pad=0):
    x = np.pad(x, ((pad, pad), (0, 0), (0, 0)))
    steps = x.shape[0] - w.shape[0] + 1
    return sum(np.einsum("tbc,co->tbo", x[k:k + steps], w[k]) for k in range(w.shape[0])) + b


def _conv_tbc_samples(rng):
    x, w, b = uniform(rng, (5, 2, 3)), uniform(rng, (3, 3, 4)), uniform(rng, (4,))
    return [Sample((x, w, b), {"pad": pad}, name=f"pad{pad}") for pad in (0, 1, 2)]


def _conv_tbc_errors():
    x, w, b = bp.randn(5, 2, 3), bp.randn(3, 3, 4), bp.randn(4)
    return [
        ErrorInput(lambda: F.conv_tbc(x[0], w, b), bp.ShapeError,
                   r"conv_tbc: input must have 3 dims: time, batch, in_channel"),
        ErrorInput(lambda: F.conv_tbc(x, bp.randn(3, 2, 4), b), bp.ShapeError,
                   r"conv_tbc: input dim 2 \(in_channels\) is 3 but weight \(3, 2, 4\)"),
        ErrorInput(lambda: F.conv_tbc(x, w, bp.randn(3)), bp.ShapeError,
                   r"conv_tbc: bias of shape \(3,\) must be \(out_channels,\) = \(4,\)"),
    ]


def _np_fractional(nd):
    """The windows from PyTorch's documented start sequence, taken one by one."""

    def ref(x, kernel_size, output_size, samples):
        batched = x.ndim == nd + 2
        x = x if batched else x[None]
        k = (kernel_size,) * nd if isinstance(kernel_size, int) else kernel_size
        order = (1, 0) if nd == 2 else (0, 1, 2)
        out = np.empty(x.shape[:2] + tuple(output_size))
        for n in range(x.shape[0]):
            for c in range(x.shape[1]):
                starts = []
                for d in range(nd):
                    size, m, u = x.shape[2 + d], output_size[d], samples[n, c, order[d]]
                    alpha = (size - k[d]) / (m - 1) if m > 1 else 0
                    starts.append([int((i + u) * alpha) - int(u * alpha)
                                   for i in range(m - 1)] + [size - k[d]])
                for at in np.ndindex(*output_size):
                    window = tuple(slice(starts[d][i], starts[d][i] + k[d])
                                   for d, i in enumerate(at))
                    out[(n, c) + at] = x[(n, c) + window].max()
        return out if batched else out[0]

    return ref


def _fractional_samples(nd):
    def make(rng):
        shapes = {2: [((2, 2, 6, 7), (2, 3), (3, 2)), ((3, 5, 5), 2, (2, 4))],
                  3: [((1, 2, 4, 5, 4), 2, (2, 3, 2)), ((1, 4, 4, 5), (1, 2, 2), (3, 2, 2))]}
        result = []
        for shape, kernel, out in shapes[nd]:
            batch, channels = (shape[0], shape[1]) if len(shape) == nd + 2 else (1, shape[0])
            samples = rng.random((batch, channels, nd))
            result.append(Sample((uniform(rng, shape), kernel, out, samples), grad_args=(0,),
                                 name=f"{shape}"))
        return result

    return make


def _fractional(lib, nd, x, kernel_size, output_size, samples):
    pool = getattr(lib.nn.functional, f"fractional_max_pool{nd}d")
    return pool(x, kernel_size, output_size=output_size, _random_samples=samples)


def _fractional_errors():
    x = bp.randn(1, 1, 5, 5)
    return [
        ErrorInput(lambda: F.fractional_max_pool2d(x, 3, output_size=(4, 4)), bp.ShapeError,
                   r"fractional_max_pool2d\(\): pool height 3 too large relative to input "
                   r"height 5"),
        ErrorInput(lambda: F.fractional_max_pool2d(x, 2), ValueError,
                   r"fractional_max_pool2d requires specifying either an output_size or an "
                   r"output_ratio"),
        ErrorInput(lambda: F.fractional_max_pool2d(x, 2, output_size=2,
                                                   _random_samples=bp.rand(1, 2, 2)),
                   bp.ShapeError, r"_random_samples must have shape \(1, 1, 2\)"),
        ErrorInput(lambda: F.fractional_max_pool3d(x[0, 0], 2, output_size=2), bp.ShapeError,
                   r"fractional_max_pool3d: expected a 4-d \(unbatched\) or 5-d"),
    ]


ROWS = [
    OpSpec("linear_cross_entropy", lambda *a, **kw: _lce(bp, *a, **kw), _np_lce, _lce_samples,
           torch=lambda torch, *a, **kw: _lce(torch, *a, **kw), error_inputs=_lce_errors,
           aliases=("linear_cross_entropy_chunked",)),
    OpSpec("conv_tbc", F.conv_tbc, _np_conv_tbc, _conv_tbc_samples,
           torch=lambda torch, *a, **kw: torch.conv_tbc(*a, **kw), error_inputs=_conv_tbc_errors),
    *[OpSpec(f"fractional_max_pool{nd}d",
             lambda *a, nd=nd: _fractional(bp, nd, *a), _np_fractional(nd),
             _fractional_samples(nd),
             torch=lambda torch, *a, nd=nd: _fractional(torch, nd, *a),
             error_inputs=_fractional_errors,
             aliases=(f"fractional_max_pool{nd}d_with_indices",))
      for nd in (2, 3)],
]
