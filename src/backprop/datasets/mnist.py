"""``MNIST`` and ``FashionMNIST``: read the four IDX files from a folder (nothing is downloaded).

A folder holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each optionally gzipped (``.gz``).
torchvision's layout (``root/MNIST/raw/``, ``root/FashionMNIST/raw/``) is found too.
``FashionMNIST()`` with no root reads Debian's ``dataset-fashion-mnist`` package
(``/usr/share/datasets/fashion-mnist``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, ClassVar

import numpy as np

from ..tensor import Tensor
from ._base import LabelledDataset, check_train
from .idx import IDXError, PathLike, read_idx

SPLIT_FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def _candidates(folder: Path, stem: str) -> list[Path]:
    # The canonical name, then the ".idx" spelling some mirrors use (train-images.idx3-ubyte).
    names = [stem, stem.replace("-idx", ".idx")]
    return [folder / (name + suffix) for name in names for suffix in ("", ".gz")]


class _IDXImageDataset(LabelledDataset):
    """Images and labels from a pair of IDX files; subclasses name the data set."""

    classes: ClassVar[list[str]] = []
    int_targets = True
    where_to_get = ""

    def __init__(self, root: PathLike | None, train: bool, transform: Callable | None,
                 target_transform: Callable | None, download: bool) -> None:
        name = type(self).__name__
        self.train = check_train(train, name)
        self.root = Path(root) if root is not None else self._default_root()
        self.transform = transform
        self.target_transform = target_transform
        image_file, label_file = self._find_files(download)
        self.image_file, self.label_file = image_file, label_file
        images, labels = read_idx(image_file), read_idx(label_file)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise IDXError(f"{name}: {image_file} should hold uint8 images of shape "
                           f"(N, height, width), but holds {images.dtype} values of shape "
                           f"{images.shape}")
        if labels.ndim != 1 or labels.dtype != np.uint8:
            raise IDXError(f"{name}: {label_file} should hold uint8 labels of shape (N,), but "
                           f"holds {labels.dtype} values of shape {labels.shape}")
        if len(images) != len(labels):
            raise IDXError(f"{name}: {image_file} holds {len(images)} images but {label_file} "
                           f"holds {len(labels)} labels; the two files must belong together")
        if len(labels) and labels.max() >= len(self.classes):
            raise IDXError(f"{name}: {label_file} holds label {labels.max()}, but {name} has "
                           f"{len(self.classes)} classes (0..{len(self.classes) - 1})")
        self.data = Tensor._wrap(images)  # uint8 (N, H, W), as torchvision keeps it
        self.targets = Tensor._wrap(labels.astype(np.int64))

    @classmethod
    def _default_root(cls) -> Path:
        raise TypeError(f"{cls.__name__}: give root, the folder that holds the IDX files")

    def _search_folders(self) -> list[Path]:
        name = type(self).__name__
        return [self.root, self.root / name / "raw", self.root / name]

    def _find_files(self, download: bool) -> tuple[Path, Path]:
        found = []
        for stem in SPLIT_FILES[self.train]:
            hits = [p for folder in self._search_folders()
                    for p in _candidates(folder, stem) if p.is_file()]
            found.append(hits[0] if hits else None)
        if all(found):
            return found[0], found[1]
        missing = [stem for stem, path in zip(SPLIT_FILES[self.train], found) if path is None]
        split = "training" if self.train else "test"
        also = ", ".join(str(p) for p in self._search_folders()[1:])
        note = " (backprop never downloads: download=True cannot help)" if download else ""
        raise FileNotFoundError(
            f"{type(self).__name__}: cannot find the {split} file"
            f"{'s' if len(missing) > 1 else ''} {' and '.join(missing)} (each may be gzipped, "
            f".gz) in {self.root} (also looked in {also}){note}. A folder needs the four files "
            f"{', '.join(SPLIT_FILES[True] + SPLIT_FILES[False])}. {self.where_to_get}")

    def _inputs(self, index: Any) -> np.ndarray:
        # uint8 pixels -> float32 in [0, 1] with a channel axis, like torchvision's ToTensor().
        images = self.data._data[index]
        return (images.astype(np.float32) / np.float32(255.0))[..., None, :, :]

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def extra_repr(self) -> str:
        return f"Root location: {self.root}\nSplit: {'Train' if self.train else 'Test'}"


class MNIST(_IDXImageDataset):
    """The MNIST handwritten digits, read from the four IDX files in ``root``.

    ``.data`` holds the images as uint8 ``(N, 28, 28)`` and ``.targets`` the labels as int64 (as
    torchvision keeps them); a sample is ``(image, label)``: a float32 ``(1, 28, 28)`` tensor in
    [0, 1] (what torchvision gives after ``ToTensor()``) and an ``int``, passed through
    ``transform`` and ``target_transform`` when given. ``download`` is accepted for
    compatibility; nothing is ever downloaded.
    """

    classes: ClassVar[list[str]] = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
        "7 - seven", "8 - eight", "9 - nine"]
    where_to_get = ("Download them from https://yann.lecun.com/exdb/mnist/ or a mirror such as "
                    "https://ossci-datasets.s3.amazonaws.com/mnist/ into that folder.")

    def __init__(self, root: PathLike, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, train, transform, target_transform, download)


class FashionMNIST(_IDXImageDataset):
    """Zalando's Fashion-MNIST (28x28 grey images of 10 kinds of clothing), from IDX files.

    With no ``root``, reads ``/usr/share/datasets/fashion-mnist``, where Debian's package
    ``dataset-fashion-mnist`` installs the data (``apt-get install dataset-fashion-mnist``).
    Samples, ``.data`` and ``.targets`` are as in ``MNIST``.
    """

    classes: ClassVar[list[str]] = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
        "Ankle boot"]
    where_to_get = ("On Debian or Ubuntu, `apt-get install dataset-fashion-mnist` installs them "
                    f"in {DEBIAN_FASHION_MNIST} (the default root); otherwise download them from "
                    "https://github.com/zalandoresearch/fashion-mnist (folder data/fashion) and "
                    "pass their folder as root.")

    def __init__(self, root: PathLike | None = None, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        super().__init__(root, train, transform, target_transform, download)

    @classmethod
    def _default_root(cls) -> Path:
        return DEBIAN_FASHION_MNIST


__all__ = ["MNIST", "FashionMNIST"]
