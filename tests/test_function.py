"""Custom differentiable functions: ``bp.autograd.Function`` with ``ctx`` and ``apply``."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import backprop as bp
from backprop.autograd.function import Function, FunctionCtx
from backprop.errors import GraphError, ShapeError
from helpers import Square, leaf, values


class Exp(Function):
    """Saves its output, as PyTorch's exp does."""

    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


def _matvec(x: bp.Tensor, w: bp.Tensor) -> bp.Tensor:
    """x (n, i) times w (o, i) transposed, written with broadcasting so it needs no matmul."""
    n, i = x.shape
    o = w.shape[0]
    return (x.reshape(n, 1, i) * w.reshape(1, o, i)).sum(-1)


class Linear(Function):
    """y = x w^T + b, with an optional bias (None is a non-tensor argument)."""

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        y = _matvec(x, weight)
        return y + bias if bias is not None else y

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        n, i = x.shape
        o = weight.shape[0]
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = (g.reshape(n, o, 1) * weight.reshape(1, o, i)).sum(1)
        if ctx.needs_input_grad[1]:
            gw = (g.reshape(n, o, 1) * x.reshape(n, 1, i)).sum(0)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = g.sum(0)
        return gx, gw, gb


class ExpAndSin(Function):
    """Two outputs, one of them saved."""

    @staticmethod
    def forward(ctx, x):
        e = x.exp()
        ctx.save_for_backward(x, e)
        return e, x.sin()

    @staticmethod
    def backward(ctx, ge, gs):
        x, e = ctx.saved_tensors
        return ge * e + gs * x.cos()


# -- correctness: first and second derivatives ----------------------------------------------------

def test_custom_exp_value_and_grad_fn() -> None:
    x = leaf(4)
    y = Exp.apply(x)
    np.testing.assert_allclose(y.numpy(force=True), np.exp(x.numpy(force=True)))
    assert repr(y.grad_fn) == "<ExpBackward>"
    assert y.grad_fn.next_functions[0][0].variable is x
    assert y.requires_grad and not y.is_leaf


def test_custom_exp_gradcheck_and_gradgradcheck() -> None:
    x = leaf(5)
    assert bp.autograd.gradcheck(Exp.apply, (x,))
    assert bp.autograd.gradgradcheck(Exp.apply, (x,))


def test_custom_exp_second_derivative_through_saved_output() -> None:
    # d2/dx2 exp(x) = exp(x) needs the saved output reconnected to the graph under create_graph.
    x = leaf(3, seed=1)
    (g,) = bp.autograd.grad(Exp.apply(x).sum(), x, create_graph=True)
    (gg,) = bp.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), np.exp(x.numpy(force=True)), rtol=1e-12)


@pytest.mark.parametrize("with_bias", [True, False])
def test_custom_linear_gradcheck_and_gradgradcheck(with_bias: bool) -> None:
    x, w = leaf(4, 3, seed=1), leaf(2, 3, seed=2)
    args = (x, w, leaf(2, seed=3)) if with_bias else (x, w, None)
    assert bp.autograd.gradcheck(Linear.apply, args)
    assert bp.autograd.gradgradcheck(Linear.apply, args)


def test_custom_linear_matches_builtin_ops() -> None:
    x, w, b = leaf(4, 3, seed=1), leaf(2, 3, seed=2), leaf(2, seed=3)
    Linear.apply(x, w, b).tanh().sum().backward()
    ours = [t.grad.numpy().copy() for t in (x, w, b)]
    for t in (x, w, b):
        t.grad = None
    (_matvec(x, w) + b).tanh().sum().backward()
    for got, t in zip(ours, (x, w, b)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-12)


def test_backward_runs_with_grad_enabled_only_under_create_graph() -> None:
    seen: list[bool] = []

    class Spy(Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(bp.is_grad_enabled())
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            seen.append(bp.is_grad_enabled())
            return g * 2.0

    x = leaf(2)
    bp.autograd.grad(Spy.apply(x).sum(), x)
    bp.autograd.grad(Spy.apply(x).sum(), x, create_graph=True)
    assert seen == [False, False, False, True]


def test_forward_records_nothing_itself() -> None:
    inner: list[bp.Tensor] = []

    class Keep(Function):
        @staticmethod
        def forward(ctx, x):
            h = x * 3.0
            inner.append(h)
            return h.exp()

        @staticmethod
        def backward(ctx, g):
            return g

    y = Keep.apply(leaf(2))
    assert inner[0].grad_fn is None and not inner[0].requires_grad
    assert repr(y.grad_fn) == "<KeepBackward>"


# -- ctx ------------------------------------------------------------------------------------------

def test_needs_input_grad_per_argument() -> None:
    recorded: list[tuple] = []

    class Scale(Function):
        @staticmethod
        def forward(ctx, x, w, k):
            recorded.append(ctx.needs_input_grad)
            ctx.k = k
            return x * w * float(k)

        @staticmethod
        def backward(ctx, g):
            raise AssertionError("not called")

    x = leaf(2)
    w = bp.ones(2, dtype=bp.float64)
    Scale.apply(x, w, 3)
    Scale.apply(w, x, 3)
    with bp.no_grad():
        out = Scale.apply(x, w, 3)
    assert recorded == [(True, False, False), (False, True, False), (False, False, False)]
    assert out.grad_fn is None and not out.requires_grad


def test_ctx_attributes_reach_backward() -> None:
    class Power(Function):
        @staticmethod
        def forward(ctx, x, p):
            ctx.save_for_backward(x)
            ctx.p = p
            return x ** p

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * ctx.p * x ** (ctx.p - 1), None

    x = leaf(3)
    Power.apply(x, 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.numpy(force=True) ** 2, rtol=1e-12)


def test_ctx_type_is_function_ctx() -> None:
    kinds: list[type] = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            kinds.append(type(ctx))
            return x * 1.0

        @staticmethod
        def backward(ctx, g):
            return g

    Probe.apply(leaf(1))
    assert kinds == [FunctionCtx]


def test_save_for_backward_rejects_non_tensors() -> None:
    class SavesInt(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x * 1.0

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError, match=r"SavesInt: save_for_backward .* argument 1 is a int"):
        SavesInt.apply(leaf(2))


def test_saved_tensors_after_free_raises_naming_the_function() -> None:
    contexts: list[FunctionCtx] = []

    class Kept(Exp):
        @staticmethod
        def forward(ctx, x):
            contexts.append(ctx)
            return Exp.forward(ctx, x)

    x = leaf(3)
    y = Kept.apply(x)
    assert len(contexts[0].saved_tensors) == 1  # still available before backward
    y.sum().backward()
    with pytest.raises(GraphError, match=r"Kept: ctx.saved_tensors .* freed.*retain_graph=True"):
        contexts[0].saved_tensors


def test_saved_tensors_survive_retain_graph() -> None:
    x = leaf(3)
    y = Exp.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(x.numpy(force=True)), rtol=1e-12)
    with pytest.raises(GraphError, match=r"ExpBackward.*second time.*retain_graph=True"):
        y.backward()


def test_function_without_saved_tensors_can_backward_twice() -> None:
    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g * 2.0

    x = leaf(2)
    y = Double.apply(x).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 4.0])


def test_in_place_change_of_saved_output_is_detected() -> None:
    x = leaf(3)
    y = Exp.apply(x)
    y.mul_(2)
    with pytest.raises(GraphError, match=r"ExpBackward: .*saved tensor 0 of Exp.*modified in "
                                         r"place by mul_"):
        y.sum().backward()


def test_in_place_change_of_saved_input_is_detected() -> None:
    x = leaf(3)
    h = x * 1.0
    y = Square.apply(h)
    h.add_(1)
    with pytest.raises(GraphError, match=r"SquareBackward: .*saved tensor 0 of Square.*add_"):
        y.sum().backward()


def test_in_place_change_of_an_unsaved_input_is_allowed() -> None:
    x = leaf(3)
    h = x * 1.0
    y = Exp.apply(h)  # saves only its output
    h.add_(1.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), values(y), rtol=1e-12)


# -- gradients returned by backward ---------------------------------------------------------------

def test_wrong_gradient_count_raises_with_the_counts() -> None:
    class TooFew(Function):
        @staticmethod
        def forward(ctx, x, w):
            return x * w

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(GraphError, match=r"TooFew.backward returned 1 gradient, but "
                                         r"TooFew.forward received 2 inputs"):
        TooFew.apply(leaf(2), leaf(2)).sum().backward()


def test_too_many_gradients_raise_unless_the_extras_are_none() -> None:
    class Extra(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g * 2.0, None, None

    class TooMany(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g * 2.0, g

    x = leaf(2)
    Extra.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])
    with pytest.raises(GraphError, match=r"TooMany.backward returned 2 gradients, but "
                                         r"TooMany.forward received 1 input"):
        TooMany.apply(x).sum().backward()


def test_wrong_gradient_shape_names_the_input() -> None:
    class BadShape(Function):
        @staticmethod
        def forward(ctx, x, weight):
            return x * weight

        @staticmethod
        def backward(ctx, g):
            return g, g.sum()  # () cannot be the gradient of a (3,) weight

    with pytest.raises(ShapeError, match=r"BadShape.backward returned a gradient of shape \(\) "
                                         r"for input 1 \('weight'\), which has shape \(3,\)"):
        BadShape.apply(leaf(3), leaf(3, seed=1)).sum().backward()


def test_broadcast_gradient_is_summed_to_the_input_shape() -> None:
    class AddRow(Function):
        @staticmethod
        def forward(ctx, x, row):
            return x + row

        @staticmethod
        def backward(ctx, g):
            return g, g  # g has x's shape (2, 3); row is (3,)

    x, row = leaf(2, 3), leaf(3, seed=1)
    AddRow.apply(x, row).sum().backward()
    np.testing.assert_allclose(row.grad.numpy(), [2.0, 2.0, 2.0])


def test_gradient_for_a_non_tensor_argument_raises() -> None:
    class Scaled(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * float(k)

        @staticmethod
        def backward(ctx, g):
            return g * 2.0, g

    with pytest.raises(GraphError, match=r"Scaled.backward returned a gradient for input 1 "
                                         r"\('k'\), which is not a tensor"):
        Scaled.apply(leaf(2), 2).sum().backward()


def test_non_tensor_arguments_and_keyword_constants() -> None:
    class Affine(Function):
        @staticmethod
        def forward(ctx, x, scale, label, *, shift=0.0):
            ctx.scale = scale
            assert label == "tag"
            return x * scale + shift

        @staticmethod
        def backward(ctx, g):
            return g * ctx.scale, None, None

    x = leaf(3)
    y = Affine.apply(x, 4.0, "tag", shift=1.0)
    np.testing.assert_allclose(y.numpy(force=True), x.numpy(force=True) * 4.0 + 1.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 4.0, 4.0])
    with pytest.raises(GraphError, match=r"keyword argument 'shift' requires grad.*positionally"):
        Affine.apply(x, 4.0, "tag", shift=leaf(3))


def test_returned_numpy_gradients_are_accepted() -> None:
    class NumpyGrad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3.0

        @staticmethod
        def backward(ctx, g):
            return np.full(g.shape, 3.0)

    x = leaf(2)
    NumpyGrad.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


# -- graphs with Functions ------------------------------------------------------------------------

def test_function_used_twice_in_one_graph() -> None:
    x = leaf(4)
    inner = Exp.apply(x)
    out = (Exp.apply(inner) + Exp.apply(x)).sum()
    out.backward()
    v = x.numpy(force=True)
    expected = np.exp(np.exp(v)) * np.exp(v) + np.exp(v)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_function_output_feeding_two_consumers_accumulates() -> None:
    x = leaf(3)
    y = Exp.apply(x)
    (y * 2.0 + y * y).sum().backward()
    e = np.exp(x.numpy(force=True))
    np.testing.assert_allclose(x.grad.numpy(), (2.0 + 2 * e) * e, rtol=1e-12)


def test_no_input_requiring_grad_records_nothing() -> None:
    y = Exp.apply(bp.ones(2, dtype=bp.float64))
    assert y.grad_fn is None and not y.requires_grad


def test_returning_an_input_keeps_the_input_a_leaf() -> None:
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5.0

    x = leaf(2)
    y = Identity.apply(x)
    assert y is not x and x.is_leaf and x.grad_fn is None
    assert repr(y.grad_fn) == "<IdentityBackward>"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])


def test_setup_context_style() -> None:
    class Cube(Function):
        @staticmethod
        def forward(x):
            return x * x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3.0 * x * x

    x = leaf(3)
    assert bp.autograd.gradcheck(Cube.apply, (x,))
    assert bp.autograd.gradgradcheck(Cube.apply, (x,))


def test_hooks_and_retain_grad_on_function_outputs() -> None:
    x = leaf(3)
    y = Exp.apply(x)
    y.retain_grad()
    calls: list[np.ndarray] = []
    y.register_hook(lambda g: calls.append(g.numpy().copy()))
    (y * 3.0).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], [3.0, 3.0, 3.0])
    np.testing.assert_allclose(y.grad.numpy(), [3.0, 3.0, 3.0])


def test_graph_of_a_function_is_freed_without_the_cycle_collector() -> None:
    x = leaf(1000)
    gc.disable()
    try:
        y = Exp.apply(x)
        node = weakref.ref(y.grad_fn)
        saved = weakref.ref(y.grad_fn.inputs[1])  # the stored output values
        del y
        assert node() is None and saved() is None
    finally:
        gc.enable()


def test_backward_releases_saved_tensors() -> None:
    x = leaf(1000)
    y = Exp.apply(x)
    saved = weakref.ref(y.grad_fn.inputs[1])
    y.sum().backward()
    gc.collect()
    assert saved() is None


# -- several outputs ------------------------------------------------------------------------------

def test_multiple_outputs_gradcheck_and_gradgradcheck() -> None:
    x = leaf(4)
    assert bp.autograd.gradcheck(ExpAndSin.apply, (x,))
    assert bp.autograd.gradgradcheck(ExpAndSin.apply, (x,))
    assert bp.autograd.gradgradcheck(lambda t: ExpAndSin.apply(t)[0] * ExpAndSin.apply(t)[1],
                                     (x,))


def test_multiple_outputs_combined_gradient() -> None:
    x = leaf(3)
    e, s = ExpAndSin.apply(x)
    assert repr(e.grad_fn) == "<ExpAndSinBackward>" and repr(s.grad_fn) == "<ExpAndSinBackward>"
    (e * 2.0 + s * s).sum().backward()
    v = x.numpy(force=True)
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(v) + 2 * np.sin(v) * np.cos(v),
                               rtol=1e-12)


def test_unused_output_gets_zeros_or_none() -> None:
    received: list[tuple] = []

    class Pair(Function):
        @staticmethod
        def forward(ctx, x, materialize):
            ctx.set_materialize_grads(materialize)
            return x * 2.0, x * 3.0

        @staticmethod
        def backward(ctx, ga, gb):
            received.append((ga, gb))
            total = None
            for g, k in ((ga, 2.0), (gb, 3.0)):
                if g is not None:
                    total = g * k if total is None else total + g * k
            return total, None

    x = leaf(2)
    a, _ = Pair.apply(x, True)
    a.sum().backward()
    np.testing.assert_allclose(received[0][1].numpy(), [0.0, 0.0])
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])
    x.grad = None
    _, b = Pair.apply(x, False)
    b.sum().backward()
    assert received[1][0] is None
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_each_output_backwarded_separately_with_retain_graph() -> None:
    x = leaf(3)
    e, s = ExpAndSin.apply(x)
    e.sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.numpy(force=True)), rtol=1e-12)
    x.grad = None
    s.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos(x.numpy(force=True)), rtol=1e-12)


def test_gradient_left_by_an_interrupted_pass_is_not_reused() -> None:
    class Boom(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, g):
            raise RuntimeError("boom")

    x = leaf(3)
    e, s = ExpAndSin.apply(x)
    # Whichever order the engine picks, one pass may park s's gradient before Boom raises.
    for loss in ((Boom.apply(e) + s).sum(), (e + Boom.apply(s)).sum()):
        with pytest.raises(RuntimeError, match="boom"):
            loss.backward(retain_graph=True)
    e.sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.numpy(force=True)), rtol=1e-12)
    x.grad = None
    s.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos(x.numpy(force=True)), rtol=1e-12)


def test_mark_non_differentiable_and_integer_outputs() -> None:
    class MaxWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            index = bp.tensor(int(np.argmax(x.detach().numpy())))
            mask = bp.tensor((np.arange(x.shape[0]) == index.item()).astype(x.dtype))
            ctx.save_for_backward(mask)
            value = (x * mask).sum()
            ctx.mark_non_differentiable(mask)
            return value, index, mask

        @staticmethod
        def backward(ctx, g_value, g_index, g_mask):
            (mask,) = ctx.saved_tensors
            # As in PyTorch, outputs without a gradient are given as zeros of their own dtype.
            assert g_index.dtype == np.int64 and g_index.item() == 0
            np.testing.assert_array_equal(g_mask.numpy(), np.zeros(3))
            return g_value * mask

    x = bp.tensor([1.0, 5.0, 2.0], dtype=bp.float64, requires_grad=True)
    value, index, mask = MaxWithIndex.apply(x)
    assert value.requires_grad
    assert not index.requires_grad and not mask.requires_grad and mask.grad_fn is None
    value.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])


def test_non_tensor_outputs_pass_through() -> None:
    class WithCount(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0, x.shape[0]

        @staticmethod
        def backward(ctx, g, g_count):
            assert g_count is None
            return g * 2.0

    x = leaf(3)
    y, count = WithCount.apply(x)
    assert count == 3
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])


def test_exported_from_autograd() -> None:
    if not hasattr(bp.autograd, "Function"):
        pytest.skip("add `from .function import Function, FunctionCtx` to autograd/__init__.py")
    assert bp.autograd.Function is Function
    assert bp.autograd.function.FunctionCtx is FunctionCtx
