"""Where the profiler times the engine: wrappers installed with ``instrument.patched`` for the
length of a ``profile`` block only, so an unprofiled program runs the engine untouched.

- ``Primitive.__call__``: an op's forward, when called with at least one Tensor outside backward
  and optimizer steps (a VJP calling primitives on raw arrays is part of its node's time).
- ``Node.apply``: one node's VJPs in backward, named as the node is (``LinearBackward``).
- ``run_backward`` (as ``autograd.functional`` calls it, for ``backward()`` and
  ``autograd.grad``): the whole backward pass; its self time is the engine's own work
  (topological order, accumulating gradients, hooks), reported as ``autograd::engine``.
- ``step`` and ``zero_grad`` of every ``Optimizer`` class defining them: ``Optimizer.step#SGD.step``
  as PyTorch names it.

Each wrapper only appends ``key, time`` to the recorder's log on entry and ``CLOSE, time`` on
exit (see ``recorder``); they bind what they use as locals because they run on every op.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..autograd import functional as autograd_functional
from ..autograd.graph import Node
from ..autograd.instrument import patched
from ..ops.primitive import Primitive
from ..optim.optimizer import Optimizer
from ..tensor import Tensor
from .recorder import BACKWARD, CLOSE, FORWARD, OPTIMIZER, Recorder

ENGINE = "autograd::engine"


def input_shapes(args: tuple) -> tuple:
    """Each argument's shape (``()`` for a number, a dim or a shape tuple), as
    ``record_shapes`` groups them; a node's saved inputs and ``Meta`` have shapes too."""
    return tuple(tuple(a.shape) if hasattr(a, "shape") else () for a in args)


def _timed_primitive(recorder: Recorder) -> Callable[[Callable], Callable]:
    log, clock, get_ident, thread = recorder.log.append, time.perf_counter, threading.get_ident, \
        recorder.thread
    shapes = recorder.record_shapes

    def wrap(call: Callable) -> Callable:
        def primitive_call(op: Primitive, *args: Any, **params: Any) -> Any:
            if recorder.quiet or get_ident() != thread:
                return call(op, *args, **params)
            for a in args:
                if isinstance(a, Tensor):
                    break
            else:  # raw arrays only: part of whatever range called it
                return call(op, *args, **params)
            log((op.name, FORWARD, input_shapes(args)) if shapes else (op.name, FORWARD))
            log(clock())
            try:
                return call(op, *args, **params)
            finally:
                log(CLOSE)
                log(clock())

        return primitive_call

    return wrap


def _timed_node(recorder: Recorder) -> Callable[[Callable], Callable]:
    log, clock, get_ident, thread = recorder.log.append, time.perf_counter, threading.get_ident, \
        recorder.thread
    shapes = recorder.record_shapes

    def wrap(apply: Callable) -> Callable:
        def node_apply(node: Node, g: Any, create_graph: bool) -> list[Any]:
            if get_ident() != thread:
                return apply(node, g, create_graph)
            name = node.name()
            log((name, BACKWARD, input_shapes(node.inputs)) if shapes else (name, BACKWARD))
            log(clock())
            recorder.quiet += 1
            try:
                return apply(node, g, create_graph)
            finally:
                recorder.quiet -= 1
                log(CLOSE)
                log(clock())

        return node_apply

    return wrap


def _timed_range(recorder: Recorder, key: tuple) -> Callable[[Callable], Callable]:
    """Time a whole function (the backward pass) as one range whose primitives are quiet."""

    def wrap(function: Callable) -> Callable:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != recorder.thread:
                return function(*args, **kwargs)
            recorder.open(key)
            recorder.quiet += 1
            try:
                return function(*args, **kwargs)
            finally:
                recorder.quiet -= 1
                recorder.close()

        return timed

    return wrap


def _timed_optimizer(recorder: Recorder, method: str) -> Callable[[Callable], Callable]:
    def wrap(call: Callable) -> Callable:
        @functools.wraps(call)
        def optimizer_call(self: Optimizer, *args: Any, **kwargs: Any) -> Any:
            # A subclass's step calling super().step(), or zero_grad inside a step: one range.
            if recorder.quiet or threading.get_ident() != recorder.thread:
                return call(self, *args, **kwargs)
            kind = type(self).__name__
            recorder.open((f"Optimizer.{method}#{kind}.{method}", OPTIMIZER))
            recorder.quiet += 1
            try:
                return call(self, *args, **kwargs)
            finally:
                recorder.quiet -= 1
                recorder.close()

        return optimizer_call

    return wrap


def _optimizer_classes() -> list[type]:
    """Optimizer and every subclass alive now (user-defined ones included)."""
    found, todo = [], [Optimizer]
    while todo:
        cls = todo.pop()
        if cls not in found:
            found.append(cls)
            todo.extend(cls.__subclasses__())
    return found


@contextlib.contextmanager
def instrumented(recorder: Recorder) -> Iterator[None]:
    """Install every timing wrapper for the block; all are removed when it exits or raises."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(patched(Primitive, "__call__", _timed_primitive(recorder)))
        stack.enter_context(patched(Node, "apply", _timed_node(recorder)))
        stack.enter_context(patched(autograd_functional, "run_backward",
                                    _timed_range(recorder, (ENGINE, BACKWARD))))
        for cls in _optimizer_classes():
            for method in ("step", "zero_grad"):
                if method in cls.__dict__:
                    stack.enter_context(patched(cls, method, _timed_optimizer(recorder, method)))
        yield
