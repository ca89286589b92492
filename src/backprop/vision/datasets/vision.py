"""torchvision's ``VisionDataset``, the base of its data sets (and of users' own), and
``StandardTransform``, which applies ``transform`` and ``target_transform`` to a sample."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ...utils.data.dataset import Dataset


class StandardTransform:
    """``(transform(input), target_transform(target))``, each only when given.

    >>> StandardTransform(str, None)(1, 2)
    ('1', 2)
    """

    def __init__(self, transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        self.transform, self.target_transform = transform, target_transform

    def __call__(self, input: Any, target: Any) -> tuple[Any, Any]:
        if self.transform is not None:
            input = self.transform(input)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return input, target

    @staticmethod
    def _format(transform: Any, head: str) -> list[str]:
        lines = repr(transform).splitlines()
        return [head + lines[0]] + [" " * len(head) + line for line in lines[1:]]

    def __repr__(self) -> str:
        body = [type(self).__name__]
        if self.transform is not None:
            body += self._format(self.transform, "Transform: ")
        if self.target_transform is not None:
            body += self._format(self.target_transform, "Target transform: ")
        return "\n".join(body)


class VisionDataset(Dataset[Any]):
    """A data set with a ``root`` folder and torchvision's transform arguments: either
    ``transforms`` (called on ``(input, target)``) or ``transform``/``target_transform``.
    Subclasses define ``__getitem__`` and ``__len__``; ``repr`` prints as torchvision's.

    >>> class Pairs(VisionDataset):
    ...     def __len__(self): return 2
    >>> print(Pairs("data", transform=str))
    Dataset Pairs
        Number of datapoints: 2
        Root location: data
        StandardTransform
    Transform: <class 'str'>
    """

    _repr_indent = 4

    def __init__(self, root: Any = None, transforms: Callable | None = None,
                 transform: Callable | None = None,
                 target_transform: Callable | None = None) -> None:
        self.root = os.path.expanduser(root) if isinstance(root, str) else root
        separate = transform is not None or target_transform is not None
        if transforms is not None and separate:
            raise ValueError(f"{type(self).__name__}: pass either transforms or "
                             "transform/target_transform, not both")
        self.transform, self.target_transform = transform, target_transform
        self.transforms = StandardTransform(transform, target_transform) if separate \
            else transforms

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} does not define __len__")

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        body = [f"Number of datapoints: {len(self)}"]
        if getattr(self, "root", None) is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        if getattr(self, "transforms", None) is not None:
            body.append(repr(self.transforms))  # its later lines unindented, as torchvision's
        return "\n".join([f"Dataset {type(self).__name__}"]
                         + [" " * self._repr_indent + line for line in body])


__all__ = ["StandardTransform", "VisionDataset"]
