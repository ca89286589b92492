"""Rows: the tail of torch.nn (adaptive softmax, fractional pooling, SyncBatchNorm,
DataParallel, the fused linear cross-entropy)."""

from __future__ import annotations

import numpy as np

from moduletable.spec import Case, Const, x

# Fixed window samples, so both libraries pool the same windows.
SAMPLES2 = np.array([[[0.31, 0.72], [0.05, 0.93]], [[0.5, 0.18], [0.77, 0.4]]])
SAMPLES3 = np.array([[[0.62, 0.13, 0.88]], [[0.29, 0.71, 0.02]]])

CASES = [
    # Targets in the shortlist and in both tail clusters.
    Case("AdaptiveLogSoftmaxWithLoss",
         lambda l: l.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [2, 6], div_value=2.0),
         lambda r: [r.standard_normal((5, 4)), Const(np.array([0, 7, 3, 9, 1]))]),
    Case("AdaptiveLogSoftmaxWithLoss-head-bias-unbatched",
         lambda l: l.nn.AdaptiveLogSoftmaxWithLoss(4, 6, [3], head_bias=True),
         lambda r: [r.standard_normal(4), Const(np.array(4))]),
    Case("FractionalMaxPool2d-output-size",
         lambda l: l.nn.FractionalMaxPool2d((2, 3), output_size=(3, 2),
                                            _random_samples=l.tensor(SAMPLES2)), x(2, 2, 6, 7)),
    Case("FractionalMaxPool2d-ratio-indices",
         lambda l: l.nn.FractionalMaxPool2d(2, output_ratio=0.5, return_indices=True,
                                            _random_samples=l.tensor(SAMPLES2[:1])),
         x(2, 7, 8)),
    Case("FractionalMaxPool3d",
         lambda l: l.nn.FractionalMaxPool3d(2, output_size=(2, 3, 2),
                                            _random_samples=l.tensor(SAMPLES3)),
         x(2, 1, 4, 5, 4)),
    Case("SyncBatchNorm", lambda l: l.nn.SyncBatchNorm(3), x(4, 3, 2)),
    Case("SyncBatchNorm-eval-no-affine",
         lambda l: l.nn.SyncBatchNorm(3, affine=False, momentum=None), x(4, 3), train=False),
    Case("DataParallel", lambda l: l.nn.DataParallel(l.nn.Linear(3, 2)), x(4, 3)),
    Case("LinearCrossEntropyLoss", lambda l: l.nn.LinearCrossEntropyLoss(3, 4),
         lambda r: [r.standard_normal((5, 3)), Const(np.array([0, 3, 1, 1, 2]))]),
    Case("LinearCrossEntropyLoss-k-dim-bias-weighted",
         lambda l: l.nn.LinearCrossEntropyLoss(3, 4, out_features=(2,), bias=True,
                                               weight=l.tensor([1.0, 0.5, 2.0, 1.5]),
                                               ignore_index=1, reduction="sum"),
         lambda r: [r.standard_normal((5, 3)), Const(r.integers(0, 4, (5, 2)))]),
    Case("LinearCrossEntropyLoss-chunked",
         lambda l: l.nn.LinearCrossEntropyLoss(
             3, 6, bias=True, reduction="none",
             options=l.nn.LinearCrossEntropyOptions(batch_chunk_size=2)),
         lambda r: [r.standard_normal((5, 3)), Const(np.array([0, 5, 1, 4, 2]))]),
]
