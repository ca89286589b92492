"""``bp.nn.functional`` normalisation: layer_norm, batch_norm, group_norm, instance_norm and
rms_norm.

Each normalises ``x_hat = (x - mean) / sqrt(var + eps)`` over some axes and applies an affine
``x_hat * weight + bias``, in one fused primitive per op whose input VJP is the standard fused
form (with ``g_hat = g * weight``)::

    dx = rstd * (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat))

The forward hands its statistics (mean, rstd) to the VJPs through a small holder passed as a
constant argument, so a plain backward does not recompute them. Under ``create_graph=True`` the
VJPs recompute them from the input with our own ops instead, so the gradient stays a
differentiable function of the input and gradients of gradients are exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...autograd.graph import VersionCounter
from ...backends import numba as _accel
from ...errors import ShapeError, format_shape
from ...ops.elementwise import rsqrt
from ...ops.primitive import primitive
from ...ops.reduction import _mean
from ...ops.shape import reshape
from ...tensor import Tensor


class _Moments:
    """What a normalisation's forward computed, for its VJPs: ``mean`` and ``rstd`` (kept with
    the reduced axes, so they broadcast) and the biased variance ``var``."""

    __slots__ = ("grad_weight", "mean", "rstd", "share_weight_grad", "var")

    def __init__(self, share_weight_grad: bool = False) -> None:
        self.mean = self.var = self.rstd = None
        # layer_norm with a weight that needs a gradient: the input's VJP (which runs first, in
        # the same node) computes g * x_hat on the way and hands it to the weight's VJP.
        self.share_weight_grad = share_weight_grad
        self.grad_weight = None


def _mean_of_product(a: np.ndarray, b: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """``mean(a * b)`` over ``axes`` (kept), for arrays of one shape. Over trailing axes (layer
    and group norm) it is a row-wise dot product: no temporary, ~3x faster than the product
    followed by a mean; other axes (batch norm), and device arrays (CuPy has no vecdot), take
    the product and the mean."""
    ndim = a.ndim
    if (type(a) is np.ndarray and axes == tuple(range(ndim - len(axes), ndim))
            and a.shape == b.shape):
        count = math.prod(a.shape[ndim - len(axes):])
        keep = a.shape[:ndim - len(axes)]
        rows = np.vecdot(a.reshape(keep + (count,)), b.reshape(keep + (count,)))
        rows /= count
        return rows.reshape(keep + (1,) * len(axes))
    return np.mean(np.multiply(a, b), axis=axes, keepdims=True)


def _normalize_forward(input: Any, weight: Any, bias: Any, axes: tuple[int, ...], eps: float,
                       moments: _Moments) -> Any:
    fused = _accel.layer_norm(input, weight, bias, axes, eps)  # trailing axes, with Numba
    if fused is not None:
        out, moments.mean, moments.var, moments.rstd = fused
        return out
    mean = input.mean(axis=axes, keepdims=True)
    out = input - mean
    var = _mean_of_product(out, out, axes)
    rstd = 1.0 / np.sqrt(var + eps)
    out *= rstd
    if weight is not None:
        out *= weight
    if bias is not None:
        out += bias
    moments.mean, moments.var, moments.rstd = mean, var, rstd
    return out


def _normalized(input: Any, axes: tuple[int, ...], eps: float, moments: _Moments) -> tuple:
    """``(x_hat, rstd)``: from the forward's statistics in a plain backward; recomputed with our
    ops when ``input`` is a Tensor (under create_graph), so they carry their dependence on it."""
    if isinstance(input, Tensor):
        centered = input - _mean(input, axes, True)
        rstd = rsqrt(_mean(centered * centered, axes, True) + eps)
        return centered * rstd, rstd
    return (input - moments.mean) * moments.rstd, moments.rstd


def _normalize_grad_input(g: Any, out: Any, input: Any, weight: Any, bias: Any,
                          axes: tuple[int, ...], eps: float, moments: _Moments) -> Any:
    if type(g) is np.ndarray and type(input) is np.ndarray:
        return _normalize_grad_input_array(g, input, weight, axes, moments)
    x_hat, rstd = _normalized(input, axes, eps, moments)
    g_hat = g if weight is None else g * weight
    return rstd * (g_hat - _mean(g_hat, axes, True) - x_hat * _mean(g_hat * x_hat, axes, True))


def _normalize_grad_input_array(g: np.ndarray, input: np.ndarray, weight: Any,
                                axes: tuple[int, ...], moments: _Moments) -> np.ndarray:
    """The formula above on arrays in a plain backward, in place: three temporaries instead
    of about ten. (Under create_graph the operator form runs instead, to build the graph.)"""
    share = moments.share_weight_grad and weight is not None and weight.size
    fused = _accel.layer_norm_backward(g, input, moments.mean, moments.rstd, weight, axes,
                                       bool(share))
    if fused is not None:  # trailing axes, with Numba: one pass over each row
        grad_input, moments.grad_weight = fused
        return grad_input
    rstd = moments.rstd
    x_hat = input - moments.mean
    x_hat *= rstd
    if moments.share_weight_grad and weight is not None and weight.size:
        # layer_norm: the weight covers the normalised (trailing) axes, so
        # mean(g_hat * x_hat) = (g * x_hat) @ weight / count, and g * x_hat is the weight's
        # gradient (before the engine sums it), kept for its VJP, which runs next.
        count = weight.size
        g_x_hat = g * x_hat
        moments.grad_weight = g_x_hat
        keep = input.shape[:input.ndim - len(axes)] + (1,) * len(axes)
        mean_g_x_hat = (g_x_hat.reshape(-1, count) @ weight.reshape(count)).reshape(keep)
        mean_g_x_hat /= count
        g_hat = g * weight
        mean_g = g_hat.mean(axis=axes, keepdims=True)
        x_hat *= mean_g_x_hat
        g_hat -= mean_g
        g_hat -= x_hat
        g_hat *= rstd
        return g_hat
    g_hat = g if weight is None else g * weight  # g itself is never written to
    mean_g = g_hat.mean(axis=axes, keepdims=True)
    x_hat *= _mean_of_product(g_hat, x_hat, axes)
    result = np.subtract(g_hat, mean_g, out=None if g_hat is g else g_hat)
    result -= x_hat
    result *= rstd
    return result


def _normalize_grad_weight(g: Any, out: Any, input: Any, weight: Any, bias: Any,
                           axes: tuple[int, ...], eps: float, moments: _Moments) -> Any:
    if type(g) is np.ndarray and type(input) is np.ndarray:  # plain backward: in place
        if moments.grad_weight is not None:  # computed by the input's VJP just before
            g_x_hat, moments.grad_weight = moments.grad_weight, None
            return g_x_hat
        x_hat = input - moments.mean
        x_hat *= moments.rstd
        x_hat *= g
        return x_hat
    return g * _normalized(input, axes, eps, moments)[0]  # summed to weight's shape by the engine


def _normalization(name: str) -> Any:
    """One fused normalise-and-scale primitive named ``name`` (layer, batch and group norm share
    the maths; separate names keep ``grad_fn`` telling which op it was)."""

    def forward(input: Any, weight: Any, bias: Any, axes: tuple[int, ...], eps: float,
                moments: _Moments) -> Any:
        return _normalize_forward(input, weight, bias, axes, eps, moments)

    return primitive(name, save=("input", "weight"), grads={
        "input": _normalize_grad_input, "weight": _normalize_grad_weight,
        "bias": lambda g, out, input, weight, bias, axes, eps, moments: g})(forward)


_layer_norm = _normalization("layer_norm")
_batch_norm = _normalization("batch_norm")
_group_norm = _normalization("group_norm")


def _check_param(op: str, name: str, param: Any, expected: tuple[int, ...], what: str) -> None:
    if param is not None and tuple(param.shape) != expected:
        raise ShapeError(f"{op}: {name} of shape {format_shape(param.shape)} does not match "
                         f"{what}: expected shape {format_shape(expected)}")


# -- layer_norm and rms_norm ----------------------------------------------------------------------

def _trailing_axes(op: str, input: Tensor, normalized_shape: int | Sequence[int]) -> tuple:
    shape = ((int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer))
             else tuple(int(n) for n in normalized_shape))
    k = len(shape)
    if k == 0 or k > input.ndim or tuple(input.shape[input.ndim - k:]) != shape:
        raise ShapeError(f"{op}: normalized_shape {format_shape(shape)} does not match the last "
                         f"dimensions of input of shape {format_shape(input.shape)}: expected "
                         f"input of shape (*, {', '.join(str(n) for n in shape)})")
    return shape, tuple(range(input.ndim - k, input.ndim))


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims (mean 0, biased variance 1), then
    ``* weight + bias`` (each of shape ``normalized_shape``).

    >>> import backprop as bp
    >>> [round(v, 4) for v in layer_norm(bp.tensor([[1.0, 3.0]]), (2,)).tolist()[0]]
    [-1.0, 1.0]
    """
    shape, axes = _trailing_axes("layer_norm", input, normalized_shape)
    _check_param("layer_norm", "weight", weight, shape, f"normalized_shape {format_shape(shape)}")
    _check_param("layer_norm", "bias", bias, shape, f"normalized_shape {format_shape(shape)}")
    share = isinstance(weight, Tensor) and weight.requires_grad
    return _layer_norm(input, weight, bias, axes, float(eps), _Moments(share))


def _rms_normalized(input: Any, axes: tuple[int, ...], eps: float, moments: _Moments) -> tuple:
    if isinstance(input, Tensor):  # create_graph: keep the dependence of rstd on the input
        rstd = rsqrt(_mean(input * input, axes, True) + eps)
    else:
        rstd = moments.rstd
    return input * rstd, rstd


def _rms_norm_grad_input(g: Any, out: Any, input: Any, weight: Any, axes: tuple[int, ...],
                         eps: float, moments: _Moments) -> Any:
    # x_hat = x * rstd with rstd = mean(x^2)^(-1/2):  dx = rstd (g_hat - x_hat mean(g_hat x_hat))
    x_hat, rstd = _rms_normalized(input, axes, eps, moments)
    g_hat = g if weight is None else g * weight
    return rstd * (g_hat - x_hat * _mean(g_hat * x_hat, axes, True))


@primitive("rms_norm", save=("input", "weight"), grads={
    "input": _rms_norm_grad_input,
    "weight": lambda g, out, input, weight, axes, eps, moments:
    g * _rms_normalized(input, axes, eps, moments)[0],
})
def _rms_norm(input: Any, weight: Any, axes: tuple[int, ...], eps: float,
              moments: _Moments) -> Any:
    rstd = 1.0 / np.sqrt(np.mean(np.square(input), axis=axes, keepdims=True) + eps)
    out = input * rstd
    if weight is not None:
        out *= weight
    moments.rstd = rstd
    return out


def rms_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x^2) + eps) * weight`` over the last ``len(normalized_shape)`` dims;
    ``eps=None`` means the machine epsilon of the input's dtype (PyTorch's default).

    >>> import backprop as bp
    >>> [round(v, 4) for v in rms_norm(bp.tensor([[3.0, 4.0]]), 2).tolist()[0]]
    [0.8485, 1.1314]
    """
    shape, axes = _trailing_axes("rms_norm", input, normalized_shape)
    _check_param("rms_norm", "weight", weight, shape, f"normalized_shape {format_shape(shape)}")
    if eps is None:
        eps = float(np.finfo(input.dtype if input.dtype.kind == "f" else np.float32).eps)
    return _rms_norm(input, weight, axes, float(eps), _Moments())


# -- batch_norm and instance_norm -----------------------------------------------------------------

def _channel_shape(input: Tensor) -> tuple[int, ...]:
    """A per-channel (C,) parameter reshaped to broadcast against (N, C, *)."""
    return (input.shape[1],) + (1,) * (input.ndim - 2)


def _per_channel(param: Any, shape: tuple[int, ...]) -> Any:
    return None if param is None else reshape(param, shape)


def _check_channels(op: str, input: Tensor, params: dict[str, Any]) -> None:
    if input.ndim < 2:
        raise ShapeError(f"{op}: input must be (N, C, *) with at least 2 dims, got shape "
                         f"{format_shape(input.shape)}")
    channels = input.shape[1]
    for name, param in params.items():
        if param is not None and tuple(param.shape) != (channels,):
            raise ShapeError(f"{op}: {name} of shape {format_shape(param.shape)} does not match "
                             f"input of shape {format_shape(input.shape)} with {channels} "
                             f"channels (dim 1): expected shape ({channels},)")


def _update_running(running: Any, batch_value: np.ndarray, momentum: float, op: str) -> None:
    """``running = (1 - momentum) * running + momentum * batch_value``, in place and outside
    autograd (the version is bumped, as any in-place write)."""
    array = running._data if isinstance(running, Tensor) else running
    array *= 1.0 - momentum
    array += momentum * batch_value.astype(array.dtype, copy=False)
    if isinstance(running, Tensor):
        if running._version is None:
            running._version = VersionCounter()
        running._version.bump(op)


def _affine_with_running_stats(input: Tensor, running_mean: Any, running_var: Any,
                               weight: Any, bias: Any, eps: float) -> Tensor:
    """Evaluation mode: ``x * scale + shift`` with ``scale = weight / sqrt(running_var + eps)``,
    ``shift = bias - running_mean * scale``; the statistics are constants, so the gradient is
    that of an affine map."""
    shape = _channel_shape(input)
    scale = rsqrt(running_var + eps)
    if weight is not None:
        scale = weight * scale
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    return input * reshape(scale, shape) + reshape(shift, shape)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) of ``(N, C, *)`` input, then ``* weight + bias``.

    Training: batch statistics over every dim but 1 (biased variance); the running statistics,
    when given, are updated in place with ``momentum`` (the variance unbiased, as in PyTorch).
    Evaluation: the running statistics are used.

    >>> import backprop as bp
    >>> mean, var = bp.zeros(2), bp.ones(2)
    >>> x = bp.tensor([[1.0, 2.0], [3.0, 6.0]])
    >>> [round(v, 4) for v in batch_norm(x, mean, var, training=True).tolist()[0]]
    [-1.0, -1.0]
    >>> [round(v, 2) for v in mean.tolist()]
    [0.2, 0.4]
    """
    _check_channels("batch_norm", input, {"running_mean": running_mean,
                                          "running_var": running_var, "weight": weight,
                                          "bias": bias})
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var must be given in "
                             "evaluation mode (training=False)")
        return _affine_with_running_stats(input, running_mean, running_var, weight, bias, eps)
    count = math.prod(input.shape) // input.shape[1]
    if count <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got "
                         f"input of shape {format_shape(input.shape)}")
    axes = (0,) + tuple(range(2, input.ndim))
    shape = _channel_shape(input)
    moments = _Moments()
    out = _batch_norm(input, _per_channel(weight, shape), _per_channel(bias, shape), axes,
                      float(eps), moments)
    if running_mean is not None:
        _update_running(running_mean, moments.mean.reshape(-1), momentum, "batch_norm")
    if running_var is not None:
        unbiased = moments.var.reshape(-1) * (count / (count - 1))
        _update_running(running_var, unbiased, momentum, "batch_norm")
    return out


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each ``input[n, c]`` over its spatial dims, then ``* weight + bias`` (per
    channel). Running statistics, when given, are updated with the batch average of the
    per-instance ones; ``use_input_stats=False`` uses them instead.

    >>> import backprop as bp
    >>> [round(v, 4) for v in instance_norm(bp.tensor([[[1.0, 3.0]]])).tolist()[0][0]]
    [-1.0, 1.0]
    """
    _check_channels("instance_norm", input, {"running_mean": running_mean,
                                             "running_var": running_var, "weight": weight,
                                             "bias": bias})
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: running_mean and running_var must be given when "
                             "use_input_stats=False")
        return _affine_with_running_stats(input, running_mean, running_var, weight, bias, eps)
    count = math.prod(input.shape[2:])
    if count <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, "
                         f"got input of shape {format_shape(input.shape)}")
    axes = tuple(range(2, input.ndim))
    shape = _channel_shape(input)
    moments = _Moments()
    out = _batch_norm(input, _per_channel(weight, shape), _per_channel(bias, shape), axes,
                      float(eps), moments)
    channels = input.shape[1]
    if running_mean is not None:
        batch_mean = moments.mean.reshape(-1, channels).mean(axis=0)
        _update_running(running_mean, batch_mean, momentum, "instance_norm")
    if running_var is not None:
        unbiased = moments.var.reshape(-1, channels) * (count / (count - 1))
        _update_running(running_var, unbiased.mean(axis=0), momentum, "instance_norm")
    return out


# -- group_norm -----------------------------------------------------------------------------------

def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Split the channels (dim 1) into ``num_groups`` groups and normalise each sample's group
    over its channels and spatial dims, then ``* weight + bias`` (per channel).

    >>> import backprop as bp
    >>> x = bp.tensor([[1.0, 3.0, 5.0, 9.0]])
    >>> [round(v, 4) for v in group_norm(x, 2).tolist()[0]]
    [-1.0, 1.0, -1.0, 1.0]
    """
    _check_channels("group_norm", input, {"weight": weight, "bias": bias})
    n, channels = input.shape[:2]
    if num_groups <= 0 or channels % num_groups:
        raise ShapeError(f"group_norm: the number of channels ({channels}) of input of shape "
                         f"{format_shape(input.shape)} must be divisible by num_groups "
                         f"({num_groups})")
    spatial = math.prod(input.shape[2:])
    # (N, G, C/G, spatial): normalise over the last two axes; the per-channel weight, shaped
    # (G, C/G, 1), broadcasts over that view.
    grouped = reshape(input, (n, num_groups, channels // num_groups, spatial))
    shape = (num_groups, channels // num_groups, 1)
    out = _group_norm(grouped, _per_channel(weight, shape), _per_channel(bias, shape), (2, 3),
                      float(eps), _Moments())
    return reshape(out, input.shape)


__all__ = ["layer_norm", "batch_norm", "group_norm", "instance_norm", "rms_norm"]
