"""``bp.masked``: PyTorch's ``torch.masked`` namespace: reductions and normalizations over the
elements a boolean mask keeps. The functions live in ``backprop.ops.masked_reductions``.

>>> import backprop as bp
>>> bp.masked.mean(bp.tensor([1.0, 2.0, 9.0]), mask=bp.tensor([True, True, False])).item()
1.5
"""

from __future__ import annotations

from .ops.masked_reductions import (amax, amin, argmax, argmin, cumprod, cumsum, log_softmax,
                                    logaddexp, logsumexp, mean, median, norm, normalize, prod,
                                    softmax, softmin, std, sum, var)

__all__ = ["amax", "amin", "argmax", "argmin", "cumprod", "cumsum", "log_softmax", "logaddexp",
           "logsumexp", "mean", "median", "norm", "normalize", "prod", "softmax", "softmin",
           "std", "sum", "var"]
