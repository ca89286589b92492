"""Data sets: ``Dataset`` (map-style), ``IterableDataset``, ``TensorDataset``, ``Subset``,
``ConcatDataset``, ``ChainDataset`` and ``random_split``, with PyTorch's semantics.

The batch fast path: a data set may define ``_get_batch(indices)``, taking a NumPy int64 array of
indices and returning exactly what ``default_collate`` would make of ``[ds[i] for i in indices]``
(or ``None`` when it cannot, e.g. because a transform is set). The ``DataLoader`` calls it when
the collate function is the default, so a ``TensorDataset`` batch costs one fancy index per tensor
instead of ``batch_size`` indexing ops and a stack. ``Subset`` forwards it with mapped indices.
"""

from __future__ import annotations

import bisect
import math
import warnings
from itertools import accumulate
from typing import Any, Generic, Iterable, Iterator, Sequence, TypeVar

import numpy as np

from ...random import Generator, get_rng
from ...tensor import Tensor

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """A map-style data set: ``ds[i]`` gives sample ``i`` and ``len(ds)`` the number of samples.

    Subclasses implement ``__getitem__`` (and usually ``__len__``); ``a + b`` concatenates.

    >>> class Squares(Dataset):
    ...     def __len__(self): return 4
    ...     def __getitem__(self, i): return i * i
    >>> ds = Squares() + Squares()
    >>> len(ds), ds[5]
    (8, 1)
    """

    def __getitem__(self, index: Any) -> T_co:
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Dataset should "
                                  "implement __getitem__")

    def __add__(self, other: Dataset[T_co]) -> ConcatDataset[T_co]:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """A data set that is a stream: subclasses implement ``__iter__`` (no indexing, no sampler).

    >>> class Count(IterableDataset):
    ...     def __iter__(self): return iter(range(3))
    >>> list(Count() + Count())
    [0, 1, 2, 0, 1, 2]
    """

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__}: subclasses of IterableDataset should "
                                  "implement __iter__")

    def __add__(self, other: Dataset[T_co]) -> ChainDataset:  # type: ignore[override]
        return ChainDataset([self, other])


def take(tensor: Tensor, indices: np.ndarray) -> Tensor:
    """``tensor[indices]`` for a batch of indices: one NumPy fancy index, recorded in the graph
    only when ``tensor`` requires grad (as ``tensor[i]`` would be)."""
    if tensor.requires_grad:
        return tensor[Tensor._wrap(indices)]
    return Tensor._wrap(tensor._data[indices])


class TensorDataset(Dataset[tuple]):
    """Samples are the ``i``-th rows of tensors that share their first dimension.

    >>> import backprop as bp
    >>> ds = TensorDataset(bp.zeros(5, 3), bp.arange(5))
    >>> x, y = ds[2]
    >>> len(ds), x.shape, y.item()
    (5, (3,), 2)
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} is a {type(t).__name__}, not a "
                                "tensor; convert it with bp.as_tensor(...)")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d; every tensor needs a first "
                                 "dimension that indexes the samples")
        sizes = [t.shape[0] for t in tensors]
        if any(n != sizes[0] for n in sizes):
            described = ", ".join(f"tensor {i}: {n}" for i, n in enumerate(sizes))
            raise ValueError(f"TensorDataset: size mismatch between tensors: their first "
                             f"dimensions differ ({described}); every tensor must hold the same "
                             "number of samples")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _get_batch(self, indices: np.ndarray) -> list[Tensor] | None:
        if type(self).__getitem__ is not TensorDataset.__getitem__:
            return None  # a subclass changed what a sample is
        return [take(t, indices) for t in self.tensors]  # default_collate makes tuples lists


class Subset(Dataset[T_co]):
    """The samples of ``dataset`` at ``indices``, in that order.

    >>> sub = Subset(list("abcdef"), [4, 0])
    >>> len(sub), sub[0], sub[1]
    (2, 'e', 'a')
    """

    def __init__(self, dataset: Dataset[T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx: Any) -> T_co:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list[T_co]:
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def _get_batch(self, indices: np.ndarray) -> Any:
        get_batch = getattr(self.dataset, "_get_batch", None)
        if get_batch is None or type(self).__getitem__ is not Subset.__getitem__:
            return None
        own = self.indices
        if isinstance(own, Tensor):
            own = own._data
        if isinstance(own, np.ndarray):
            mapped = own[indices]
        else:  # a list: a batch's worth of lookups is cheaper than converting the whole list
            mapped = np.array([own[i] for i in indices.tolist()], dtype=np.int64)
        return get_batch(mapped)


class ConcatDataset(Dataset[T_co]):
    """Several map-style data sets one after the other.

    >>> ds = ConcatDataset([[1, 2], [3, 4, 5]])
    >>> len(ds), ds[2], ds[-1], ds.cumulative_sizes
    (5, 3, 5, [2, 5])
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for i, d in enumerate(self.datasets):
            if isinstance(d, IterableDataset):
                raise TypeError(f"ConcatDataset: dataset {i} is an IterableDataset, which has no "
                                "indices; chain iterable data sets with ChainDataset")
        self.cumulative_sizes = list(accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> T_co:
        if idx < 0:
            if -idx > len(self):
                raise ValueError(f"ConcatDataset: index {idx} is out of range for a data set of "
                                 f"length {len(self)}")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        if which == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {idx} is out of range for a data set of "
                             f"length {len(self)}")
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """Several iterable data sets one after the other.

    >>> list(ChainDataset([range(2), range(3)]))
    [0, 1, 0, 1, 2]
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator:
        for d in self.datasets:
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)  # type: ignore[arg-type]


def _split_lengths(n: int, lengths: Sequence[int | float]) -> list[int]:
    """Turn fractions summing to 1 into counts, giving the remainder round-robin (PyTorch)."""
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"random_split: fraction at index {i} is {frac}, not between "
                                 "0 and 1")
            counts.append(math.floor(n * frac))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; this gives an "
                              "empty data set", stacklevel=3)
        return counts
    for i, length in enumerate(lengths):
        if isinstance(length, bool) or not float(length).is_integer() or length < 0:
            raise ValueError(f"random_split: lengths must be non-negative integers or fractions "
                             f"summing to 1, got {length!r} at index {i}")
    return [int(length) for length in lengths]


def random_split(dataset: Dataset[T_co], lengths: Sequence[int | float],
                 generator: Generator | None = None) -> list[Subset[T_co]]:
    """Split ``dataset`` at random into non-overlapping subsets of the given lengths.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1: each split then
    gets ``floor(len(dataset) * fraction)`` samples and the remainder is dealt out one at a time
    from the first split on (as PyTorch does). ``generator`` (default: the default generator,
    seeded by ``bp.manual_seed``) fixes the permutation.

    >>> import backprop as bp
    >>> train, test = random_split(range(10), [0.8, 0.2], generator=bp.Generator().manual_seed(0))
    >>> len(train), len(test), sorted(list(train) + list(test)) == list(range(10))
    (8, 2, True)
    """
    n = len(dataset)  # type: ignore[arg-type]
    counts = _split_lengths(n, lengths)
    if sum(counts) != n:
        raise ValueError(f"random_split: the lengths {list(lengths)} sum to {sum(counts)}, but "
                         f"the data set has {n} samples; give lengths that sum to its length, "
                         "or fractions that sum to 1")
    order = get_rng(generator).permutation(sum(counts)).tolist()
    return [Subset(dataset, order[end - count:end])
            for count, end in zip(counts, accumulate(counts))]


__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "ChainDataset", "random_split"]
