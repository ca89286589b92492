"""Shared helpers of the distributions: broadcasting parameters, probabilities and logits, and
the standard draws every ``rsample`` starts from."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .. import backend, dtypes
from ..autograd import grad_mode
from ..ops import elementwise as ew
from ..random import get_rng
from ..tensor import Tensor


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """Every value as a tensor of the common broadcast shape; numbers take the dtype of the
    tensors among them (the default float dtype if there are none), as in PyTorch."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    if not tensors and not all(isinstance(v, (int, float, np.number)) for v in values):
        raise TypeError("Input arguments must all be instances of numbers or Tensors")
    dtype = tensors[0].dtype if tensors else dtypes.get_default_dtype()
    like = tensors[0]._data if tensors else None
    as_tensors = [v if isinstance(v, Tensor) else
                  Tensor._wrap(backend.on_device_of(np.asarray(v, dtype), like)
                               if like is not None else np.asarray(v, dtype)) for v in values]
    shape = np.broadcast_shapes(*(t.shape for t in as_tensors))
    return tuple(t if t.shape == shape else t.expand(shape) for t in as_tensors)


def standard_draw(shape: Sequence[int], like: Tensor,
                  draw: Callable[[np.random.Generator, tuple], np.ndarray]) -> Tensor:
    """A tensor of ``draw(rng, shape)`` in ``like``'s dtype, on its device (drawn on the host
    from the default generator, as every random op is)."""
    values = np.asarray(draw(get_rng(), tuple(shape))).astype(like.dtype, copy=False)
    return Tensor._wrap(backend.on_device_of(values, like._data))


def clamp_probs(probs: Tensor) -> Tensor:
    """``probs`` kept off 0 and 1 by the dtype's epsilon, so their logits are finite."""
    eps = float(np.finfo(probs.dtype).eps)
    return probs.clamp(eps, 1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    ps = clamp_probs(probs)
    return ew.log(ps) - ew.log1p(-ps) if is_binary else ew.log(ps)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    from ..nn import functional as F
    return ew.sigmoid(logits) if is_binary else F.softmax(logits, dim=-1)


def sum_rightmost(value: Tensor, dims: int) -> Tensor:
    """``value`` summed over its ``dims`` rightmost dims."""
    return value.reshape(value.shape[:value.ndim - dims] + (-1,)).sum(-1) if dims > 0 else value


def no_grad_sample(fn: Callable[[], Tensor]) -> Tensor:
    with grad_mode.no_grad():
        return fn()


class lazy_property:
    """Computed on first access and then stored on the instance (PyTorch's ``lazy_property``:
    ``probs`` from ``logits`` and the other way round)."""

    def __init__(self, wrapped: Callable[[Any], Any]) -> None:
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        with grad_mode.enable_grad():
            value = self.wrapped(instance)
        instance.__dict__[self.__name__] = value
        return value


def xlogy(x: Tensor, y: Tensor) -> Tensor:
    """``x * log(y)``, 0 where ``x`` is 0 (whatever ``y``), with the gradient of that."""
    zero = x == 0
    return ew.where(zero, 0.0 * x, x * ew.log(ew.where(zero, 1.0 + 0.0 * y, y)))
