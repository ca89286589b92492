"""Step capture: a training step traced once and replayed (``backprop.compile``).

``bp.compile(step)`` returns a ``CompiledFunction``. Its first call with new inputs runs the
step eagerly while a tracer (an engine observer) writes down what ran: each primitive's kernel
call, each gradient rule backward ran, the engine's gradient sums and accumulations, and the
optimizer's calls. Later calls replay that tape on the new inputs' arrays, skipping what only
the eager engine needs: Python dispatch per op, the modules' ``__call__``, building the graph,
walking it backward. The replay computes what eager mode computes, bit for bit.

As in ``jax.jit``, what the step reads other than its arguments is read as it is at replay
time through the tensor that held it when traced (parameters and buffers, updated in place by
the optimizer, are read right); a tensor picked by Python code from outside the arguments (a
batch from a list indexed by a counter) is not: pass it as an argument. Python side effects
in the step (printing, appending, a scheduler's ``step()``) run while tracing only.
"""

from typing import Any

__all__ = ["CompiledFunction"]


def __getattr__(name: str) -> Any:
    # The engine imports ``capture.state`` while it loads; the tracer needs the loaded engine.
    if name == "CompiledFunction":
        from .compiled import CompiledFunction

        return CompiledFunction
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
