"""Rows: every activation module, in place where PyTorch allows it."""

from __future__ import annotations

from typing import Any

from moduletable.spec import RTOL, Case, x


def act(name: str, *args: Any, shape: tuple = (3, 5), scale: float = 2.0, rtol: float = RTOL,
        **kwargs: Any) -> Case:
    label = "-".join([name, *map(str, args), *(f"{k}={v}" for k, v in kwargs.items())])
    return Case(label, lambda l: getattr(l.nn, name)(*args, **kwargs), x(*shape, scale=scale),
                rtol=rtol)


def inplace_act(name: str, *args: Any) -> Case:
    """An in-place activation after a layer (in-place on a leaf that requires grad is an
    error in both libraries)."""
    return Case(f"{name}-inplace", lambda l: l.nn.Sequential(
        l.nn.Linear(5, 5), getattr(l.nn, name)(*args, inplace=True)), x(3, 5, scale=2.0))


CASES = [
    act("ReLU"), inplace_act("ReLU"), act("ReLU6", scale=5.0), inplace_act("ReLU6"),
    act("LeakyReLU"), act("LeakyReLU", 0.2), inplace_act("LeakyReLU", 0.2), inplace_act("ELU"),
    inplace_act("Hardtanh"), inplace_act("SiLU"), act("PReLU"), act("PReLU", 4, 0.1, shape=(2, 4, 3)),
    act("ELU"), act("ELU", alpha=0.5), act("SELU"), act("CELU", 2.0), act("GELU"),
    act("GELU", approximate="tanh"), act("SiLU"), act("Mish"), act("Tanh"), act("Sigmoid"),
    act("Hardtanh"), act("Hardtanh", -2.0, 0.5), # PyTorch's hardsigmoid backward multiplies by 1/6 rounded to float32 (1.0f / 6.0f), 3e-8 off.
    act("Hardsigmoid", scale=3.0, rtol=1e-7),
    act("Hardswish", scale=3.0), act("Softplus"), act("Softplus", 2.0, 1.0), act("Softsign"),
    act("Softshrink"), act("Softshrink", 1.0), act("Hardshrink", 0.3), act("Tanhshrink"),
    act("LogSigmoid"), act("Threshold", 0.1, -2.0), act("GLU", shape=(3, 4)), act("GLU", 0, shape=(4, 3)),
    act("Softmax", dim=1), act("Softmax", dim=0), act("LogSoftmax", dim=-1),
    act("Softmin", dim=1),
]
