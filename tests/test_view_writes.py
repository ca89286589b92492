"""Writes through views: what the op table's ``copy_slices`` row cannot express (errors, grad
modes, backward twice, the graph's shape, memory layouts), each against PyTorch."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import backprop as bp
from backprop.autograd.function import Function
from backprop.errors import GraphError
from optable.inplace import VIEW_WRITES, _view_write_samples

A = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.5]])
W = np.array([0.75, -1.25])


def _run(lib: Any, case: Callable, *arrays: np.ndarray) -> tuple[np.ndarray, list]:
    """``case(lib, *leaves)``'s value and its leaves' gradients after backward of its sum."""
    leaves = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = case(lib, *leaves)
    out.sum().backward()
    return out.detach().numpy(), [None if t.grad is None else t.grad.numpy() for t in leaves]


def _assert_same(torch: Any, case: Callable, *arrays: np.ndarray) -> None:
    ours, theirs = _run(bp, case, *arrays), _run(torch, case, *arrays)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    for mine, expected in zip(ours[1], theirs[1]):
        assert (mine is None) == (expected is None)
        if expected is not None:
            np.testing.assert_allclose(mine, expected, rtol=1e-12)


# -- float32 against PyTorch's float32 (the op table compares float32 with our float64) ----------

@pytest.mark.parametrize("sample", _view_write_samples(np.random.default_rng(0)),
                         ids=lambda s: s.name)
def test_float32_writes_through_views_match_pytorch(sample: Any, torch: Any) -> None:
    case = VIEW_WRITES[sample.kwargs["case"]][0]
    results = []
    for lib in (bp, torch):
        args = [lib.tensor(a.astype(np.float32), requires_grad=True) if a.dtype.kind == "f"
                else lib.tensor(a) for a in sample.args]
        out = case(lib, *args)
        u = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
        (out * lib.tensor(u)).sum().backward()
        results.append([out.detach().numpy()] + [a.grad.numpy() for a in args
                                                 if a.dtype == lib.float32])
    for ours, theirs in zip(*results):
        assert ours.dtype == theirs.dtype == np.float32
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


# -- the saved-tensor checks still hold ------------------------------------------------------------

def _saved_view_then_base_written(lib: Any, a: Any) -> Any:
    b = a * 1
    y = b[:, 1].sin()  # saves the view
    b[0].mul_(2)
    return y


def _saved_base_then_written_through_view(lib: Any, a: Any) -> Any:
    b = a * 1
    y = b.sin()  # saves the base
    b.T[0].zero_()
    return y


def _write_saves_another_view(lib: Any, a: Any) -> Any:
    b = a * 1
    b[0].mul_(b[1])  # mul saves b[1], which the write changes (same storage)
    return b


@pytest.mark.parametrize("case,message", [
    (_saved_view_then_base_written, r"SinBackward: .*input 0 of sin.*modified in place by mul_"),
    (_saved_base_then_written_through_view,
     r"SinBackward: .*input 0 of sin.*modified in place by zero_"),
    (_write_saves_another_view, r"MulBackward: .*input 1 of mul.*modified in place by mul_"),
])
def test_changing_a_saved_tensor_through_a_view_still_raises(case: Callable, message: str,
                                                             torch: Any) -> None:
    with pytest.raises(GraphError, match=message):
        _run(bp, case, A)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _run(torch, case, A)


# -- leaves and grad modes -------------------------------------------------------------------------

def test_a_view_of_a_leaf_requiring_grad_is_written_only_under_no_grad(torch: Any) -> None:
    x, theirs = bp.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    with pytest.raises(GraphError, match=r"mul_: a view of a leaf tensor that requires grad "
                                         r"cannot be modified in place while grad is enabled"):
        x[0].mul_(2)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        theirs[0].mul_(2)
    with bp.no_grad():
        x[0].mul_(2)
        x.T[1] = 5.0
    with torch.no_grad():
        theirs[0].mul_(2)
        theirs.T[1] = 5.0
    np.testing.assert_array_equal(x.detach().numpy(), theirs.detach().numpy())
    assert x.is_leaf and x.requires_grad and x.grad_fn is None


def test_a_write_under_no_grad_stays_out_of_the_graph(torch: Any) -> None:
    def case(lib: Any, a: Any) -> Any:
        b = a * 2
        with lib.no_grad():
            b[:, 1:].mul_(10)  # a constant change: b's history stays a * 2
        return b * b

    _assert_same(torch, case, A)


def _view_under_no_grad(lib: Any) -> tuple[Any, Any, Any]:
    w = lib.tensor(W, requires_grad=True)
    z = lib.zeros(4, dtype=w.dtype)
    with lib.no_grad():
        v = z[:2]
    return w, z, v


def test_a_view_made_under_no_grad_refuses_a_write_that_requires_grad(torch: Any) -> None:
    for lib, error in ((bp, GraphError), (torch, RuntimeError)):
        w, z, v = _view_under_no_grad(lib)
        with pytest.raises(error, match="no_grad"):
            v.copy_(w)


def test_a_view_made_under_no_grad_is_refused_once_its_base_is_written(torch: Any) -> None:
    for lib, error in ((bp, GraphError), (torch, RuntimeError)):
        w, z, v = _view_under_no_grad(lib)
        z[2:].copy_(w)  # the base's history changes under v
        with pytest.raises(error, match="no_grad"):
            v * 2


def test_a_function_returning_its_input_gives_a_view_that_refuses_writes(torch: Any) -> None:
    class Identity(Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g

    out = Identity.apply(bp.tensor(A, requires_grad=True) * 1)
    with pytest.raises(GraphError, match="custom Function"):
        out[0].mul_(2)

    class TorchIdentity(torch.autograd.Function):
        forward = staticmethod(lambda ctx, x: x)
        backward = staticmethod(lambda ctx, g: g)

    with pytest.raises(RuntimeError, match="custom Function"):
        TorchIdentity.apply(torch.tensor(A, requires_grad=True) * 1)[0].mul_(2)


def test_a_view_cannot_be_detached_in_place(torch: Any) -> None:
    with pytest.raises(GraphError, match=r"detach_: can't detach a view in place"):
        bp.zeros(3)[1:].detach_()
    with pytest.raises(RuntimeError, match="Can't detach views in-place"):
        torch.zeros(3)[1:].detach_()


# -- backward twice, grad of grad ------------------------------------------------------------------

def _two_writes(lib: Any, a: Any, w: Any) -> Any:
    b = a * a
    b[:, 1].mul_(w)
    b.T[2].copy_(w.exp())
    return (b * a).sum()


def test_retain_graph_and_create_graph_through_a_rebased_base(torch: Any) -> None:
    results = []
    for lib in (bp, torch):
        a, w = lib.tensor(A, requires_grad=True), lib.tensor(W, requires_grad=True)
        loss = _two_writes(lib, a, w)
        loss.backward(retain_graph=True)
        once = [a.grad.numpy().copy(), w.grad.numpy().copy()]
        loss.backward()  # nothing was freed that the second pass needs
        twice = [a.grad.numpy().copy(), w.grad.numpy().copy()]
        a.grad = w.grad = None
        ga, gw = lib.autograd.grad(_two_writes(lib, a, w), (a, w), create_graph=True)
        ((ga * ga).sum() + (gw * gw).sum()).backward()  # a Hessian-vector product
        results.append(once + twice + [a.grad.numpy(), w.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(results[0][2], 2 * results[0][0], rtol=1e-12)


# -- the graph -------------------------------------------------------------------------------------

def test_the_base_gets_copy_slices_and_its_views_follow_it(torch: Any) -> None:
    w = bp.tensor(W, requires_grad=True)
    z = bp.zeros(2, 3, dtype=bp.float64)
    row, column = z[1], z[:, 2]
    assert row._base is z and column._base is z and not row.requires_grad
    column.copy_(w * 3)
    assert repr(z.grad_fn) == "<CopySlices>" and not z.is_leaf
    assert z.grad_fn.next_functions[0] == (None, 0)  # z had no history
    assert repr(z.grad_fn.next_functions[1][0]) == "<CopyBackward>"  # the write's own node
    # Views made before the write, the written one included, now differentiate through z.
    for view in (row, column):
        assert view.requires_grad and view.grad_fn.next_functions[0][0] is z.grad_fn
    theirs = torch.zeros(2, 3)
    their_row = theirs[1]
    theirs[:, 2].copy_(torch.tensor(W, requires_grad=True) * 3)
    assert their_row.requires_grad and type(theirs.grad_fn).__name__ == "CopySlices"


# -- which results are views -----------------------------------------------------------------------

def test_an_element_of_a_vector_is_a_view_and_a_copying_reshape_is_not(torch: Any) -> None:
    for lib in (bp, torch):
        x = lib.zeros(3)
        x[1].add_(5)  # a 0-d view: the write reaches x
        y = lib.zeros(2, 3)
        copied = y.t().reshape(6)  # the transpose's layout makes reshape copy
        copied.add_(1)
        assert x.tolist() == [0.0, 5.0, 0.0] and y.tolist() == [[0.0] * 3] * 2
        assert copied._base is None


def test_a_base_laid_out_unlike_its_gradient(torch: Any) -> None:
    """``z.T.view(6)`` is a view only of a column-major z; replayed on the (row-major) gradient
    the same steps copy, and the write's gradient is placed by positions instead."""
    p = np.arange(6.0).reshape(2, 3) + 1
    w = bp.tensor(W, requires_grad=True)
    z = bp.from_numpy(np.zeros((3, 2)).T)  # (2, 3), column-major
    z.T.view(6)[:2].copy_(w)  # z[0, 0] and z[1, 0]
    (z * bp.tensor(p)).sum().backward()
    theirs = torch.tensor(W, requires_grad=True)
    their_z = torch.zeros(3, 2).T
    their_z.T.view(6)[:2].copy_(theirs)
    (their_z * torch.tensor(p)).sum().backward()
    np.testing.assert_array_equal(z.detach().numpy(), their_z.detach().numpy())
    np.testing.assert_array_equal(w.grad.numpy(), theirs.grad.numpy())
    assert w.grad.tolist() == [p[0, 0], p[1, 0]]
