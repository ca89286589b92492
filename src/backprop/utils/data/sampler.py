"""Samplers: the order in which a ``DataLoader`` visits a data set (PyTorch's semantics).

Samplers that know a whole epoch's order up front (sequential, random, subset-random, weighted)
make it as NumPy arrays in ``_index_chunks()``; iterating them walks those arrays, and
``BatchSampler`` slices them into batches without a Python step per sample. Both routes draw the
same random numbers, so the order does not depend on which one a caller takes. The random and
weighted samplers draw their chunks as they are consumed: ``num_samples=10**10`` costs nothing
until it is walked.
"""

from __future__ import annotations

from typing import Any, Generic, Iterable, Iterator, Sequence, Sized, TypeVar

import numpy as np

from ...random import Generator, get_rng
from ...tensor import Tensor

T_co = TypeVar("T_co", covariant=True)


class Sampler(Generic[T_co]):
    """Base class: ``__iter__`` yields indices (or keys) of a data set; ``__len__`` is optional."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__}: subclasses of Sampler should "
                                  "implement __iter__")

    def _index_array(self) -> np.ndarray | None:
        """The whole epoch's indices as an int64 array, or None if the sampler cannot say."""
        return None

    def _index_chunks(self) -> Iterator[np.ndarray] | None:
        """The epoch's indices as consecutive int64 arrays, or None if the sampler cannot say."""
        order = self._index_array()
        return None if order is None else iter((order,))


class SequentialSampler(Sampler[int]):
    """``0, 1, ..., len(data_source) - 1``.

    >>> list(SequentialSampler(range(3)))
    [0, 1, 2]
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)

    def _index_array(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)


def _check_positive_int(name: str, value: Any, op: str) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{op}: {name} should be a positive integer value, but got "
                         f"{name}={value!r}")


def _check_bool(name: str, value: Any, op: str) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{op}: {name} should be a boolean value, but got {name}={value!r}")


class RandomSampler(Sampler[int]):
    """A random order: a permutation of the data set, or ``num_samples`` draws with replacement.

    Without ``replacement``, ``num_samples`` larger than the data set walks several full
    permutations. Without a ``generator``, each epoch draws a fresh seed from the default
    generator (as PyTorch does), so ``bp.manual_seed`` makes the sequence of epochs repeat.

    >>> import backprop as bp
    >>> _ = bp.manual_seed(0); a = list(RandomSampler(range(5)))
    >>> _ = bp.manual_seed(0); a == list(RandomSampler(range(5))), sorted(a)
    (True, [0, 1, 2, 3, 4])
    """

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator: Generator | None = None) -> None:
        _check_bool("replacement", replacement, "RandomSampler")
        if num_samples is not None:
            _check_positive_int("num_samples", num_samples, "RandomSampler")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self) -> Iterator[int]:
        for chunk in self._index_chunks():
            yield from chunk.tolist()

    def _index_chunks(self) -> Iterator[np.ndarray]:
        n = len(self.data_source)
        if n == 0:
            return
        if self.generator is None:
            seed = int(get_rng().integers(0, 2**63 - 1))
            rng = np.random.Generator(np.random.PCG64(seed))
        else:
            rng = self.generator.numpy
        wanted = self.num_samples
        if self.replacement:
            for size in _chunk_sizes(wanted):
                yield rng.integers(0, n, size=size, dtype=np.int64)
            return
        while wanted > 0:  # whole permutations, the last one cut short
            permutation = rng.permutation(n).astype(np.int64, copy=False)[:wanted]
            wanted -= len(permutation)
            yield permutation


def _chunk_sizes(total: int) -> Iterator[int]:
    """``total`` split into draws of at most ``_CHUNK``: memory stays flat however many samples
    an epoch has (one chunk covers every epoch up to ``_CHUNK`` samples, so those draw the same
    numbers as a single draw would)."""
    for start in range(0, total, _CHUNK):
        yield min(_CHUNK, total - start)


_CHUNK = 1 << 16


class SubsetRandomSampler(Sampler[int]):
    """The given ``indices`` in a random order (a permutation drawn each epoch).

    >>> import backprop as bp
    >>> sorted(SubsetRandomSampler([7, 3, 5], generator=bp.Generator().manual_seed(1)))
    [3, 5, 7]
    """

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        yield from self._index_array().tolist()

    def __len__(self) -> int:
        return len(self.indices)

    def _index_array(self) -> np.ndarray:
        indices = self.indices._data if isinstance(self.indices, Tensor) else self.indices
        order = get_rng(self.generator).permutation(len(indices))
        return np.asarray(indices, dtype=np.int64)[order]


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``.

    >>> import backprop as bp
    >>> s = WeightedRandomSampler([0.0, 1.0, 0.0], 4, generator=bp.Generator().manual_seed(0))
    >>> list(s)
    [1, 1, 1, 1]
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Generator | None = None) -> None:
        _check_positive_int("num_samples", num_samples, "WeightedRandomSampler")
        _check_bool("replacement", replacement, "WeightedRandomSampler")
        w = np.asarray(weights._data if isinstance(weights, Tensor) else weights, np.float64)
        if w.ndim != 1:
            raise ValueError("WeightedRandomSampler: weights should be a 1-d sequence, but given "
                             f"weights have shape {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, non-negative and "
                             "not all zero")
        if not replacement and num_samples > np.count_nonzero(w):
            raise ValueError(f"WeightedRandomSampler: cannot draw {num_samples} samples without "
                             f"replacement from {np.count_nonzero(w)} non-zero weights")
        self.weights = w
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for chunk in self._index_chunks():
            yield from chunk.tolist()

    def __len__(self) -> int:
        return self.num_samples

    def _index_chunks(self) -> Iterator[np.ndarray]:
        rng = get_rng(self.generator)
        p = self.weights / self.weights.sum()
        if not self.replacement:  # at most len(weights) samples: one draw
            yield rng.choice(len(p), size=self.num_samples, replace=False, p=p).astype(np.int64)
            return
        for size in _chunk_sizes(self.num_samples):
            yield rng.choice(len(p), size=size, replace=True, p=p).astype(np.int64)


class BatchSampler(Sampler[list[int]]):
    """Group another sampler's indices into lists of ``batch_size`` (the last may be short,
    unless ``drop_last``).

    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    >>> list(BatchSampler(range(5), batch_size=2, drop_last=True))
    [[0, 1], [2, 3]]
    """

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int,
                 drop_last: bool) -> None:
        _check_positive_int("batch_size", batch_size, "BatchSampler")
        _check_bool("drop_last", drop_last, "BatchSampler")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self._batches():
            yield batch.tolist() if isinstance(batch, np.ndarray) else batch

    def _batches(self) -> Iterator[np.ndarray | list[int]]:
        """Batches as int64 arrays when the sampler knows its epoch up front, else lists."""
        size = self.batch_size
        # Only our own samplers: a subclass that overrides __iter__ must be walked as written.
        chunks = (self.sampler._index_chunks()
                  if getattr(type(self.sampler), "__iter__", None) in _ARRAY_ITERATORS else None)
        if chunks is not None:
            rest = np.zeros(0, np.int64)  # the tail of one chunk, completed by the next
            for chunk in chunks:
                if len(rest):
                    chunk = np.concatenate((rest, chunk))
                stop = len(chunk) - len(chunk) % size
                for start in range(0, stop, size):
                    yield chunk[start:start + size]
                rest = chunk[stop:]
            if len(rest) and not self.drop_last:
                yield rest
            return
        batch: list[int] = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


_ARRAY_ITERATORS = {SequentialSampler.__iter__, RandomSampler.__iter__,
                    SubsetRandomSampler.__iter__, WeightedRandomSampler.__iter__}

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]
