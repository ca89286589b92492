"""The data sets ``backprop train`` knows, as normalised image tensors."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .. import datasets
from ..tensor import Tensor
from .config import TrainConfig

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")


@dataclass
class LoadedData:
    """Train and test images (N, C, H, W) float32, standardised with the train set's mean and
    std, and int64 labels; ``root`` is the absolute folder they were read from (None for the
    embedded digits), which a checkpoint records so that its data is found again from
    anywhere."""

    train_x: Tensor
    train_y: Tensor
    test_x: Tensor
    test_y: Tensor
    classes: tuple[str, ...]
    mean: float
    std: float
    root: str | None = None

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(self.train_x.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def _images(dataset: object) -> tuple[np.ndarray, np.ndarray]:
    data = np.asarray(dataset.data)
    images = data.astype(np.float32) / (255.0 if data.dtype == np.uint8 else 1.0)
    if images.ndim == 3:  # (N, H, W): one channel
        images = images[:, None]
    return images, np.asarray(dataset.targets).astype(np.int64)


def standardize(images: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Images in [0, 1] shifted and scaled as the model was trained."""
    return ((images - mean) / std).astype(np.float32)


def load_data(config: TrainConfig) -> LoadedData:
    """The train and test splits of ``config.data``.

    >>> load_data(TrainConfig()).root is None  # the digits ship with the package
    True
    """
    if config.data == "digits":
        train, test = datasets.Digits(train=True), datasets.Digits(train=False)
        classes = tuple(str(i) for i in range(10))
    elif config.data == "mnist":
        train = datasets.MNIST(config.data_root, train=True)
        test = datasets.MNIST(config.data_root, train=False)
        classes = tuple(str(i) for i in range(10))
    else:
        train = datasets.FashionMNIST(config.data_root, train=True)
        test = datasets.FashionMNIST(config.data_root, train=False)
        classes = FASHION_CLASSES
    train_x, train_y = _images(train)
    test_x, test_y = _images(test)
    mean, std = float(train_x.mean()), float(train_x.std()) or 1.0
    return LoadedData(Tensor._wrap(standardize(train_x, mean, std)), Tensor._wrap(train_y),
                      Tensor._wrap(standardize(test_x, mean, std)), Tensor._wrap(test_y),
                      classes, mean, std,
                      None if config.data == "digits" else os.path.abspath(train.root))
