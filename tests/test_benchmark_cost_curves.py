"""``benchmarks/cost_curves.py``: the sweep's machinery (contenders alone in fresh processes, the
busy core, the report, the JSON and the picture). The figures are ``make bench``'s: no timing is
asserted here."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks import alone, cost_curves, harness, w3_cnn
from benchmarks.cost_curves_report import ratio

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc (Linux)")


def yes_children() -> list[int]:
    """This process's children that run ``yes``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue  # gone meanwhile
        name = stat[stat.index("(") + 1: stat.rindex(")")]
        parent = int(stat[stat.rindex(")") + 2:].split()[1])
        if name == "yes" and parent == os.getpid():
            found.append(int(entry))
    return found


def fake_run(ms: dict[str, float], fail: str | None = None):
    """A stand-in for run_contender: fixed times, one contender failing, and whether ``yes``
    ran during each call."""
    seen: list[bool] = []

    def run(workload: str, contender: str, sizes: dict[str, int], quick: bool,
            thread_policy: bool) -> dict[str, Any]:
        seen.append(bool(yes_children()))
        if contender == fail:
            raise RuntimeError(f"alone_run: {workload} {contender} failed (exit 1): boom")
        out: dict[str, Any] = {"median_s": ms[contender] * (1 + sizes["batch"]) / 1e3}
        if contender != "torch":
            out["blas_threads"] = 1
        if contender == cost_curves.CAPTURED:
            out["fallbacks"] = []
        return out

    return run, seen


POINTS = {"W1": [{"batch": 1}, {"batch": 3}], "W3": [{"batch": 1, "width": 2}],
          "W4": [{"batch": 1, "d_model": 32, "layers": 1}]}


def test_busy_sweep_holds_one_core_and_stops_yes_however_it_ends() -> None:
    run, seen = fake_run({"backprop": 2.0, cost_curves.CAPTURED: 1.0, "torch": 4.0})
    rows = cost_curves.sweep("busy", POINTS, quick=True, thread_policy=True, log=lambda _: None,
                             run=run)
    assert seen and all(seen)  # yes ran throughout
    assert yes_children() == []
    assert [r["workload"] for r in rows] == ["W1", "W1", "W3", "W4"]
    assert rows[0]["ms"] == {"backprop": 4.0, cost_curves.CAPTURED: 2.0, "torch": 8.0}
    assert ratio(rows[0], "backprop") == 0.5

    def interrupted(*args: Any) -> dict[str, Any]:
        assert yes_children()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cost_curves.sweep("busy", POINTS, quick=True, thread_policy=True, log=lambda _: None,
                          run=interrupted)
    assert yes_children() == []
    run, seen = fake_run({"backprop": 2.0, cost_curves.CAPTURED: 1.0, "torch": 4.0})
    cost_curves.sweep("quiet", POINTS, quick=True, thread_policy=True, log=lambda _: None,
                      run=run)
    assert seen and not any(seen)


def test_report_json_and_picture_are_written_and_redrawn(tmp_path: Path, monkeypatch) -> None:
    run, _ = fake_run({"backprop": 2.0, cost_curves.CAPTURED: 1.0, "torch": 1.6})
    failing, _ = fake_run({"backprop": 3.0, cost_curves.CAPTURED: 1.0, "torch": 2.0},
                          fail=cost_curves.CAPTURED)
    result = {"meta": {**cost_curves.machine(), "quick": True, "thread_policy": True,
                       "timing": {}, "command": "python -m benchmarks.cost_curves --test"},
              "loads": {"quiet": cost_curves.sweep("quiet", POINTS, True, True, lambda _: None,
                                                   run),
                        "busy": cost_curves.sweep("busy", POINTS, True, True, lambda _: None,
                                                  failing)}}
    paths = cost_curves.outputs(str(tmp_path / "out" / "curves.md"), quick=True)
    assert paths is not None
    text = cost_curves.write(result, paths, log=lambda _: None)
    md, js, png = paths
    assert md.read_text() == text
    assert json.loads(js.read_text()) == json.loads(json.dumps(result))
    for title in ("## W1 MLP", "## W3 LeNet-like CNN", "## W4 char Transformer"):
        assert title in text
    # W1 batch 1: backprop 4 ms, captured 2 ms, PyTorch 3.2 ms quiet; busy 6 / failed / 4
    assert "| batch 1 | 4 | 2 | 3.2 | 1.25x | **0.62x** | 6 | failed | 4 | 1.50x | - | " \
           "1 / 1 |" in text
    assert "- quiet, backprop: ahead of PyTorch at 0 of 4 points." in text
    assert "- quiet, captured: ahead of PyTorch at 4 of 4 points: W1 batch 1;" in text
    assert "- backprop: 1.50x (1.50x, W1 batch 1)" in text  # busy over quiet: 3 ms / 2 ms
    assert "- PyTorch: 1.25x" in text and "- captured:" not in text  # it failed busy
    assert "## Failed runs" in text and "boom" in text
    pytest.importorskip("matplotlib")
    assert png.stat().st_size > 10_000 and f"]({png.name})" in text
    png.unlink()
    assert cost_curves.main(["--plot-only", "--quick", "--out", str(md)]) == 0
    assert png.exists() and md.read_text() == text
    # a busy sweep measured later, beside the quiet one kept from the JSON
    run, seen = fake_run({"backprop": 1.0, cost_curves.CAPTURED: 1.0, "torch": 4.0})
    monkeypatch.setattr(cost_curves, "run_contender", run)
    assert cost_curves.main(["--quick", "--busy-only", "--merge", "--only", "W1", "--out",
                             str(md)]) == 0
    merged = json.loads(js.read_text())
    assert merged["loads"]["quiet"] == result["loads"]["quiet"] and all(seen)
    assert [r["sizes"] for r in merged["loads"]["busy"]] == [{"batch": 8}]
    assert "Kept from an earlier run (`--merge`): quiet measured" in md.read_text()
    assert yes_children() == []


def test_quick_point_runs_each_contender_alone(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    out = tmp_path / "r.md"
    assert cost_curves.main(["--quick", "--only", "W1", "--out", str(out)]) == 0
    assert yes_children() == []
    result = json.loads(out.with_suffix(".json").read_text())
    assert set(result["loads"]) == {"quiet"} and result["meta"]["quick"]
    assert result["meta"]["torch"] and result["meta"]["run_s"] > 0
    (row,) = result["loads"]["quiet"]
    assert row["sizes"] == {"batch": 8} and row["errors"] == {}
    assert set(row["ms"]) == set(cost_curves.CONTENDERS) and all(
        t > 0 for t in row["ms"].values())
    assert set(row["threads"]) == {"backprop", cost_curves.CAPTURED}
    assert all(n >= 1 for n in row["threads"].values())
    assert row["fallbacks"] == []  # W1's step is captured and replayed
    assert row["other_load"] >= 0 and row["wall_s"] > 0
    assert "| batch 8 | " in out.read_text()


def test_alone_sizes_the_problem_and_names_the_captured_contender() -> None:
    out = alone.measure_point("W3", alone.CAPTURED, 2, 1, small=True, sizes={"width": 2},
                              block_s=0.001, warmup=1)
    assert out["sizes"] == {"batch": 4, "width": 2} and out["median_s"] > 0
    assert out["fallbacks"] == [] and out["blas_threads"] >= 1
    assert not harness.common.CAPTURE  # the process builds eager steps again
    with pytest.raises(SystemExit):
        alone.main(["W1", "backprop", "2", "1", "--size", "batch"])


def test_w3_width_scales_channels_and_every_contender_agrees() -> None:
    pytest.importorskip("torch")
    problem = w3_cnn.make_problem(batch=4, width=2, n_batches=2)
    assert problem.params["3.weight"].shape == (32, 16, 5, 5)
    assert problem.params["7.weight"].shape == (10, 512)
    assert w3_cnn.make_problem(batch=4).params["7.weight"].shape == (10, 256)  # width 1 as before
    steps = {c: harness.build_contender(c, problem) for c in ("backprop", "torch", "numpy")}
    check = harness.agreement(steps, 2)
    assert check["ok"], check["max_rel_diff"]
    assert np.isfinite(check["losses"]["torch"]).all()
    with pytest.raises(ValueError, match="width must be an int of at least 1"):
        w3_cnn.make_problem(width=0)
