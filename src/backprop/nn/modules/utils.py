"""Small helpers the layer classes share: tuples of sizes and new parameters."""

from __future__ import annotations

import collections.abc
from collections.abc import Callable
from typing import Any

import numpy as np

from ... import dtypes
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


def new_parameter(*shape: int, dtype: Any = None, device: Any = None) -> Parameter:
    """An uninitialised parameter (``reset_parameters`` fills it)."""
    if device not in (None, "cpu") and str(device) != "cpu":
        raise ValueError(f"device {device!r} is not available; only 'cpu' is supported")
    dtype = dtypes.DEFAULT_FLOAT if dtype is None else dtypes.as_dtype(dtype, "Parameter")
    return Parameter(np.empty(shape, dtype=dtype))


def factory_dtype(dtype: Any) -> np.dtype:
    return dtypes.DEFAULT_FLOAT if dtype is None else dtypes.as_dtype(dtype, "Module")
