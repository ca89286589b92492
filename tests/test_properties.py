"""Properties checked on many random shapes and values with Hypothesis.

(a) Broadcasting: for any broadcast-compatible shapes, a binary (or ternary) op's result has
    ``np.broadcast_shapes`` of its inputs, and each input's gradient has exactly that input's shape
    and equals the NumPy gradient summed over the broadcast axes. Incompatible shapes raise
    ``bp.ShapeError`` naming the op and both shapes.
(b) The VJP identity ``<u, J v> = <J^T u, v>``: ``J v`` by central differences in float64, ``J^T u``
    by our backward, for random inputs ``x``, output cotangents ``u`` and input directions ``v``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, mutually_broadcastable_shapes

import backprop as bp

SETTINGS = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Values of moderate size; denominators kept away from zero so division stays well conditioned.
VALUES = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False, allow_infinity=False, width=64)
DENOMINATORS = st.one_of(st.floats(min_value=-2.0, max_value=-0.5, width=64),
                         st.floats(min_value=0.5, max_value=2.0, width=64))


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """NumPy reference for the engine's sum-to-shape: sum ``g`` over the axes broadcasting added."""
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True).reshape(shape)


# -- (a) broadcasting ----------------------------------------------------------------------------

@dataclass(frozen=True)
class BroadcastOp:
    """An op over broadcastable inputs: our function, NumPy's, and the NumPy partial derivatives
    (each ``d(out)/d(input_i)`` elementwise, at the broadcast shape)."""

    function: Callable[..., Any]
    reference: Callable[..., np.ndarray]
    partials: Callable[..., tuple]
    elements: tuple = (VALUES, VALUES)
    differentiable: tuple = (0, 1)


def _maximum_partials(a: np.ndarray, b: np.ndarray) -> tuple:
    # PyTorch's convention: at a tie each side gets half of the gradient.
    tie = (a == b) * 0.5
    return (a > b) + tie, (b > a) + tie


BROADCAST_OPS = {
    "add": BroadcastOp(bp.add, np.add, lambda a, b: (np.ones_like(a), np.ones_like(b))),
    "sub": BroadcastOp(bp.sub, np.subtract, lambda a, b: (np.ones_like(a), -np.ones_like(b))),
    "mul": BroadcastOp(bp.mul, np.multiply, lambda a, b: (b, a)),
    "div": BroadcastOp(bp.div, np.divide, lambda a, b: (1 / b, -a / b**2),
                       elements=(VALUES, DENOMINATORS)),
    "maximum": BroadcastOp(bp.maximum, np.maximum, _maximum_partials),
    "where": BroadcastOp(bp.where, np.where,
                         lambda c, a, b: (None, c.astype(np.float64), (~c).astype(np.float64)),
                         elements=(st.booleans(), VALUES, VALUES), differentiable=(1, 2)),
}


def _broadcast_inputs(data: st.DataObject, op: BroadcastOp) -> list[np.ndarray]:
    count = len(op.elements)
    shapes, _ = data.draw(mutually_broadcastable_shapes(num_shapes=count, max_dims=4, max_side=3),
                          label="shapes")
    return [data.draw(arrays(np.bool_ if i not in op.differentiable else np.float64, shape,
                             elements=op.elements[i]), label=f"input {i}")
            for i, shape in enumerate(shapes)]


@pytest.mark.parametrize("name", BROADCAST_OPS.keys())
@SETTINGS
@given(data=st.data())
def test_broadcast_forward_shape_and_gradients(name: str, data: st.DataObject) -> None:
    op = BROADCAST_OPS[name]
    arrays_in = _broadcast_inputs(data, op)
    shape = np.broadcast_shapes(*(a.shape for a in arrays_in))
    tensors = [bp.tensor(a, requires_grad=i in op.differentiable) for i, a in enumerate(arrays_in)]

    out = op.function(*tensors)
    assert isinstance(out, bp.Tensor)
    assert out.shape == shape
    np.testing.assert_allclose(out.detach().numpy(), op.reference(*arrays_in), rtol=1e-12)

    g = np.random.default_rng(len(shape)).standard_normal(shape)
    out.backward(bp.tensor(g))
    partials = op.partials(*arrays_in)
    for i, (t, a) in enumerate(zip(tensors, arrays_in)):
        if i not in op.differentiable:
            assert t.grad is None
            continue
        assert t.grad is not None, f"input {i} got no gradient"
        assert t.grad.shape == a.shape, f"input {i}: gradient {t.grad.shape} for input {a.shape}"
        assert t.grad.dtype == bp.float64
        expected = unbroadcast(g * np.broadcast_to(partials[i], shape), a.shape)
        np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-12, atol=1e-12)


@st.composite
def incompatible_shapes(draw: Any, count: int) -> tuple[tuple[int, ...], ...]:
    """``count`` shapes where the first two disagree (both sides > 1) in one aligned dimension."""
    shapes, _ = draw(mutually_broadcastable_shapes(num_shapes=count, min_dims=1, max_dims=4,
                                                   max_side=3))
    first, second = list(shapes[0]), list(shapes[1])
    k = draw(st.integers(0, min(len(first), len(second)) - 1), label="dim from the right")
    size_first = draw(st.integers(2, 5))
    size_second = draw(st.integers(2, 5).filter(lambda n: n != size_first))
    first[-1 - k], second[-1 - k] = size_first, size_second
    # Any further shape must not be at fault: all ones broadcasts with anything.
    rest = [tuple(1 for _ in s) for s in shapes[2:]]
    return (tuple(first), tuple(second), *rest)


@pytest.mark.parametrize("name", [n for n in BROADCAST_OPS if n != "where"])
@SETTINGS
@given(data=st.data())
def test_incompatible_shapes_raise_shape_error_naming_both(name: str,
                                                           data: st.DataObject) -> None:
    op = BROADCAST_OPS[name]
    a_shape, b_shape = data.draw(incompatible_shapes(2))
    a = bp.ones(a_shape, dtype=bp.float64, requires_grad=True)
    b = bp.ones(b_shape, dtype=bp.float64)
    with pytest.raises(bp.ShapeError) as info:
        op.function(a, b)
    message = str(info.value)
    assert name in message
    assert str(a_shape) in message and str(b_shape) in message, message


@SETTINGS
@given(shapes=incompatible_shapes(3))
def test_where_with_incompatible_shapes_raises_shape_error(shapes: tuple) -> None:
    a_shape, b_shape, condition_shape = shapes
    condition = bp.ones(condition_shape, dtype=bp.bool)
    with pytest.raises(bp.ShapeError) as info:
        bp.where(condition, bp.ones(a_shape, requires_grad=True), bp.ones(b_shape))
    message = str(info.value)
    assert "where" in message
    assert str(a_shape) in message and str(b_shape) in message, message


@pytest.mark.parametrize("op", [bp.add, bp.mul], ids=["add", "mul"])
def test_shape_error_is_also_a_value_error(op: Callable) -> None:
    # PyTorch raises RuntimeError for a broadcasting mismatch; NumPy users expect ValueError.
    with pytest.raises(ValueError):
        op(bp.ones(2, 3), bp.ones(4))
    with pytest.raises(RuntimeError):
        op(bp.ones(2, 3), bp.ones(4))


# -- (b) the VJP identity <u, J v> = <J^T u, v> --------------------------------------------------

EPS = 1e-6
RTOL = 1e-5


class VjpCase:
    """A function of float64 tensors, the point at which to check it, and what it computes."""

    def __init__(self, function: Callable[..., Any], inputs: list[np.ndarray], note: str) -> None:
        self.function = function
        self.inputs = inputs
        self.note = note

    def __repr__(self) -> str:
        shapes = ", ".join(str(x.shape) for x in self.inputs)
        return f"VjpCase({self.note} at inputs of shapes {shapes}: {self.inputs!r})"


SMALL_SHAPES = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


@st.composite
def unary_case(draw: Any, function: Callable, low: float, high: float) -> VjpCase:
    elements = st.floats(min_value=low, max_value=high, width=64)
    x = draw(arrays(np.float64, SMALL_SHAPES, elements=elements))
    return VjpCase(function, [x], getattr(function, "name", ""))


@st.composite
def binary_case(draw: Any, function: Callable, second: Any = VALUES) -> VjpCase:
    shapes, _ = draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    a = draw(arrays(np.float64, shapes[0], elements=VALUES))
    b = draw(arrays(np.float64, shapes[1], elements=second))
    return VjpCase(function, [a, b], getattr(function, "name", ""))


@st.composite
def dims_of(draw: Any, ndim: int) -> Any:
    """None, one dim or a tuple of distinct dims, each possibly negative."""
    if ndim == 0:
        return None  # dim=0 / -1 on a 0-d tensor: see test_reduction_over_a_dim_of_a_scalar
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    signed = [d - ndim if draw(st.booleans()) else d for d in chosen]
    return draw(st.sampled_from([None, signed[0], tuple(signed)]))


@st.composite
def reduction_case(draw: Any, reduce: Callable) -> VjpCase:
    x = draw(arrays(np.float64, SMALL_SHAPES, elements=VALUES))
    dim = draw(dims_of(x.ndim), label="dim")
    keepdim = draw(st.booleans(), label="keepdim")
    return VjpCase(lambda t: reduce(t, dim=dim, keepdim=keepdim), [x],
                   f"{reduce.__name__}(dim={dim!r}, keepdim={keepdim})")


@st.composite
def reshape_case(draw: Any) -> VjpCase:
    x = draw(arrays(np.float64, SMALL_SHAPES, elements=VALUES))
    n = x.size
    target = draw(st.sampled_from([(n,), (-1,), x.shape[::-1], (1, *x.shape), (*x.shape, 1),
                                   (n, 1), (1, -1)]), label="target shape")
    return VjpCase(lambda t: bp.reshape(t, target), [x], f"reshape to {target}")


@st.composite
def matmul_case(draw: Any) -> VjpCase:
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch = draw(st.sampled_from([(), (2,), (1,)]), label="batch")
    other_batch = draw(st.sampled_from([(), batch]), label="other batch")
    a = draw(arrays(np.float64, (*batch, n, k), elements=VALUES))
    b = draw(arrays(np.float64, (*other_batch, k, m), elements=VALUES))
    return VjpCase(bp.matmul, [a, b], "matmul")


@st.composite
def composite_case(draw: Any) -> VjpCase:
    """A small graph reusing its inputs, so gradients from several paths must add up."""
    shapes, _ = draw(mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    x = draw(arrays(np.float64, shapes[0], elements=VALUES))
    y = draw(arrays(np.float64, shapes[1], elements=VALUES))
    return VjpCase(lambda a, b: bp.tanh(a * b + a).exp() / (bp.sigmoid(b) + 1.0) - a, [x, y],
                   "tanh(x * y + x).exp() / (sigmoid(y) + 1) - x")


VJP_CASES: dict[str, Any] = {
    "exp": unary_case(bp.exp, -2.0, 2.0),
    "tanh": unary_case(bp.tanh, -3.0, 3.0),
    "sigmoid": unary_case(bp.sigmoid, -5.0, 5.0),
    "mul": binary_case(bp.mul),
    "div": binary_case(bp.div, DENOMINATORS),
    "sum": reduction_case(bp.sum),
    "mean": reduction_case(bp.mean),
    "reshape": reshape_case(),
    "composite": composite_case(),
}
VJP_PARAMS = [pytest.param(name, id=name) for name in VJP_CASES]
VJP_PARAMS.append(pytest.param("matmul", id="matmul", marks=pytest.mark.skipif(
    not hasattr(bp, "matmul"), reason="bp.matmul is not implemented yet")))


def _evaluate(function: Callable, inputs: list[np.ndarray]) -> np.ndarray:
    with bp.no_grad():
        return np.asarray(function(*(bp.tensor(x) for x in inputs)).numpy(), dtype=np.float64)


@pytest.mark.parametrize("name", VJP_PARAMS)
@SETTINGS
@given(data=st.data())
def test_vjp_identity(name: str, data: st.DataObject) -> None:
    case = data.draw(matmul_case() if name == "matmul" else VJP_CASES[name], label="case")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))

    tensors = [bp.tensor(x, requires_grad=True) for x in case.inputs]
    out = case.function(*tensors)
    assert out.dtype == bp.float64
    u = rng.standard_normal(out.shape)
    out.backward(bp.tensor(u))
    transposed = [t.grad.numpy() for t in tensors]  # J^T u, one part per input
    for t, part in zip(tensors, transposed):
        assert part.shape == t.shape

    v = [rng.standard_normal(x.shape) for x in case.inputs]
    plus = _evaluate(case.function, [x + EPS * d for x, d in zip(case.inputs, v)])
    minus = _evaluate(case.function, [x - EPS * d for x, d in zip(case.inputs, v)])
    jv = (plus - minus) / (2 * EPS)  # J v by central differences

    lhs = float(np.sum(u * jv))
    rhs = float(sum(np.sum(part * d) for part, d in zip(transposed, v)))
    # Relative to the size of the terms (Cauchy-Schwarz bounds both sides by it), so a sum that
    # cancels to about zero is not held to an impossible relative tolerance.
    scale = float(np.linalg.norm(u) * np.linalg.norm(jv)
                  + sum(np.linalg.norm(p) * np.linalg.norm(d) for p, d in zip(transposed, v)))
    assert abs(lhs - rhs) <= RTOL * max(scale, 1e-12), (
        f"{case.note}: <u, J v> = {lhs!r} but <J^T u, v> = {rhs!r} (inputs of shapes "
        f"{[x.shape for x in case.inputs]}, output {out.shape})")


@pytest.mark.parametrize("reduce", [bp.sum, bp.mean], ids=["sum", "mean"])
@pytest.mark.parametrize("dim", [0, -1, (0,), ()], ids=["0", "-1", "(0,)", "()"])
@pytest.mark.parametrize("keepdim", [False, True], ids=["dropdim", "keepdim"])
def test_reduction_over_a_dim_of_a_scalar(reduce: Callable, dim: Any, keepdim: bool) -> None:
    # PyTorch treats a 0-d tensor as having one dim for reductions: torch.tensor(2.).sum(dim=0)
    # and .sum(dim=-1) are tensor(2.), of shape () with or without keepdim.
    x = bp.tensor(2.0, dtype=bp.float64, requires_grad=True)
    out = reduce(x, dim=dim, keepdim=keepdim)
    assert out.shape == ()
    assert out.item() == 2.0
    out.backward()
    assert x.grad.shape == () and x.grad.item() == 1.0
