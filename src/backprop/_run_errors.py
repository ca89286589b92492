"""Which PyTorch name a failed program asked backprop for, and where (for ``backprop run``).

A program ported to backprop fails on a name we lack in one of a few ways: importing a module
path we do not have, reading an attribute of one of our modules, classes or tensors, or calling
one of our functions with a keyword it does not take. Each is told apart from a bug in the
program by looking at the exception and at the frame of the program's own code that raised it.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import inspect
import linecache
import os
import re
import sys
from collections.abc import Iterator
from functools import lru_cache
from types import (
    BuiltinFunctionType,
    FrameType,
    FunctionType,
    MethodType,
    ModuleType,
    TracebackType,
)
from typing import Any

from ._torch_modules import NotServed, served_name, torch_name

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
# The runner's own frames: run.py and the standard library's runpy (frozen in Python 3.11+).
_RUNNER = {os.path.join(_PACKAGE, "run.py"),
           os.path.join(os.path.dirname(os.__file__), "runpy.py")}
_UNEXPECTED_KEYWORD = re.compile(r"unexpected keyword argument '(\w+)'")
_CANNOT_IMPORT = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")


def _is_ours(filename: str) -> bool:
    return os.path.abspath(filename).startswith(_PACKAGE)


def is_machinery(filename: str) -> bool:
    """Frames of the import system and of the runner itself, which no program wrote."""
    return filename.startswith("<frozen") or os.path.abspath(filename) in _RUNNER


def _entries(tb: TracebackType | None) -> Iterator[TracebackType]:
    while tb is not None:
        if not is_machinery(tb.tb_frame.f_code.co_filename):
            yield tb
        tb = tb.tb_next


def user_frame(tb: TracebackType | None, innermost_only: bool = False) -> TracebackType | None:
    """The innermost traceback entry in the program's own code (outside our package); with
    ``innermost_only``, None unless the innermost entry of all is the program's."""
    entries = list(_entries(tb))
    if innermost_only:
        entries = entries[-1:]
    return next((e for e in reversed(entries) if not _is_ours(e.tb_frame.f_code.co_filename)),
                None)


def where(err: BaseException, script: str) -> str:
    """``FILE:LINE`` of the program's innermost frame (the script alone if it has none); a file
    under the current folder is shown relative to it."""
    entry = user_frame(err.__traceback__)
    if entry is None:
        return script
    filename = entry.tb_frame.f_code.co_filename
    if os.path.isabs(filename):
        relative = os.path.relpath(filename)
        filename = filename if relative.startswith("..") else relative
    return f"{filename}:{entry.tb_lineno}"


def explain(err: BaseException) -> str | None:
    """The one-line reason ``err`` ended the program when it asked for a name we lack (or have
    but did not import as PyTorch does), or None for any other error."""
    name = missing_name(err)
    if name is None:
        return None
    if isinstance(err, AttributeError) and isinstance(err.obj, ModuleType) and \
            _is_submodule(f"{err.obj.__name__}.{err.name}"):
        parent = torch_name(err.obj.__name__)
        module = f"{parent}.{err.name}"
        return (f"{module} is in backprop, but {parent} does not import it by itself yet as "
                f"PyTorch's does; `import {module}` first works around it")
    return f"{name} is not in backprop yet"


def _is_submodule(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def missing_name(err: BaseException) -> str | None:
    """PyTorch's spelling of the name ``err`` says the program asked us for and we lack, or
    None when ``err`` is something else (a bug in the program, bad input)."""
    if isinstance(err, NotServed):
        return err.torch_name
    if isinstance(err, ModuleNotFoundError) and err.name and served_name(err.name) is not None:
        return err.name  # `import torch.serialization.x`: the import system's "not a package"
    if isinstance(err, ImportError) and not isinstance(err, ModuleNotFoundError):
        match = _CANNOT_IMPORT.search(str(err))  # `from torch.nn import Xyz`
        if match and _is_our_module_name(match[2]) and user_frame(err.__traceback__, True):
            return f"{torch_name(match[2])}.{match[1]}"
    if isinstance(err, AttributeError) and err.name is not None and _asked_directly(err):
        owner = _public_owner(err.obj)
        if owner is not None:
            return f"{owner}.{err.name}"
    if isinstance(err, TypeError):
        match = _UNEXPECTED_KEYWORD.search(str(err))
        entry = user_frame(err.__traceback__)
        if match and entry is not None:
            callee = _called_name(entry, match[1])
            if callee is not None:
                return f"{callee}(..., {match[1]}=)"
    return None


def _is_our_module_name(name: str) -> bool:
    return name == "backprop" or name.startswith("backprop.")


_NAMED = (type, FunctionType, BuiltinFunctionType, MethodType)  # objects with their own module


def _is_ours_object(obj: Any) -> bool:
    """A module, class or function of ours, or an instance of one of our classes (not of a
    program's subclass: an attribute its own class lacks is the program's bug)."""
    if isinstance(obj, ModuleType):
        return _is_our_module_name(obj.__name__)
    owner = obj if isinstance(obj, _NAMED) else type(obj)
    return _is_our_module_name(getattr(owner, "__module__", None) or "")


def _asked_directly(err: AttributeError) -> bool:
    """The program read the attribute itself: between its frame and the error there is at most
    a ``__getattr__`` of ours (a module's lazy imports, ``Module.__getattr__``), not our own
    code failing deeper down."""
    entries = list(_entries(err.__traceback__))
    user = user_frame(err.__traceback__)
    if user is None:
        return False
    inner = entries[entries.index(user) + 1:]
    return all(e.tb_frame.f_code.co_name == "__getattr__" for e in inner)


def _public_owner(obj: Any) -> str | None:
    """PyTorch's spelling of the module or class ``obj`` is (or whose instance it is)."""
    if not _is_ours_object(obj):
        return None
    if isinstance(obj, ModuleType):
        return torch_name(obj.__name__)
    cls = obj if isinstance(obj, type) else type(obj)
    return _public_path(cls)


def _public_path(thing: Any) -> str:
    """The shortest of our module paths that exports ``thing`` (``backprop.nn.Linear`` rather
    than ``backprop.nn.modules.linear.Linear``), in PyTorch's spelling."""
    module, qualname = thing.__module__, thing.__qualname__
    parts = module.split(".")
    for end in range(1, len(parts) + 1):
        prefix = ".".join(parts[:end])
        candidate = sys.modules.get(prefix)
        if candidate is not None and getattr(candidate, qualname.split(".")[0], None) is \
                _first(thing):
            return f"{torch_name(prefix)}.{qualname}"
    return f"{torch_name(module)}.{qualname}"


def _first(thing: Any) -> Any:
    """The object a qualname's first part names (the class of a method, or the thing)."""
    qualname = thing.__qualname__
    if "." not in qualname:
        return thing
    return getattr(sys.modules.get(thing.__module__), qualname.split(".")[0], None)


# -- the call that got an unexpected keyword -----------------------------------------------------


def _called_name(entry: TracebackType, keyword: str) -> str | None:
    """PyTorch's spelling of the function of ours that the program's line called with
    ``keyword``, read from the line's source (never run); None if it is not ours."""
    frame = entry.tb_frame
    call = _the_call(frame.f_code.co_filename, entry.tb_lineno, keyword)
    chain = None if call is None else _dotted(call.func)
    objects = None if chain is None else _resolve(chain, frame)
    if chain is None or objects is None or not _is_ours_object(objects[-1]):
        return None
    callee = objects[-1]
    if not isinstance(callee, _NAMED):  # a module (layer) of ours called: its forward
        return f"{_public_path(type(callee))}.forward"
    if len(chain) == 1:  # a bare name: spelled as the program imported it
        return _imported_from(frame.f_code.co_filename, chain[0]) or _public_path(callee)
    owner = _public_owner(objects[-2])
    return f"{owner}.{chain[-1]}" if owner is not None else _public_path(callee)


def _the_call(filename: str, line: int, keyword: str) -> ast.Call | None:
    """The innermost call on ``line`` of ``filename`` that passes ``keyword``."""
    tree = _parsed(filename)
    if tree is None:
        return None
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and node.lineno <= line <= (node.end_lineno or node.lineno)
             and any(k.arg == keyword for k in node.keywords)]
    return min(calls, key=lambda n: ((n.end_lineno or n.lineno) - n.lineno, -n.col_offset),
               default=None)


@lru_cache(maxsize=32)
def _parsed(filename: str) -> ast.Module | None:
    source = "".join(linecache.getlines(filename))
    try:
        return ast.parse(source) if source else None
    except SyntaxError:
        return None


def _dotted(node: ast.expr) -> list[str] | None:
    """``F.relu`` -> ["F", "relu"]; None for anything but names and attributes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(parts)]


def _resolve(chain: list[str], frame: FrameType) -> list[Any] | None:
    """The objects a dotted name reaches from ``frame``, looked up statically (no property,
    ``__getattr__`` or other code of the program runs)."""
    scopes = (frame.f_locals, frame.f_globals, vars(builtins))
    root = next((scope[chain[0]] for scope in scopes if chain[0] in scope), _MISSING)
    if root is _MISSING:
        return None
    objects = [root]
    for name in chain[1:]:
        try:
            found = inspect.getattr_static(objects[-1], name)
        except AttributeError:
            return None
        if isinstance(found, (staticmethod, classmethod)):
            found = found.__func__
        objects.append(found)
    return objects


_MISSING = object()


def _imported_from(filename: str, name: str) -> str | None:
    """``torch.nn.functional.relu`` when the file says ``from torch.nn.functional import
    relu`` (or ``... import relu as name``)."""
    tree = _parsed(filename)
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return f"{node.module}.{alias.name}"
    return None


__all__ = ["explain", "is_machinery", "missing_name", "user_frame", "where"]
