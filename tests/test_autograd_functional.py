"""``bp.autograd.functional`` (vjp, jvp, jacobian, hessian, hvp, vhp) against
``torch.autograd.functional`` in float64: values, return structures (tensor, tuple or list, as
PyTorch nests them) for every keyword variant, and the ``strict`` and argument errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp
import backprop.autograd.functional as BF

torch = pytest.importorskip("torch")
TF = pytest.importorskip("torch.autograd.functional")

RNG = np.random.default_rng(0)
A = RNG.standard_normal(3)
B = RNG.standard_normal(2)
VA = RNG.standard_normal(3)
VB = RNG.standard_normal(2)


def same(ours: Any, theirs: Any, path: str = "") -> None:
    """Equal values and the same nesting of tuples, lists and tensors."""
    if isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs), f"{path}: {type(ours).__name__} vs " \
                                           f"{type(theirs).__name__}"
        assert len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            same(a, b, f"{path}[{i}]")
        return
    assert isinstance(ours, bp.Tensor), f"{path}: {type(ours).__name__}"
    assert tuple(ours.shape) == tuple(theirs.shape), path
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10,
                               atol=1e-12, err_msg=path)


def on(m: Any, *arrays: np.ndarray) -> Any:
    tensors = tuple(m.tensor(a) for a in arrays)
    return tensors[0] if len(tensors) == 1 else tensors


def two_in_two_out(a: Any, b: Any) -> Any:
    return a.exp() * a.sum() * b.sum(), (a[:2] * b).tanh()


def two_in_one_out(a: Any, b: Any) -> Any:
    return (a[:2].sin() * b.exp()).sum() + (a ** 3).sum()


def one_in_one_out(a: Any) -> Any:
    return a.exp() * a.sum()


def scalar_of_one(a: Any) -> Any:
    return (a.exp().sum()) * (a ** 2).sum()


def scalar_of_two(a: Any, b: Any) -> Any:
    return (a.exp().sum()) * b.sin().sum() + (a[:2] * b ** 3).sum()


@pytest.mark.parametrize("vectorize", [False, True])
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("fn,inputs", [
    (two_in_two_out, (A, B)), (two_in_one_out, (A, B)), (one_in_one_out, (A,)),
    (lambda a: (a.exp(), a * 2), (A,)),
])
def test_jacobian(fn: Any, inputs: tuple, create_graph: bool, vectorize: bool) -> None:
    ours = BF.jacobian(fn, on(bp, *inputs), create_graph=create_graph, vectorize=vectorize)
    theirs = TF.jacobian(fn, on(torch, *inputs), create_graph=create_graph, vectorize=vectorize)
    same(ours, theirs)


@pytest.mark.parametrize("fn,inputs", [
    (two_in_two_out, (A, B)), (two_in_one_out, (A, B)), (one_in_one_out, (A,)),
    (lambda a: (a.exp(), a * 2), (A,)),
])
def test_jacobian_forward_mode(fn: Any, inputs: tuple) -> None:
    ours = BF.jacobian(fn, on(bp, *inputs), vectorize=True, strategy="forward-mode")
    theirs = TF.jacobian(fn, on(torch, *inputs), vectorize=True, strategy="forward-mode")
    same(ours, theirs)  # lists where PyTorch nests lists


def test_jacobian_with_create_graph_is_differentiable() -> None:
    x = bp.tensor(A, requires_grad=True)
    jac = BF.jacobian(one_in_one_out, x, create_graph=True)
    (g,) = bp.autograd.grad(jac.sum(), x)
    tx = torch.tensor(A, requires_grad=True)
    (tg,) = torch.autograd.grad(TF.jacobian(one_in_one_out, tx, create_graph=True).sum(), tx)
    np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-10)


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
@pytest.mark.parametrize("fn,inputs", [(scalar_of_two, (A, B)), (scalar_of_one, (A,))])
def test_hessian(fn: Any, inputs: tuple, strategy: str) -> None:
    vectorize = strategy == "forward-mode"  # PyTorch's forward mode needs it
    ours = BF.hessian(fn, on(bp, *inputs), vectorize=vectorize,
                      outer_jacobian_strategy=strategy)
    theirs = TF.hessian(fn, on(torch, *inputs), vectorize=vectorize,
                        outer_jacobian_strategy=strategy)
    same(ours, theirs)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", ["hvp", "vhp"])
@pytest.mark.parametrize("fn,inputs,v", [(scalar_of_two, (A, B), (VA, VB)),
                                         (scalar_of_one, (A,), (VA,))])
def test_hvp_and_vhp(name: str, fn: Any, inputs: tuple, v: tuple, create_graph: bool) -> None:
    ours = getattr(BF, name)(fn, on(bp, *inputs), on(bp, *v), create_graph=create_graph)
    theirs = getattr(TF, name)(fn, on(torch, *inputs), on(torch, *v), create_graph=create_graph)
    same(ours, theirs)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("fn,inputs,v", [
    (two_in_two_out, (A, B), (VA, VB[:2])), (one_in_one_out, (A,), (VA,)),
])
def test_vjp_and_jvp(fn: Any, inputs: tuple, v: tuple, create_graph: bool) -> None:
    jv = on(bp, *(VA, VB)) if len(inputs) == 2 else on(bp, VA)
    tjv = on(torch, *(VA, VB)) if len(inputs) == 2 else on(torch, VA)
    same(BF.jvp(fn, on(bp, *inputs), jv, create_graph=create_graph),
         TF.jvp(fn, on(torch, *inputs), tjv, create_graph=create_graph))
    same(BF.vjp(fn, on(bp, *inputs), on(bp, *v), create_graph=create_graph),
         TF.vjp(fn, on(torch, *inputs), on(torch, *v), create_graph=create_graph))


def test_v_may_be_omitted_for_one_element() -> None:
    x = np.array([0.7])
    for name, fn in (("vjp", lambda a: (a ** 3).sum()), ("jvp", lambda a: a ** 3),
                     ("hvp", lambda a: (a ** 3).sum()), ("vhp", lambda a: (a ** 3).sum())):
        same(getattr(BF, name)(fn, bp.tensor(x)), getattr(TF, name)(fn, torch.tensor(x)))


def test_independent_inputs_give_zeros_or_strict_errors() -> None:
    def fn(a: Any, b: Any) -> Any:
        return (a ** 2).sum()

    same(BF.vjp(fn, on(bp, A, B)), TF.vjp(fn, on(torch, A, B)))
    same(BF.jacobian(fn, on(bp, A, B)), TF.jacobian(fn, on(torch, A, B)))
    same(BF.hessian(fn, on(bp, A, B)), TF.hessian(fn, on(torch, A, B)))
    cases = [
        (lambda m: m.vjp(fn, on(torch if m is TF else bp, A, B), strict=True)),
        (lambda m: m.jacobian(fn, on(torch if m is TF else bp, A, B), strict=True)),
        (lambda m: m.hessian(fn, on(torch if m is TF else bp, A, B), strict=True)),
        (lambda m: m.jvp(lambda a: a.detach(),
                         on(torch if m is TF else bp, A), on(torch if m is TF else bp, VA),
                         strict=True)),
        (lambda m: m.jacobian(fn, on(torch if m is TF else bp, A, B), strict=True,
                              vectorize=True)),
        (lambda m: m.jacobian(fn, on(torch if m is TF else bp, A, B), strict=True,
                              vectorize=True, strategy="forward-mode")),
    ]
    for case in cases:
        with pytest.raises(RuntimeError) as theirs:
            case(TF)
        with pytest.raises(RuntimeError, match=_escaped(str(theirs.value))):
            case(BF)


def _escaped(message: str) -> str:
    import re

    return re.escape(message)


def test_argument_errors_are_pytorchs() -> None:
    calls = [
        lambda m, t: m.vjp(lambda a: a * 2, [t(A)]),
        lambda m, t: m.jvp(lambda a: a * 2, (t(A), 3)),
        lambda m, t: m.jvp(lambda a: a * 2, t(A)),
        lambda m, t: m.vjp(lambda a: a * 2, t(A), (t(A), t(A))),
        lambda m, t: m.jvp(lambda a, b: a * b, (t(A), t(A)), (t(A),)),
        lambda m, t: m.hvp(lambda a: a * 2, t(A), t(A)),
        lambda m, t: m.vhp(lambda a: a * 2, t(A), t(A)),
        lambda m, t: m.hessian(lambda a: (a, a), t(A)),
        lambda m, t: m.vjp(lambda a: a * 2, t(A), t(B)),
        lambda m, t: m.jacobian(lambda a: a, t(A), strategy="sideways"),
        lambda m, t: m.jacobian(lambda a: a, t(A), strategy="forward-mode"),
        lambda m, t: m.jacobian(lambda a: a, t(A), strategy="forward-mode", create_graph=True),
    ]
    for call in calls:
        with pytest.raises(Exception) as theirs:
            call(TF, torch.tensor)
        with pytest.raises(type(theirs.value)) as ours:
            call(BF, bp.tensor)
        expected = str(theirs.value).replace("torch.Size([", "(").replace("])", ",)")
        # shapes print as tuples here: compare the message up to them
        assert str(ours.value).split("(")[0] == expected.split("(")[0], (ours.value, expected)


def test_served_as_torch_autograd_functional() -> None:
    for name in ("vjp", "jvp", "jacobian", "hessian", "hvp", "vhp", "grad", "backward"):
        assert callable(getattr(BF, name))
    assert bp.autograd.functional is BF
    assert bp.autograd.forward_ad.make_dual.__module__ == "backprop.autograd.forward_ad"


def test_forward_mode_jacobian_of_an_input_without_elements() -> None:
    # no column to push: the Jacobian is (0, 0), in the output's dtype, as PyTorch's
    ours = BF.jacobian(lambda x: x * 2, bp.zeros(0, dtype=bp.float32), vectorize=True,
                       strategy="forward-mode")
    empty = torch.zeros(0, dtype=torch.float32)  # whatever default an earlier test left
    theirs = torch.autograd.functional.jacobian(lambda x: x * 2, empty, vectorize=True,
                                                strategy="forward-mode")
    assert ours.shape == tuple(theirs.shape) == (0, 0)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
