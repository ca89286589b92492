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
]
