"""``DistributedSampler``: each rank's share of a data set (``torch.utils.data.DistributedSampler``)."""

from __future__ import annotations

import math
from typing import Iterator, Sized

import numpy as np

from ...random import Generator
from .sampler import Sampler


class DistributedSampler(Sampler[int]):
    """The indices rank ``rank`` of ``num_replicas`` visits in one epoch: every
    ``num_replicas``-th index of the epoch's order, starting at ``rank``.

    With ``shuffle`` the order is a permutation drawn from ``seed + epoch``, the same on every
    rank, so the ranks' shares never overlap; call ``set_epoch(epoch)`` before each epoch for a
    new order. Each rank gets the same number of indices: ``ceil(len / num_replicas)``, the order
    padded by repeating its first indices (``drop_last=False``), or ``floor(len /
    num_replicas)`` by dropping its tail (``drop_last=True``). Equal shares matter: every rank
    must run the same number of steps, since each step waits for all of them. ``num_replicas``
    and ``rank`` default to the process group's (``bp.distributed.init()``).

    With a ``DataLoader`` of batch size B per rank, step k of the N ranks together covers
    indices ``k*N*B`` to ``(k+1)*N*B - 1`` of the epoch's order: one process taking batches of
    N*B from the same order (``num_replicas=1``) sees the same samples at each step.

    >>> sampler = DistributedSampler(range(5), num_replicas=2, rank=1, shuffle=False)
    >>> list(sampler), len(sampler)       # indices 1, 3 and the padding 0 (repeating index 0)
    ([1, 3, 0], 3)
    >>> list(DistributedSampler(range(5), num_replicas=2, rank=1, shuffle=False, drop_last=True))
    [1, 3]
    """

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from ...distributed import group  # noqa: PLC0415 - only when the defaults are used

            if num_replicas is None:
                num_replicas = group.current("DistributedSampler: num_replicas").world_size
            if rank is None:
                rank = group.current("DistributedSampler: rank").rank
        if isinstance(num_replicas, bool) or not isinstance(num_replicas, (int, np.integer)) \
                or num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be a positive integer; got "
                             f"{num_replicas!r}")
        if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or \
                not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank!r}, rank should be in the "
                             f"interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        n = len(dataset)
        if self.drop_last and n % self.num_replicas:
            self.num_samples = n // self.num_replicas  # drop the tail so shares stay equal
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` (with ``shuffle``, a new permutation per epoch; call it on
        every rank with the same number).

        >>> s = DistributedSampler(range(8), num_replicas=2, rank=0, seed=1)
        >>> first = list(s); s.set_epoch(1); first != list(s)
        True
        """
        self.epoch = int(epoch)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if self.shuffle:
            return Generator(self.seed + self.epoch).numpy.permutation(n).astype(np.int64)
        return np.arange(n, dtype=np.int64)

    def _index_array(self) -> np.ndarray:
        order = self._order()
        if len(order) < self.total_size and len(order):  # pad by repeating from the start
            repeats = math.ceil(self.total_size / len(order))
            order = np.tile(order, repeats)
        order = order[:self.total_size]
        return order[self.rank:self.total_size:self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        yield from self._index_array().tolist()

    def __len__(self) -> int:
        return self.num_samples


__all__ = ["DistributedSampler"]
