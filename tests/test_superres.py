"""The super-resolution program (issue 6, part 4): PSNR, the interpolation baselines, the
ESPCN network, a short run that learns, the before/after picture, the checkpoint, the command and
its errors. The headline figure (>= 2 dB over the better interpolation on the test split) is
measured by benchmarks/applications.py, not here."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop.apps import superres
from backprop.models.superres import ESPCN, downsample, interpolation_matrix, psnr, upsample
from backprop.train.config import ConfigError

pytest.importorskip("safetensors", reason="checkpoints need the [checkpoint] extra")


def test_psnr_matches_a_hand_computation() -> None:
    # errors 0.1, 0.1, 0.2, 0: MSE = (0.01 + 0.01 + 0.04 + 0) / 4 = 0.015
    prediction = np.array([[0.1, 0.9], [0.2, 0.5]])
    target = np.array([[0.0, 1.0], [0.0, 0.5]])
    assert psnr(prediction, target) == pytest.approx(10 * math.log10(1 / 0.015), rel=1e-12)
    assert psnr(prediction, target) == pytest.approx(18.2390874, abs=1e-6)
    # the same errors on a 0..255 scale give the same PSNR
    assert psnr(prediction * 255, target * 255, data_range=255) == pytest.approx(18.2390874)
    assert psnr(target, target) == math.inf
    with pytest.raises(ValueError, match=r"psnr: prediction \(2, 2\) and target \(4,\) differ"):
        psnr(prediction, target.ravel())
    with pytest.raises(ValueError, match="psnr: data_range must be positive; got 0"):
        psnr(prediction, target, data_range=0)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_interpolation_keeps_a_constant_image_constant(mode: str) -> None:
    image = np.full((2, 1, 4, 5), 0.3)
    out = upsample(image, 2, mode)
    assert out.shape == (2, 1, 8, 10)
    np.testing.assert_allclose(out, 0.3, rtol=1e-12)
    np.testing.assert_allclose(interpolation_matrix(4, 12, mode).sum(axis=1), 1.0, rtol=1e-12)


def test_bilinear_reproduces_a_linear_ramp_away_from_the_borders() -> None:
    # The input pixel j holds 2j + 1. Output pixel o of a 2x upsampling samples the input at
    # x = (o + 0.5) / 2 - 0.5; inside [0, 3] (o = 1..6) linear interpolation gives 2x + 1
    # exactly. The outermost pixels (o = 0, 7) repeat the edge value instead.
    ramp = np.tile(2.0 * np.arange(4) + 1, (4, 1))
    out = upsample(ramp, 2, "bilinear")
    positions = (np.arange(8) + 0.5) / 2 - 0.5
    np.testing.assert_allclose(out[:, 1:7], np.tile(2 * positions[1:7] + 1, (8, 1)), rtol=1e-12)
    np.testing.assert_allclose(out[:, 0], 1.0)  # clamped at the first pixel, not extrapolated
    np.testing.assert_allclose(out[:, 7], 7.0)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("scale", [2, 3])
def test_interpolation_matches_pytorch(torch, mode: str, scale: int) -> None:
    image = np.random.default_rng(0).random((2, 1, 4, 5))
    expected = torch.nn.functional.interpolate(torch.tensor(image), scale_factor=scale,
                                               mode=mode, align_corners=False).numpy()
    np.testing.assert_allclose(upsample(image, scale, mode), expected, atol=1e-12)


def test_downsample_averages_blocks_and_checks_sizes() -> None:
    image = np.arange(16.0).reshape(1, 1, 4, 4)
    assert downsample(image).tolist() == [[[[2.5, 4.5], [10.5, 12.5]]]]
    with pytest.raises(ValueError, match=r"downsample: the last two sizes of \(3, 4\) must be "
                       "divisible by factor 2"):
        downsample(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="upsample: scale_factor must be a positive integer"):
        upsample(np.zeros((2, 2)), 0)
    with pytest.raises(ValueError, match="interpolation_matrix: mode must be 'bilinear' or "
                       "'bicubic'; got 'nearest'"):
        upsample(np.zeros((2, 2)), 2, "nearest")


def test_pixel_shuffle_layer_and_espcn_shapes() -> None:
    # r * r = 4 channels of a 4x4 image become one channel of 8x8; channel k fills the
    # sub-pixel (k // 2, k % 2) of every 2x2 block
    planes = bp.tensor(np.arange(4.0).reshape(1, 4, 1, 1) * np.ones((1, 4, 4, 4)))
    shuffled = bp.nn.PixelShuffle(2)(planes)
    assert shuffled.shape == (1, 1, 8, 8)
    assert shuffled.numpy()[0, 0, :2, :2].tolist() == [[0.0, 1.0], [2.0, 3.0]]
    model = ESPCN(upscale_factor=2)
    assert isinstance(list(model.net)[-1], bp.nn.PixelShuffle)
    assert model(bp.zeros(5, 1, 4, 4)).shape == (5, 1, 8, 8)
    with pytest.raises(ValueError, match=r"ESPCN: expected images of shape \(N, 1, H, W\); got "
                       r"\(5, 4, 4\)"):
        model(bp.zeros(5, 4, 4))
    with pytest.raises(ValueError, match="ESPCN: need one odd kernel size per layer"):
        ESPCN(kernel_sizes=(5, 4, 3))


@pytest.fixture(scope="module")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, superres.SRResult]:
    """15 epochs on the first 256 training digits (120 steps)."""
    out = tmp_path_factory.mktemp("superres")
    config = superres.SRConfig(epochs=15, out=str(out), progress=False)
    return out, superres.train_superres(config, log=lambda line: None, train_limit=256)


def test_short_run_learns_and_beats_bilinear(short_run) -> None:
    _, result = short_run
    history = result.history
    # seeds 0-2 measured: the loss falls ~4x (0.14 -> 0.035) and the test PSNR beats bilinear
    # by ~1.3 dB (bicubic by ~0.7 dB)
    assert history[-1]["train_loss"] < history[0]["train_loss"] / 3
    scores = result.scores
    assert scores["model"] > scores["bilinear"] + 0.5
    assert scores["gain"] == pytest.approx(scores["model"] - max(scores["bilinear"],
                                                                 scores["bicubic"]))
    # bicubic is the sharper interpolation and beats bilinear on these digits
    assert scores["bicubic"] > scores["bilinear"]


def test_short_run_writes_picture_and_checkpoint_that_reloads(short_run) -> None:
    out, result = short_run
    assert result.comparison == out / "comparison.png"
    assert result.comparison.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    state = bp.load(result.checkpoint)
    assert state["format"] == "backprop-superres-1" and state["epoch"] == 15
    scores = superres.evaluate_superres(result.checkpoint)
    assert scores == pytest.approx(result.scores)
    assert not list(out.glob(".*.tmp"))


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="backprop")
    superres.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["superres", *argv])


def test_command_trains_and_evaluates(tmp_path: Path, capsys) -> None:
    superres.run(_parse("--epochs", "1", "--no-progress", "--out", str(tmp_path)))
    out = capsys.readouterr().out
    assert "test PSNR: bilinear" in out and f"checkpoint {tmp_path}" in out
    assert (tmp_path / "comparison.png").is_file()
    superres.run(_parse("--evaluate", str(tmp_path / "checkpoint.safetensors")))
    assert "test PSNR (dB): bilinear" in capsys.readouterr().out


@pytest.mark.parametrize("argv, error, message", [
    (["--epochs", "0"], ConfigError, "--epochs must be at least 1; got 0"),
    (["--lr", "0"], ConfigError, "--lr must be a positive finite number; got 0.0"),
    (["--batch-size", "-3"], ConfigError, "--batch-size must be at least 1; got -3"),
    (["--evaluate", "nowhere.safetensors"], FileNotFoundError,
     "load_superres: no such checkpoint: nowhere.safetensors"),
])
def test_command_errors_name_the_setting(argv, error, message, tmp_path: Path) -> None:
    with pytest.raises(error, match=message):
        superres.run(_parse(*argv, "--no-progress", "--out", str(tmp_path)))


def test_evaluate_refuses_another_programs_checkpoint(tmp_path: Path) -> None:
    bp.save({"format": "backprop-gan-1"}, tmp_path / "other.safetensors")
    with pytest.raises(ValueError, match="is not a checkpoint written by `backprop superres`"):
        superres.evaluate_superres(tmp_path / "other.safetensors")


def test_backprop_command_reports_bad_arguments_in_one_line(capsys) -> None:
    from backprop import cli

    if ".apps.superres" not in cli._COMMAND_MODULES:
        pytest.skip("`backprop superres` is not registered in cli._COMMAND_MODULES yet")
    assert cli.main(["superres", "--lr", "0", "--no-progress"]) == 2
    assert capsys.readouterr().err == ("backprop: error: --lr must be a positive finite "
                                       "number; got 0.0\n")
    assert cli.main(["superres", "--evaluate", "nowhere.safetensors"]) == 2
    assert "no such checkpoint: nowhere.safetensors" in capsys.readouterr().err
