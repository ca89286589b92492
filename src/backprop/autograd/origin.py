"""Where each recorded op came from: the user's source line and the module that was running.

Inside ``record_origins()`` every node the forward pass records gets an ``Origin``, kept in
``ORIGINS`` (weakly, so it dies with the graph). Anomaly detection, the memory ledger and the
graph picture read it to name ``model.layers.3.attn`` and ``train.py:42`` instead of an op alone.
Outside the block nothing is recorded and nothing is slower.

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
from collections.abc import Iterator
from typing import Any

from .graph import Node
from .instrument import patched

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

_module_stack: list[tuple[Any, str]] = []  # (module, its dotted path), innermost last


def current_module() -> str:
    """The dotted path of the innermost module being called, or ``''``."""
    return _module_stack[-1][1] if _module_stack else ""


def user_frame() -> tuple[str, int, str]:
    """``(filename, lineno, function)`` of the innermost caller outside the library's machinery
    (the user's script, or a program of the package such as the training loop)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY_PARTS):
        frame = frame.f_back
    if frame is None:
        return ("<unknown>", 0, "<unknown>")
    return (frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)


def _tag(result: Any) -> None:
    node = getattr(result, "grad_fn", None)
    if type(node) is Node and node not in ORIGINS:
        origin = ORIGINS[node] = Origin(current_module(), *user_frame())
        if hasattr(node.op, "function_op"):  # one output of a custom Function: name the Function
            ORIGINS.setdefault(node.edges[0], origin)


def _tag_all(result: Any) -> None:
    if type(result) is tuple:
        for item in result:
            _tag(item)
    else:
        _tag(result)


_depth = 0  # open record_origins blocks; only the outermost one patches


def recording() -> bool:
    """Whether a ``record_origins`` block is open."""
    return _depth > 0


def _child_path(module: Any, name: str, descendants: dict[int, dict[int, str]]) -> str:
    """The path of ``module`` below the running module that contains it (``parent.layers.0``,
    also for layers called in a loop over a ModuleList), else its class name."""
    if not _module_stack:
        return name
    parent, parent_path = _module_stack[-1]
    names = descendants.get(id(parent))
    if names is None:  # once per parent and block: named_modules walks the whole subtree
        names = {id(m): sub for sub, m in parent.named_modules() if sub}
        descendants[id(parent)] = names
    sub = names.get(id(module))
    return f"{parent_path}.{sub}" if sub is not None else type(module).__name__


@contextlib.contextmanager
def record_origins(name: str = "model") -> Iterator[None]:
    """Record an ``Origin`` for every node created inside the block (by primitives and custom
    ``Function``s). Blocks nest: an inner one records nothing more.

    The outermost module called is named ``name``; its children by their attribute names
    (``model.layers.0.attn``), as ``named_modules()`` names them.
    """
    from ..nn.module import Module
    from ..ops.primitive import Primitive
    from .function import Function

    descendants: dict[int, dict[int, str]] = {}

    def wrap_module_call(call):
        def module_call(self, *args, **kwargs):
            _module_stack.append((self, _child_path(self, name, descendants)))
            try:
                return call(self, *args, **kwargs)
            finally:
                _module_stack.pop()
        return module_call

    def wrap_primitive_call(call):
        def primitive_call(self, *args, **params):
            result = call(self, *args, **params)
            _tag_all(result)
            return result
        return primitive_call

    def wrap_function_apply(apply):
        func = apply.__func__

        def function_apply(cls, *args, **kwargs):
            result = func(cls, *args, **kwargs)
            _tag_all(result)
            return result
        return classmethod(function_apply)

    global _depth
    if _depth:  # nested: the outer block already records, with its module paths
        yield
        return
    _depth += 1
    try:
        with patched(Module, "__call__", wrap_module_call), \
                patched(Primitive, "__call__", wrap_primitive_call), \
                patched(Function, "apply", wrap_function_apply):
            yield
    finally:
        _depth -= 1
