"""Small builders the autograd tests share."""

from __future__ import annotations

import numpy as np

import backprop as bp
from backprop.autograd import Function, functional, graph, observers
from backprop.nn.module import Module
from backprop.ops.primitive import Primitive
from backprop.optim.optimizer import Optimizer


def leaf(*shape: int, seed: int = 0, dtype=np.float64) -> bp.Tensor:
    """A leaf of standard-normal values that requires grad."""
    rng = np.random.default_rng(seed)
    return bp.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)


def values(t: bp.Tensor) -> np.ndarray:
    return t.detach().numpy()


class Square(Function):
    """x * x as a custom Function that saves its input."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2.0 * x


def _engine_classes() -> list[type]:
    found, todo = [], [Primitive, graph.Node, Function, Module, Optimizer]
    while todo:
        cls = todo.pop()
        if cls not in found:
            found.append(cls)
            todo.extend(c for c in cls.__subclasses__() if c.__module__.startswith("backprop."))
    return found


_ENGINE_CLASSES = _engine_classes()  # the library's own, not the tests' subclasses


def engine_attributes() -> dict:
    """The engine's classes' attributes (``Primitive.__call__``, ``Node.apply``,
    ``Function.apply``, ``Module.__call__``, every optimizer's ``step`` and ``zero_grad``...)
    and the backward entry points, as found now: a tool swapping one changes this."""
    found: dict = {cls: dict(vars(cls)) for cls in _ENGINE_CLASSES}
    found[graph] = graph.run_backward
    found[functional] = functional.run_backward
    return found


def assert_no_observers() -> None:
    """Every observer registered by a tool has been unregistered."""
    assert observers.REGISTRY.count == 0
    assert observers.active() == ()
