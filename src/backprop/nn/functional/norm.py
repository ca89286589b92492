"""``bp.nn.functional`` normalisation: layer_norm, batch_norm, group_norm, instance_norm and
rms_norm.

Each normalises ``x_hat = (x - mean) / sqrt(var + eps)`` over some axes and applies an affine
``x_hat * weight + bias``, in one fused primitive per op. Its statistics are outputs of the op
(``mean``, ``var``, ``rstd``, with the reduced axes kept), saved for the rule and read by batch
norm's running averages. The rule's main term is ``norm_backward``, the standard fused form
(with ``g_hat = g * weight``)::

    dx = rstd * (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat))

a primitive of its own, so its NumPy kernel can work in place in a few buffers and Numba's can
make one pass per row. Under create_graph it decomposes into our ops; the statistics it reads
are then the norm's outputs on the graph, so the norm's rule also takes gradients arriving at
them, which makes every higher derivative exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ... import backend
from ...autograd import grad_mode
from ...autograd import observers as _observers
from ...autograd.graph import VersionCounter
from ...capture.state import replayable
from ...errors import ShapeError, format_shape
from ...ops.elementwise import rsqrt
from ...ops.primitive import primitive
from ...ops.reduction import _mean, expand_reduced
from ...ops.shape import reshape
from ...tensor import Tensor


def _normalize_forward(input: Any, weight: Any, bias: Any, axes: tuple[int, ...],
                       eps: float) -> tuple[Any, Any, Any, Any]:
    mean = backend.cascade_sum(input, axes, True) / math.prod(input.shape[a] for a in axes)
    out = input - mean
    var = backend.mean_of_product(out, out, axes)
    rstd = 1.0 / np.sqrt(var + eps)
    out *= rstd
    if weight is not None:
        out *= weight
    if bias is not None:
        out += bias
    return out, mean, var, rstd


@primitive("norm_backward", outputs=("grad_input", "grad_weight", "grad_bias"), composite=True,
           promote=("g", "input"))
def _norm_backward(g: Any, input: Any, mean: Any, rstd: Any, weight: Any,
                   axes: tuple[int, ...], mask: tuple[bool, ...]) -> tuple:
    """The gradients of a normalisation's input, weight and bias, those ``mask`` asks for (the
    weight's and bias's before the engine sums them to their shapes)."""
    x_hat = (input - mean) * rstd
    grad_input = None
    if mask[0]:
        g_hat = g if weight is None else g * weight
        grad_input = rstd * (g_hat - _mean(g_hat, axes, True)
                             - x_hat * _mean(g_hat * x_hat, axes, True))
    grad_weight = g * x_hat if mask[1] and weight is not None else None
    return grad_input, grad_weight, g if mask[2] else None


@_norm_backward.kernel(np.ndarray)
def _norm_backward_in_place(g: Any, input: Any, mean: Any, rstd: Any, weight: Any,
                            axes: tuple[int, ...], mask: tuple[bool, ...]) -> tuple:
    """The same in a few buffers instead of a temporary per operation."""
    x_hat = input - mean
    x_hat *= rstd
    grad_weight = g * x_hat if mask[1] and weight is not None else None
    grad_input = None
    if mask[0]:
        g_hat = g if weight is None else g * weight  # g itself is never written to
        count = math.prod(input.shape[a] for a in axes)
        trailing = input.ndim - len(axes)
        if (grad_weight is not None and axes == tuple(range(trailing, input.ndim))
                and weight.shape == input.shape[trailing:]):
            # layer_norm: the weight covers the normalised (trailing) axes, so
            # mean(g_hat * x_hat) = (g * x_hat) @ weight / count, from the weight's gradient.
            keep = input.shape[:trailing] + (1,) * len(axes)
            mean_g_x_hat = (grad_weight.reshape(-1, count) @ weight.reshape(count)).reshape(keep)
            mean_g_x_hat /= count
        else:
            mean_g_x_hat = backend.mean_of_product(g_hat, x_hat, axes)
        mean_g = backend.cascade_sum(g_hat, axes, True) / count  # as _mean sums
        x_hat *= mean_g_x_hat
        grad_input = np.subtract(g_hat, mean_g, out=None if g_hat is g else g_hat)
        grad_input -= x_hat
        grad_input *= rstd
    return grad_input, grad_weight, g if mask[2] else None


def _statistics_grad(g_mean: Any, g_var: Any, g_rstd: Any, input: Any, mean: Any, rstd: Any,
                     axes: tuple[int, ...]) -> Any:
    """The input's gradient through the statistics outputs: d mean/dx = 1/n,
    d var/dx = 2 (x - mean)/n and d rstd/dx = -rstd^3 (x - mean)/n."""
    count = math.prod(input.shape[a] for a in axes)
    coef = None if g_var is None else g_var * 2.0
    if g_rstd is not None:
        term = -g_rstd * rstd * rstd * rstd
        coef = term if coef is None else coef + term
    grad = None if coef is None else (input - mean) * (coef / count)
    if g_mean is not None:
        spread = expand_reduced(g_mean / count, input.shape, axes, True)
        grad = spread if grad is None else grad + spread
    return grad


def _normalize_rule(g: tuple, out: tuple, input: Any, weight: Any, bias: Any,
                    axes: tuple[int, ...], eps: float, needs: tuple[bool, ...]) -> list:
    g_out, g_mean, g_var, g_rstd = g
    _, mean, _, rstd = out
    grads = [None, None, None, None, None]
    if g_out is not None:
        grads[:3] = _norm_backward(g_out, input, mean, rstd, weight, axes, needs[:3])
    if needs[0] and (g_mean is not None or g_var is not None or g_rstd is not None):
        through = _statistics_grad(g_mean, g_var, g_rstd, input, mean, rstd, axes)
        grads[0] = through if grads[0] is None else grads[0] + through
    return grads


def _normalization(name: str) -> Any:
    """One fused normalise-and-scale primitive named ``name`` (layer, batch and group norm share
    the maths; separate names keep ``grad_fn`` telling which op it was)."""

    def forward(input: Any, weight: Any, bias: Any, axes: tuple[int, ...], eps: float) -> tuple:
        return _normalize_forward(input, weight, bias, axes, eps)

    return primitive(name, outputs=("out", "mean", "var", "rstd"), promote=("input",),
                     save=("input", "weight", "mean", "rstd"), grads=_normalize_rule)(forward)


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
    return _layer_norm(input, weight, bias, axes, float(eps))[0]


def _rms_grad_input(g: tuple, out: tuple, input: Any, weight: Any, axes: tuple[int, ...],
                    eps: float) -> Any:
    # x_hat = x * rstd with rstd = mean(x^2)^(-1/2):  dx = rstd (g_hat - x_hat mean(g_hat x_hat)),
    # plus, when rstd's own output got a gradient, d rstd/dx = -rstd^3 x / n.
    g_out, g_rstd = g
    rstd = out[1]
    grad = None
    if g_out is not None:
        x_hat = input * rstd
        g_hat = g_out if weight is None else g_out * weight
        grad = rstd * (g_hat - x_hat * _mean(g_hat * x_hat, axes, True))
    if g_rstd is not None:
        count = math.prod(input.shape[a] for a in axes)
        through = input * (-g_rstd * rstd * rstd * rstd / count)
        grad = through if grad is None else grad + through
    return grad


@primitive("rms_norm", outputs=("out", "rstd"), save=("input", "weight", "rstd"),
           promote=("input",), grads={
    "input": _rms_grad_input,
    "weight": lambda g, out, input, weight, axes, eps:
    None if g[0] is None else g[0] * input * out[1],
})
def _rms_norm(input: Any, weight: Any, axes: tuple[int, ...], eps: float) -> tuple[Any, Any]:
    rstd = 1.0 / np.sqrt(backend.mean_of_product(input, input, axes) + eps)
    out = input * rstd
    if weight is not None:
        out *= weight
    return out, rstd


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
        eps = float(np.finfo(input.dtype if input.dtype.kind in "fV" else np.float32).eps)
    return _rms_norm(input, weight, axes, float(eps))[0]


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
    array = backend.array_of(running)
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
    fused = _fused_affine(input, running_mean, running_var, weight, bias, eps, shape)
    if fused is not None:
        return fused
    scale = rsqrt(running_var + eps)
    if weight is not None:
        scale = weight * scale
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    return input * reshape(scale, shape) + reshape(shift, shape)


def _fused_affine(input: Tensor, running_mean: Any, running_var: Any, weight: Any, bias: Any,
                  eps: float, shape: tuple[int, ...]) -> Tensor | None:
    """``_affine_with_running_stats`` where nothing is recorded (NumPy arrays of one float
    dtype, no gradient wanted, no observer): the same operations on the arrays, the sum written
    into the product (one array of the input's size instead of two, and none of the eight ops'
    dispatch, which cost more than the arithmetic at 1e5 elements). None elsewhere."""
    params = [p for p in (running_mean, running_var, weight, bias) if p is not None]
    x = input._data
    if (type(x) is not np.ndarray or x.dtype.kind not in "fV" or _observers.REGISTRY.count
            or not all(isinstance(p, Tensor) and type(p._data) is np.ndarray
                       and p._data.dtype == x.dtype for p in params)
            or (grad_mode.state.enabled
                and (input.requires_grad or any(p.requires_grad for p in params)))):
        return None
    scale = 1 / np.sqrt(running_var._data + eps)  # rsqrt's forward
    if weight is not None:
        scale = weight._data * scale
    shift = -running_mean._data * scale
    if bias is not None:
        shift = shift + bias._data
    if x.ndim > 2 and x.flags.c_contiguous and x.size:
        # Per-channel factors repeated over one image, (C * H * W,): the products then run
        # over two contiguous operands, about 1.5x faster than against a (1, C, 1, 1) operand
        # whose broadcast inner loop is NumPy's slow one. Same operations, same numbers.
        inner = x.size // (x.shape[0] * x.shape[1])
        flat = x.reshape(x.shape[0], -1)
        out = np.multiply(flat, np.repeat(scale.astype(x.dtype, copy=False), inner))
        out += np.repeat(shift.astype(x.dtype, copy=False), inner)
        return Tensor._wrap(out.reshape(x.shape))
    out = np.multiply(x, scale.reshape(shape))
    out += shift.reshape(shape)
    return Tensor._wrap(out)


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
    if input.ndim < 2 and input.numel() == 0:
        return input.clone()  # PyTorch returns an empty input as it is, without its checks
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
    out, mean, var, _ = _batch_norm(input, _per_channel(weight, shape),
                                    _per_channel(bias, shape), axes, float(eps))
    _update_batch_statistics(running_mean, running_var, mean, var, momentum, count)
    return out


@replayable  # reads this batch's statistics: a captured step updates the running ones each replay
def _update_batch_statistics(running_mean: Any, running_var: Any, mean: Tensor, var: Tensor,
                             momentum: float, count: int) -> None:
    """batch_norm's update of its running statistics from the batch's (the variance unbiased)."""
    if running_mean is not None:
        _update_running(running_mean, mean._data.reshape(-1), momentum, "batch_norm")
    if running_var is not None:
        unbiased = var._data.reshape(-1) * (count / (count - 1))
        _update_running(running_var, unbiased, momentum, "batch_norm")


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
    out, mean, var, _ = _batch_norm(input, _per_channel(weight, shape),
                                    _per_channel(bias, shape), axes, float(eps))
    _update_instance_statistics(running_mean, running_var, mean, var, momentum, count)
    return out


@replayable  # reads this batch's statistics: a captured step updates the running ones each replay
def _update_instance_statistics(running_mean: Any, running_var: Any, mean: Tensor, var: Tensor,
                                momentum: float, count: int) -> None:
    """instance_norm's update of its running statistics: the instances' averaged."""
    channels = mean.shape[1]
    if running_mean is not None:
        batch_mean = mean._data.reshape(-1, channels).mean(axis=0)
        _update_running(running_mean, batch_mean, momentum, "instance_norm")
    if running_var is not None:
        unbiased = var._data.reshape(-1, channels) * (count / (count - 1))
        _update_running(running_var, unbiased.mean(axis=0), momentum, "instance_norm")


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
                      float(eps))[0]
    return reshape(out, input.shape)


__all__ = ["layer_norm", "batch_norm", "group_norm", "instance_norm", "rms_norm"]
