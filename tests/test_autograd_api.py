"""The user-facing autograd API: grad modes, backward's arguments, ``autograd.grad``, gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.errors import DTypeError, GraphError, ShapeError
from helpers import Square, leaf, values




# -- grad modes ------------------------------------------------------------------------------------

def test_no_grad_records_nothing() -> None:
    x = leaf(3)
    with bp.no_grad():
        y = x * 2.0
        assert not bp.is_grad_enabled()
    assert bp.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    with pytest.raises(GraphError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_as_a_decorator() -> None:
    @bp.no_grad()
    def step(t: bp.Tensor) -> bp.Tensor:
        return t.exp()

    y = step(leaf(2))
    assert y.grad_fn is None and not y.requires_grad
    assert bp.is_grad_enabled()
    assert step.__name__ == "step"


def test_enable_grad_inside_no_grad() -> None:
    x = leaf(2)
    with bp.no_grad():
        with bp.enable_grad():
            y = x * 2.0
        z = x * 2.0
    assert repr(y.grad_fn) == "<MulBackward>" and z.grad_fn is None

    @bp.enable_grad()
    def recorded(t: bp.Tensor) -> bp.Tensor:
        return t * 3.0

    with bp.no_grad():
        w = recorded(x)
    assert w.requires_grad


def test_set_grad_enabled() -> None:
    x = leaf(2)
    with bp.set_grad_enabled(False):
        y = x * 2.0
    with bp.set_grad_enabled(True):
        z = x * 2.0
    assert y.grad_fn is None and z.grad_fn is not None
    assert bp.is_grad_enabled()


def test_grad_mode_is_restored_after_an_exception() -> None:
    with pytest.raises(ZeroDivisionError):
        with bp.no_grad():
            1 / 0
    assert bp.is_grad_enabled()


def test_ops_on_tensors_without_grad_record_nothing() -> None:
    y = bp.ones(3) * 2.0
    assert y.grad_fn is None and not y.requires_grad


# -- backward's arguments and errors ---------------------------------------------------------------

def test_backward_of_a_non_scalar_needs_a_gradient() -> None:
    x = leaf(3)
    y = x * 2.0
    with pytest.raises(GraphError, match=r"only for scalar outputs.*shape \(3,\).*gradient="):
        y.backward()


def test_backward_with_gradient() -> None:
    x = leaf(3)
    v = bp.tensor([1.0, -2.0, 0.5], dtype=bp.float64)
    (x * 2.0).backward(gradient=v)
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -4.0, 1.0])


def test_backward_with_a_gradient_of_the_wrong_shape_raises() -> None:
    x = leaf(3)
    with pytest.raises(ShapeError,
                       match=r"gradient has shape \(2,\) but output 0 has shape \(3,\)"):
        (x * 2.0).backward(gradient=bp.ones(2, dtype=bp.float64))


def test_backward_of_a_tensor_without_grad_raises() -> None:
    with pytest.raises(GraphError, match=r"does not require grad and has no grad_fn"):
        bp.ones(3).sum().backward()
    with pytest.raises(GraphError, match=r"does not require grad"):
        bp.tensor([1, 2, 3]).sum().backward()


def test_requires_grad_on_an_integer_tensor_raises() -> None:
    with pytest.raises(DTypeError, match=r"only floating-point tensors.*int64"):
        bp.tensor([1, 2], requires_grad=True)
    with pytest.raises(DTypeError, match=r"floating-point"):
        bp.tensor([1, 2]).requires_grad_()


def test_item_on_a_multi_element_tensor_raises_with_the_count() -> None:
    with pytest.raises(ValueError, match=r"item: a tensor with 6 elements \(shape \(2, 3\)\)"):
        bp.ones(2, 3).item()
    assert bp.ones(1, 1).item() == 1.0


def test_turning_off_requires_grad_of_a_non_leaf_raises() -> None:
    y = leaf(2) * 2.0
    with pytest.raises(GraphError, match="non-leaf.*detach"):
        y.requires_grad = False


def test_backward_inputs_restricts_accumulation() -> None:
    x, w = leaf(3), leaf(3, seed=1)
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    np.testing.assert_allclose(w.grad.numpy(), values(x), rtol=1e-12)


def test_autograd_backward_function_with_several_roots() -> None:
    x = leaf(3)
    bp.autograd.backward([(x * 2.0).sum(), (x * 3.0).sum()])
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0, 5.0])


# -- autograd.grad ---------------------------------------------------------------------------------

def test_grad_basic() -> None:
    x = leaf(3)
    (g,) = bp.autograd.grad((x ** 2).sum(), x)
    np.testing.assert_allclose(g.numpy(), 2 * values(x), rtol=1e-12)
    assert x.grad is None


def test_grad_multiple_inputs() -> None:
    x, y = leaf(3), leaf(3, seed=1)
    gx, gy = bp.autograd.grad((x * y).sum(), [x, y])
    np.testing.assert_allclose(gx.numpy(), values(y), rtol=1e-12)
    np.testing.assert_allclose(gy.numpy(), values(x), rtol=1e-12)


def test_grad_allow_unused() -> None:
    x, unused = leaf(3), leaf(2, seed=1)
    with pytest.raises(GraphError, match=r"input 1 \(shape \(2,\)\) was not used.*allow_unused"):
        bp.autograd.grad((x * 2.0).sum(), [x, unused], retain_graph=True)
    gx, gu = bp.autograd.grad((x * 2.0).sum(), [x, unused], allow_unused=True)
    assert gu is None
    np.testing.assert_allclose(gx.numpy(), [2.0, 2.0, 2.0])
    _, zeros = bp.autograd.grad((x * 2.0).sum(), [x, unused], materialize_grads=True)
    np.testing.assert_array_equal(zeros.numpy(), [0.0, 0.0])


def test_grad_outputs() -> None:
    x = leaf(3)
    v = bp.tensor([1.0, 0.0, -1.0], dtype=bp.float64)
    (g,) = bp.autograd.grad(x.exp(), x, grad_outputs=v)
    np.testing.assert_allclose(g.numpy(), np.exp(values(x)) * [1.0, 0.0, -1.0], rtol=1e-12)
    with pytest.raises(GraphError, match="only for scalar outputs"):
        bp.autograd.grad(x.exp(), x)


def test_grad_with_respect_to_a_tensor_without_grad_raises() -> None:
    x = leaf(2)
    with pytest.raises(GraphError, match=r"grad: input 0 does not require grad"):
        bp.autograd.grad((x * 2.0).sum(), bp.ones(2))


def test_hessian_vector_product_of_sum_of_cubes() -> None:
    x = leaf(4)
    v = bp.tensor([1.0, -1.0, 2.0, 0.5], dtype=bp.float64)
    (g,) = bp.autograd.grad((x ** 3).sum(), x, create_graph=True)
    assert g.requires_grad
    np.testing.assert_allclose(g.detach().numpy(), 3 * values(x) ** 2, rtol=1e-12)
    (hv,) = bp.autograd.grad(g, x, grad_outputs=v)
    np.testing.assert_allclose(hv.numpy(), 6 * values(x) * v.numpy(), rtol=1e-12)


def test_hessian_of_a_small_mlp_matches_the_analytic_one() -> None:
    # f(x) = sum(tanh(W x + b) * c): H = W^T diag(c * tanh''(z)) W with tanh'' = -2 t (1 - t^2).
    rng = np.random.default_rng(3)
    W = rng.standard_normal((5, 3))
    b, c = rng.standard_normal(5), rng.standard_normal(5)
    x = bp.tensor(rng.standard_normal(3), requires_grad=True)
    Wt, bt, ct = (bp.tensor(a) for a in (W, b, c))

    z = (Wt * x.reshape(1, 3)).sum(1) + bt
    (g,) = bp.autograd.grad(((z.tanh()) * ct).sum(), x, create_graph=True)
    rows = [bp.autograd.grad(g, x, grad_outputs=bp.tensor(e), retain_graph=True)[0].numpy()
            for e in np.eye(3)]
    t = np.tanh(W @ values(x) + b)
    expected = W.T @ np.diag(c * -2 * t * (1 - t ** 2)) @ W
    np.testing.assert_allclose(np.stack(rows), expected, rtol=1e-10, atol=1e-12)


def test_third_derivative_by_repeated_grad() -> None:
    x = bp.tensor([0.5, -1.5, 2.0], dtype=bp.float64, requires_grad=True)
    y = (x ** 4).sum()
    (d1,) = bp.autograd.grad(y, x, create_graph=True)
    (d2,) = bp.autograd.grad(d1.sum(), x, create_graph=True)
    (d3,) = bp.autograd.grad(d2.sum(), x)
    v = values(x)
    np.testing.assert_allclose(d1.detach().numpy(), 4 * v ** 3, rtol=1e-12)
    np.testing.assert_allclose(d2.detach().numpy(), 12 * v ** 2, rtol=1e-12)
    np.testing.assert_allclose(d3.numpy(), 24 * v, rtol=1e-12)


def test_grad_with_respect_to_a_non_leaf() -> None:
    x = leaf(3)
    h = x * 2.0
    out = (h ** 2).sum()
    (gh,) = bp.autograd.grad(out, h)
    np.testing.assert_allclose(gh.numpy(), 2 * values(h), rtol=1e-12)
    assert x.grad is None and h.grad is None


def test_grad_does_not_touch_leaf_grads() -> None:
    x = leaf(3)
    x.grad = bp.ones(3, dtype=bp.float64)
    bp.autograd.grad((x * 5.0).sum(), x)
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 1.0])
    w = leaf(3, seed=1)
    bp.autograd.grad((x * w).sum(), x)
    assert w.grad is None


def test_create_graph_backward_accumulates_a_differentiable_grad() -> None:
    x = leaf(3)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (g2,) = bp.autograd.grad(x.grad.sum(), x)
    np.testing.assert_allclose(g2.numpy(), 6 * values(x), rtol=1e-12)


# -- gradcheck -------------------------------------------------------------------------------------


class WrongSquare(Square):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2.1 * x  # deliberately wrong


class DetachedSquare(Square):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2.0 * x.detach()  # right first derivative, no second derivative


def test_gradcheck_accepts_a_correct_function() -> None:
    x = leaf(4)
    assert bp.autograd.gradcheck(Square.apply, (x,))
    assert bp.autograd.gradgradcheck(Square.apply, (x,))


def test_gradcheck_rejects_a_wrong_backward() -> None:
    x = leaf(4)
    with pytest.raises(bp.autograd.GradcheckError, match=r"Jacobian mismatch for input 0"):
        bp.autograd.gradcheck(WrongSquare.apply, (x,))
    assert bp.autograd.gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False


def test_gradgradcheck_rejects_a_backward_that_is_not_differentiable() -> None:
    x = leaf(4)
    assert bp.autograd.gradcheck(DetachedSquare.apply, (x,))
    with pytest.raises(bp.autograd.GradcheckError):
        bp.autograd.gradgradcheck(DetachedSquare.apply, (x,))


def test_gradcheck_requires_float64_inputs() -> None:
    x = leaf(3, dtype=np.float32)
    with pytest.raises(DTypeError, match="float64"):
        bp.autograd.gradcheck(lambda t: t * 2.0, (x,))


@pytest.mark.parametrize("decorator", [bp.no_grad, bp.enable_grad])
def test_grad_mode_decorators_work_without_parentheses(decorator) -> None:
    @decorator
    def mode() -> bool:
        return bp.is_grad_enabled()

    with bp.set_grad_enabled(decorator is bp.no_grad):
        assert mode() is (decorator is bp.enable_grad)
