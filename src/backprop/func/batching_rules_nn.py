"""Batching rules for products, convolution, indexing, embedding, losses and dropout.

>>> import backprop as bp
>>> w = bp.ones(3, 2)
>>> bp.func.vmap(lambda x: bp.nn.functional.linear(x, w))(bp.ones(4, 5, 2)).shape
(4, 5, 3)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ops.primitive import PRIMITIVES
from ..tensor import Tensor
from .batched_tensor import BatchedTensor
from .batching import RULES, call, fallback, front_or_expand, logical_ndim, register, to_front, wrap


def _is_batched(a: Any, level: int) -> bool:
    return isinstance(a, BatchedTensor) and a._level == level


# -- matmul and linear ------------------------------------------------------------------------------

@register("matmul")
def matmul(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    """matmul: batch dims first and padded to one rank, 1-d operands made matrices and the
    added dim squeezed from the result."""
    a, b = args
    ra, rb = logical_ndim(a, level), logical_ndim(b, level)
    batched_a, batched_b = _is_batched(a, level), _is_batched(b, level)
    pa = to_front(a, level) if batched_a else a
    pb = to_front(b, level) if batched_b else b
    if batched_a and ra == 1:
        pa = pa.unsqueeze(1)
    if batched_b and rb == 1:
        pb = pb.unsqueeze(2)
    stacks = [max(r, 2) - 2 for r in (ra, rb)]
    target = max(stacks)
    if batched_a:
        for _ in range(target - stacks[0]):
            pa = pa.unsqueeze(1)
    if batched_b:
        for _ in range(target - stacks[1]):
            pb = pb.unsqueeze(1)
    out = call(op, pa, pb, **params)
    if batched_b and rb == 1:
        out = out.squeeze(-1)
    if batched_a and ra == 1:
        out = out.squeeze(-1 if rb == 1 else -2)
    return wrap(out, 0, level)


@register("linear")
def linear(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    """linear: a batched input is more leading dims; a batched weight or bias (ensembles)
    becomes a matmul and an add, batched themselves."""
    input, weight, bias = (list(args) + [None] * 3)[:3]
    if not _is_batched(weight, level) and not _is_batched(bias, level):
        return wrap(call(op, to_front(input, level), weight, bias), 0, level)
    out = input.matmul(weight.transpose(-1, -2))
    return out if bias is None else out + bias


# -- convolution ------------------------------------------------------------------------------------

@register("convolution")
def convolution(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    """convolution: a batched input folds its batch into N; a batched weight (and bias) folds
    into the channels, as a grouped convolution."""
    input, weight, bias, stride, padding, dilation, groups = args
    if not _is_batched(weight, level) and not _is_batched(bias, level):
        physical = to_front(input, level)
        n = physical.shape[1]
        out = call(op, physical.reshape(size * n, *physical.shape[2:]), weight, bias, stride,
                   padding, dilation, groups)
        return wrap(out.reshape(size, n, *out.shape[1:]), 0, level)
    x = front_or_expand(input, level, size)            # (B, N, C, *S)
    w = front_or_expand(weight, level, size)           # (B, O, C / groups, *K)
    n, c = x.shape[1], x.shape[2]
    x = x.movedim(0, 1).reshape(n, size * c, *x.shape[3:])
    o = w.shape[1]
    w = w.reshape(size * o, *w.shape[2:])
    b = None if bias is None else front_or_expand(bias, level, size).reshape(size * o)
    out = call(op, x, w, b, stride, padding, dilation, groups * size)
    return wrap(out.reshape(n, size, o, *out.shape[2:]), 1, level)


# -- indexing ---------------------------------------------------------------------------------------

def _advanced(entry: Any) -> bool:
    return isinstance(entry, (np.ndarray, list, Tensor)) and not isinstance(entry, bool)


@register("getitem")
def getitem(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    """x[key] for an unbatched key: the same key behind a full slice of the batch dim (when
    its index arrays sit side by side, where NumPy keeps their dims in place)."""
    input, key = args
    entries = key if type(key) is tuple else (key,)
    if not _is_batched(input, level) or any(_is_batched(e, level) for e in entries):
        return fallback(op, args, params, level, size)
    positions = [k for k, e in enumerate(entries) if _advanced(e)]
    if positions and positions[-1] - positions[0] + 1 != len(positions):
        return fallback(op, args, params, level, size)
    return wrap(call(op, to_front(input, level), (slice(None), *entries), **params), 0, level)


@register("embedding")
def embedding(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    """embedding: batched indices are more leading dims (a batched table loops)."""
    if _is_batched(args[1], level):
        return fallback(op, args, params, level, size)
    return wrap(call(op, to_front(args[0], level), *args[1:], **params), 0, level)


# -- losses that reduce -----------------------------------------------------------------------------

def _reduce_each(out: Any, size: int, how: str) -> Any:
    """Reduce each example's elementwise loss (batch dim first)."""
    if how == "none":
        return out
    flat = out.reshape(size, -1)
    return flat.sum(1) if how == "sum" else flat.mean(1)


@register("mse_loss")
def mse_loss(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    input, target, mean = args
    rank = max(logical_ndim(input, level), logical_ndim(target, level))
    pi = front_or_expand(input, level, size)
    pt = front_or_expand(target, level, size)
    for _ in range(rank - logical_ndim(input, level)):
        pi = pi.unsqueeze(1)
    for _ in range(rank - logical_ndim(target, level)):
        pt = pt.unsqueeze(1)
    # the primitive always reduces (sum or mean): each example's reduction is ours
    diff = pi - pt
    return wrap(_reduce_each(diff * diff, size, "mean" if mean else "sum"), 0, level)


@register("binary_cross_entropy", "binary_cross_entropy_with_logits")
def binary_cross_entropy(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    *tensors, reduction = args
    input = tensors[0]
    rank = logical_ndim(input, level)
    physical = []
    for t in tensors:
        if t is None or not _is_batched(t, level):
            physical.append(t)
            continue
        p = to_front(t, level)
        for _ in range(rank - logical_ndim(t, level)):
            p = p.unsqueeze(1)
        physical.append(p)
    if not _is_batched(input, level):
        physical[0] = front_or_expand(input, level, size)
    out = call(op, *physical, "none")
    if out.shape[0] != size:
        out = out.expand(size, *out.shape)
    return wrap(_reduce_each(out, size, reduction), 0, level)


# -- dropout ------------------------------------------------------------------------------------------

@register("dropout")
def dropout(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    """dropout's mask was drawn for one example: shared by the batch with randomness='same',
    drawn again for each example with 'different' (same keep probability and scale)."""
    from .batching_rules import _check_randomness

    input, mask = args
    mode = _check_randomness(op, level)
    physical = front_or_expand(input, level, size)
    if mode == "different":
        from ..nn.functional.layers import _dropout_mask

        scale = float(np.max(mask)) if np.size(mask) else 0.0
        p = 1.0 if scale == 0.0 else 1.0 - 1.0 / scale
        mask = _dropout_mask((size,) + tuple(np.shape(mask)), p, np.asarray(mask).dtype)
    return wrap(call(op, physical, mask), 0, level)


# -- composites: batch their parts --------------------------------------------------------------------

def composite(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    """A composite primitive's forward is written with differentiable ops: run it on the
    batched tensors and each part batches itself."""
    return op.forward(*args, **params)


for _name, _op in PRIMITIVES.items():
    if _op.composite and _name not in RULES:
        RULES[_name] = composite


__all__ = ["binary_cross_entropy", "composite", "convolution", "dropout", "embedding",
           "fold_into_n", "getitem", "linear", "matmul", "mse_loss"]


@register("avg_pool", "conv_transpose", "cross_map_lrn2d")
def fold_into_n(op: Any, args: tuple, params: dict, level: int, size: int) -> Any:
    """Ops over ``(N, C, *S)`` whose N samples are independent: the vmap batch folded into N
    (other arguments unbatched, else the loop)."""
    if not _is_batched(args[0], level) or any(
            _is_batched(a, level) for a in (*args[1:], *params.values())):
        return fallback(op, args, params, level, size)
    physical = to_front(args[0], level)
    n = physical.shape[1]
    out = call(op, physical.reshape(size * n, *physical.shape[2:]), *args[1:], **params)
    return wrap(out.reshape(size, n, *out.shape[1:]), 0, level)
