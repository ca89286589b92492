"""The backward engine's behaviour: accumulation, long graphs, hooks, memory, in-place checks."""

from __future__ import annotations

import gc
import sys
import weakref

import numpy as np
import pytest

import backprop as bp
from backprop.errors import GraphError
from helpers import leaf, values




# -- accumulation ----------------------------------------------------------------------------------

def test_diamond_accumulates_both_paths() -> None:
    x = leaf(4)
    a = x * 2.0
    b = x.exp()
    (a * b).sum().backward()
    v = values(x)
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(v) + 2 * v * np.exp(v), rtol=1e-12)


def test_same_tensor_used_twice_in_one_op() -> None:
    x = leaf(3)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * values(x), rtol=1e-12)


def test_gradients_accumulate_across_backward_calls() -> None:
    x = leaf(3)
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3.0 + 2 * values(x), rtol=1e-12)


def test_zero_grad_in_place_and_set_to_none_between_calls() -> None:
    x = leaf(3)
    (x * 3.0).sum().backward()
    grad = x.grad
    with bp.no_grad():
        x.grad.zero_()
    (x * 5.0).sum().backward()
    assert x.grad is grad  # accumulated into the same tensor
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0, 5.0])
    x.grad = None
    (x * 7.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [7.0, 7.0, 7.0])
    assert x.grad is not grad


def test_accumulated_grad_does_not_alias_the_seed_or_another_grad() -> None:
    x, y = leaf(3), leaf(3, seed=1)
    seed = bp.ones(3, dtype=bp.float64)
    (x + y).backward(gradient=seed)
    x.grad.add_(1.0)
    np.testing.assert_allclose(y.grad.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(seed.numpy(), [1.0, 1.0, 1.0])


# -- long graphs, without recursion ----------------------------------------------------------------

CHAIN = 100_000


def _chain(x: bp.Tensor, n: int) -> bp.Tensor:
    y = x
    for _ in range(n):
        y = y * 1.0000001
    return y


def test_chain_of_100k_ops_backwards() -> None:
    x = bp.tensor([1.0, 2.0], dtype=bp.float64, requires_grad=True)
    _chain(x, CHAIN).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0000001 ** CHAIN] * 2, rtol=1e-9)


def test_long_chain_needs_no_recursion() -> None:
    x = bp.tensor(1.0, dtype=bp.float64, requires_grad=True)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        y = x
        for _ in range(CHAIN):
            y = y + 0.0
        y.backward()
        del y  # dropping a deep graph must not recurse either
        gc.collect()
    finally:
        sys.setrecursionlimit(limit)
    assert x.grad.item() == 1.0


# -- no_grad and detach ----------------------------------------------------------------------------

def test_detach_cuts_the_graph() -> None:
    x = leaf(3)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    (x * d).sum().backward()  # d is a constant: the gradient is d, not 2x
    np.testing.assert_allclose(x.grad.numpy(), values(x), rtol=1e-12)


def test_detach_shares_storage() -> None:
    x = leaf(3)
    d = x.detach()
    assert np.shares_memory(d.numpy(), values(x))
    d.add_(1.0)  # d does not require grad, so this is allowed, and x sees it
    np.testing.assert_allclose(values(x), d.numpy())


def test_writing_through_a_detached_alias_is_caught() -> None:
    x = leaf(3)
    h = x * 1.0
    y = h * h  # saves h
    h.detach().mul_(2.0)
    with pytest.raises(GraphError, match=r"MulBackward.*modified in place by mul_"):
        y.sum().backward()


# -- hooks -----------------------------------------------------------------------------------------

def test_leaf_hook_fires_once_with_the_summed_gradient() -> None:
    x = leaf(3)
    calls: list[np.ndarray] = []
    x.register_hook(lambda g: calls.append(g.numpy().copy()))
    (x * 2.0 + x * 3.0 + x.exp()).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], 5.0 + np.exp(values(x)), rtol=1e-12)


def test_non_leaf_hook_fires_once_with_the_summed_gradient() -> None:
    x = leaf(3)
    h = x * 2.0
    calls: list[np.ndarray] = []
    h.register_hook(lambda g: calls.append(g.numpy().copy()))
    (h * h + h).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], 2 * values(h) + 1.0, rtol=1e-12)


def test_hook_returning_a_gradient_replaces_it() -> None:
    x = leaf(3)
    h = x * 2.0
    h.register_hook(lambda g: g * 10.0)
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 20.0, 20.0])
    x.grad = None
    x.register_hook(lambda g: g + 1.0)
    (x * 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0, 3.0])


def test_hook_handle_remove() -> None:
    x = leaf(2)
    calls: list[int] = []
    handle = x.register_hook(lambda g: calls.append(1))
    x.sum().backward()
    handle.remove()
    x.sum().backward()
    assert calls == [1]


def test_hook_on_tensor_without_grad_raises() -> None:
    with pytest.raises(GraphError, match="register_hook.*doesn't require gradient"):
        bp.ones(2).register_hook(lambda g: g)


def test_hook_returning_a_kept_tensor_does_not_alias_grad() -> None:
    kept = bp.ones(3, dtype=bp.float64)
    x = leaf(3)
    x.register_hook(lambda g: kept)
    (x * 2.0).sum().backward()
    (x * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(kept.numpy(), [1.0, 1.0, 1.0])  # not accumulated into


# -- retain_grad -----------------------------------------------------------------------------------

def test_retain_grad_keeps_a_non_leaf_gradient() -> None:
    x = leaf(3)
    h = x * 2.0
    kept = x.exp()
    kept.retain_grad()
    assert kept.retains_grad and not h.retains_grad
    (h * kept).sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(kept.grad.numpy(), values(h), rtol=1e-12)


def test_create_graph_grads_are_separate_writable_tensors() -> None:
    x, y = leaf(3), leaf(3, seed=1)
    (x + y).sum().backward(create_graph=True)  # both receive the same broadcast ones
    assert x.grad is not y.grad
    with bp.no_grad():
        x.grad.zero_()  # as optimizer.zero_grad(set_to_none=False) does
    np.testing.assert_array_equal(y.grad.detach().numpy(), [1.0, 1.0, 1.0])


# -- memory ----------------------------------------------------------------------------------------

def test_backward_frees_saved_intermediates() -> None:
    x = leaf(100_000)
    h = x.exp()  # h's values are saved by exp (its output) and by sin (its input)
    array = weakref.ref(h.numpy(force=True))
    loss = h.sin().sum()
    del h
    loss.backward()
    gc.collect()
    assert array() is None


def test_retain_graph_keeps_saved_intermediates() -> None:
    x = leaf(1000)
    h = x.exp()
    array = weakref.ref(h.numpy(force=True))
    loss = h.sin().sum()
    del h
    loss.backward(retain_graph=True)
    gc.collect()
    assert array() is not None
    loss.backward()
    gc.collect()
    assert array() is None


def test_graph_objects_are_collectable() -> None:
    x = leaf(1000)
    h = x.exp()
    y = (h * h).sin()
    nodes = [weakref.ref(h.grad_fn), weakref.ref(y.grad_fn)]
    array = weakref.ref(h.numpy(force=True))
    del h, y
    gc.collect()
    assert all(n() is None for n in nodes)
    assert array() is None
    assert x.grad_fn is None and x.grad is None


# -- retain_graph ----------------------------------------------------------------------------------

def test_second_backward_through_a_freed_graph_raises() -> None:
    x = leaf(3)
    loss = x.exp().sum()
    loss.backward()
    with pytest.raises(GraphError, match=r"ExpBackward.*second time.*retain_graph=True"):
        loss.backward()


def test_retain_graph_allows_a_second_backward_that_accumulates() -> None:
    x = leaf(3)
    loss = x.exp().sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(values(x)), rtol=1e-12)


# -- in-place ops ----------------------------------------------------------------------------------

def test_in_place_change_of_a_saved_output_raises() -> None:
    x = leaf(3)
    y = x.exp()  # exp saves its output
    z = y + 2.0  # add saves nothing
    y.mul_(2.0)
    with pytest.raises(GraphError,
                       match=r"ExpBackward: .*output of exp.*modified in place by mul_"):
        (y + z).sum().backward()


def test_in_place_change_of_one_saved_output_of_several_raises() -> None:
    x = leaf(2, 3)
    var, mean = bp.var_mean(x, 1)  # one node; the variance's gradient reads the saved mean
    assert var.grad_fn is mean.grad_fn
    mean.mul_(2.0)
    with pytest.raises(GraphError,
                       match=r"VarMeanBackward: .*output 1 of var_mean.*modified in place by mul_"):
        var.sum().backward()


def test_in_place_change_of_a_saved_input_raises() -> None:
    x = leaf(3)
    h = x * 1.0
    y = h.sin()  # sin saves its input
    h.add_(1.0)
    with pytest.raises(GraphError, match=r"SinBackward: .*input 0 of sin.*modified in place by "
                                         r"add_.*out-of-place form of add"):
        y.sum().backward()


def test_in_place_on_a_leaf_requiring_grad_raises_unless_no_grad() -> None:
    x = leaf(3)
    with pytest.raises(GraphError, match=r"mul_: a leaf tensor that requires grad.*no_grad"):
        x.mul_(2.0)
    before = values(x).copy()
    with bp.no_grad():
        x.mul_(2.0)
    np.testing.assert_allclose(values(x), 2 * before)
    assert x.is_leaf and x.requires_grad


def test_safe_in_place_gives_the_out_of_place_gradient() -> None:
    x = leaf(4)
    h = x * 2.0  # mul saves x and the constant, not h: h may be modified
    h.add_(1.0)
    h.mul_(3.0)  # saves h's old value itself
    (h * h).sum().backward()
    in_place = x.grad.numpy().copy()
    x.grad = None
    ((x * 2.0 + 1.0) * 3.0).pow(2).sum().backward()
    np.testing.assert_allclose(in_place, x.grad.numpy(), rtol=1e-12)


def test_in_place_records_into_the_graph() -> None:
    x, w = leaf(3), leaf(3, seed=1)
    h = x.exp()
    h2 = h * 1.0
    h2.mul_(w)
    assert repr(h2.grad_fn) == "<MulBackward>"
    h2.sum().backward()
    v = values(x)
    np.testing.assert_allclose(x.grad.numpy(), np.exp(v) * values(w), rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), np.exp(v), rtol=1e-12)


def test_setitem_on_a_non_leaf_records_correctly() -> None:
    if "__setitem__" not in dir(bp.Tensor):
        pytest.skip("Tensor.__setitem__ is not implemented yet")
    x, w = leaf(4), leaf(1, seed=1)
    h = x * 2.0
    h[1] = w.sum() * 3.0  # replaces element 1: it no longer depends on x
    (h * h).sum().backward()
    hv = 2 * values(x)
    hv[1] = 3 * values(w)[0]
    expected = 2 * hv * 2.0
    expected[1] = 0.0
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), [2 * hv[1] * 3.0], rtol=1e-12)


def test_setitem_on_a_leaf_requiring_grad_raises() -> None:
    if "__setitem__" not in dir(bp.Tensor):
        pytest.skip("Tensor.__setitem__ is not implemented yet")
    x = leaf(3)
    with pytest.raises(GraphError, match="leaf tensor that requires grad"):
        x[0] = 1.0


# -- graph introspection ---------------------------------------------------------------------------

def test_grad_fn_names_and_next_functions() -> None:
    x, w = leaf(3), leaf(3, seed=1)
    c = bp.ones(3, dtype=bp.float64)
    h = x * w
    assert repr(h.grad_fn) == "<MulBackward>"
    assert h.grad_fn.name() == "MulBackward"
    (fx, _), (fw, _) = h.grad_fn.next_functions
    assert repr(fx) == "<AccumulateGrad>" and fx.variable is x and fw.variable is w
    y = (h + c).exp()
    assert repr(y.grad_fn) == "<ExpBackward>"
    (add_node, _), = y.grad_fn.next_functions
    assert repr(add_node) == "<AddBackward>"
    assert add_node.next_functions[0][0] is h.grad_fn
    assert add_node.next_functions[1] == (None, 0)  # c does not require grad
    assert x.grad_fn is None and x.is_leaf and not h.is_leaf
    assert "grad_fn=<ExpBackward>" in repr(y)


# -- dtypes ----------------------------------------------------------------------------------------

def test_float32_graph_stays_float32() -> None:
    rng = np.random.default_rng(0)
    x = bp.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    w = bp.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    b = bp.tensor(np.zeros(2, np.float32), requires_grad=True)
    tensors = []

    def track(t: bp.Tensor) -> bp.Tensor:
        tensors.append(t)
        return t

    h = track((x.reshape(4, 3, 1) * w.reshape(1, 3, 2)).sum(1))
    h = track(track(h + b).tanh() * 0.5 + 1.5)
    loss = track(track((h - 2.0) ** 2).mean() / 3.0)
    loss.backward()
    assert all(t.dtype == np.float32 for t in tensors)
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32

    w64 = bp.tensor(w.detach().numpy().astype(np.float64), requires_grad=True)
    b64 = bp.tensor(np.zeros(2), requires_grad=True)
    x64 = bp.tensor(x.numpy().astype(np.float64))
    h64 = ((x64.reshape(4, 3, 1) * w64.reshape(1, 3, 2)).sum(1) + b64).tanh() * 0.5 + 1.5
    (((h64 - 2.0) ** 2).mean() / 3.0).backward()
    np.testing.assert_allclose(w.grad.numpy(), w64.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), b64.grad.numpy(), rtol=1e-5, atol=1e-6)


# -- random graphs against PyTorch -----------------------------------------------------------------

_UNARY = {
    "tanh": (lambda t: t.tanh(), lambda t: t.tanh()),
    "sin": (lambda t: t.sin(), lambda t: t.sin()),
    "scale": (lambda t: t * 0.7, lambda t: t * 0.7),
    "square": (lambda t: t * t, lambda t: t * t),
}
_BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
}


@pytest.mark.parametrize("seed", range(6))
def test_random_graph_gradients_match_pytorch(torch, seed: int) -> None:
    """Random DAGs with shared subexpressions and broadcasting: every leaf's gradient agrees."""
    rng = np.random.default_rng(seed)
    shapes = [(3,), (2, 3), (1, 3)]
    starts = [rng.standard_normal(shapes[i % 3]) for i in range(4)]
    ours = [bp.tensor(a, requires_grad=True) for a in starts]
    theirs = [torch.tensor(a, requires_grad=True) for a in starts]
    nodes_b, nodes_t = list(ours), list(theirs)
    for _ in range(25):
        if rng.random() < 0.4:
            name = list(_UNARY)[rng.integers(len(_UNARY))]
            i = rng.integers(len(nodes_b))
            nodes_b.append(_UNARY[name][0](nodes_b[i]))
            nodes_t.append(_UNARY[name][1](nodes_t[i]))
        else:
            name = list(_BINARY)[rng.integers(len(_BINARY))]
            i, j = rng.integers(len(nodes_b), size=2)
            nodes_b.append(_BINARY[name][0](nodes_b[i], nodes_b[j]))
            nodes_t.append(_BINARY[name][1](nodes_t[i], nodes_t[j]))
    picks = rng.choice(len(nodes_b), size=4, replace=False)
    loss_b = sum((nodes_b[k].tanh().sum() for k in picks), bp.tensor(0.0, dtype=bp.float64))
    loss_t = sum(nodes_t[k].tanh().sum() for k in picks)
    loss_b.backward()
    loss_t.backward()
    for a, b in zip(ours, theirs):
        if b.grad is None:
            assert a.grad is None
        else:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)
