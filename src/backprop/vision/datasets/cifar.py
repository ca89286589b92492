"""torchvision's ``CIFAR10`` and ``CIFAR100``: read from the python releases (read without
unpickling, see ``_cifar_batch``) or the binary releases."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Union

import numpy as np

from .._image import from_pixels
from ._cifar_batch import read_cifar_batch, read_cifar_binary, read_cifar_names
from ._common import DatasetNotFoundError, check_index
from .vision import VisionDataset

PathLike = Union[str, "os.PathLike[str]"]


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

    base_folder: ClassVar[str] = "cifar-10-batches-py"
    binary_folder: ClassVar[str] = "cifar-10-batches-bin"
    train_files: ClassVar[list[str]] = [f"data_batch_{i}" for i in range(1, 6)]
    test_files: ClassVar[list[str]] = ["test_batch"]
    label_keys: ClassVar[tuple[str, ...]] = ("labels",)
    binary_label_bytes: ClassVar[int] = 1
    archive: ClassVar[str] = "cifar-10"
    classes: list[str] = ["airplane", "automobile", "bird", "cat", "deer", "dog",  # noqa: RUF012
                          "frog", "horse", "ship", "truck"]

    def __init__(self, root: PathLike, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        name = type(self).__name__
        if not isinstance(train, (bool, np.bool_)):
            raise TypeError(f"{name}: train must be True or False, got {train!r}")
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = bool(train)
        files, binary = self._files(download)
        images, labels = [], []
        for file in files:
            batch_images, batch_labels = (read_cifar_binary(file, self.binary_label_bytes)
                                          if binary else read_cifar_batch(file, self.label_keys))
            images.append(batch_images)
            labels += batch_labels
        self.classes = self._load_classes(binary)
        self.data: np.ndarray = np.vstack(images).transpose(0, 2, 3, 1).copy()  # N, H, W, C
        self.targets: list[int] = labels
        if labels and not 0 <= min(labels) <= max(labels) < len(self.classes):
            raise ValueError(f"{name}: the labels in {Path(self.root)} run from {min(labels)} "
                             f"to {max(labels)}; {name} has classes 0..{len(self.classes) - 1}")

    def _load_classes(self, binary: bool) -> list[str]:
        return list(type(self).classes)

    def _files(self, download: bool) -> tuple[list[Path], bool]:
        """The batch files to read and whether they are the binary release's."""
        names = self.train_files if self.train else self.test_files
        root = Path(self.root)
        python, binary = root / self.base_folder, root / self.binary_folder
        if all((python / name).is_file() for name in names):
            return [python / name for name in names], False
        if all((binary / f"{name}.bin").is_file() for name in names):
            return [binary / f"{name}.bin" for name in names], True
        split = "training" if self.train else "test"
        missing = [name for name in names if not (python / name).is_file()]
        note = " (backprop never downloads: download=True cannot help)" if download else ""
        raise DatasetNotFoundError(
            f"{type(self).__name__}: cannot find the {split} files {', '.join(missing)} in "
            f"{python}, nor {', '.join(n + '.bin' for n in names)} in {binary}{note}. The python "
            f"release's folder holds {', '.join(self.train_files + self.test_files)}. Get "
            f"{self.archive}-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html and "
            f"unpack it there (tar xzf {self.archive}-python.tar.gz -C {root}), or unpack the "
            f"binary version ({self.archive}-binary.tar.gz) the same way.")

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        i = check_index(index, len(self), type(self).__name__)
        img: Any = from_pixels(self.data[i])
        target: Any = self.targets[i]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class CIFAR100(CIFAR10):
    """The CIFAR-100 images (32x32 RGB, 100 classes) in ``root``, as torchvision: the python
    release ``root/cifar-100-python/`` (``train``, ``test``, and ``meta`` for the class names;
    read without unpickling) or the binary release ``root/cifar-100-binary/`` (``train.bin``,
    ``test.bin``, ``fine_label_names.txt``). Targets are the fine labels; samples, ``.data``
    and ``.targets`` as in ``CIFAR10``.
    """

    base_folder: ClassVar[str] = "cifar-100-python"
    binary_folder: ClassVar[str] = "cifar-100-binary"
    train_files: ClassVar[list[str]] = ["train"]
    test_files: ClassVar[list[str]] = ["test"]
    label_keys: ClassVar[tuple[str, ...]] = ("labels", "fine_labels")
    binary_label_bytes: ClassVar[int] = 2  # the coarse label, then the fine one
    archive: ClassVar[str] = "cifar-100"

    def _load_classes(self, binary: bool) -> list[str]:
        root = Path(self.root)
        path = (root / self.binary_folder / "fine_label_names.txt" if binary
                else root / self.base_folder / "meta")
        if not path.is_file():
            raise DatasetNotFoundError(f"CIFAR100: cannot find {path}, which names the 100 "
                                       "classes; it comes in the same archive as the batches")
        if binary:
            return [line.strip() for line in path.read_text().splitlines() if line.strip()]
        return read_cifar_names(path, "fine_label_names")


__all__ = ["CIFAR10", "CIFAR100"]
