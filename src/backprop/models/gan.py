"""A generator and a discriminator for small grey images (a fully connected GAN).

The generator maps a noise vector ``z`` (and, when conditional, a class label) to an image with
values in [-1, 1] (a ``tanh`` output); the discriminator maps an image (and the label) to one
logit, "real" being positive. Both are multi-layer perceptrons: on 8x8 digits a convolution has
little room to help, and an MLP trains several times faster per step with our NumPy backend.

Against mode collapse (a generator that draws a few digits only) the discriminator can see the
*minibatch standard deviation* (Karras et al., 2018, "Progressive Growing of GANs"): the spread of
its features across the batch, appended as one more feature, so a batch of near-identical fakes
is easy to tell from a varied batch of real digits.
"""

from __future__ import annotations

import math
from typing import Sequence

from .. import nn
from ..ops.join import cat
from ..ops.scatter import one_hot
from ..tensor import Tensor

__all__ = ["Discriminator", "Generator", "minibatch_stddev"]


def minibatch_stddev(features: Tensor, eps: float = 1e-8) -> Tensor:
    """``features`` (N, F) with one more column: the standard deviation of each feature across
    the batch, averaged over the features, the same value in every row.

    >>> import backprop as bp
    >>> out = minibatch_stddev(bp.tensor([[0.0, 1.0], [2.0, 3.0]]))
    >>> out.shape, round(out[0, 2].item(), 4)
    ((2, 3), 1.0)
    """
    if features.ndim != 2:
        raise ValueError(f"minibatch_stddev: expected features of shape (N, F); got "
                         f"{tuple(features.shape)}")
    # eps inside the square root: the gradient of sqrt at 0 (identical samples) is infinite.
    spread = (features.var(dim=0, unbiased=False) + eps).sqrt().mean()
    return cat([features, spread.expand(features.shape[0], 1)], dim=1)


def _check_sizes(name: str, image_shape: Sequence[int], hidden: Sequence[int],
                 num_classes: int) -> None:
    if len(image_shape) != 3 or any(int(s) < 1 for s in image_shape):
        raise ValueError(f"{name}: image_shape must be (channels, height, width) of positive "
                         f"sizes; got {tuple(image_shape)}")
    if not hidden or any(int(h) < 1 for h in hidden):
        raise ValueError(f"{name}: hidden must be one or more positive layer sizes; got "
                         f"{tuple(hidden)}")
    if num_classes < 0:
        raise ValueError(f"{name}: num_classes must be 0 (unconditional) or more; got "
                         f"{num_classes}")


class Generator(nn.Module):
    """Noise ``z`` of ``latent_dim`` values (plus a one-hot label when ``num_classes`` > 0) to an
    image of ``image_shape`` in [-1, 1]: Linear, BatchNorm, LeakyReLU(0.2) per hidden layer,
    then Linear and tanh.

    >>> import backprop as bp
    >>> g = Generator(latent_dim=16, hidden=(32,), image_shape=(1, 8, 8))
    >>> g(bp.randn(5, 16)).shape
    (5, 1, 8, 8)
    """

    def __init__(self, latent_dim: int = 32, hidden: Sequence[int] = (128, 256),
                 image_shape: Sequence[int] = (1, 8, 8), num_classes: int = 0) -> None:
        super().__init__()
        _check_sizes("Generator", image_shape, hidden, num_classes)
        if latent_dim < 1:
            raise ValueError(f"Generator: latent_dim must be positive; got {latent_dim}")
        self.latent_dim, self.num_classes = int(latent_dim), int(num_classes)
        self.image_shape = tuple(int(s) for s in image_shape)
        sizes = [self.latent_dim + self.num_classes, *map(int, hidden)]
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip(sizes, sizes[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.BatchNorm1d(fan_out), nn.LeakyReLU(0.2)]
        layers += [nn.Linear(sizes[-1], math.prod(self.image_shape)), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"Generator: expected noise of shape (N, {self.latent_dim}); got "
                             f"{tuple(z.shape)}")
        inputs = _with_labels("Generator", z, labels, self.num_classes)
        return self.net(inputs).reshape(z.shape[0], *self.image_shape)


class Discriminator(nn.Module):
    """An image (plus a one-hot label when ``num_classes`` > 0) to one logit per sample, positive
    for "real": Linear and LeakyReLU(0.2) per hidden layer, the minibatch standard deviation
    feature (``minibatch_std``), then Linear to one output. No batch norm: it would let the
    discriminator compare samples inside a batch in ways the loss does not ask for.

    >>> import backprop as bp
    >>> d = Discriminator(hidden=(32,), image_shape=(1, 8, 8))
    >>> d(bp.randn(5, 1, 8, 8)).shape
    (5, 1)
    """

    def __init__(self, hidden: Sequence[int] = (256, 128), image_shape: Sequence[int] = (1, 8, 8),
                 num_classes: int = 0, minibatch_std: bool = True) -> None:
        super().__init__()
        _check_sizes("Discriminator", image_shape, hidden, num_classes)
        self.num_classes, self.minibatch_std = int(num_classes), bool(minibatch_std)
        self.image_shape = tuple(int(s) for s in image_shape)
        sizes = [math.prod(self.image_shape) + self.num_classes, *map(int, hidden)]
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip(sizes, sizes[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.LeakyReLU(0.2)]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(sizes[-1] + int(self.minibatch_std), 1)

    def forward(self, images: Tensor, labels: Tensor | None = None) -> Tensor:
        if tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(f"Discriminator: expected images of shape (N, "
                             f"{', '.join(map(str, self.image_shape))}); got "
                             f"{tuple(images.shape)}")
        flat = images.reshape(images.shape[0], -1)
        features = self.body(_with_labels("Discriminator", flat, labels, self.num_classes))
        if self.minibatch_std:
            features = minibatch_stddev(features)
        return self.head(features)


def _with_labels(name: str, inputs: Tensor, labels: Tensor | None, num_classes: int) -> Tensor:
    """``inputs`` with the one-hot ``labels`` appended (conditional), or as they are."""
    if num_classes == 0:
        if labels is not None:
            raise ValueError(f"{name}: this model is unconditional (num_classes=0) but labels "
                             "were given")
        return inputs
    if labels is None or tuple(labels.shape) != (inputs.shape[0],):
        got = None if labels is None else tuple(labels.shape)
        raise ValueError(f"{name}: this model is conditional on {num_classes} classes: pass "
                         f"labels of shape ({inputs.shape[0]},); got {got}")
    return cat([inputs, one_hot(labels, num_classes).to(inputs.dtype)], dim=1)
