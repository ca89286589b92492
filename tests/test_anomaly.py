"""Anomaly detection (issue 5, part 2): the first NaN/inf is reported at the op that made it, with
the user's source line and module path, in forward, in backward and for the masked-where trap."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import backprop as bp
from backprop.autograd import observers
from backprop.autograd.function import Function
from backprop.diagnostics.anomaly import (AnomalyError, detect_anomaly,
                                          is_anomaly_check_nan_enabled, is_anomaly_enabled,
                                          set_detect_anomaly)
from backprop.diagnostics.origin import ORIGINS, record_origins
from backprop.errors import GraphError
from helpers import assert_no_observers, engine_attributes

ORIGINAL = engine_attributes()


def next_line() -> int:
    """The line after the caller's: ``line = next_line()`` sits just above the op it names."""
    return sys._getframe(1).f_lineno + 1


def assert_unpatched() -> None:
    """Nothing was ever replaced, and nothing is left registered."""
    assert engine_attributes() == ORIGINAL
    assert_no_observers()
    assert not is_anomaly_enabled()


@pytest.fixture(autouse=True)
def quiet_numpy():
    """NumPy's own divide/invalid warnings are expected here; the tests look at ours."""
    with np.errstate(all="ignore"):
        yield
    assert_unpatched()


def where_line(record) -> str:
    return f"{record.filename}:{record.lineno}"


# -- forward -----------------------------------------------------------------------------------

def test_forward_nan_names_the_op_its_line_and_input_range():
    x = bp.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        line = next_line()
        y = bp.log(x)
        y.sum()
    record = info.value.record
    assert (record.phase, record.op, record.kind, record.what) == ("forward", "log", "NaN",
                                                                   "output")
    assert (record.filename, record.lineno, record.module) == (__file__, line, "")
    message = str(info.value)
    assert f"{__file__}:{line}" in message
    assert "(2,) float32, finite values in [-1, 2]" in message  # the input's range
    assert "1 NaN" in message and "reached sum" in message
    assert isinstance(info.value, FloatingPointError) and isinstance(info.value, RuntimeError)


class LogLayer(bp.nn.Module):
    def forward(self, x):
        return bp.log(x)


LOG_LAYER_LINE = LogLayer.forward.__code__.co_firstlineno + 1


def test_forward_nan_inside_a_model_names_the_module_path():
    model = bp.nn.Sequential(bp.nn.Identity(), bp.nn.Sequential(bp.nn.Identity(), LogLayer()))
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        model(bp.tensor([[1.0, -3.0]], requires_grad=True)).mean()
    record = info.value.record
    assert record.op == "log" and record.module == "model.1.1"
    assert record.lineno == LOG_LAYER_LINE and record.filename == __file__
    assert "module model.1.1" in str(record)


def test_nan_that_no_op_used_is_reported_when_the_block_ends():
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        line = next_line()
        y = bp.sqrt(bp.tensor([-4.0, 4.0]))
    assert (info.value.record.op, info.value.record.lineno) == ("sqrt", line)
    assert "before the detect_anomaly block ended" in str(info.value)
    assert np.isnan(y.numpy()[0])


def test_inf_turned_into_nan_names_the_op_that_made_the_inf():
    x = bp.tensor([1000.0, 1.0])
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        line = next_line()
        big = bp.exp(x)
        (big - big).sum()
    record = info.value.record
    assert (record.op, record.kind, record.lineno) == ("exp", "inf", line)
    assert "sub then turned it into NaN" in str(record)


def test_nan_from_outside_the_block_is_reported_at_the_first_op_using_it():
    linear = bp.nn.Linear(2, 3)
    data = bp.tensor([[1.0, float("nan")]])
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        linear(data)
    record = info.value.record
    assert record.op == "linear" and record.module == "model"
    assert "already held NaN" in str(record)
    assert any(label == "input 0 (input)" and s.nan == 1 for label, s in record.inputs)


def test_meant_infs_are_not_reported():
    """-inf masks (given, or made by log(0)) that softmax absorbs are how attention is written."""
    scores = bp.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    keep = bp.tensor([[True, True, False]])
    with detect_anomaly(mode="record") as anomalies:
        masked = scores.masked_fill(~keep, float("-inf")).softmax(-1)
        by_log = (scores + bp.log(keep.float())).softmax(-1)
        (masked * by_log).sum().backward()
    assert len(anomalies) == 0
    assert np.isfinite(scores.grad.numpy()).all()


# -- backward ----------------------------------------------------------------------------------

def test_backward_only_inf_names_the_node_and_its_forward_line():
    x = bp.tensor([0.0, 4.0], requires_grad=True)
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        line = next_line()
        y = bp.sqrt(x)
        y.sum().backward()
    record = info.value.record
    assert (record.phase, record.op, record.kind) == ("backward", "SqrtBackward", "inf")
    assert record.what == "gradient for input 0 (input) of sqrt"
    assert (record.filename, record.lineno) == (__file__, line)
    assert record.incoming.finite and record.value.posinf == 1
    assert "SqrtBackward made the inf itself" in str(record)


class NaNGradient(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2.0

    @staticmethod
    def backward(ctx, g):
        return g * float("nan")


def test_custom_function_returning_nan_names_its_backward_and_forward_line():
    x = bp.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        line = next_line()
        y = NaNGradient.apply(x)
        (y * 3.0).sum().backward()
    record = info.value.record
    assert (record.op, record.lineno, record.filename) == ("NaNGradientBackward", line, __file__)
    assert "input 0 ('x')" in record.what


def test_nan_gradient_given_to_backward_is_reported_as_incoming():
    x = bp.tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly(mode="record") as anomalies:
        (x * 2.0).backward(bp.tensor([1.0, float("nan")]))
    assert [r.op for r in anomalies] == ["MulBackward"]
    assert anomalies[0].what.startswith("incoming gradient")


# -- the masked-where trap ---------------------------------------------------------------------

def _log(x, keep):
    return bp.where(keep, bp.log(x), 0.0), "log", "LogBackward", [0.0, 2.0]


def _divide(x, keep):
    return bp.where(keep, 1.0 / x, 0.0), "div", "DivBackward", [0.0, 2.0]


def _sqrt(x, keep):
    return bp.where(keep, bp.sqrt(x), 0.0), "sqrt", "SqrtBackward", [-1.0, 4.0]


def _masked_fill(x, keep):
    return bp.log(x).masked_fill(~keep, 0.0), "log", "LogBackward", [0.0, 2.0]


def _guarded_by_a_comparison(x, keep):
    y = bp.log(x)
    return bp.where(y > -1e9, y, 0.0), "log", "LogBackward", [0.0, 2.0]


@pytest.mark.parametrize("case", [_log, _divide, _sqrt, _masked_fill, _guarded_by_a_comparison])
def test_where_trap_is_explained(case):
    _, op, node, values = case(bp.tensor([1.0]), bp.tensor([True]))
    x = bp.tensor(values, requires_grad=True)
    with detect_anomaly(mode="record") as anomalies:
        y, *_ = case(x, x > 0)
        assert np.isfinite(y.detach().numpy()).all()  # forward is right and raised nothing
        y.sum().backward()
    assert len(anomalies) == 1
    record = anomalies[0]
    assert (record.op, record.kind, record.masked_where) == (node, "NaN", True)
    message = str(record)
    assert "the gradient is NaN because" in message and "selected away" in message
    assert f"produced by {op} at {__file__}:" in message
    assert "= NaN in backward" in message
    if case is not _masked_fill:
        hint = f"apply the mask to the input of {op} instead (e.g. where(mask, x, 1) before {op})"
        assert hint in message
    # the user's line is the one in the helper that called the op
    assert (record.filename, record.lineno) == (__file__, case.__code__.co_firstlineno + 1)


def test_where_trap_raises_in_backward_not_forward():
    x = bp.tensor([0.0, 2.0], requires_grad=True)
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        line = next_line()
        y = bp.where(x > 0, bp.log(x), 0.0)
        assert y.tolist() == [0.0, pytest.approx(np.log(2.0))]
        y.sum().backward()
    record = info.value.record
    assert record.op == "LogBackward" and record.lineno == line
    assert f"where was called at {__file__}:{line}" in str(record)


def test_where_trap_is_recognised_when_only_backward_is_watched():
    x = bp.tensor([0.0, 2.0], requires_grad=True)
    y = bp.where(x > 0, bp.log(x), 0.0)
    with detect_anomaly(mode="record") as anomalies:
        y.sum().backward()
    (record,) = anomalies
    assert (record.op, record.masked_where, record.origin) == ("LogBackward", True, None)
    assert "NaN exactly where the incoming gradient is 0" in str(record)
    assert "apply the mask to the input of log instead" in str(record)


def test_inf_made_finite_by_arithmetic_is_explained_without_the_where_hint():
    x = bp.tensor([0.0, 2.0], requires_grad=True)
    with detect_anomaly(mode="record") as anomalies:
        bp.clamp(bp.log(x), min=-100.0).sum().backward()
    (record,) = anomalies
    assert record.op == "LogBackward" and not record.masked_where
    message = str(record)
    assert "clamp turned an inf produced by log" in message
    assert "keep the input of log inside its domain" in message


# -- modes -------------------------------------------------------------------------------------

def test_warn_mode_warns_with_the_same_message_and_goes_on():
    x = bp.tensor([0.0, 2.0], requires_grad=True)
    with pytest.warns(RuntimeWarning, match="LogBackward returned NaN") as caught:
        with detect_anomaly(mode="warn") as anomalies:
            y = bp.where(x > 0, bp.log(x), 0.0)
            line = next_line()
            y.sum().backward()
    ours = [w for w in caught if "detect_anomaly" in str(w.message)]
    assert len(ours) == 1 and str(ours[0].message) == str(anomalies[0])
    assert (ours[0].filename, ours[0].lineno) == (__file__, line)  # points at the user's line
    assert np.isnan(x.grad.numpy()[0])  # it went on


def test_record_mode_keeps_root_causes_only():
    x = bp.tensor([-1.0, 2.0], requires_grad=True)
    w = bp.tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly(mode="record") as anomalies:
        (bp.log(x) * 2.0).sum().backward()  # forward NaN; its backward NaN is a consequence
        bp.sqrt(w).sum().backward()  # an independent backward inf
    assert [(r.phase, r.op) for r in anomalies] == [("forward", "log"), ("backward",
                                                                        "SqrtBackward")]
    assert anomalies.records is not None and list(anomalies) == anomalies.records


def test_healthy_mlp_step_reports_nothing_and_gives_the_same_gradients():
    def step():
        bp.manual_seed(0)
        model = bp.nn.Sequential(bp.nn.Linear(4, 8), bp.nn.ReLU(), bp.nn.Linear(8, 3))
        x = bp.randn(5, 4)
        loss = bp.nn.functional.cross_entropy(model(x), bp.tensor([0, 1, 2, 0, 1]))
        loss.backward()
        return [p.grad.numpy().copy() for p in model.parameters()]

    plain = step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with detect_anomaly(mode="record") as anomalies:
            checked = step()
    assert len(anomalies) == 0
    for a, b in zip(plain, checked):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode, check_nan, error", [("loud", True, ValueError),
                                                    ("raise", 1, TypeError)])
def test_bad_arguments_are_named(mode, check_nan, error):
    with pytest.raises(error, match="detect_anomaly: (mode|check_nan)"):
        detect_anomaly(check_nan, mode=mode)
    with pytest.raises(TypeError, match="mode='warn'"):
        detect_anomaly("warn")


# -- installing and removing -------------------------------------------------------------------

def test_nothing_is_patched_after_the_block_even_when_an_error_escapes():
    with detect_anomaly():
        assert engine_attributes() == ORIGINAL  # an observer is registered: nothing replaced
        assert len(observers.active()) == 1
        assert is_anomaly_enabled() and is_anomaly_check_nan_enabled()
    assert_unpatched()
    with pytest.raises(KeyError), detect_anomaly():
        raise KeyError("user error")
    assert_unpatched()
    with pytest.raises(AnomalyError), detect_anomaly():
        bp.log(bp.tensor([-1.0])).sum()
    assert_unpatched()


def test_nested_blocks_share_one_observer_and_the_inner_mode_wins():
    with detect_anomaly() as outer:
        installed = observers.active()
        with detect_anomaly(mode="record") as inner:
            assert observers.active() == installed and len(installed) == 1
            assert engine_attributes() == ORIGINAL
            bp.log(bp.tensor([-1.0])).sum()
        assert len(inner) == 1 and len(outer) == 0
    assert_unpatched()


def test_set_detect_anomaly_is_a_global_switch_and_a_context_manager():
    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
        with pytest.raises(AnomalyError):
            bp.log(bp.tensor([-1.0])).sum()
    finally:
        set_detect_anomaly(False)
    assert_unpatched()
    bp.log(bp.tensor([-1.0])).sum()  # off: nothing checked
    with set_detect_anomaly("record") as switch:
        bp.log(bp.tensor([-1.0])).sum()
    assert [r.op for r in switch.records] == ["log"]
    assert_unpatched()


def test_record_origins_outside_the_block_keeps_module_paths():
    model = bp.nn.Sequential(bp.nn.Identity(), LogLayer())
    with record_origins():
        with pytest.raises(AnomalyError) as info, detect_anomaly():
            model(bp.tensor([-1.0])).sum()
        out = model(bp.tensor([1.0], requires_grad=True))
        assert ORIGINS[out.grad_fn].module == "model.1"  # still recording after the block
    assert info.value.record.module == "model.1"


def test_record_origins_inside_the_block_keeps_module_paths():
    model = bp.nn.Sequential(bp.nn.Identity(), LogLayer())
    with detect_anomaly(mode="record") as anomalies, record_origins():
        model(bp.tensor([-1.0])).sum()
    assert anomalies[0].module == "model.1"


def test_check_nan_false_only_names_the_forward_line_of_backward_errors():
    x = bp.tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly(check_nan=False):
        assert is_anomaly_enabled() and not is_anomaly_check_nan_enabled()
        bp.log(bp.tensor([-1.0])).sum()  # not checked
        line = next_line()
        y = bp.exp(x)
        y.add_(1.0)  # exp saved its output: its backward must refuse
        with pytest.raises(GraphError) as info:
            y.sum().backward()
    if sys.version_info >= (3, 11):  # exception notes
        assert any("ExpBackward was recorded in the forward pass" in note
                   and f"{__file__}:{line}" in note for note in info.value.__notes__)


def test_overhead_benchmark_runs_and_anomaly_mode_changes_no_result():
    from benchmarks import anomaly_overhead

    rows = anomaly_overhead.measure(rounds=0, small=True, check_steps=1)
    assert [r["workload"][:2] for r in rows] == ["W1", "W4"]
    assert all(r["same_losses"] for r in rows)  # and no AnomalyError on healthy workloads
