"""``once_differentiable``, and the custom-Function and gradient-hook details real programs
rely on (``mark_non_differentiable``, ``set_materialize_grads(False)``,
``register_post_accumulate_grad_hook`` over several backwards), each run on backprop and on
PyTorch (``lib`` is either) with the same outcome."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp


def _square(lib: Any, seen: list) -> type:
    once_differentiable = lib.autograd.function.once_differentiable

    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx: Any, g: Any) -> Any:
            seen.append(lib.is_grad_enabled())
            (x,) = ctx.saved_tensors
            return 2.0 * x * g

    return Square


def _x(lib: Any) -> Any:
    return lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)


def test_once_differentiable_plain_backward(torch: Any) -> None:
    def run(lib: Any) -> tuple:
        seen: list = []
        x = _x(lib)
        _square(lib, seen).apply(x).exp().sum().backward()
        return seen, x.grad.tolist()

    ours, theirs = run(bp), run(torch)
    assert ours[0] == theirs[0] == [False]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)


def test_once_differentiable_second_backward_raises(torch: Any) -> None:
    for lib in (bp, torch):
        seen: list = []
        x = _x(lib)
        (gx,) = lib.autograd.grad(_square(lib, seen).apply(x).exp().sum(), x, create_graph=True)
        assert seen == [False]  # the backward itself runs with grad disabled
        assert gx.requires_grad
        np.testing.assert_allclose(gx.tolist(), (2 * np.array([0.5, -1.0, 2.0])
                                                 * np.exp(np.array([0.25, 1.0, 4.0]))).tolist())
        with pytest.raises(RuntimeError, match="trying to differentiate twice a function that "
                                               "was marked with @once_differentiable"):
            gx.sum().backward()


def test_once_differentiable_gradient_of_a_constant_seed_is_plain(torch: Any) -> None:
    # The gradient reaching the backward does not require grad: nothing to mark (PyTorch too).
    for lib in (bp, torch):
        x = _x(lib)
        (gx,) = lib.autograd.grad(_square(lib, []).apply(x).sum(), x, create_graph=True)
        assert not gx.requires_grad and gx.grad_fn is None


def test_mark_non_differentiable_outputs(torch: Any) -> None:
    def run(lib: Any) -> tuple:
        class SortWithIndex(lib.autograd.Function):
            @staticmethod
            def forward(ctx: Any, x: Any) -> Any:
                values, index = x.sort()
                ctx.save_for_backward(index)
                ctx.mark_non_differentiable(index)
                return values, index

            @staticmethod
            def backward(ctx: Any, g: Any, g_index: Any) -> Any:
                (index,) = ctx.saved_tensors
                out = lib.zeros_like(g)
                out[index] = g
                return out

        x = _x(lib)
        values, index = SortWithIndex.apply(x)
        (values * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
        return values.requires_grad, index.requires_grad, index.grad_fn is None, x.grad.tolist()

    assert run(bp) == run(torch) == (True, False, True, [2.0, 1.0, 3.0])


def test_set_materialize_grads_false_gives_none(torch: Any) -> None:
    def run(lib: Any, materialize: bool) -> tuple:
        received: list = []

        class Two(lib.autograd.Function):
            @staticmethod
            def forward(ctx: Any, x: Any) -> Any:
                ctx.set_materialize_grads(materialize)
                return x * 2.0, x * 3.0

            @staticmethod
            def backward(ctx: Any, ga: Any, gb: Any) -> Any:
                received.extend([ga is None, gb is None])
                return (ga if ga is not None else lib.zeros_like(gb)) * 2.0

        x = _x(lib)
        a, _ = Two.apply(x)
        a.sum().backward()
        return received, x.grad.tolist()

    for materialize in (True, False):
        assert run(bp, materialize) == run(torch, materialize)
    assert run(bp, False)[0] == [False, True]


def test_post_accumulate_grad_hooks_order_over_several_backwards(torch: Any) -> None:
    def run(lib: Any) -> list:
        log: list = []
        w = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([0.5], dtype=lib.float64, requires_grad=True)
        w.register_post_accumulate_grad_hook(lambda t: log.append(("w", t.grad.tolist())))
        b.register_post_accumulate_grad_hook(lambda t: log.append(("b", t.grad.tolist())))
        (w * 3.0 + b).sum().backward()
        (w * w).sum().backward()  # b gets no gradient: its hook is not called
        w.grad = None
        (w * b).sum().backward()
        return log

    ours, theirs = run(bp), run(torch)
    # Which leaf is accumulated first within one backward is the engine's order; compare the
    # calls per leaf in order, and the number of calls.
    for name in ("w", "b"):
        assert [g for n, g in ours if n == name] == [g for n, g in theirs if n == name]
    assert len(ours) == len(theirs) == 5
