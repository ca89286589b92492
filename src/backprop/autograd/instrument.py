"""Temporarily wrapping an engine method, so observers cost nothing when they are off.

The profiler, anomaly detection and origin recording watch every op by replacing a method on its
class (``Primitive.__call__``, ``Node.apply``, ``Module.__call__``) for the length of a ``with``
block, instead of testing a flag on every call. Wrappers nest: each one wraps whatever is
installed when its block starts and puts it back when the block ends, so blocks must close in the
reverse order of opening (as ``with`` statements do).

>>> class Greeter:
...     def hello(self):
...         return "hello"
>>> with patched(Greeter, "hello", lambda original: lambda self: original(self).upper()):
...     Greeter().hello()
'HELLO'
>>> Greeter().hello()
'hello'
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def patched(cls: type, name: str, make_wrapper: Callable[[Callable], Callable]) -> Iterator[None]:
    """Install ``make_wrapper(current_method)`` as ``cls.name`` inside the block."""
    original = cls.__dict__[name]
    setattr(cls, name, make_wrapper(original))
    try:
        yield
    finally:
        setattr(cls, name, original)
