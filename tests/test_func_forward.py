"""``bp.func.jvp``, ``jacfwd`` and ``hessian`` against ``torch.func`` in float64, their
composition with ``vmap`` and reverse mode, and ``jacrev``'s backward pass run once for the
whole basis."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.func import batching

F = bp.nn.functional
RNG = np.random.default_rng(19)
X = RNG.normal(size=4)
V = RNG.normal(size=4)
W = RNG.normal(size=(3, 4))
BATCH = RNG.normal(size=(5, 4))


def smooth(x, lib):
    return (x.sin() * x.exp()).sum() + (lib.tensor(W) @ x).tanh().sum()


def two_args(a, b, lib):
    return (a * b.exp()).sum() + (a ** 2 * b).sum()


@pytest.fixture
def torch():
    torch = pytest.importorskip("torch")
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(previous)


def close(ours, theirs):
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_jvp_matches_torch_with_trees_and_aux(torch) -> None:
    def f(lib):
        return lambda pair, c: ({"sum": (pair[0] * pair[1]).sin(), "c": c.exp()}, pair[0].cos())

    primals = ((X, V), W[0])
    tangents = ((V, X), W[1])
    ours = bp.func.jvp(f(bp), _tree(bp.tensor, primals), _tree(bp.tensor, tangents),
                       has_aux=True)
    theirs = torch.func.jvp(f(torch), _tree(torch.tensor, primals),
                            _tree(torch.tensor, tangents), has_aux=True)
    for k in ("sum", "c"):
        close(ours[0][k], theirs[0][k])
        close(ours[1][k], theirs[1][k])
    close(ours[2], theirs[2])


def _tree(make, tree):
    return tuple(_tree(make, t) if isinstance(t, tuple) else make(t) for t in tree)


def test_jvp_of_a_constant_output_is_zero() -> None:
    _, tangent = bp.func.jvp(lambda x: bp.ones(3), (bp.tensor(X),), (bp.tensor(V),))
    assert tangent.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("primals,tangents,message", [
    ([bp.tensor(X)], (bp.tensor(V),), "primals to be a tuple"),
    ((bp.tensor(X),), (bp.tensor(V[:2]),), r"primal 0 has shape \(4,\) but its tangent"),
    ((bp.tensor(X), bp.tensor(V)), (bp.tensor(V),), "same python structure"),
])
def test_jvp_refuses_bad_pairs(primals, tangents, message) -> None:
    with pytest.raises((RuntimeError, bp.errors.ShapeError), match=message):
        bp.func.jvp(lambda *a: a[0], primals, tangents)


def test_jvp_inside_jvp_is_refused_as_in_forward_ad() -> None:
    inner = lambda x: bp.func.jvp(bp.sin, (x,), (x,))[1]
    with pytest.raises(RuntimeError, match="Nested forward mode"):
        bp.func.jvp(inner, (bp.tensor(X),), (bp.tensor(V),))


def test_jacfwd_matches_torch_and_jacrev(torch) -> None:
    ours = bp.func.jacfwd(lambda x: (bp.tensor(W) @ x).tanh())(bp.tensor(X))
    theirs = torch.func.jacfwd(lambda x: (torch.tensor(W) @ x).tanh())(torch.tensor(X))
    close(ours, theirs)
    close(bp.func.jacrev(lambda x: (bp.tensor(W) @ x).tanh())(bp.tensor(X)), theirs)


def test_jacfwd_with_argnums_tuple_and_aux(torch) -> None:
    ours, aux = bp.func.jacfwd(lambda a, b: (a * b, a.cos()), argnums=(0, 1), has_aux=True)(
        bp.tensor(X), bp.tensor(V))
    theirs, taux = torch.func.jacfwd(lambda a, b: (a * b, a.cos()), argnums=(0, 1),
                                     has_aux=True)(torch.tensor(X), torch.tensor(V))
    close(ours[0], theirs[0])
    close(ours[1], theirs[1])
    close(aux, taux)


@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_hessian_matches_torch(torch, argnums) -> None:
    ours = bp.func.hessian(lambda a, b: two_args(a, b, bp), argnums)(bp.tensor(X), bp.tensor(V))
    theirs = torch.func.hessian(lambda a, b: two_args(a, b, torch), argnums)(
        torch.tensor(X), torch.tensor(V))
    if isinstance(argnums, int):
        close(ours, theirs)
        return
    for i in range(2):
        for j in range(2):
            close(ours[i][j], theirs[i][j])


def test_hessian_of_a_network_loss_matches_torch(torch) -> None:
    inputs = RNG.normal(size=(6, 4))
    target = [0, 1, 2, 0, 1, 2]

    def loss(w, lib, functional):
        return functional.cross_entropy(functional.linear(lib.tensor(inputs), w).tanh(),
                                        lib.tensor(target))

    ours = bp.func.hessian(lambda w: loss(w, bp, F))(bp.tensor(W))
    theirs = torch.func.hessian(lambda w: loss(w, torch, torch.nn.functional))(torch.tensor(W))
    close(ours, theirs)


def test_forward_over_reverse_equals_reverse_over_reverse() -> None:
    hvp_forward = bp.func.jvp(bp.func.grad(lambda x: smooth(x, bp)), (bp.tensor(X),),
                              (bp.tensor(V),))[1]
    x = bp.tensor(X, requires_grad=True)
    (g,) = bp.autograd.grad(smooth(x, bp), x, create_graph=True)
    (hvp_reverse,) = bp.autograd.grad(g, x, bp.tensor(V))
    np.testing.assert_allclose(hvp_forward.numpy(), hvp_reverse.numpy(), rtol=1e-12)


def test_vmap_of_jvp_and_of_hessian_match_torch(torch) -> None:
    tangents = RNG.normal(size=(5, 4))
    ours = bp.func.vmap(lambda a, t: bp.func.jvp(lambda x: smooth(x, bp), (a,), (t,)))(
        bp.tensor(BATCH), bp.tensor(tangents))
    theirs = torch.func.vmap(lambda a, t: torch.func.jvp(lambda x: smooth(x, torch), (a,), (t,)))(
        torch.tensor(BATCH), torch.tensor(tangents))
    close(ours[0], theirs[0])
    close(ours[1], theirs[1])
    per_sample = bp.func.vmap(bp.func.hessian(lambda x: smooth(x, bp)))(bp.tensor(BATCH))
    close(per_sample, torch.func.vmap(torch.func.hessian(lambda x: smooth(x, torch)))(
        torch.tensor(BATCH)))


def test_jvp_with_an_unbatched_tangent_under_vmap() -> None:
    ours = bp.func.vmap(lambda a: bp.func.jvp(bp.sin, (a,), (bp.tensor(V),))[1])(
        bp.tensor(BATCH))
    np.testing.assert_allclose(ours.numpy(), np.cos(BATCH) * V, rtol=1e-13)


def test_jacrev_runs_one_backward_for_the_whole_basis(monkeypatch) -> None:
    # The rules run once on the batched basis: none of the MLP's ops falls back to a loop, and
    # the engine's backward runs once.
    passes = []
    run = bp.autograd.graph._propagate
    monkeypatch.setattr(bp.autograd.graph, "_propagate",
                        lambda *a: passes.append(1) or run(*a))
    before = dict(batching.FALLBACK_HITS)
    w1, w2 = bp.tensor(RNG.normal(size=(8, 4))), bp.tensor(RNG.normal(size=(3, 8)))
    jac = bp.func.jacrev(lambda x: F.log_softmax(F.linear(F.relu(F.linear(x, w1)), w2), dim=0))(
        bp.tensor(X))
    assert batching.FALLBACK_HITS == before
    assert len(passes) == 1
    x = bp.tensor(X, requires_grad=True)
    out = F.log_softmax(F.linear(F.relu(F.linear(x, w1)), w2), dim=0)
    rows = [bp.autograd.grad(out[k], x, retain_graph=True)[0].numpy() for k in range(3)]
    np.testing.assert_allclose(jac.numpy(), np.stack(rows), rtol=1e-12)


def test_autograd_grad_takes_a_vmap_batched_seed() -> None:
    x = bp.tensor(RNG.normal(size=(4, 3)), requires_grad=True)
    y = (x @ bp.tensor(W)).tanh()
    seeds = bp.tensor(RNG.normal(size=(6, 4, 4)))
    ours = bp.func.vmap(lambda s: bp.autograd.grad(y, x, s, retain_graph=True)[0])(seeds)
    for b in range(6):
        expected = bp.autograd.grad(y, x, seeds[b], retain_graph=True)[0]
        np.testing.assert_allclose(ours[b].numpy(), expected.numpy(), rtol=1e-13)
