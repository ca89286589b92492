"""Reductions over dims: sum, mean, and the statistics built on them."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import ShapeError, check_dim, format_shape
from ..tensor import Tensor
from .primitive import primitive
from .shape import broadcast_to, reshape


def normalize_dims(op: str, dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...] | None:
    """``dim`` as a sorted tuple of non-negative axes (None means all), checked against ``ndim``."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        return (check_dim(op, int(dim), ndim),)
    axes = tuple(sorted(check_dim(op, int(d), ndim) for d in dim))
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}: dim {tuple(dim)} names a dimension twice")
    return axes


def expand_reduced(g: Any, shape: tuple[int, ...], axes: tuple[int, ...] | None,
                   keepdim: bool) -> Any:
    """Broadcast the gradient of a reduction over ``axes`` back to the input ``shape``."""
    if not keepdim and axes is not None and shape:
        kept = list(shape)
        for a in axes:
            kept[a] = 1
        g = reshape(g, tuple(kept))
    return broadcast_to(g, shape)


@primitive("sum")
def _sum(input: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    return np.sum(input, axis=axes, keepdims=keepdim)


_sum.defvjp(lambda g, out, input, axes, keepdim: expand_reduced(g, input.shape, axes, keepdim))


def sum(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
        dtype: Any = None) -> Tensor:
    """Sum over ``dim`` (an int, a tuple, or all dims when None).

    >>> import backprop as bp
    >>> bp.tensor([[1., 2.], [3., 4.]]).sum(dim=0).tolist()
    [4.0, 6.0]
    """
    result = _sum(input, normalize_dims("sum", dim, input.ndim), keepdim)
    return result if dtype is None else result.to(dtype)


@primitive("mean")
def _mean(input: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    if input.dtype.kind not in "fc":
        raise TypeError(f"mean: input dtype must be floating point, got {input.dtype}; "
                        "convert with .float() first")
    return np.mean(input, axis=axes, keepdims=keepdim)


def _mean_vjp(g: Any, out: Any, input: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    count = input.size if axes is None else int(np.prod([input.shape[a] for a in axes]))
    return expand_reduced(g, input.shape, axes, keepdim) / max(count, 1)


_mean.defvjp(_mean_vjp)


def mean(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """Mean over ``dim`` (float tensors only, as in PyTorch).

    >>> import backprop as bp
    >>> bp.tensor([1., 2., 3.]).mean().item()
    2.0
    """
    if dtype is not None:
        input = input.to(dtype)
    return _mean(input, normalize_dims("mean", dim, input.ndim), keepdim)


@primitive()
def sum_to_size(input: Any, size: tuple[int, ...]) -> Any:
    shape = tuple(size)
    lead = input.ndim - len(shape)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, input.shape[lead:])):
        raise ShapeError(f"sum_to_size: a tensor of shape {format_shape(input.shape)} cannot be "
                         f"summed to {format_shape(shape)}: that shape must broadcast to it")
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and input.shape[lead + i] != 1)
    return np.sum(input, axis=axes, keepdims=True).reshape(shape)


sum_to_size.defvjp(lambda g, out, input, size: broadcast_to(g, input.shape))


def _sum_to_size_method(self: Tensor, *size: Any) -> Tensor:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return sum_to_size(self, tuple(size))


TENSOR_METHODS = {"sum": sum, "mean": mean, "sum_to_size": _sum_to_size_method}

__all__ = ["sum", "mean", "sum_to_size"]
