"""``CompiledFunction``: a function that is traced once per input signature and then replayed."""

from __future__ import annotations

import functools
import threading
import warnings
import weakref
from typing import Any, Callable

from .. import dtypes, thread_watch
from ..autograd import grad_mode
from ..autograd.observers import observing
from ..tensor import Tensor
from .state import TRACING
from .tape import Tape
from .tracer import Tracer

# Every compiled function, for ``compiler.reset``.
COMPILED: weakref.WeakSet = weakref.WeakSet()


class CompiledFunction:
    """``fn`` with step capture: the first call with a new signature (the tensor arguments'
    shapes, dtypes, devices and requires_grad, the other arguments' values, grad mode and the
    default dtype) runs ``fn`` eagerly while a tracer writes down its tape; later calls with
    that signature replay the tape on the new arguments' arrays. A step the tape cannot replay
    runs eagerly, with a one-line warning saying why, or raises with ``fullgraph=True``.

    >>> import backprop as bp
    >>> w = bp.ones(3, requires_grad=True)
    >>> opt = bp.optim.SGD([w], lr=0.1)
    >>> def step(x):
    ...     opt.zero_grad()
    ...     loss = (w * x).sum()
    ...     loss.backward()
    ...     opt.step()
    ...     return loss
    >>> compiled = CompiledFunction(step)
    >>> [round(compiled(bp.tensor([1.0, 2.0, 3.0])).item(), 2) for _ in range(3)]
    [6.0, 4.6, 3.2]
    """

    def __init__(self, fn: Callable, *, fullgraph: bool = False,
                 recompile_limit: int | None = None) -> None:
        functools.update_wrapper(self, fn)
        self._fn = fn
        self._fullgraph = fullgraph
        self._limit = 8 if recompile_limit is None else recompile_limit
        self._tapes: dict[Any, Tape | str] = {}
        self._traces = 0
        self.fallbacks: list[str] = []  # why calls ran eagerly, a line each
        COMPILED.add(self)

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        # decorating a method: bind like a function does
        return self if instance is None else functools.partial(self.__call__, instance)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if TRACING.tracer is not None:  # inside another trace: its ops are that tape's
            return self._fn(*args, **kwargs)
        if not kwargs and all(type(a) is Tensor for a in args):  # the usual call, quickly
            tensors = list(args)
            key = (tuple([_tensor_key(a) for a in args]), grad_mode.state.enabled,
                   dtypes.get_default_dtype())
        else:
            tensors = []
            key = (_signature(args, tensors), _signature(kwargs, tensors),
                   grad_mode.state.enabled, dtypes.get_default_dtype())
        tape = self._tapes.get(key)
        if type(tape) is Tape:
            stale = tape.stale()
            if stale is None:
                thread_watch.tick()  # as a backward pass does
                return tape.replay([t._data for t in tensors])
            del self._tapes[key]
            tape = None
        if tape is not None:  # a reason: this signature runs eagerly
            return self._fn(*args, **kwargs)
        if self._traces >= self._limit:
            self._fall_back(key, f"was traced {self._traces} times (recompile_limit)")
            return self._fn(*args, **kwargs)
        return self._trace(key, tensors, args, kwargs)

    def _trace(self, key: Any, tensors: list[Tensor], args: tuple, kwargs: dict) -> Any:
        self._traces += 1
        tracer = Tracer(tensors)
        TRACING.tracer, TRACING.thread = tracer, threading.get_ident()
        try:
            with observing(tracer):
                result = self._fn(*args, **kwargs)
        finally:
            TRACING.tracer = None
        tape = tracer.finish(result, getattr(self._fn, "__qualname__", "step"))
        if type(tape) is Tape:
            self._tapes[key] = tape
        else:
            self._fall_back(key, tape)
        return result

    def _fall_back(self, key: Any, reason: str) -> None:
        name = getattr(self._fn, "__qualname__", repr(self._fn))
        line = f"compile: {name} runs eagerly for these inputs: the step {reason}"
        if self._fullgraph:
            raise RuntimeError(line + " (fullgraph=True)")
        self._tapes[key] = reason
        self.fallbacks.append(line)
        warnings.warn(line, stacklevel=4)

    def reset(self) -> None:
        """Forget every tape: the next call traces again."""
        self._tapes.clear()
        self._traces = 0


_PLAIN = (int, float, bool, str, complex, type(None))


def _tensor_key(t: Tensor) -> tuple:
    """What a tape depends on in a tensor argument: shape, dtype, device (array type) and
    requires_grad."""
    data = t._data
    return (data.shape, data.dtype, type(data), t._requires_grad)


def _signature(value: Any, tensors: list[Tensor]) -> Any:
    """What a tape depends on in an argument; its tensors are appended to ``tensors``."""
    if isinstance(value, Tensor):
        tensors.append(value)
        return _tensor_key(value)
    kind = type(value)
    if kind in _PLAIN:
        return (kind, value)
    if kind is tuple or kind is list:
        return (kind, tuple(_signature(v, tensors) for v in value))
    if kind is dict:
        return (kind, tuple((k, _signature(v, tensors)) for k, v in value.items()))
    return (kind, id(value))  # modules, optimizers, arrays ...: the same object, the same tape
