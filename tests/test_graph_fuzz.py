"""Property-based fuzzing of the engine (issue 8, part 6).

Hypothesis builds a random graph: 1-3 float64 leaves of mutually broadcastable shapes, then 1-30
ops, each drawn from ``OPS`` and applied to earlier nodes (so nodes fan out, and gradients
accumulate through several paths). The loss is ``sum_k <u_k, node_k>`` over every node, with
random cotangents ``u_k``. Checked:

- reverse-mode gradients against central finite differences along random directions (a wrong
  gradient component is caught unless its error is exactly orthogonal to every direction);
- the same program replayed with PyTorch's ops: values and gradients agree (when installed).

Only smooth ops are drawn (no abs/relu/max ties): a finite difference across a kink measures
nothing. Ops with a restricted domain (log, sqrt, division, exp) are only drawn when the input's
actual values are inside a safe region, and a node whose values leave [-1e3, 1e3] is dropped, so
every graph is well conditioned and a failure means a wrong gradient, not a bad difference.

The normal suite runs 200 derandomized (reproducible) examples per test; ``make fuzz`` sets
``BACKPROP_FUZZ_EXAMPLES=2000`` and lets Hypothesis pick fresh random graphs each run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import backprop as bp
import backprop.nn.functional as bpF

_NIGHTLY = os.environ.get("BACKPROP_FUZZ_EXAMPLES")
SETTINGS = settings(
    max_examples=int(_NIGHTLY) if _NIGHTLY else 200,
    derandomize=not _NIGHTLY,  # the normal suite draws the same graphs every run
    database=None if not _NIGHTLY else settings.default.database,
    deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

MAX_OPS = 30
MAX_ELEMENTS = 64   # per node: keeps 200 examples of up to 30 ops in a few seconds
BOUND = 1e3         # nodes outside [-BOUND, BOUND] are dropped (conditioning, see above)


@dataclass(frozen=True)
class Lib:
    """The namespace an op is spelled in: backprop or PyTorch (same names, same semantics)."""

    m: Any   # bp or torch
    F: Any   # bp.nn.functional or torch.nn.functional

    def tensor(self, a: np.ndarray) -> Any:
        return self.m.tensor(a)


BP = Lib(bp, bpF)


@dataclass(frozen=True)
class Op:
    """``fn(lib, params, *inputs)``; ``params(data, *arrays)`` draws the op's parameters, or
    returns None when the op does not apply to these inputs (shape or domain)."""

    arity: int
    fn: Callable[..., Any]
    params: Callable[..., Any] = lambda data, *xs: ()


def _within(low: float, high: float) -> Callable[..., Any]:
    """Applies only when every input value lies in [low, high]."""
    return lambda data, x: () if x.size and low <= x.min() and x.max() <= high else None


def _away_from_zero(data: Any, x: np.ndarray) -> Any:
    return () if x.size and np.abs(x).min() > 0.1 else None


def _dim(data: Any, x: np.ndarray, min_size: int = 1) -> Any:
    dims = [d for d in range(x.ndim) if x.shape[d] >= min_size]
    if not dims:
        return None
    return (data.draw(st.sampled_from(dims), label="dim"),
            data.draw(st.booleans(), label="keepdim"))


def _dim_only(data: Any, x: np.ndarray) -> Any:
    return None if x.ndim == 0 else data.draw(st.integers(0, x.ndim - 1), label="dim")


def _two_dims(data: Any, x: np.ndarray) -> Any:
    if x.ndim < 2:
        return None
    return tuple(data.draw(st.permutations(range(x.ndim)), label="dims")[:2])


def _permutation(data: Any, x: np.ndarray) -> Any:
    return None if x.ndim < 2 else tuple(data.draw(st.permutations(range(x.ndim)), label="perm"))


def _unsqueeze(data: Any, x: np.ndarray) -> Any:
    return None if x.ndim >= 4 else data.draw(st.integers(0, x.ndim), label="dim")


def _squeeze(data: Any, x: np.ndarray) -> Any:
    dims = [d for d in range(x.ndim) if x.shape[d] == 1]
    return None if not dims else data.draw(st.sampled_from(dims), label="dim")


def _expand(data: Any, x: np.ndarray) -> Any:
    dims = [d for d in range(x.ndim) if x.shape[d] == 1]
    if not dims or 2 * x.size > MAX_ELEMENTS:
        return None
    d = data.draw(st.sampled_from(dims), label="dim")
    return tuple(2 if i == d else n for i, n in enumerate(x.shape))


def _slice(data: Any, x: np.ndarray) -> Any:
    dims = [d for d in range(x.ndim) if x.shape[d] >= 2]
    if not dims:
        return None
    d = data.draw(st.sampled_from(dims), label="dim")
    start = data.draw(st.integers(0, x.shape[d] - 1), label="start")
    return d, start


def _sliced(x: Any, d: int, start: int) -> Any:
    return x[(slice(None),) * d + (slice(start, None),)]


def _broadcastable(data: Any, a: np.ndarray, b: np.ndarray) -> Any:
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        return None
    return None if int(np.prod(shape)) > MAX_ELEMENTS else ()


def _where_params(data: Any, a: np.ndarray, b: np.ndarray) -> Any:
    if _broadcastable(data, a, b) is None:
        return None
    shape = np.broadcast_shapes(a.shape, b.shape)
    return (np.asarray(data.draw(st.lists(st.booleans(), min_size=int(np.prod(shape)),
                                          max_size=int(np.prod(shape))), label="cond"),
                       dtype=bool).reshape(shape),)


def _denominator(data: Any, a: np.ndarray, b: np.ndarray) -> Any:
    return _broadcastable(data, a, b) if b.size and np.abs(b).min() > 0.1 else None


def _pow_params(data: Any, a: np.ndarray, b: np.ndarray) -> Any:
    ok = a.size and a.min() > 0.1 and a.max() < 10 and np.abs(b).max() < 3
    return _broadcastable(data, a, b) if ok else None


def _matmul_params(data: Any, a: np.ndarray, b: np.ndarray) -> Any:
    if a.ndim < 1 or b.ndim < 1 or a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        return None
    try:
        shape = np.matmul(np.zeros(a.shape), np.zeros(b.shape)).shape
    except ValueError:
        return None
    return None if int(np.prod(shape)) > MAX_ELEMENTS else ()


def _joinable(data: Any, a: np.ndarray, b: np.ndarray) -> Any:
    """cat along a dim where the other dims agree (a shape with ndim >= 1)."""
    if a.ndim != b.ndim or a.ndim == 0 or a.size + b.size > MAX_ELEMENTS:
        return None
    dims = [d for d in range(a.ndim)
            if all(a.shape[i] == b.shape[i] for i in range(a.ndim) if i != d)]
    return None if not dims else data.draw(st.sampled_from(dims), label="dim")


def _stackable(data: Any, a: np.ndarray, b: np.ndarray) -> Any:
    if a.shape != b.shape or a.ndim >= 4 or 2 * a.size > MAX_ELEMENTS:
        return None
    return data.draw(st.integers(0, a.ndim), label="dim")


OPS: dict[str, Op] = {
    # elementwise, defined and smooth on all of [-BOUND, BOUND]
    "neg": Op(1, lambda L, p, x: -x),
    "affine": Op(1, lambda L, p, x: x * 1.5 + 0.25),
    "sin": Op(1, lambda L, p, x: L.m.sin(x)),
    "cos": Op(1, lambda L, p, x: L.m.cos(x)),
    "tanh": Op(1, lambda L, p, x: L.m.tanh(x)),
    "sigmoid": Op(1, lambda L, p, x: L.m.sigmoid(x)),
    "gauss": Op(1, lambda L, p, x: L.m.exp(-x * x)),
    "log1p_square": Op(1, lambda L, p, x: L.m.log1p(x * x)),
    "rsqrt_1p": Op(1, lambda L, p, x: L.m.rsqrt(x * x + 1.0)),
    "reciprocal_1p": Op(1, lambda L, p, x: L.m.reciprocal(x * x + 1.0)),
    "silu": Op(1, lambda L, p, x: L.F.silu(x)),
    "gelu": Op(1, lambda L, p, x: L.F.gelu(x)),
    "logsigmoid": Op(1, lambda L, p, x: L.F.logsigmoid(x)),
    "softplus": Op(1, lambda L, p, x: L.F.softplus(x), _within(-BOUND, 15.0)),  # kink at 20
    # elementwise with a restricted domain: drawn only where the values allow
    "exp": Op(1, lambda L, p, x: L.m.exp(x), _within(-BOUND, 5.0)),
    "log": Op(1, lambda L, p, x: L.m.log(x), _within(0.1, BOUND)),
    "sqrt": Op(1, lambda L, p, x: L.m.sqrt(x), _within(0.1, BOUND)),
    "reciprocal": Op(1, lambda L, p, x: L.m.reciprocal(x), _away_from_zero),
    # reductions and scans
    "sum_all": Op(1, lambda L, p, x: x.sum()),
    "sum": Op(1, lambda L, p, x: x.sum(dim=p[0], keepdim=p[1]), _dim),
    "mean": Op(1, lambda L, p, x: x.mean(dim=p[0], keepdim=p[1]), _dim),
    "prod": Op(1, lambda L, p, x: x.prod(dim=p[0], keepdim=p[1]), _dim),
    "var": Op(1, lambda L, p, x: x.var(dim=p[0], keepdim=p[1]),
              lambda data, x: _dim(data, x, min_size=2)),
    "logsumexp": Op(1, lambda L, p, x: L.m.logsumexp(x, dim=p[0], keepdim=p[1]), _dim),
    "softmax": Op(1, lambda L, p, x: L.F.softmax(x, dim=p), _dim_only),
    "log_softmax": Op(1, lambda L, p, x: L.F.log_softmax(x, dim=p), _dim_only),
    "cumsum": Op(1, lambda L, p, x: L.m.cumsum(x, dim=p), _dim_only),
    # shape ops
    "transpose": Op(1, lambda L, p, x: x.transpose(*p), _two_dims),
    "permute": Op(1, lambda L, p, x: x.permute(*p), _permutation),
    "flatten": Op(1, lambda L, p, x: x.reshape(-1)),
    "unsqueeze": Op(1, lambda L, p, x: x.unsqueeze(p), _unsqueeze),
    "squeeze": Op(1, lambda L, p, x: x.squeeze(p), _squeeze),
    "flip": Op(1, lambda L, p, x: L.m.flip(x, (p,)), _dim_only),
    "expand": Op(1, lambda L, p, x: x.expand(*p), _expand),
    "slice": Op(1, lambda L, p, x: _sliced(x, *p), _slice),
    "gram": Op(1, lambda L, p, x: x @ x.transpose(-1, -2),
               lambda data, x: () if x.ndim >= 2 and x.shape[-2] ** 2 * x.size // max(
                   x.shape[-1] * x.shape[-2], 1) <= MAX_ELEMENTS else None),
    # binary, broadcasting
    "add": Op(2, lambda L, p, a, b: a + b, _broadcastable),
    "sub": Op(2, lambda L, p, a, b: a - b, _broadcastable),
    "mul": Op(2, lambda L, p, a, b: a * b, _broadcastable),
    "div": Op(2, lambda L, p, a, b: a / b, _denominator),
    "pow": Op(2, lambda L, p, a, b: L.m.pow(a, b), _pow_params),
    "where": Op(2, lambda L, p, a, b: L.m.where(L.tensor(p[0]), a, b), _where_params),
    "matmul": Op(2, lambda L, p, a, b: L.m.matmul(a, b), _matmul_params),
    "cat": Op(2, lambda L, p, a, b: L.m.cat([a, b], dim=p), _joinable),
    "stack": Op(2, lambda L, p, a, b: L.m.stack([a, b], dim=p), _stackable),
}

Program = list[tuple[str, tuple[int, ...], Any]]


def _value(t: Any) -> np.ndarray:
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def replay(lib: Lib, leaves: list[Any], program: Program) -> list[Any]:
    """Every node (leaves first) of ``program`` evaluated with ``lib``'s ops."""
    nodes = list(leaves)
    for name, inputs, params in program:
        nodes.append(OPS[name].fn(lib, params, *(nodes[i] for i in inputs)))
    return nodes


@st.composite
def graphs(draw: Any) -> tuple[list[np.ndarray], Program]:
    """Leaves and a program over them, built by running each drawn op on the actual values (so
    domain gates see real inputs). Ops that do not apply are redrawn; a bounded number of tries
    keeps generation cheap."""
    count = draw(st.integers(1, 3), label="leaves")
    shapes, _ = draw(mutually_broadcastable_shapes(num_shapes=count, max_dims=3, max_side=3),
                     label="shapes")
    leaves = [np.asarray(draw(st.lists(st.floats(-2.0, 2.0), min_size=int(np.prod(s)),
                                       max_size=int(np.prod(s))), label="leaf"),
                         dtype=np.float64).reshape(s) for s in shapes]
    values = list(leaves)
    # Hypothesis favours small integers; the second branch keeps half the graphs long, while
    # shrinking still heads for the first branch's short graphs.
    target = draw(st.one_of(st.integers(1, MAX_OPS), st.integers(MAX_OPS // 2, MAX_OPS)),
                  label="ops")
    program: Program = []
    names = sorted(OPS)
    data = _Drawer(draw)
    for _ in range(4 * target + 8):
        if len(program) == target:
            break
        name = draw(st.sampled_from(names), label="op")
        op = OPS[name]
        inputs = tuple(draw(st.integers(0, len(values) - 1), label="input")
                       for _ in range(op.arity))
        params = op.params(data, *(values[i] for i in inputs))
        if params is None:
            continue
        with bp.no_grad():
            out = _value(op.fn(BP, params, *(bp.tensor(values[i]) for i in inputs)))
        if out.size > MAX_ELEMENTS or not np.all(np.isfinite(out)) or (
                out.size and np.abs(out).max() > BOUND):
            continue
        program.append((name, inputs, params))
        values.append(out)
    return leaves, program


class _Drawer:
    """Lets op parameter functions call ``data.draw`` inside a composite strategy."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw


def _cotangents(leaves: list[np.ndarray], program: Program) -> list[np.ndarray]:
    with bp.no_grad():
        nodes = replay(BP, [bp.tensor(a) for a in leaves], program)
    rng = np.random.default_rng(len(program))
    return [rng.standard_normal(n.shape) for n in nodes[len(leaves):]]


def _loss(lib: Lib, nodes: list[Any], n_leaves: int, us: list[np.ndarray]) -> Any:
    total = None
    for node, u in zip(nodes[n_leaves:], us):
        term = (node * lib.tensor(u)).sum()
        total = term if total is None else total + term
    return total


def _loss_value(leaves: list[np.ndarray], program: Program, us: list[np.ndarray]) -> float:
    with bp.no_grad():
        nodes = replay(BP, [bp.tensor(a) for a in leaves], program)
        return float(_loss(BP, nodes, len(leaves), us).item())


def _describe(leaves: list[np.ndarray], program: Program) -> str:
    steps = "\n".join(f"  v{len(leaves) + k} = {name}{tuple(f'v{i}' for i in inputs)} {params}"
                      for k, (name, inputs, params) in enumerate(program))
    return f"leaves {[a.shape for a in leaves]}:\n{steps}"


@SETTINGS
@given(graph=graphs())
def test_random_graph_gradients_match_finite_differences(graph: Any) -> None:
    leaves, program = graph
    if not program:
        return
    us = _cotangents(leaves, program)
    tensors = [bp.tensor(a, requires_grad=True) for a in leaves]
    nodes = replay(BP, tensors, program)
    loss = _loss(BP, nodes, len(leaves), us)
    grads = bp.autograd.grad(loss, tensors, allow_unused=True)
    grads = [np.zeros(a.shape) if g is None else g.numpy() for g, a in zip(grads, leaves)]
    for g, a in zip(grads, leaves):
        assert g.shape == a.shape
    # The loss's magnitude sets its rounding error, which the difference divides by the step.
    scale = sum(float(np.abs(_value(n) * u).sum()) for n, u in zip(nodes[len(leaves):], us))
    rng = np.random.default_rng(0)
    h = 1e-4
    for _ in range(2):
        directions = [rng.standard_normal(a.shape) for a in leaves]

        def at(step: float, directions: list[np.ndarray] = directions) -> float:
            return _loss_value([a + step * v for a, v in zip(leaves, directions)], program, us)

        # Fourth-order central difference: truncation O(h^4) ~ 1e-16, rounding ~ 1e-16 scale / h.
        numeric = (8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h)
        analytic = sum(float((g * v).sum()) for g, v in zip(grads, directions))
        tolerance = 1e-9 * scale + 1e-6 * abs(analytic) + 1e-9
        assert abs(numeric - analytic) <= tolerance, (
            f"directional derivative {analytic} (reverse mode) != {numeric} (finite "
            f"differences) for\n{_describe(leaves, program)}")


@SETTINGS
@given(graph=graphs())
def test_random_graph_matches_pytorch(graph: Any, torch: Any) -> None:
    leaves, program = graph
    if not program:
        return
    us = _cotangents(leaves, program)
    ours = [bp.tensor(a, requires_grad=True) for a in leaves]
    theirs = [torch.tensor(a, requires_grad=True) for a in leaves]
    torch_lib = Lib(torch, torch.nn.functional)
    our_nodes = replay(BP, ours, program)
    their_nodes = replay(torch_lib, theirs, program)
    for k, (a, b) in enumerate(zip(our_nodes, their_nodes)):
        assert tuple(a.shape) == tuple(b.shape), f"node v{k}\n{_describe(leaves, program)}"
        np.testing.assert_allclose(_value(a), b.detach().numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=f"node v{k}\n{_describe(leaves, program)}")
    _loss(BP, our_nodes, len(leaves), us).backward()
    _loss(torch_lib, their_nodes, len(leaves), us).backward()
    for k, (a, b) in enumerate(zip(ours, theirs)):
        got = np.zeros(a.shape) if a.grad is None else a.grad.numpy()
        expected = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
        scale = 1.0 + float(np.abs(expected).max(initial=0.0))
        np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10 * scale,
                                   err_msg=f"grad of leaf v{k}\n{_describe(leaves, program)}")


def test_every_op_is_drawn_and_differentiable() -> None:
    """Each op in OPS runs on a simple input in both libraries' spelling (guards the table)."""
    x = np.linspace(0.2, 1.4, 6).reshape(2, 1, 3)
    for name, op in OPS.items():
        args = (x,) * op.arity if name != "matmul" else (x, x.swapaxes(-1, -2))
        params = op.params(_Fixed(), *args)
        assert params is not None, f"{name} does not apply to a (2, 1, 3) input in [0.2, 1.4]"
        t = [bp.tensor(a, requires_grad=True) for a in args]
        out = op.fn(BP, params, *t)
        out.sum().backward()
        assert all(a.grad is not None for a in t), name


class _Fixed:
    """A stand-in for Hypothesis' draw in the table check: always the first choice."""

    def draw(self, strategy: Any, label: str = "") -> Any:
        return find(strategy, lambda _: True)

