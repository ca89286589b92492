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
thread), may overlap and may end in any order. An event an observer does not override is not
sent to it: an observer of module calls alone costs an op one lookup, not a call chain. With
none registered anywhere the engine's only cost is one attribute test per op, node, backward
pass, module call and optimizer step.

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


EVENTS = ("op", "node", "backward", "module", "optimizer")


class _Thread:
    """One thread's registrations (held by a ``threading.local``, and by each registration of
    the thread, so that a block ended from another thread still ends here)."""

    __slots__ = ("observers", "watching", "passthrough")

    def __init__(self) -> None:
        self.observers: tuple[Observer, ...] = ()
        # Per event, the observers that override it (outermost first): the others would only
        # proceed, at the cost of a call per op.
        self.watching: dict[str, tuple[Observer, ...]] = dict.fromkeys(EVENTS, ())
        # Set by an op's continuation just before it calls the op again, so that call (and
        # only that one: ops it calls in turn are observed) runs unobserved.
        self.passthrough = False

    def register(self, observers: tuple[Observer, ...]) -> None:
        self.observers = observers
        self.watching = {event: tuple(o for o in observers
                                      if getattr(type(o), event) is not getattr(Observer, event))
                         for event in EVENTS}


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.mine = _Thread()


_state = _ThreadState()


@contextlib.contextmanager
def observing(observer: Observer) -> Iterator[Observer]:
    """Register ``observer`` with this thread's engine for the block (the first registered is
    the outermost: it sees the others' work inside its own). Blocks may end in any order."""
    if not isinstance(observer, Observer):
        raise TypeError(f"observing: expected an Observer (an instance of a subclass of "
                        f"bp.autograd.Observer), got {type(observer).__name__}")
    mine = _state.mine
    with _lock:
        REGISTRY.count += 1
    mine.register((*mine.observers, observer))
    try:
        yield observer
    finally:
        mine.register(tuple(o for o in mine.observers if o is not observer))
        with _lock:
            REGISTRY.count -= 1


def active() -> tuple[Observer, ...]:
    """The observers registered in this thread, outermost first."""
    return _state.mine.observers


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
    to be observed (no observer of ops in this thread, or this is the call an observer's
    ``proceed`` makes)."""
    state = _state.mine
    if state.passthrough:
        state.passthrough = False
        return UNOBSERVED
    observers = state.watching["op"]
    if not observers:
        return UNOBSERVED

    def proceed() -> Any:
        state.passthrough = True
        try:
            return (op if call is None else call)(*args, **params)
        finally:
            state.passthrough = False

    return _chain(observers, "op", (op, args, params), proceed)


def observe(event: str, args: tuple, proceed: Callable[[], Any]) -> Any:
    """``proceed()`` inside this thread's observers' ``event`` (``node``, ``backward``,
    ``module``, ``optimizer``)."""
    return _chain(_state.mine.watching[event], event, args, proceed)


__all__ = ["Observer", "REGISTRY", "active", "observe", "observe_op", "observing"]
