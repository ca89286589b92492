"""``SyncBatchNorm``: batch norm whose training statistics cover every process's batch.

Over MPI (``bp.distributed.init()`` in a world of more than one rank) the per-channel count,
sum and sum of squared deviations are summed across ranks, so each rank normalises with the
statistics of the concatenated batch, and its backward sums the matching gradient terms across
ranks: 2-process training equals 1-process training on the concatenated batch. In a world of
one, or without a process group, it is ``BatchNorm`` (PyTorch 2.13 on CPU does the same: its
forward falls back to ``batch_norm`` when no process group is running).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...autograd.function import Function
from ...backend import on_device_of, to_host
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from .norm import _BatchNorm

__all__ = ["SyncBatchNorm"]


def _group(process_group: Any) -> Any:
    """The MPI group to synchronise over, or None when there is nothing to synchronise with."""
    from ... import distributed  # imported lazily: bp.nn works without mpi4py
    if process_group is None:
        if not distributed.is_initialized():
            return None
        process_group = distributed.group.current("SyncBatchNorm")
    return process_group if process_group.world_size > 1 else None


class _SumOverRanks(Function):
    """The sum of a tensor over every rank; its gradient is the sum of the ranks' gradients
    (each rank's loss depends on every rank's input through the shared statistics)."""

    @staticmethod
    def forward(ctx: Any, input: Tensor, group: Any) -> Tensor:
        from ...distributed.collectives import all_reduce_array
        ctx.group = group
        host = np.array(to_host(input._data), copy=True)
        all_reduce_array(host, "sum", "SyncBatchNorm", group)
        return Tensor._wrap(on_device_of(host, input._data))

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> tuple[Tensor, None]:
        return _SumOverRanks.apply(g, ctx.group), None


class SyncBatchNorm(_BatchNorm):
    """``BatchNorm`` over the whole distributed batch (see the module notes).

    >>> import backprop as bp
    >>> norm = bp.nn.SyncBatchNorm(3)
    >>> norm(bp.randn(4, 3, 2)).shape
    (4, 3, 2)
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 process_group: Any | None = None, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim < 2:
            raise ValueError(f"SyncBatchNorm: expected at least 2D input (got {input.ndim}D "
                             f"input of shape {tuple(input.shape)})")
        if input.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm: expected {self.num_features} channels (dim 1) but "
                             f"the input of shape {tuple(input.shape)} has {input.shape[1]}")

    def forward(self, input: Tensor) -> Tensor:
        group = _group(self.process_group) if self.training else None
        if group is None:
            return super().forward(input)
        self._check_input_dim(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            init._write(self.num_batches_tracked, self.num_batches_tracked._data + 1,
                        "num_batches_tracked")
            if self.momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked._data)
        dims = [0, *range(2, input.ndim)]
        shape = (1, -1) + (1,) * (input.ndim - 2)
        local = np.array([input.numel() // input.shape[1]], dtype=np.float64)
        count = float(_SumOverRanks.apply(Tensor._wrap(local), group).item())
        if count <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel when "
                             f"training, got {int(count)} over all ranks")
        # Two passes (mean, then squared deviations from it), as batch_norm computes them.
        mean = _SumOverRanks.apply(input.sum(dims), group) / count
        centred = input - mean.reshape(shape)
        var = _SumOverRanks.apply((centred * centred).sum(dims), group) / count
        out = centred * (var + self.eps).rsqrt().reshape(shape)
        if self.weight is not None:
            out = out * self.weight.reshape(shape)
        if self.bias is not None:
            out = out + self.bias.reshape(shape)
        if self.running_mean is not None and self.track_running_stats:
            # The running variance is unbiased, over the whole batch's count.
            updates = {"running_mean": mean.detach(),
                       "running_var": var.detach() * (count / (count - 1))}
            for name, value in updates.items():
                buffer = getattr(self, name)
                init._write(buffer, (1 - momentum) * buffer._data
                            + momentum * value._data.astype(buffer._data.dtype), name)
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """``module`` with every ``BatchNorm*d`` in it replaced by a ``SyncBatchNorm`` holding
        the same parameters, buffers and training flag (PyTorch's classmethod).

        >>> import backprop as bp
        >>> net = bp.nn.SyncBatchNorm.convert_sync_batchnorm(
        ...     bp.nn.Sequential(bp.nn.Conv2d(1, 2, 3), bp.nn.BatchNorm2d(2)))
        >>> type(net[1]).__name__
        'SyncBatchNorm'
        """
        converted = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group,
                            bias=module.bias is not None or not module.affine)
            if module.affine:  # the same Parameter objects, so an optimizer keeps tracking them
                converted.register_parameter("weight", module.weight)
                converted.register_parameter("bias", module.bias)
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                converted.register_buffer(name, getattr(module, name))
            converted.training = module.training
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted

