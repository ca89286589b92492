"""Converters of shape, join and indexing ops: reshape/view, permute, transpose, (un)squeeze,
expand, cat, stack, split, unbind, getitem, narrow, select, where, masked_fill, casts."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from ._context import Context, Event
from ._graph import tensor_type
from ._ops import _out_dtype, operand
from ._registry import converter

_END = np.iinfo(np.int64).max  # a slice's open end


@converter("reshape", "view", dynamic=(1,))
def _reshape(ctx: Context, ev: Event) -> str:
    shape = ctx.sizes(ev, ev.args[1], ev.other_args[1], "the shape", infer_one=True)
    return ctx.node("Reshape", [ctx.value(ev.args[0]), shape])


@converter("expand", "broadcast_to", dynamic=(1,))
def _expand(ctx: Context, ev: Event) -> str:
    x = ev.args[0]
    # PyTorch's -1 keeps a size: ONNX's Expand broadcasts, so 1 does the same.
    first = [1 if s == -1 else s for s in ev.args[1]]
    second = [1 if s == -1 else s for s in ev.other_args[1]]
    return ctx.node("Expand", [ctx.value(x), ctx.sizes(ev, first, second, "the size")])


@converter("permute")
def _permute(ctx: Context, ev: Event) -> str:
    x = ev.args[0]
    return ctx.node("Transpose", [ctx.value(x)], perm=[int(d) % x.ndim for d in ev.args[1]])


@converter("transpose")
def _transpose(ctx: Context, ev: Event) -> str:
    x, dim0, dim1 = ev.args[:3]
    perm = list(range(x.ndim))
    if x.ndim:
        a, b = dim0 % x.ndim, dim1 % x.ndim
        perm[a], perm[b] = perm[b], perm[a]
    return ctx.node("Transpose", [ctx.value(x)], perm=perm)


@converter("squeeze")
def _squeeze(ctx: Context, ev: Event) -> str:
    x, dims = ev.args[0], ev.args[1]
    if isinstance(dims, int):
        dims = (dims,)
    if dims is None:
        dims = tuple(i for i, n in enumerate(x.shape) if n == 1)
    dims = [int(d) % max(x.ndim, 1) for d in dims if x.shape[int(d) % max(x.ndim, 1)] == 1]
    if not dims:
        return ctx.node("Identity", [ctx.value(x)])
    return ctx.node("Squeeze", [ctx.value(x), ctx.graph.ints(dims)])


@converter("unsqueeze")
def _unsqueeze(ctx: Context, ev: Event) -> str:
    x, dim = ev.args[0], int(ev.args[1])
    return ctx.node("Unsqueeze", [ctx.value(x), ctx.graph.ints([dim % (x.ndim + 1)])])


@converter("cat")
def _cat(ctx: Context, ev: Event) -> str:
    # PyTorch's cat skips 1-d empty tensors, whatever the others' shapes
    dim, tensors = ev.args[0], [t for t in ev.args[1:] if tuple(t.shape) != (0,)]
    dtype = _out_dtype(ev)
    return ctx.node("Concat", [operand(ctx, t, dtype) for t in tensors],
                    axis=int(dim) % ev.out.ndim)


@converter("stack")
def _stack(ctx: Context, ev: Event) -> str:
    dim = int(ev.args[0]) % ev.out.ndim
    dtype = _out_dtype(ev)
    axes = ctx.graph.ints([dim])
    parts = [ctx.node("Unsqueeze", [operand(ctx, t, dtype), axes]) for t in ev.args[1:]]
    return ctx.node("Concat", parts, axis=dim)


@converter("split_with_sizes_copy")
def _split(ctx: Context, ev: Event) -> list:
    x, sizes, dim = ev.args[:3]
    return ctx.node("Split", [ctx.value(x), ctx.graph.ints(sizes)], len(ev.out),
                    axis=int(dim) % x.ndim)


@converter("unbind", "unbind_copy")
def _unbind(ctx: Context, ev: Event) -> list:
    x, dim = ev.args[0], int(ev.args[1]) % ev.args[0].ndim
    n = len(ev.out)
    parts = ctx.node("Split", [ctx.value(x), ctx.graph.ints([1] * n)], n, axis=dim)
    parts = [parts] if n == 1 else parts
    return [ctx.node("Squeeze", [p, ctx.graph.ints([dim])]) for p in parts]


def _slice(ctx: Context, x: str, axes: list, starts: list, ends: list, steps: list) -> str:
    return ctx.node("Slice", [x, ctx.graph.ints(starts), ctx.graph.ints(ends),
                              ctx.graph.ints(axes), ctx.graph.ints(steps)])


@converter("narrow")
def _narrow(ctx: Context, ev: Event) -> str:
    x, dim, start, length = ev.args[:4]
    dim, start = int(dim) % x.ndim, int(start) % max(x.shape[int(dim) % x.ndim], 1)
    return _slice(ctx, ctx.value(x), [dim], [start], [start + int(length)], [1])


@converter("slice")
def _slice_op(ctx: Context, ev: Event) -> str:
    x, dim, start, end, step = ev.args[:5]
    return _slice(ctx, ctx.value(x), [int(dim) % x.ndim], [int(start)],
                  [min(int(end), _END)], [int(step)])


@converter("select")
def _select(ctx: Context, ev: Event) -> str:
    x, dim, index = ev.args[:3]
    return ctx.node("Gather", [ctx.value(x), ctx.value(np.int64(index))],
                    axis=int(dim) % x.ndim)


def _normalized_key(x: Any, key: Any, ev: Event) -> tuple:
    key = key if isinstance(key, tuple) else (key,)
    if any(isinstance(k, (Tensor, np.ndarray, list, bool)) for k in key):
        raise ev.fail("indexing with tensors, lists or bools is not exported (ints, slices, "
                      "None and ... are)")
    if Ellipsis in key:
        at = key.index(Ellipsis)
        taken = sum(1 for k in key if k is not None and k is not Ellipsis)
        key = key[:at] + (slice(None),) * (x.ndim - taken) + key[at + 1:]
    return key + (slice(None),) * (x.ndim - sum(1 for k in key if k is not None))


def _bounds(key: tuple, ev: Event) -> tuple:
    """Per indexed dim: (dim, start, end, step, dropped); and where None inserts a dim."""
    sliced, inserted = [], []
    dim = out_dim = 0
    for k in key:
        if k is None:
            inserted.append(out_dim)
            out_dim += 1
            continue
        if isinstance(k, slice):
            if k != slice(None):
                step = 1 if k.step is None else int(k.step)
                if step <= 0:
                    raise ev.fail(f"slice step {step} must be positive")
                sliced.append((dim, 0 if k.start is None else int(k.start),
                               _END if k.stop is None else int(k.stop), step, False))
            out_dim += 1
        else:
            index = int(k)
            sliced.append((dim, index, _END if index == -1 else index + 1, 1, True))
        dim += 1
    return sliced, inserted


@converter("getitem", dynamic=(1,))
def _getitem(ctx: Context, ev: Event) -> str:
    x = ev.args[0]
    sliced, inserted = _bounds(_normalized_key(x, ev.args[1], ev), ev)
    other, other_inserted = _bounds(_normalized_key(ev.other_args[0], ev.other_args[1], ev), ev)
    if ([s[0] for s in sliced] != [s[0] for s in other] or inserted != other_inserted
            or [s[3:] for s in sliced] != [s[3:] for s in other]):
        raise ev.fail("the index changes form with the dynamic axes' sizes")
    out = ctx.value(x)
    if sliced:
        # Bounds read from x.size(d) of a dynamic axis (``pe[:x.size(0)]``) follow it.
        starts = ctx.sizes(ev, [s[1] for s in sliced], [s[1] for s in other], "a slice start")
        ends = ctx.sizes(ev, [s[2] for s in sliced], [s[2] for s in other], "a slice end")
        out = ctx.node("Slice", [out, starts, ends, ctx.graph.ints([s[0] for s in sliced]),
                                 ctx.graph.ints([s[3] for s in sliced])])
    dropped = [s[0] for s in sliced if s[4]]
    if dropped:
        out = ctx.node("Squeeze", [out, ctx.graph.ints(dropped)])
    if inserted:
        out = ctx.node("Unsqueeze", [out, ctx.graph.ints(inserted)])
    if not (sliced or inserted):
        out = ctx.node("Identity", [out])
    return out


@converter("where")
def _where(ctx: Context, ev: Event) -> str:
    condition, a, b = ev.args[:3]
    dtype = _out_dtype(ev)
    return ctx.node("Where", [operand(ctx, condition, np.dtype(bool)), operand(ctx, a, dtype),
                              operand(ctx, b, dtype)])


@converter("masked_fill")
def _masked_fill(ctx: Context, ev: Event) -> str:
    x, mask, value = ev.args[:3]
    dtype = _out_dtype(ev)
    return ctx.node("Where", [operand(ctx, mask, np.dtype(bool)), operand(ctx, value, dtype),
                              operand(ctx, x, dtype)])


@converter("to_dtype")
def _to_dtype(ctx: Context, ev: Event) -> str:
    return ctx.node("Cast", [ctx.value(ev.args[0])], to=tensor_type(_out_dtype(ev)))


def _compare(op_type: str):
    def convert(ctx: Context, ev: Event) -> str:
        a, b = ev.args[:2]
        kinds = [x for x in (a, b) if isinstance(x, (Tensor, np.ndarray))]
        dtype = np.result_type(*[np.dtype(k.dtype) for k in kinds])
        if dtype.kind in "iub" and any(isinstance(x, float) for x in (a, b)):
            dtype = np.dtype(np.float32)  # int tensor > 0.5 compares as floats, as in PyTorch
        return ctx.node(op_type, [operand(ctx, a, dtype), operand(ctx, b, dtype)])
    return convert


for _name, _op_type in {"eq": "Equal", "gt": "Greater", "lt": "Less"}.items():
    converter(_name)(_compare(_op_type))


@converter("logical_not")
def _logical_not(ctx: Context, ev: Event) -> str:
    return ctx.node("Not", [operand(ctx, ev.args[0], np.dtype(bool))])




def _trilu(upper: int):
    def convert(ctx: Context, ev: Event) -> str:
        x, diagonal = ev.args[0], int(ev.args[1]) if len(ev.args) > 1 else 0
        return ctx.node("Trilu", [ctx.value(x), ctx.value(np.int64(diagonal))], upper=upper)
    return convert


converter("triu")(_trilu(1))
converter("tril")(_trilu(0))


for _name, _op_type in {"le": "LessOrEqual", "ge": "GreaterOrEqual",
                        "logical_and": "And", "logical_or": "Or"}.items():
    converter(_name)(_compare(_op_type))


@converter("ne")
def _ne(ctx: Context, ev: Event) -> str:
    return ctx.node("Not", [_compare("Equal")(ctx, ev)])


def _pad(mode: str):
    def convert(ctx: Context, ev: Event) -> str:
        x, widths = ev.args[:2]
        widths = list(widths)
        # Widths may cover the trailing dims only: the leading ones get none.
        widths = [(0, 0)] * (x.ndim - len(widths)) + widths
        pads = [int(lo) for lo, _ in widths] + [int(hi) for _, hi in widths]
        inputs = [ctx.value(x), ctx.graph.ints(pads)]
        if mode == "constant":
            inputs.append(ctx.value(ev.args[2], _out_dtype(ev)))
        return ctx.node("Pad", inputs, mode=mode)
    return convert


converter("constant_pad_nd")(_pad("constant"))
converter("reflection_pad")(_pad("reflect"))
converter("replication_pad")(_pad("edge"))


@converter("flip")
def _flip(ctx: Context, ev: Event) -> str:
    x, dims = ev.args[:2]
    dims = [int(d) % x.ndim for d in dims]
    return ctx.node("Slice", [ctx.value(x), ctx.graph.ints([-1] * len(dims)),
                              ctx.graph.ints([np.iinfo(np.int64).min] * len(dims)),
                              ctx.graph.ints(dims), ctx.graph.ints([-1] * len(dims))])
