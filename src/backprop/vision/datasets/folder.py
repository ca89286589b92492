"""torchvision's ``ImageFolder`` and ``DatasetFolder``: one sub-folder per class, read with
Pillow (image files are data; nothing in them is run)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Union

from .._image import require_pillow
from ._common import DatasetNotFoundError, check_index
from .vision import VisionDataset

PathLike = Union[str, "os.PathLike[str]"]
IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename: str, extensions: str | tuple[str, ...]) -> bool:
    """Whether ``filename`` ends in one of ``extensions`` (case-insensitive).

    >>> has_file_allowed_extension("cat.PNG", IMG_EXTENSIONS)
    True
    """
    suffixes = (extensions,) if isinstance(extensions, str) else tuple(extensions)
    return filename.lower().endswith(tuple(s.lower() for s in suffixes))


def is_image_file(filename: str) -> bool:
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


def find_classes(directory: PathLike) -> tuple[list[str], dict[str, int]]:
    """The sub-folder names of ``directory``, sorted, and their class indices."""
    try:
        classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    except FileNotFoundError:
        raise DatasetNotFoundError(f"ImageFolder: the folder {directory} does not exist; give "
                                   "root, a folder with one sub-folder of images per class") \
            from None
    if not classes:
        raise DatasetNotFoundError(f"ImageFolder: couldn't find any class folder in "
                                   f"{directory}; put each class's images in a sub-folder "
                                   "named after the class (root/cat/1.png, root/dog/2.png)")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory: PathLike, class_to_idx: dict[str, int],
                 extensions: tuple[str, ...] | None = None,
                 is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> list[tuple[str, int]]:
    """``(path, class index)`` of every valid file under each class folder, in sorted order."""
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("make_dataset: give exactly one of extensions and is_valid_file")
    valid = is_valid_file or (lambda name: has_file_allowed_extension(name, extensions or ()))
    instances, empty = [], []
    for name in sorted(class_to_idx):
        found = 0
        for folder, _, names in sorted(os.walk(Path(directory) / name, followlinks=True)):
            for file in sorted(names):
                path = os.path.join(folder, file)
                if valid(path):
                    instances.append((path, class_to_idx[name]))
                    found += 1
        if not found:
            empty.append(name)
    if empty and not allow_empty:
        what = f"Supported extensions are: {', '.join(extensions)}" if extensions else ""
        raise DatasetNotFoundError(f"ImageFolder: found no valid file for the classes "
                                   f"{', '.join(empty)} in {directory}. {what}".rstrip())
    return instances


def pil_loader(path: str) -> Any:
    """The image file at ``path`` as an RGB PIL Image."""
    image = require_pillow("ImageFolder")
    with open(path, "rb") as file:
        return image.open(file).convert("RGB")


def default_loader(path: str) -> Any:
    return pil_loader(path)


class DatasetFolder(VisionDataset):
    """Samples ``(loader(path), class index)`` from ``root/<class>/**/<file>``, as torchvision.
    ``.classes``, ``.class_to_idx``, ``.samples`` (and ``.imgs``) and ``.targets`` as there."""

    def __init__(self, root: PathLike, loader: Callable[[str], Any],
                 extensions: tuple[str, ...] | None = None, transform: Callable | None = None,
                 target_transform: Callable | None = None,
                 is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.classes, self.class_to_idx = self.find_classes(self.root)
        self.samples = make_dataset(self.root, self.class_to_idx, extensions, is_valid_file,
                                    allow_empty)
        self.loader, self.extensions = loader, extensions
        self.targets = [target for _, target in self.samples]

    @staticmethod
    def find_classes(directory: PathLike) -> tuple[list[str], dict[str, int]]:
        return find_classes(directory)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        path, target = self.samples[check_index(index, len(self), type(self).__name__)]
        sample: Any = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target


class ImageFolder(DatasetFolder):
    """Images in ``root/<class>/...`` (jpg, png, bmp, ...), each an RGB PIL Image, with the
    class index (sorted folder names) as target. Needs Pillow
    (``pip install 'backprop[vision]'``).

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "cat").mkdir()
    >>> data = ImageFolder(root, allow_empty=True)
    >>> data.classes, len(data)
    (['cat'], 0)
    """

    def __init__(self, root: PathLike, transform: Callable | None = None,
                 target_transform: Callable | None = None,
                 loader: Callable[[str], Any] = default_loader,
                 is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> None:
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None,
                         transform, target_transform, is_valid_file, allow_empty)
        self.imgs = self.samples


__all__ = ["IMG_EXTENSIONS", "DatasetFolder", "ImageFolder", "default_loader",
           "find_classes", "has_file_allowed_extension", "make_dataset", "pil_loader"]
