"""Whether a step is being traced, for the engine's few places that tell the tracer something.

The engine's hot paths never look here. Reading a tensor's value in Python, drawing random
numbers, writing a tensor in place and starting a backward pass do, with one attribute test:
while a step is traced, each tells the tracer, which then knows whether the step can be
replayed (see ``backprop.capture``).
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable


class _Tracing:
    """The tracer recording a step (None: none), and the thread it records."""

    __slots__ = ("tracer", "thread")

    def __init__(self) -> None:
        self.tracer: Any = None
        self.thread = 0


TRACING = _Tracing()


def refuse(reason: str) -> None:
    """Tell the tracer (if one is recording in this thread) that the step cannot be replayed,
    and why: ``reason`` completes "the step ...", e.g. "reads a tensor's value (item)"."""
    tracer = TRACING.tracer
    if tracer is not None and TRACING.thread == threading.get_ident():
        tracer.refuse(reason)


def replayable(fn: Callable) -> Callable:
    """Mark ``fn`` as computing in Python, from tensors' values, what an op is then given (a
    loss's plan of its class targets, say). While a step is traced its calls are written down,
    and each replay makes them again on that step's tensors; other Python work is not replayed.

    >>> @replayable
    ... def double(x):
    ...     return 2 * x
    >>> double(3)
    6
    """

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        tracer = TRACING.tracer
        if tracer is None or TRACING.thread != threading.get_ident():
            return fn(*args, **kwargs)
        return tracer.call(fn, args, kwargs)

    return call
