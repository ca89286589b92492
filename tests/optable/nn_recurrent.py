"""Op-table rows for the recurrent cells: torch.lstm_cell, gru_cell, rnn_tanh_cell and
rnn_relu_cell (one step of nn.LSTM, nn.GRU and nn.RNN), and the whole-layer LSTM primitive
nn.LSTM runs each direction of each layer as."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .spec import ErrorInput, OpSpec, Sample, uniform


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _products(x, h, w_ih, w_hh, b_ih, b_hh):
    gi = x @ w_ih.T + (0 if b_ih is None else b_ih)
    return gi, h @ w_hh.T + (0 if b_hh is None else b_hh)


def _np_lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    gi, gh = _products(x, h, w_ih, w_hh, b_ih, b_hh)
    i, f, g, o = np.split(gi + gh, 4, axis=-1)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    return [_sigmoid(o) * np.tanh(c), c]


def _np_gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    gi, gh = _products(x, h, w_ih, w_hh, b_ih, b_hh)
    (gi_r, gi_z, gi_n), (gh_r, gh_z, gh_n) = np.split(gi, 3, axis=-1), np.split(gh, 3, axis=-1)
    r, z = _sigmoid(gi_r + gh_r), _sigmoid(gi_z + gh_z)
    n = np.tanh(gi_n + r * gh_n)
    return (1 - z) * n + z * h


def _np_rnn_cell(activation):
    def cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
        gi, gh = _products(x, h, w_ih, w_hh, b_ih, b_hh)
        return activation(gi + gh)

    return cell


def _cell_samples(gates, state_count):
    def samples(rng):
        def args(batch, n_in, hidden, bias):
            shape = (batch, hidden)
            states = tuple(uniform(rng, shape) for _ in range(state_count))
            weights = (uniform(rng, (gates * hidden, n_in)), uniform(rng, (gates * hidden, hidden)))
            biases = ((uniform(rng, (gates * hidden,)), uniform(rng, (gates * hidden,)))
                      if bias else ())
            return (uniform(rng, (batch, n_in)),) + states + weights + biases

        return [Sample(args(2, 3, 4, True), name="bias"),
                Sample(args(3, 2, 2, False), name="no-bias"),
                Sample(args(1, 1, 3, True), name="batch-of-one")]

    return samples


def _lstm(x, h, c, *weights):
    return bp.lstm_cell(x, (h, c), *weights)


def _torch_lstm(torch, x, h, c, *weights):
    return torch.lstm_cell(x, (h, c), *weights)


def _torch_cell(name):
    return lambda torch, *args: getattr(torch, name)(*args)


def _cell_errors(op, gates):
    def errors():
        weights = (bp.ones(gates * 4, 3), bp.ones(gates * 4, 4))
        state = (bp.zeros(2, 4), bp.zeros(2, 4)) if op is bp.lstm_cell else bp.zeros(2, 4)
        name = op.__name__
        return [
            ErrorInput(lambda: op(bp.ones(2, 5), state, *weights), bp.ShapeError,
                       rf"{name}: input has 5 features, expected 3"),
            ErrorInput(lambda: op(bp.ones(2, 3), state, bp.ones(5, 3), bp.ones(5, 4)),
                       bp.ShapeError, rf"{name}: w_ih \(5, 3\) and w_hh \(5, 4\) must have "
                       rf"{gates} \* hidden_size = {gates * 4} rows"),
            ErrorInput(lambda: op(bp.ones(3, 3), state, *weights), bp.ShapeError,
                       rf"{name}: hidden state of shape \(2, 4\) does not match input \(3, 3\)"),
        ]

    return errors


def _np_lstm_layer(gates_x, h0, c0, w_hh, *, batch_sizes, reverse):
    """The layer's outputs from the cell's reference, step by step over packed rows."""
    offsets = np.concatenate(([0], np.cumsum(batch_sizes)))
    h, c = h0.copy(), c0.copy()
    output, c_all = np.empty((offsets[-1], h0.shape[1])), np.empty((offsets[-1], h0.shape[1]))
    gates = np.empty_like(gates_x)
    for t in reversed(range(len(batch_sizes))) if reverse else range(len(batch_sizes)):
        rows, size = slice(offsets[t], offsets[t + 1]), batch_sizes[t]
        pre = gates_x[rows] + h[:size] @ w_hh.T
        gates[rows] = np.concatenate([_sigmoid(pre[:, :2 * h.shape[1]]),
                                      np.tanh(pre[:, 2 * h.shape[1]:3 * h.shape[1]]),
                                      _sigmoid(pre[:, 3 * h.shape[1]:])], axis=1)
        eye = np.eye(pre.shape[1])  # gates_x stands for the input's product: identity weights
        output[rows], c_all[rows] = _np_lstm_cell(gates_x[rows], h[:size], c[:size], eye, w_hh)
        h[:size], c[:size] = output[rows], c_all[rows]
    return [output, h, c, gates, c_all]


def _lstm_layer_samples(rng):
    def args(batch_sizes, hidden=2):
        rows, batch = sum(batch_sizes), batch_sizes[0]
        return (uniform(rng, (rows, 4 * hidden)), uniform(rng, (batch, hidden)),
                uniform(rng, (batch, hidden)), uniform(rng, (4 * hidden, hidden)))

    return [Sample(args(sizes), kwargs={"batch_sizes": sizes, "reverse": reverse},
                   name=f"{name}-{'reverse' if reverse else 'forward'}")
            for sizes, name in (((2, 2, 2), "padded"), ((3, 2, 1), "packed"))
            for reverse in (False, True)]


def _lstm_layer(*args, **kwargs):
    from backprop.nn.functional.recurrent_layer import _lstm_layer

    return _lstm_layer(*args, **kwargs)


ROWS = [
    OpSpec("lstm_layer", _lstm_layer, _np_lstm_layer, _lstm_layer_samples, torch=None,
           torch_reason="a private primitive (one direction of one layer of nn.LSTM over gate "
           "products already made); the module table's LSTM rows compare it with PyTorch",
           aliases=("lstm_layer_backward",)),
    OpSpec("lstm_cell", _lstm, _np_lstm_cell, _cell_samples(4, 2), torch=_torch_lstm,
           error_inputs=_cell_errors(bp.lstm_cell, 4),
           aliases=("fused_lstm_cell", "lstm_cell_backward")),
    OpSpec("gru_cell", bp.gru_cell, _np_gru_cell, _cell_samples(3, 1),
           torch=_torch_cell("gru_cell"), error_inputs=_cell_errors(bp.gru_cell, 3),
           aliases=("fused_gru_cell", "gru_cell_backward")),
    OpSpec("rnn_tanh_cell", bp.rnn_tanh_cell, _np_rnn_cell(np.tanh), _cell_samples(1, 1),
           torch=_torch_cell("rnn_tanh_cell"), error_inputs=_cell_errors(bp.rnn_tanh_cell, 1)),
    OpSpec("rnn_relu_cell", bp.rnn_relu_cell, _np_rnn_cell(lambda a: np.maximum(a, 0)),
           _cell_samples(1, 1), torch=_torch_cell("rnn_relu_cell"), kinks=True,
           error_inputs=_cell_errors(bp.rnn_relu_cell, 1)),
]
