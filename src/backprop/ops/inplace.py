"""In-place ops: ``add_``, ``mul_``, ``zero_``, ``fill_``, ``copy_`` and the rule they share.

An in-place op computes its result out of place, writes it into the tensor's storage (so views
see it), and bumps the storage's version counter, so a node that saved the old values refuses to
backward instead of returning a wrong gradient.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..autograd.graph import VersionCounter
from ..errors import DTypeError, GraphError, ShapeError, format_shape
from ..tensor import Tensor
from . import elementwise as ew
from .primitive import primitive


def apply_inplace(target: Tensor, name: str, compute: Callable[[Tensor], Tensor]) -> Tensor:
    """Write ``compute(old)`` into ``target``'s storage and record it in the graph.

    ``compute`` receives the tensor's old value (a snapshot when autograd needs one) and returns
    the new value, which must have ``target``'s shape after broadcasting.
    """
    recording = grad_mode.state.enabled
    if recording and target._requires_grad and target.grad_fn is None:
        raise GraphError(f"{name}: a leaf tensor that requires grad cannot be modified in place "
                         "while grad is enabled; wrap the update in `with bp.no_grad():` (as "
                         "optimizers do) or work on a .clone()")
    base = target._base
    if recording and base is not None and (base._requires_grad or target._requires_grad):
        raise GraphError(f"{name}: in-place change of a view of a tensor that requires grad is "
                         "not supported (its base's gradient would miss it); .clone() the view, "
                         "or write to the base tensor")
    old = target
    if recording and target.grad_fn is not None:
        # The new node may save the old value, which the write below would overwrite.
        old = Tensor._from_output(target._data.copy(), target.grad_fn, target._output_nr)
        old._version = None
    result = compute(old)  # a primitive applied to the old value: a Tensor on its device
    new = result._data
    if new.shape != target.shape:
        try:
            new = np.broadcast_to(new, target.shape)
        except ValueError:
            raise ShapeError(f"{name}: the result has shape {format_shape(new.shape)}, which "
                             f"cannot be written into a tensor of shape "
                             f"{format_shape(target.shape)}") from None
    if not np.can_cast(new.dtype, target.dtype, casting="same_kind"):
        raise DTypeError(f"{name}: the result dtype {new.dtype} can't be cast to the tensor's "
                         f"dtype {target.dtype} in place; convert the tensor first")
    if not backend.is_writeable(target._data):
        raise ValueError(f"{name}: this tensor's memory is read-only (a broadcast view?); "
                         ".clone() it first")
    target._data[...] = new
    if target._version is None:
        target._version = VersionCounter()
    target._version.bump(name)
    if result.grad_fn is not None:
        target.grad_fn = result.grad_fn
        target._output_nr = result._output_nr
        target._requires_grad = True
    return target


def add_(self: Tensor, other: Any, *, alpha: float = 1) -> Tensor:
    """``self += alpha * other`` in place.

    >>> import backprop as bp
    >>> bp.zeros(2).add_(1, alpha=3).tolist()
    [3.0, 3.0]
    """
    return apply_inplace(self, "add_", lambda old: ew.add(old, other, alpha=alpha))


def sub_(self: Tensor, other: Any, *, alpha: float = 1) -> Tensor:
    """``self -= alpha * other`` in place."""
    return apply_inplace(self, "sub_", lambda old: ew.sub(old, other, alpha=alpha))


def mul_(self: Tensor, other: Any) -> Tensor:
    """``self *= other`` in place.

    >>> import backprop as bp
    >>> bp.ones(2).mul_(4).tolist()
    [4.0, 4.0]
    """
    return apply_inplace(self, "mul_", lambda old: ew.mul(old, other))


def div_(self: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """``self /= other`` in place, rounded by ``rounding_mode`` (see ``div``)."""
    return apply_inplace(self, "div_", lambda old: ew.div(old, other, rounding_mode=rounding_mode))


def clamp_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """Clamp in place."""
    return apply_inplace(self, "clamp_", lambda old: ew.clamp(old, min, max))


# The old values are replaced, so they get no gradient; a tensor fill value gets all of it.
@primitive(grads={
    "input": lambda g, out, input, value: g * 0,
    "value": lambda g, out, input, value: g,
})
def fill(input: Any, value: Any) -> Any:
    # On input's device (np.full would make a host array); on NumPy arrays as fast as np.full.
    return np.full_like(input, value)


def fill_(self: Tensor, value: Any) -> Tensor:
    """Set every element to ``value`` in place.

    >>> import backprop as bp
    >>> bp.zeros(2).fill_(5).tolist()
    [5.0, 5.0]
    """
    return apply_inplace(self, "fill_", lambda old: fill(old, value))


def zero_(self: Tensor) -> Tensor:
    """Set every element to zero in place.

    >>> import backprop as bp
    >>> bp.ones(2).zero_().tolist()
    [0.0, 0.0]
    """
    return apply_inplace(self, "zero_", lambda old: fill(old, 0))


@primitive("copy", grads={
    "input": lambda g, out, input, src: g * 0,
    "src": lambda g, out, input, src: g,
})
def _copy(input: Any, src: Any) -> Any:
    return np.broadcast_to(src, np.shape(input)).astype(input.dtype)


def copy_(self: Tensor, src: Any) -> Tensor:
    """Copy ``src`` (broadcast, cast to this dtype) into this tensor in place.

    >>> import backprop as bp
    >>> bp.zeros(2).copy_(bp.tensor([1., 2.])).tolist()
    [1.0, 2.0]
    """
    return apply_inplace(self, "copy_", lambda old: _copy(old, src))


__all__: list[str] = []
