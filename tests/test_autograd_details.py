"""The autograd details real PyTorch programs rely on: ``set_grad_enabled`` as a plain call,
and ``autograd.grad``'s ``allow_unused`` / ``materialize_grads`` / ``is_grads_batched`` rules.
Each scenario runs on backprop and on PyTorch and must give the same outcome."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import backprop as bp


@pytest.fixture(autouse=True)
def _grad_mode_restored() -> Iterator[None]:
    # A failing test must not leave either library with gradients switched off.
    yield
    bp.set_grad_enabled(True)
    if "torch" in sys.modules:
        sys.modules["torch"].set_grad_enabled(True)


def both(torch: Any, scenario: Callable[[Any], Any]) -> tuple[Any, Any]:
    return scenario(bp), scenario(torch)


# --- set_grad_enabled -----------------------------------------------------------------------

def _as_function(lib: Any) -> list[bool]:
    seen = [lib.is_grad_enabled()]
    lib.set_grad_enabled(False)
    seen.append(lib.is_grad_enabled())
    x = lib.ones(2, requires_grad=True)
    seen.append((x * 2).requires_grad)
    lib.set_grad_enabled(True)
    seen.append(lib.is_grad_enabled())
    seen.append((x * 2).requires_grad)
    return seen


def test_set_grad_enabled_as_a_function_switches_until_switched_back(torch: Any) -> None:
    ours, theirs = both(torch, _as_function)
    assert ours == theirs == [True, False, False, True, True]


def _context(lib: Any) -> list[bool]:
    seen = []
    with lib.set_grad_enabled(False):
        seen.append(lib.is_grad_enabled())
        with lib.set_grad_enabled(True):
            seen.append(lib.is_grad_enabled())
        seen.append(lib.is_grad_enabled())
    seen.append(lib.is_grad_enabled())
    lib.set_grad_enabled(False)
    with lib.set_grad_enabled(True):
        seen.append(lib.is_grad_enabled())
    seen.append(lib.is_grad_enabled())  # the mode from before the call comes back
    lib.set_grad_enabled(True)
    return seen


def test_set_grad_enabled_context_restores_and_nests(torch: Any) -> None:
    ours, theirs = both(torch, _context)
    assert ours == theirs == [False, True, False, True, True, False]


def _mode_set_on_construction(lib: Any) -> list[bool]:
    guard = lib.set_grad_enabled(False)  # already off here, before any `with`
    seen = [lib.is_grad_enabled()]
    with guard:
        seen.append(lib.is_grad_enabled())
    seen.append(lib.is_grad_enabled())  # restored to the mode seen at construction
    return seen


def test_set_grad_enabled_sets_the_mode_on_construction(torch: Any) -> None:
    ours, theirs = both(torch, _mode_set_on_construction)
    assert ours == theirs == [False, False, True]


def _exception_inside(lib: Any) -> list[bool]:
    try:
        with lib.set_grad_enabled(False):
            raise KeyError("boom")
    except KeyError:
        pass
    return [lib.is_grad_enabled()]


def test_set_grad_enabled_restores_after_an_exception(torch: Any) -> None:
    ours, theirs = both(torch, _exception_inside)
    assert ours == theirs == [True]


def _decorated(lib: Any) -> list[bool]:
    @lib.set_grad_enabled(False)
    def off() -> bool:
        return lib.is_grad_enabled()

    seen = [lib.is_grad_enabled()]  # decorating does not switch anything where it happens
    seen.append(off())
    seen.append(lib.is_grad_enabled())
    with lib.no_grad():
        @lib.set_grad_enabled(True)
        def on() -> bool:
            return lib.is_grad_enabled()

        seen.append(lib.is_grad_enabled())
        seen.append(on())
        seen.append(lib.is_grad_enabled())
    return seen


def test_set_grad_enabled_as_a_decorator(torch: Any) -> None:
    ours, theirs = both(torch, _decorated)
    assert ours == theirs == [True, False, True, False, True, False]


def test_set_grad_enabled_mixes_with_no_grad_and_enable_grad(torch: Any) -> None:
    def scenario(lib: Any) -> list[bool]:
        seen = []
        with lib.no_grad():
            lib.set_grad_enabled(True)
            seen.append(lib.is_grad_enabled())
            with lib.enable_grad():
                lib.set_grad_enabled(False)
                seen.append(lib.is_grad_enabled())
            seen.append(lib.is_grad_enabled())
        seen.append(lib.is_grad_enabled())
        return seen

    ours, theirs = both(torch, scenario)
    assert ours == theirs == [True, False, True, True]


def test_set_grad_enabled_repr_and_clone() -> None:
    guard = bp.set_grad_enabled(False)
    assert "set_grad_enabled(mode=False)" in repr(guard)
    bp.set_grad_enabled(True)
    copy = guard.clone()
    assert not bp.is_grad_enabled()  # constructing the copy sets its mode, as in PyTorch
    assert isinstance(copy, bp.set_grad_enabled)


# --- autograd.grad: unused inputs --------------------------------------------------------------

def _unused(lib: Any, **kwargs: Any) -> Any:
    x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    unused = lib.tensor([3.0, 4.0, 5.0], dtype=lib.float64, requires_grad=True)
    try:
        grads = lib.autograd.grad((x * x).sum(), [x, unused], **kwargs)
    except Exception as exc:  # noqa: BLE001 - the exception type is what is compared
        return type(exc)
    return [None if g is None else g.detach().numpy().tolist() for g in grads]


@pytest.mark.parametrize("kwargs", [
    {}, {"allow_unused": False}, {"allow_unused": True}, {"materialize_grads": True},
    {"allow_unused": True, "materialize_grads": True},
    {"allow_unused": None, "materialize_grads": True},
], ids=str)
def test_grad_unused_input_matches_torch(torch: Any, kwargs: dict) -> None:
    ours, theirs = _unused(bp, **kwargs), _unused(torch, **kwargs)
    if isinstance(theirs, type):
        assert isinstance(ours, type) and issubclass(ours, theirs), (ours, theirs)
    else:
        assert ours == theirs


def test_grad_unused_input_error_names_the_index_and_the_fix() -> None:
    x, unused = bp.ones(2, requires_grad=True), bp.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"index 1 appears to not have been used in the graph"
                                           r"\. Set allow_unused=True"):
        bp.autograd.grad((x * 2).sum(), [x, unused])


def test_grad_allow_unused_false_with_materialize_is_a_value_error(torch: Any) -> None:
    for lib in (bp, torch):
        x = lib.ones(2, requires_grad=True)
        with pytest.raises(ValueError, match="allow_unused"):
            lib.autograd.grad((x * 2).sum(), x, allow_unused=False, materialize_grads=True)


def test_grad_accepts_only_inputs(torch: Any) -> None:
    def scenario(lib: Any) -> list:
        x = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        return lib.autograd.grad((x ** 3).sum(), x, only_inputs=True)[0].detach().numpy().tolist()

    ours, theirs = both(torch, scenario)
    assert ours == theirs == [3.0, 12.0]


# --- autograd.grad: is_grads_batched -----------------------------------------------------------

def _batched(lib: Any, create_graph: bool = False, **kwargs: Any) -> Any:
    x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]], dtype=lib.float64, requires_grad=True)
    unused = lib.ones(4, dtype=lib.float64, requires_grad=True)
    y = (w @ x).tanh()
    z = x.exp() * 2
    seeds = [lib.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0]], dtype=lib.float64),
             lib.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.0, -1.0]], dtype=lib.float64)]
    try:
        grads = lib.autograd.grad([y, z], [x, w, unused], grad_outputs=seeds,
                                  is_grads_batched=True, create_graph=create_graph, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the exception type is what is compared
        return type(exc)
    if create_graph:  # the batched result is differentiable: take a second derivative
        (second,) = lib.autograd.grad((grads[0] ** 2).sum(), x)
        grads = (*grads, second)
    return [None if g is None else g.detach().numpy() for g in grads]


@pytest.mark.parametrize("kwargs", [
    {}, {"allow_unused": True}, {"materialize_grads": True},
    {"allow_unused": True, "create_graph": True},
], ids=str)
def test_grad_is_grads_batched_matches_torch(torch: Any, kwargs: dict) -> None:
    ours, theirs = _batched(bp, **kwargs), _batched(torch, **kwargs)
    if isinstance(theirs, type):
        assert isinstance(ours, type) and issubclass(ours, theirs), (ours, theirs)
        return
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        if b is None:
            assert a is None
        else:
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_grad_is_grads_batched_rows_are_separate_vjps() -> None:
    x = bp.tensor([1.0, 2.0, 3.0], dtype=bp.float64, requires_grad=True)
    (jac,) = bp.autograd.grad(x ** 2, x, grad_outputs=bp.eye(3, dtype=bp.float64),
                              is_grads_batched=True)
    np.testing.assert_array_equal(jac.numpy(), np.diag([2.0, 4.0, 6.0]))


def test_grad_is_grads_batched_frees_the_graph_only_after_the_last_row() -> None:
    x = bp.tensor([1.0, 2.0], dtype=bp.float64, requires_grad=True)
    y = x.exp()
    bp.autograd.grad(y, x, grad_outputs=bp.ones(3, 2, dtype=bp.float64), is_grads_batched=True)
    with pytest.raises(RuntimeError, match="second time"):
        bp.autograd.grad(y, x, grad_outputs=bp.ones(2, dtype=bp.float64))


@pytest.mark.parametrize("seed_shape", [(3,), (2, 2)], ids=str)
def test_grad_is_grads_batched_shape_mismatch_matches_torch(torch: Any, seed_shape: tuple) -> None:
    for lib in (bp, torch):
        x = lib.ones(3, dtype=lib.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="is_grads_batched=True"):
            lib.autograd.grad(x * 2, x, grad_outputs=lib.ones(*seed_shape, dtype=lib.float64),
                              is_grads_batched=True)


def test_grad_is_grads_batched_needs_equal_batch_sizes(torch: Any) -> None:
    for lib in (bp, torch):
        x = lib.ones(3, dtype=lib.float64, requires_grad=True)
        with pytest.raises(ValueError, match="same size|same batch size"):
            lib.autograd.grad([x * 2, x * 3], x, is_grads_batched=True,
                              grad_outputs=[lib.ones(4, 3, dtype=lib.float64),
                                            lib.ones(5, 3, dtype=lib.float64)])


def test_grad_is_grads_batched_without_grad_outputs_is_a_value_error(torch: Any) -> None:
    for lib in (bp, torch):
        x = lib.ones(3, dtype=lib.float64, requires_grad=True)
        with pytest.raises(ValueError):
            lib.autograd.grad((x * 2).sum(), x, is_grads_batched=True)
