"""``bp.inference_mode``: each situation runs the same code on PyTorch and on backprop, and
both must succeed, or both raise the same exception type (PyTorch's rules for inference
tensors: not saved for backward, not written in place nor made to require grad outside the
mode)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import backprop as bp


def _inference_tensors(M: Any) -> dict[str, Any]:
    """Inference tensors made by library ``M`` (PyTorch or backprop), and normal ones."""
    with M.inference_mode():
        x, xm, index = M.ones(2), M.ones(2, 2), M.tensor([0, 1])
    w = M.ones(2, requires_grad=True)
    W = M.ones(2, 2, requires_grad=True)
    return {"x": x, "xm": xm, "index": index, "w": w, "W": W,
            "b": M.ones(2, requires_grad=True)}


def _backward(t: Any) -> None:
    t.sum().backward()


# name -> what to do with (library, tensors); each either works in both libraries or raises
# the same exception type in both
SITUATIONS: dict[str, Callable[[Any, dict], Any]] = {
    # saved for backward: the gradient needs the inference tensor's values
    "mul": lambda M, t: _backward(t["w"] * t["x"]),
    "mul reflected": lambda M, t: _backward(t["x"] * t["w"]),
    "div by it": lambda M, t: _backward(t["w"] / t["x"]),
    "divide it": lambda M, t: _backward(t["x"] / t["w"]),
    "pow": lambda M, t: _backward(t["w"] ** t["x"]),
    "matmul left": lambda M, t: _backward(t["xm"] @ t["w"]),
    "matmul right": lambda M, t: _backward(t["W"] @ t["x"]),
    "linear input": lambda M, t: _backward(M.nn.functional.linear(t["xm"], t["W"], t["b"])),
    "linear weight": lambda M, t: _backward(M.nn.functional.linear(t["w"][None], t["xm"])),
    "Linear module": lambda M, t: _backward(M.nn.Linear(2, 3)(t["xm"])),
    "mse_loss": lambda M, t: M.nn.functional.mse_loss(t["w"], t["x"]).backward(),
    # not saved: the gradient needs no values of it
    "add": lambda M, t: _backward(t["w"] + t["x"]),
    "sub": lambda M, t: _backward(t["w"] - t["x"]),
    "cat": lambda M, t: _backward(M.cat([t["w"], t["x"]])),
    "linear bias": lambda M, t: _backward(M.nn.functional.linear(t["W"], t["W"], t["x"])),
    "a result of it": lambda M, t: _backward(M.sigmoid(t["x"]) * t["w"]),
    "a clone of it": lambda M, t: _backward(t["w"] * t["x"].clone()),
    "no graph recorded": lambda M, t: (t["x"] * 2, M.exp(t["x"])),
    "under no_grad": lambda M, t: M.no_grad()(lambda: t["w"] * t["x"])(),
    "nested inference_mode(False)": lambda M, t: M.inference_mode(False)(
        lambda: _backward(t["w"] * t["x"]))(),
    # written in place, or made to require grad, outside the mode
    "add_": lambda M, t: t["x"].add_(1),
    "mul_": lambda M, t: t["x"].mul_(2),
    "zero_": lambda M, t: t["x"].zero_(),
    "setitem": lambda M, t: t["x"].__setitem__(0, 3.0),
    "view's add_": lambda M, t: t["xm"][0].add_(1),
    "requires_grad_": lambda M, t: t["x"].requires_grad_(),
    "requires_grad_(False)": lambda M, t: t["x"].requires_grad_(False),
    "a normal tensor's add_ of it": lambda M, t: M.zeros(2).add_(t["x"]),
    # inside the mode, all of that is allowed
    "add_ inside": lambda M, t: M.inference_mode()(lambda: t["x"].add_(1))(),
    "setitem inside": lambda M, t: M.inference_mode()(lambda: t["x"].__setitem__(0, 3.0))(),
    "requires_grad_ inside": lambda M, t: M.inference_mode()(lambda: t["x"].requires_grad_())(),
}


def _outcome(M: Any, situation: Callable[[Any, dict], Any]) -> type | None:
    try:
        situation(M, _inference_tensors(M))
    except Exception as err:  # noqa: BLE001 - the type is what is compared
        return type(err)
    return None


@pytest.mark.parametrize("name", list(SITUATIONS))
def test_the_same_situations_raise_as_in_pytorch(torch: Any, name: str) -> None:
    expected = _outcome(torch, SITUATIONS[name])
    assert _outcome(bp, SITUATIONS[name]) is expected, name


def test_the_refusals_say_what_to_do() -> None:
    t = _inference_tensors(bp)
    with pytest.raises(RuntimeError, match=r"mul: Inference tensors cannot be saved for "
                                           r"backward.*clone"):
        t["w"] * t["x"]
    with pytest.raises(RuntimeError, match=r"add_: Inplace update to inference tensor outside "
                                           r"InferenceMode is not allowed.*clone"):
        t["x"].add_(1)
    with pytest.raises(RuntimeError, match=r"Setting requires_grad=True on inference tensor"):
        t["x"].requires_grad_()


def test_a_refused_write_leaves_the_values() -> None:
    t = _inference_tensors(bp)
    for write in (lambda: t["x"].add_(1), lambda: t["x"].__setitem__(0, 5.0)):
        with pytest.raises(RuntimeError):
            write()
        assert t["x"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("name,make", [
    ("factory", lambda M, w: M.ones(2)),
    ("tensor", lambda M, w: M.tensor([1.0, 2.0])),
    ("factory requiring grad", lambda M, w: M.zeros(2, requires_grad=True)),
    ("op on a normal tensor", lambda M, w: w * 2),
    # (a view of a tensor requiring grad is left out: PyTorch says it requires grad, yet it has
    # no grad_fn and backward through it gives no gradient; here it does not require grad)
    ("detach of a normal tensor", lambda M, w: w.detach()),
    ("module output", lambda M, w: M.nn.Linear(2, 2)(w)),
    ("reduction", lambda M, w: w.sum()),
])
def test_which_tensors_made_inside_are_inference_tensors(torch: Any, name: str,
                                                         make: Callable) -> None:
    def made(M: Any) -> tuple[bool, bool]:
        w = M.ones(2, requires_grad=True)
        with M.inference_mode():
            out = make(M, w)
        return out.is_inference(), out.requires_grad

    assert made(bp) == made(torch), name


@pytest.mark.parametrize("name,make", [
    ("clone", lambda M, x: x.clone()),
    ("view", lambda M, x: x.view(2)),
    ("detach", lambda M, x: x.detach()),
    ("op", lambda M, x: x + 1),
    ("index", lambda M, x: x[0]),
])
def test_which_tensors_made_from_one_outside_are_inference_tensors(torch: Any, name: str,
                                                                   make: Callable) -> None:
    def made(M: Any) -> bool:
        with M.inference_mode():
            x = M.ones(2)
        return make(M, x).is_inference()

    assert made(bp) == made(torch), name


def test_inside_nothing_is_recorded_and_the_modes_nest() -> None:
    w = bp.ones(2, requires_grad=True)
    assert not bp.is_inference_mode_enabled() and bp.is_grad_enabled()
    with bp.inference_mode():
        assert bp.is_inference_mode_enabled() and not bp.is_grad_enabled()
        y = w * 2
        assert y.grad_fn is None and not y.requires_grad
        with bp.enable_grad():  # records nothing inside inference mode either, as PyTorch
            assert (w * 2).grad_fn is None
        with bp.no_grad():
            assert bp.is_inference_mode_enabled()
        with bp.inference_mode(False):
            assert not bp.is_inference_mode_enabled() and bp.is_grad_enabled()
            z = w * 2
            assert z.grad_fn is not None and not z.is_inference()
        assert bp.is_inference_mode_enabled() and not bp.is_grad_enabled()
    assert not bp.is_inference_mode_enabled() and bp.is_grad_enabled()
    assert not bp.ones(1).is_inference()


def test_the_mode_is_restored_after_an_exception() -> None:
    with pytest.raises(ZeroDivisionError), bp.inference_mode():
        raise ZeroDivisionError
    assert not bp.is_inference_mode_enabled() and bp.is_grad_enabled()
    assert not bp.ones(1).is_inference()


def test_decorator_forms(torch: Any) -> None:
    def forms(M: Any) -> tuple:
        @M.inference_mode
        def bare() -> bool:
            return M.is_inference_mode_enabled()

        @M.inference_mode()
        def called() -> bool:
            return M.is_inference_mode_enabled()

        @M.inference_mode(False)
        def off() -> bool:
            return M.is_inference_mode_enabled()

        return bare(), called(), off(), bare.__name__, M.inference_mode().clone().mode

    assert forms(bp) == forms(torch) == (True, True, False, "bare", True)


def test_a_normal_tensor_written_inside_counts_the_write(torch: Any) -> None:
    def versions(M: Any) -> tuple:
        n = M.ones(2)
        with M.inference_mode():
            n.add_(1)
            view = n.view(2)
        version = n._version if M is torch else n._version_value
        return version, view.is_inference(), n.is_inference()

    assert versions(bp) == versions(torch) == (1, False, False)


def test_backward_of_a_graph_beside_inference_tensors() -> None:
    """What is allowed gives the gradient it would without inference mode."""
    with bp.inference_mode():
        x = bp.tensor([1.0, 2.0])
    w = bp.tensor([3.0, 4.0], requires_grad=True)
    (w + x).sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]
    w.grad = None
    (w * x.clone()).sum().backward()
    assert w.grad.tolist() == [1.0, 2.0]


def test_custom_function_cannot_save_an_inference_tensor(torch: Any) -> None:
    def run(M: Any) -> type | None:
        class Scale(M.autograd.Function):
            @staticmethod
            def forward(ctx: Any, a: Any, c: Any) -> Any:
                ctx.save_for_backward(a, c)
                return a * c

            @staticmethod
            def backward(ctx: Any, g: Any) -> Any:
                _, c = ctx.saved_tensors
                return g * c, None

        with M.inference_mode():
            c = M.ones(2)
        try:
            Scale.apply(M.ones(2, requires_grad=True), c).sum().backward()
        except Exception as err:  # noqa: BLE001
            return type(err)
        return None

    assert run(bp) is run(torch) is RuntimeError


def test_a_write_inside_computes_once() -> None:
    """Inside the mode nothing can have saved the old value, so it is not copied first."""
    from backprop.ops.inplace import apply_inplace

    calls = []

    def double(old: bp.Tensor) -> bp.Tensor:
        calls.append(old)
        return old * 2

    with bp.inference_mode():
        x = bp.ones(3)
        apply_inplace(x, "double_", double)
    assert len(calls) == 1 and x.tolist() == [2.0, 2.0, 2.0]
