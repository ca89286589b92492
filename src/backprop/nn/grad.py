"""``bp.nn.grad`` (PyTorch's ``torch.nn.grad``): the gradient of a convolution with respect to
its input or its weight, given the gradient of its output.

Each is the backward of the convolution itself, taken through the engine at a zero point (a
convolution is linear in each argument, so the point does not matter): one rule for the
gradient, the one ``conv*d`` already uses, and so the same numbers as ``loss.backward()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..autograd.functional import grad
from ..creation import zeros
from ..tensor import Tensor
from . import functional as F

__all__ = ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight", "conv3d_input",
           "conv3d_weight"]


def _input_grad(conv: Callable, name: str, input_size: Sequence[int], weight: Tensor,
                grad_output: Tensor, *options: Any) -> Tensor:
    if input_size is None:
        raise ValueError(f"{name}: input_size must be given, got None")
    return _gradient_at_zero(conv, input_size, weight, grad_output, options, of_input=True)


def _weight_grad(conv: Callable, input: Tensor, weight_size: Sequence[int],
                 grad_output: Tensor, *options: Any) -> Tensor:
    return _gradient_at_zero(conv, weight_size, input, grad_output, options, of_input=False)


def _gradient_at_zero(conv: Callable, size: Sequence[int], other: Tensor, grad_output: Tensor,
                      options: tuple, of_input: bool) -> Tensor:
    """The gradient of ``conv`` at a zero argument of ``size`` (the input or the weight), the
    other argument fixed; differentiable itself when ``grad_output`` or ``other`` is."""
    zero = zeros(*size, dtype=grad_output.dtype, device=grad_output.device, requires_grad=True)
    args = (zero, other.detach()) if of_input else (other.detach(), zero)
    out = conv(*args, None, *options)
    return grad(out, zero, grad_output,
                create_graph=grad_output.requires_grad or other.requires_grad)[0]


def conv1d_input(input_size: Sequence[int], weight: Tensor, grad_output: Tensor,
                 stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """The gradient of ``conv1d`` with respect to an input of shape ``input_size``.

    >>> import backprop as bp
    >>> bp.nn.grad.conv1d_input((1, 1, 3), bp.ones(1, 1, 2), bp.ones(1, 1, 2)).tolist()
    [[[1.0, 2.0, 1.0]]]
    """
    return _input_grad(F.conv1d, "conv1d_input", input_size, weight, grad_output, stride,
                       padding, dilation, groups)


def conv1d_weight(input: Tensor, weight_size: Sequence[int], grad_output: Tensor,
                  stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """The gradient of ``conv1d`` with respect to a weight of shape ``weight_size``.

    >>> import backprop as bp
    >>> bp.nn.grad.conv1d_weight(bp.arange(3.0).reshape(1, 1, 3), (1, 1, 2),
    ...                          bp.ones(1, 1, 2)).tolist()
    [[[1.0, 3.0]]]
    """
    return _weight_grad(F.conv1d, input, weight_size, grad_output, stride, padding, dilation,
                        groups)


def conv2d_input(input_size: Sequence[int], weight: Tensor, grad_output: Tensor,
                 stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """The gradient of ``conv2d`` with respect to an input of shape ``input_size``.

    >>> import backprop as bp
    >>> bp.nn.grad.conv2d_input((1, 1, 3, 3), bp.ones(1, 1, 2, 2), bp.ones(1, 1, 2, 2))[0, 0, 1].tolist()
    [2.0, 4.0, 2.0]
    """
    return _input_grad(F.conv2d, "conv2d_input", input_size, weight, grad_output, stride,
                       padding, dilation, groups)


def conv2d_weight(input: Tensor, weight_size: Sequence[int], grad_output: Tensor,
                  stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """The gradient of ``conv2d`` with respect to a weight of shape ``weight_size``.

    >>> import backprop as bp
    >>> bp.nn.grad.conv2d_weight(bp.ones(1, 1, 3, 3), (1, 1, 2, 2), bp.ones(1, 1, 2, 2)).shape
    (1, 1, 2, 2)
    """
    return _weight_grad(F.conv2d, input, weight_size, grad_output, stride, padding, dilation,
                        groups)


def conv3d_input(input_size: Sequence[int], weight: Tensor, grad_output: Tensor,
                 stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """The gradient of ``conv3d`` with respect to an input of shape ``input_size``.

    >>> import backprop as bp
    >>> bp.nn.grad.conv3d_input((1, 1, 2, 2, 2), bp.ones(1, 1, 1, 1, 1),
    ...                         bp.ones(1, 1, 2, 2, 2)).sum().item()
    8.0
    """
    return _input_grad(F.conv3d, "conv3d_input", input_size, weight, grad_output, stride,
                       padding, dilation, groups)


def conv3d_weight(input: Tensor, weight_size: Sequence[int], grad_output: Tensor,
                  stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """The gradient of ``conv3d`` with respect to a weight of shape ``weight_size``.

    >>> import backprop as bp
    >>> bp.nn.grad.conv3d_weight(bp.ones(1, 1, 2, 2, 2), (1, 1, 1, 1, 1),
    ...                          bp.ones(1, 1, 2, 2, 2)).item()
    8.0
    """
    return _weight_grad(F.conv3d, input, weight_size, grad_output, stride, padding, dilation,
                        groups)
