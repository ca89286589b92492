"""Rows: the recurrent layers (RNN, LSTM, GRU, RNNBase) and cells, on padded, unbatched and packed
input, with given initial states. Gradients through time, packing and errors have their own tests
in tests/test_rnn.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from moduletable.spec import Case, x


def states(*shapes: tuple[int, ...]) -> Callable[[np.random.Generator], list]:
    """The input (first shape) and initial states (the rest)."""
    return lambda rng: [rng.standard_normal(shape) for shape in shapes]


def with_lstm_state(lib: Any, args: list) -> list:
    return [args[0], (args[1], args[2])]


def packed(lengths: list[int], enforce_sorted: bool, batch_first: bool = False) -> Callable:
    """The padded input packed; gradients are checked at the padded tensor."""
    def wrap(lib: Any, args: list) -> list:
        return [lib.nn.utils.rnn.pack_padded_sequence(args[0], lengths, batch_first=batch_first,
                                                      enforce_sorted=enforce_sorted), *args[1:]]

    return wrap


def unpacked(layer: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``layer`` with its packed output padded again: a PackedSequence's ``batch_sizes`` stays on
    the CPU by PyTorch's rule, which the device check would refuse as an output."""
    def build(lib: Any) -> Any:
        class Unpacked(lib.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.rnn = layer(lib)

            def forward(self, *args: Any) -> tuple:
                output, hidden = self.rnn(*args)
                padded, _ = lib.nn.utils.rnn.pad_packed_sequence(output, padding_value=0.5)
                return padded, hidden

        return Unpacked()

    return build


CASES = [
    Case("LSTM", lambda l: l.nn.LSTM(3, 4), x(5, 2, 3)),
    Case("LSTM-bidirectional-2-layers-proj", lambda l: l.nn.LSTM(
        3, 4, num_layers=2, bidirectional=True, proj_size=2), x(4, 2, 3)),
    Case("LSTM-batch-first-no-bias-given-state", lambda l: l.nn.LSTM(
        3, 4, bias=False, batch_first=True), states((2, 5, 3), (1, 2, 4), (1, 2, 4)),
        wrap=with_lstm_state),
    Case("LSTM-unbatched-given-state", lambda l: l.nn.LSTM(3, 4, num_layers=2),
         states((5, 3), (2, 4), (2, 4)), wrap=with_lstm_state),
    # dropout acts between layers in training only; in evaluation the layer is deterministic
    Case("LSTM-dropout-eval", lambda l: l.nn.LSTM(3, 4, num_layers=2, dropout=0.5), x(4, 2, 3),
         train=False),
    Case("LSTM-packed-unsorted", unpacked(lambda l: l.nn.LSTM(3, 4, num_layers=2,
                                                              bidirectional=True)),
         x(5, 3, 3), wrap=packed([3, 5, 1], enforce_sorted=False)),
    Case("LSTM-packed-proj-state", unpacked(lambda l: l.nn.LSTM(3, 4, proj_size=3,
                                                                batch_first=True)),
         states((3, 4, 3), (1, 3, 3), (1, 3, 4)),
         wrap=lambda l, a: packed([4, 2, 2], True, batch_first=True)(l, with_lstm_state(l, a))),
    Case("GRU", lambda l: l.nn.GRU(3, 4), x(5, 2, 3)),
    Case("GRU-bidirectional-2-layers-batch-first", lambda l: l.nn.GRU(
        3, 4, num_layers=2, bidirectional=True, batch_first=True), x(2, 4, 3)),
    Case("GRU-unbatched-given-state", lambda l: l.nn.GRU(3, 4, bias=False),
         states((4, 3), (1, 4))),
    Case("GRU-packed-sorted-given-state", unpacked(lambda l: l.nn.GRU(3, 4, bidirectional=True)),
         states((4, 3, 3), (2, 3, 4)), wrap=packed([4, 3, 1], enforce_sorted=True)),
    Case("RNN-tanh", lambda l: l.nn.RNN(3, 4), x(5, 2, 3)),
    Case("RNN-relu-bidirectional-2-layers-no-bias", lambda l: l.nn.RNN(
        3, 4, num_layers=2, nonlinearity="relu", bias=False, bidirectional=True), x(4, 2, 3)),
    Case("RNN-given-state-unbatched", lambda l: l.nn.RNN(3, 4, 2), states((4, 3), (2, 4))),
    Case("RNN-packed-unsorted", unpacked(lambda l: l.nn.RNN(3, 4, bidirectional=True)), x(3, 4, 3),
         wrap=packed([2, 3, 1, 3], enforce_sorted=False)),
    Case("LSTMCell", lambda l: l.nn.LSTMCell(3, 4), x(2, 3)),
    Case("LSTMCell-given-state-no-bias", lambda l: l.nn.LSTMCell(3, 4, bias=False),
         states((2, 3), (2, 4), (2, 4)), wrap=lambda l, a: [a[0], (a[1], a[2])]),
    Case("LSTMCell-unbatched", lambda l: l.nn.LSTMCell(3, 4), x(3)),
    Case("GRUCell", lambda l: l.nn.GRUCell(3, 4), states((2, 3), (2, 4))),
    Case("GRUCell-unbatched", lambda l: l.nn.GRUCell(3, 4, bias=False), x(3)),
    Case("RNNCell", lambda l: l.nn.RNNCell(3, 4), states((2, 3), (2, 4))),
    Case("RNNCell-relu-unbatched", lambda l: l.nn.RNNCell(3, 4, nonlinearity="relu"), x(3)),
]
