"""Convolutions: ``Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d``.

Weights are ``(out_channels, in_channels // groups, *kernel_size)`` (transposed:
``(in_channels, out_channels // groups, *kernel_size)``), initialised as PyTorch does:
``kaiming_uniform_(a=sqrt(5))`` and a bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ...tensor import Tensor
from .. import functional as F
from ..module import Module
from .utils import (_pair, _reverse_repeat_tuple, _single, _triple, check_sizes, new_parameter,
                    reset_weight_and_bias)

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    _n = 2
    _tuple: Callable[[Any], tuple] = staticmethod(_pair)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any, transposed: bool, output_padding: Any,
                 groups: int, bias: bool, padding_mode: str, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        check_sizes(name, in_channels=in_channels, out_channels=out_channels)
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups != 0:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups "
                             f"({groups})")
        if out_channels % groups != 0:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by "
                             f"groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got "
                             f"padding_mode={padding_mode!r}")
        kernel_size = self._tuple(kernel_size)
        stride = self._tuple(stride)
        dilation = self._tuple(dilation)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, use 'same' or "
                                 "'valid' (or integers)")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride})")
        else:
            padding = self._tuple(padding)
        for label, values in (("kernel_size", kernel_size), ("stride", stride),
                              ("dilation", dilation)):
            if len(values) != self._n:
                raise ValueError(f"{name}: {label} must be an int or a tuple of {self._n} ints, "
                                 f"got {values}")
            # PyTorch accepts a zero kernel here and fails in forward; say so where it is given.
            for value in values:
                check_sizes(name, positive=True, **{label: value})
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = self._tuple(output_padding)
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's widths (last dim first): explicit padding, or 'same' split with the odd
        # pixel after, as PyTorch does.
        if padding == "valid":
            self._reversed_padding_repeated_twice = (0, 0) * self._n
        elif padding == "same":
            widths = []
            for d, k in zip(reversed(dilation), reversed(kernel_size)):
                total = d * (k - 1)
                widths += [total // 2, total - total // 2]
            self._reversed_padding_repeated_twice = tuple(widths)
        else:
            self._reversed_padding_repeated_twice = _reverse_repeat_tuple(padding, 2)
        if transposed:
            shape = (in_channels, out_channels // groups, *kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *kernel_size)
        self.weight = new_parameter(*shape, dtype=dtype, device=device)
        if bias:
            self.bias = new_parameter(out_channels, dtype=dtype, device=device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_weight_and_bias(self.weight, self.bias)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * len(self.kernel_size):
            text += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        conv = getattr(F, f"conv{self._n}d")
        widths = self._reversed_padding_repeated_twice
        if self.padding_mode != "zeros":
            input = F.pad(input, widths, mode=self.padding_mode)
            padding: Any = 0
        elif isinstance(self.padding, str):
            # 'same' may need one more pixel after than before: pad explicitly then.
            if widths[0::2] == widths[1::2]:
                padding = tuple(reversed(widths[0::2]))
            else:
                input = F.pad(input, widths)
                padding = 0
        else:
            padding = self.padding
        return conv(input, weight, bias, self.stride, padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_ConvNd):
    """1-D convolution over ``(N, C_in, L)`` (or unbatched ``(C_in, L)``) inputs.

    >>> import backprop as bp
    >>> bp.nn.Conv1d(2, 4, 3, padding=1)(bp.ones(1, 2, 5)).shape
    (1, 4, 5)
    """

    _n = 1
    _tuple = staticmethod(_single)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | str | Sequence[int] = 0,
                 dilation: int | Sequence[int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, device, dtype)


class Conv2d(_ConvNd):
    """2-D convolution over ``(N, C_in, H, W)`` (or unbatched ``(C_in, H, W)``) inputs.

    ``padding`` is an int, a pair, ``'valid'`` (none) or ``'same'`` (output size = input size,
    stride 1); ``padding_mode`` ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.

    >>> import backprop as bp
    >>> conv = bp.nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1)
    >>> conv
    Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))
    >>> conv(bp.ones(2, 3, 8, 8)).shape
    (2, 8, 4, 4)
    """

    _n = 2
    _tuple = staticmethod(_pair)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | str | Sequence[int] = 0,
                 dilation: int | Sequence[int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, device, dtype)


class Conv3d(_ConvNd):
    """3-D convolution over ``(N, C_in, D, H, W)`` (or unbatched ``(C_in, D, H, W)``) inputs;
    arguments as ``Conv2d``'s, with triples.

    >>> import backprop as bp
    >>> bp.nn.Conv3d(2, 4, 3, padding=1)(bp.ones(1, 2, 4, 4, 4)).shape
    (1, 4, 4, 4, 4)
    """

    _n = 3
    _tuple = staticmethod(_triple)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | str | Sequence[int] = 0,
                 dilation: int | Sequence[int] = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, device, dtype)


class _ConvTransposeNd(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, output_padding: Any, groups: int, bias: bool, dilation: Any,
                 padding_mode: str, device: Any, dtype: Any) -> None:
        if padding_mode != "zeros":
            raise ValueError(f"{type(self).__name__}: only padding_mode='zeros' is supported, "
                             f"got {padding_mode!r}")
        if isinstance(padding, str):
            raise TypeError(f"{type(self).__name__}: padding must be an int or a tuple of "
                             f"ints, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         True, output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input: Tensor, output_size: Sequence[int] | None) -> tuple:
        """The output_padding that makes the result ``output_size`` (spatial dims, optionally
        preceded by batch and channel sizes), checked to be reachable."""
        if output_size is None:
            return self.output_padding
        n = self._n
        leading = input.ndim - n
        output_size = list(output_size)
        if len(output_size) == n + leading:
            output_size = output_size[leading:]
        if len(output_size) != n:
            raise ValueError(f"{type(self).__name__}: output_size must have {n} or "
                             f"{n + leading} elements, got {len(output_size)}")
        result = []
        for d in range(n):
            smallest = ((input.shape[leading + d] - 1) * self.stride[d] - 2 * self.padding[d]
                        + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            largest = smallest + self.stride[d] - 1
            if not smallest <= output_size[d] <= largest:
                raise ValueError(f"{type(self).__name__}: requested output_size {output_size} "
                                 f"cannot be reached: dim {d} must be in "
                                 f"[{smallest}, {largest}] for an input of shape "
                                 f"{tuple(input.shape)}")
            result.append(output_size[d] - smallest)
        return tuple(result)

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        output_padding = self._output_padding(input, output_size)
        conv = getattr(F, f"conv_transpose{self._n}d")
        return conv(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                    self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over ``(N, C_in, L)`` inputs."""

    _n = 1
    _tuple = staticmethod(_single)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                 output_padding: int | Sequence[int] = 0, groups: int = 1, bias: bool = True,
                 dilation: int | Sequence[int] = 1, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         output_padding, groups, bias, dilation, padding_mode, device, dtype)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution (the gradient of ``Conv2d`` with respect to its input), used
    to upsample. ``forward(input, output_size=None)`` picks the output padding that gives
    ``output_size`` when given.

    >>> import backprop as bp
    >>> up = bp.nn.ConvTranspose2d(4, 2, kernel_size=2, stride=2)
    >>> up(bp.ones(1, 4, 3, 3)).shape
    (1, 2, 6, 6)
    """

    _n = 2
    _tuple = staticmethod(_pair)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                 output_padding: int | Sequence[int] = 0, groups: int = 1, bias: bool = True,
                 dilation: int | Sequence[int] = 1, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         output_padding, groups, bias, dilation, padding_mode, device, dtype)


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution over ``(N, C_in, D, H, W)`` inputs; see ``ConvTranspose2d``.

    >>> import backprop as bp
    >>> bp.nn.ConvTranspose3d(4, 2, 2, stride=2)(bp.ones(1, 4, 2, 2, 2)).shape
    (1, 2, 4, 4, 4)
    """

    _n = 3
    _tuple = staticmethod(_triple)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Sequence[int],
                 stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
                 output_padding: int | Sequence[int] = 0, groups: int = 1, bias: bool = True,
                 dilation: int | Sequence[int] = 1, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         output_padding, groups, bias, dilation, padding_mode, device, dtype)
