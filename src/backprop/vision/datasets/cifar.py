"""torchvision's ``CIFAR10``: read from the python release (``cifar-10-batches-py``, read
without unpickling, see ``_cifar_batch``) or the binary release (``cifar-10-batches-bin``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Union

import numpy as np

from .._image import from_pixels
from ._cifar_batch import read_cifar_batch, read_cifar_binary
from ._common import DatasetNotFoundError, check_index
from .vision import VisionDataset

PathLike = Union[str, "os.PathLike[str]"]
TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_BATCHES = ["test_batch"]
PYTHON_FOLDER = "cifar-10-batches-py"
BINARY_FOLDER = "cifar-10-batches-bin"
WHERE_TO_GET = ("Get cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html "
                "and unpack it there (tar xzf cifar-10-python.tar.gz -C {root}), or unpack the "
                "binary version (cifar-10-binary.tar.gz) the same way.")


class CIFAR10(VisionDataset):
    """The CIFAR-10 images (32x32 RGB, 10 classes) in ``root``, as torchvision.

    ``root/cifar-10-batches-py/`` (torchvision's layout: ``data_batch_1`` .. ``data_batch_5``
    for training, ``test_batch`` for testing) is read without unpickling: the pickle opcodes are
    decoded as data and only NumPy's uint8 arrays and lists of ints are accepted.
    ``root/cifar-10-batches-bin/`` (``data_batch_1.bin`` .. , ``test_batch.bin``) is read too.
    A sample is ``(image, target)``: a PIL Image of mode 'RGB' when Pillow is installed
    (``pip install 'backprop[vision]'``), otherwise a uint8 ndarray ``(32, 32, 3)``, and an int.
    ``.data`` is a uint8 ndarray ``(N, 32, 32, 3)`` and ``.targets`` a list, as torchvision.
    ``download=True`` never downloads: missing files raise ``DatasetNotFoundError`` (a
    FileNotFoundError and a RuntimeError) naming the files and the folder.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "cifar-10-batches-bin"
    >>> folder.mkdir()
    >>> _ = (folder / "test_batch.bin").write_bytes(bytes([3]) + bytes(3072))
    >>> test = CIFAR10(folder.parent, train=False)
    >>> len(test), test.data.shape, test.targets, test.classes[3]
    (1, (1, 32, 32, 3), [3], 'cat')
    """

    classes: ClassVar[list[str]] = ["airplane", "automobile", "bird", "cat", "deer", "dog",
                                    "frog", "horse", "ship", "truck"]

    def __init__(self, root: PathLike, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        if not isinstance(train, (bool, np.bool_)):
            raise TypeError(f"CIFAR10: train must be True or False, got {train!r}")
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = bool(train)
        images, labels = [], []
        for file, reader in self._files(download):
            batch_images, batch_labels = reader(file)
            images.append(batch_images)
            labels += batch_labels
        self.data: np.ndarray = np.vstack(images).transpose(0, 2, 3, 1).copy()  # N, H, W, C
        self.targets: list[int] = labels
        if labels and not 0 <= min(labels) <= max(labels) < len(self.classes):
            raise ValueError(f"CIFAR10: the labels in {Path(self.root)} run from {min(labels)} "
                             f"to {max(labels)}; CIFAR-10 has classes 0..9")

    def _files(self, download: bool) -> list[tuple[Path, Callable]]:
        names = TRAIN_BATCHES if self.train else TEST_BATCHES
        root = Path(self.root)
        python, binary = root / PYTHON_FOLDER, root / BINARY_FOLDER
        if all((python / name).is_file() for name in names):
            return [(python / name, read_cifar_batch) for name in names]
        if all((binary / f"{name}.bin").is_file() for name in names):
            return [(binary / f"{name}.bin", read_cifar_binary) for name in names]
        split = "training" if self.train else "test"
        missing = [name for name in names if not (python / name).is_file()]
        note = " (backprop never downloads: download=True cannot help)" if download else ""
        raise DatasetNotFoundError(
            f"CIFAR10: cannot find the {split} batches {', '.join(missing)} in {python}, nor "
            f"{', '.join(n + '.bin' for n in names)} in {binary}{note}. The python release's "
            f"folder holds {', '.join(TRAIN_BATCHES + TEST_BATCHES)}. "
            + WHERE_TO_GET.format(root=root))

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        i = check_index(index, len(self), "CIFAR10")
        img: Any = from_pixels(self.data[i])
        target: Any = self.targets[i]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


__all__ = ["CIFAR10"]
