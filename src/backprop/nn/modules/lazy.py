"""Lazy modules: ``LazyLinear``, ``LazyConv*d``, ``LazyConvTranspose*d``, ``LazyBatchNorm*d`` and
``LazyInstanceNorm*d`` learn their input size from the first call, as PyTorch's do. Until then their parameters are
``UninitializedParameter``s (and running statistics ``UninitializedBuffer``s); the first forward
materialises them with the inferred shape, initialises them as the eager class would, and turns
the module into that class (``LazyLinear`` becomes ``Linear``)."""

from __future__ import annotations

from typing import Any

from ...autograd import grad_mode
from ...tensor import Tensor
from ..module import Module
from ..parameter import UninitializedBuffer, UninitializedParameter
from .conv import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d,
                   ConvTranspose3d)
from .linear import Linear
from .norm import (BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d,
                   InstanceNorm3d)

__all__ = ["LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv1d", "LazyConv2d",
           "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
           "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d", "LazyLinear"]


def _infer_parameters(module: Any, args: tuple) -> None:
    """The forward pre-hook of a lazy module: materialise, then become the eager class."""
    module.initialize_parameters(*args)
    module.__dict__.pop("_lazy_hook").remove()
    object.__setattr__(module, "__class__", module.cls_to_become)


class LazyModuleMixin:
    """Shapes parameters from the first input: subclasses set ``cls_to_become`` and define
    ``initialize_parameters(*inputs)``."""

    cls_to_become: type[Module]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy_hook = self.register_forward_pre_hook(_infer_parameters)

    def has_uninitialized_params(self) -> bool:
        tensors = [*self._parameters.values(), *self._buffers.values()]
        return any(isinstance(t, (UninitializedParameter, UninitializedBuffer)) for t in tensors)

    def reset_parameters(self) -> None:
        # Nothing to initialise before the first call (the eager __init__'s size-0 parameters
        # included).
        shaped = all(p.numel() for p in self._parameters.values() if p is not None)
        if shaped and not self.has_uninitialized_params():
            super().reset_parameters()


class LazyLinear(LazyModuleMixin, Linear):
    """``Linear`` whose ``in_features`` is the last dim of the first input.

    >>> import backprop as bp
    >>> layer = bp.nn.LazyLinear(2)
    >>> layer
    LazyLinear(in_features=0, out_features=2, bias=True)
    >>> layer(bp.ones(5, 3)).shape, layer
    ((5, 2), Linear(in_features=3, out_features=2, bias=True))
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(0, 0, False, device=device, dtype=dtype)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def initialize_parameters(self, input: Tensor) -> None:
        if self.has_uninitialized_params():
            with grad_mode.no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()


class _LazyConv(LazyModuleMixin):
    """What the lazy convolutions share: parameters left uninitialised by ``_uninitialized``
    after the eager constructor ran with zero channels, shaped at the first call."""

    def _uninitialized(self, out_channels: int, bias: bool, device: Any, dtype: Any) -> None:
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def initialize_parameters(self, input: Tensor, *args: Any) -> None:
        if not self.has_uninitialized_params():
            return
        spatial = len(self.kernel_size)
        if input.ndim not in (spatial + 1, spatial + 2):
            raise ValueError(f"{type(self).__name__}: expected {spatial + 1}D (unbatched) or "
                             f"{spatial + 2}D (batched) input, got shape {tuple(input.shape)}")
        self.in_channels = input.shape[1] if input.ndim == spatial + 2 else input.shape[0]
        if self.in_channels % self.groups:
            raise ValueError(f"{type(self).__name__}: in_channels ({self.in_channels}) must be "
                             f"divisible by groups ({self.groups})")
        # A transposed convolution's weight is (in, out // groups, *kernel), as PyTorch's.
        channels = ((self.in_channels, self.out_channels // self.groups) if self.transposed
                    else (self.out_channels, self.in_channels // self.groups))
        with grad_mode.no_grad():
            self.weight.materialize((*channels, *self.kernel_size))
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()


class _LazyConvNd(_LazyConv):
    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode, device=device, dtype=dtype)
        self._uninitialized(out_channels, bias, device, dtype)


class _LazyConvTransposeNd(_LazyConv):
    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False,
                         dilation, padding_mode, device=device, dtype=dtype)
        self._uninitialized(out_channels, bias, device, dtype)


class LazyConv1d(_LazyConvNd, Conv1d):
    """``Conv1d`` whose ``in_channels`` comes from the first input.

    >>> import backprop as bp
    >>> conv = bp.nn.LazyConv1d(4, 3)
    >>> conv(bp.ones(2, 5, 7)).shape, conv.weight.shape
    ((2, 4, 5), (4, 5, 3))
    """

    cls_to_become = Conv1d



class LazyConv2d(_LazyConvNd, Conv2d):
    """``Conv2d`` whose ``in_channels`` comes from the first input.

    >>> import backprop as bp
    >>> bp.nn.LazyConv2d(4, 3)
    LazyConv2d(0, 4, kernel_size=(3, 3), stride=(1, 1))
    """

    cls_to_become = Conv2d


class LazyConv3d(_LazyConvNd, Conv3d):
    """``Conv3d`` whose ``in_channels`` comes from the first input.

    >>> import backprop as bp
    >>> bp.nn.LazyConv3d(2, 1)(bp.ones(1, 3, 2, 2, 2)).shape
    (1, 2, 2, 2, 2)
    """

    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTransposeNd, ConvTranspose1d):
    """``ConvTranspose1d`` whose ``in_channels`` comes from the first input.

    >>> import backprop as bp
    >>> up = bp.nn.LazyConvTranspose1d(2, 3, stride=2)
    >>> up(bp.ones(1, 4, 5)).shape, up.weight.shape
    ((1, 2, 11), (4, 2, 3))
    """

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTransposeNd, ConvTranspose2d):
    """``ConvTranspose2d`` whose ``in_channels`` comes from the first input.

    >>> import backprop as bp
    >>> bp.nn.LazyConvTranspose2d(2, 2, stride=2)(bp.ones(1, 3, 2, 2)).shape
    (1, 2, 4, 4)
    """

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTransposeNd, ConvTranspose3d):
    """``ConvTranspose3d`` whose ``in_channels`` comes from the first input.

    >>> import backprop as bp
    >>> bp.nn.LazyConvTranspose3d(2, 1)(bp.ones(1, 3, 2, 2, 2)).shape
    (1, 2, 2, 2, 2)
    """

    cls_to_become = ConvTranspose3d



class _LazyNorm(LazyModuleMixin):
    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__(0, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)

    def initialize_parameters(self, input: Tensor) -> None:
        if not self.has_uninitialized_params():
            return
        self.num_features = input.shape[1] if input.ndim > 1 else input.shape[0]
        with grad_mode.no_grad():
            for name in ("weight", "bias", "running_mean", "running_var"):
                tensor = getattr(self, name)
                if isinstance(tensor, (UninitializedParameter, UninitializedBuffer)):
                    tensor.materialize((self.num_features,))
            self.reset_parameters()


class LazyBatchNorm1d(_LazyNorm, BatchNorm1d):
    """``BatchNorm1d`` whose ``num_features`` comes from the first input.

    >>> import backprop as bp
    >>> norm = bp.nn.LazyBatchNorm1d()
    >>> norm(bp.randn(4, 3)).shape, norm.running_mean.shape
    ((4, 3), (3,))
    """

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNorm, BatchNorm2d):
    """``BatchNorm2d`` whose ``num_features`` comes from the first input.

    >>> import backprop as bp
    >>> bp.nn.LazyBatchNorm2d()(bp.randn(2, 3, 2, 2)).shape
    (2, 3, 2, 2)
    """

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNorm, BatchNorm3d):
    """``BatchNorm3d`` whose ``num_features`` comes from the first input.

    >>> import backprop as bp
    >>> bp.nn.LazyBatchNorm3d()(bp.randn(2, 3, 1, 2, 2)).shape
    (2, 3, 1, 2, 2)
    """

    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyNorm, InstanceNorm1d):
    """``InstanceNorm1d`` whose ``num_features`` comes from the first input (affine and
    tracking running statistics by default, as PyTorch's lazy instance norms).

    >>> import backprop as bp
    >>> norm = bp.nn.LazyInstanceNorm1d()
    >>> norm(bp.randn(2, 3, 4)).shape, norm.weight.shape
    ((2, 3, 4), (3,))
    """

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyNorm, InstanceNorm2d):
    """``InstanceNorm2d`` whose ``num_features`` comes from the first input.

    >>> import backprop as bp
    >>> bp.nn.LazyInstanceNorm2d()(bp.randn(2, 3, 2, 2)).shape
    (2, 3, 2, 2)
    """

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyNorm, InstanceNorm3d):
    """``InstanceNorm3d`` whose ``num_features`` comes from the first input.

    >>> import backprop as bp
    >>> bp.nn.LazyInstanceNorm3d()(bp.randn(2, 3, 1, 2, 2)).shape
    (2, 3, 1, 2, 2)
    """

    cls_to_become = InstanceNorm3d
