"""Attention: ``scaled_dot_product_attention`` and the multi-head attention behind
``nn.MultiheadAttention``, with PyTorch's semantics (masks, causal masking, dropout).

Both are composed from bp ops (matmul, softmax, where), so their gradients, and gradients of
those, come from the ops' own VJPs. Masks are constants unless a float mask requires grad.

Two mask conventions meet here, as in PyTorch: for ``scaled_dot_product_attention`` a bool mask
is True where a query MAY attend; for ``multi_head_attention`` (``key_padding_mask`` and
``attn_mask``) a bool mask is True where it may NOT. Float masks are added to the scores in both.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import backend
from ...capture.state import replayable
from ...errors import DTypeError, ShapeError, format_shape
from ...ops.elementwise import where
from ...ops.fused import _softmax, attention_softmax
from ...ops.join import cat, chunk
from ...ops.linalg import matmul
from ...ops.reduction import mean
from ...ops.shape import _permute, _transpose, _unsqueeze, expand, reshape, squeeze
from ...random import get_rng
from ...tensor import Tensor

_NEG_INF = -math.inf


def _dropout(x: Tensor, p: float) -> Tensor:
    """Zero each entry with probability ``p`` (bp's default generator), scale the rest by
    ``1 / (1 - p)``, as PyTorch's dropout does."""
    if p >= 1.0:
        return x * 0.0
    return x * _scaled_keep(x, p)


@replayable  # random draws: a captured step draws a new mask each replay
def _scaled_keep(x: Tensor, p: float) -> Any:
    keep = get_rng().random(x.shape) >= p  # drawn on the host: one seed, one mask, any device
    return backend.on_device_of((keep * (1.0 / (1.0 - p))).astype(x.dtype), x._data)


def _last_softmax(scores: Tensor) -> Tensor:
    return _softmax(scores, (scores.ndim - 1,))


def _safe_softmax(scores: Tensor) -> Tensor:
    """Softmax over the last dim in which a row that is -inf throughout (every key masked) gives
    zeros, not nan, as PyTorch's attention does. Such rows are replaced by zeros before the
    softmax, so no nan reaches the forward or the gradient."""
    masked = np.all(backend.array_of(scores) == _NEG_INF, axis=-1, keepdims=True)
    if not masked.any():
        return _last_softmax(scores)
    return where(masked, 0.0, _last_softmax(where(masked, 0.0, scores)))


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two dims.

    ``query`` is ``(..., L, E)``, ``key`` ``(..., S, E)``, ``value`` ``(..., S, Ev)``; the
    result is ``(..., L, Ev)``. ``scale`` defaults to ``1 / sqrt(E)``. ``attn_mask``
    broadcasts to ``(..., L, S)``: a bool mask is True where attention is allowed, a float mask
    is added to the scores. ``is_causal`` lets query ``i`` attend to keys ``0..i`` only (the
    top-left aligned lower triangle, as PyTorch). A query whose keys are all masked gets zeros.
    ``dropout_p`` drops attention weights with bp's generator (always, as in PyTorch: pass 0.0
    in evaluation). ``enable_gqa`` repeats the key/value heads (dim -3) to match the query's.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> q = k = v = bp.tensor([[[1., 0.], [0., 1.]]])
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True)[0, 0].tolist()
    [1.0, 0.0]
    """
    op = "scaled_dot_product_attention"
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ShapeError(f"{op}: query, key and value need at least 2 dims (..., L, E), got "
                         f"{format_shape(query.shape)}, {format_shape(key.shape)} and "
                         f"{format_shape(value.shape)}")
    if query.shape[-1] != key.shape[-1]:
        raise ShapeError(f"{op}: query {format_shape(query.shape)} and key "
                         f"{format_shape(key.shape)} must have the same last dim (embedding size)")
    if key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"{op}: key {format_shape(key.shape)} and value "
                         f"{format_shape(value.shape)} must have the same sequence length "
                         "(dim -2)")
    if enable_gqa:
        key, value = _repeat_heads(op, query, key), _repeat_heads(op, query, value)
    length, source = query.shape[-2], key.shape[-2]
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0
    scores = matmul(query, _transpose(key, key.ndim - 2, key.ndim - 1))
    if is_causal and attn_mask is not None:
        raise ValueError(f"{op}: give either attn_mask or is_causal=True, not both")
    if attn_mask is None:
        # scale, causal mask and softmax in one op; no row is fully masked (key 0 is always seen)
        weights = attention_softmax(scores, scale, is_causal) if length and source else \
            _last_softmax(scores * float(scale))
        if dropout_p > 0.0:
            weights = _dropout(weights, dropout_p)
        return matmul(weights, value)
    scores = scores * float(scale)
    mask = backend.array_of(attn_mask)
    try:
        np.broadcast_shapes(mask.shape, scores.shape)
    except ValueError:
        raise ShapeError(f"{op}: attn_mask of shape {format_shape(mask.shape)} does not "
                         f"broadcast to the attention scores' shape "
                         f"{format_shape(scores.shape)} (..., L, S)") from None
    if mask.dtype == np.bool_:
        scores = where(mask, scores, _NEG_INF)
    elif mask.dtype.kind in "fV":
        scores = scores + attn_mask
    else:
        raise DTypeError(f"{op}: attn_mask must be bool (True = attend) or floating point "
                         f"(added to the scores), got {mask.dtype}")
    weights = _safe_softmax(scores)
    if dropout_p > 0.0:
        weights = _dropout(weights, dropout_p)
    return matmul(weights, value)


def _repeat_heads(op: str, query: Tensor, kv: Tensor) -> Tensor:
    """Grouped-query attention: repeat each key/value head (dim -3) for its group of query
    heads, as ``repeat_interleave`` would."""
    if query.ndim < 3 or kv.ndim < 3:
        raise ShapeError(f"{op}: enable_gqa needs a heads dim (-3) on query and key/value")
    heads, groups = query.shape[-3], kv.shape[-3]
    if groups == 0 or heads % groups:
        raise ShapeError(f"{op}: with enable_gqa the query's {heads} heads must be a multiple "
                         f"of the key/value heads, {groups}")
    if heads == groups:
        return kv
    repeat = heads // groups
    lead = kv.shape[:-3]
    spread = expand(_unsqueeze(kv, kv.ndim - 2), lead + (groups, repeat) + kv.shape[-2:])
    return reshape(spread, lead + (heads,) + kv.shape[-2:])


# -- multi-head attention ---------------------------------------------------------------------------

def _linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    out = matmul(x, _transpose(weight, 0, 1))
    return out if bias is None else out + bias


def _additive_mask(op: str, name: str, mask: Any, dtype: np.dtype) -> Any:
    """A bool mask (True = masked) becomes 0 / -inf in the query's dtype; float masks stay."""
    if mask is None:
        return None
    values = backend.array_of(mask)
    if values.dtype == np.bool_:
        return np.where(values, _NEG_INF, 0.0).astype(dtype)
    if values.dtype.kind not in "fV":
        raise DTypeError(f"{op}: {name} must be bool (True = masked) or floating point (added "
                         f"to the scores), got {values.dtype}")
    return mask


def _pad_last(mask: Any) -> Any:
    """One more key column, never masked (for bias_k/bias_v or add_zero_attn)."""
    if mask is None:
        return None
    return cat([mask, backend.zeros(mask.shape[:-1] + (1,), mask.dtype, mask)], -1)


def multi_head_attention(query: Tensor, key: Tensor, value: Tensor, num_heads: int,
                         in_proj_weight: Tensor | None, in_proj_bias: Tensor | None,
                         out_proj_weight: Tensor, out_proj_bias: Tensor | None,
                         key_padding_mask: Tensor | None = None, attn_mask: Tensor | None = None,
                         need_weights: bool = True, average_attn_weights: bool = True,
                         is_causal: bool = False, batch_first: bool = False, *,
                         dropout_p: float = 0.0, training: bool = True,
                         bias_k: Tensor | None = None, bias_v: Tensor | None = None,
                         add_zero_attn: bool = False, q_proj_weight: Tensor | None = None,
                         k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None,
                         static_k: Tensor | None = None,
                         static_v: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention as ``nn.MultiheadAttention`` computes it; returns
    ``(output, weights)``.

    ``query`` is ``(L, N, E)`` (``(N, L, E)`` with ``batch_first``) or unbatched ``(L, E)``;
    ``key``/``value`` likewise with length ``S``. The packed ``in_proj_weight`` (``(3E, E)``)
    projects query, key and value; give ``q_proj_weight``/``k_proj_weight``/``v_proj_weight``
    instead (``in_proj_weight=None``) when key/value have other sizes. ``key_padding_mask``
    (``(N, S)``) and ``attn_mask`` (``(L, S)`` or ``(N * num_heads, L, S)``) are bool (True =
    masked) or float (added). ``weights`` is ``(N, L, S)`` averaged over heads, ``(N, H, L, S)``
    with ``average_attn_weights=False``, or None when ``need_weights=False`` (the output then
    comes from ``scaled_dot_product_attention``, whose fully masked rows give zeros instead of
    the nan of the explicit softmax, exactly as in PyTorch). ``is_causal`` is only a hint that
    ``attn_mask`` is causal and requires it, as in PyTorch.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> x = bp.randn(3, 2, 4)
    >>> out, w = F.multi_head_attention(x, x, x, 2, bp.randn(12, 4), bp.zeros(12),
    ...                                 bp.randn(4, 4), bp.zeros(4))
    >>> out.shape, w.shape
    ((3, 2, 4), (2, 3, 3))
    """
    op = "multi_head_attention"
    batched = _check_shapes(op, query, key, value, key_padding_mask, attn_mask, in_proj_weight)
    if is_causal and attn_mask is None:
        raise ValueError(f"{op}: is_causal=True is a hint that attn_mask is the causal mask; "
                         "give that attn_mask too (an (L, S) mask, True above the diagonal)")
    # Work batch first: (N, L, E).
    if not batched:
        query, key, value = _unsqueeze(query, 0), _unsqueeze(key, 0), _unsqueeze(value, 0)
        if key_padding_mask is not None:
            key_padding_mask = _unsqueeze(key_padding_mask, 0) if isinstance(
                key_padding_mask, Tensor) else backend.array_of(key_padding_mask)[None]
    elif not batch_first:
        query, key, value = (_transpose(query, 0, 1), _transpose(key, 0, 1),
                             _transpose(value, 0, 1))
    batch, length, embed = query.shape
    source = key.shape[1]
    head_dim = embed // num_heads
    if head_dim * num_heads != embed:
        raise ShapeError(f"{op}: embed_dim {embed} is not divisible by num_heads {num_heads}")
    dtype = query.dtype
    _check_mask_shapes(op, attn_mask, key_padding_mask, batch, num_heads, length, source)

    key_padding_mask = _additive_mask(op, "key_padding_mask", key_padding_mask, dtype)
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # scaled_dot_product_attention applies the causal mask itself
    else:
        attn_mask = _additive_mask(op, "attn_mask", attn_mask, dtype)
        if key_padding_mask is not None:
            is_causal = False

    q, k, v = _project(op, query, key, value, in_proj_weight, in_proj_bias,
                       q_proj_weight, k_proj_weight, v_proj_weight)
    if bias_k is not None or bias_v is not None:
        if bias_k is None or bias_v is None:
            raise ValueError(f"{op}: give both bias_k and bias_v, or neither")
        k = cat([k, expand(reshape(bias_k, (1, 1, embed)), (batch, 1, embed))], 1)
        v = cat([v, expand(reshape(bias_v, (1, 1, embed)), (batch, 1, embed))], 1)
        attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)

    def heads(x: Tensor) -> Tensor:  # (N, T, E) -> (N, H, T, head_dim)
        return _permute(reshape(x, (batch, x.shape[1], num_heads, head_dim)), (0, 2, 1, 3))

    q, k, v = heads(q), heads(k), heads(v)
    k = _static(op, "static_k", static_k, k, batch, num_heads, head_dim)
    v = _static(op, "static_v", static_v, v, batch, num_heads, head_dim)
    if add_zero_attn:
        zeros = Tensor._wrap(backend.zeros((batch, num_heads, 1, head_dim), k.dtype, k._data))
        k, v = cat([k, zeros], 2), cat([v, zeros], 2)
        attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
    source = k.shape[2]

    mask = _merge_masks(attn_mask, key_padding_mask, batch, num_heads, length, source)
    if not training:
        dropout_p = 0.0
    if need_weights:
        scores = matmul(q * math.sqrt(1.0 / head_dim), _transpose(k, 2, 3))
        if mask is not None:
            scores = scores + mask
        if mask is None:
            weights = _last_softmax(scores)
        else:
            with np.errstate(invalid="ignore"):  # fully masked rows give nan, as in PyTorch
                weights = _last_softmax(scores)
        if dropout_p > 0.0:
            weights = _dropout(weights, dropout_p)
        out = matmul(weights, v)
    else:
        weights = None
        out = scaled_dot_product_attention(q, k, v, mask, dropout_p, is_causal)
    out = reshape(_permute(out, (0, 2, 1, 3)), (batch, length, embed))
    out = _linear(out, out_proj_weight, out_proj_bias)
    if not batched:
        out = squeeze(out, 0)
    elif not batch_first:
        out = _transpose(out, 0, 1)
    if weights is not None:
        if average_attn_weights:
            weights = mean(weights, 1)
        if not batched:
            weights = squeeze(weights, 0)
    return out, weights


def _check_shapes(op: str, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Any,
                  attn_mask: Any, in_proj_weight: Any) -> bool:
    if query.ndim not in (2, 3):
        raise ShapeError(f"{op}: query must be (L, N, E), (N, L, E) with batch_first, or "
                         f"unbatched (L, E); got shape {format_shape(query.shape)}")
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise ShapeError(f"{op}: key {format_shape(key.shape)} and value "
                         f"{format_shape(value.shape)} must have as many dims as query "
                         f"{format_shape(query.shape)}")
    if key.shape[:-1] != value.shape[:-1]:
        raise ShapeError(f"{op}: key {format_shape(key.shape)} and value "
                         f"{format_shape(value.shape)} must have the same batch and sequence "
                         "sizes")
    embed = query.shape[-1]
    if in_proj_weight is not None:
        if tuple(in_proj_weight.shape) != (3 * embed, embed):
            raise ShapeError(f"{op}: in_proj_weight of shape "
                             f"{format_shape(in_proj_weight.shape)} must be (3 * embed_dim, "
                             f"embed_dim) = ({3 * embed}, {embed})")
        if key.shape[-1] != embed or value.shape[-1] != embed:
            raise ShapeError(f"{op}: key {format_shape(key.shape)} and value "
                             f"{format_shape(value.shape)} must have the query's embedding size "
                             f"{embed} with a packed in_proj_weight; give separate "
                             "q/k/v_proj_weight for other sizes")
    batched = query.ndim == 3
    if (key_padding_mask is not None
            and np.ndim(backend.array_of(key_padding_mask)) != query.ndim - 1):
        raise ShapeError(f"{op}: key_padding_mask must be {'(N, S)' if batched else '(S,)'} "
                         f"for a query of shape {format_shape(query.shape)}, got "
                         f"{format_shape(np.shape(backend.array_of(key_padding_mask)))}")
    if attn_mask is not None and np.ndim(backend.array_of(attn_mask)) not in (2, 3):
        raise ShapeError(f"{op}: attn_mask must be (L, S) or (N * num_heads, L, S), got "
                         f"{format_shape(np.shape(backend.array_of(attn_mask)))}")
    return batched


def _project(op: str, query: Tensor, key: Tensor, value: Tensor, in_proj_weight: Any,
             in_proj_bias: Any, q_proj_weight: Any, k_proj_weight: Any,
             v_proj_weight: Any) -> tuple[Tensor, Tensor, Tensor]:
    if in_proj_bias is None:
        b_q = b_k = b_v = None
    else:
        b_q, b_k, b_v = chunk(in_proj_bias, 3)
    if in_proj_weight is None:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ValueError(f"{op}: give in_proj_weight, or all of q_proj_weight, "
                             "k_proj_weight and v_proj_weight")
        return (_linear(query, q_proj_weight, b_q), _linear(key, k_proj_weight, b_k),
                _linear(value, v_proj_weight, b_v))
    if query is key and key is value:
        # Self-attention: one matmul for all three projections, then split.
        return chunk(_linear(query, in_proj_weight, in_proj_bias), 3, -1)
    w_q, w_k, w_v = chunk(in_proj_weight, 3)
    return _linear(query, w_q, b_q), _linear(key, w_k, b_k), _linear(value, w_v, b_v)


def _static(op: str, name: str, static: Any, projected: Tensor, batch: int, num_heads: int,
            head_dim: int) -> Tensor:
    """``static_k``/``static_v`` ((N * num_heads, S, head_dim)) replace the projected keys."""
    if static is None:
        return projected
    if static.ndim != 3 or static.shape[0] != batch * num_heads or static.shape[2] != head_dim:
        raise ShapeError(f"{op}: {name} of shape {format_shape(static.shape)} must be "
                         f"(N * num_heads, S, head_dim) = ({batch * num_heads}, S, {head_dim})")
    return reshape(static, (batch, num_heads, static.shape[1], head_dim))


def _check_mask_shapes(op: str, attn_mask: Any, key_padding_mask: Any, batch: int,
                       num_heads: int, length: int, source: int) -> None:
    """The masks' shapes against the inputs', before any key column is added (bias_k,
    add_zero_attn), so the error shows the shapes the caller gave."""
    if attn_mask is not None:
        shape = tuple(attn_mask.shape)
        expected = ((length, source) if len(shape) == 2
                    else (batch * num_heads, length, source))
        if shape != expected:
            names = "(L, S)" if len(shape) == 2 else "(N * num_heads, L, S)"
            raise ShapeError(f"{op}: attn_mask of shape {format_shape(shape)} must be {names} "
                             f"= {format_shape(expected)}")
    if key_padding_mask is not None and tuple(key_padding_mask.shape) != (batch, source):
        raise ShapeError(f"{op}: key_padding_mask of shape "
                         f"{format_shape(tuple(key_padding_mask.shape))} must be (N, S) = "
                         f"({batch}, {source})")


def _merge_masks(attn_mask: Any, key_padding_mask: Any, batch: int, num_heads: int,
                 length: int, source: int) -> Any:
    """attn_mask and key_padding_mask (both additive, shapes checked) as one mask
    broadcasting to (N, H, L, S)."""
    mask = None
    if attn_mask is not None:
        mask = reshape(attn_mask, (1, 1, length, source) if attn_mask.ndim == 2
                       else (batch, num_heads, length, source))
    if key_padding_mask is not None:
        padding = reshape(key_padding_mask, (batch, 1, 1, source))
        mask = padding if mask is None else mask + padding
    return mask


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor,
                                 embed_dim_to_check: int, num_heads: int,
                                 in_proj_weight: Tensor | None, in_proj_bias: Tensor | None,
                                 bias_k: Tensor | None, bias_v: Tensor | None,
                                 add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
                                 out_proj_bias: Tensor | None, training: bool = True,
                                 key_padding_mask: Tensor | None = None,
                                 need_weights: bool = True, attn_mask: Tensor | None = None,
                                 use_separate_proj_weight: bool = False,
                                 q_proj_weight: Tensor | None = None,
                                 k_proj_weight: Tensor | None = None,
                                 v_proj_weight: Tensor | None = None,
                                 static_k: Tensor | None = None, static_v: Tensor | None = None,
                                 average_attn_weights: bool = True,
                                 is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """PyTorch's ``F.multi_head_attention_forward`` (sequence-first inputs); see
    ``multi_head_attention`` for the arguments.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> x = bp.randn(3, 4)
    >>> out, w = F.multi_head_attention_forward(x, x, x, 4, 2, bp.randn(12, 4), None, None,
    ...                                         None, False, 0.0, bp.randn(4, 4), None)
    >>> out.shape, w.shape
    ((3, 4), (3, 3))
    """
    if query.shape[-1] != embed_dim_to_check:
        raise ShapeError(f"multi_head_attention_forward: expected embedding size "
                         f"{embed_dim_to_check}, got query of shape {format_shape(query.shape)}")
    if use_separate_proj_weight:
        in_proj_weight = None
    return multi_head_attention(
        query, key, value, num_heads, in_proj_weight, in_proj_bias, out_proj_weight,
        out_proj_bias, key_padding_mask, attn_mask, need_weights, average_attn_weights,
        is_causal, False, dropout_p=dropout_p, training=training, bias_k=bias_k, bias_v=bias_v,
        add_zero_attn=add_zero_attn, q_proj_weight=q_proj_weight, k_proj_weight=k_proj_weight,
        v_proj_weight=v_proj_weight, static_k=static_k, static_v=static_v)


__all__ = [
    "multi_head_attention",
    "multi_head_attention_forward",
    "scaled_dot_product_attention",
]
