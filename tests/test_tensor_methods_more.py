"""Tensor methods added for PyTorch's names (issue 17): the other spellings, fill_diagonal_,
storage_offset, apply_ and map_, against PyTorch where it has them."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import backprop as bp

ALIASES = {"absolute": "abs", "greater": "gt", "greater_equal": "ge", "less": "lt",
           "less_equal": "le", "multiply": "mul", "negative": "neg", "not_equal": "ne",
           "subtract": "sub", "subtract_": "sub_", "multiply_": "mul_", "divide_": "div_",
           "absolute_": "abs_", "arctan2_": "atan2_", "fix_": "trunc_"}


@pytest.mark.parametrize("alias", ALIASES)
def test_other_spellings_are_the_same_method(alias: str) -> None:
    assert getattr(bp.Tensor, alias) is getattr(bp.Tensor, ALIASES[alias])


@pytest.mark.parametrize("shape, wrap", [((3, 2), True), ((3, 2), False), ((7, 3), True),
                                         ((2, 4), True), ((3, 3, 3), False), ((1, 1), False)])
def test_fill_diagonal_matches_pytorch(shape: tuple, wrap: bool, torch: Any) -> None:
    ours = bp.zeros(*shape).fill_diagonal_(5.0, wrap=wrap)
    theirs = torch.zeros(shape).fill_diagonal_(5.0, wrap=wrap)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_fill_diagonal_is_recorded_and_refuses_ragged_shapes() -> None:
    leaf = bp.ones(2, 2, requires_grad=True)
    x = leaf * 3
    x.fill_diagonal_(0.0)
    x.sum().backward()
    assert leaf.grad.tolist() == [[0.0, 3.0], [3.0, 0.0]]  # the overwritten diagonal gets none
    with pytest.raises(bp.ShapeError, match="fill_diagonal_: .* got shape \\(2, 3, 3\\)"):
        bp.zeros(2, 3, 3).fill_diagonal_(1.0)


VIEWS: dict[str, Callable[[Any], Any]] = {
    "row slice": lambda x: x[1, 1:],
    "transposed row": lambda x: x.t()[1],
    "column": lambda x: x[:, 2],
    "itself": lambda x: x,
    "view of a view": lambda x: x[1:][0, 2:],
}


@pytest.mark.parametrize("view", VIEWS)
def test_storage_offset_matches_pytorch(view: str, torch: Any) -> None:
    assert VIEWS[view](bp.arange(12.0).reshape(3, 4)).storage_offset() == \
        VIEWS[view](torch.arange(12.0).reshape(3, 4)).storage_offset()


def test_apply_and_map_change_elements_in_place() -> None:
    x = bp.tensor([1.0, 2.0, 3.0])
    version = x._version_value
    assert x.apply_(lambda v: v * 10) is x and x.tolist() == [10.0, 20.0, 30.0]
    x.map_(bp.tensor([1.0]), lambda a, b: a + b)
    assert x.tolist() == [11.0, 21.0, 31.0] and x._version_value == version + 2
    with pytest.raises(bp.GraphError, match="apply_: a tensor that requires grad"):
        bp.ones(2, requires_grad=True).apply_(abs)


def test_where_method_and_adjoint() -> None:
    x = bp.tensor([[1.0, -2.0]])
    assert x.where(x > 0, 0.0).tolist() == [[1.0, 0.0]]
    assert x.adjoint().shape == (2, 1)
    assert x.pin_memory() is x and not x.is_pinned() and not x.is_sparse and not x.is_meta


def _train_with_optimizer_in_backward(lib: Any) -> list[list[float]]:
    """PyTorch's tutorial pattern: each parameter steps its own optimizer as soon as its
    gradient is accumulated, and drops the gradient."""
    model = lib.nn.Linear(3, 2)
    with lib.no_grad():
        model.weight.copy_(lib.tensor([[0.5, -0.2, 0.1], [0.3, 0.8, -0.6]]))
        model.bias.copy_(lib.tensor([0.05, -0.1]))
    optimizers = {p: lib.optim.SGD([p], lr=0.1) for p in model.parameters()}

    def step(parameter: Any) -> None:
        optimizers[parameter].step()
        optimizers[parameter].zero_grad()

    for parameter in model.parameters():
        parameter.register_post_accumulate_grad_hook(step)
    x = lib.tensor([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]])
    for _ in range(3):
        model(x).pow(2).sum().backward()
    return [p.detach().reshape(-1).tolist() for p in model.parameters()]


def test_post_accumulate_grad_hooks_step_like_pytorch(torch32: Any) -> None:
    ours, theirs = _train_with_optimizer_in_backward(bp), _train_with_optimizer_in_backward(torch32)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5)


def test_post_accumulate_grad_hook_needs_a_leaf() -> None:
    with pytest.raises(bp.GraphError, match="only a leaf tensor that requires grad"):
        (bp.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print)
