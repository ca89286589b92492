"""``backprop tune``: an Optuna search over the digits MLP, pruned, stored in SQLite, resumable."""

from __future__ import annotations

import argparse
import importlib.util
import sys

import pytest

from backprop.train.config import TrainConfig
from backprop.train.data import load_data
from backprop.train.loop import load_trained
from backprop.train.tune import register, split_validation, tune

needs_optuna = pytest.mark.skipif(importlib.util.find_spec("optuna") is None,
                                  reason="optuna is not installed (pip install 'backprop[tune]')")

# A small budget: 300 training images (240 to train, 60 to validate), 2 epochs a trial, pruning
# from the first epoch once one trial finished.
QUICK = {"epochs": 2, "subset": 300, "startup_trials": 1, "warmup_epochs": 0, "progress": False,
         "log": lambda line: None}


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    pytest.importorskip("optuna")
    """Three trials, then the same study resumed for one more: the folder, the first run's trials
    (the study object reads the storage live, so they are copied before resuming) and the
    second run's result."""
    out = tmp_path_factory.mktemp("tune")
    first = tune(trials=3, out=out, **QUICK)
    first_trials = first.study.trials
    second = tune(trials=1, out=out, **QUICK)
    return out, first_trials, second


@needs_optuna
def test_the_study_holds_the_trials_completed_or_pruned(searched) -> None:
    import optuna

    _, first_trials, second = searched
    states = [t.state for t in first_trials]
    assert len(states) == 3
    assert set(states) <= {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}
    assert optuna.trial.TrialState.COMPLETE in states
    assert sorted(second.best_params) == ["depth", "lr", "optimizer", "weight_decay", "width"]


@needs_optuna
def test_every_completed_trial_reported_each_epoch(searched) -> None:
    import optuna

    _, _, second = searched
    for trial in second.study.trials:
        if trial.state == optuna.trial.TrialState.COMPLETE:
            assert sorted(trial.intermediate_values) == [1, 2]
            assert trial.value == trial.intermediate_values[2]


@needs_optuna
def test_resuming_adds_trials_to_the_same_study_in_the_same_file(searched) -> None:
    import optuna

    out, _, _ = searched
    assert (out / "tune.db").is_file()
    stored = optuna.load_study(study_name="mlp-digits", storage=f"sqlite:///{out / 'tune.db'}")
    assert [t.number for t in stored.trials] == [0, 1, 2, 3]
    # the resumed run's sampler is reseeded, so it does not replay the first trial
    assert stored.trials[3].params != stored.trials[0].params
    assert len(optuna.get_all_study_names(f"sqlite:///{out / 'tune.db'}")) == 1


@needs_optuna
def test_the_best_settings_are_trained_again_on_all_training_images(searched) -> None:
    out, _, second = searched
    # each run of the study trains its best settings into a new folder of its own
    assert second.checkpoint == second.folder / "best" / "checkpoint.safetensors"
    assert second.folder.parent == out / "mlp-digits"
    assert (out / "mlp-digits" / "latest").resolve() == second.folder.resolve()
    assert len([p for p in second.folder.parent.iterdir() if p.name != "latest"]) == 2
    model, state = load_trained(second.checkpoint)
    assert state["config"]["model"] == "mlp" and state["config"]["epochs"] == 2
    assert state["config"]["hidden"] == [second.best_params["width"]] * second.best_params["depth"]
    assert state["config"]["optimizer"] == second.best_params["optimizer"]
    assert state["config"]["lr"] == pytest.approx(second.best_params["lr"])
    assert second.test_accuracy == state["history"][-1]["test_accuracy"]
    # ten classes: chance is 0.10; the best of four short trials, trained on all 1,442 training
    # images for 2 epochs, beats it by 30 points
    assert second.best_val_accuracy > 0.4
    assert second.test_accuracy > 0.4
    assert model(load_data(TrainConfig()).test_x[:3]).shape == (3, 10)


def test_the_validation_split_is_carved_from_the_training_images() -> None:
    data = load_data(TrainConfig())
    split = split_validation(data, 0.2, seed=0)
    assert len(split.train_x) + len(split.test_x) == len(data.train_x)
    assert len(split.test_x) == round(0.2 * len(data.train_x))
    # the held-out images are training images, not test images
    rows = {bytes(x) for x in data.train_x.numpy()}
    assert all(bytes(x) in rows for x in split.test_x.numpy())
    with pytest.raises(ValueError, match="validation fraction"):
        split_validation(data, 1.5, seed=0)


def test_missing_optuna_names_the_extra(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)  # `import optuna` raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'backprop\[tune\]'"):
        tune(trials=1, out=tmp_path, **QUICK)


def _command(argv: list[str]) -> None:
    """Parse ``backprop tune ARGV`` with the parser `register` builds and run it."""
    parser = argparse.ArgumentParser(prog="backprop")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["tune", *argv])
    args.run(args)


@needs_optuna
def test_the_command_prints_the_best_trial_and_saves_its_checkpoint(tmp_path, capsys) -> None:
    _command(["--trials", "1", "--epochs", "1", "--subset", "200", "--no-progress",
              "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "1 trials (1 complete)" in out
    assert "best trial 0: validation accuracy" in out and "test accuracy" in out
    run = tmp_path / "mlp-digits" / "latest"
    assert (run / "best" / "checkpoint.safetensors").is_file()
    if importlib.util.find_spec("matplotlib") is not None:
        picture = run.resolve() / "search.png"
        assert f"search {picture}" in out
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv, message", [(["--trials", "0"], "--trials must be at least 1"),
                                           (["--epochs", "0"], "--epochs must be at least 1")])
def test_the_command_rejects_bad_budgets(argv, message, tmp_path) -> None:
    with pytest.raises(ValueError, match=message):
        _command([*argv, "--out", str(tmp_path)])
