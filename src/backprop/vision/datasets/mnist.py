"""torchvision's ``MNIST`` and ``FashionMNIST``: samples are ``(PIL Image 'L', int)``.

The files are read by ``backprop.datasets.mnist`` (the four IDX files, gzipped or not, in
``root``, ``root/MNIST/raw`` or ``root/MNIST``); nothing is ever downloaded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...datasets import mnist as _idx_datasets
from ...datasets.idx import PathLike
from .._image import from_pixels
from ._common import DatasetNotFoundError, check_index
from .vision import StandardTransform, VisionDataset


class _TorchvisionSamples:
    """torchvision's sample: the uint8 image as a PIL Image (or a uint8 ndarray without
    Pillow) and the label as an int, each through its transform."""

    data: Any
    targets: Any
    transform: Callable | None
    target_transform: Callable | None

    def _find_files(self, download: bool) -> tuple[Path, Path]:
        try:
            return super()._find_files(download)  # type: ignore[misc]
        except FileNotFoundError as err:
            raise DatasetNotFoundError(str(err)) from None

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        i = check_index(index, len(self.data), type(self).__name__)
        img: Any = from_pixels(self.data._data[i])
        target: Any = int(self.targets._data[i])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    @property
    def transforms(self) -> StandardTransform | None:
        if self.transform is None and self.target_transform is None:
            return None
        return StandardTransform(self.transform, self.target_transform)

    @property
    def raw_folder(self) -> str:
        return str(Path(self.root) / type(self).__name__ / "raw")  # type: ignore[attr-defined]

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"  # type: ignore[attr-defined]

    __repr__ = VisionDataset.__repr__


class MNIST(_TorchvisionSamples, _idx_datasets.MNIST, VisionDataset):
    """The MNIST digits from the IDX files in ``root`` (or ``root/MNIST/raw``), as torchvision.

    A sample is ``(image, target)``: the 28x28 image as a PIL Image of mode 'L' when Pillow is
    installed (``pip install 'backprop[vision]'``), otherwise as a uint8 ndarray ``(28, 28)``
    (the transforms take both), and the label as an int. ``.data`` is a uint8 Tensor
    ``(N, 28, 28)``, ``.targets`` an int64 Tensor. ``download=True`` never downloads: missing
    files raise ``DatasetNotFoundError`` (a FileNotFoundError and a RuntimeError) saying which
    files to put where.

    >>> import tempfile, numpy as np
    >>> from backprop.datasets import write_idx
    >>> root = tempfile.mkdtemp()
    >>> write_idx(f"{root}/train-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    >>> write_idx(f"{root}/train-labels-idx1-ubyte", np.array([5, 0], np.uint8))
    >>> data = MNIST(root)
    >>> len(data), data[0][1], tuple(data.data.shape)
    (2, 5, (2, 28, 28))
    """

    def __init__(self, root: PathLike, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, train, transform, target_transform, download)


class FashionMNIST(_TorchvisionSamples, _idx_datasets.FashionMNIST, VisionDataset):
    """Zalando's Fashion-MNIST from the IDX files in ``root`` (or ``root/FashionMNIST/raw``),
    as torchvision; samples, ``.data`` and ``.targets`` as in ``MNIST``.

    When ``root`` holds no files, Debian's ``dataset-fashion-mnist`` package
    (``/usr/share/datasets/fashion-mnist``) is read if it is installed.
    """

    def __init__(self, root: PathLike | None = None, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        super().__init__(root, train, transform, target_transform, download)

    def _find_files(self, download: bool) -> tuple[Path, Path]:
        try:
            return super()._find_files(download)
        except DatasetNotFoundError:
            given, fallback = self.root, _idx_datasets.DEBIAN_FASHION_MNIST
            if given == fallback or not fallback.is_dir():
                raise
            self.root = fallback
            try:
                return super()._find_files(download)
            except DatasetNotFoundError:
                pass
            finally:
                self.root = given
            raise


__all__ = ["MNIST", "FashionMNIST"]
