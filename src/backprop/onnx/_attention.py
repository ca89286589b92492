"""MultiheadAttention converted as a whole, into MatMul, Softmax, Where and reshapes.

Its ops are not traced one by one because attention reads its masks as numbers (to merge and
check them): traced, a mask would become a constant of the exported size. Here the masks are
graph values, so a causal mask built inside forward, or given as an input, follows the
sequence length.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._context import Context, Event, host


def _projection(ctx: Context, x: str, weight: np.ndarray, bias: np.ndarray | None,
                name: str) -> str:
    """``x @ weight.T + bias`` with the transposed weight stored as ``name``."""
    out = ctx.node("MatMul", [x, ctx.graph.initializer(name, np.ascontiguousarray(weight.T))])
    if bias is not None:
        out = ctx.node("Add", [out, ctx.graph.initializer(name + ".bias", bias)])
    return out


def _masked(ctx: Context, scores: str, mask: Any, name: str, dtype: np.dtype) -> str:
    """``scores`` with ``mask`` (read as ``name``) applied: a bool mask is True where attention
    is NOT allowed (-inf there), a float mask is added."""
    if np.dtype(mask.dtype) == np.bool_:
        return ctx.node("Where", [name, ctx.value(np.asarray(-np.inf, dtype)), scores])
    if np.dtype(mask.dtype) != dtype:
        from ._graph import tensor_type

        name = ctx.node("Cast", [name], to=tensor_type(dtype))
    return ctx.node("Add", [scores, name])


def multihead_attention(ctx: Context, ev: Event, module: Any) -> tuple:
    import inspect

    bound = inspect.signature(module.forward).bind(*ev.args, **ev.params)
    bound.apply_defaults()
    a = bound.arguments
    query, key, value = a["query"], a["key"], a["value"]
    if query.ndim != 3:
        raise ev.fail(f"unbatched attention (query shape {tuple(query.shape)}) is not exported")
    if module.bias_k is not None or module.add_zero_attn:
        raise ev.fail("add_bias_kv and add_zero_attn are not exported")
    prefix = ctx.qualnames.get(id(module), "")
    prefix = f"{prefix}." if prefix else ""
    embed, heads = module.embed_dim, module.num_heads
    head_dim = embed // heads
    dtype = np.dtype(query.dtype)

    def batch_major(x: Tensor) -> str:  # (N, L, E)
        name = ctx.value(x)
        return name if module.batch_first else ctx.node("Transpose", [name], perm=[1, 0, 2])

    if module._qkv_same_embed_dim:
        weight = host(module.in_proj_weight)
        weights = [weight[i * embed:(i + 1) * embed] for i in range(3)]
    else:
        weights = [host(w) for w in (module.q_proj_weight, module.k_proj_weight,
                                     module.v_proj_weight)]
    biases: list[Any] = [None] * 3
    if module.in_proj_bias is not None:
        bias = host(module.in_proj_bias)
        biases = [bias[i * embed:(i + 1) * embed] for i in range(3)]
    split_heads = ctx.graph.ints([0, 0, heads, head_dim])
    projected = []
    for x, w, b, part in zip((query, key, value), weights, biases, "qkv"):
        out = _projection(ctx, batch_major(x), w, b, f"{prefix}in_proj_weight.{part}")
        projected.append(ctx.node("Reshape", [out, split_heads]))  # (N, L, h, d)
    q = ctx.node("Transpose", [projected[0]], perm=[0, 2, 1, 3])  # (N, h, L, d)
    k = ctx.node("Transpose", [projected[1]], perm=[0, 2, 3, 1])  # (N, h, d, S)
    v = ctx.node("Transpose", [projected[2]], perm=[0, 2, 1, 3])  # (N, h, S, d)
    scores = ctx.node("Mul", [ctx.node("MatMul", [q, k]),
                              ctx.value(np.asarray(1 / math.sqrt(head_dim), dtype))])
    attn_mask, padding = a["attn_mask"], a["key_padding_mask"]
    if attn_mask is not None:
        if attn_mask.ndim == 3:  # (N * h, L, S) -> (N, h, L, S)
            shape = ctx.node("Concat", [ctx.graph.ints([-1, heads]), ctx.node(
                "Slice", [ctx.shape_of(ctx.value(attn_mask)), ctx.graph.ints([1]),
                          ctx.graph.ints([3])])], axis=0)
            name = ctx.node("Reshape", [ctx.value(attn_mask), shape])
        else:
            name = ctx.value(attn_mask)
        scores = _masked(ctx, scores, attn_mask, name, dtype)
    if padding is not None:  # (N, S) -> (N, 1, 1, S)
        wide = ctx.node("Unsqueeze", [ctx.value(padding), ctx.graph.ints([1, 2])])
        scores = _masked(ctx, scores, padding, wide, dtype)
    probabilities = ctx.node("Softmax", [scores], axis=-1)
    out = ctx.node("Transpose", [ctx.node("MatMul", [probabilities, v])], perm=[0, 2, 1, 3])
    out = ctx.node("Reshape", [out, ctx.graph.ints([0, 0, embed])])
    out_bias = None if module.out_proj.bias is None else host(module.out_proj.bias)
    out = _projection(ctx, out, host(module.out_proj.weight), out_bias,
                      f"{prefix}out_proj.weight.T")
    if not module.batch_first:
        out = ctx.node("Transpose", [out], perm=[1, 0, 2])
    weights_out = None
    if a["need_weights"]:
        weights_out = probabilities
        if a["average_attn_weights"]:
            if ctx.opset >= 18:
                weights_out = ctx.node("ReduceMean", [probabilities, ctx.graph.ints([1])],
                                       keepdims=0)
            else:
                weights_out = ctx.node("ReduceMean", [probabilities], axes=[1], keepdims=0)
    return out, weights_out
