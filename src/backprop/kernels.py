"""Backend kernels, registered by op name: what the engine may run instead of an op's own forward.

An op's row (``ops.primitive``) holds its forward written with NumPy's functions, which also
runs on CuPy arrays (NumPy dispatches to the module of its arguments). A backend may register a
faster kernel for its own array type under the op's name: Numba's compiled loops for NumPy
arrays (``backends.numba``), CuPy's fused kernels for GPU arrays (``backends.cuda``). The engine
picks one by the type of the op's first array argument. A kernel that returns None declines (a
shape, dtype or layout it does not cover, or its backend switched off), and the op's own
forward runs. Ops never test which backend they are on.

Names that are not ops work the same way: the optimizers look up ``adam_update``.

>>> import numpy as np
>>> _ = register("demo_double", np.ndarray, lambda x: None if x.ndim else x * 2)
>>> find("demo_double", np.ones(())) is not None, find("demo_double", 1.0)
(True, None)
"""

from __future__ import annotations

from typing import Any, Callable

_TABLES: dict[str, dict[type, Callable[..., Any]]] = {}


def table(op: str) -> dict[type, Callable[..., Any]]:
    """The kernels registered for ``op``, by array type. The same dict for the life of the
    process, so a primitive can keep it and see kernels registered after it was made."""
    return _TABLES.setdefault(op, {})


def register(op: str, array_type: type, kernel: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``kernel`` for ``op`` when its first array argument is an ``array_type``; returns
    ``kernel``. A later registration for the same op and type replaces the earlier one."""
    table(op)[array_type] = kernel
    return kernel


def find(op: str, array: Any) -> Callable[..., Any] | None:
    """The kernel registered for ``op`` and ``array``'s type, or None."""
    kernels = _TABLES.get(op)
    return None if kernels is None else kernels.get(type(array))


__all__ = ["find", "register", "table"]
