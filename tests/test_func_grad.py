"""bp.func.grad, grad_and_value, vjp, jacrev, functional_call and stack_module_state against
torch.func, in float64; per-sample gradients of an MLP against a loop."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F
from backprop.func import (
    functional_call,
    grad,
    grad_and_value,
    jacrev,
    stack_module_state,
    vjp,
    vmap,
)

torch = pytest.importorskip("torch")
TF = torch.nn.functional
RNG = np.random.default_rng(1)


def close(ours, theirs, rtol: float = 1e-10) -> None:
    if isinstance(theirs, dict):
        assert set(ours) == set(theirs)
        for k in theirs:
            close(ours[k], theirs[k], rtol)
        return
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            close(o, t, rtol)
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol,
                               atol=1e-12)


def pair(*shapes: tuple) -> tuple[list, list]:
    arrays = [RNG.standard_normal(s) for s in shapes]
    return [bp.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


def f(x, y):
    return (x.sin() * y).sum() + (x * x).mean()


def test_grad_argnums_and_aux() -> None:
    ours, theirs = pair((3, 2), (3, 2))
    close(grad(f)(*ours), torch.func.grad(f)(*theirs))
    close(grad(f, argnums=1)(*ours), torch.func.grad(f, argnums=1)(*theirs))
    close(grad(f, argnums=(0, 1))(*ours), torch.func.grad(f, argnums=(0, 1))(*theirs))
    aux = lambda x, y: (f(x, y), {"y": y * 2})
    g, a = grad(aux, has_aux=True)(*ours)
    tg, ta = torch.func.grad(aux, has_aux=True)(*theirs)
    close((g, a["y"]), (tg, ta["y"]))
    (g, v) = grad_and_value(f, argnums=(0, 1))(*ours)
    (tg, tv) = torch.func.grad_and_value(f, argnums=(0, 1))(*theirs)
    close((g, v), (tg, tv))


def test_grad_of_trees_and_grad_of_grad() -> None:
    ours, theirs = pair((3,), (3,))
    tree = lambda d: (d["a"] ** 3 * d["b"][0]).sum()
    close(grad(tree)({"a": ours[0], "b": [ours[1]]}),
          torch.func.grad(tree)({"a": theirs[0], "b": [theirs[1]]}))
    cube = lambda x: (x ** 3).sum()
    second = grad(lambda x: grad(cube)(x).sin().sum())
    close(second(ours[0]), torch.func.grad(lambda x: torch.func.grad(cube)(x).sin().sum())(
        theirs[0]))
    # the result reaches an outer graph: torch.func.grad composes with .backward
    w = bp.tensor(ours[0].numpy(), requires_grad=True)
    grad(cube)(w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 6 * ours[0].numpy(), rtol=1e-12)


def test_grad_errors() -> None:
    with pytest.raises(RuntimeError, match="grad: f must return a tensor with one element"):
        grad(lambda x: x * 2)(bp.ones(3))
    with pytest.raises(ValueError, match="argnums 2 is out of range"):
        grad(f, argnums=2)(bp.ones(1), bp.ones(1))
    with pytest.raises(TypeError, match="only floating point"):
        grad(lambda x: x.sum())(bp.tensor([1, 2]))


def test_vjp_matches_torch() -> None:
    ours, theirs = pair((3, 2), (2, 4))
    g = lambda a, b: (a @ b, (a.exp(), b.sum()))
    out, fn = vjp(g, *ours)
    tout, tfn = torch.func.vjp(g, *theirs)
    close(out, tout)
    cts, tcts = pair((3, 4), (3, 2), ())
    close(fn((cts[0], (cts[1], cts[2]))), tfn((tcts[0], (tcts[1], tcts[2]))))
    close(fn((cts[0], (cts[1], cts[2]))), tfn((tcts[0], (tcts[1], tcts[2]))))  # again
    with pytest.raises(RuntimeError, match="vjp_fn: cotangent 0 has shape"):
        fn((cts[1], (cts[1], cts[2])))


def test_jacrev_matches_torch() -> None:
    ours, theirs = pair((3,), (2, 3))
    h = lambda x, w: (w @ x.tanh(), x.sum())
    close(jacrev(h)(*ours), torch.func.jacrev(h)(*theirs))
    close(jacrev(h, argnums=(0, 1), chunk_size=1)(*ours),
          torch.func.jacrev(h, argnums=(0, 1))(*theirs))
    # a Jacobian per example, and the Jacobian of a vmapped function
    xs, txs = pair((4, 3))
    close(vmap(jacrev(h), in_dims=(0, None))(xs[0], ours[1]),
          torch.func.vmap(torch.func.jacrev(h), in_dims=(0, None))(txs[0], theirs[1]))
    close(jacrev(vmap(lambda x: x.sin() * x.sum()))(xs[0]),
          torch.func.jacrev(torch.func.vmap(lambda x: x.sin() * x.sum()))(txs[0]))


def mlp_params(tensor) -> dict:
    rng = np.random.default_rng(2)
    return {"w1": tensor(rng.standard_normal((8, 5)) * 0.5), "b1": tensor(rng.standard_normal(8)),
            "w2": tensor(rng.standard_normal((3, 8)) * 0.5), "b2": tensor(rng.standard_normal(3))}


def mlp_loss(functional, params, x, y):
    hidden = functional.linear(x, params["w1"], params["b1"]).relu()
    logits = functional.linear(hidden, params["w2"], params["b2"])
    return functional.cross_entropy(logits.unsqueeze(0), y.unsqueeze(0))


def test_per_sample_gradients_of_an_mlp() -> None:
    x, y = RNG.standard_normal((6, 5)), RNG.integers(0, 3, 6)
    params = mlp_params(bp.tensor)
    ours = vmap(grad(lambda p, a, b: mlp_loss(F, p, a, b)), in_dims=(None, 0, 0))(
        params, bp.tensor(x), bp.tensor(y))
    loop = [grad(lambda p, a, b: mlp_loss(F, p, a, b))(params, bp.tensor(x[i]), bp.tensor(y[i]))
            for i in range(6)]
    for name in params:
        np.testing.assert_allclose(ours[name].numpy(),
                                   np.stack([g[name].numpy() for g in loop]), rtol=1e-12)
    theirs = torch.func.vmap(torch.func.grad(lambda p, a, b: mlp_loss(TF, p, a, b)),
                             in_dims=(None, 0, 0))(mlp_params(torch.tensor), torch.tensor(x),
                                                   torch.tensor(y))
    close(ours, theirs)


def test_functional_call_and_restoring() -> None:
    model = bp.nn.Sequential(bp.nn.Linear(3, 4), bp.nn.BatchNorm1d(4), bp.nn.Linear(4, 2))
    model.eval()
    before = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    new = {k: v.detach() * 2 for k, v in model.named_parameters()}
    x = bp.tensor(RNG.standard_normal((5, 3)))
    out = functional_call(model, (new, dict(model.named_buffers())), (x,))
    reference = bp.nn.Sequential(bp.nn.Linear(3, 4), bp.nn.BatchNorm1d(4), bp.nn.Linear(4, 2))
    reference.load_state_dict({**model.state_dict(), **new})
    reference.eval()
    np.testing.assert_allclose(out.detach().numpy(), reference(x).detach().numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="boom"):
        functional_call(_Boom(model), {"inner." + k: v for k, v in new.items()}, (x,))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.detach().numpy(), before[k])
    with pytest.raises(RuntimeError, match="strict=True"):
        functional_call(model, new, (x,), strict=True)


class _Boom(bp.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        self.inner(x)
        raise RuntimeError("boom")


def test_functional_call_ties_shared_weights() -> None:
    model = bp.nn.Sequential(bp.nn.Linear(2, 2, bias=False), bp.nn.Linear(2, 2, bias=False))
    model[1].weight = model[0].weight
    w = bp.eye(2) * 3
    out = functional_call(model, {"0.weight": w}, (bp.ones(1, 2),))
    assert out.tolist() == [[9.0, 9.0]]
    untied = functional_call(model, {"0.weight": w}, (bp.ones(1, 2),), tie_weights=False)
    assert untied.tolist() != out.tolist()


def test_ensemble_with_stack_module_state() -> None:
    bp.manual_seed(0)
    models = [bp.nn.Sequential(bp.nn.Linear(4, 6), bp.nn.Tanh(), bp.nn.Linear(6, 2))
              for _ in range(3)]
    params, buffers = stack_module_state(models)
    assert params["0.weight"].shape == (3, 6, 4) and params["0.weight"].requires_grad
    base = models[0]
    x = bp.randn(5, 4)
    out = vmap(lambda p, b, data: functional_call(base, (p, b), (data,)),
               in_dims=(0, 0, None))(params, buffers, x)
    expected = bp.stack([m(x) for m in models])
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5,
                               atol=1e-6)  # float32 models: one matmul order against another
    # float32 as ours, whatever default dtype an earlier test left PyTorch with
    tmodels = [torch.nn.Sequential(torch.nn.Linear(4, 6, dtype=torch.float32), torch.nn.Tanh(),
                                   torch.nn.Linear(6, 2, dtype=torch.float32)) for _ in range(3)]
    for tm, m in zip(tmodels, models):
        tm.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in
                            m.state_dict().items()})
    tparams, tbuffers = torch.func.stack_module_state(tmodels)
    assert set(tparams) == set(params)
    theirs = torch.func.vmap(lambda p, b, data: torch.func.functional_call(
        tmodels[0], (p, b), (data,)), in_dims=(0, 0, None))(
        tparams, tbuffers, torch.tensor(x.numpy()))
    np.testing.assert_allclose(out.detach().numpy(), theirs.detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def cnn_loss(functional, params, x, y):
    h = functional.conv2d(x.unsqueeze(0), params["c"], params["cb"], padding=1).relu()
    h = functional.max_pool2d(h, 2).flatten(1)
    return functional.cross_entropy(functional.linear(h, params["w"]), y.unsqueeze(0))


def test_per_sample_gradients_of_a_cnn_match_torch() -> None:
    rng = np.random.default_rng(3)
    arrays = {"c": rng.standard_normal((3, 1, 3, 3)), "cb": rng.standard_normal(3),
              "w": rng.standard_normal((4, 12))}
    x, y = rng.standard_normal((5, 1, 4, 4)), rng.integers(0, 4, 5)
    ours = vmap(grad(lambda p, a, b: cnn_loss(F, p, a, b)), in_dims=(None, 0, 0))(
        {k: bp.tensor(v) for k, v in arrays.items()}, bp.tensor(x), bp.tensor(y))
    theirs = torch.func.vmap(torch.func.grad(lambda p, a, b: cnn_loss(TF, p, a, b)),
                             in_dims=(None, 0, 0))(
        {k: torch.tensor(v) for k, v in arrays.items()}, torch.tensor(x), torch.tensor(y))
    close(ours, theirs)


def test_zero_gradients_stay_zero_beside_infinite_values() -> None:
    # zeros are made, not multiplied out of the values (inf * 0 is NaN); as torch.func
    x = bp.tensor([1.0, 2.0])
    assert grad(lambda t: t.sum() * 0 + float("inf"))(x).tolist() == [0.0, 0.0]
    assert torch.func.grad(lambda t: t.sum() * 0 + float("inf"))(
        torch.tensor([1.0, 2.0])).tolist() == [0.0, 0.0]
    _, tangent = bp.func.jvp(lambda t: bp.full((2,), float("inf")), (x,), (x,))
    assert tangent.tolist() == [0.0, 0.0]
