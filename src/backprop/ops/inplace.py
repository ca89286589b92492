"""In-place ops: ``add_``, ``mul_``, ``zero_``, ``fill_``, ``copy_`` and the rule they share.

An in-place op computes its result out of place, writes it into the tensor's storage (so views
see it), and bumps the storage's version counter, so a node that saved the old values refuses to
backward instead of returning a wrong gradient.

A write through a view changes its base, so the base's history changes with it (PyTorch's
CopySlices): the base gets a ``copy_slices`` node, its old history with the view's part replaced
by the write's result, whose own graph differentiates the op (``view.mul_(3)``: the old part
times 3). Every view of the base then takes its history from the base's (``autograd.graph.View``).
"""

from __future__ import annotations

import builtins
from typing import Any, Callable

import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..capture.state import TRACING, refuse
from ..autograd.graph import DUAL, VersionCounter, replay
from ..errors import DTypeError, GraphError, ShapeError, format_shape
from ..tensor import INFERENCE, Tensor
from . import elementwise as ew
from .primitive import primitive


# The base's value after a write through its view made by ``steps``: the old value with the
# view's part replaced by ``value``. The old part gets no gradient (it was overwritten), the
# value gets the part's. A write records this node without running the forward (it has written
# the storage itself); rules run the forward, on gradients.
@primitive("copy_slices", grads={
    "base": lambda g, out, base, value, steps: copy_slices(g, 0.0, steps=steps),
    "value": lambda g, out, base, value, steps: replay(g, steps),
})
def copy_slices(base: Any, value: Any, *, steps: tuple) -> Any:
    out = base.copy()
    part = replay(out, steps)
    if part is out or backend.is_view_of(part, out):
        part[...] = value
    else:  # a reshape that the base's layout allowed as a view copies on out's: use positions
        positions = replay(backend.arange(out.size, out).reshape(out.shape), steps)
        out.reshape(-1)[positions] = value
    return out


copy_slices.backward_name = "CopySlices"  # PyTorch's name for the node


def apply_inplace(target: Tensor, name: str, compute: Callable[[Tensor], Tensor]) -> Tensor:
    """Write ``compute(old)`` into ``target``'s storage and record it in the graph.

    ``compute`` receives the tensor's old value (a snapshot when autograd needs one) and returns
    the new value, which must have ``target``'s shape after broadcasting. Writing through a
    view records the write in the view's base (see the module's docstring).
    """
    if target._version is INFERENCE:
        INFERENCE.bump(name)  # refuses outside inference mode, before anything is written
    if TRACING.tracer is not None:
        refuse(f"writes a tensor in place ({name})")
    if type(target) is not Tensor and getattr(target, "_batched_by_vmap", False):
        raise RuntimeError(f"{name}: in-place ops on a tensor batched by bp.func.vmap are not "
                           f"supported; use the out-of-place op ({name.rstrip('_')}, or "
                           "inplace=False) inside the vmapped function")
    recording = grad_mode.state.enabled
    view = target._view
    requires_grad = target.requires_grad  # (a view's history is brought up to date first)
    if recording:
        _check_may_write(target, name)
    if recording and requires_grad:
        # The new node may save the old value, which the write below would overwrite.
        old = Tensor._from_output(target._data.copy(), target._grad_fn, target._output_nr)
        old._version = None  # a copy: not the counter of the storage it was copied from
    else:
        old = Tensor._wrap(target._data)
    dual = DUAL.level if DUAL.active else None  # forward AD: the write carries tangents
    if dual is not None:
        dual.before_inplace(target, old)
    result = compute(old)
    if old._version is not None and old._version is not INFERENCE and not requires_grad:
        # A node saved the old value (``z.mul_(w)`` with w requiring grad saves z): compute
        # again from a copy, which the write leaves as it is.
        old = Tensor._wrap(target._data.copy())
        if dual is not None:
            dual.before_inplace(target, old)
        result = compute(old)
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
    node = result._grad_fn
    if node is not None and view is not None and view.steps is None:
        raise GraphError(f"{name}: this view was made under no_grad (or returned as it is by a "
                         "custom Function), so it does not share its base's history, and writing "
                         "a result that requires grad through it is refused (as in PyTorch); "
                         "make the view and the write both inside or both outside no_grad, or "
                         "write into a .clone()")
    target._data[...] = new
    if dual is not None:
        dual.after_inplace(target, result)
    if target._version is None:
        target._version = VersionCounter()
    target._version.bump(name)
    if node is None:
        return target
    if view is None:
        target._grad_fn = node
        target._output_nr = result._output_nr
        target._requires_grad = True
    else:
        # The base takes the write; the target, like every other view of the base, is now
        # stale and takes its history from the base's when next used.
        base = view.base
        base._grad_fn = copy_slices.record((base, result), steps=view.steps)
        base._output_nr = 0
        base._requires_grad = True
    return target


def _check_may_write(target: Tensor, name: str) -> None:
    """PyTorch's rule: a leaf requiring grad (or a view of one) may not be written while grad
    is enabled, since the write could not be part of its history."""
    view = target._view
    if view is None and target._requires_grad and target._grad_fn is None:
        raise GraphError(f"{name}: a leaf tensor that requires grad cannot be modified in place "
                         "while grad is enabled; wrap the update in `with bp.no_grad():` (as "
                         "optimizers do) or work on a .clone()")
    if view is not None and view.base._requires_grad and view.base._grad_fn is None:
        raise GraphError(f"{name}: a view of a leaf tensor that requires grad cannot be modified "
                         "in place while grad is enabled; wrap the update in `with "
                         "bp.no_grad():` or work on a .clone()")


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


def fill_diagonal_(self: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    """Set the elements whose indices are all equal to ``fill_value``, in place (PyTorch's
    ``fill_diagonal_``: every dim the same size, or a matrix; ``wrap`` restarts a tall matrix's
    diagonal after each ``cols + 1`` rows).

    >>> import backprop as bp
    >>> bp.zeros(3, 2).fill_diagonal_(5, wrap=True).tolist()
    [[5.0, 0.0], [0.0, 5.0], [0.0, 0.0]]
    """
    shape = self.shape
    if self.ndim < 2 or (self.ndim > 2 and len(set(shape)) != 1):
        raise ShapeError(f"fill_diagonal_: the tensor needs at least 2 dims, all of one size "
                         f"unless it has 2; got shape {format_shape(shape)}")
    n = builtins.min(shape)
    if self.ndim == 2 and wrap and shape[0] > shape[1]:
        flat_positions = np.arange(0, shape[0] * shape[1], shape[1] + 1)
    else:
        strides = np.cumprod((1,) + shape[:0:-1])[::-1]  # row-major strides, in elements
        flat_positions = np.arange(n) * int(strides.sum())
    mask = np.zeros(self.numel(), dtype=bool)
    mask[flat_positions] = True
    mask = backend.to_device(mask.reshape(shape), self.device)
    return apply_inplace(self, "fill_diagonal_",
                         lambda old: ew.where(Tensor._wrap(mask), fill_value, old))


__all__: list[str] = []
