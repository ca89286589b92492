"""``backprop compare-methods`` end to end with tiny budgets: the files it writes, the figures
in them obeying the budgets, and its refusals (one line, exit 2, nothing written)."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from backprop.cli import main

TINY = ["compare-methods", "--quick", "--evaluations", "120", "--seconds", "0.05"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One tiny run without pictures (matplotlib's layout costs seconds a picture; the picture
    test below draws one from these figures)."""
    import backprop.alternatives.compare_plots as plots

    out = tmp_path_factory.mktemp("compare") / "run"
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, redirect_stdout(printed):
        patch.setattr(plots, "pyplot", lambda: None)
        assert main([*TINY, "--out", str(out)]) == 0
    return out, printed.getvalue()


def test_a_tiny_run_writes_figures_that_respect_the_budgets(tiny: tuple[Path, str]) -> None:
    out, printed = tiny
    figures = json.loads((out / "figures.json").read_text())
    table = (out / "table.md").read_text()
    assert table.strip() in printed
    for task in ("digits", "regression"):
        runs = figures["runs"]["evaluations"][task]
        # forward-forward is a classification rule: no regression run
        expected = {"backprop", "feedback-alignment", "evolution", "spsa"}
        assert set(runs) == expected | ({"forward-forward"} if task == "digits" else set())
        for method, run in runs.items():
            assert 0 < run["forward"] <= 120, (task, method)
            assert run["forward"] + run["forward_per_step"] > 120  # spent all it could
            assert run["forward"] == run["steps"] * run["forward_per_step"]
            assert run["curve"][-1]["forward"] == run["forward"]
            assert f"| evaluations | {task} | {method} | {run['steps']} |" in table
        assert (runs["backprop"]["forward_per_step"], runs["backprop"]["backward_per_step"]) == (1, 1)
        assert (runs["evolution"]["forward_per_step"], runs["evolution"]["backward_per_step"]) == (
            figures["config"]["population"], 0)
        assert runs["spsa"]["forward_per_step"] == 2 * figures["config"]["spsa_samples"]
        for run in figures["runs"]["seconds"][task].values():
            assert run["seconds"] >= 0.05 and run["steps"] >= 1
        quality = figures["quality"][task]
        assert quality["backprop"] == [{"forward": 1, "backward": 1, "cosine": 1.0}]
        assert [p["forward"] for p in quality["evolution"]] == [2, 32]
        assert all(-1 <= p["cosine"] <= 1 for p in quality["spsa"])
        assert all(m is None or m > 0 for m in figures["memory"][task].values())
    digits = figures["runs"]["evaluations"]["digits"]
    assert all(0 <= r["final_metric"] <= 1 for r in digits.values())
    assert "no pictures: matplotlib is not installed" in printed
    assert not list(out.glob("*.png"))


def test_the_budget_picture_is_drawn_from_the_figures(tiny: tuple[Path, str],
                                                      tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from backprop.alternatives.compare_plots import save_budget_picture

    figures = json.loads((tiny[0] / "figures.json").read_text())
    del figures["runs"]["evaluations"]["regression"]  # one panel is enough to check
    path = save_budget_picture(figures, "evaluations", tmp_path / "budget.png")
    assert path is not None and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("flags, message", [
    (["--methods", "backprop,genetic"], "compare-methods: --methods must name some of backprop"),
    (["--population", "7"], "compare-methods: --population must be even and at least 2"),
    (["--seconds", "0"], "compare-methods: --seconds must be a positive number; got 0.0"),
    (["--seed", "-1"], "compare-methods: --seed must be at least 0; got -1"),
])
def test_a_refusal_is_one_line_exit_2_and_writes_nothing(tmp_path: Path, flags: list[str],
                                                         message: str,
                                                         capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "run"
    assert main(["compare-methods", "--quick", *flags, "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1
    assert not out.exists()


def test_help_names_every_flag_with_its_default(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as done:
        main(["compare-methods", "--help"])
    shown = capsys.readouterr().out
    assert done.value.code == 0
    for flag in ("--quick", "--methods A,B", "--evaluations N", "--seconds S", "--seed N",
                 "--threads N"):
        assert flag in shown, flag
