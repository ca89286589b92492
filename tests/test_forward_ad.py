"""Forward-mode AD (``bp.autograd.forward_ad``): dual tensors' semantics and errors against
PyTorch's, views, in-place writes, grad modes, custom Functions' ``jvp``, complex tangents, and
forward-over-reverse Hessian-vector products against reverse-over-reverse and PyTorch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp
import backprop.autograd.forward_ad as fwAD
from backprop.autograd import observers

torch = pytest.importorskip("torch")
tfw = pytest.importorskip("torch.autograd.forward_ad")

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
T = RNG.standard_normal((3, 4))


def _both(fn_bp: Any, fn_torch: Any, x: np.ndarray = X, t: np.ndarray = T) -> None:
    """``fn`` of a dual of ``x`` with tangent ``t``: the same primal and tangent as PyTorch's."""
    with fwAD.dual_level():
        out = fn_bp(fwAD.make_dual(bp.tensor(x), bp.tensor(t)))
        ours = fwAD.unpack_dual(out)
        ours_primal, ours_tangent = ours.primal.numpy(), ours.tangent
    with tfw.dual_level():
        out = fn_torch(tfw.make_dual(torch.tensor(x), torch.tensor(t)))
        theirs = tfw.unpack_dual(out)
    np.testing.assert_allclose(ours_primal, theirs.primal.detach().numpy(), rtol=1e-12)
    if theirs.tangent is None:
        assert ours_tangent is None
    else:
        np.testing.assert_allclose(ours_tangent.numpy(), theirs.tangent.numpy(), rtol=1e-10,
                                   atol=1e-12)


def test_names_and_signatures_are_pytorchs() -> None:
    import inspect

    assert sorted(fwAD.__all__) == sorted(tfw.__all__)
    for name in ("make_dual", "unpack_dual", "enter_dual_level", "exit_dual_level"):
        ours = list(inspect.signature(getattr(fwAD, name)).parameters)
        theirs = list(inspect.signature(getattr(tfw, name)).parameters)
        assert ours == theirs, name


def test_make_dual_and_unpack_dual() -> None:
    tangent = bp.tensor(T)
    with fwAD.dual_level() as level:
        assert level == 0
        x = bp.tensor(X)
        dual = fwAD.make_dual(x, tangent)
        unpacked = fwAD.unpack_dual(dual)
        assert isinstance(unpacked, fwAD.UnpackedDualTensor)
        primal, got = unpacked
        assert got is tangent
        np.testing.assert_array_equal(primal.numpy(), X)
        assert fwAD.unpack_dual(primal).tangent is None  # the primal carries none
        assert fwAD.unpack_dual(x).tangent is None  # nor does the tensor made dual
    # leaving the level drops the tangents
    assert fwAD.unpack_dual(dual).tangent is None
    with fwAD.dual_level():
        assert fwAD.unpack_dual(dual).tangent is None
    assert observers.REGISTRY.count == 0  # nothing stays registered: ops pay nothing


def test_make_dual_keeps_the_history_for_backward() -> None:
    x = bp.tensor(X, requires_grad=True)
    with fwAD.dual_level():
        y = (fwAD.make_dual(x, bp.tensor(T)) ** 2).sum()
        y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * X)


def test_errors_are_pytorchs() -> None:
    x = bp.tensor(X)
    with pytest.raises(RuntimeError, match="no level exists, make sure to enter_dual_level"):
        fwAD.make_dual(x, bp.tensor(T))
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match=r"Tensor is of size \[3, 4\] while the given "
                                               r"forward gradient is of size \[4\]"):
            fwAD.make_dual(x, bp.ones(4, dtype=bp.float64))
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            fwAD.enter_dual_level()
        with pytest.raises(ValueError, match="Expected primal to be floating point or complex"):
            fwAD.make_dual(bp.tensor([1, 2]), bp.tensor([1, 2]))
        with pytest.raises(RuntimeError, match="Invalid level given to _make_dual"):
            fwAD.make_dual(x, bp.tensor(T), level=3)
    with pytest.raises(RuntimeError):
        fwAD.exit_dual_level()
    # and PyTorch raises the same where we do
    with tfw.dual_level():
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            tfw.enter_dual_level()


@pytest.mark.parametrize("name,fn", [
    ("getitem", lambda m, a: a[1:, ::2]),
    ("transpose", lambda m, a: a.T),
    ("reshape", lambda m, a: a.reshape(2, 6)),
    ("view", lambda m, a: a.view(4, 3)),
    ("expand", lambda m, a: a[:1].expand(3, 4)),
    ("unbind", lambda m, a: m.unbind(a, 1)[2]),
    ("sum", lambda m, a: a.sum(0)),
    ("cat", lambda m, a: m.cat([a, a * 2], 0)),
    ("softmax", lambda m, a: m.softmax(a, 1)),
    ("log_softmax", lambda m, a: m.log_softmax(a, 0)),
    ("matmul", lambda m, a: a @ a.T),
    ("pow", lambda m, a: a.abs() ** 1.5),
    ("lgamma", lambda m, a: m.lgamma(a.abs() + 0.5)),
    ("sort", lambda m, a: m.sort(a, 1)[0]),
])
def test_ops_and_views_match_pytorch(name: str, fn: Any) -> None:
    _both(lambda a: fn(bp, a), lambda a: fn(torch, a))


def test_tangents_are_computed_under_no_grad() -> None:
    def f(m: Any, a: Any) -> Any:
        with (bp.no_grad() if m is bp else torch.no_grad()):
            return (a.exp() * a).sum(1)

    _both(lambda a: f(bp, a), lambda a: f(torch, a))


def test_in_place_writes_carry_tangents() -> None:
    def add_(m: Any, a: Any) -> Any:
        a = a * 1  # not the dual view itself
        # (not a.mul_(a): PyTorch's tangent for an operand aliasing self is 3 a t, not 2 a t)
        a.mul_(a * 1)
        a.sub_(a.exp(), alpha=0.5)
        return a

    def into_plain(m: Any, a: Any) -> Any:
        y = m.zeros(3, 4, dtype=m.float64)
        y.add_(a)
        return y

    def through_view(m: Any, a: Any) -> Any:
        y = m.ones(3, 4, dtype=m.float64)
        y[1:, :2] = a[:2, 1:3] * 3
        return y

    def fill(m: Any, a: Any) -> Any:
        a = a * 1
        a[0].fill_(2.0)
        return a

    for fn in (add_, into_plain, through_view, fill):
        _both(lambda a: fn(bp, a), lambda a: fn(torch, a))  # noqa: B023 - called at once


class _Cube(bp.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_forward(x)
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2

    @staticmethod
    def jvp(ctx: Any, t: Any) -> Any:
        (x,) = ctx.saved_tensors
        return t * 3 * x ** 2


class _Square(bp.autograd.Function):
    """PyTorch's newer style: forward without ctx, setup_context, save_for_backward only."""

    @staticmethod
    def forward(x: Any) -> Any:
        return x * x

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> None:
        ctx.save_for_backward(inputs[0])

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return 2 * g * x

    @staticmethod
    def jvp(ctx: Any, t: Any) -> Any:
        (x,) = ctx.saved_tensors
        return 2 * t * x


class _NoJvp(bp.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return x * 2

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g * 2


def test_custom_function_jvp() -> None:
    with fwAD.dual_level():
        y = _Cube.apply(fwAD.make_dual(bp.tensor(X), bp.tensor(T)))
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.numpy(), 3 * X ** 2 * T)
        np.testing.assert_allclose(fwAD.unpack_dual(y).primal.numpy(), X ** 3)
        with pytest.raises(RuntimeError, match="You must implement the jvp function for custom "
                                               "autograd.Function to use it with forward mode"):
            _NoJvp.apply(fwAD.make_dual(bp.tensor(X), bp.tensor(T)))
    with fwAD.dual_level():
        x = bp.tensor(X, requires_grad=True)
        y = _Square.apply(fwAD.make_dual(x, bp.tensor(T)))
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.detach().numpy(), 2 * X * T)
        y.sum().backward()  # the node is recorded as usual
    np.testing.assert_allclose(x.grad.numpy(), 2 * X)
    # without duals a Function needs no jvp, inside a level or not
    with fwAD.dual_level():
        assert _NoJvp.apply(bp.tensor(X)).shape == (3, 4)


@pytest.mark.parametrize("name", ["exp", "sin", "abs", "angle", "sqrt", "reciprocal", "tanh",
                                  "log", "sigmoid", "real", "conj_physical"])
def test_complex_tangents_follow_pytorchs_convention(name: str) -> None:
    z = RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3))
    tz = RNG.standard_normal((2, 3)) + 1j * RNG.standard_normal((2, 3))
    _both(lambda a: getattr(bp, name)(a), lambda a: getattr(torch, name)(a), z, tz)


def test_complex_multilinear_and_derived_rules() -> None:
    z = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
    tz = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
    _both(lambda a: (a @ a.conj().T).abs(), lambda a: (a @ a.conj().T).abs(), z, tz)
    _both(lambda a: a / (a * a + 2), lambda a: a / (a * a + 2), z, tz)  # div: derived


# -- forward over reverse --------------------------------------------------------------------

def _mlp(m: Any, x: Any, w1: Any, w2: Any) -> Any:
    h = m.tanh(x @ w1)
    return (m.log_softmax(h @ w2, 1)[:, 0]).sum() + (x.exp() * x).sum()


def _hvp_reverse_over_reverse(f: Any, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    xt = bp.tensor(x, requires_grad=True)
    (g,) = bp.autograd.grad(f(xt), xt, create_graph=True)
    (hv,) = bp.autograd.grad(g, xt, grad_outputs=bp.tensor(v))
    return hv.numpy()


def _hvp_forward_over_reverse(f: Any, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    with fwAD.dual_level():
        xt = bp.tensor(x, requires_grad=True)
        dual = fwAD.make_dual(xt, bp.tensor(v))
        (g,) = bp.autograd.grad(f(dual), dual)
        return fwAD.unpack_dual(g).tangent.numpy()


def _hvp_torch(f: Any, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    return torch.autograd.functional.hvp(f, torch.tensor(x), torch.tensor(v))[1].numpy()


W1, W2 = RNG.standard_normal((4, 5)), RNG.standard_normal((5, 3))


@pytest.mark.parametrize("name,fn", [
    ("mlp", lambda m, x: _mlp(m, x, m.tensor(W1), m.tensor(W2))),
    ("softmax", lambda m, x: (m.softmax(x, 1) ** 2).sum()),
    ("logsumexp", lambda m, x: m.logsumexp(x, 0).sum()),
    ("pow", lambda m, x: (x.abs() ** 2.5).sum()),
    ("layer_norm", lambda m, x: (m.nn.functional.layer_norm(x, (4,)) ** 3).sum()),
    ("matmul", lambda m, x: (x @ x.T @ x).sum()),
    ("cross_entropy", lambda m, x: m.nn.functional.cross_entropy(x, m.tensor([0, 3, 1]))),
    ("sigmoid", lambda m, x: (m.sigmoid(x) * m.cos(x)).sum()),
])
def test_forward_over_reverse_hvp(name: str, fn: Any) -> None:
    v = RNG.standard_normal(X.shape)
    by_forward = _hvp_forward_over_reverse(lambda a: fn(bp, a), X, v)
    by_reverse = _hvp_reverse_over_reverse(lambda a: fn(bp, a), X, v)
    np.testing.assert_allclose(by_forward, by_reverse, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(by_forward, _hvp_torch(lambda a: fn(torch, a), X, v),
                               rtol=1e-10, atol=1e-12)


def test_forward_over_reverse_with_backward_fills_dual_grads() -> None:
    v = RNG.standard_normal(X.shape)
    with fwAD.dual_level():
        x = bp.tensor(X, requires_grad=True)
        (fwAD.make_dual(x, bp.tensor(v)) ** 3).sum().backward()
        tangent = fwAD.unpack_dual(x.grad).tangent.numpy()
    np.testing.assert_allclose(x.grad.numpy(), 3 * X ** 2)
    np.testing.assert_allclose(tangent, 6 * X * v)
