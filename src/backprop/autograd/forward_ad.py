"""Forward-mode automatic differentiation (PyTorch's ``torch.autograd.forward_ad``).

Inside a ``dual_level()`` block, ``make_dual(x, t)`` gives a tensor carrying the tangent ``t``;
every op applied to it computes its primal value as usual and the tangent of its result (the
Jacobian-vector product ``J t``), which ``unpack_dual`` reads back. PyTorch supports one level
at a time, and so does this module; leaving the level drops every tangent.

Tangents are not stored on the tensors: the open level keeps a table from tensor to tangent,
and an engine ``Observer`` registered while the level is open computes the results' tangents
(with the rules of ``jvp_rules``). With no level open nothing is registered, so ordinary op
calls pay nothing for forward mode. Tangents are computed whatever the grad mode, as PyTorch's.

>>> import backprop as bp
>>> import backprop.autograd.forward_ad as fwAD
>>> with fwAD.dual_level():
...     x = fwAD.make_dual(bp.tensor([1.0, 2.0]), bp.tensor([1.0, 0.0]))
...     fwAD.unpack_dual((x * x).sum()).tangent.item()
2.0
"""

from __future__ import annotations

import contextlib
from collections import namedtuple
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..errors import GraphError, ShapeError, format_shape
from ..tensor import Tensor
from . import function as _function
from . import grad_mode, graph, observers
from .jvp_rules import output_tangents

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])
UnpackedDualTensor.__doc__ = "What ``unpack_dual`` returns: the primal and its tangent (or None)."


class _Level:
    """The open level: each dual tensor's tangent (keyed by the tensor's id; the tensor is held,
    so the id stays its own until the level ends), and the tangents of recorded outputs by
    their array's id, for ``Node.saved_outputs`` during a backward pass inside the level."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.tangents: dict[int, tuple[Tensor, Tensor]] = {}
        self.by_array: dict[int, tuple[Any, Tensor]] = {}
        self.paused = 0
        self.observer = _Propagate(self)

    def tangent(self, tensor: Any) -> Tensor | None:
        entry = self.tangents.get(id(tensor))
        return None if entry is None else entry[1]

    def attach(self, tensor: Tensor, tangent: Tensor | None) -> None:
        if tangent is None:
            self.tangents.pop(id(tensor), None)
            return
        self.tangents[id(tensor)] = (tensor, tangent)
        if tensor._grad_fn is not None:
            self.by_array[id(tensor._data)] = (tensor._data, tangent)

    @contextlib.contextmanager
    def pause(self) -> Iterator[None]:
        """Ops in the block compute no tangents (a rule's own work, a custom jvp)."""
        self.paused += 1
        graph.DUAL.active = False
        try:
            yield
        finally:
            self.paused -= 1
            graph.DUAL.active = self.paused == 0

    # Hooks the engine calls while the level is open (``graph.DUAL``).

    def saved_outputs(self, arrays: Any, tensors: Any) -> Any:
        """``Node.saved_outputs``'s tensors given the tangents their arrays had when made."""
        several = type(tensors) is tuple
        for array, tensor in zip(arrays if several else (arrays,),
                                 tensors if several else (tensors,)):
            entry = None if array is None else self.by_array.get(id(array))
            if entry is not None and tensor is not None:
                self.tangents[id(tensor)] = (tensor, entry[1])
        return tensors

    def before_inplace(self, target: Tensor, old: Tensor) -> None:
        """An in-place op computes from ``old``, a copy of ``target``: it carries the tangent
        (a view's own, or the part of its base's tangent it selects)."""
        tangent = self.tangent(target)
        view = target._view
        if tangent is None and view is not None and view.steps is not None:
            base_tangent = self.tangent(view.base)
            if base_tangent is not None:
                with self.pause():
                    tangent = graph.replay(base_tangent, view.steps)
        if tangent is not None:
            self.tangents[id(old)] = (old, tangent)

    def after_inplace(self, target: Tensor, result: Tensor) -> None:
        """After an in-place write ``target`` carries the tangent of the value written; a write
        through a view writes that tangent into the base's tangent too."""
        tangent = self.tangent(result)
        view = target._view
        base_tangent = None if view is None else self.tangent(view.base)
        if tangent is None and self.tangent(target) is None and base_tangent is None:
            return
        if tangent is None:  # overwritten by a constant (fill_)
            tangent = Tensor._wrap(np.zeros_like(target._data))
        tangent = _fit(tangent, target)
        if view is None:
            self.tangents[id(target)] = (target, tangent)
            return
        if view.steps is None:
            raise GraphError("forward AD: writing a dual tensor in place through a view made "
                             "under no_grad is not supported; make the view with grad enabled, "
                             "or write into a .clone()")
        from ..ops.primitive import PRIMITIVES  # noqa: PLC0415 - the ops sit above the engine

        base = view.base
        if base_tangent is None:
            base_tangent = Tensor._wrap(np.zeros_like(base._data))
        with self.pause():
            written = PRIMITIVES["copy_slices"](base_tangent, tangent, steps=view.steps)
            self.tangents[id(base)] = (base, written)
            self.tangents[id(target)] = (target, graph.replay(written, view.steps))


class _Propagate(observers.Observer):
    """Computes the tangent of every op result whose inputs carry tangents."""

    def __init__(self, level: _Level) -> None:
        self.level = level

    def op(self, op: Any, args: tuple, params: dict, proceed: Any) -> Any:
        level = self.level
        if level.paused:
            return proceed()
        table = level.tangents
        tangents = None
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                entry = table.get(id(a))
                if entry is not None:
                    if tangents is None:
                        tangents = [None] * len(args)
                    tangents[i] = entry[1]
        if tangents is None:
            return proceed()
        if isinstance(op, type):  # a custom Function: its jvp staticmethod gives the tangents
            return _function_jvp(level, op, args, params, tangents)
        if op.composite and op.differentiable:
            return op.forward(*args, **params)  # its ops carry the tangents through
        out = proceed()
        if not op.differentiable:
            return out
        previous = grad_mode.state.enabled
        with level.pause():
            grad_mode.state.enabled = True  # the derived rules differentiate a rule's graph
            try:
                results = output_tangents(op, args, params, out, tangents)
            finally:
                grad_mode.state.enabled = previous
        outs = out if type(out) is tuple else (out,)
        for o, t in zip(outs, results):
            if isinstance(o, Tensor) and t is not None and o.dtype.kind in "fc":
                level.attach(o, _fit(t, o))
        return out


def _fit(tangent: Tensor, primal: Tensor) -> Tensor:
    """A tangent with its primal's dtype (a real primal takes the real part)."""
    if tangent.dtype == primal.dtype:
        return tangent
    if tangent.dtype.kind == "c" and primal.dtype.kind != "c":
        tangent = tangent.real
    return tangent.to(primal.dtype)


def _function_jvp(level: _Level, cls: type, args: tuple, params: dict,
                  tangents: list) -> Any:
    """``cls.apply(*args)`` on dual inputs: the outputs' tangents come from ``cls.jvp``."""
    if getattr(cls, "jvp", None) is getattr(_function.Function, "jvp", None):
        raise RuntimeError(f"{cls.__name__}: You must implement the jvp function for custom "
                           "autograd.Function to use it with forward mode AD.")
    sink: list = []
    _function.CTX_SINK.append(sink)
    try:
        with level.pause():
            out = cls.apply(*args, **params)
    finally:
        _function.CTX_SINK.remove(sink)
    ctx = sink[-1]
    given = [t if t is not None else Tensor._wrap(np.zeros_like(a._data)) if isinstance(a, Tensor) else None
             for a, t in zip(args, tangents)]
    # what save_for_forward kept (or, without it, what save_for_backward did)
    ctx._in_jvp = getattr(ctx, "_for_forward", None)
    try:
        with level.pause():
            results = cls.jvp(ctx, *given)
    finally:
        ctx._in_jvp = None
    outs = out if type(out) is tuple else (out,)
    results = results if type(results) is tuple else (results,)
    if len(results) != len(outs):
        raise RuntimeError(f"{cls.__name__}.jvp: expected {len(outs)} tangents (one per output "
                           f"of forward), got {len(results)}")
    for o, t in zip(outs, results):
        if isinstance(o, Tensor) and isinstance(t, Tensor):
            if t.shape != o.shape:
                raise ShapeError(f"{cls.__name__}.jvp: a tangent of shape "
                                 f"{format_shape(t.shape)} for an output of shape "
                                 f"{format_shape(o.shape)}; return one of the output's shape")
            level.attach(o, _fit(t, o))
    return out


_current: _Level | None = None
_registration: Any = None


def enter_dual_level() -> int:
    """Open a forward-AD level and return its index (0: one level at a time, as PyTorch).

    >>> import backprop.autograd.forward_ad as fwAD
    >>> level = fwAD.enter_dual_level(); fwAD.exit_dual_level(level=level); level
    0
    """
    global _current, _registration
    if _current is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _current = _Level(0)
    _registration = observers.observing(_current.observer)
    _registration.__enter__()
    graph.DUAL.level = _current
    graph.DUAL.active = True
    return _current.index


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the open level (``level``, when given, must be its index); its tangents are dropped.

    >>> import backprop.autograd.forward_ad as fwAD
    >>> fwAD.enter_dual_level()
    0
    >>> fwAD.exit_dual_level()
    """
    global _current, _registration
    if _current is None or (level is not None and level != _current.index):
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was "
                           "created. This is not supported.")
    graph.DUAL.level = None
    graph.DUAL.active = False
    registration, _registration, _current = _registration, None, None
    registration.__exit__(None, None, None)


@contextlib.contextmanager
def dual_level() -> Iterator[int]:
    """A block with a forward-AD level open; yields its index.

    >>> import backprop as bp
    >>> import backprop.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     y = bp.exp(fwAD.make_dual(bp.tensor(0.0), bp.tensor(3.0)))
    ...     fwAD.unpack_dual(y).tangent.item()
    3.0
    """
    index = enter_dual_level()
    try:
        yield index
    finally:
        exit_dual_level(level=index)


def _level(op: str, level: int | None) -> _Level | None:
    if level is not None and (_current is None or level != _current.index):
        raise RuntimeError(f"Invalid level given to _{op}")
    return _current


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A view of ``tensor`` that carries ``tangent`` (same shape) inside the open level; it keeps
    ``tensor``'s history for backward.

    >>> import backprop as bp
    >>> import backprop.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     d = fwAD.make_dual(bp.ones(2), bp.zeros(2))
    ...     fwAD.unpack_dual(d).tangent.tolist()
    [0.0, 0.0]
    """
    current = _current
    if current is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    current = _level("make_dual", level)
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError(f"make_dual: expected two tensors, got {type(tensor).__name__} and "
                        f"{type(tangent).__name__}")
    if tensor.dtype.kind not in "fc":
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    if tangent.dtype.kind not in "fc":
        raise ValueError(f"Expected tangent to be floating point or complex, but got: "
                         f"{tangent.dtype}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            "make_dual: Trying to set a forward gradient that has a different size than that of "
            f"the original Tensor, this is not supported. Tensor is of size "
            f"{list(tensor.shape)} while the given forward gradient is of size "
            f"{list(tangent.shape)}.")
    with current.pause():
        dual = tensor.view(tuple(tensor.shape))
    current.attach(dual, tangent)
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of ``tensor``: the primal a view without tangent, the tangent None
    outside a level or for a tensor that carries none.

    >>> import backprop as bp
    >>> import backprop.autograd.forward_ad as fwAD
    >>> fwAD.unpack_dual(bp.ones(1)).tangent is None
    True
    """
    current = _level("unpack_dual", level)
    if current is None:
        return UnpackedDualTensor(tensor, None)
    tangent = current.tangent(tensor)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    with current.pause():
        primal = tensor.view(tuple(tensor.shape))
    return UnpackedDualTensor(primal, tangent)


__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level",
           "make_dual", "unpack_dual"]
