"""Tracing: run the model once under an engine observer and keep what it did.

Every primitive called at the top level (not from inside another op) becomes an ``OpEvent``;
a module with a dedicated ONNX operator (the recurrent layers) becomes one ``ModuleEvent`` and
the ops it runs inside are not kept. Events are appended as calls return, so each event's
inputs were produced by earlier events (or are graph inputs, parameters or constants).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..autograd.observers import Observer, observing
from ..tensor import Tensor


@dataclass
class OpEvent:
    """A primitive's call: its name, arguments, parameters and result."""

    name: str
    args: tuple
    params: dict
    out: Any
    where: str  # the qualified name of the innermost module it ran in ("" at the top)
    # An in-place op (``relu_``, ``x += y``) computes on a fresh tensor sharing the storage of
    # ``writes[1]`` (``writes[0]``), then writes its result into that storage.
    writes: tuple | None = None
    # Fresh tensors sharing an earlier tensor's storage (``x.detach()``), with that tensor.
    aliases: list = field(default_factory=list)


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

    def __init__(self, names: dict[int, str], captured: Callable[[Any], bool],
                 inputs: list[Tensor]) -> None:
        self.names = names
        self.captured = captured
        self.events: list[OpEvent | ModuleEvent] = []
        self.path: list[str] = []
        self.inside = 0  # > 0 inside an op's call or a captured module: not recorded
        self.seen: dict[int, Tensor] = {}  # tensors met so far, by id
        self.storage: dict[int, Tensor] = {}  # the same, by the id of their array
        self.pending: list[tuple] = []  # (event, fresh tensor, its storage's owner, version)
        for tensor in inputs:
            self._meet(tensor)

    def _meet(self, tensor: Tensor) -> None:
        self.seen[id(tensor)] = tensor
        # The first tensor met with an array owns it: in-place ops' fresh tensors share it.
        self.storage.setdefault(id(tensor._data), tensor)

    def settle(self) -> None:
        """Mark the ops whose fresh input's storage was written since (in-place ops)."""
        for event, fresh, owner, version in self.pending:
            counter = owner._version
            if counter is not None and (version is None or counter.value != version):
                event.writes = (fresh, owner)
            else:
                event.aliases.append((fresh, owner))
        self.pending = []

    def op(self, op: Any, args: tuple, params: dict, proceed: Callable[[], Any]) -> Any:
        if self.inside:
            return proceed()
        self.settle()
        self.inside += 1
        try:
            out = proceed()
        finally:
            self.inside -= 1
        name = str(getattr(op, "name", None) or getattr(op, "__name__", type(op).__name__))
        event = OpEvent(name, args, dict(params), out, self.where())
        self.events.append(event)
        for arg in args:
            if isinstance(arg, Tensor) and id(arg) not in self.seen:
                owner = self.storage.get(id(arg._data))
                if owner is not None and owner is not arg:
                    counter = owner._version
                    self.pending.append((event, arg, owner,
                                         None if counter is None else counter.value))
            if isinstance(arg, Tensor):
                self._meet(arg)
        for result in out if isinstance(out, tuple) else (out,):
            if isinstance(result, Tensor):
                self._meet(result)
        return out

    def module(self, module: Any, args: tuple, kwargs: dict, proceed: Callable[[], Any]) -> Any:
        if self.inside:
            return proceed()
        self.settle()
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
            for result in _tensors(out):
                self._meet(result)
            return out
        finally:
            self.path.pop()

    def where(self) -> str:
        return self.path[-1] if self.path else ""


def _tensors(value: Any) -> list[Tensor]:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    return []


def trace(model: Any, args: tuple, kwargs: dict, names: dict[int, str],
          captured: Callable[[Any], bool]) -> tuple[list, Any]:
    """Run ``model(*args, **kwargs)`` without gradients under a recorder: (events, output)."""
    from ..autograd.grad_mode import no_grad

    recorder = Recorder(names, captured, _tensors(args) + _tensors(list(kwargs.values())))
    with no_grad(), observing(recorder):
        out = model(*args, **kwargs)
    recorder.settle()
    return recorder.events, out
