"""The tail of ``torch.nn`` (issue 16): one import point so their exports stay one block."""

from __future__ import annotations

from .adaptive import AdaptiveLogSoftmaxWithLoss

__all__ = ["AdaptiveLogSoftmaxWithLoss"]
