"""Backend kernels, registered by op name: what the engine may run instead of an op's own forward.

An op's row (``ops.primitive``) holds its forward written with NumPy's functions, which also
runs on CuPy arrays (NumPy dispatches to the module of its arguments). A kernel is a faster
version for one array type, registered under the op's name: in-place NumPy code for NumPy
arrays (next to the op), Numba's compiled loops (``backends.numba``), CuPy's fused kernels
(``backends.cupy_device``). The engine tries the kernels registered for the type of the op's first
array argument, compiled ones first; a kernel that returns None declines (a shape, dtype or
layout it does not cover, or its backend switched off) and the next one, or the op's own
forward, runs. Ops never test which backend they are on.

Names that are not ops work the same way: the optimizers look up ``adam_update``.

>>> import numpy as np
>>> _ = register("demo_double", np.ndarray, lambda x: None if x.ndim else x * 2)
>>> len(kernels_for("demo_double", np.ones(()))), kernels_for("demo_double", 1.0)
(1, ())
"""

from __future__ import annotations

from typing import Any, Callable

Kernel = Callable[..., Any]

_TABLES: dict[str, dict[type, tuple[Kernel, ...]]] = {}
_COMPILED: set[Kernel] = set()
_WATCHERS: dict[str, list[Callable[[], None]]] = {}


def table(op: str) -> dict[type, tuple[Kernel, ...]]:
    """The kernels registered for ``op``, by array type, in the order they are tried. The same
    dict for the life of the process, so a primitive can keep it and see kernels registered
    after it was made."""
    return _TABLES.setdefault(op, {})


def register(op: str, array_type: type, kernel: Kernel, *, compiled: bool = False) -> Kernel:
    """Try ``kernel`` for ``op`` when its first array argument is an ``array_type``; compiled
    kernels are tried before the others. Returns ``kernel``."""
    if compiled:
        _COMPILED.add(kernel)
    entries = table(op)
    tried = [k for k in entries.get(array_type, ()) if k is not kernel] + [kernel]
    tried.sort(key=lambda k: k not in _COMPILED)  # stable: registration order otherwise
    entries[array_type] = tuple(tried)
    for changed in _WATCHERS.get(op, ()):
        changed()
    return kernel


def watch(op: str, changed: Callable[[], None]) -> None:
    """Call ``changed()`` whenever a kernel is registered for ``op`` (a primitive keeps a flag
    that spares its calls the kernel lookup while it has none)."""
    _WATCHERS.setdefault(op, []).append(changed)


def kernels_for(op: str, array: Any) -> tuple[Kernel, ...]:
    """The kernels registered for ``op`` and ``array``'s type, in the order they are tried."""
    entries = _TABLES.get(op)
    return () if entries is None else entries.get(type(array), ())


__all__ = ["Kernel", "kernels_for", "register", "table", "watch"]
