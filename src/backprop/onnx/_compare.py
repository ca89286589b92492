"""The two traced runs compared: the same ops, with the same arguments except those that follow
the dynamic axes (which converters read from both runs, or which are written as computed
shapes)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._context import Context, Event, host
from ._graph import OnnxExporterError
from ._registry import DYNAMIC
from ._trace import ModuleEvent


def check_same_ops(events: list, other: list) -> None:
    def label(e: Any) -> str:
        return type(e.module).__name__ if isinstance(e, ModuleEvent) else e.name

    for i, (a, b) in enumerate(zip(events, other)):
        if label(a) != label(b):
            raise OnnxExporterError(
                f"onnx.export: the model ran different ops when the dynamic axes changed size "
                f"(call {i}: '{label(a)}' in {a.where or 'the model'}, then '{label(b)}'); its "
                "control flow depends on the input's size, which one graph cannot hold")
    if len(events) != len(other):
        raise OnnxExporterError(
            f"onnx.export: the model ran {len(events)} ops, then {len(other)} when the dynamic "
            "axes changed size; its control flow depends on the input's size")


def _same(ctx: Context, a: Any, b: Any) -> bool:
    if isinstance(a, Tensor):
        if ctx.known(a):
            return True
        return (isinstance(b, Tensor) and tuple(a.shape) == tuple(b.shape)
                and np.array_equal(host(a), host(b), equal_nan=a.dtype.kind == "f"))
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if isinstance(a, (tuple, list)):
        return (isinstance(b, (tuple, list)) and len(a) == len(b)
                and all(_same(ctx, x, y) for x, y in zip(a, b)))
    if isinstance(a, dict):
        return (isinstance(b, dict) and a.keys() == b.keys()
                and all(_same(ctx, a[k], b[k]) for k in a))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _short(value: Any) -> str:
    if isinstance(value, (Tensor, np.ndarray)):
        return f"a constant of shape {tuple(value.shape)}"
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


def check_same_arguments(ctx: Context, event: Event) -> None:
    """Arguments that differ between the two runs are the converter's to follow (a reshape's
    shape) or make the export wrong at other sizes: those fail here."""
    dynamic = DYNAMIC.get(event.name, frozenset())
    pairs = [(i, a, b) for i, (a, b) in enumerate(zip(event.args, event.other_args))]
    pairs += [(k, v, event.other_params.get(k)) for k, v in event.params.items()]
    for key, a, b in pairs:
        if key in dynamic or _matches(ctx, event, a, b):
            continue
        what = f"argument {key}" if isinstance(key, int) else f"argument {key!r}"
        raise event.fail(
            f"{what} is {_short(a)} at the exported sizes but {_short(b)} when the dynamic "
            "axes change size: it depends on the input's size in a way one graph cannot hold "
            "(a tensor made inside forward, or a number read from x.shape); make it from the "
            "inputs with tensor ops, or export without dynamic_axes")


def _matches(ctx: Context, event: Event, a: Any, b: Any) -> bool:
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and len(a) == len(b):
        return all(_matches(ctx, event, x, y) for x, y in zip(a, b))
    return _same(ctx, a, b) or _filled(ctx, event, a, b)


def _filled(ctx: Context, event: Event, a: Any, b: Any) -> bool:
    """A tensor made inside forward whose size follows the dynamic axes (``bp.zeros(x.size(0),
    h)``) and holds one value throughout: written as that value expanded to a computed shape."""
    if not (isinstance(a, Tensor) and isinstance(b, Tensor) and a.ndim == b.ndim
            and a.dtype == b.dtype):
        return False
    first, second = host(a), host(b)
    if not (first.size and second.size):
        return False
    value = first.flat[0]
    if not ((first == value).all() and (second == value).all()):
        return False
    shape = ctx.sizes(event, a.shape, b.shape, "the shape of a tensor made inside forward")
    ctx.bind(a, ctx.node("Expand", [ctx.value(np.asarray(value, first.dtype)), shape]))
    return True
