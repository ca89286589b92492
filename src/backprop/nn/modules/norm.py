"""Normalisation layers: ``BatchNorm1d/2d/3d``, ``LayerNorm``, ``GroupNorm``, ``RMSNorm``."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ... import backend
from ...capture.state import refuse, replayable
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from .utils import factory_dtype, new_parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d",
           "InstanceNorm3d", "LayerNorm", "GroupNorm", "RMSNorm"]


def _register_affine(module: Module, shape: tuple[int, ...], enabled: bool, bias: bool,
                     dtype: Any, device: Any) -> None:
    """``weight`` and ``bias`` parameters of ``shape`` (None slots when not ``enabled``, and no
    bias when ``bias`` is False); their values are set by ``_reset_affine``."""
    weight = new_parameter(*shape, dtype=dtype, device=device) if enabled else None
    module.register_parameter("weight", weight)
    module.register_parameter("bias", new_parameter(*shape, dtype=dtype, device=device)
                              if enabled and bias else None)


def _reset_affine(module: Module) -> None:
    """The identity transform: weight ones, bias zeros."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


@replayable  # a captured step counts each replay's batch too
def _count_batch(num_batches_tracked: Tensor) -> None:
    init._write(num_batches_tracked, num_batches_tracked._data + 1, "num_batches_tracked")


class _BatchNorm(Module):
    _expected_ndim: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _register_affine(self, (num_features,), affine, bias, dtype, device)
        if track_running_stats:
            float_dtype = factory_dtype(dtype)
            self.register_buffer("running_mean", Tensor._wrap(np.zeros(num_features,
                                                                       float_dtype)))
            self.register_buffer("running_var", Tensor._wrap(np.ones(num_features,
                                                                      float_dtype)))
            self.register_buffer("num_batches_tracked", Tensor._wrap(np.array(0, np.int64)))
            target = backend.as_device(device, type(self).__name__)
            if target is not None:
                for buffer in (self.running_mean, self.running_var, self.num_batches_tracked):
                    buffer._data = backend.to_device(buffer._data, target)
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in self._expected_ndim:
            wanted = " or ".join(f"{n}D" for n in self._expected_ndim)
            raise ValueError(f"{type(self).__name__}: expected {wanted} input, got a "
                             f"{input.ndim}D input of shape {tuple(input.shape)}")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected {self.num_features} channels "
                             f"(dim 1) but the input of shape {tuple(input.shape)} has "
                             f"{input.shape[1]}")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            _count_batch(self.num_batches_tracked)
            if self.momentum is None:  # cumulative moving average
                refuse("uses a BatchNorm with momentum=None, whose factor Python reads from "
                       "num_batches_tracked each step")
                momentum = 1.0 / float(self.num_batches_tracked._data)
        # Batch statistics in training, and in eval when no running statistics are kept.
        use_batch_stats = self.training or (self.running_mean is None
                                            and self.running_var is None)
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            use_batch_stats, momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over ``(N, C)`` or ``(N, C, L)`` inputs: per channel, subtract the
    batch mean and divide by the batch std (running estimates in eval), then scale and shift.
    ``momentum=None`` keeps a cumulative average instead of an exponential one.

    >>> import backprop as bp
    >>> bn = bp.nn.BatchNorm1d(3)
    >>> bn
    BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    >>> y = bn(bp.randn(8, 3)); bn.num_batches_tracked.item()
    1
    """

    _expected_ndim = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over ``(N, C, H, W)`` inputs, per channel.

    >>> import backprop as bp
    >>> bp.nn.BatchNorm2d(4)(bp.randn(2, 4, 3, 3)).shape
    (2, 4, 3, 3)
    """

    _expected_ndim = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation over ``(N, C, D, H, W)`` inputs, per channel."""

    _expected_ndim = (5,)


class _InstanceNorm(_BatchNorm):
    """Per-sample, per-channel normalisation; running statistics only with
    ``track_running_stats=True``. Unbatched inputs (one dim fewer) are accepted."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        batched_ndim = self._expected_ndim[0]
        if input.ndim not in (batched_ndim - 1, batched_ndim):
            raise ValueError(f"{type(self).__name__}: expected {batched_ndim - 1}D (unbatched) "
                             f"or {batched_ndim}D (batched) input, got shape "
                             f"{tuple(input.shape)}")
        unbatched = input.ndim == batched_ndim - 1
        if unbatched:
            input = input.unsqueeze(0)
        if self.affine and input.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected {self.num_features} channels but "
                             f"the input of shape {tuple(input.shape)} has {input.shape[1]}")
        out = F.instance_norm(input, self.running_mean, self.running_var, self.weight,
                              self.bias, self.training or not self.track_running_stats,
                              self.momentum if self.momentum is not None else 0.1, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation over ``(N, C, L)`` (or ``(C, L)``) inputs.

    >>> import backprop as bp
    >>> norm = bp.nn.InstanceNorm1d(3)
    >>> norm(bp.randn(2, 3, 5)).shape, norm.affine, norm.track_running_stats
    ((2, 3, 5), False, False)
    """

    _expected_ndim = (3,)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation over ``(N, C, H, W)`` (or ``(C, H, W)``) inputs."""

    _expected_ndim = (4,)


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation over ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) inputs."""

    _expected_ndim = (5,)


def _normalized_shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    return tuple(int(n) for n in shape)


class LayerNorm(Module):
    """Normalise over the last ``len(normalized_shape)`` dims (mean 0, variance 1 per sample),
    then scale by ``weight`` and shift by ``bias`` (elementwise).

    >>> import backprop as bp
    >>> ln = bp.nn.LayerNorm(4)
    >>> ln
    LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)
    >>> ln(bp.randn(2, 4)).shape
    (2, 4)
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _register_affine(self, self.normalized_shape, elementwise_affine, bias, dtype, device)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Split the channels (dim 1) into ``num_groups`` groups and normalise each group of each
    sample; then a per-channel scale and shift.

    >>> import backprop as bp
    >>> gn = bp.nn.GroupNorm(2, 4)
    >>> gn
    GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)
    >>> gn(bp.randn(3, 4, 5)).shape
    (3, 4, 5)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _register_affine(self, (num_channels,), affine, bias, dtype, device)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """Divide by the root mean square over the last ``len(normalized_shape)`` dims, then scale
    by ``weight``. ``eps=None`` uses the dtype's machine epsilon, as PyTorch does.

    >>> import backprop as bp
    >>> norm = bp.nn.RMSNorm(4)
    >>> norm
    RMSNorm((4,), eps=None, elementwise_affine=True)
    >>> norm(bp.randn(2, 4)).shape
    (2, 4)
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None,
                 elementwise_affine: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = new_parameter(*self.normalized_shape, dtype=dtype, device=device)
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, input: Tensor) -> Tensor:
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
