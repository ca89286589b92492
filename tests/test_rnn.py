"""Recurrent layers and ``nn.utils.rnn`` beyond what the module table's rows
(tests/moduletable/recurrent.py) show: full-Jacobian gradient checks through packing and through
unrolled cells, the packing utilities against PyTorch and their round trips, dropout between
layers, parameter names and initialisation, the graph a step records, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.nn.utils import rnn as rnn_utils

RTOL, ATOL = 1e-8, 1e-12


def _flat(out: Any) -> list[Any]:
    """The tensors of a recurrent layer's result, nested tuples and PackedSequences flattened."""
    if isinstance(out, rnn_utils.PackedSequence):
        return [out.data]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


# -- gradients through time against finite differences -------------------------------------------

@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_packed_gradients_match_finite_differences(name: str, enforce_sorted: bool) -> None:
    lengths = [4, 2, 1] if enforce_sorted else [2, 4, 1]
    bp.manual_seed(0)
    kwargs = {"proj_size": 2} if name == "LSTM" else {}
    layer = getattr(bp.nn, name)(2, 3, bidirectional=True, **kwargs).double()
    x = bp.tensor(np.random.default_rng(2).standard_normal((4, 3, 2)), requires_grad=True)

    def outputs(x: bp.Tensor) -> tuple:
        packed = rnn_utils.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
        out, hidden = layer(packed)
        padded, _ = rnn_utils.pad_packed_sequence(out)
        return (padded, *_flat(hidden))

    assert bp.autograd.gradcheck(outputs, (x,))


@pytest.mark.parametrize("name", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cells_unrolled_match_finite_differences(name: str) -> None:
    bp.manual_seed(0)
    cell = getattr(bp.nn, name)(2, 3).double()
    x = bp.tensor(np.random.default_rng(3).standard_normal((3, 2, 2)), requires_grad=True)

    def unrolled(x: bp.Tensor) -> bp.Tensor:
        state = None
        for step in x.unbind(0):
            state = cell(step, state)
        return state[0] if isinstance(state, tuple) else state

    assert bp.autograd.gradcheck(unrolled, (x,))


def test_packing_utilities_match_torch(torch: Any) -> None:
    rng = np.random.default_rng(6)
    seqs = [rng.standard_normal((n, 2)) for n in (2, 5, 3)]
    T = torch.nn.utils.rnn
    for side in ("right", "left"):
        for batch_first in (False, True):
            theirs = T.pad_sequence([torch.tensor(s) for s in seqs], batch_first=batch_first,
                                    padding_value=-1.0, padding_side=side)
            ours = rnn_utils.pad_sequence([bp.tensor(s) for s in seqs], batch_first=batch_first,
                                          padding_value=-1.0, padding_side=side)
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    theirs = T.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    ours = rnn_utils.pack_sequence([bp.tensor(s) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        assert getattr(ours, field).tolist() == getattr(theirs, field).tolist(), field
    assert ours.batch_sizes.dtype == bp.int64 and ours.sorted_indices.dtype == bp.int64
    unpacked = rnn_utils.unpack_sequence(ours)
    assert [u.shape for u in unpacked] == [s.shape for s in seqs]
    for u, s in zip(unpacked, seqs):
        np.testing.assert_array_equal(u.numpy(), s)


def test_packed_sequence_round_trips_and_gradients() -> None:
    rng = np.random.default_rng(7)
    x = bp.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)  # batch_first
    lengths = bp.tensor([2, 4])
    packed = rnn_utils.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    assert packed.batch_sizes.tolist() == [2, 2, 1, 1]
    assert packed.sorted_indices.tolist() == [1, 0]
    assert packed.unsorted_indices.tolist() == [1, 0]
    padded, got = rnn_utils.pad_packed_sequence(packed, batch_first=True, padding_value=9.0)
    assert got.tolist() == [2, 4]
    np.testing.assert_array_equal(padded.detach().numpy()[1], x.detach().numpy()[1])
    np.testing.assert_array_equal(padded.detach().numpy()[0, :2], x.detach().numpy()[0, :2])
    assert (padded.detach().numpy()[0, 2:] == 9.0).all()
    padded.sum().backward()
    # the padding positions of the input were dropped by packing: they get no gradient
    expected = np.ones((2, 4, 3))
    expected[0, 2:] = 0.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    sequences = rnn_utils.unpad_sequence(padded, got, batch_first=True)
    assert [s.shape for s in sequences] == [(2, 3), (4, 3)]


def test_packed_sequence_is_a_named_tuple_with_to() -> None:
    packed = rnn_utils.pack_sequence([bp.tensor([1.0, 2.0]), bp.tensor([3.0])])
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert sorted_indices is None and unsorted_indices is None
    assert packed._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    doubled = packed.to(bp.float64)
    assert doubled.data.dtype == bp.float64 and doubled.batch_sizes is batch_sizes
    assert packed.to(bp.float32) is packed
    assert packed.double().data.dtype == bp.float64
    assert repr(packed).startswith("PackedSequence(data=tensor(")


def test_rnn_utils_imports_as_in_torch() -> None:
    import backprop.nn.utils.rnn as module
    from backprop.nn.utils.rnn import PackedSequence, pack_padded_sequence  # noqa: F401

    assert bp.nn.utils.rnn is module


# -- behaviour -------------------------------------------------------------------------------------

def test_dropout_applies_between_layers_only_in_training() -> None:
    bp.manual_seed(0)
    lstm = bp.nn.LSTM(3, 5, num_layers=3, dropout=0.5)
    x = bp.randn(4, 2, 3)
    lstm.eval()
    first, second = lstm(x)[0], lstm(x)[0]
    np.testing.assert_array_equal(first.detach().numpy(), second.detach().numpy())
    lstm.train()
    a, b = lstm(x)[0], lstm(x)[0]
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    # never after the last layer: a one-layer LSTM with dropout is deterministic in training
    with pytest.warns(UserWarning, match="LSTM: dropout=0.5 has no effect with num_layers=1"):
        single = bp.nn.LSTM(3, 5, dropout=0.5)
    np.testing.assert_array_equal(single(x)[0].detach().numpy(), single(x)[0].detach().numpy())


def test_parameters_names_shapes_and_initialisation() -> None:
    bp.manual_seed(0)
    lstm = bp.nn.LSTM(3, 16, num_layers=2, bidirectional=True, proj_size=4)
    shapes = {n: p.shape for n, p in lstm.named_parameters()}
    assert list(shapes)[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                "weight_hr_l0"]
    assert shapes["weight_ih_l1_reverse"] == (64, 8)
    assert shapes["weight_hh_l1"] == (64, 4) and shapes["weight_hr_l1_reverse"] == (4, 16)
    values = np.concatenate([p.detach().numpy().ravel() for p in lstm.parameters()])
    assert np.abs(values).max() <= 0.25 and np.abs(values).max() > 0.24  # U(-1/4, 1/4)
    assert abs(values.mean()) < 0.01
    assert lstm.flatten_parameters() is None
    assert all(p.dtype == bp.float32 for p in lstm.parameters())


def test_rnn_takes_nonlinearity_by_position_as_torch_does(torch: Any) -> None:
    assert repr(bp.nn.RNN(3, 4, 2, "relu")) == repr(torch.nn.RNN(3, 4, 2, "relu"))
    assert bp.nn.RNN(3, 4, 2, "relu").nonlinearity == "relu"


@pytest.mark.parametrize("call,error,match", [
    (lambda: bp.nn.LSTM(3, 4)(bp.ones(2, 2, 5)), bp.ShapeError,
     r"LSTM: input has 5 features, expected input_size=3"),
    (lambda: bp.nn.GRU(3, 4)(bp.ones(2, 2, 2, 3)), bp.ShapeError,
     r"GRU: expected input to be 2-D \(sequence, features\) or 3-D \(batched\), got shape "
     r"\(2, 2, 2, 3\)"),
    (lambda: bp.nn.RNN(3, 4, num_layers=2)(bp.ones(5, 2, 3), bp.zeros(1, 2, 4)), bp.ShapeError,
     r"RNN: hx has shape \(1, 2, 4\), expected \(2, 2, 4\)"),
    (lambda: bp.nn.LSTM(3, 4)(bp.ones(5, 2, 3), (bp.zeros(1, 2, 4), bp.zeros(1, 3, 4))),
     bp.ShapeError, r"LSTM: hx\[1\] \(c_0\) has shape \(1, 3, 4\), expected \(1, 2, 4\)"),
    (lambda: bp.nn.LSTM(3, 4)(bp.ones(5, 2, 3), bp.zeros(1, 2, 4)), TypeError,
     r"LSTM: hx must be a tuple \(h_0, c_0\)"),
    (lambda: bp.nn.GRU(3, 4)(bp.ones(5, 3), bp.zeros(1, 2, 4)), bp.ShapeError,
     r"GRU: for unbatched 2-D input, hx must be 2-D, got shape \(1, 2, 4\)"),
    (lambda: bp.nn.LSTMCell(3, 4)(bp.ones(2, 5)), bp.ShapeError,
     r"LSTMCell: input has 5 features, expected input_size=3"),
    (lambda: bp.nn.GRUCell(3, 4)(bp.ones(2, 3), bp.zeros(3, 4)), bp.ShapeError,
     r"GRUCell: hidden state has shape \(3, 4\), expected \(2, 4\)"),
    (lambda: bp.nn.LSTM(3, 4, proj_size=4), ValueError,
     r"LSTM: proj_size \(4\) must be smaller than hidden_size \(4\)"),
    (lambda: bp.nn.GRU(3, 4, proj_size=2), ValueError, r"GRU: proj_size is supported only by LSTM"),
    (lambda: bp.nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError,
     r"RNN: unknown nonlinearity 'sigmoid'"),
    (lambda: bp.nn.LSTM(3, 0), ValueError, r"LSTM: hidden_size must be a positive integer, got 0"),
    (lambda: bp.nn.GRU(3, 4, num_layers=0), ValueError, r"GRU: num_layers must be a positive"),
    (lambda: bp.nn.LSTM(3, 4, num_layers=2, dropout=1.5), ValueError,
     r"LSTM: dropout must be a number in \[0, 1\]"),
    (lambda: rnn_utils.pack_padded_sequence(bp.ones(3, 2), [1, 3]), ValueError,
     r"pack_padded_sequence: lengths must be sorted in decreasing order when enforce_sorted is "
     r"True, got \[1, 3\]"),
    (lambda: rnn_utils.pack_padded_sequence(bp.ones(3, 2), [3, 0]), ValueError,
     r"pack_padded_sequence: every length must be greater than 0"),
    (lambda: rnn_utils.pack_padded_sequence(bp.ones(3, 2), [3]), bp.ShapeError,
     r"pack_padded_sequence: 1 lengths for a batch of 2 sequences"),
    (lambda: rnn_utils.pad_packed_sequence(rnn_utils.pack_sequence([bp.ones(3)]), total_length=2),
     ValueError, r"pad_packed_sequence: total_length \(2\) must be at least the length of the "
     r"longest sequence \(3\)"),
    (lambda: rnn_utils.pad_sequence([bp.ones(2)], padding_side="middle"), ValueError,
     r"pad_sequence: padding_side must be 'left' or 'right'"),
])
def test_errors_name_the_module_and_argument(call: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call()


def test_split_with_sizes_copy_gives_zeros_to_pieces_without_gradient() -> None:
    x = bp.tensor(np.arange(12.0).reshape(6, 2), requires_grad=True)
    first, _, last = bp.split_with_sizes_copy(x, [1, 2, 3])
    (first.sum() + 2 * last.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], [1, 0, 0, 2, 2, 2])
    x.detach()[0, 0] = 100.0  # the pieces are copies: writing the input leaves them alone
    assert first.tolist() == [[0.0, 1.0]]


def _node_counts(out: bp.Tensor) -> dict[str, int]:
    names: dict[str, int] = {}
    seen: dict[int, Any] = {}  # holding each node: an id is not reused while it is here
    stack = [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen[id(node)] = node
        names[node.name()] = names.get(node.name(), 0) + 1
        stack.extend(f for f, _ in node.next_functions)
    return names


def test_lstm_layer_is_one_node_and_projected_steps_a_few_fused_nodes() -> None:
    """An LSTM layer's time loop is one node whatever the length; with proj_size a step records
    one product with weight_hh, one fused cell node and the projection, not dozens of ops; the
    input's product is one node for the whole sequence."""
    lstm = bp.nn.LSTM(3, 4)
    short, long = (_node_counts(lstm(bp.ones(steps, 2, 3))[0]) for steps in (6, 12))
    assert short["LstmLayerBackward"] == 1 and short["LinearBackward"] == 1
    assert "FusedLstmCellBackward" not in short and "MatmulBackward" not in short
    assert short == long
    lstm = bp.nn.LSTM(3, 4, proj_size=2)
    short, long = (_node_counts(lstm(bp.ones(steps, 2, 3))[0]) for steps in (6, 12))
    assert short["FusedLstmCellBackward"] == 6 and short["MatmulBackward"] == 6
    assert short["SplitWithSizesCopyBackward"] == 1 and short["LinearBackward"] == 1 + 6
    assert long["FusedLstmCellBackward"] == 12 and long["LinearBackward"] == 1 + 12
