"""``benchmarks/threads.py`` reads its figures from what the command prints and writes today, and
reports them; the timing itself is ``make threads``'s (no timing is asserted here)."""

from __future__ import annotations

from benchmarks import threads as bench
from backprop.cli import main


def test_figures_are_read_from_the_commands_output(tmp_path, capsys) -> None:
    assert main(["profile", "--hidden", "8", "--steps", "1", "--rows", "1"]) == 0
    assert bench.profile_ms(capsys.readouterr().out) > 0
    run = tmp_path / "run"
    assert main(["train", "--hidden", "8", "--epochs", "1", "--no-progress", "--out",
                 str(run)]) == 0
    assert bench.epoch_s(run) > 0
    assert bench.profile_ms("cnn on digits, ..., 2 BLAS threads: 1.5s per step (5 ...") == 1500


def test_report_gives_medians_ratios_and_the_worst_ratio() -> None:
    row = {"workload": "generate", "unit": "s", "medians": {"1 thread": 2.0, "2 threads": 6.0,
                                                           "policy": 2.2},
           "picked": 1, "rounds": 5, "dropped": 2, "other_load": 1.02}
    rows = [{**row, "load": "one core busy",
             "ratios": {"1 thread": 1.0, "2 threads": 3.0, "policy": 1.1}}]
    text = bench.report(rows, rounds=5)
    assert "| generate (s) | one core busy | 2 (1.00x) | 6 (3.00x) | 2.2 (1) | 1.10x | 1.02 | " \
           "5 (2) |" in text
    assert "Worst policy / best: 1.10x" in text
