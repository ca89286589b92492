"""``torch.multiprocessing``: Python's ``multiprocessing`` under PyTorch's names, for Hogwild
training on parameters in shared memory (``model.share_memory()``).

Shared memory. ``Tensor.share_memory_()`` copies the tensor's values into an anonymous shared
map (``mmap.mmap(-1, nbytes)``: MAP_SHARED on POSIX) viewed by a NumPy array of the same dtype,
shape and strides, and makes that the tensor's memory. Processes forked afterwards write into
the same pages, so an optimizer step in a child (our optimizers update ``p`` in place, never
by rebinding its array) is seen by the parent and by every other child. Views of the tensor
made before ``share_memory_()`` keep the old memory (PyTorch moves them too): make views after.
A tensor on a GPU is left as it is (PyTorch's CUDA tensors are shared already), and
``Module.share_memory()`` shares every parameter, buffer and gradient.

Start methods. A "spawn" child starts a fresh interpreter: it would inherit neither the pages
mapped above nor the import hook of ``backprop run`` (``import torch`` would fail in it, or
find the real PyTorch). So where the platform can fork (Linux, macOS), every start method forks:
``Process``, ``Pool``, ``spawn`` and ``get_context(method)`` all use the fork context.
``set_start_method("spawn", force=True)`` is accepted and recorded, and ``get_start_method()``
returns what was set; a program's ``if __name__ == "__main__":`` guard still works (a fork
runs no module again). Where fork does not exist, the requested method is used, and starting a
``Process`` whose arguments hold a shared CPU tensor (or a module with one) raises, since the
child could only get a copy. ``Queue`` and ``Pipe`` carry tensors as copies.

``set_sharing_strategy`` accepts and records PyTorch's strategies; the memory is shared the
one way above whichever is chosen.

>>> import backprop as bp
>>> from backprop import multiprocessing as mp
>>> w = bp.zeros(3).share_memory_()
>>> def step(rank, w):
...     w[rank].add_(rank + 1.0)       # written into the shared pages
>>> mp.spawn(step, args=(w,), nprocs=3)
>>> w.tolist(), w.is_shared()
([1.0, 2.0, 3.0], True)
"""

from __future__ import annotations

import sys
from multiprocessing import (
    AuthenticationError,
    BufferTooShort,
    ProcessError,
    TimeoutError,
    active_children,
    allow_connection_pickling,
    cpu_count,
    current_process,
    freeze_support,
    get_all_start_methods,
    get_logger,
    log_to_stderr,
    parent_process,
    reducer,
    set_executable,
    set_forkserver_preload,
)

from ._context import _CONTEXT, Process, get_context, get_start_method, set_start_method
from ._spawn import (
    ProcessContext,
    ProcessException,
    ProcessExitedException,
    ProcessRaisedException,
    SpawnContext,
    spawn,
    start_processes,
)

__all__ = [
    "Array", "AuthenticationError", "Barrier", "BoundedSemaphore", "BufferTooShort",
    "Condition", "Event", "JoinableQueue", "Lock", "Manager", "Pipe", "Pool", "Process",
    "ProcessContext", "ProcessError", "ProcessException", "ProcessExitedException",
    "ProcessRaisedException", "Queue", "RLock", "RawArray", "RawValue", "Semaphore",
    "SimpleQueue", "SpawnContext", "TimeoutError", "Value", "active_children",
    "allow_connection_pickling", "cpu_count", "current_process", "freeze_support",
    "get_all_sharing_strategies", "get_all_start_methods", "get_context", "get_logger",
    "get_sharing_strategy", "get_start_method", "log_to_stderr", "parent_process", "reducer",
    "set_executable", "set_forkserver_preload", "set_sharing_strategy", "set_start_method",
    "spawn", "start_processes",
]

# PyTorch's strategies: macOS has only file_system.
_STRATEGIES = {"file_system"} if sys.platform == "darwin" else {"file_descriptor", "file_system"}
_strategy = "file_system" if sys.platform == "darwin" else "file_descriptor"

# The synchronisation objects and pools, from the context every process starts with.
Array, Barrier, BoundedSemaphore = _CONTEXT.Array, _CONTEXT.Barrier, _CONTEXT.BoundedSemaphore
Condition, Event, JoinableQueue = _CONTEXT.Condition, _CONTEXT.Event, _CONTEXT.JoinableQueue
Lock, Manager, Pipe, Pool = _CONTEXT.Lock, _CONTEXT.Manager, _CONTEXT.Pipe, _CONTEXT.Pool
Queue, RLock, RawArray, RawValue = _CONTEXT.Queue, _CONTEXT.RLock, _CONTEXT.RawArray, _CONTEXT.RawValue
Semaphore, SimpleQueue, Value = _CONTEXT.Semaphore, _CONTEXT.SimpleQueue, _CONTEXT.Value



def set_sharing_strategy(new_strategy: str) -> None:
    """Record PyTorch's sharing strategy (``"file_descriptor"`` or ``"file_system"``); tensors
    are shared the same way either way (see the module docstring).

    >>> before = get_sharing_strategy()
    >>> set_sharing_strategy("file_system"); get_sharing_strategy()
    'file_system'
    >>> set_sharing_strategy(before)
    """
    global _strategy
    if new_strategy not in _STRATEGIES:
        raise ValueError(f"set_sharing_strategy: unknown strategy {new_strategy!r}; choose one "
                         f"of {sorted(_STRATEGIES)}")
    _strategy = new_strategy


def get_sharing_strategy() -> str:
    """The strategy set by ``set_sharing_strategy`` (PyTorch's default for the platform).

    >>> get_sharing_strategy() in get_all_sharing_strategies()
    True
    """
    return _strategy


def get_all_sharing_strategies() -> set[str]:
    """PyTorch's sharing strategies on this platform.

    >>> sorted(get_all_sharing_strategies())  # doctest: +SKIP
    ['file_descriptor', 'file_system']
    """
    return set(_STRATEGIES)
