"""The tail of ``torch.nn`` (issue 16): one import point so their exports stay one block."""

from __future__ import annotations

from ..parallel.data_parallel import DataParallel
from .adaptive import AdaptiveLogSoftmaxWithLoss
from .legacy import Container

__all__ = ["AdaptiveLogSoftmaxWithLoss", "Container", "DataParallel"]
