"""The models ``backprop train`` builds: an MLP and a small CNN, for any image size."""

from __future__ import annotations

import math

from .. import nn
from .config import TrainConfig

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
                "silu": nn.SiLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU}


def build_model(config: TrainConfig, image_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """An MLP (``config.hidden``) or CNN (``config.channels``) for images of ``image_shape``
    (C, H, W), initialised as ``config.init`` says.

    >>> import backprop as bp
    >>> from backprop.train.config import TrainConfig
    >>> model = build_model(TrainConfig(hidden=(16,)), (1, 8, 8), 10)
    >>> model(bp.zeros(2, 1, 8, 8)).shape
    (2, 10)
    """
    activation = _ACTIVATIONS[config.activation]
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


def _initialise(module: nn.Module, scheme: str, activation: str) -> None:
    """He (Kaiming) or Xavier (Glorot) weights and zero biases for linear and conv layers."""
    if not isinstance(module, (nn.Linear, nn.Conv2d)):
        return
    if scheme == "kaiming":
        nonlinearity = "relu" if activation in ("relu", "gelu", "silu", "elu") else "leaky_relu"
        nn.init.kaiming_normal_(module.weight, nonlinearity=nonlinearity)
    else:
        gain = nn.init.calculate_gain(activation if activation in ("tanh", "sigmoid") else "relu")
        nn.init.xavier_uniform_(module.weight, gain=gain)
    if module.bias is not None:
        nn.init.zeros_(module.bias)
