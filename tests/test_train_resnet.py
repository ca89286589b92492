"""``backprop train --model resnet``: residual blocks, He initialisation, a short run that learns,
and the confusion-matrix picture ``backprop evaluate`` writes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop import nn
from backprop.cli import main
from backprop.train.config import ConfigError, TrainConfig, merged
from backprop.train.data import load_data
from backprop.train.loop import evaluate, load_trained, make_loaders, make_optimizer, train_step
from backprop.train.models import ResidualBlock, build_model

SMALL = TrainConfig(model="resnet", channels=(8, 16), blocks=1, progress=False)


@pytest.mark.parametrize("in_channels, out_channels, stride, projected, out_shape", [
    (8, 8, 1, False, (2, 8, 8, 8)),     # same shape: the identity shortcut
    (8, 16, 1, True, (2, 16, 8, 8)),    # more channels: a 1x1 projection
    (8, 16, 2, True, (2, 16, 4, 4)),    # more channels and half the size
    (8, 8, 2, True, (2, 8, 4, 4)),      # half the size alone also needs the projection
])
def test_residual_block_shapes_and_shortcut(in_channels, out_channels, stride, projected,
                                            out_shape) -> None:
    block = ResidualBlock(in_channels, out_channels, stride)
    x = bp.randn(2, in_channels, 8, 8, requires_grad=True)
    out = block(x)
    assert out.shape == out_shape
    assert isinstance(block.shortcut, nn.Identity) is not projected
    if projected:
        conv = block.shortcut[0]
        assert conv.weight.shape == (out_channels, in_channels, 1, 1)
        assert conv.stride == (stride, stride)
    assert float(out.min().item()) >= 0  # ReLU after the addition
    out.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    assert all(p.grad is not None for p in block.parameters())


def test_the_shortcut_carries_the_input_through() -> None:
    """With the residual branch silenced (last BN's scale 0, shift 0) an identity block is ReLU."""
    block = ResidualBlock(4, 4)
    nn.init.zeros_(block.bn2.weight)
    x = bp.randn(3, 4, 5, 5)
    np.testing.assert_allclose(block(x).detach().numpy(), np.maximum(x.numpy(), 0), atol=1e-6)


def test_resnet_layout_and_he_initialisation() -> None:
    bp.manual_seed(0)
    model = build_model(TrainConfig(model="resnet", channels=(16, 32, 64), blocks=2), (1, 8, 8), 10)
    blocks = [m for m in model.modules() if isinstance(m, ResidualBlock)]
    assert len(blocks) == 6  # blocks per stage x stages
    # only the first block of the second and third stages changes shape
    assert [isinstance(b.shortcut, nn.Identity) for b in blocks] == [True, True, False, True,
                                                                      False, True]
    assert model(bp.zeros(5, 1, 8, 8)).shape == (5, 10)
    assert isinstance(model[-1], nn.Linear) and model[-1].in_features == 64
    conv = blocks[4].conv2  # 64 -> 64, 3x3: He fan-out std sqrt(2 / (64 * 9))
    assert float(conv.weight.detach().numpy().std()) == pytest.approx(math.sqrt(2 / (64 * 9)), rel=0.05)
    assert conv.bias is None  # batch norm's shift makes a bias redundant


@pytest.mark.parametrize("values, message", [
    ({"model": "resnet", "blocks": 0}, "blocks must be at least 1"),
    ({"model": "cnn", "channels": (8, 16, 32)}, "two channel counts"),
])
def test_bad_settings_are_named(values, message) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict(values)


def test_the_resnet_learning_rate_default_gives_way_to_the_file_and_the_flags(tmp_path) -> None:
    assert merged(None, {"model": "resnet"}).lr == 3e-3
    assert merged(None, {"model": "resnet", "lr": "0.01"}).lr == 0.01
    assert merged(None, {"model": "cnn"}).lr == TrainConfig.lr  # other models: the common one
    settings = tmp_path / "run.toml"
    settings.write_text('model = "resnet"\nlr = 0.02\n')
    assert merged(str(settings), {}).lr == 0.02


def test_a_short_run_learns() -> None:
    """Two epochs on 480 training images: 40 points above the 10% of chance on the test split
    (it reaches about 67%), and the test loss down by a third."""
    bp.manual_seed(0)
    config = TrainConfig(model="resnet", channels=(8, 16), blocks=1, lr=1e-2, batch_size=32)
    data = load_data(config)
    data.train_x, data.train_y = data.train_x[:480], data.train_y[:480]
    model = build_model(config, data.image_shape, data.num_classes)
    optimizer = make_optimizer(config, model.parameters())
    train_loader, test_loader = make_loaders(data, config, bp.Generator(0))
    loss_fn = nn.CrossEntropyLoss()
    initial, _, _ = evaluate(model, test_loader)
    model.train()
    for _ in range(2):
        for images, labels in train_loader:
            train_step(model, loss_fn, optimizer, images, labels)
    loss, accuracy, _ = evaluate(model, test_loader)
    assert accuracy > 0.10 + 0.40
    assert loss < initial * 2 / 3


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("safetensors", reason="checkpoints need the [checkpoint] extra")
    out = tmp_path_factory.mktemp("resnet")
    assert main(["train", "--model", "resnet", "--channels", "8,16", "--blocks", "1",
                 "--epochs", "1", "--no-progress", "--out", str(out)]) == 0
    return out


def test_the_checkpoint_reloads_with_batch_norm_statistics(trained: Path) -> None:
    model, state = load_trained(trained / "checkpoint.safetensors")
    assert state["config"]["model"] == "resnet" and state["config"]["blocks"] == 1
    running = [m.running_mean.numpy() for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert running and any(np.abs(r).sum() > 0 for r in running)  # trained, not fresh, stats
    data = load_data(SMALL)
    _, test_loader = make_loaders(data, SMALL, bp.Generator(0))
    _, accuracy, _ = evaluate(model, test_loader)
    assert accuracy == pytest.approx(state["history"][-1]["test_accuracy"])


def test_evaluate_writes_a_valid_confusion_matrix_png(trained: Path, tmp_path: Path,
                                                      capsys) -> None:
    image = pytest.importorskip("matplotlib.image")
    assert main(["evaluate", str(trained / "checkpoint.safetensors"), "--out",
                 str(tmp_path)]) == 0
    assert f"confusion matrix {tmp_path / 'confusion.png'}" in capsys.readouterr().out
    picture = tmp_path / "confusion.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = image.imread(picture)
    assert pixels.ndim == 3 and min(pixels.shape[:2]) >= 300
    assert pixels[..., :3].std() > 0.05  # a picture, not a blank page


def test_the_example_draws_the_confusion_matrix(trained: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from examples import digits_resnet

    _, state = load_trained(trained / "checkpoint.safetensors")
    accuracy, picture = digits_resnet.draw_confusion(trained / "checkpoint.safetensors",
                                                     tmp_path / "confusion.png")
    assert accuracy == pytest.approx(state["history"][-1]["test_accuracy"])
    assert picture == tmp_path / "confusion.png" and picture.stat().st_size > 1000
