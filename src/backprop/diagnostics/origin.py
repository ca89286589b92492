"""Where each recorded op came from: the user's source line and the module that was running.

Inside ``record_origins()`` every node the forward pass records gets an ``Origin``, kept in
``ORIGINS`` (weakly, so it dies with the graph). Anomaly detection, the memory ledger and the
graph picture read it to name ``model.layers.3.attn`` and ``train.py:42`` instead of an op alone.
The recording is an engine observer (``OriginRecorder``) of module calls and ops, registered in
the calling thread for the length of the block; outside it nothing is recorded.

>>> import backprop as bp
>>> model = bp.nn.Sequential(bp.nn.Linear(2, 2))
>>> with record_origins():
...     out = model(bp.ones(1, 2))
>>> ORIGINS[out.grad_fn].module
'model.0'
"""

from __future__ import annotations

import contextlib
import os
import sys
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from ..autograd import observers
from ..autograd.graph import Node

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The library's machinery: frames there are never "the user's line". Programs built on it
# (train/, apps/, the command) are where a user's forward pass is written, so they count.
_LIBRARY_PARTS = tuple(os.path.join(_PACKAGE_DIR, part) for part in (
    "autograd", "ops", "nn", "optim", "utils", "diagnostics", "profiler", "backends",
    "tensor.py", "tensor_methods.py", "creation.py", "models"))


class Origin:
    """The module path (``''`` outside any module) and the first caller outside the library."""

    __slots__ = ("module", "filename", "lineno", "function")

    def __init__(self, module: str, filename: str, lineno: int, function: str) -> None:
        self.module = module
        self.filename = filename
        self.lineno = lineno
        self.function = function

    def where(self) -> str:
        """``file.py:42 in step`` for messages."""
        return f"{self.filename}:{self.lineno} in {self.function}"

    def __repr__(self) -> str:
        inside = f" ({self.module})" if self.module else ""
        return f"<Origin {self.where()}{inside}>"


ORIGINS: weakref.WeakKeyDictionary[Node, Origin] = weakref.WeakKeyDictionary()


class OriginRecorder(observers.Observer):
    """The engine observer of ``record_origins``: it keeps the path of the module being called
    and tags each node an op records with an ``Origin``.

    Recorders may overlap (anomaly detection is one too); the outermost one of the thread names
    the modules, having seen the most of the calls that are running.
    """

    def __init__(self, name: str = "model") -> None:
        self.name = name
        self.stack: list[tuple[Any, str]] = []  # (module, its dotted path), innermost last
        # id(module) -> {id(descendant): its relative path}, filled once per running parent.
        self.descendants: dict[int, dict[int, str]] = {}

    def module(self, module: Any, args: tuple, kwargs: dict, proceed: Callable[[], Any]) -> Any:
        self.stack.append((module, self._child_path(module)))
        try:
            return proceed()
        finally:
            self.stack.pop()

    def op(self, op: Any, args: tuple, params: dict, proceed: Callable[[], Any]) -> Any:
        result = proceed()
        tag(result)
        return result

    def _child_path(self, module: Any) -> str:
        """The path of ``module`` below the running module that contains it (``parent.layers.0``,
        also for layers called in a loop over a ModuleList), else its class name."""
        if not self.stack:
            return self.name
        parent, parent_path = self.stack[-1]
        names = self.descendants.get(id(parent))
        if names is None:  # once per parent and block: named_modules walks the whole subtree
            names = {id(m): sub for sub, m in parent.named_modules() if sub}
            self.descendants[id(parent)] = names
        sub = names.get(id(module))
        return f"{parent_path}.{sub}" if sub is not None else type(module).__name__


def current_module() -> str:
    """The dotted path of the innermost module being called in this thread, as the outermost
    ``OriginRecorder`` saw it, or ``''``."""
    for observer in observers.active():
        if isinstance(observer, OriginRecorder):
            return observer.stack[-1][1] if observer.stack else ""
    return ""


def user_frame() -> tuple[str, int, str]:
    """``(filename, lineno, function)`` of the innermost caller outside the library's machinery
    (the user's script, or a program of the package such as the training loop)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY_PARTS):
        frame = frame.f_back
    if frame is None:
        return ("<unknown>", 0, "<unknown>")
    return (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


def tag(result: Any) -> None:
    """Give the nodes behind an op's result (a tensor or a tuple) an ``Origin``, unless they
    have one: the first recorder to see the result tags it."""
    for item in result if type(result) is tuple else (result,):
        node = getattr(item, "grad_fn", None)
        if type(node) is Node and node not in ORIGINS:
            ORIGINS[node] = Origin(current_module(), *user_frame())


@contextlib.contextmanager
def record_origins(name: str = "model") -> Iterator[None]:
    """Record an ``Origin`` for every node created in this thread inside the block (by
    primitives and custom ``Function``s).

    The outermost module called is named ``name``; its children by their attribute names
    (``model.layers.0.attn``), as ``named_modules()`` names them. Blocks may overlap; a node
    is tagged once, with the module path the outermost open block sees.

    >>> import backprop as bp
    >>> net = bp.nn.Sequential(bp.nn.Linear(2, 2), bp.nn.Tanh())
    >>> with record_origins("net"):
    ...     out = net(bp.ones(1, 2))
    >>> ORIGINS[out.grad_fn].module, ORIGINS[out.grad_fn.next_functions[0][0]].module
    ('net.1', 'net.0')
    """
    with observers.observing(OriginRecorder(name)):
        yield
