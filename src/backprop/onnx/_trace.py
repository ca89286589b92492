"""Tracing: run the model once under an engine observer and keep what it did.

Every primitive called at the top level (not from inside another op) becomes an ``OpEvent``;
a module with a dedicated ONNX operator (the recurrent layers) becomes one ``ModuleEvent`` and
the ops it runs inside are not kept. Events are appended as calls return, so each event's
inputs were produced by earlier events (or are graph inputs, parameters or constants).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..autograd.observers import Observer, observing


@dataclass
class OpEvent:
    """A primitive's call: its name, arguments, parameters and result."""

    name: str
    args: tuple
    params: dict
    out: Any
    where: str  # the qualified name of the innermost module it ran in ("" at the top)


@dataclass
class ModuleEvent:
    """A call of a module converted as a whole."""

    module: Any
    args: tuple
    kwargs: dict
    out: Any
    where: str


class Recorder(Observer):
    """Keeps the top-level op calls, and whole calls of the modules ``captured`` accepts."""

    def __init__(self, names: dict[int, str], captured: Callable[[Any], bool]) -> None:
        self.names = names
        self.captured = captured
        self.events: list[OpEvent | ModuleEvent] = []
        self.path: list[str] = []
        self.inside = 0  # > 0 inside an op's call or a captured module: not recorded

    def op(self, op: Any, args: tuple, params: dict, proceed: Callable[[], Any]) -> Any:
        if self.inside:
            return proceed()
        self.inside += 1
        try:
            out = proceed()
        finally:
            self.inside -= 1
        name = getattr(op, "name", None) or getattr(op, "__name__", type(op).__name__)
        self.events.append(OpEvent(name, args, dict(params), out, self.where()))
        return out

    def module(self, module: Any, args: tuple, kwargs: dict, proceed: Callable[[], Any]) -> Any:
        if self.inside:
            return proceed()
        self.path.append(self.names.get(id(module), type(module).__name__))
        try:
            if not self.captured(module):
                return proceed()
            self.inside += 1
            try:
                out = proceed()
            finally:
                self.inside -= 1
            self.events.append(ModuleEvent(module, args, dict(kwargs), out, self.where()))
            return out
        finally:
            self.path.pop()

    def where(self) -> str:
        return self.path[-1] if self.path else ""


def trace(model: Any, args: tuple, kwargs: dict, names: dict[int, str],
          captured: Callable[[Any], bool]) -> tuple[list, Any]:
    """Run ``model(*args, **kwargs)`` without gradients under a recorder: (events, output)."""
    from ..autograd.grad_mode import no_grad

    recorder = Recorder(names, captured)
    with no_grad(), observing(recorder):
        out = model(*args, **kwargs)
    return recorder.events, out
