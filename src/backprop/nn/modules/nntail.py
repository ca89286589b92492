"""The tail of ``torch.nn`` (issue 16): one import point so their exports stay one block."""

from __future__ import annotations

from ..parallel.data_parallel import DataParallel
from .adaptive import AdaptiveLogSoftmaxWithLoss
from .fractional_pool import FractionalMaxPool2d, FractionalMaxPool3d
from .legacy import Container
from .linear_cross_entropy import LinearCrossEntropyLoss, LinearCrossEntropyOptions
from .sync_batchnorm import SyncBatchNorm

__all__ = ["AdaptiveLogSoftmaxWithLoss", "Container", "DataParallel", "FractionalMaxPool2d",
           "FractionalMaxPool3d", "LinearCrossEntropyLoss",
           "LinearCrossEntropyOptions", "SyncBatchNorm"]
