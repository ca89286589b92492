"""The `backprop` command: train, evaluate, predict, resume, and one-line errors with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop.cli import main
from backprop.train.config import TrainConfig
from backprop.train.loop import train

pytest.importorskip("safetensors", reason="checkpoints need the [checkpoint] extra")

QUICK = ["--epochs", "6", "--hidden", "64", "--no-progress"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    assert main(["train", *QUICK, "--out", str(out)]) == 0
    return out


def test_train_writes_checkpoint_history_and_curves(trained: Path) -> None:
    history = json.loads((trained / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2, 3, 4, 5, 6]
    assert history[-1]["test_accuracy"] > 0.9
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert (trained / "checkpoint.safetensors").stat().st_size > 10_000
    pytest.importorskip("matplotlib")
    assert (trained / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_prints_accuracy_and_confusion_matrix(trained: Path, capsys) -> None:
    assert main(["evaluate", str(trained / "checkpoint.safetensors")]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("test accuracy ")[1].split()[0])
    history = json.loads((trained / "history.json").read_text())
    assert accuracy == pytest.approx(history[-1]["test_accuracy"], abs=5e-5)  # printed to 4 places
    assert "<- predicted" in out and len(out.splitlines()) >= 12


def test_predict_classifies_test_images_from_npy(trained: Path, tmp_path: Path, capsys) -> None:
    test = bp.datasets.Digits(train=False)
    images = np.asarray(test.data)[:20]
    np.save(tmp_path / "digits.npy", images)
    assert main(["predict", str(trained / "checkpoint.safetensors"),
                 str(tmp_path / "digits.npy")]) == 0
    lines = capsys.readouterr().out.splitlines()
    predicted = [int(line.split(":")[1].split()[0]) for line in lines]
    assert len(predicted) == 20
    assert np.mean(np.array(predicted) == np.asarray(test.targets)[:20]) >= 0.8


@pytest.mark.parametrize("size, flags", [(8, []), (32, ["--resize"])])
def test_predict_reads_a_png(trained: Path, tmp_path: Path, capsys, size: int,
                             flags: list[str]) -> None:
    image_module = pytest.importorskip("PIL.Image")
    test = bp.datasets.Digits(train=False)
    pixels = (255 * (1 - np.asarray(test.data)[0, 0])).astype(np.uint8)  # dark ink on white
    image_module.fromarray(pixels).resize((size, size)).save(tmp_path / "digit.png")
    assert main(["predict", str(trained / "checkpoint.safetensors"),
                 str(tmp_path / "digit.png"), *flags]) == 0
    assert capsys.readouterr().out.startswith("0: ")


def test_resumed_run_continues_with_the_same_losses(tmp_path: Path) -> None:
    config = TrainConfig(epochs=4, hidden=(32,), progress=False, out=str(tmp_path / "full"))
    full = train(config, log=lambda line: None)

    class Stop(Exception):
        pass

    def stop_in_epoch_three(line: str) -> None:
        if line.startswith("epoch   3"):
            raise Stop  # the checkpoint of epoch 2 is on disk, epoch 3's is not
    interrupted = TrainConfig(**{**config.__dict__, "out": str(tmp_path / "cut")})
    with pytest.raises(Stop):
        train(interrupted, log=stop_in_epoch_three)
    resumed = train(interrupted, resume=tmp_path / "cut" / "checkpoint.safetensors",
                    log=lambda line: None)
    for a, b in zip(full.history, resumed.history):
        assert a["train_loss"] == b["train_loss"] and a["test_loss"] == b["test_loss"]
    assert len(resumed.history) == 4


@pytest.mark.parametrize("argv,message", [
    (["train", "--epochs", "zero"], "--epochs must be an int"),
    (["train", "--model", "rnn"], "argument --model: invalid choice: 'rnn'"),
    (["train", "--optimizer", "lbfgs"], "argument --optimizer: invalid choice"),
    (["train", "--config", "missing.toml"], "no such file: missing.toml"),
    (["train", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (["train", "--resume", "nowhere.safetensors"], "no such checkpoint"),
    (["evaluate", "nowhere.safetensors"], "no such file"),
    (["predict"], "the following arguments are required"),
    (["fly"], "invalid choice"),
])
def test_user_errors_are_one_line_and_exit_2(argv: list[str], message: str, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("backprop: error: ")
    assert message in err


def test_config_file_sets_the_same_settings(tmp_path: Path) -> None:
    (tmp_path / "run.toml").write_text('[train]\nepochs = 1\nhidden = [16]\nprogress = false\n'
                                       f'out = "{tmp_path / "out"}"\n')
    assert main(["train", "--config", str(tmp_path / "run.toml")]) == 0
    assert len(json.loads((tmp_path / "out" / "history.json").read_text())) == 1
    (tmp_path / "bad.toml").write_text("epochs = [")
    assert main(["train", "--config", str(tmp_path / "bad.toml")]) == 2


def test_a_corrupt_checkpoint_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "broken.safetensors").write_bytes(b"not a checkpoint at all")
    assert main(["evaluate", str(tmp_path / "broken.safetensors")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_python_dash_m_runs_the_command() -> None:
    done = subprocess.run([sys.executable, "-m", "backprop", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "train" in done.stdout


def test_predict_with_a_wrong_shape_is_a_one_line_error(trained: Path, tmp_path: Path,
                                                        capsys) -> None:
    np.save(tmp_path / "odd.npy", np.zeros((3, 7), dtype=np.float32))
    assert main(["predict", str(trained / "checkpoint.safetensors"),
                 str(tmp_path / "odd.npy")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a whole number of 1x8x8 images" in err


def test_landscape_writes_the_picture_and_grid(trained: Path, tmp_path: Path, capsys) -> None:
    code = main(["landscape", str(trained / "checkpoint.safetensors"), "--out", str(tmp_path),
                 "--steps", "3", "--batches", "1", "--hessian-iters", "2"])
    assert code == 0
    assert (tmp_path / "landscape.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with np.load(tmp_path / "landscape.npz", allow_pickle=False) as grid:
        assert grid["loss"].shape == (3, 3)
    assert "sharpness" in capsys.readouterr().out.lower()


def test_diagnose_writes_the_report_and_heat_map(tmp_path: Path, capsys) -> None:
    code = main(["train", "--epochs", "1", "--hidden", "16", "--no-progress", "--diagnose",
                 "--diagnose-every", "2", "--out", str(tmp_path)])
    assert code == 0
    assert "Gradient health" in (tmp_path / "diagnosis.txt").read_text()
    assert (tmp_path / "gradients.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the run overflows on purpose
def test_detect_anomaly_names_the_op_of_a_diverging_run(tmp_path: Path, capsys) -> None:
    code = main(["train", "--epochs", "1", "--hidden", "16", "--no-progress", "--optimizer",
                 "sgd", "--lr", "1e30", "--detect-anomaly", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "Backward" in err or "linear" in err  # the op where the first inf/NaN appeared
