"""Rows: the tail of torch.nn (adaptive softmax, fractional pooling, SyncBatchNorm,
DataParallel, the fused linear cross-entropy)."""

from __future__ import annotations

import numpy as np

from moduletable.spec import Case, Const, x

CASES = [
    # Targets in the shortlist and in both tail clusters.
    Case("AdaptiveLogSoftmaxWithLoss",
         lambda l: l.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [2, 6], div_value=2.0),
         lambda r: [r.standard_normal((5, 4)), Const(np.array([0, 7, 3, 9, 1]))]),
    Case("AdaptiveLogSoftmaxWithLoss-head-bias-unbatched",
         lambda l: l.nn.AdaptiveLogSoftmaxWithLoss(4, 6, [3], head_bias=True),
         lambda r: [r.standard_normal(4), Const(np.array(4))]),
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
