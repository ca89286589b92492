"""``autograd.graph.saved_tensors_hooks`` / ``save_on_cpu`` / ``disable_saved_tensors_hooks``:
each scenario runs on backprop and on PyTorch (``lib`` is either) and must agree: the number of
pack and unpack calls where both save the same tensors, the gradients (first and second order)
whatever the hooks keep, which context's hooks a node uses, and the errors."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import backprop as bp
from backprop.diagnostics import memory_report


class Counting:
    """Hooks that count their calls, keeping what ``keep`` makes of each tensor."""

    def __init__(self, lib: Any, keep: Callable[[Any], Any] = lambda t: t,
                 back: Callable[[Any], Any] = lambda p: p) -> None:
        self.lib = lib
        self.packs = self.unpacks = 0
        self.keep, self.back = keep, back

    def pack(self, t: Any) -> Any:
        self.packs += 1
        return self.keep(t)

    def unpack(self, packed: Any) -> Any:
        self.unpacks += 1
        return self.back(packed)

    def __call__(self) -> Any:
        return self.lib.autograd.graph.saved_tensors_hooks(self.pack, self.unpack)


def _x(lib: Any) -> Any:
    return lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)


def _exp_sin(lib: Any, hooks: Counting) -> tuple[int, int, list[float]]:
    x = _x(lib)
    with hooks():
        y = x.exp().sin().sum()
    assert (hooks.packs, hooks.unpacks) == (2, 0)  # packed when recorded, not before backward
    y.backward()
    return hooks.packs, hooks.unpacks, x.grad.tolist()


def _function(lib: Any) -> type:
    class MulSelf(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, y: Any) -> Any:
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            x, y = ctx.saved_tensors
            return g * y, g * x

    return MulSelf


def _custom_function(lib: Any, hooks: Counting) -> tuple[int, int, list[float]]:
    x = _x(lib)
    y = x.exp()
    with hooks():
        z = _function(lib).apply(x, y).sum()
    z.backward()
    return hooks.packs, hooks.unpacks, x.grad.tolist()


@pytest.mark.parametrize("program", [_exp_sin, _custom_function])
def test_pack_and_unpack_counts_and_gradients_match_torch(torch: Any, program: Callable) -> None:
    ours = program(bp, Counting(bp))
    theirs = program(torch, Counting(torch))
    assert ours[:2] == theirs[:2] == (2, 2)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12)


def test_mlp_counts_our_saved_tensors() -> None:
    # PyTorch packs 5 tensors here: its addmm saves the weight only when the input needs a
    # gradient, and its pow saves only the base. Our linear saves both operands, and our pow
    # also its result, so we pack 7: the first linear's x and weight, relu's output, the
    # second linear's input and weight, pow's base and result.
    bp.manual_seed(0)
    model = bp.nn.Sequential(bp.nn.Linear(4, 8), bp.nn.ReLU(), bp.nn.Linear(8, 2))
    hooks = Counting(bp)
    with hooks():
        loss = model(bp.ones(3, 4)).pow(2).sum()
    loss.backward()
    assert (hooks.packs, hooks.unpacks) == (7, 7)


def _half_keep(t: Any) -> Any:
    return t.detach().half()


@pytest.mark.parametrize("keep", ["half", "numpy"])
def test_gradients_from_copies_the_hooks_keep(torch: Any, keep: str) -> None:
    def run(lib: Any) -> tuple[list, list]:
        lib.manual_seed(0)
        layer = lib.nn.Linear(3, 4).double()
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(np.linspace(-1, 1, 12).reshape(4, 3)))
            layer.bias.fill_(0.1)
        x = lib.tensor(np.linspace(-2, 2, 6).reshape(2, 3), requires_grad=True)
        if keep == "half":
            hooks = Counting(lib, _half_keep, lambda p: p.double())
        else:
            hooks = Counting(lib, lambda t: t.detach().numpy().copy(),
                             lambda p: lib.tensor(p))
        with hooks():
            loss = lib.tanh(layer(x)).sum()
        loss.backward()
        return x.grad.tolist(), layer.weight.grad.tolist()

    ours, theirs = run(bp), run(torch)
    plain = _plain_grads()
    for a, b in zip(ours, theirs):
        # float16 copies differ from the values by up to 2**-11 relative; both libraries
        # compute from the same rounded copies, so they agree far closer than that
        np.testing.assert_allclose(a, b, rtol=1e-6 if keep == "half" else 1e-12, atol=1e-12)
    if keep == "numpy":
        for a, b in zip(ours, plain):
            np.testing.assert_array_equal(a, b)


def _plain_grads() -> tuple[list, list]:
    layer = bp.nn.Linear(3, 4).double()
    with bp.no_grad():
        layer.weight.copy_(bp.tensor(np.linspace(-1, 1, 12).reshape(4, 3)))
        layer.bias.fill_(0.1)
    x = bp.tensor(np.linspace(-2, 2, 6).reshape(2, 3), requires_grad=True)
    bp.tanh(layer(x)).sum().backward()
    return x.grad.tolist(), layer.weight.grad.tolist()


def test_second_order_through_unpacked_copies(torch: Any) -> None:
    def run(lib: Any) -> list:
        x = _x(lib)
        w = lib.tensor([1.5, 0.5, -0.25], dtype=lib.float64, requires_grad=True)
        hooks = Counting(lib, lambda t: t.detach().clone(), lambda p: p.clone())
        with hooks():
            y = (x.exp() * w).sin().sum()
        gx, gw = lib.autograd.grad(y, (x, w), create_graph=True)
        (gx.pow(2).sum() + gw.sum()).backward()
        return [x.grad.tolist(), w.grad.tolist()]

    np.testing.assert_allclose(run(bp), run(torch), rtol=1e-10)


def test_custom_function_second_order_with_saved_output(torch: Any) -> None:
    def run(lib: Any) -> list:
        class Exp(lib.autograd.Function):
            @staticmethod
            def forward(ctx: Any, x: Any) -> Any:
                out = x.exp()
                ctx.save_for_backward(out)
                return out

            @staticmethod
            def backward(ctx: Any, g: Any) -> Any:
                (out,) = ctx.saved_tensors
                return g * out

        x = _x(lib)
        hooks = Counting(lib, lambda t: t.detach().clone(), lambda p: p.clone())
        with hooks():
            y = Exp.apply(x).sum()
        (gx,) = lib.autograd.grad(y, x, create_graph=True)
        gx.sum().backward()
        return x.grad.tolist()

    np.testing.assert_allclose(run(bp), run(torch), rtol=1e-12)


def test_innermost_hooks_win_and_stay_with_the_node(torch: Any) -> None:
    def run(lib: Any) -> list:
        log: list[str] = []
        graph = lib.autograd.graph

        def hooks(name: str) -> Any:
            return graph.saved_tensors_hooks(lambda t: log.append(f"pack {name}") or t,
                                             lambda t: log.append(f"unpack {name}") or t)
        x = _x(lib)
        with hooks("outer"):
            a = x.exp()
            with hooks("inner"):
                b = a.sin()
            c = b.cos()
        y = c.sum()  # recorded after both exited: sum saves only a shape
        y.backward()
        return log

    ours, theirs = run(bp), run(torch)
    assert ours == theirs
    assert ours[:3] == ["pack outer", "pack inner", "pack outer"]


def test_retain_graph_unpacks_on_each_backward(torch: Any) -> None:
    def run(lib: Any) -> tuple:
        x = _x(lib)
        hooks = Counting(lib)
        with hooks():
            y = x.exp().sin().sum()
        y.backward(retain_graph=True)
        y.backward()
        return hooks.packs, hooks.unpacks, x.grad.tolist()

    ours, theirs = run(bp), run(torch)
    assert ours[:2] == theirs[:2] == (2, 4)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12)


def test_a_second_backward_without_retain_graph_is_refused() -> None:
    x = _x(bp)
    with Counting(bp)():
        y = x.exp().sin().sum()
    y.backward()
    with pytest.raises(bp.GraphError, match="second time"):
        y.backward()


def test_several_outputs_are_packed_by_name(torch: Any) -> None:
    def run(lib: Any) -> list:
        x = lib.tensor([[1.0, 3.0, 2.0], [0.5, -1.0, 4.0]], dtype=lib.float64,
                       requires_grad=True)
        hooks = Counting(lib, lambda t: t.detach().clone(), lambda p: p.clone())
        with hooks():
            values, _ = x.max(dim=1)
            y = (values * values).sum()
        y.backward()
        return x.grad.tolist()

    np.testing.assert_allclose(run(bp), run(torch), rtol=1e-12)


def test_save_on_cpu_gives_the_plain_gradients(torch: Any) -> None:
    def run(lib: Any) -> list:
        x = _x(lib)
        with lib.autograd.graph.save_on_cpu(pin_memory=False):
            y = (x.exp() * x).tanh().sum()
        y.backward()
        return x.grad.tolist()

    np.testing.assert_allclose(run(bp), run(torch), rtol=1e-12)


def test_unpack_must_return_a_tensor(torch: Any) -> None:
    for lib in (bp, torch):
        x = _x(lib)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda p: 3):
            y = x.exp().sum()
        with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor but got "
                                            "result of type int"):
            y.backward()


def test_unpack_of_the_wrong_shape_names_the_op() -> None:
    # PyTorch fails inside the op's backward kernel ("The size of tensor a (3) must match
    # ..."); we check the shape first and name the node.
    x = _x(bp)
    with bp.autograd.graph.saved_tensors_hooks(lambda t: t, lambda p: bp.zeros(2)):
        y = x.exp().sum()
    with pytest.raises(bp.ShapeError, match=r"ExpBackward: unpack_hook returned a tensor of "
                                            r"shape \(2,\) for the saved output of exp"):
        y.backward()


def test_disable_saved_tensors_hooks(torch: Any) -> None:
    for lib in (bp, torch):
        graph = lib.autograd.graph
        with graph.disable_saved_tensors_hooks("hooks are off here"):
            with pytest.raises(RuntimeError, match="hooks are off here"):
                with graph.save_on_cpu():
                    pass
        with graph.save_on_cpu():  # enabled again on exit
            with pytest.raises(RuntimeError, match="no hooks now"):
                with graph.disable_saved_tensors_hooks("no hooks now"):
                    pass


def test_memory_report_counts_what_the_hooks_keep() -> None:
    x = bp.ones(4, 256, requires_grad=True)
    plain = memory_report(x.exp().sin().tanh().sum())
    with Counting(bp)():
        identity = memory_report(x.exp().sin().tanh().sum())
    # The same arrays are kept when the hooks keep the tensors they are given.
    assert identity.activation_bytes == plain.activation_bytes > 0
    assert identity.leaf_bytes == plain.leaf_bytes
    halves = Counting(bp, _half_keep, lambda p: p.float())
    with halves():
        y = x.exp().sin().tanh().sum()
    report = memory_report(y)
    # exp's output, sin's input (the same array as exp's output, so one copy less without
    # hooks), sin's output is not saved, tanh's output: 3 float16 copies, none of them a leaf.
    assert halves.packs == 3
    assert report.activation_bytes == 3 * 4 * 256 * 2
    assert report.leaf_bytes == 0
    assert all("(packed)" in h.what for h in report.holders)
    y.backward()
    assert memory_report(y).freed_nodes == 3


def test_hooks_around_a_checkpointed_block(torch: Any) -> None:
    # The checkpoint's own saved inputs go through the hooks; the recomputation in backward
    # runs outside them.
    def run(lib: Any) -> tuple:
        from importlib import import_module

        checkpoint = import_module(f"{lib.__name__}.utils.checkpoint").checkpoint
        x = _x(lib)
        w = lib.tensor([1.5, 0.5, -0.25], dtype=lib.float64, requires_grad=True)
        hooks = Counting(lib, lambda t: t.detach().clone(), lambda p: p.clone())
        with hooks():
            y = checkpoint(lambda a: (a.exp() * w).sin(), x, use_reentrant=False).sum()
        y.backward()
        return x.grad.tolist(), w.grad.tolist()

    ours, theirs = run(bp), run(torch)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12)
