"""bp.profiler: what a step's rows count, that self times add up, that nothing stays patched,
record_function ranges, the Chrome trace, the table, and the `backprop profile` command.

No assertion here reads a duration against a threshold: the machine is shared, so tests check
structure (which rows, how many calls, sums that hold by construction), never speed."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop import profiler
from backprop.autograd import observers
from backprop.cli import main
from backprop.profiler.recorder import ACTIVE
from helpers import assert_no_observers, engine_attributes

LAYERS = 3
STEPS = 2


def mlp_step(optimizer: str = "sgd"):
    """A 3-Linear-layer MLP training step (forward, loss, zero_grad, backward, step)."""
    bp.manual_seed(0)
    model = bp.nn.Sequential(bp.nn.Linear(4, 8), bp.nn.ReLU(), bp.nn.Linear(8, 8), bp.nn.ReLU(),
                             bp.nn.Linear(8, 3))
    kind = {"sgd": lambda p: bp.optim.SGD(p, lr=0.1, momentum=0.9),
            "adamw": lambda p: bp.optim.AdamW(p, lr=1e-3)}[optimizer]
    opt = kind(model.parameters())
    x, y = bp.randn(16, 4), bp.tensor(np.arange(16) % 3)

    def step() -> None:
        loss = bp.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def counts(prof: profiler.profile) -> dict[tuple[str, str], int]:
    return {(row.key, row.phase): row.count for row in prof.key_averages()}


# -- what a training step's rows count --------------------------------------------------------

@pytest.fixture(scope="module")
def mlp_profile() -> tuple[profiler.profile, float]:
    step = mlp_step()
    step()  # warm-up, outside the block
    outer = time.perf_counter()
    with profiler.profile() as prof:
        for _ in range(STEPS):
            step()
    return prof, time.perf_counter() - outer


def test_mlp_step_counts_every_op_node_and_step(mlp_profile) -> None:
    seen = counts(mlp_profile[0])
    assert seen[("linear", "forward")] == LAYERS * STEPS
    assert seen[("LinearBackward", "backward")] == LAYERS * STEPS
    assert seen[("relu", "forward")] == seen[("ReluBackward", "backward")] == 2 * STEPS
    assert seen[("cross_entropy", "forward")] == seen[("CrossEntropyBackward", "backward")] == STEPS
    assert seen[("autograd::engine", "backward")] == STEPS
    assert seen[("Optimizer.step#SGD.step", "optimizer")] == STEPS
    assert seen[("Optimizer.zero_grad#SGD.zero_grad", "optimizer")] == STEPS
    assert seen[("[other]", "user")] == 1


def test_primitives_called_inside_backward_are_not_forward_ops(mlp_profile) -> None:
    # ReluBackward computes with gt/where on raw arrays: part of its node, not forward rows.
    forward = {key for key, phase in counts(mlp_profile[0]) if phase == "forward"}
    assert forward == {"linear", "relu", "cross_entropy"}


def test_self_times_add_up_to_the_wall_time_of_the_block(mlp_profile) -> None:
    prof, outer_seconds = mlp_profile
    rows = prof.key_averages()
    assert rows.self_cpu_time_total == pytest.approx(rows.wall_time_us, rel=1e-9)
    assert 0 < rows.wall_time_us <= outer_seconds * 1e6
    (other,) = [row for row in rows if row.key == "[other]"]
    assert other.cpu_time_total == pytest.approx(rows.wall_time_us, rel=1e-12)
    assert sum(row.self_cpu_percent for row in rows) == pytest.approx(100.0)
    for row in rows:
        assert -1e-6 <= row.self_cpu_time_total <= row.cpu_time_total + 1e-6
    # The engine's total holds its nodes; its self time is what the nodes leave over.
    by_key = {row.key: row for row in rows}
    nodes = sum(row.cpu_time_total for row in rows if row.phase == "backward"
                and row.key != "autograd::engine")
    engine = by_key["autograd::engine"]
    assert engine.self_cpu_time_total == pytest.approx(engine.cpu_time_total - nodes, abs=1e-3)


def test_rows_come_in_the_order_first_run_with_other_last(mlp_profile) -> None:
    names = [row.key for row in mlp_profile[0].key_averages()]
    assert names[:3] == ["linear", "relu", "cross_entropy"]
    assert names.index("autograd::engine") < names.index("CrossEntropyBackward")
    assert names[-1] == "[other]"


def test_optimizer_row_is_named_by_the_class_that_stepped() -> None:
    step = mlp_step("adamw")  # AdamW inherits Adam.step
    with profiler.profile() as prof:
        step()
        step()
    seen = counts(prof)
    assert seen[("Optimizer.step#AdamW.step", "optimizer")] == 2
    assert not any(key.startswith("Optimizer.step#Adam.") for key, _ in seen)


def test_a_step_calling_super_step_is_one_range() -> None:
    class LoggingSGD(bp.optim.SGD):
        def step(self, closure=None):
            bp.ones(2) * 2  # a tensor op inside the step: part of the step, not forward
            return super().step(closure)

    w = bp.ones(3, requires_grad=True)
    opt = LoggingSGD([w], lr=0.1)
    with profiler.profile() as prof:
        for _ in range(3):
            (w * w).sum().backward()
            opt.step()
    seen = counts(prof)
    assert seen[("Optimizer.step#LoggingSGD.step", "optimizer")] == 3
    assert ("mul", "forward") in seen and seen[("mul", "forward")] == 3  # only w * w
    assert not any(key.startswith("Optimizer.step#SGD") for key, _ in seen)


def test_double_backward_ops_belong_to_their_nodes() -> None:
    x = bp.tensor([1.0, 2.0], requires_grad=True)
    with profiler.profile() as prof:
        y = (x ** 3).sum()
        (g,) = bp.autograd.grad(y, x, create_graph=True)  # VJPs run on tensors here
        g.sum().backward()
    seen = counts(prof)
    forward = {key: n for (key, phase), n in seen.items() if phase == "forward"}
    assert forward == {"pow": 1, "sum": 2}  # (x ** 3).sum() and g.sum(): none of the VJPs' ops
    assert seen[("autograd::engine", "backward")] == 2
    assert seen[("PowBackward", "backward")] >= 1


def test_other_threads_are_not_timed() -> None:
    x = bp.ones(3, requires_grad=True)
    with profiler.profile() as prof:
        worker = threading.Thread(target=lambda: (x * 2).sum().backward())
        worker.start()
        worker.join()
        x.exp()
    assert {key for key, _ in counts(prof)} == {"exp", "[other]"}


# -- nothing stays patched ----------------------------------------------------------------------

def test_engine_is_unpatched_after_the_block() -> None:
    before = engine_attributes()
    with profiler.profile():
        assert engine_attributes() == before  # an observer is registered: nothing replaced
        assert len(observers.active()) == 1
    assert engine_attributes() == before
    assert_no_observers()
    assert not ACTIVE


def test_engine_is_unpatched_when_the_block_raises() -> None:
    before = engine_attributes()
    with pytest.raises(bp.ShapeError):
        with profiler.profile() as prof:
            with profiler.record_function("doomed"):
                bp.ones(2, 3, requires_grad=True) @ bp.ones(2, 3)
    assert engine_attributes() == before
    assert_no_observers()
    seen = counts(prof)  # the failed op and the range were still closed and counted
    assert seen[("matmul", "forward")] == 1 and seen[("doomed", "user")] == 1


def test_nested_profiles_both_record_and_both_unpatch() -> None:
    before = engine_attributes()
    x = bp.ones(2, requires_grad=True)
    with profiler.profile() as outer:
        x.exp()
        with profiler.profile() as inner:
            x.sin()
            assert engine_attributes() == before
    assert engine_attributes() == before
    assert_no_observers()
    assert {k for k, _ in counts(outer)} == {"exp", "sin", "[other]"}
    assert {k for k, _ in counts(inner)} == {"sin", "[other]"}


def test_start_and_stop_without_with() -> None:
    prof = profiler.profile()
    before = engine_attributes()
    prof.start()
    with pytest.raises(RuntimeError, match="still running"):
        prof.key_averages()
    with pytest.raises(RuntimeError, match="already running"):
        prof.start()
    bp.ones(2, requires_grad=True).exp()
    prof.stop()
    prof.stop()  # a second stop does nothing
    assert engine_attributes() == before
    assert_no_observers()
    assert counts(prof)[("exp", "forward")] == 1


def test_results_before_profiling_are_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="nothing was profiled yet"):
        profiler.profile().key_averages()


# -- record_function ----------------------------------------------------------------------------

def test_nested_record_function_ranges() -> None:
    x = bp.ones(4, requires_grad=True)
    with profiler.profile() as prof:
        with profiler.record_function("outer"):
            with profiler.record_function("inner"):
                x.exp()
            x.sin()
    rows = {row.key: row for row in prof.key_averages()}
    outer, inner = rows["outer"], rows["inner"]
    assert outer.phase == inner.phase == "user" and outer.count == inner.count == 1
    # outer's total holds inner's total and sin's; inner's holds exp's.
    assert outer.self_cpu_time_total == pytest.approx(
        outer.cpu_time_total - inner.cpu_time_total - rows["sin"].cpu_time_total, abs=1e-3)
    assert inner.self_cpu_time_total == pytest.approx(
        inner.cpu_time_total - rows["exp"].cpu_time_total, abs=1e-3)
    assert outer.cpu_time_total >= inner.cpu_time_total


def test_record_function_as_a_decorator_nests_when_recursing(tmp_path: Path) -> None:
    @profiler.record_function("countdown")
    def countdown(n: int) -> int:
        return 0 if n == 0 else 1 + countdown(n - 1)

    with profiler.profile() as prof:
        assert countdown(3) == 3
    assert counts(prof)[("countdown", "user")] == 4
    prof.export_chrome_trace(tmp_path / "trace.json")
    events = [e for e in json.loads((tmp_path / "trace.json").read_text())["traceEvents"]
              if e["name"] == "countdown"]
    events.sort(key=lambda e: e["ts"])
    for outer, inner in zip(events, events[1:]):  # each call's range holds the next one's
        assert outer["ts"] <= inner["ts"]
        assert inner["ts"] + inner["dur"] <= outer["ts"] + outer["dur"] + 1e-3


def test_one_record_function_object_entered_twice_opens_two_ranges() -> None:
    label = profiler.record_function("again")
    with profiler.profile() as prof:
        with label:
            with label:
                bp.ones(2, requires_grad=True).exp()
    rows = {row.key: row for row in prof.key_averages()}
    assert rows["again"].count == 2
    assert rows["again"].cpu_time_total >= rows["exp"].cpu_time_total


def test_record_function_outside_a_profile_does_nothing() -> None:
    @profiler.record_function("idle")
    def double(v: float) -> float:
        return 2 * v

    with profiler.record_function("idle"):
        assert double(2.0) == 4.0
    assert not ACTIVE
    with pytest.raises(TypeError, match="record_function: name must be a str"):
        profiler.record_function(3)  # type: ignore[arg-type]


# -- shapes, trace and table -------------------------------------------------------------------

def test_group_by_input_shape_splits_rows_by_shapes() -> None:
    layer = bp.nn.Linear(3, 2)
    with profiler.profile(record_shapes=True) as prof:
        layer(bp.ones(4, 3))
        layer(bp.ones(4, 3))
        layer(bp.ones(5, 3))
    grouped = {tuple(map(tuple, row.input_shapes)): row.count
               for row in prof.key_averages(group_by_input_shape=True) if row.key == "linear"}
    assert grouped == {((4, 3), (2, 3), (2,)): 2, ((5, 3), (2, 3), (2,)): 1}
    merged = [row for row in prof.key_averages() if row.key == "linear"]
    assert [row.count for row in merged] == [3] and merged[0].input_shapes is None
    table = prof.key_averages(group_by_input_shape=True).table()
    assert "Input Shapes" in table and "[[5, 3], [2, 3], [2]]" in table


def test_group_by_input_shape_needs_record_shapes() -> None:
    with profiler.profile() as prof:
        bp.ones(2, requires_grad=True).exp()
    with pytest.raises(ValueError, match="record_shapes=True"):
        prof.key_averages(group_by_input_shape=True)


def test_activities_other_than_cpu_are_refused() -> None:
    assert profiler.profile(activities=[profiler.ProfilerActivity.CPU]).record_shapes is False
    with pytest.raises(ValueError, match="ProfilerActivity.CPU"):
        profiler.profile(activities=["cuda"])


def test_chrome_trace_holds_every_range(mlp_profile, tmp_path: Path) -> None:
    prof = mlp_profile[0]
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(path)
    trace = json.loads(path.read_text())
    events = trace["traceEvents"]
    assert len(events) == sum(row.count for row in prof.key_averages())
    assert {e["ph"] for e in events} == {"X"}
    assert events[0]["name"] == "[other]" and events[0]["ts"] == 0.0
    assert all(e["ts"] >= 0 and e["dur"] >= 0 for e in events)
    assert [p.name for p in tmp_path.iterdir()] == ["trace.json"]  # no temporary file left


def test_table_sorts_limits_and_names_bad_keys(mlp_profile) -> None:
    rows = mlp_profile[0].key_averages()
    table = rows.table(sort_by="count", row_limit=3)
    lines = table.splitlines()
    assert "Self CPU %" in lines[1] and "# of Calls" in lines[1]
    body = lines[3:6]
    assert [int(line.split()[-1]) for line in body] == sorted(
        (row.count for row in rows), reverse=True)[:3]
    assert lines[-1].startswith("Self CPU time total:") and "3 shown" in lines[-1]
    assert len(rows.table(row_limit=0).splitlines()) == len(rows) + 5
    by_self = rows.table(sort_by="self_cpu_time_total").splitlines()[3]
    assert by_self.split()[0] == max(rows, key=lambda r: r.self_cpu_time_total).key
    with pytest.raises(ValueError, match="table: sort_by must be one of self_cpu_time_total"):
        rows.table(sort_by="slowest")


# -- the `backprop profile` command -------------------------------------------------------------

def test_profile_command_prints_a_table(capsys, tmp_path: Path) -> None:
    trace = tmp_path / "step.json"
    assert main(["profile", "--hidden", "16", "--steps", "2", "--rows", "0", "--optimizer", "sgd",
                 "--trace", str(trace)]) == 0
    out = capsys.readouterr().out
    assert re.match(r"mlp on digits, batch 64, sgd, \d+ BLAS threads?: ", out)
    assert "2 steps profiled" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[3:] if line[:1].isalpha()}
    assert rows["linear"][-1] == "4" and rows["LinearBackward"][-1] == "4"  # 2 layers x 2 steps
    assert rows["Optimizer.step#SGD.step"][-1] == "2"
    assert json.loads(trace.read_text())["traceEvents"]


@pytest.mark.parametrize("argv,message", [
    (["profile", "--steps", "0"], "profile: --steps must be at least 1; got 0"),
    (["profile", "--rows", "-1"], "--rows must be 0 (all) or more"),
    (["profile", "--sort", "slowest"], "argument --sort: invalid choice"),
    (["profile", "--epochs", "3"], "unrecognized arguments: --epochs 3"),
    (["profile", "--model", "rnn"], "argument --model: invalid choice: 'rnn'"),
    (["profile", "--trace", "no/such/folder/t.json"], "--trace no/such/folder/t.json: no such "
     "folder"),
])
def test_profile_command_user_errors_are_one_line(argv: list[str], message: str, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("backprop: error: ")
    assert message in err
