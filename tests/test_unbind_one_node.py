"""unbind and unbind_copy make one node for all their slices (a stack in backward): the slices
are still views (unbind) or independent copies (unbind_copy), with PyTorch's gradients."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp


@pytest.mark.parametrize("op", [bp.unbind, bp.unbind_copy])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_one_node_and_the_gradient(op: object, dim: int) -> None:
    x = bp.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    pieces = op(x, dim)
    assert len({id(p.grad_fn) for p in pieces}) == 1
    np.testing.assert_array_equal(np.stack([p.detach().numpy() for p in pieces], dim), x.detach().numpy())
    (pieces[0] * 2 + pieces[-1] ** 2).sum().backward()  # the middle slices get no gradient
    expected = np.zeros((2, 3, 4))
    first = [slice(None)] * 3
    last = [slice(None)] * 3
    first[dim], last[dim] = 0, -1
    expected[tuple(first)] += 2
    expected[tuple(last)] += 2 * x.detach().numpy()[tuple(last)]
    np.testing.assert_array_equal(x.grad.numpy(), expected)


@pytest.mark.parametrize("op", [bp.unbind, bp.unbind_copy])
def test_second_derivative(op: object) -> None:
    x = bp.tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
    a, b = op(x, 0)
    (g,) = bp.autograd.grad((a * a * b).sum(), x, create_graph=True)
    (gg,) = bp.autograd.grad(g.sum(), x)
    v = x.detach().numpy()
    np.testing.assert_allclose(gg.numpy(), np.stack([2 * v[1] + 2 * v[0], 2 * v[0]]))


def test_unbind_slices_are_views_and_copies_are_not() -> None:
    base = bp.zeros(3, 4)
    rows = base.unbind(0)
    rows[1].add_(5.0)
    assert base[1].tolist() == [5.0] * 4
    copies = bp.unbind_copy(base, 1)
    copies[0].add_(1.0)
    assert base[:, 0].tolist() == [0.0, 5.0, 0.0]
    assert all(c.is_contiguous() for c in copies)


def test_writing_the_base_reaches_a_slices_history() -> None:
    x = bp.tensor(np.ones((3, 4)), requires_grad=True)
    y = x * 1
    columns = y.unbind(1)
    y.mul_(3.0)
    columns[1].sum().backward()
    expected = np.zeros((3, 4))
    expected[:, 1] = 3.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)


@pytest.mark.parametrize("op", [bp.unbind, bp.unbind_copy])
def test_short_and_empty_dims(op: object) -> None:
    assert [p.shape for p in op(bp.zeros(1, 3), 0)] == [(3,)]
    assert op(bp.zeros(0, 3), 0) == ()
    with pytest.raises(Exception, match="unbind"):
        op(bp.tensor(1.0), 0)
