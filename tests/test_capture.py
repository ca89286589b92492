"""Step capture (``bp.compile``): a traced and replayed step computes what eager mode computes,
bit for bit; it is traced again when its inputs or what it reads change, and runs eagerly, with
a one-line reason, where a tape cannot stand for it."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F
from backprop import nn
from benchmarks import common
from benchmarks.harness import MODULES
from commands import environment


def _workload(name: str, capture: bool, steps: int) -> tuple[list[float], list[np.ndarray], Any]:
    common.CAPTURE = capture
    try:
        lib = common.CapturingLib()
        step = MODULES[name].build(lib, MODULES[name].make_problem())
    finally:
        common.CAPTURE = False
    losses = [step().item() for _ in range(steps)]
    return losses, [p.detach().numpy().copy() for p in lib.model.parameters()], step.train_step


@pytest.mark.parametrize("name", ["W1", "W2", "W3", "W4"])
def test_hundred_replayed_steps_give_eager_parameters_bit_for_bit(name: str) -> None:
    eager_losses, eager_params, _ = _workload(name, False, 100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback to eager would warn
        losses, params, compiled = _workload(name, True, 100)
    assert compiled._traces == 1 and compiled.fallbacks == []
    assert losses == eager_losses
    for a, b in zip(params, eager_params):
        np.testing.assert_array_equal(a, b)


def _tiny(seed: int = 0, batch_norm: bool = False, optimizer: str = "SGD") -> tuple[Any, Any, Any]:
    bp.manual_seed(seed)
    layers = [nn.Linear(3, 5), nn.Tanh()]
    if batch_norm:
        layers.append(nn.BatchNorm1d(5))
    model = nn.Sequential(*layers, nn.Linear(5, 2))
    opt = (bp.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if optimizer == "SGD"
           else bp.optim.AdamW(model.parameters(), lr=0.01))

    def step(x: Any, y: Any) -> Any:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, opt, step


def _batches(n: int, batch: int = 4, dtype: Any = np.float32) -> list[tuple[Any, Any]]:
    rng = np.random.default_rng(1)
    return [(bp.tensor(rng.standard_normal((batch, 3)).astype(dtype)),
             bp.tensor(rng.integers(0, 2, batch))) for _ in range(n)]


def _same_state(a: Any, b: Any) -> None:
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=name)


@pytest.mark.parametrize("batch_norm,optimizer", [(False, "SGD"), (True, "AdamW")])
def test_replay_follows_eager_through_buffers_and_optimizer_state(batch_norm: bool,
                                                                  optimizer: str) -> None:
    eager_model, _, eager = _tiny(batch_norm=batch_norm, optimizer=optimizer)
    model, _, step = _tiny(batch_norm=batch_norm, optimizer=optimizer)
    compiled = bp.compile(step)
    for x, y in _batches(3) * 4:
        assert compiled(x, y).item() == eager(x, y).item()
    assert compiled._traces == 1
    _same_state(model, eager_model)  # running statistics and num_batches_tracked included


def test_a_new_shape_dtype_or_requires_grad_traces_again() -> None:
    model, _, step = _tiny()
    model.double()
    compiled = bp.compile(step)
    (x, y), = _batches(1)
    compiled(x.double(), y)
    compiled(x.double() + 1, y)
    assert compiled._traces == 1
    x5, y5 = _batches(1, batch=5)[0]
    compiled(x5.double(), y5)  # shape
    assert compiled._traces == 2
    compiled(x.double().requires_grad_(), y)  # requires_grad
    assert compiled._traces == 3


def test_dtype_and_python_arguments_are_part_of_the_signature() -> None:
    calls = []

    @bp.compile
    def scaled(x: Any, k: float) -> Any:
        calls.append(k)
        return x * k

    x = bp.ones(2)
    assert scaled(x, 2.0).tolist() == [2.0, 2.0]
    assert scaled(x, 3.0).tolist() == [3.0, 3.0]  # a new number: traced again
    assert scaled(x.double(), 3.0).dtype == bp.float64  # a new dtype: traced again
    assert scaled(x + 1, 3.0).tolist() == [6.0, 6.0]  # replayed: Python did not run
    assert calls == [2.0, 3.0, 3.0]


def test_replaced_storage_and_train_eval_switch_trace_again() -> None:
    eager_model, _, eager = _tiny(batch_norm=True)
    model, _, step = _tiny(batch_norm=True)
    compiled = bp.compile(step)
    batches = _batches(2)
    for x, y in batches:
        compiled(x, y), eager(x, y)
    for m in (model, eager_model):
        m[0].weight.data = m[0].weight.data * 0.5  # new storage: the tape's constant is stale
    for x, y in batches:
        assert compiled(x, y).item() == eager(x, y).item()
    assert compiled._traces == 2
    model.eval(), eager_model.eval()
    for x, y in batches:
        assert compiled(x, y).item() == eager(x, y).item()
    assert compiled._traces == 3
    _same_state(model, eager_model)


def test_a_hook_or_frozen_parameter_after_tracing_stops_the_replay() -> None:
    eager_model, _, eager = _tiny()
    model, _, step = _tiny()
    compiled = bp.compile(step)
    batches = _batches(2)
    for x, y in batches:
        compiled(x, y), eager(x, y)
    seen: list[str] = []
    model[0].bias.register_post_accumulate_grad_hook(lambda p: seen.append("post"))
    eager_model[0].bias.register_post_accumulate_grad_hook(lambda p: None)
    with pytest.warns(UserWarning, match="hook on a parameter's gradient"):
        assert compiled(*batches[0]).item() == eager(*batches[0]).item()
    assert seen == ["post"]  # the step ran eagerly: the hook was called

    eager_model, _, eager = _tiny()
    model, _, step = _tiny()
    compiled = bp.compile(step)
    for x, y in batches:
        compiled(x, y), eager(x, y)
    for m in (model, eager_model):
        m[0].weight.requires_grad_(False)  # frozen: no gradient, no update
    for x, y in batches:
        assert compiled(x, y).item() == eager(x, y).item()
    assert compiled._traces == 2
    _same_state(model, eager_model)


def test_gradient_accumulation_and_shared_weights_replay_exactly() -> None:
    def make() -> tuple[Any, Any]:
        bp.manual_seed(3)
        layer = nn.Linear(3, 3)
        opt = bp.optim.SGD(layer.parameters(), lr=0.05)

        def step(x: Any) -> Any:
            opt.zero_grad()
            for half in x.chunk(2):  # two backward passes into the same .grad
                out = layer(layer(half).relu())  # the weight used twice: its gradients summed
                values, _ = out.max(dim=1)  # an op with two outputs
                values.sum().backward()
            opt.step()
            return out

        return layer, step

    (eager_layer, eager), (layer, step) = make(), make()
    compiled = bp.compile(step)
    x = bp.tensor(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    for _ in range(5):
        np.testing.assert_array_equal(compiled(x).detach().numpy(), eager(x).detach().numpy())
    assert compiled._traces == 1
    _same_state(layer, eager_layer)


def test_dropout_draws_new_masks_each_replay_as_eager_does() -> None:
    def make() -> tuple[Any, Any]:
        bp.manual_seed(6)
        model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.3), nn.ReLU(), nn.Linear(8, 8))
        attention = nn.MultiheadAttention(8, 2, dropout=0.2, batch_first=True)
        opt = bp.optim.SGD([*model.parameters(), *attention.parameters()], lr=0.1)

        def step(x: Any) -> Any:
            opt.zero_grad()
            h = model(x)[None]
            loss = attention(h, h, h, need_weights=False)[0].square().mean()
            loss.backward()
            opt.step()
            return loss

        return model, step

    (eager_model, eager), (model, step) = make(), make()
    compiled = bp.compile(step)
    x = _batches(1)[0][0]
    bp.manual_seed(7)
    eager_losses = [eager(x).item() for _ in range(6)]
    bp.manual_seed(7)
    losses = [compiled(x).item() for _ in range(6)]
    assert losses == eager_losses and len(set(losses)) == 6
    assert compiled._traces == 1 and compiled.fallbacks == []
    _same_state(model, eager_model)


def test_inference_under_no_grad_is_captured() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.LayerNorm(4))
    compiled = bp.compile(lambda x: model(x))
    with bp.no_grad():
        for x, _ in _batches(3):
            np.testing.assert_array_equal(compiled(x).numpy(), model(x).numpy())
    assert compiled._traces == 1 and compiled.fallbacks == []


class _Square(bp.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return 2 * x * g


def _reads_value(w: Any, x: Any) -> Any:
    loss = (w * x).sum()
    if loss.item() > 0:  # a branch on a value: the tape would freeze it
        loss = loss * 2
    return loss.detach()


def _draws(w: Any, x: Any) -> Any:
    return (w * x * bp.rand(3)).sum().detach()  # a factory's draw, outside the ops


def _writes_in_place(w: Any, x: Any) -> Any:
    y = (w * x).detach()
    y.add_(1)
    return y


def _custom_function(w: Any, x: Any) -> Any:
    return _Square.apply(w * x).sum().detach()


def _double_backward(w: Any, x: Any) -> Any:
    (g,) = bp.autograd.grad((w * w * x).sum(), w, create_graph=True)
    return g.sum().detach()


def _graph_escapes(w: Any, x: Any) -> Any:
    return (w * x).sum()


@pytest.mark.parametrize("fn,reason", [
    (_reads_value, r"reads a tensor's value in Python \(item\)"),
    (_draws, r"draws random numbers"),
    (_writes_in_place, r"writes a tensor in place \(add_\)"),
    (_custom_function, r"calls the custom autograd.Function _Square"),
    (_double_backward, r"differentiates a gradient \(create_graph=True\)"),
    (_graph_escapes, r"returns a tensor that requires grad"),
])
def test_what_a_tape_cannot_replay_runs_eagerly_with_its_reason(fn: Any, reason: str) -> None:
    w = bp.ones(3, requires_grad=True)
    x = bp.tensor([1.0, 2.0, 3.0])
    compiled = bp.compile(fn)
    with pytest.warns(UserWarning, match=r"^compile: .* runs eagerly for these inputs: the "
                                         r"step " + reason) as caught:
        first = compiled(w, x)
    assert "\n" not in str(caught[0].message)
    bp.manual_seed(0)
    again = compiled(w, x)  # runs eagerly again, without tracing or warning twice
    bp.manual_seed(0)
    np.testing.assert_array_equal(again.detach().numpy(), fn(w, x).detach().numpy())
    assert first.shape == again.shape and compiled._traces == 1
    assert len(compiled.fallbacks) == 1
    with pytest.raises(RuntimeError, match=reason):
        bp.compile(fn, fullgraph=True)(w, x)


def test_recompile_limit_then_eager() -> None:
    compiled = bp.compile(lambda x: x + 1, recompile_limit=2)
    for n in (1, 2):
        compiled(bp.ones(n))
    with pytest.warns(UserWarning, match=r"was traced 2 times \(recompile_limit\)"):
        assert compiled(bp.ones(3)).tolist() == [2.0, 2.0, 2.0]


def test_a_compiled_function_called_while_tracing_is_part_of_the_tape() -> None:
    inner = bp.compile(lambda x: x * 2)
    outer = bp.compile(lambda x: inner(x) + 1)
    for v in (1.0, 2.0):
        assert outer(bp.tensor([v])).tolist() == [2 * v + 1]
    assert outer._traces == 1 and inner._traces == 0


def test_compiler_reset_and_is_compiling() -> None:
    seen = []

    @bp.compile
    def f(x: Any) -> Any:
        seen.append(bp.compiler.is_compiling())
        return x + 1

    f(bp.ones(1)), f(bp.ones(1))
    assert seen == [True] and not bp.compiler.is_compiling()
    bp.compiler.reset()
    f(bp.ones(1))
    assert seen == [True, True]


@pytest.mark.parametrize("clip", ["norm", "value"])
def test_gradient_clipping_is_replayed(clip: str) -> None:
    def make() -> tuple[Any, Any]:
        model, opt, _ = _tiny(seed=4, optimizer="AdamW")

        def step(x: Any, y: Any) -> Any:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            if clip == "norm":
                norm = nn.utils.clip_grad_norm_(model.parameters(), 0.05)
            else:
                nn.utils.clip_grad_value_(model.parameters(), 0.01)
                norm = loss
            opt.step()
            return loss, norm

        return model, step

    (eager_model, eager), (model, step) = make(), make()
    compiled = bp.compile(step)
    for x, y in _batches(3) * 3:
        replayed, expected = compiled(x, y), eager(x, y)
        assert [t.item() for t in replayed] == [t.item() for t in expected]
    assert compiled._traces == 1 and compiled.fallbacks == []
    _same_state(model, eager_model)


def test_a_scheduler_stepped_inside_the_step_keeps_stepping() -> None:
    def make() -> tuple[Any, Any, Any]:
        model, opt, _ = _tiny(seed=5)
        schedule = bp.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=20)

        def step(x: Any, y: Any) -> Any:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            schedule.step()
            return loss

        return model, opt, step

    (eager_model, eager_opt, eager), (model, opt, step) = make(), make()
    compiled = bp.compile(step)
    for x, y in _batches(4) * 4:
        assert compiled(x, y).item() == eager(x, y).item()
    assert opt.param_groups[0]["lr"] == eager_opt.param_groups[0]["lr"]
    _same_state(model, eager_model)


def test_a_gradient_given_to_backward_is_read_each_replay() -> None:
    w = bp.ones(3, requires_grad=True)
    opt = bp.optim.SGD([w], lr=0.0)  # for zero_grad: setting w.grad in Python is not replayed

    @bp.compile
    def step(x: Any, seed: Any) -> Any:
        opt.zero_grad()
        (w * x).backward(seed)
        return w.grad

    x = bp.tensor([1.0, 2.0, 3.0])
    for seed in ([1.0, 1.0, 1.0], [0.5, 2.0, -1.0], [3.0, 0.0, 1.0]):
        assert step(x, bp.tensor(seed)).tolist() == [s * v for s, v in zip(seed, [1, 2, 3])]
    assert step._traces == 1


def test_torch_compile_under_backprop_run_captures_the_step() -> None:
    program = Path(__file__).parent / "programs" / "compiled_step.py"
    done = subprocess.run([sys.executable, "-m", "backprop.run", str(program)], env=environment(),
                          text=True, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "CompiledFunction" and "runs eagerly" not in done.stderr
    losses = [float(line.split()[-1]) for line in lines[1:]]
    assert len(losses) == 30 and losses[-1] < 0.5 * losses[0]


def test_half_precision_gradients_replay_through_node_apply() -> None:
    # float16 gradients are computed in float32 by Node.apply: the replay calls it for them
    def make() -> tuple[Any, Any]:
        w = bp.tensor([0.5, -1.0, 2.0], dtype=bp.float16, requires_grad=True)
        opt = bp.optim.SGD([w], lr=0.1)

        def step(x: Any) -> Any:
            opt.zero_grad()
            loss = (bp.tanh(w * x) * x).sum()
            loss.backward()
            opt.step()
            return loss

        return w, step

    (eager_w, eager), (w, step) = make(), make()
    compiled = bp.compile(step)
    x = bp.tensor([1.5, 0.25, -0.75], dtype=bp.float16)
    for _ in range(4):
        assert compiled(x).item() == eager(x).item()
    assert compiled._traces == 1 and compiled.fallbacks == []
    assert "apply" in next(iter(compiled._tapes.values())).source
    np.testing.assert_array_equal(w.detach().numpy(), eager_w.detach().numpy())
