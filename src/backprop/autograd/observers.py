"""Observers: how tools watch the engine. The engine calls them; nothing is patched or replaced.

The profiler, anomaly detection, origin recording, the gradient monitor and the graph picture
each subclass ``Observer``, override the events they need, and register for the length of a
block with ``observing(observer)``. Each event gets ``proceed``, a function that does the work
and returns its result, so an observer may time it, look at what it returned, or note where it
happened; it returns what ``proceed()`` returned (or raises)::

    op(op, args, params, proceed)         a primitive or custom Function called on tensors
    node(node, grad, create_graph, proceed)   a node's gradient rule run by backward
    backward(proceed)                     a whole backward pass (backward() or autograd.grad)
    module(module, args, kwargs, proceed) a Module called
    optimizer(optimizer, method, proceed) an optimizer's step or zero_grad

Registrations belong to the thread that made them (an observer sees the work of its own
thread), may overlap and may end in any order. With none registered anywhere the engine's only
cost is one attribute test per op, node, module call and optimizer step.

>>> import backprop as bp
>>> class CountOps(bp.autograd.Observer):
...     def __init__(self):
...         self.names = []
...     def op(self, op, args, params, proceed):
...         self.names.append(op.name)
...         return proceed()
>>> counter = CountOps()
>>> with bp.autograd.observing(counter):
...     _ = bp.ones(2, requires_grad=True).exp().sum()
>>> counter.names
['exp', 'sum']
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any


class Observer:
    """Base class of engine observers: each event's default just proceeds."""

    def op(self, op: Any, args: tuple, params: dict, proceed: Callable[[], Any]) -> Any:
        return proceed()

    def node(self, node: Any, grad: Any, create_graph: bool, proceed: Callable[[], Any]) -> Any:
        return proceed()

    def backward(self, proceed: Callable[[], Any]) -> Any:
        return proceed()

    def module(self, module: Any, args: tuple, kwargs: dict, proceed: Callable[[], Any]) -> Any:
        return proceed()

    def optimizer(self, optimizer: Any, method: str, proceed: Callable[[], Any]) -> Any:
        return proceed()


class _Registry:
    """How many observers are registered in all threads: the engine's one test."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


REGISTRY = _Registry()
_lock = threading.Lock()


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.observers: tuple[Observer, ...] = ()
        # Set by an op's continuation just before it calls the op again, so that call (and
        # only that one: ops it calls in turn are observed) runs unobserved.
        self.passthrough = False


_state = _ThreadState()


@contextlib.contextmanager
def observing(observer: Observer) -> Iterator[Observer]:
    """Register ``observer`` with this thread's engine for the block (the first registered is
    the outermost: it sees the others' work inside its own)."""
    if not isinstance(observer, Observer):
        raise TypeError(f"observing: expected an Observer, got {type(observer).__name__}")
    with _lock:
        REGISTRY.count += 1
    _state.observers = (*_state.observers, observer)
    try:
        yield observer
    finally:
        _state.observers = tuple(o for o in _state.observers if o is not observer)
        with _lock:
            REGISTRY.count -= 1


def active() -> tuple[Observer, ...]:
    """The observers registered in this thread, outermost first."""
    return _state.observers


def _chain(observers: tuple[Observer, ...], event: str, args: tuple,
           proceed: Callable[[], Any]) -> Any:
    """Call ``event`` on each observer in turn, each around the next, the last around
    ``proceed``."""
    if not observers:
        return proceed()
    first, rest = observers[0], observers[1:]
    return getattr(first, event)(*args, lambda: _chain(rest, event, args, proceed))


UNOBSERVED = object()


def observe_op(op: Any, args: tuple, params: dict, call: Callable[..., Any] | None = None) -> Any:
    """Called by an op (a primitive, or a Function's ``apply`` as ``call``) when
    ``REGISTRY.count`` is set: the observers' result, or ``UNOBSERVED`` when this call is not
    to be observed (no observer in this thread, or this is the call an observer's ``proceed``
    makes)."""
    state = _state
    if state.passthrough:
        state.passthrough = False
        return UNOBSERVED
    if not state.observers:
        return UNOBSERVED

    def proceed() -> Any:
        state.passthrough = True
        try:
            return (op if call is None else call)(*args, **params)
        finally:
            state.passthrough = False

    return _chain(state.observers, "op", (op, args, params), proceed)


def observe(event: str, args: tuple, proceed: Callable[[], Any]) -> Any:
    """``proceed()`` inside this thread's observers' ``event`` (``node``, ``backward``,
    ``module``, ``optimizer``)."""
    return _chain(_state.observers, event, args, proceed)


__all__ = ["Observer", "REGISTRY", "active", "observe", "observe_op", "observing"]
