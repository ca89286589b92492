"""``DataLoader`` and the collate functions, with PyTorch's semantics.

Batches are made in the calling thread. ``num_workers > 0`` is accepted, so that PyTorch scripts
run unchanged, and ignored with a one-time warning: the hot path (a ``TensorDataset``, a
``Subset`` of one, or an embedded data set without transforms) is one NumPy fancy index per
tensor per batch, which worker processes would only slow down.
"""

from __future__ import annotations

import collections.abc
import copy
import re
import warnings
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from ...errors import format_shape
from ...random import Generator
from ...tensor import Tensor
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

_COLLATE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                  "lists; found {}")
_STRING_OR_OBJECT = re.compile(r"[SaUO]")  # NumPy dtype kinds that cannot become tensors


# -- collate ---------------------------------------------------------------------------------------

def _stack_arrays(arrays: list[np.ndarray], what: str) -> np.ndarray:
    try:
        return np.stack(arrays)
    except ValueError:
        shapes = sorted({format_shape(a.shape) for a in arrays})
        raise RuntimeError(f"default_collate: cannot stack {what} of different shapes "
                           f"{', '.join(shapes)} into one batch; make the samples the same "
                           "shape or give the DataLoader a collate_fn that pads them") from None


def collate_tensor_fn(batch: Sequence[Tensor], *, collate_fn_map: Any = None) -> Tensor:
    if any(t.requires_grad for t in batch):
        from ...ops.join import stack

        return stack(list(batch))  # recorded, so gradients reach the samples
    return Tensor._wrap(_stack_arrays([t._data for t in batch], "tensors"))


def collate_numpy_array_fn(batch: Sequence[np.ndarray], *, collate_fn_map: Any = None) -> Tensor:
    if _STRING_OR_OBJECT.search(batch[0].dtype.str):
        raise TypeError(_COLLATE_ERROR.format(batch[0].dtype))
    return Tensor._wrap(_stack_arrays(list(batch), "arrays"))


def collate_numpy_scalar_fn(batch: Sequence[np.generic], *, collate_fn_map: Any = None) -> Tensor:
    return Tensor._wrap(np.array(batch))  # NumPy scalars keep their dtype


def collate_float_fn(batch: Sequence[float], *, collate_fn_map: Any = None) -> Tensor:
    return Tensor._wrap(np.array(batch, dtype=np.float64))  # Python floats are doubles


def collate_int_fn(batch: Sequence[int], *, collate_fn_map: Any = None) -> Tensor:
    from ...creation import tensor

    return tensor(list(batch))  # ints -> int64, bools -> bool, a stray float -> float32


def collate_str_fn(batch: Sequence[str], *, collate_fn_map: Any = None) -> Sequence[str]:
    return batch


default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def collate(batch: Sequence[Any], *,
            collate_fn_map: dict[type | tuple[type, ...], Callable] | None = None) -> Any:
    """Collate ``batch`` (a list of samples) by the type of its first element, recursing into
    mappings, named tuples and sequences; ``collate_fn_map`` maps types to collate functions."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type, fn in collate_fn_map.items():
            if isinstance(elem, collate_type):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                    for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)  # keeps the mapping's type and extra attributes
                clone.update(collated)
                return clone
            return elem_type(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a named tuple
        return elem_type(*(collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of "
                               f"equal size; got sizes {sorted({len(s) for s in batch})}")
        columns = [collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return columns  # a list, as PyTorch returns for tuples
        return _same_kind(elem, columns)
    raise TypeError(_COLLATE_ERROR.format(elem_type))


def _same_kind(template: Sequence[Any], items: list[Any]) -> Any:
    """``items`` in a sequence of ``template``'s type (a copy of it when mutable, so subclasses
    keep their attributes), or the plain list when that type can't be built from one."""
    try:
        if isinstance(template, collections.abc.MutableSequence):
            clone = copy.copy(template)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(template)(items)
    except TypeError:
        return items


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, as PyTorch's ``default_collate``.

    Tensors and NumPy arrays are stacked along a new first dimension; Python ints become an
    int64 tensor, Python floats a float64 tensor, NumPy scalars keep their dtype; strings stay
    as they are; tuples become lists of collated fields; dicts, named tuples and lists are
    collated field by field.

    >>> import backprop as bp
    >>> x, y = default_collate([(bp.zeros(3), 1), (bp.ones(3), 0)])
    >>> x.shape, y.tolist(), y.dtype
    ((2, 3), [1, 0], dtype('int64'))
    >>> default_collate([{"a": 0.5}, {"a": 1.5}])["a"].dtype
    dtype('float64')
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays and scalars into tensors (sharing memory), recursing into mappings and
    sequences; everything else is left alone. The collate function when ``batch_size=None``.

    >>> import numpy as np
    >>> default_convert({"x": np.zeros(2)})["x"].shape
    (2,)
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _STRING_OR_OBJECT.search(data.dtype.str) else Tensor._wrap(data)
    if isinstance(data, (np.bool_, np.number)):
        return Tensor._wrap(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(data[key]) for key in data}
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update(converted)
                return clone
            return type(data)(converted)
        except TypeError:
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _same_kind(data, [default_convert(d) for d in data])
    return data


def get_worker_info() -> None:
    """Always ``None``: batches are loaded in the main process (see the module docstring)."""
    return


# -- the loader ------------------------------------------------------------------------------------

_warned_workers = False


def _warn_workers_once(num_workers: int) -> None:
    global _warned_workers
    if not _warned_workers:
        _warned_workers = True
        warnings.warn(f"DataLoader: num_workers={num_workers} is accepted and ignored; backprop "
                      "loads batches in the main process (a batch of a TensorDataset is one NumPy "
                      "index per tensor, faster than handing it to workers)", stacklevel=3)


class _InfiniteConstantSampler(Sampler[None]):
    """The sampler of an IterableDataset: it only counts; the data set gives the samples."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


class DataLoader:
    """Iterate over a data set in batches, as ``torch.utils.data.DataLoader``.

    ``shuffle=True`` visits a new random order each epoch, drawn from ``generator`` or, without
    one, from a seed taken from the default generator: ``bp.manual_seed`` makes it repeat.
    ``batch_size=None`` turns off batching (samples come one by one, NumPy arrays converted).
    ``num_workers``, ``pin_memory``, ``timeout``, ``prefetch_factor`` and the other worker options
    are accepted for compatibility; workers are not started (a one-time warning says so).

    >>> import backprop as bp
    >>> ds = bp.utils.data.TensorDataset(bp.arange(10).float(), bp.arange(10))
    >>> loader = DataLoader(ds, batch_size=4, shuffle=True, generator=bp.Generator().manual_seed(0))
    >>> len(loader), [y.shape for x, y in loader]
    (3, [(4,), (4,), (2,)])
    """

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None,
                 batch_sampler: Sampler[list] | Iterable[list] | None = None,
                 num_workers: int = 0, collate_fn: Callable[[list], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("DataLoader: num_workers option should be non-negative; use "
                             "num_workers=0 to disable multiprocessing")
        if timeout < 0:
            raise ValueError("DataLoader: timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor option could only be specified with "
                             "num_workers > 0; otherwise set prefetch_factor to None")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if num_workers > 0:
            _warn_workers_once(num_workers)

        if not isinstance(dataset, IterableDataset) and not (
                hasattr(dataset, "__getitem__")
                and (hasattr(dataset, "__len__") or sampler is not None
                     or batch_sampler is not None)):
            # Caught here, not at the first len() or indexing deep inside a sampler.
            raise TypeError(f"DataLoader: dataset must be a map-style Dataset (with __getitem__ "
                            f"and __len__) or an IterableDataset, got {type(dataset).__name__}")
        if isinstance(dataset, IterableDataset):
            for name, value in (("shuffle", shuffle), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value!r}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is "
                             "mutually exclusive with drop_last")

        if sampler is None:
            if isinstance(dataset, IterableDataset):
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if batch_sampler is not None else default_convert)
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            length = len(self.dataset)  # type: ignore[arg-type]
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else \
                    -(-length // self.batch_size)
            return length
        return len(self._index_sampler)

    def __iter__(self) -> _DataLoaderIter:
        if isinstance(self.dataset, IterableDataset):
            batches = self._iterable_batches()
        elif self._auto_collation:
            batches = self._map_batches()
        else:
            batches = (self.collate_fn(self.dataset[i]) for i in self.sampler)
        return _DataLoaderIter(self, batches)

    def _map_batches(self) -> Iterator[Any]:
        dataset, collate_fn = self.dataset, self.collate_fn
        get_batch = getattr(dataset, "_get_batch", None) if collate_fn is default_collate else None
        getitems = getattr(dataset, "__getitems__", None)
        sampler = self.batch_sampler
        own_batches = type(sampler) is BatchSampler
        for indices in (sampler._batches() if own_batches else sampler):
            if get_batch is not None:
                batch = get_batch(np.asarray(indices, dtype=np.int64))
                if batch is not None:
                    yield batch
                    continue
            if isinstance(indices, np.ndarray):
                indices = indices.tolist()
            if callable(getitems):
                yield collate_fn(getitems(indices))
            else:
                yield collate_fn([dataset[i] for i in indices])

    def _iterable_batches(self) -> Iterator[Any]:
        stream = iter(self.dataset)
        if not self._auto_collation:
            for sample in stream:
                yield self.collate_fn(sample)
            return
        size = self.batch_size
        while True:
            batch = []
            for sample in stream:
                batch.append(sample)
                if len(batch) == size:
                    break
            if not batch or (self.drop_last and len(batch) < size):  # type: ignore[operator]
                return
            yield self.collate_fn(batch)
            if len(batch) < size:  # type: ignore[operator]
                return


class _DataLoaderIter:
    """One pass over a ``DataLoader``; ``len()`` is the loader's."""

    __slots__ = ("_batches", "_loader")

    def __init__(self, loader: DataLoader, batches: Iterator[Any]) -> None:
        self._loader = loader
        self._batches = batches

    def __iter__(self) -> _DataLoaderIter:
        return self

    def __next__(self) -> Any:
        return next(self._batches)

    def __len__(self) -> int:
        return len(self._loader)


__all__ = ["DataLoader", "default_collate", "default_convert", "collate", "get_worker_info"]
