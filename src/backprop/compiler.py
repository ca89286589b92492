"""``torch.compile`` and ``torch.compiler``: accepted, and the model or function given comes
back as it is.

PyTorch's compiler traces a model's Python into a graph and generates fused kernels for it.
backprop has no step capture yet: it runs each op eagerly (with its own fast kernels), so
compiling has nothing to produce. Returning the callable unchanged keeps the programs that
write ``model = torch.compile(model)``, ``@torch.compile`` or
``@torch.compile(mode="reduce-overhead")`` running with the same results; only the speed-up
is missing. The arguments are still checked as PyTorch checks them, so a script that PyTorch
refuses is refused here too.

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
    """``model`` itself (a function or module), as ``torch.compile`` accepts it; without
    ``model``, a decorator that returns what it decorates (``@bp.compile(mode=...)``).

    The arguments are PyTorch's and are checked as there (``mode`` one of ``"default"``,
    ``"lite"``, ``"reduce-overhead"``, ``"max-autotune-no-cudagraphs"``, ``"max-autotune"``;
    not both ``mode`` and ``options``); none changes anything, as nothing is compiled (see the
    module's docstring).

    >>> import backprop as bp
    >>> @bp.compile(mode="reduce-overhead")
    ... def square(x):
    ...     return x * x
    >>> square(bp.tensor([3.0])).tolist()
    [9.0]
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
    """Keep ``fn`` out of compilation, as ``torch.compiler.disable``: ``fn`` itself, since
    nothing is compiled (or, without ``fn``, a decorator returning what it decorates).

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
