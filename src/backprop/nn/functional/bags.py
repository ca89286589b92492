"""``embedding_bag``: the sum, mean or max of the embedding rows of each bag of indices, without
forming the ``(bags, length, dim)`` lookup. Composed from ``embedding`` (the row gather, with
its gradient and ``scale_grad_by_freq``), ``index_add`` (sum and mean) and ``scatter_reduce``
('amax', whose gradient goes to the bag's maximum)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ... import backend
from ...autograd import grad_mode
from ...errors import ShapeError, format_shape
from ...ops.scatter import index_add, scatter_reduce
from ...ops.shape import reshape
from ...tensor import Tensor
from .layers import _renorm_rows, embedding


def _bags(op: str, indices: Any, offsets: Any, include_last_offset: bool,
          ) -> tuple[np.ndarray, np.ndarray, int]:
    """The flat indices, each one's bag number, and the number of bags."""
    if indices.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: if input is 2-D {format_shape(indices.shape)}, offsets has "
                             "to be None: each row is a bag")
        bags, length = indices.shape
        return indices.reshape(-1), np.repeat(np.arange(bags), length), bags
    if indices.ndim != 1:
        raise ValueError(f"{op}: input has to be 1-D or 2-D, got shape "
                         f"{format_shape(indices.shape)}")
    if offsets is None:
        raise ValueError(f"{op}: offsets has to be a 1-D tensor for a 1-D input, but got None")
    starts = np.asarray(backend.to_host(backend.array_of(offsets))).astype(np.int64)
    if starts.ndim != 1:
        raise ValueError(f"{op}: offsets has to be a 1-D tensor, got shape "
                         f"{format_shape(starts.shape)}")
    total = indices.shape[0]
    # include_last_offset: offsets in CSR form, the last one ending the last bag. (PyTorch
    # documents the last offset as the input's length; given another, its float32 and float64
    # kernels disagree on where the last bag ends.)
    bags = starts.shape[0] - 1 if include_last_offset else starts.shape[0]
    ends = starts[1:] if include_last_offset else np.append(starts[1:], total)
    starts = starts[:bags]
    if bags and (starts[0] != 0 or (np.diff(starts) < 0).any() or ends[-1] > total):
        raise ValueError(f"{op}: offsets must start at 0, not decrease and not pass the input's "
                         f"length {total}, got {backend.to_host(backend.array_of(offsets))}")
    bag_of = np.repeat(np.arange(bags), np.maximum(ends - starts, 0))
    return indices[:bag_of.shape[0]], bag_of, bags


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None,
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """The sum, mean or max of ``weight``'s rows over each bag of indices: the rows of a 2-D
    ``input``, or the runs of a 1-D ``input`` starting at ``offsets`` (``include_last_offset``:
    the last offset is the end of the last bag). ``per_sample_weights`` scales each row
    (mode 'sum' only); entries equal to ``padding_idx`` are left out; an empty bag gives zeros.
    ``sparse`` is accepted, as by ``embedding``, but the gradient is always dense.
    ``scale_grad_by_freq`` divides each row's gradient by its count among the used indices, as
    documented (PyTorch's CPU kernel gives other factors on some inputs: index 5, used once in
    the bag [5, 3, 4, 4], gets 1/2 there).

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> table = bp.tensor([[1., 2.], [3., 4.], [5., 6.]])
    >>> F.embedding_bag(bp.tensor([0, 1, 2]), table, bp.tensor([0, 1])).tolist()
    [[1.0, 2.0], [4.0, 5.0]]
    """
    op = "embedding_bag"
    if backend.array_of(weight).dtype.kind in "iu" and backend.array_of(input).dtype.kind in "fV":
        warnings.warn(f"{op}: the argument order is (input, weight, ...); (weight, input, ...) "
                      "is deprecated", stacklevel=2)
        weight, input = input, weight  # PyTorch's older order, still accepted
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{op}: mode has to be one of sum, mean or max, got {mode!r}")
    if weight.ndim != 2:
        raise ValueError(f"{op}: weight has to be a 2-D tensor, got shape "
                         f"{format_shape(weight.shape)}")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError(f"{op}: max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError(f"{op}: max mode does not support sparse weights")
    indices = backend.array_of(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: input must hold integer indices, got {indices.dtype}")
    if per_sample_weights is not None:
        if tuple(per_sample_weights.shape) != indices.shape:
            raise ShapeError(f"{op}: per_sample_weights of shape "
                             f"{format_shape(per_sample_weights.shape)} must have the input's "
                             f"shape {format_shape(indices.shape)}")
        if mode != "sum":
            raise NotImplementedError(f"{op}: per_sample_weights is only supported for "
                                      f"mode='sum', got mode={mode!r}")
    host = np.asarray(backend.to_host(indices)).astype(np.int64)
    flat, bag_of, bags = _bags(op, host, offsets, include_last_offset and host.ndim == 1)
    num = weight.shape[0]
    if flat.size and (flat.min() < 0 or flat.max() >= num):
        raise IndexError(f"{op}: indices must be in [0, {num}) for weight of shape "
                         f"{format_shape(weight.shape)}, got {flat.min()}..{flat.max()}")
    keep = np.ones(flat.shape, bool)
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"{op}: padding_idx {padding_idx} must be within [-{num}, {num})")
        keep = flat != padding_idx % num
    if max_norm is not None:
        with grad_mode.no_grad():
            _renorm_rows(weight, backend.on_device_of(flat, backend.array_of(weight)),
                         float(max_norm), float(norm_type))
    used = np.flatnonzero(keep)
    table = backend.array_of(weight)
    rows = embedding(Tensor._wrap(backend.on_device_of(flat[used], table)), weight,
                     scale_grad_by_freq=scale_grad_by_freq)
    if per_sample_weights is not None:
        scale = reshape(per_sample_weights, (-1,))[backend.on_device_of(used, table)]
        rows = rows * reshape(scale, (-1, 1))
    width = weight.shape[1]
    zeros = Tensor._wrap(backend.zeros((bags, width), table.dtype, table))
    target = backend.on_device_of(bag_of[used], table)
    if mode == "max":
        spread = backend.on_device_of(np.repeat(bag_of[used], width).reshape(-1, width), table)
        return scatter_reduce(zeros, 0, spread, rows, "amax", include_self=False)
    total = index_add(zeros, 0, target, rows)
    if mode == "sum":
        return total
    counts = np.bincount(bag_of[used], minlength=bags).astype(table.dtype)
    return total / backend.on_device_of(np.maximum(counts, 1).reshape(-1, 1), table)


__all__ = ["embedding_bag"]
