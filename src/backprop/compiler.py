"""``torch.compile`` and ``torch.compiler``: step capture.

``compile(step)`` returns a ``backprop.capture.CompiledFunction``: the first call with new
inputs runs the step eagerly while it is traced (each op's kernel call, each gradient rule
backward runs, the optimizer's calls); later calls replay that trace as one flat Python
function on the new inputs, bit for bit what eager mode computes, without building a graph or
dispatching per op. A step that branches on tensor values, draws random numbers or writes
tensors in place runs eagerly, with a one-line warning saying why. See ``backprop.capture``.

A module given to ``compile`` comes back as it is: its forward alone is not a step (its
backward runs outside it), so only a function holding the whole step is captured. The
arguments are checked as PyTorch checks them; ``mode``, ``backend``, ``dynamic`` and
``options`` choose among PyTorch's code generators and change nothing here.

>>> import backprop as bp
>>> model = bp.nn.Linear(2, 1)
>>> bp.compile(model) is model
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .capture.state import TRACING

__all__ = ["compile", "disable", "is_compiling", "is_dynamo_compiling", "is_exporting", "reset"]

_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


def compile(model: Callable | None = None, *, fullgraph: bool = False,
            dynamic: bool | None = None, backend: str | Callable | None = None,
            mode: str | None = None, options: dict[str, Any] | None = None,
            name: str | None = None, disable: bool = False, recompile_limit: int | None = None,
            isolate_recompiles: bool = False, shapes_spec: Any = None) -> Any:
    """A function ``model`` with step capture (a ``CompiledFunction``); a module as it is;
    without ``model``, a decorator (``@bp.compile(mode=...)``). See the module's docstring.

    ``fullgraph=True`` raises instead of running a step eagerly that cannot be captured;
    ``recompile_limit`` (default 8) is how many input signatures are traced before new ones run
    eagerly; ``disable=True`` returns ``model`` as it is. The other arguments are PyTorch's and
    are checked as there (``mode`` one of ``"default"``, ``"lite"``, ``"reduce-overhead"``,
    ``"max-autotune-no-cudagraphs"``, ``"max-autotune"``; not both ``mode`` and ``options``).

    >>> import backprop as bp
    >>> @bp.compile(mode="reduce-overhead")
    ... def square(x):
    ...     return x * x
    >>> [square(bp.tensor([v])).item() for v in (3.0, 4.0)]   # traced, then replayed
    [9.0, 16.0]
    """
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"compile: unrecognized mode={mode!r}, should be one of: "
                           f"{', '.join(_MODES)}")
    if mode is not None and options is not None:
        raise RuntimeError("compile: either mode or options can be specified, but both can't "
                           "be specified at the same time")
    if backend is not None and not (isinstance(backend, str) or callable(backend)):
        raise TypeError(f"compile: backend must be a name or a callable, got "
                        f"{type(backend).__name__} {backend!r}")

    def compiled(model: Callable) -> Any:
        if not callable(model):
            raise TypeError(f"compile: a callable function or module is expected, but "
                            f"{type(model).__name__} {model!r} was given")
        if disable or _is_module(model):
            return model
        from .capture import CompiledFunction  # the tracer loads the engine

        return CompiledFunction(model, fullgraph=fullgraph, recompile_limit=recompile_limit)

    return compiled if model is None else compiled(model)


def _is_module(model: Any) -> bool:
    from .nn.module import Module

    return isinstance(model, Module)


def disable(fn: Callable | None = None, recursive: bool = True, *,
            reason: str | None = None) -> Any:
    """``fn`` itself, as ``torch.compiler.disable`` accepts it (or, without ``fn``, a decorator
    returning what it decorates): its ops are captured with the step that calls it, since a
    replay has no eager islands.

    >>> import backprop as bp
    >>> bp.compiler.disable(print) is print
    True
    """
    if fn is None:
        return lambda function: function
    return fn


def reset() -> None:
    """Forget every traced step, as ``torch.compiler.reset``: the next calls trace again.

    >>> import backprop as bp
    >>> bp.compiler.reset()
    """
    from .capture.compiled import COMPILED

    for compiled in list(COMPILED):
        compiled.reset()


def is_compiling() -> bool:
    """Whether a step is being traced by ``compile`` (in this thread's code it is running).

    >>> import backprop as bp
    >>> bp.compiler.is_compiling()
    False
    """
    return TRACING.tracer is not None


def is_dynamo_compiling() -> bool:
    """False, as ``is_compiling``.

    >>> import backprop as bp
    >>> bp.compiler.is_dynamo_compiling()
    False
    """
    return False


def is_exporting() -> bool:
    """False: no program is being exported (``torch.export``) here.

    >>> import backprop as bp
    >>> bp.compiler.is_exporting()
    False
    """
    return False
