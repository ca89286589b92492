"""The arguments of ``export``: the model's inputs flattened and named, ``dynamic_axes`` read,
and the inputs resized for the second traced run."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._context import host


def split_args(args: Any, kwargs: dict | None) -> tuple[tuple, dict]:
    kwargs = dict(kwargs or {})
    if isinstance(args, Tensor):
        return (args,), kwargs
    if not isinstance(args, (tuple, list)):
        raise TypeError(f"onnx.export: args must be a tuple of the model's inputs or a "
                        f"Tensor, got {type(args).__name__}")
    args = tuple(args)
    if args and isinstance(args[-1], dict):  # PyTorch's old form: the last item is kwargs
        kwargs = {**args[-1], **kwargs}
        args = args[:-1]
    return args, kwargs


def flatten(values: Any) -> list[Tensor]:
    if isinstance(values, Tensor):
        return [values]
    if isinstance(values, (tuple, list)):
        return [t for v in values for t in flatten(v)]
    if isinstance(values, dict):
        return [t for v in values.values() for t in flatten(v)]
    return []


def input_names_of(model: Any, args: tuple, kwargs: dict, inputs: list[Tensor],
                 given: Sequence[str] | None) -> list[str]:
    """The given names first, then the forward's parameter names (with the position inside a
    tuple argument)."""
    try:
        params = [p for p in inspect.signature(model.forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    defaults = []
    for i, arg in enumerate(args):
        base = params[i].name if i < len(params) else f"input_{i}"
        found = flatten(arg)
        defaults += [base] if isinstance(arg, Tensor) else [f"{base}_{j}" for j in range(len(found))]
    for key, value in kwargs.items():
        found = flatten(value)
        defaults += [key] if isinstance(value, Tensor) else [f"{key}_{j}" for j in range(len(found))]
    given = list(given or [])
    if len(given) > len(inputs):
        raise ValueError(f"onnx.export: {len(given)} input_names for {len(inputs)} input tensors")
    names = given + defaults[len(given):]
    if len(set(names)) != len(names):
        raise ValueError(f"onnx.export: input names must differ, got {names}")
    return names


def read_dynamic_axes(dynamic_axes: Any) -> dict[str, dict[int, str]]:
    axes: dict[str, dict[int, str]] = {}
    for name, spec in (dynamic_axes or {}).items():
        if isinstance(spec, Mapping):
            axes[name] = {int(a): str(label) for a, label in spec.items()}
        elif isinstance(spec, (list, tuple)):
            # PyTorch's names for axes given as a list
            axes[name] = {int(a): f"{name}_dynamic_axes_{k + 1}" for k, a in enumerate(spec)}
        else:
            raise TypeError(f"onnx.export: dynamic_axes[{name!r}] must be a list of axes or a "
                            f"dict of axis -> name, got {type(spec).__name__}")
    return axes


def resized(tensor: Tensor, axes: dict[int, int]) -> Tensor:
    """``tensor`` with each axis in ``axes`` of the new size (its entries repeated in turn, so
    that indices stay valid)."""
    from ..creation import tensor as make

    data = host(tensor)
    for axis, size in axes.items():
        data = np.take(data, np.arange(size) % max(data.shape[axis], 1), axis=axis)
    return make(data)


def replaced(value: Any, swap: dict[int, Tensor]) -> Any:
    if isinstance(value, Tensor):
        return swap.get(id(value), value)
    if isinstance(value, tuple):
        return tuple(replaced(v, swap) for v in value)
    if isinstance(value, list):
        return [replaced(v, swap) for v in value]
    if isinstance(value, dict):
        return {k: replaced(v, swap) for k, v in value.items()}
    return value
