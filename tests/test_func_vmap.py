"""bp.func.vmap against torch.func.vmap and against loops: rules, dims, nesting, errors."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F
from backprop.func import vmap
from backprop.func.batching import FALLBACK_HITS, _warned

torch = pytest.importorskip("torch")
TF = torch.nn.functional
RNG = np.random.default_rng(0)


def arrays(*shapes: tuple) -> list[np.ndarray]:
    return [RNG.standard_normal(s) for s in shapes]


def agree(ours, theirs) -> None:
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            agree(o, t)
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10,
                               atol=1e-12)


def both(ours_fn, torch_fn, inputs: list, **kwargs) -> None:
    """vmap(ours_fn) and torch.func.vmap(torch_fn) on the same float64 inputs agree, and no
    op took the loop."""
    FALLBACK_HITS.clear()
    ours = vmap(ours_fn, **kwargs)(*[bp.tensor(a) if isinstance(a, np.ndarray) else a
                                    for a in inputs])
    theirs = torch.func.vmap(torch_fn, **kwargs)(*[torch.tensor(a) if isinstance(a, np.ndarray)
                                                   else a for a in inputs])
    agree(ours, theirs)
    assert not FALLBACK_HITS, f"fell back to a loop for {sorted(FALLBACK_HITS)}"


CASES = {
    "broadcasting": (lambda x, y: x * y + x.exp() - y, lambda x, y: x * y + x.exp() - y,
                     arrays((4, 2, 3), (4, 3)), {}),
    "sum_by_dim": (lambda x: x.sum(dim=1, keepdim=True) + x.mean(), lambda x: x.sum(
        dim=1, keepdim=True) + x.mean(), arrays((4, 2, 3)), {}),
    "softmax": (lambda x: F.softmax(x, dim=-1) * F.log_softmax(x, dim=0),
                lambda x: TF.softmax(x, dim=-1) * TF.log_softmax(x, dim=0), arrays((5, 2, 3)),
                {}),
    "var_max": (lambda x: x.var(dim=0) + x.amax(dim=-1).sum(), lambda x: x.var(dim=0) + x.amax(
        dim=-1).sum(), arrays((3, 4, 5)), {}),
    "argmax_flat": (lambda x: x.argmax(), lambda x: x.argmax(), arrays((3, 4, 5)), {}),
    "matmul_matrix_vector": (lambda a, v: a @ v, lambda a, v: a @ v, arrays((4, 2, 3), (4, 3)),
                             {}),
    "matmul_vector_matrix": (lambda v, a: v @ a, lambda v, a: v @ a, arrays((4, 2), (2, 5)),
                             {"in_dims": (0, None)}),
    "matmul_batched_stacks": (lambda a, b: a @ b, lambda a, b: a @ b,
                              arrays((4, 2, 3), (4, 7, 3, 2)), {}),
    "linear": (lambda x, w, b: F.linear(x, w, b), lambda x, w, b: TF.linear(x, w, b),
               arrays((4, 5, 3), (2, 3), (2,)), {"in_dims": (0, None, None)}),
    "linear_batched_weight": (lambda x, w, b: F.linear(x, w, b), lambda x, w, b: TF.linear(
        x, w, b), arrays((5, 3), (4, 2, 3), (4, 2)), {"in_dims": (None, 0, 0)}),
    "conv2d": (lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1),
               arrays((3, 2, 2, 5, 5), (4, 2, 3, 3)), {"in_dims": (0, None)}),
    "conv2d_batched_weight": (lambda x, w, b: F.conv2d(x, w, b, stride=2), lambda x, w, b:
                              TF.conv2d(x, w, b, stride=2),
                              arrays((3, 2, 2, 6, 6), (3, 4, 2, 3, 3), (3, 4)), {}),
    "conv2d_unbatched_example": (lambda x, w: F.conv2d(x, w), lambda x, w: TF.conv2d(x, w),
                                 arrays((3, 2, 5, 5), (4, 2, 3, 3)), {"in_dims": (0, None)}),
    "indexing": (lambda x: x[1:, ::2] + x[:2, ..., 0:1] + x[[0, 1, 1], 1:4].sum(0),
                 lambda x: x[1:, ::2] + x[:2, ..., 0:1] + x[[0, 1, 1], 1:4].sum(0), arrays((4, 3, 5)),
                 {}),
    "shapes": (lambda x: x.reshape(2, -1).t().flatten().unsqueeze(0).expand(3, -1),
               lambda x: x.reshape(2, -1).t().flatten().unsqueeze(0).expand(3, -1),
               arrays((4, 6)), {}),
    "cat_stack": (lambda x, y: bp.cat([x, y], dim=-1) + bp.stack([x, y], dim=0).sum(0).repeat(
        1, 2), lambda x, y: torch.cat([x, y], dim=-1) + torch.stack([x, y], dim=0).sum(0).repeat(
        1, 2), arrays((4, 2, 3), (2, 3)), {"in_dims": (0, None)}),
    "in_and_out_dims": (lambda x, y: (x * y).transpose(0, 1), lambda x, y: (x * y).transpose(0, 1),
                        arrays((2, 5, 3), (2, 3, 5)), {"in_dims": (1, 2), "out_dims": 2}),
    "einsum": (lambda a, b: bp.einsum("ij,jk->ik", a, b), lambda a, b: torch.einsum(
        "ij,jk->ik", a, b), arrays((4, 2, 3), (4, 3, 2)), {}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch_func_vmap(name: str) -> None:
    ours, theirs, inputs, kwargs = CASES[name]
    both(ours, theirs, inputs, **kwargs)


def test_cross_entropy_and_nll_loss_with_batched_targets() -> None:
    x = RNG.standard_normal((4, 3, 5))
    t = RNG.integers(0, 5, (4, 3))
    t[0, 1] = -100
    w = RNG.random(5)
    for reduction in ("none", "sum", "mean"):
        both(lambda a, b, r=reduction: F.cross_entropy(a, b, reduction=r, label_smoothing=0.1),
             lambda a, b, r=reduction: TF.cross_entropy(a, b, reduction=r, label_smoothing=0.1),
             [x, t])
        both(lambda a, b, c, r=reduction: F.nll_loss(F.log_softmax(a, 1), b, c, reduction=r),
             lambda a, b, c, r=reduction: TF.nll_loss(TF.log_softmax(a, 1), b, c, reduction=r),
             [x, t, w], in_dims=(0, 0, None))
    # weights with label smoothing: torch.func cannot batch it; a loop of ours is the oracle
    ours = vmap(lambda a, b: F.cross_entropy(a, b, bp.tensor(w), label_smoothing=0.2))(
        bp.tensor(x), bp.tensor(t))
    loop = [F.cross_entropy(bp.tensor(x[i]), bp.tensor(t[i]), bp.tensor(w),
                            label_smoothing=0.2).item() for i in range(4)]
    np.testing.assert_allclose(ours.numpy(), loop, rtol=1e-12)


def test_embedding_with_batched_indices() -> None:
    idx, table = RNG.integers(0, 6, (4, 3)), RNG.standard_normal((6, 2))
    both(lambda i, w: F.embedding(i, w), lambda i, w: TF.embedding(i, w), [idx, table],
         in_dims=(0, None))


def test_nested_vmap_and_levels() -> None:
    x, y = arrays((3, 4, 5), (4, 5))
    inner = lambda a, b: (a * b).sum(-1)
    both(lambda a, b: vmap(inner, in_dims=(0, None))(a, b),
         lambda a, b: torch.func.vmap(inner, in_dims=(0, None))(a, b), [x, y],
         in_dims=(0, None))
    # the inner vmap maps over y, which the outer one does not batch, beside x batched outside
    both(lambda a, b: vmap(lambda r: (a * r).sum())(b), lambda a, b: torch.func.vmap(
        lambda r: (a * r).sum())(b), [x[:, 0], y], in_dims=(0, None))
    both(lambda a: vmap(vmap(lambda e: e.sin() @ e.cos().transpose(0, 1)))(a),
         lambda a: torch.func.vmap(torch.func.vmap(
             lambda e: e.sin() @ e.cos().transpose(0, 1)))(a),
         [RNG.standard_normal((2, 3, 2, 4, 5))])  # three levels, each example a matrix


def test_chunk_size_and_trees() -> None:
    x = RNG.standard_normal((7, 3))
    f = lambda d: {"s": d["a"].sum(), "p": (d["a"] * d["b"], d["b"])}
    ours = vmap(f, in_dims=({"a": 0, "b": None},), chunk_size=3)(
        {"a": bp.tensor(x), "b": bp.tensor(x[0])})
    theirs = torch.func.vmap(f, in_dims=({"a": 0, "b": None},), chunk_size=3)(
        {"a": torch.tensor(x), "b": torch.tensor(x[0])})
    agree(ours["s"], theirs["s"])
    agree(ours["p"], theirs["p"])


def test_fallback_loops_and_warns_once() -> None:
    x, y = arrays((4, 3, 2), (5, 2))
    FALLBACK_HITS.clear()
    _warned.discard("cdist")  # the warning comes once per op and process
    with pytest.warns(UserWarning, match="no batching rule for cdist"):
        ours = vmap(bp.cdist, in_dims=(0, None))(bp.tensor(x), bp.tensor(y))
    assert FALLBACK_HITS == {"cdist": 1}
    agree(ours, torch.func.vmap(torch.cdist, in_dims=(0, None))(torch.tensor(x), torch.tensor(y)))


def test_randomness_modes() -> None:
    x = bp.ones(6, 200)
    with pytest.raises(RuntimeError, match="randomness='error'"):
        vmap(lambda r: F.dropout(r, 0.5))(x)
    same = vmap(lambda r: F.dropout(r, 0.5), randomness="same")(x).numpy()
    assert (same == same[0]).all() and set(np.unique(same)) == {0.0, 2.0}
    different = vmap(lambda r: F.dropout(r, 0.5), randomness="different")(x).numpy()
    assert not (different == different[0]).all() and set(np.unique(different)) == {0.0, 2.0}
    assert vmap(lambda r: F.dropout(r, 0.5, training=False))(x).numpy().tolist() == \
        x.numpy().tolist()
    draws = vmap(lambda p: bp.bernoulli(p), randomness="different")(bp.full((6, 100), 0.5))
    assert not (draws.numpy() == draws.numpy()[0]).all()


def test_logical_shape_and_refusals() -> None:
    seen = []

    def f(row: bp.Tensor) -> bp.Tensor:
        seen.append((row.shape, row.ndim, len(row), row.size(-1), row.numel()))
        return row

    vmap(f, in_dims=1)(bp.zeros(3, 5, 2))
    assert seen == [((3, 2), 2, 3, 2, 6)]
    with pytest.raises(RuntimeError, match="vmap: item"):
        vmap(lambda r: r.sum().item())(bp.ones(2, 3))
    with pytest.raises(RuntimeError, match="data-dependent Python control flow"):
        vmap(lambda r: r if r.sum() > 0 else -r)(bp.ones(2, 3))


def test_bad_inputs_name_vmap_the_argument_and_the_sizes() -> None:
    with pytest.raises(ValueError, match=r"vmap: in_dims has 1 entries but .* 2 positional"):
        vmap(bp.add, in_dims=(0,))(bp.ones(2), bp.ones(2))
    with pytest.raises(ValueError, match=r"different batch sizes \(input 0: 2, input 1: 3\)"):
        vmap(bp.add)(bp.ones(2), bp.ones(3))
    with pytest.raises(ValueError, match=r"in_dim 2 is out of range for input 0 of shape \(2, 3\)"):
        vmap(bp.exp, in_dims=2)(bp.ones(2, 3))
    with pytest.raises(ValueError, match="at least one input must be batched"):
        vmap(bp.exp, in_dims=None)(bp.ones(2))
    with pytest.raises(ValueError, match="randomness must be"):
        vmap(bp.exp, randomness="sometimes")


def test_no_transform_means_no_observer() -> None:
    vmap(bp.exp)(bp.ones(2, 2))
    assert bp.autograd.observers.REGISTRY.count == 0


def test_torch_func_is_served() -> None:
    from backprop._torch_modules import served_name

    assert served_name("torch.func") == "backprop.func"
    assert bp.func.vmap is vmap
