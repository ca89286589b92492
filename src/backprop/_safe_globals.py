"""Which classes and functions a checkpoint may name: backprop's own, and those the user allows.

A whole-module checkpoint names each module's class, and any function or class stored as an
attribute (``self.act = F.relu``), by a string. ``load`` turns such a name back into an object
only by looking it up in two tables built from live objects, never by importing anything the
file names: backprop's own (every ``nn.Module`` subclass defined in backprop, and the public
functions and classes of a fixed list of our namespaces) and the user's allowlist, filled as
``torch.serialization`` fills it (``add_safe_globals``, ``safe_globals``). Everything else is
refused by name, with the line that would allow it.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any, Union

from ._safetensors_header import quote

__all__ = ["add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals"]

SafeGlobal = Union[Callable, "tuple[Callable, str]"]

# The namespaces whose public functions and classes a checkpoint may name without an allowlist,
# by the path they are reached by here ("backprop.nn.functional.relu"). A fixed list, imported
# by us, never a name read from a file.
_OUR_NAMESPACES = ("backprop", "backprop.nn", "backprop.nn.functional", "backprop.nn.init",
                   "backprop.optim", "backprop.special", "backprop.linalg", "backprop.fft")

_ALLOWED: list[SafeGlobal] = []
_PLAIN_NAME = re.compile(r"[A-Za-z_][\w.<>]{0,150}")  # module.qualname, shown as it is
_SHOWN = 5  # names named in one refusal  # add_safe_globals and open safe_globals blocks, in order


def qualified_name(obj: Any) -> str:
    """``module.qualname``, the name a class or function is saved under (as PyTorch does)."""
    return f"{getattr(obj, '__module__', None)}.{getattr(obj, '__qualname__', '?')}"


def _checked(entries: Iterable[Any], op: str) -> list[SafeGlobal]:
    if isinstance(entries, (str, bytes)) or not hasattr(entries, "__iter__"):
        raise TypeError(f"{op}: safe_globals must be a list of classes or functions (or "
                        f"(class, 'module.Name') pairs), got {type(entries).__name__}")
    checked = []
    for entry in entries:
        valid = (len(entry) == 2 and callable(entry[0]) and isinstance(entry[1], str)
                 if isinstance(entry, tuple) else callable(entry))
        if not valid:
            raise TypeError(f"{op}: each entry must be a class or function, or a (class, "
                            f"'module.Name') pair, got {entry!r:.80}")
        checked.append(entry)
    return checked


def add_safe_globals(safe_globals: list[SafeGlobal]) -> None:
    """Allow ``load`` to rebuild these classes (and return these functions) from a checkpoint,
    matched by ``module.qualname`` as saved, or by the name given in a ``(class, name)`` pair.

    >>> import backprop as bp
    >>> class Net(bp.nn.Module):
    ...     pass
    >>> bp.serialization.add_safe_globals([Net])
    >>> Net in bp.serialization.get_safe_globals()
    True
    >>> bp.serialization.clear_safe_globals()
    """
    for entry in _checked(safe_globals, "add_safe_globals"):
        if entry not in _ALLOWED:
            _ALLOWED.append(entry)


def get_safe_globals() -> list[SafeGlobal]:
    """The classes and functions the user has allowed (backprop's own are always allowed).

    >>> import backprop as bp
    >>> bp.serialization.get_safe_globals()
    []
    """
    return list(_ALLOWED)


def clear_safe_globals() -> None:
    """Forget every class and function allowed by ``add_safe_globals``.

    >>> import backprop as bp
    >>> bp.serialization.add_safe_globals([print]); bp.serialization.clear_safe_globals()
    >>> bp.serialization.get_safe_globals()
    []
    """
    _ALLOWED.clear()


class safe_globals:  # PyTorch's name, lower case for a context manager
    """Allow these classes and functions for the ``load`` calls inside the ``with`` block.

    >>> import backprop as bp
    >>> class Net(bp.nn.Module):
    ...     pass
    >>> with bp.serialization.safe_globals([Net]):
    ...     Net in bp.serialization.get_safe_globals()
    True
    >>> Net in bp.serialization.get_safe_globals()
    False
    """

    def __init__(self, safe_globals: list[SafeGlobal]) -> None:
        self.safe_globals = _checked(safe_globals, "safe_globals")
        self._added: list[SafeGlobal] = []

    def __enter__(self) -> None:
        # Only what was not allowed before: leaving the block keeps add_safe_globals' entries.
        self._added = [entry for entry in self.safe_globals if entry not in _ALLOWED]
        _ALLOWED.extend(self._added)

    def __exit__(self, *exc: object) -> None:
        for entry in self._added:
            if entry in _ALLOWED:
                _ALLOWED.remove(entry)
        self._added = []


# -- the tables -----------------------------------------------------------------------------------


def our_module_classes() -> dict[str, type]:
    """Every ``nn.Module`` subclass defined in backprop, by ``module.qualname``."""
    from .nn.module import Module  # nn sits above serialization

    found: dict[str, type] = {}
    stack = [Module]
    while stack:
        cls = stack.pop()
        if ((cls.__module__ == "backprop" or cls.__module__.startswith("backprop."))
                and _reachable(cls)):
            found.setdefault(qualified_name(cls), cls)
        stack.extend(cls.__subclasses__())
    return found


def our_dataclasses() -> dict[str, type]:
    """Every dataclass defined in a backprop module imported so far (``GPTConfig``), by
    ``module.qualname``: configurations that models keep as attributes."""
    found: dict[str, type] = {}
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "backprop" or name.startswith("backprop.")):
            continue
        for value in list(vars(module).values()):
            if (isinstance(value, type) and dataclasses.is_dataclass(value)
                    and value.__module__ == name):
                found.setdefault(qualified_name(value), value)
    return found


def our_public_names() -> dict[str, Any]:
    """backprop's public functions and classes, by the path they are reached by."""
    names: dict[str, Any] = {}
    for namespace in _OUR_NAMESPACES:
        module = sys.modules.get(namespace)
        for attribute in sorted(vars(module)) if module is not None else ():
            value = getattr(module, attribute)
            if (not attribute.startswith("_") and _is_named_object(value)
                    and str(getattr(value, "__module__", "")).startswith("backprop")):
                names[f"{namespace}.{attribute}"] = value
    return names


def _is_named_object(value: Any) -> bool:
    return inspect.isclass(value) or inspect.isfunction(value) or inspect.isbuiltin(value)


def name_to_save(value: Any) -> str | None:
    """The name a function or class attribute is saved under, or None when it has none that a
    later ``load`` could find (a lambda, a function made inside another, a bound method)."""
    if not _is_named_object(value):
        return None
    if inspect.isclass(value) and value in our_module_classes().values():
        return qualified_name(value)
    for name, ours in our_public_names().items():
        if ours is value:
            return name
    if inspect.isbuiltin(value):  # Python's own (len, math.sqrt): not model code to restore
        return None
    return qualified_name(value) if _reachable(value) else None


def _reachable(value: Any) -> bool:
    """Whether ``module.qualname`` leads to ``value`` in the modules already imported (a
    lambda, a function made inside another, a class made in a doctest: no name does)."""
    qualname = getattr(value, "__qualname__", "")
    if "<" in qualname:  # <lambda>, <locals>
        return False
    found: Any = sys.modules.get(str(getattr(value, "__module__", None)))
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found is value


class Resolver:
    """Turns names read from a file into objects, only through the two tables."""

    def __init__(self) -> None:
        self.module_classes = our_module_classes()
        self.dataclasses = our_dataclasses()
        self.public = our_public_names()
        self.allowed: dict[str, Any] = {}
        self._models_imported = False
        for entry in _ALLOWED:
            obj, name = entry if isinstance(entry, tuple) else (entry, qualified_name(entry))
            self.allowed[name] = obj

    def find(self, name: str) -> Any:
        """The object ``name`` stands for, or None when neither table has it."""
        for table in (self.module_classes, self.dataclasses, self.public, self.allowed):
            if name in table:
                return table[name]
        if name.startswith("backprop.") and not self._models_imported:
            # A model class of ours that this process has not imported yet: import our own
            # model packages (a fixed list, never a name from the file) and look again.
            _import_our_models()
            self._models_imported = True
            self.module_classes, self.dataclasses = our_module_classes(), our_dataclasses()
            return self.find(name)
        return None


def _import_our_models() -> None:
    from .models import gan, gpt, superres  # noqa: F401 - imported for their classes
    from .train import models  # noqa: F401

    try:
        from .vision import models as vision_models  # noqa: F401
    except ImportError:  # torchvision's models, where this backprop has them
        pass


def refusal(names: list[str]) -> str:
    """Why these names were refused, and the line that allows them (one line, however many or
    strange the names a file holds)."""
    shown = [name if _PLAIN_NAME.fullmatch(name) else quote(name) for name in names[:_SHOWN]]
    more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    classes = ", ".join(name.rsplit(".", 1)[-1] for name in names[:_SHOWN]
                        if _PLAIN_NAME.fullmatch(name))
    return (f"names {', '.join(shown)}{more}, which backprop does not rebuild unless you allow "
            f"{'it' if len(names) == 1 else 'them'} (loading never imports or runs anything a "
            f"file names). If you trust this checkpoint, allow the class: "
            f"`with torch.serialization.safe_globals([{classes}]): torch.load(...)` or "
            f"`torch.serialization.add_safe_globals([{classes}])`")
