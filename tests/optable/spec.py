"""The op table's row type and the helpers rows use to describe their inputs.

A row says how to call one public op (``op``), what NumPy computes for the same inputs
(``ref``), which inputs to try (``samples``), and how PyTorch spells it (``torch``). The tests in
``tests/test_op_table.py`` are generated from the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass
class Sample:
    """One call: positional ``args`` (float64 arrays become tensors; other values pass as they
    are) and keyword ``kwargs``. ``grad_args`` lists which array args get requires_grad
    (default: every floating-point array)."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    grad_args: tuple[int, ...] | None = None
    name: str = ""
    # Built to sit on a kink (tied maxima): no directional derivative exists there, so the
    # random-direction test leaves the sample out; the Jacobian test still checks it.
    on_kink: bool = False

    def differentiable(self) -> tuple[int, ...]:
        if self.grad_args is not None:
            return self.grad_args
        return tuple(i for i, a in enumerate(self.args)
                     if isinstance(a, np.ndarray) and a.dtype.kind == "f")


@dataclass
class ErrorInput:
    """A call that must raise ``error`` with a message matching ``match`` (a regex)."""

    call: Callable[[], Any]
    error: type[BaseException]
    match: str


@dataclass
class OpSpec:
    """One row of the op table.

    - ``name``: the public function (``bp.<name>``) this row covers.
    - ``op(*args, **kwargs)``: calls backprop with tensors in place of the sample's arrays.
    - ``ref(*arrays, **kwargs)``: the NumPy reference for the forward value.
    - ``samples(rng)``: the inputs, as float64 arrays.
    - ``torch(torch, *args, **kwargs)``: PyTorch's spelling; ``None`` means PyTorch has no such
      op, which ``torch_reason`` must explain.
    - ``grad``: False for ops with no gradient (comparisons, argmax); ``gradgrad``: check second
      derivatives (smooth ops); ``kinks``: skip input elements where the op has a kink.
    - ``broadcast``: also run every pair of the standard broadcasting shapes (binary ops).
    - ``float32``: also run in float32 and compare with the float64 result.
    - ``aliases``: other public names (or primitives) the row covers.
    - ``forward_ad``: check the row in forward mode too (``tests/test_op_table_forward_ad.py``);
      only meaningful where ``grad`` is; False needs ``forward_ad_reason``.
    - ``vmap``: check the op under ``bp.func.vmap`` (``tests/test_op_table_vmap.py``); False
      needs ``vmap_reason``.
    """

    name: str
    op: Callable[..., Any]
    ref: Callable[..., Any]
    samples: Callable[[np.random.Generator], list[Sample]]
    torch: Callable[..., Any] | None = None
    torch_reason: str = ""
    grad: bool = True
    gradgrad: bool = True
    kinks: bool = False
    broadcast: bool = False
    float32: bool = True
    error_inputs: Callable[[], list[ErrorInput]] = lambda: []
    aliases: tuple[str, ...] = ()
    # Finite-difference step. Only ops whose output is rounded to float32 need a larger one: a
    # 1e-6 step is below float32's resolution, so the difference would be rounding noise.
    eps: float = 1e-6
    forward_ad: bool = True
    forward_ad_reason: str = ""
    vmap: bool = True
    vmap_reason: str = ""


# The broadcasting shapes every elementwise binary op is tried on, in every pair.
BROADCAST_SHAPES = [(), (3,), (2, 3), (1, 3), (2, 1, 3)]


def uniform(rng: np.random.Generator, shape: tuple[int, ...], low: float = -2.0,
            high: float = 2.0) -> np.ndarray:
    """Random float64 values in [low, high), kept away from exact integers' kinks by chance."""
    return rng.uniform(low, high, size=shape)


def positive(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.5, 2.0, size=shape)


def unary(domain: tuple[float, float] = (-2.0, 2.0),
          shapes: tuple[tuple[int, ...], ...] = ((), (3,), (2, 3), (2, 1, 3))) -> Callable:
    """Samples for a one-input op: each standard shape with values drawn from ``domain``."""

    def samples(rng: np.random.Generator) -> list[Sample]:
        return [Sample((uniform(rng, s, *domain),), name=str(s)) for s in shapes]

    return samples


def binary(domain: tuple[float, float] = (-2.0, 2.0),
           other_domain: tuple[float, float] | None = None) -> Callable:
    """Samples for a two-input op on every pair of broadcasting shapes."""

    def samples(rng: np.random.Generator) -> list[Sample]:
        result = []
        for a in BROADCAST_SHAPES:
            for b in BROADCAST_SHAPES:
                result.append(Sample((uniform(rng, a, *domain),
                                      uniform(rng, b, *(other_domain or domain))),
                                     name=f"{a}x{b}"))
        return result

    return samples
