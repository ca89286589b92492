"""``bp.nn.functional`` layers: linear, bilinear, dropout, dropout2d, embedding, normalize,
cosine_similarity and pairwise_distance.

``linear`` is one fused primitive: ``input @ weight.T + bias`` as a single 2-D matrix product
whatever the batch dims, with VJPs that are one product each. ``dropout`` and ``embedding`` are
primitives too (a saved mask; a gather whose gradient adds repeated rows). The rest are composed
from bp ops.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ... import backend
from ...autograd import grad_mode
from ...autograd.graph import VersionCounter
from ...capture.state import replayable
from ...errors import DTypeError, ShapeError, format_shape
from ...ops.elementwise import clamp
from ...ops.indexing import _accumulate
from ...ops.inplace import apply_inplace
from ...ops.linalg import einsum
from ...ops.primitive import primitive
from ...ops.reduction import norm
from ...ops.shape import broadcast_to
from ...random import get_rng
from ...tensor import Tensor

# -- linear ---------------------------------------------------------------------------------------

def _linear_shape_error(input: tuple[int, ...], weight: tuple[int, ...],
                        bias: tuple[int, ...] | None) -> ShapeError | None:
    """Why ``linear`` cannot combine these shapes, or None when they fit."""
    if len(weight) != 2:
        return ShapeError(f"linear: weight must be 2-D (out_features, in_features), got shape "
                          f"{format_shape(weight)}")
    if not input:
        return ShapeError("linear: input must be at least 1-D (..., in_features), got a 0-d "
                          "tensor")
    if input[-1] != weight[1]:
        return ShapeError(f"linear: cannot multiply input of shape {format_shape(input)} by the "
                          f"transpose of weight of shape {format_shape(weight)}: input has "
                          f"{input[-1]} features (last dim) but weight expects {weight[1]} "
                          "(in_features, its dim 1)")
    if bias is not None and (len(bias) > 1 or (bias and bias[0] not in (1, weight[0]))):
        return ShapeError(f"linear: bias of shape {format_shape(bias)} does not match weight of "
                          f"shape {format_shape(weight)}: expected shape ({weight[0]},) "
                          "(out_features)")
    return None


def _explain_linear(err: Exception, input: Any, weight: Any, bias: Any) -> Exception | None:
    return _linear_shape_error(np.shape(input), np.shape(weight),
                               None if bias is None else np.shape(bias))


def _as_rows(x: Any) -> Any:
    """``x`` as a 2-D (rows, features) matrix (works on arrays and on Tensors)."""
    shape = x.shape
    return x if len(shape) == 2 else x.reshape(math.prod(shape[:-1]), shape[-1])


def _linear_grad_input(g: Any, out: Any, input: Any, weight: Any, bias: Any) -> Any:
    grad = _as_rows(g) @ weight
    return grad if len(input.shape) == 2 else grad.reshape(input.shape)


def _linear_grad_weight(g: Any, out: Any, input: Any, weight: Any, bias: Any) -> Any:
    # g^T x summed over every batch position: one (out, rows) @ (rows, in) product.
    return _as_rows(g).T @ _as_rows(input)


def _linear_grad_bias(g: Any, out: Any, input: Any, weight: Any, bias: Any) -> Any:
    # g summed over every batch position: one reduction over the rows, cheaper than leaving the
    # engine to find the broadcast axes. For a large contiguous float array, as ones @ g: BLAS's
    # matrix-vector product (on its threads) sums the rows 3-4x faster than NumPy's reduction
    # (small ones stay with the reduction, which costs less than making the ones).
    rows = _as_rows(g)
    if (type(rows) is np.ndarray and rows.size >= 8192 and rows.dtype.char in "fd"
            and rows.flags.c_contiguous):
        return np.ones(rows.shape[0], rows.dtype) @ rows
    return rows.sum(0)


@primitive("linear", save=("input", "weight"), explain=_explain_linear, grads={
    "input": _linear_grad_input,
    "weight": _linear_grad_weight,
    "bias": _linear_grad_bias,
})
def _linear(input: Any, weight: Any, bias: Any) -> Any:
    if bias is not None and bias.shape != weight.shape[:1]:
        # NumPy would broadcast some wrong shapes (a 2-D bias); PyTorch refuses them.
        error = _linear_shape_error(input.shape, weight.shape, bias.shape)
        if error is not None:
            raise error
    if input.ndim == 2:
        out = np.matmul(input, weight.T)
    else:
        # One (rows, in) @ (in, out) product: NumPy would loop over the batch dims otherwise.
        lead = input.shape[:-1]
        out = np.matmul(input.reshape(math.prod(lead), input.shape[-1]), weight.T)
        out = out.reshape(lead + (weight.shape[0],))
    if bias is not None:
        out += bias
    return out


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``: ``input`` is ``(*, in_features)``, ``weight``
    ``(out_features, in_features)``, ``bias`` ``(out_features,)``; the result is
    ``(*, out_features)``.

    >>> import backprop as bp
    >>> linear(bp.ones(2, 3), bp.ones(4, 3), bp.zeros(4)).tolist()[0]
    [3.0, 3.0, 3.0, 3.0]
    """
    return _linear(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_k = input1^T weight[k] input2 + bias[k]``: ``input1`` is ``(*, in1)``, ``input2``
    ``(*, in2)``, ``weight`` ``(out, in1, in2)``.

    >>> import backprop as bp
    >>> bilinear(bp.ones(2, 3), bp.ones(2, 4), bp.ones(5, 3, 4)).shape
    (2, 5)
    """
    if weight.ndim != 3 or input1.shape[-1:] != weight.shape[1:2] or (
            input2.shape[-1:] != weight.shape[2:3]):
        raise ShapeError(f"bilinear: weight of shape {format_shape(weight.shape)} must be "
                         "(out_features, in1_features, in2_features) matching input1 of shape "
                         f"{format_shape(input1.shape)} and input2 of shape "
                         f"{format_shape(input2.shape)} in their last dims")
    out = einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else out + bias


# -- dropout --------------------------------------------------------------------------------------

# ``mask`` (0 or 1 / (1 - p), in the input's dtype) is a constant kept by the node; it is dropped
# with the node's other saved values after backward.
@primitive("dropout", save=("mask",), grads={"input": lambda g, out, input, mask: g * mask})
def _dropout(input: Any, mask: np.ndarray) -> Any:
    return input * mask


def _check_probability(op: str, p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


def _dropout_mask(shape: tuple[int, ...], p: float, dtype: np.dtype) -> np.ndarray:
    """Zeros with probability ``p``, ``1 / (1 - p)`` elsewhere (inverted dropout: the expected
    value is unchanged, so evaluation needs no rescaling). Drawn as float32 uniforms from
    ``bp.manual_seed``'s generator whatever the dtype, so a seed gives the same mask in float32
    and float64."""
    if p == 1.0:
        return np.zeros(shape, dtype)
    keep = get_rng().random(shape, dtype=np.float32) >= p
    return np.multiply(keep, 1.0 / (1.0 - p), dtype=dtype)


@replayable  # random draws: a captured step draws a new mask each replay
def _mask_for(input: Tensor, mask_shape: tuple[int, ...], p: float) -> Any:
    """A dropout mask for ``input`` (its dtype, or float32 for other kinds; on its device)."""
    dtype = input.dtype if input.dtype.kind in "fV" else np.dtype(np.float32)
    # Drawn on the host: one seed, one mask, any device.
    return backend.on_device_of(_dropout_mask(mask_shape, p, dtype), input)


def _apply_mask(op: str, input: Tensor, mask_shape: tuple[int, ...], p: float,
                inplace: bool) -> Tensor:
    mask = _mask_for(input, mask_shape, p)
    if inplace:
        return apply_inplace(input, op + "_", lambda x: _dropout(x, mask))
    return _dropout(input, mask)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (when
    ``training``; otherwise, or when ``p`` is 0, return ``input`` itself). The mask comes from
    the generator ``bp.manual_seed`` seeds.

    >>> import backprop as bp
    >>> x = bp.ones(1000)
    >>> dropout(x, 0.5, training=False) is x
    True
    >>> sorted(set(dropout(x, 0.5).tolist()))
    [0.0, 2.0]
    """
    _check_probability("dropout", p)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    return _apply_mask("dropout", input, input.shape, p, inplace)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels: each ``input[n, c]`` feature map is dropped with probability ``p``
    (the rest scaled by ``1 / (1 - p)``). As in PyTorch, a 3-D input is read as ``(N, C, L)``.

    >>> import backprop as bp
    >>> out = dropout2d(bp.ones(2, 3, 4, 4))
    >>> bool(((out == 0).all(dim=(2, 3)) | (out == 2).all(dim=(2, 3))).all())
    True
    """
    _check_probability("dropout2d", p)
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: received a {input.ndim}-D input; dropout2d expects (N, C, H, "
                      "W) or (C, H, W) input (use dropout for element-wise dropout)",
                      stacklevel=2)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if input.ndim < 2:
        raise ShapeError(f"dropout2d: input must have a batch and a channel dim, got shape "
                         f"{format_shape(input.shape)}")
    shape = input.shape[:2] + (1,) * (input.ndim - 2)
    return _apply_mask("dropout2d", input, shape, p, inplace)


# -- embedding ------------------------------------------------------------------------------------

@primitive("embedding", save=("input",), grads={
    "weight": lambda g, out, input, weight, padding_idx, scale_grad_by_freq:
    _embedding_backward(g, input, weight.shape[0], padding_idx, scale_grad_by_freq),
})
def _embedding(input: Any, weight: Any, padding_idx: int | None, scale_grad_by_freq: bool) -> Any:
    return np.take(weight, input, axis=0)


def _row_scale(indices: np.ndarray, num_weights: int, padding_idx: int | None,
               scale_grad_by_freq: bool) -> np.ndarray | None:
    """Per-lookup factor on the gradient: 0 for the padding row, 1 / (count in the batch) with
    ``scale_grad_by_freq``; None when every factor is 1."""
    if padding_idx is None and not scale_grad_by_freq:
        return None
    scale = backend.ones(indices.shape, np.float64, indices)
    if scale_grad_by_freq:
        scale /= np.bincount(indices.ravel(), minlength=num_weights)[indices]
    if padding_idx is not None:
        scale[indices == padding_idx] = 0.0
    return scale[..., None]


def _embedding_backward_vjp(g: Any, out: Any, grad: Any, input: Any, num_weights: int,
                            padding_idx: int | None, scale_grad_by_freq: bool) -> Any:
    # Linear in grad: read g back at the looked-up rows, with the same per-lookup factors.
    rows = _embedding(input, g, None, False)
    scale = _row_scale(backend.array_of(input), num_weights, padding_idx, scale_grad_by_freq)
    return rows if scale is None else rows * scale.astype(rows.dtype, copy=False)


@primitive("embedding_backward", save=("input",), grads={"grad": _embedding_backward_vjp})
def _embedding_backward(grad: Any, input: Any, num_weights: int, padding_idx: int | None,
                        scale_grad_by_freq: bool) -> Any:
    """The table's gradient: row ``i`` gets the sum of ``grad`` over the lookups of index ``i``."""
    scale = _row_scale(input, num_weights, padding_idx, scale_grad_by_freq)
    if scale is not None:
        grad = grad * scale.astype(grad.dtype, copy=False)
    width = grad.shape[-1]
    out = backend.zeros((num_weights, width), grad.dtype, grad)
    _accumulate(out, input.ravel(), grad.reshape(-1, width))  # repeated indices add up
    return out


def _renorm_rows(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """PyTorch's ``embedding_renorm_``: rescale (in place, without gradient) each looked-up row
    whose ``norm_type``-norm exceeds ``max_norm`` to norm ``max_norm``."""
    table = backend.array_of(weight)
    rows = np.unique(indices)
    norms = np.linalg.norm(table[rows], ord=norm_type, axis=1)
    over = norms > max_norm
    if over.any():
        rows, norms = rows[over], norms[over]
        table[rows] *= (max_norm / (norms + 1e-7))[:, None].astype(table.dtype)
        if isinstance(weight, Tensor):
            if weight._version is None:
                weight._version = VersionCounter()
            weight._version.bump("embedding_renorm_")


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (a ``(num_embeddings, embedding_dim)`` table) at the integer indices
    ``input``: the result is ``input.shape + (embedding_dim,)``. Repeated indices add their
    gradients; the ``padding_idx`` row gets none; ``max_norm`` renormalises looked-up rows in
    place first. ``sparse`` is accepted, but the gradient is always dense.

    >>> import backprop as bp
    >>> table = bp.arange(6.).reshape(3, 2)
    >>> embedding(bp.tensor([[2, 0]]), table).tolist()
    [[[4.0, 5.0], [0.0, 1.0]]]
    """
    indices = backend.array_of(input)
    if indices.dtype.kind not in "iu":
        raise DTypeError(f"embedding: input must be a tensor of integer indices (long), got "
                         f"{indices.dtype}; convert it with .long()")
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {format_shape(weight.shape)}")
    num = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= num):
        bad = int(indices.min()) if indices.min() < 0 else int(indices.max())
        raise IndexError(f"embedding: index {bad} is out of range for a table of {num} rows "
                         f"(weight shape {format_shape(weight.shape)}); valid indices are "
                         f"0..{num - 1}")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within "
                             f"num_embeddings ({num}): expected a value in [{-num}, {num - 1}]")
        padding_idx = int(padding_idx) % num
    if max_norm is not None:
        with grad_mode.no_grad():
            _renorm_rows(weight, indices, float(max_norm), float(norm_type))
    if not isinstance(input, Tensor):
        input = Tensor._wrap(indices)
    return _embedding(input, weight, padding_idx, bool(scale_grad_by_freq))


# -- distances and normalisation ------------------------------------------------------------------

def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Any = None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``.

    >>> import backprop as bp
    >>> [round(v, 4) for v in normalize(bp.tensor([[3.0, 4.0]])).tolist()[0]]
    [0.6, 0.8]
    """
    if out is not None:
        raise TypeError("normalize: out= is not supported; assign the result instead")
    return input / clamp(norm(input, p, dim, keepdim=True), min=eps)


def _broadcast_pair(op: str, x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ShapeError(f"{op}: cannot broadcast shapes {format_shape(x1.shape)} and "
                         f"{format_shape(x2.shape)}: each dimension must be equal or 1 "
                         "(counting from the right)") from None
    if x1.shape != shape:
        x1 = broadcast_to(x1, shape)
    if x2.shape != shape:
        x2 = broadcast_to(x2, shape)
    return x1, x2


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 * x2, dim) / (max(||x1||, eps) * max(||x2||, eps))`` after broadcasting the two.
    Each input is divided by its norm first (as PyTorch does), keeping the result in [-1, 1].

    >>> import backprop as bp
    >>> similarity = cosine_similarity(bp.tensor([[1.0, 0.0]]), bp.tensor([[1.0, 1.0]]))
    >>> round(similarity.item(), 4)
    0.7071
    """
    x1, x2 = _broadcast_pair("cosine_similarity", x1, x2)
    unit1 = x1 / clamp(norm(x1, 2, dim, keepdim=True), min=eps)
    unit2 = x2 / clamp(norm(x2, 2, dim, keepdim=True), min=eps)
    return (unit1 * unit2).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dim.

    >>> import backprop as bp
    >>> round(pairwise_distance(bp.tensor([[0.0, 0.0]]), bp.tensor([[3.0, 4.0]])).item(), 4)
    5.0
    """
    diff = x1 - x2 + eps
    return norm(diff, p, max(diff.ndim - 1, 0) if diff.ndim else None, keepdim=keepdim)


__all__ = ["linear", "bilinear", "dropout", "dropout2d", "embedding", "normalize",
           "cosine_similarity", "pairwise_distance"]
