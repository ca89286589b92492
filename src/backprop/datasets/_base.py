"""The common shape of every data set in ``bp.datasets``: inputs in ``.data``, labels in
``.targets``, optional ``transform``/``target_transform`` callables (as in torchvision), and the
``DataLoader`` batch fast path when no transform is set."""

from __future__ import annotations

import operator
from typing import Any, Callable

import numpy as np

from ..tensor import Tensor
from ..utils.data.dataset import Dataset


class LabelledDataset(Dataset[Any]):
    """Samples ``(input, target)`` taken from the tensors ``.data`` and ``.targets``.

    Subclasses set ``data``, ``targets`` (or ``None`` for unlabelled data), ``transform`` and
    ``target_transform``, and may override ``_inputs`` (how stored rows become model inputs, for
    one index or a batch of them) and ``int_targets`` (targets as Python ints, as torchvision
    gives class labels, rather than 0-d tensors).
    """

    data: Tensor
    targets: Tensor | None
    transform: Callable[[Any], Any] | None = None
    target_transform: Callable[[Any], Any] | None = None
    int_targets = False

    def __len__(self) -> int:
        return self.data.shape[0]

    def _inputs(self, index: Any) -> np.ndarray:
        """The model inputs for an int index or an int64 array of indices (always a copy)."""
        return np.array(self.data._data[index])

    def __getitem__(self, index: Any) -> Any:
        try:
            i = operator.index(index)
        except TypeError:
            raise TypeError(f"{type(self).__name__}: samples are indexed by integers, got "
                            f"{type(index).__name__}") from None
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"{type(self).__name__}: index {i} is out of range for {n} samples")
        x: Any = Tensor._wrap(self._inputs(i))
        if self.transform is not None:
            x = self.transform(x)
        if self.targets is None:
            return x
        y: Any = (int(self.targets._data[i]) if self.int_targets
                  else Tensor._wrap(np.array(self.targets._data[i])))
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y

    def _get_batch(self, indices: np.ndarray) -> Any:
        """The collated batch in one fancy index (see ``bp.utils.data.dataset``)."""
        if (self.transform is not None or self.target_transform is not None
                or type(self).__getitem__ is not LabelledDataset.__getitem__):
            return None
        x = Tensor._wrap(self._inputs(indices))
        if self.targets is None:
            return x
        # Python-int targets collate to int64, exactly the dtype the targets are stored in.
        return [x, Tensor._wrap(self.targets._data[indices])]

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}"]
        lines += [f"    {line}" for line in self.extra_repr().splitlines()]
        for name in ("transform", "target_transform"):
            if getattr(self, name) is not None:
                lines.append(f"    {name}: {getattr(self, name)!r}")
        return "\n".join(lines)

    def extra_repr(self) -> str:
        return ""


def check_train(train: Any, op: str) -> bool:
    if not isinstance(train, (bool, np.bool_)):
        raise TypeError(f"{op}: train must be True or False, got {train!r}")
    return bool(train)
