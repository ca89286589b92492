"""Small helpers the layer classes share: tuples of sizes and new parameters."""

from __future__ import annotations

import collections.abc
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ... import backend, dtypes
from ..parameter import Parameter


def _ntuple(n: int, name: str) -> Callable[[Any], tuple]:
    def parse(x: Any) -> tuple:
        if isinstance(x, collections.abc.Iterable) and not isinstance(x, str):
            return tuple(x)
        return (x,) * n

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")


def _reverse_repeat_tuple(t: tuple, n: int) -> tuple:
    """``(1, 2)`` -> ``(2, 2, 1, 1)`` for ``n=2``: per-dim paddings in ``F.pad``'s order (last
    dim first)."""
    return tuple(x for x in reversed(t) for _ in range(n))


def check_sizes(owner: str, positive: bool = False, **sizes: Any) -> None:
    """Refuse a size that is not a non-negative (or positive) integer, naming the layer and the
    argument; NumPy would say only "negative dimensions are not allowed"."""
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                or value < int(positive):
            kind = "a positive" if positive else "a non-negative"
            raise ValueError(f"{owner}: {name} must be {kind} integer, got {value!r}")


def new_parameter(*shape: int, dtype: Any = None, device: Any = None) -> Parameter:
    """An uninitialised parameter on ``device`` (``reset_parameters`` fills it)."""
    target = backend.as_device(device, "Parameter")
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype, "Parameter")
    param = Parameter(np.empty(shape, dtype=dtype))
    if target is not None:
        param._data = backend.to_device(param._data, target)
    return param


def factory_dtype(dtype: Any) -> np.dtype:
    return dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype, "Module")


def reset_weight_and_bias(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default for linear and convolution layers: weight from kaiming_uniform_ with
    a=sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias from the same range."""
    from .. import init  # noqa: PLC0415 - init imports this module's siblings

    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound)
