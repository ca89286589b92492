"""The short paths that cut the per-call cost of O(1) ops (issue 17's speed round) give what the
general paths give: ``ViewPrimitive``'s call against ``Primitive.__call__`` (values, dtype,
shared memory and version counter, recorded history, gradients), the ops that return their
input itself as PyTorch does, and the ops made one primitive (trace, select, diagonal_copy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.ops.primitive import Primitive, ViewPrimitive
from backprop.ops.shape import (
    _broadcast,
    _expand,
    _permute,
    _reshape,
    _squeeze,
    _transpose,
    _unsqueeze,
    _view,
)
from backprop.ops.shape_more import _select
from backprop.ops.views_more import _diagonal

# (primitive, constants after the tensor) for every view row the short path serves
CALLS: dict[str, tuple[Any, tuple]] = {
    "view": (_view, ((4, 3),)),
    "reshape": (_reshape, ((-1,),)),
    "reshape-copies": (_reshape, ((12,),)),  # of a transposed input: a copy, not a view
    "permute": (_permute, ((1, 0),)),
    "transpose": (_transpose, (0, 1)),
    "squeeze": (_squeeze, ((),)),
    "unsqueeze": (_unsqueeze, (1,)),
    "expand": (_expand, ((2, 3, 4),)),
    "select": (_select, (1, 2)),
    "diagonal": (_diagonal, (1, 0, 1)),
}


def _input(name: str, requires_grad: bool) -> bp.Tensor:
    x = bp.tensor(np.arange(12.0).reshape(3, 4), requires_grad=requires_grad) * 1.0
    return x.t() if name == "reshape-copies" else x


def _general(op: Primitive, *args: Any) -> Any:
    return Primitive.__call__(op, *args)


def _describe(x: bp.Tensor, out: bp.Tensor) -> tuple:
    view = out._view
    return (out.shape, out.dtype, out.numpy(force=True).tolist(), out.requires_grad,
            repr(out.grad_fn), out._version is x._version,
            None if view is None else (view.base is (x if x._base is None else x._base), view.steps,
                                  view.version),
            np.shares_memory(out._data, x._data))


@pytest.mark.parametrize("requires_grad", [False, True], ids=["no-grad", "grad"])
@pytest.mark.parametrize("name", CALLS)
def test_the_short_view_call_matches_the_general_one(name: str, requires_grad: bool) -> None:
    op, constants = CALLS[name]
    assert type(op) is ViewPrimitive
    described = []
    for call in (op, lambda *a: _general(op, *a)):
        x = _input(name, requires_grad)
        described.append(_describe(x, call(x, *constants)))
    assert described[0] == described[1]


@pytest.mark.parametrize("name", CALLS)
def test_gradients_through_the_short_view_call(name: str) -> None:
    op, constants = CALLS[name]
    grads = []
    for call in (op, lambda *a: _general(op, *a)):
        leaf = bp.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
        x = leaf * 1.0
        if name == "reshape-copies":
            x = x.t()
        out = call(x, *constants)
        weights = bp.tensor(np.linspace(0.5, 2.0, out.numel()).reshape(out.shape))
        (out * weights).sum().backward()
        grads.append(leaf.grad.tolist())
    assert grads[0] == grads[1]


def test_a_view_of_a_view_and_a_write_through_it_follow_the_base() -> None:
    leaf = bp.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    y = leaf * 2.0
    v = y.view(12)[2:].view(2, 5)
    assert v._view.base is y and len(v._view.steps) == 3
    v.mul_(3.0)  # a write through the view: the base's history changes, the view follows
    assert y.grad_fn is not None and v.grad_fn is not None
    y.sum().backward()
    expected = np.full(12, 2.0)
    expected[2:] = 6.0
    np.testing.assert_array_equal(leaf.grad.numpy().reshape(-1), expected)


def test_a_view_made_under_no_grad_keeps_no_steps() -> None:
    y = bp.ones(2, 3, requires_grad=True) * 1.0
    with bp.no_grad():
        v = y.t()
    assert v._view.steps is None and not v.requires_grad and v._version is y._version


def test_other_calls_take_the_general_path() -> None:
    # a Parameter, a NumPy integer, a tensor argument and raw arrays all give the same results
    p = bp.nn.Parameter(bp.ones(2, 3))
    assert p.t().shape == (3, 2) and p.t().grad_fn is not None
    x = bp.ones(2, 3)
    assert _transpose(x, np.int64(0), 1).shape == (3, 2)
    assert _reshape(np.ones((2, 3)), (6,)).shape == (6,)  # a rule's raw call: an array
    with pytest.raises(bp.errors.ShapeError, match="view: a tensor of shape"):
        x.t().view(6)


def test_observers_see_view_calls() -> None:
    class Names(bp.autograd.Observer):
        def __init__(self) -> None:
            self.names: list[str] = []

        def op(self, op: Any, args: tuple, params: dict, proceed: Callable) -> Any:
            self.names.append(op.name)
            return proceed()

    names = Names()
    with bp.autograd.observing(names):
        bp.ones(2, 3).t().reshape(6)
    assert names.names[-2:] == ["transpose", "reshape"]


@pytest.mark.parametrize("shape,target", [((3, 1), (2, 3, 4)), ((), (3,)), ((), ()),
                                          ((0, 1), (0, 5)), ((2, 3), (2, 3))])
def test_broadcast_makes_numpy_s_view(shape: tuple, target: tuple) -> None:
    a = np.arange(float(np.prod(shape))).reshape(shape)
    ours, numpy = _broadcast(a, target), np.broadcast_to(a, target)
    assert ours.shape == numpy.shape and ours.strides == numpy.strides
    assert not ours.flags.writeable and ours.base is numpy.base
    np.testing.assert_array_equal(ours, numpy)


@pytest.mark.parametrize("target", [(3, 3), (-1, 3), (3,)])
def test_broadcast_refuses_as_numpy_does(target: tuple) -> None:
    with pytest.raises(ValueError):
        _broadcast(np.ones((3, 2)) if target == (3, 3) else np.ones((2, 3)), target)


def test_ops_that_return_a_real_tensor_itself() -> None:
    x = bp.ones(2, 3, requires_grad=True)
    for result in (bp.conj_physical(x), bp.real(x), x.real, bp.as_tensor(x), x.float(),
                   x.to(bp.float32), x.type_as(x), x.conj_physical()):
        assert result is x
    z = bp.tensor([1 + 2j, 3 - 1j])
    assert bp.conj_physical(z).tolist() == [1 - 2j, 3 + 1j] and bp.real(z).tolist() == [1.0, 3.0]
    assert bp.conj_physical(np.array([1.0, 2.0])).tolist() == [1.0, 2.0]  # arrays: a copy
    assert x.double().dtype == bp.float64 and bp.as_tensor(x, dtype=bp.float64).dtype == bp.float64


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.uint8,
                                   np.complex64])
@pytest.mark.parametrize("shape", [(3, 4), (4, 3), (0, 2), (1, 1)])
def test_trace_is_the_sum_of_the_diagonal(dtype: Any, shape: tuple, torch: Any) -> None:
    a = (np.arange(int(np.prod(shape))).reshape(shape) % 3).astype(dtype)
    ours, theirs = bp.trace(bp.tensor(a)), torch.trace(torch.tensor(a))
    assert str(ours.dtype) == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-3)


def test_trace_gradient_and_gradgrad() -> None:
    x = bp.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    (g,) = bp.autograd.grad(bp.trace(x * x), x, create_graph=True)
    expected = 2 * np.eye(3, 4) * np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(g.detach().numpy(), expected)
    g.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * np.eye(3, 4))
    y = bp.tensor(np.ones((2, 2)), requires_grad=True)
    bp.trace(y).backward(bp.tensor(np.inf))  # off the diagonal: 0, not inf * 0
    assert y.grad.tolist() == [[np.inf, 0.0], [0.0, np.inf]]


def test_select_and_diagonal_copy_are_one_op() -> None:
    x = bp.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    s = x.select(1, -1)
    assert repr(s.grad_fn) == "<SelectBackward>" and np.shares_memory(s._data, x._data)
    v = bp.arange(3.0).select(0, 1)
    assert v.shape == () and v._view is not None  # a 0-d view, not a copy
    d = bp.diagonal_copy(x, 1)
    assert repr(d.grad_fn) == "<DiagonalCopyBackward>" and not np.shares_memory(d._data, x._data)
    (s.sum() + d.sum()).backward()
    expected = np.zeros((3, 4))
    expected[:, -1] += 1
    expected[[0, 1, 2], [1, 2, 3]] += 1
    np.testing.assert_array_equal(x.grad.numpy(), expected)
