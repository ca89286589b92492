"""``backprop.vision.models``: the ResNets, checked against torchvision's published sizes and
layer names, and against a ResNet forward written here with PyTorch's functional ops."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.vision import models


@pytest.mark.parametrize(("build", "parameters"), [
    # torchvision's documented parameter counts (its model cards).
    (models.resnet18, 11_689_512), (models.resnet34, 21_797_672), (models.resnet50, 25_557_032)])
def test_parameter_counts_are_torchvisions(build, parameters: int) -> None:
    assert sum(p.numel() for p in build().parameters()) == parameters


def test_state_dict_names_are_torchvisions() -> None:
    names = list(models.resnet18().state_dict())
    assert len(names) == 122
    assert names[:3] == ["conv1.weight", "bn1.weight", "bn1.bias"]
    assert "layer2.0.downsample.0.weight" in names and "layer2.0.downsample.1.running_var" in names
    assert "layer1.0.downsample.0.weight" not in names  # the first stage keeps its width
    assert names[-2:] == ["fc.weight", "fc.bias"]
    assert "layer3.5.bn3.num_batches_tracked" in models.resnet50().state_dict()


def _torch_forward(torch, state: dict, x, blocks: list[int]):
    """ResNet-18/34 inference from a state dict, with PyTorch's functional ops."""
    F = torch.nn.functional

    def norm(name, h):
        return F.batch_norm(h, state[f"{name}.running_mean"], state[f"{name}.running_var"],
                            state[f"{name}.weight"], state[f"{name}.bias"], False)

    h = F.relu(norm("bn1", F.conv2d(x, state["conv1.weight"], stride=2, padding=3)))
    h = F.max_pool2d(h, 3, 2, 1)
    for stage, count in enumerate(blocks, start=1):
        for index in range(count):
            name = f"layer{stage}.{index}"
            stride = 2 if stage > 1 and index == 0 else 1
            out = F.relu(norm(f"{name}.bn1", F.conv2d(h, state[f"{name}.conv1.weight"],
                                                      stride=stride, padding=1)))
            out = norm(f"{name}.bn2", F.conv2d(out, state[f"{name}.conv2.weight"], padding=1))
            if f"{name}.downsample.0.weight" in state:
                h = norm(f"{name}.downsample.1",
                         F.conv2d(h, state[f"{name}.downsample.0.weight"], stride=stride))
            h = F.relu(out + h)
    return F.linear(h.mean((2, 3)), state["fc.weight"], state["fc.bias"])


def test_forward_matches_a_resnet_written_with_torch_ops() -> None:
    torch = pytest.importorskip("torch")
    bp.manual_seed(0)
    model = models.resnet18(num_classes=7)
    for module in model.modules():  # non-trivial statistics, so the norms are checked too
        if isinstance(module, bp.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 1.5)
    model.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 40, 40)).astype(np.float32)
    with bp.no_grad():
        ours = model(bp.from_numpy(x)).numpy()
    state = {k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()}
    theirs = _torch_forward(torch, state, torch.from_numpy(x), [2, 2, 2, 2]).numpy()
    # float32 through 18 layers: both sum in different orders (BLAS, convolution blocking).
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


def test_a_program_can_swap_the_stem_and_train_a_step() -> None:
    model = models.resnet18(weights=None)
    model.conv1 = bp.nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    features = bp.nn.Sequential(*list(model.children())[:-1])
    out = features(bp.randn(2, 1, 28, 28))
    assert tuple(out.shape) == (2, 512, 1, 1) and model.fc.in_features == 512
    out.sum().backward()
    assert model.conv1.weight.grad is not None


def test_zero_init_residual_zeroes_each_blocks_last_norm() -> None:
    model = models.resnet50(zero_init_residual=True)
    assert float(model.layer1[0].bn3.weight.abs().sum()) == 0.0
    assert float(model.layer1[0].bn1.weight.sum()) > 0


def test_pretrained_weights_and_unserved_models_are_refused() -> None:
    with pytest.raises(ValueError, match="resnet18: weights='IMAGENET1K_V1': backprop downloads "
                                         "no pretrained weights"):
        models.resnet18(weights="IMAGENET1K_V1")
    with pytest.raises(AttributeError, match="torchvision.models.vgg16 is not part of backprop"):
        models.vgg16  # noqa: B018
