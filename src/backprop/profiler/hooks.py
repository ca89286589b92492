"""Where the profiler times the engine: an engine observer (``Timer``), registered in the
profiling thread for the length of a ``profile`` block only, so an unprofiled program runs the
engine on its direct path. Its events:

- ``op``: a primitive's forward called with at least one Tensor, outside backward and optimizer
  steps (a rule calling primitives on raw arrays is part of its node's time).
- ``node``: one node's rule in backward, named as the node is (``LinearBackward``).
- ``backward``: the whole backward pass (``backward()`` and ``autograd.grad``); its self time
  is the engine's own work (topological order, accumulating gradients, hooks), reported as
  ``autograd::engine``.
- ``optimizer``: ``step`` and ``zero_grad`` of every optimizer, ``Optimizer.step#SGD.step``
  as PyTorch names it.

Each event only appends ``key, time`` to the recorder's log on entry and ``CLOSE, time`` on
exit (see ``recorder``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..autograd.graph import Node
from ..autograd.observers import Observer
from ..ops.primitive import Primitive
from ..optim.optimizer import Optimizer
from .recorder import BACKWARD, CLOSE, FORWARD, OPTIMIZER, Recorder

ENGINE = "autograd::engine"


def input_shapes(args: tuple) -> tuple:
    """Each argument's shape (``()`` for a number, a dim or a shape tuple), as
    ``record_shapes`` groups them; a node's saved inputs and ``Meta`` have shapes too."""
    return tuple(tuple(a.shape) if hasattr(a, "shape") else () for a in args)


class Timer(Observer):
    """Times the engine's events into one profile's recorder."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def op(self, op: Any, args: tuple, params: dict, proceed: Callable[[], Any]) -> Any:
        recorder = self.recorder
        # A custom Function is not a row of its own: the primitives its forward calls are.
        if recorder.quiet or type(op) is not Primitive:
            return proceed()
        log = recorder.log.append
        log((op.name, FORWARD, input_shapes(args)) if recorder.record_shapes
            else (op.name, FORWARD))
        log(time.perf_counter())
        try:
            return proceed()
        finally:
            log(CLOSE)
            log(time.perf_counter())

    def node(self, node: Node, grad: Any, create_graph: bool, proceed: Callable[[], Any]) -> Any:
        name = node.name()
        shapes = (input_shapes(node.inputs),) if self.recorder.record_shapes else ()
        return self._range((name, BACKWARD, *shapes), proceed)

    def backward(self, proceed: Callable[[], Any]) -> Any:
        return self._range((ENGINE, BACKWARD), proceed)

    def optimizer(self, optimizer: Optimizer, method: str, proceed: Callable[[], Any]) -> Any:
        if self.recorder.quiet:  # zero_grad called by a step: part of the step
            return proceed()
        kind = type(optimizer).__name__
        return self._range((f"Optimizer.{method}#{kind}.{method}", OPTIMIZER), proceed)

    def _range(self, key: tuple, proceed: Callable[[], Any]) -> Any:
        """Time ``proceed`` as one range whose primitives are quiet (part of it)."""
        recorder = self.recorder
        recorder.open(key)
        recorder.quiet += 1
        try:
            return proceed()
        finally:
            recorder.quiet -= 1
            recorder.close()
