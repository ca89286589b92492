"""The context every process starts from: fork wherever the platform has it, whichever start
method was set (why: see ``backprop.multiprocessing``); the start method as recorded.

>>> get_context("spawn") is get_context("fork") if _HAS_FORK else True
True
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
from multiprocessing import get_all_start_methods
from typing import Any

__all__ = ["Process", "get_context", "get_start_method", "set_start_method"]

_HAS_FORK = "fork" in multiprocessing.get_all_start_methods()
# Where fork exists every process starts from it; elsewhere the module's default context,
# which follows set_start_method.
_CONTEXT: Any = multiprocessing.get_context("fork") if _HAS_FORK else multiprocessing

_requested: str | None = None  # what set_start_method was given (get_start_method's answer)


class Process(multiprocessing.process.BaseProcess):
    """``multiprocessing.Process`` that forks where it can (whatever start method was set), so
    the child writes into the parent's shared tensors. Subclass it and override ``run``, or
    give ``target`` and ``args``, as with Python's.

    >>> p = Process(target=divmod, args=(7, 2))
    >>> p.start(); p.join(); p.exitcode
    0
    """

    _start_method = None  # read by BaseProcess._bootstrap (as on Python's own Process)

    @staticmethod
    def _Popen(process_obj: Any) -> Any:  # multiprocessing's hook for starting
        if _HAS_FORK:
            return multiprocessing.get_context("fork").Process._Popen(process_obj)
        _refuse_shared(process_obj)
        return multiprocessing.Process._Popen(process_obj)  # type: ignore[attr-defined]


def _refuse_shared(process: Any) -> None:
    """Without fork a child gets copies: a shared tensor in its arguments would silently stop
    being shared, so say so before starting it."""
    from ..nn.module import Module  # only needed without fork
    from ..tensor import Tensor

    pending = [*getattr(process, "_args", ()), *getattr(process, "_kwargs", {}).values()]
    seen = 0
    while pending and seen < 10_000:
        value = pending.pop()
        seen += 1
        if isinstance(value, Tensor) and value.device.type == "cpu" and value.is_shared():
            shared = True
        elif isinstance(value, Module):
            shared = any(t.device.type == "cpu" and t.is_shared()
                         for t in (*value.parameters(), *value.buffers()))
        else:
            if isinstance(value, (list, tuple, set, frozenset)):
                pending.extend(value)
            elif isinstance(value, dict):
                pending.extend(value.values())
            continue
        if shared:
            raise RuntimeError(
                f"Process.start: this platform cannot fork, and a {get_start_method()!r} child "
                f"would get a copy of the shared {type(value).__name__} in its arguments, not "
                "the shared memory; Hogwild training needs fork (Linux or macOS)")


def get_context(method: str | None = None) -> Any:
    """The context processes start from: the fork context wherever fork exists (see the module
    docstring), whichever ``method`` is named; an unknown method raises ``ValueError``.

    >>> get_context("spawn").Process is not None
    True
    """
    if method is not None and method not in get_all_start_methods():
        raise ValueError(f"get_context: cannot find context for {method!r}; the start methods "
                         f"here are {get_all_start_methods()}")
    if _HAS_FORK:
        return _CONTEXT
    return multiprocessing.get_context(method)


def set_start_method(method: str | None, force: bool = False) -> None:
    """Record the start method (processes still fork where fork exists); a second call without
    ``force=True`` raises, as in Python.

    >>> set_start_method("spawn", force=True); get_start_method()
    'spawn'
    >>> set_start_method(None, force=True)  # back to unset
    """
    global _requested
    if method is not None and method not in get_all_start_methods():
        raise ValueError(f"set_start_method: cannot find context for {method!r}; the start "
                         f"methods here are {get_all_start_methods()}")
    if _requested is not None and not force:
        raise RuntimeError(f"set_start_method: context has already been set (to "
                           f"{_requested!r}); pass force=True to change it")
    _requested = method
    if not _HAS_FORK:
        multiprocessing.set_start_method(method, force=True)


def get_start_method(allow_none: bool = False) -> str | None:
    """The start method set (None if none was and ``allow_none``; else it is fixed now, to
    ``"fork"`` where fork exists).

    >>> get_start_method() in get_all_start_methods()
    True
    """
    global _requested
    if _requested is None and not allow_none:
        _requested = "fork" if _HAS_FORK else multiprocessing.get_start_method()
    return _requested
