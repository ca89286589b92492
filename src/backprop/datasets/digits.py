"""``Digits``: the UCI optical-recognition handwritten digits, embedded in the package.

The data: 1,797 grey images of 8x8 pixels, each pixel the count (0..16) of ink pixels in a 4x4
block of a 32x32 bitmap, with their digit 0..9. It is the test part of "Optical Recognition of
Handwritten Digits" by E. Alpaydin and C. Kaynak (1998), UCI Machine Learning Repository,
https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits, licensed
CC BY 4.0. The file ``data/digits.csv.gz`` (one row
per image: 64 pixel values row by row, then the label) is the copy distributed with
scikit-learn; see ``data/README.md``.
"""

from __future__ import annotations

import functools
import gzip
from importlib import resources
from typing import Any, Callable, ClassVar

import numpy as np

from ..tensor import Tensor
from ._base import LabelledDataset, check_train

DIGITS_FILE = "data/digits.csv.gz"
N_SAMPLES, N_PIXELS, N_CLASSES = 1797, 64, 10
TEST_EVERY = 5  # every 5th image of each digit, in file order, is a test image


@functools.lru_cache(maxsize=1)
def _load() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 images (uint8, 0..16, shape (1797, 8, 8)) and labels (int64), read once."""
    source = resources.files(__package__).joinpath(DIGITS_FILE)
    try:
        with source.open("rb") as raw, gzip.open(raw, "rt") as text:
            table = np.loadtxt(text, delimiter=",", dtype=np.int64)
    except FileNotFoundError:
        raise FileNotFoundError(f"Digits: the embedded data file backprop/datasets/{DIGITS_FILE} "
                                "is missing from this installation; reinstall backprop (its "
                                "package data must be included)") from None
    if (table.shape != (N_SAMPLES, N_PIXELS + 1) or table[:, :-1].min() < 0
            or table[:, :-1].max() > 16 or not set(np.unique(table[:, -1])) <= set(range(10))):
        raise ValueError(f"Digits: the embedded file backprop/datasets/{DIGITS_FILE} is corrupt "
                         f"(table of shape {table.shape}); reinstall backprop")
    images = table[:, :-1].astype(np.uint8).reshape(N_SAMPLES, 8, 8)
    images.flags.writeable = False  # shared by every Digits instance
    labels = table[:, -1].copy()
    labels.flags.writeable = False
    return images, labels


def split_mask() -> np.ndarray:
    """True for the images of the test split: the 5th, 10th, 15th, ... image of each digit in
    file order (a stratified 80/20 split that needs no random numbers, so it never changes).

    >>> mask = split_mask()
    >>> int(mask.sum()), int((~mask).sum())
    (355, 1442)
    """
    _, labels = _load()
    test = np.zeros(len(labels), dtype=bool)
    for digit in range(N_CLASSES):
        test[np.flatnonzero(labels == digit)[TEST_EVERY - 1::TEST_EVERY]] = True
    return test


class Digits(LabelledDataset):
    """The embedded handwritten digits: 8x8 grey images of the digits 0..9.

    ``train=True`` gives the 1,442 training images, ``train=False`` the 355 test images (a fixed,
    stratified split: see ``split_mask``). ``.data`` holds the images as a float32 tensor of shape
    ``(N, 1, 8, 8)`` scaled to [0, 1] (the stored pixel counts 0..16 divided by 16), ``.targets``
    the labels as int64. A sample is ``(image, label)``: a ``(1, 8, 8)`` float32 tensor and an
    ``int``, passed through ``transform`` and ``target_transform`` when given.

    >>> ds = Digits(train=False)
    >>> image, label = ds[0]
    >>> len(ds), image.shape, image.dtype, label
    (355, (1, 8, 8), dtype('float32'), 5)
    """

    classes: ClassVar[list[str]] = [f"{d} - {name}" for d, name in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])]
    int_targets = True

    def __init__(self, train: bool = True, transform: Callable[[Any], Any] | None = None,
                 target_transform: Callable[[Any], Any] | None = None) -> None:
        self.train = check_train(train, "Digits")
        images, labels = _load()
        keep = ~split_mask() if self.train else split_mask()
        data = (images[keep].astype(np.float32) / np.float32(16.0))[:, None]
        self.data = Tensor._wrap(data)
        self.targets = Tensor._wrap(labels[keep])  # a fancy index: a writeable copy
        self.transform = transform
        self.target_transform = target_transform

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


__all__ = ["Digits"]
