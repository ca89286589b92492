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
        ErrorInput(lambda: fn(x, w, bp.softmax(bp.randn(5, 4), 1), ignore_index=0),
                   RuntimeError, r"ignore_index cannot be specified when target contains "
                   r"probabilities"),
    ]


ROWS = [
    OpSpec("linear_cross_entropy", lambda *a, **kw: _lce(bp, *a, **kw), _np_lce, _lce_samples,
           torch=lambda torch, *a, **kw: _lce(torch, *a, **kw), error_inputs=_lce_errors,
           aliases=("linear_cross_entropy_chunked",)),
]
