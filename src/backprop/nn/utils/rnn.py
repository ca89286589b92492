"""Variable-length batches for recurrent layers (``torch.nn.utils.rnn``): padding and packing.

A ``PackedSequence`` holds a batch of sequences time step by time step: ``data`` has the rows of
step 0 for every sequence, then step 1's for the sequences still running, and so on;
``batch_sizes[t]`` counts the rows of step ``t``. The sequences are ordered longest first
(``sorted_indices`` says which input each one was; ``unsorted_indices`` undoes it). Packing and
unpacking are one gather each, so gradients flow through them at the cost of one scatter.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from ... import creation
from ...errors import ShapeError
from ...ops.join import cat, stack
from ...ops.rearrange import pad
from ...ops.scatter import index_select
from ...tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes ``permutation`` (None stays None).

    >>> import backprop as bp
    >>> invert_permutation(bp.tensor([2, 0, 1])).tolist()
    [1, 2, 0]
    """
    if permutation is None:
        return None
    order = np.asarray(permutation.tolist(), dtype=np.int64)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return creation.tensor(inverse, device=permutation.device)


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices",
                                                   "unsorted_indices"])):
    """A packed batch of variable-length sequences (see the module's docstring); made by
    ``pack_padded_sequence`` and ``pack_sequence``, taken and returned by ``nn.RNN``,
    ``nn.LSTM`` and ``nn.GRU``.

    >>> import backprop as bp
    >>> packed = pack_sequence([bp.tensor([1., 2., 3.]), bp.tensor([4., 5.])])
    >>> packed.data.tolist(), packed.batch_sizes.tolist()
    ([1.0, 4.0, 2.0, 5.0, 3.0], [2, 2, 1])
    """

    __slots__ = ()

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None,
                sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            raise ValueError("PackedSequence: batch_sizes is required (make one with "
                             "pack_padded_sequence or pack_sequence)")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """``data`` moved or cast as ``Tensor.to`` does; the indices follow it to its device,
        ``batch_sizes`` stays on the CPU (as in PyTorch)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        indices = [None if i is None else i.to(data.device)
                   for i in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *indices)

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def double(self) -> PackedSequence:
        return self.to(dtype=np.float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=np.float32)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def _step_rows(batch_sizes: Sequence[int], batch: int) -> np.ndarray:
    """The rows of a (steps * batch) time-major array that packing keeps, in packed order."""
    return np.concatenate([t * batch + np.arange(b) for t, b in enumerate(batch_sizes)])


def pack_padded_sequence(input: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) of sequences of the
    given ``lengths``. With ``enforce_sorted`` the lengths must be in decreasing order;
    otherwise the batch is sorted here and ``sorted_indices`` records how.

    >>> import backprop as bp
    >>> x = bp.tensor([[1., 2., 0.], [3., 4., 5.]])
    >>> pack_padded_sequence(x, [2, 3], batch_first=True, enforce_sorted=False).data.tolist()
    [3.0, 1.0, 4.0, 2.0, 5.0]
    """
    counts = np.asarray(lengths.tolist() if isinstance(lengths, Tensor) else lengths,
                        dtype=np.int64)
    if counts.ndim != 1:
        raise ShapeError(f"pack_padded_sequence: lengths must be 1-D, got shape {counts.shape}")
    if batch_first:
        input = input.transpose(0, 1)
    if counts.size != input.shape[1]:
        raise ShapeError(f"pack_padded_sequence: {counts.size} lengths for a batch of "
                         f"{input.shape[1]} sequences (input of shape {tuple(input.shape)}, "
                         f"batch_first={batch_first})")
    if counts.size and counts.min() <= 0:
        raise ValueError("pack_padded_sequence: every length must be greater than 0, got "
                         f"{counts.tolist()}")
    if counts.size and counts.max() > input.shape[0]:
        raise ValueError(f"pack_padded_sequence: a length of {counts.max()} exceeds the "
                         f"{input.shape[0]} time steps of the input")
    if enforce_sorted:
        if np.any(np.diff(counts) > 0):
            raise ValueError("pack_padded_sequence: lengths must be sorted in decreasing order "
                             f"when enforce_sorted is True, got {counts.tolist()}; pass "
                             "enforce_sorted=False to have them sorted")
        sorted_indices = None
    else:
        order = np.argsort(-counts, kind="stable")
        counts = counts[order]
        sorted_indices = creation.tensor(order, device=input.device)
        input = index_select(input, 1, sorted_indices)
    batch_sizes = (counts[None, :] > np.arange(counts.max() if counts.size else 0)[:, None]).sum(1)
    steps, batch = input.shape[:2]
    rows = input.reshape(steps * batch, *input.shape[2:])
    keep = creation.tensor(_step_rows(batch_sizes.tolist(), batch), device=input.device)
    return PackedSequence(index_select(rows, 0, keep), creation.tensor(batch_sizes),
                          sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Undo ``pack_padded_sequence``: the padded batch ``(T, B, *)`` (``(B, T, *)`` with
    ``batch_first``) in the original order, and the lengths. ``total_length`` pads to that many
    steps (at least the longest sequence's).

    >>> import backprop as bp
    >>> packed = pack_sequence([bp.tensor([1., 2.]), bp.tensor([3.])])
    >>> padded, lengths = pad_packed_sequence(packed, batch_first=True, padding_value=-1.0)
    >>> padded.tolist(), lengths.tolist()
    ([[1.0, 2.0], [3.0, -1.0]], [2, 1])
    """
    data, batch_sizes, _, unsorted_indices = sequence
    sizes = [int(b) for b in batch_sizes.tolist()]
    steps, batch = len(sizes), sizes[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: total_length ({total_length}) must be at least "
                             f"the length of the longest sequence ({steps})")
        steps = total_length
    # Each padded position reads its packed row, or the padding row appended after them.
    source = np.full(steps * batch, data.shape[0], dtype=np.int64)
    source[_step_rows(sizes, batch)] = np.arange(data.shape[0])
    filler = creation.full((1, *data.shape[1:]), padding_value, dtype=data.dtype,
                           device=data.device)
    padded = index_select(cat([data, filler]), 0, creation.tensor(source, device=data.device))
    padded = padded.reshape(steps, batch, *data.shape[1:])
    lengths = np.sum(np.asarray(sizes)[None, :] > np.arange(batch)[:, None], axis=1)
    if unsorted_indices is not None:
        padded = index_select(padded, 1, unsorted_indices)
        lengths = lengths[np.asarray(unsorted_indices.tolist(), dtype=np.int64)]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, creation.tensor(lengths.astype(np.int64))


def pad_sequence(sequences: Tensor | Sequence[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Stack sequences ``(L_i, *)`` into ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``),
    padding each to the longest with ``padding_value`` on ``padding_side``.

    >>> import backprop as bp
    >>> pad_sequence([bp.tensor([1., 2.]), bp.tensor([3.])], batch_first=True).tolist()
    [[1.0, 2.0], [3.0, 0.0]]
    """
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    if not sequences:
        raise ValueError("pad_sequence: expected a non-empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = longest - s.shape[0]
        widths = (0, 0) * (s.ndim - 1) + ((0, extra) if padding_side == "right" else (extra, 0))
        padded.append(pad(s, widths, value=padding_value) if extra else s)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor,
                   batch_first: bool = False) -> list[Tensor]:
    """The sequences of a padded batch, each cut to its length (``pad_sequence`` undone).

    >>> import backprop as bp
    >>> [s.tolist() for s in unpad_sequence(bp.tensor([[1., 3.], [2., 0.]]), bp.tensor([2, 1]))]
    [[1.0, 2.0], [3.0]]
    """
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:int(n)] for seq, n in zip(padded_sequences.unbind(0), lengths.tolist())]


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences ``(L_i, *)`` (longest first unless ``enforce_sorted=False``).

    >>> import backprop as bp
    >>> pack_sequence([bp.tensor([1.]), bp.tensor([2., 3.])], enforce_sorted=False).data.tolist()
    [2.0, 1.0, 3.0]
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences a ``PackedSequence`` holds (``pack_sequence`` undone).

    >>> import backprop as bp
    >>> [s.tolist() for s in unpack_sequence(pack_sequence([bp.tensor([1., 2.]), bp.tensor([3.])]))]
    [[1.0, 2.0], [3.0]]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
