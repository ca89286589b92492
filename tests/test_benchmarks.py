"""The benchmark harness (issue 4) runs end to end and its contenders compute the same thing.
No timing is asserted: benchmarks are not timed tests."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import __main__ as bench_main
from benchmarks import (common, harness, numpy_floor, w1_mlp, w2_tiny, w3_cnn, w4_transformer,
                        w5_lstm)

QUICK = {"quick": True, "small": True, "check_steps": 2, "rounds": 1, "memory": False,
         "imports": False, "scale": False, "log": lambda line: None}


def test_quick_run_backprop_and_numpy_agree():
    result = harness.run(libs=["backprop"], **QUICK)
    assert result["agree"]
    names = [r.name for r in result["results"]]
    assert names == ["W1", "W2", "W3", "W4", "W5"]
    by_name = {r.name: r for r in result["results"]}
    # the hand-written NumPy floor takes part in every workload and is the reference without torch
    for name in ("W1", "W2", "W3", "W4"):
        assert set(by_name[name].check["losses"]) == {"backprop", "numpy"}
        assert by_name[name].check["reference"] == "numpy"
    for r in result["results"]:
        assert all(np.isfinite(v) for values in r.check["losses"].values() for v in values)
        assert set(r.median_s) == set(r.check["losses"])
    assert "| W1 MLP" in result["report"] and "all agree" in result["report"]


def test_quick_run_with_torch_agrees(torch):
    # the torch fixture makes float64 PyTorch's default: the harness must still build float32
    result = harness.run(libs=["backprop", "torch"], **QUICK)
    assert result["agree"], {r.name: r.check["max_rel_diff"] for r in result["results"]}
    for r in result["results"]:
        assert r.check["reference"] == "torch"
        assert max(r.check["max_rel_diff"].values()) <= harness.REL_TOL
    assert "vs PyTorch" in result["report"]


@pytest.mark.parametrize("mod", [w1_mlp, w2_tiny, w3_cnn, w4_transformer, w5_lstm])
def test_backprop_contender_stays_float32(mod):
    problem = mod.make_problem(**harness.SMALL[mod.NAME])
    lib = common.Lib("backprop")
    step = mod.build(lib, problem)
    loss = step()
    assert loss.dtype == np.float32
    assert np.isfinite(common.to_float(loss))


@pytest.mark.parametrize("mod", [w1_mlp, w2_tiny, w3_cnn, w4_transformer])
def test_numpy_floor_matches_backprop_over_several_steps(mod):
    problem = mod.make_problem(**harness.SMALL[mod.NAME])
    steps = {"backprop": harness.build_contender("backprop", problem),
             "numpy": numpy_floor.build(problem)}
    check = harness.agreement(steps, 6)
    assert check["ok"], check["max_rel_diff"]
    # the losses move, so agreement is not trivially about the first step only
    assert check["losses"]["numpy"][0] != check["losses"]["numpy"][-1]
    # the hand-written floor stays float32 end to end (weights and optimizer state)
    assert {a.dtype for a in steps["numpy"].arrays} == {np.dtype(np.float32)}


def test_deeper_w1_and_weights_are_shared_not_aliased():
    problem = w1_mlp.make_problem(batch=4, hidden=4)
    before = {k: v.copy() for k, v in problem.params.items()}
    for name in ("backprop", "numpy"):
        step = harness.build_contender(name, problem)
        step()
    for k, v in problem.params.items():  # contenders train copies, not the shared weights
        np.testing.assert_array_equal(v, before[k])
    assert w1_mlp.flops_per_step(problem) > 0


def test_linearity_fit():
    xs = [32, 64, 128, 256, 512, 1024]
    assert harness.linearity(xs, [0.1 + 0.01 * x for x in xs])["linear"]
    assert not harness.linearity(xs, [1e-4 * x * x for x in xs])["linear"]


def test_outside_load_probe_returns_promptly():
    harness.WAIT_BUDGET["seconds"] = 0.0
    load = harness.wait_for_quiet(10.0, probe_s=0.01)  # no budget: one probe, no waiting
    assert load >= 0 or np.isnan(load)
    assert harness.WAIT_BUDGET["seconds"] == 0.0


def test_report_with_scaling_and_memory(tmp_path):
    out = tmp_path / "results.md"
    result = harness.run(libs=["backprop"], workloads=["W2"], out=str(out),
                         **{**QUICK, "scale": True, "memory": True})
    text = out.read_text()
    assert text == result["report"]
    assert "scaling with batch size" in text and "RSS" in text and "Outside load" in text
    memory = result["results"][0].memory
    assert set(memory) == {"backprop", "numpy"}
    assert all(m["peak_kb"] >= m["base_kb"] > 0 for m in memory.values())


def test_each_contender_alone_without_torch():
    result = harness.run(libs=["backprop"], workloads=["W2"], **{**QUICK, "alone": True})
    alone = result["results"][0].alone
    assert set(alone) == {"backprop", "numpy"}
    assert all(t > 0 for t in alone.values())
    assert "Each contender alone" in result["report"]


def test_torch_alone_by_wait_policy_in_report(torch):
    result = harness.run(libs=["backprop", "torch"], workloads=["W2"],
                         **{**QUICK, "alone": True})
    alone = result["results"][0].alone
    assert len(alone) == len(harness.ALONE)
    assert all(t > 0 for t in alone.values())
    assert "best 2-thread PyTorch" in result["report"]


def test_command_line_quick(tmp_path, capsys):
    out = tmp_path / "quick.md"
    code = bench_main.main(["--quick", "--no-torch", "--only", "W2", "--out", str(out)])
    assert code == 0
    assert "W2 tiny MLP" in out.read_text()
    assert "median ms/step" in capsys.readouterr().out


def test_op_speed_table_times_ops_of_both_arities_and_names_what_it_leaves_out(torch):
    from benchmarks import ops
    timings, left_out = ops.measure(["exp", "add", "linalg.inv", "get_default_dtype"], rounds=1,
                                    seconds=0.0005)
    assert [(t.name, t.arity, t.input) for t in timings] == [
        ("exp", 1, "100x1000"), ("add", 2, "100x1000"), ("linalg.inv", 1, "316x316 SPD")]
    assert all(t.backward is not None and min(t.forward + t.backward) > 0 for t in timings)
    assert left_out == ["get_default_dtype"]
    table = ops.report(timings, left_out)
    assert "| exp | 1 |" in table and "| add | 2 |" in table and "Left out" in table


def test_op_speed_table_is_written_where_asked(torch, tmp_path):
    from benchmarks import ops
    out = tmp_path / "ops.md"
    assert ops.main(["--quick", "--only", "exp", "--out", str(out)]) == 0
    assert out.read_text().startswith("# Per-op speed against PyTorch") and "| exp | 1 |" in \
        out.read_text()
