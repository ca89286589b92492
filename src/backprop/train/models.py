"""The models ``backprop train`` builds: an MLP, a small CNN and a small residual network, for any
image size."""

from __future__ import annotations

import math

from .. import nn
from ..tensor import Tensor
from .config import TrainConfig

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
                "silu": nn.SiLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU}


class ResidualBlock(nn.Module):
    """He et al.'s basic block: conv3x3-BN-activation-conv3x3-BN, plus a shortcut, then the
    activation. The shortcut is the input itself when shapes match, else a 1x1 convolution with
    batch norm (the "projection" shortcut) that changes the channels and the stride.

    >>> import backprop as bp
    >>> block = ResidualBlock(8, 16, stride=2)
    >>> block(bp.zeros(2, 8, 8, 8)).shape
    (2, 16, 4, 4)
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 activation: type[nn.Module] = nn.ReLU) -> None:
        super().__init__()
        # Convolutions followed by batch norm need no bias: BN's shift replaces it.
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.act1 = activation()
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut: nn.Module = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))
        else:
            self.shortcut = nn.Identity()
        self.act2 = activation()

    def forward(self, input: Tensor) -> Tensor:
        residual = self.bn2(self.conv2(self.act1(self.bn1(self.conv1(input)))))
        return self.act2(residual + self.shortcut(input))


def build_model(config: TrainConfig, image_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """An MLP (``config.hidden``), CNN (``config.channels``) or residual network (one stage of
    ``config.blocks`` residual blocks per entry of ``config.channels``) for images of
    ``image_shape`` (C, H, W), initialised as ``config.init`` says.

    >>> import backprop as bp
    >>> from backprop.train.config import TrainConfig
    >>> model = build_model(TrainConfig(hidden=(16,)), (1, 8, 8), 10)
    >>> model(bp.zeros(2, 1, 8, 8)).shape
    (2, 10)
    >>> resnet = build_model(TrainConfig(model="resnet", channels=(8, 16), blocks=1), (1, 8, 8), 10)
    >>> resnet(bp.zeros(2, 1, 8, 8)).shape
    (2, 10)
    """
    activation = _ACTIVATIONS[config.activation]
    if config.model == "resnet":
        return _resnet(config, image_shape, num_classes, activation)
    if config.model == "mlp":
        sizes = [math.prod(image_shape), *config.hidden]
        layers: list[nn.Module] = [nn.Flatten()]
        for fan_in, fan_out in zip(sizes, sizes[1:]):
            layers += [nn.Linear(fan_in, fan_out), activation()]
        layers.append(nn.Linear(sizes[-1], num_classes))
    else:
        # Two conv blocks (3x3 conv, batch norm, activation, 2x2 max-pool), then an MLP head.
        channels, height, width = image_shape
        c1, c2 = config.channels
        layers = [nn.Conv2d(channels, c1, 3, padding=1), nn.BatchNorm2d(c1), activation(),
                  nn.MaxPool2d(2),
                  nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), activation(),
                  nn.MaxPool2d(2), nn.Flatten(),
                  nn.Linear(c2 * (height // 4) * (width // 4), 128), activation(),
                  nn.Linear(128, num_classes)]
    model = nn.Sequential(*layers)
    if config.init != "default":
        model.apply(lambda m: _initialise(m, config.init, config.activation))
    return model


def _resnet(config: TrainConfig, image_shape: tuple[int, ...], num_classes: int,
            activation: type[nn.Module]) -> nn.Module:
    """Stem (conv3x3-BN-activation), the stages, global average pooling and a linear head.

    Each stage after the first halves the height and width in its first block (stride 2, with a
    projection shortcut), as in He et al.'s CIFAR networks; the pooling makes the head
    independent of the image size."""
    first = config.channels[0]
    layers: list[nn.Module] = [nn.Conv2d(image_shape[0], first, 3, padding=1, bias=False),
                               nn.BatchNorm2d(first), activation()]
    in_channels = first
    for stage, out_channels in enumerate(config.channels):
        for index in range(config.blocks):
            stride = 2 if stage > 0 and index == 0 else 1
            layers.append(ResidualBlock(in_channels, out_channels, stride, activation))
            in_channels = out_channels
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(in_channels, num_classes)]
    model = nn.Sequential(*layers)
    # "default" for a residual network means He initialisation of the convolutions (fan-out,
    # as He et al. and torchvision do), which keeps the activations' scale through the blocks;
    # batch norm starts at weight 1, bias 0; the head keeps PyTorch's default.
    scheme = "he-conv" if config.init == "default" else config.init
    model.apply(lambda m: _initialise(m, scheme, config.activation))
    return model


def _initialise(module: nn.Module, scheme: str, activation: str) -> None:
    """He (Kaiming) or Xavier (Glorot) weights and zero biases for linear and conv layers;
    ``he-conv``: He fan-out for convolutions only."""
    if not isinstance(module, (nn.Linear, nn.Conv2d)):
        return
    nonlinearity = "relu" if activation in ("relu", "gelu", "silu", "elu") else "leaky_relu"
    if scheme == "he-conv":
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity=nonlinearity)
        return
    if scheme == "kaiming":
        nn.init.kaiming_normal_(module.weight, nonlinearity=nonlinearity)
    else:
        gain = nn.init.calculate_gain(activation if activation in ("tanh", "sigmoid") else "relu")
        nn.init.xavier_uniform_(module.weight, gain=gain)
    if module.bias is not None:
        nn.init.zeros_(module.bias)
