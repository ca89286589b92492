"""torchvision's ``FakeData``: random images that are the same every time for an index."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ...random import Generator
from .._image import from_pixels
from ._common import check_index
from .vision import VisionDataset


class FakeData(VisionDataset):
    """``size`` random uint8 images of ``image_size`` (C, H, W) with random labels below
    ``num_classes``, as torchvision's: item ``i`` is drawn from a generator seeded with
    ``i + random_offset``, so it is the same on every call and in every process, and the global
    random state is left alone. Images are PIL Images ('RGB' for 3 channels, 'L' for 1) when
    Pillow is installed, otherwise uint8 ndarrays ``(H, W, C)`` (``(H, W)`` for 1 channel).
    Our generator is not PyTorch's, so the pixels differ from torchvision's.

    >>> data = FakeData(size=4, image_size=(3, 8, 6), num_classes=5)
    >>> import numpy as np
    >>> np.asarray(data[1][0]).shape, np.array_equal(np.asarray(data[1][0]),
    ...                                              np.asarray(data[1][0]))
    ((8, 6, 3), True)
    """

    def __init__(self, size: int = 1000, image_size: Sequence[int] = (3, 224, 224),
                 num_classes: int = 10, transform: Callable | None = None,
                 target_transform: Callable | None = None, random_offset: int = 0) -> None:
        image_size = tuple(image_size)
        if len(image_size) != 3 or not all(isinstance(n, int) and n > 0 for n in image_size):
            raise ValueError(f"FakeData: image_size must be (channels, height, width) of "
                             f"positive ints, got {image_size!r}")
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"FakeData: size must be a non-negative int, got {size!r}")
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"FakeData: num_classes must be a positive int, got {num_classes!r}")
        self.size, self.image_size, self.num_classes = size, image_size, num_classes
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.random_offset = random_offset

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        i = check_index(index, self.size, "FakeData")
        rng = Generator(i + self.random_offset).numpy
        channels, height, width = self.image_size
        pixels = rng.integers(0, 256, size=(height, width, channels), dtype="uint8")
        target: Any = int(rng.integers(0, self.num_classes))
        img: Any = from_pixels(pixels[:, :, 0] if channels == 1 else pixels)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target


__all__ = ["FakeData"]
