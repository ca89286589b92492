"""Folding an eval-mode batch norm into the convolution or linear layer before it
(``torch.nn.utils.fusion``): ``bn(conv(x)) == fused(x)`` with the statistics frozen."""

from __future__ import annotations

import copy

from ...autograd import grad_mode
from ...ops.elementwise import rsqrt
from ...tensor import Tensor
from ..module import Module
from ..parameter import Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights"]


def _defaults(bias: Tensor | None, bn_rm: Tensor, bn_w: Tensor | None,
              bn_b: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
    zeros = bn_rm * 0
    return (zeros if bias is None else bias, zeros + 1 if bn_w is None else bn_w,
            zeros if bn_b is None else bn_b)


def fuse_conv_bn_weights(conv_w: Tensor, conv_b: Tensor | None, bn_rm: Tensor, bn_rv: Tensor,
                         bn_eps: float, bn_w: Tensor | None, bn_b: Tensor | None,
                         transpose: bool = False) -> tuple[Parameter, Parameter]:
    """The weight and bias of one convolution equal to the convolution then the batch norm
    (running mean ``bn_rm``, variance ``bn_rv``); ``transpose`` for transposed convolutions,
    whose output channels are dim 1 of the weight.

    >>> import backprop as bp
    >>> w, b = bp.nn.utils.fuse_conv_bn_weights(bp.ones(2, 1, 1), None, bp.zeros(2), bp.ones(2),
    ...                                         0.0, None, None)
    >>> w.flatten().tolist(), b.tolist()
    ([1.0, 1.0], [0.0, 0.0])
    """
    dtype = conv_w.dtype
    bias_dtype = dtype if conv_b is None else conv_b.dtype
    bias_grad = conv_w.requires_grad if conv_b is None else conv_b.requires_grad
    conv_b, bn_w, bn_b = _defaults(conv_b, bn_rm, bn_w, bn_b)
    scale = bn_w * rsqrt(bn_rv + bn_eps)
    shape = [1, -1] if transpose else [-1, 1]
    weight = conv_w * scale.reshape(shape + [1] * (conv_w.ndim - 2))
    bias = (conv_b - bn_rm) * scale + bn_b
    return (Parameter(weight.to(dtype).detach(), conv_w.requires_grad),
            Parameter(bias.to(bias_dtype).detach(), bias_grad))


def fuse_linear_bn_weights(linear_w: Tensor, linear_b: Tensor | None, bn_rm: Tensor,
                           bn_rv: Tensor, bn_eps: float, bn_w: Tensor | None,
                           bn_b: Tensor | None) -> tuple[Parameter, Parameter]:
    """The weight and bias of one linear layer equal to the layer then the batch norm.

    >>> import backprop as bp
    >>> w, b = bp.nn.utils.fuse_linear_bn_weights(bp.ones(2, 3), None, bp.ones(2), bp.ones(2),
    ...                                           0.0, None, None)
    >>> b.tolist()
    [-1.0, -1.0]
    """
    bias_grad = linear_w.requires_grad if linear_b is None else linear_b.requires_grad
    linear_b, bn_w, bn_b = _defaults(linear_b, bn_rm, bn_w, bn_b)
    scale = bn_w * rsqrt(bn_rv + bn_eps)
    weight = linear_w * scale.unsqueeze(-1)
    bias = (linear_b - bn_rm) * scale + bn_b
    return (Parameter(weight.detach(), linear_w.requires_grad),
            Parameter(bias.detach(), bias_grad))


def _check_eval(op: str, layer: Module, bn: Module) -> None:
    if layer.training or bn.training:
        raise RuntimeError(f"{op}: fusion only for eval: call .eval() on both modules")
    if bn.running_mean is None or bn.running_var is None:
        raise RuntimeError(f"{op}: the batch norm must track running statistics")


def fuse_conv_bn_eval(conv: Module, bn: Module, transpose: bool = False) -> Module:
    """A copy of ``conv`` (in eval mode) with ``bn`` (eval mode) folded into it."""
    _check_eval("fuse_conv_bn_eval", conv, bn)
    fused = copy.deepcopy(conv)
    with grad_mode.no_grad():
        fused.weight, fused.bias = fuse_conv_bn_weights(
            fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight,
            bn.bias, transpose)
    return fused


def fuse_linear_bn_eval(linear: Module, bn: Module) -> Module:
    """A copy of ``linear`` (in eval mode) with ``bn`` (eval mode) folded into it."""
    _check_eval("fuse_linear_bn_eval", linear, bn)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise ValueError(f"fuse_linear_bn_eval: linear.out_features ({linear.out_features}) must "
                         f"equal bn.num_features ({bn.num_features}), or bn.num_features be 1")
    fused = copy.deepcopy(linear)
    with grad_mode.no_grad():
        fused.weight, fused.bias = fuse_linear_bn_weights(
            fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight,
            bn.bias)
    return fused
