"""The whole-layer LSTM primitive (``nn.functional.recurrent_layer``) beyond its op-table row:
its in-place NumPy backward against its composite definition on the calls a plain backward makes
(no gradient for the gates or cell states), and nn.LSTM over it through packing against finite
differences, first and second order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.nn.functional.recurrent_layer import (_lstm_layer, _lstm_layer_backward,
                                                    _lstm_layer_backward_in_place)
from backprop.nn.utils import rnn as rnn_utils

LAYOUTS = [((3, 3, 3), False), ((3, 3, 3), True), ((3, 2, 2, 1), False), ((3, 2, 2, 1), True)]


@pytest.mark.parametrize("given", ["output", "output+h_n+c_n", "h_n"])
@pytest.mark.parametrize("batch_sizes, reverse", LAYOUTS)
def test_in_place_backward_matches_the_composite(batch_sizes: tuple, reverse: bool,
                                                 given: str) -> None:
    rng = np.random.default_rng(0)
    hidden, rows, batch = 3, sum(batch_sizes), batch_sizes[0]
    output, h_n, c_n, gates, c_all = _lstm_layer(
        rng.standard_normal((rows, 4 * hidden)), rng.standard_normal((batch, hidden)),
        rng.standard_normal((batch, hidden)), rng.standard_normal((4 * hidden, hidden)),
        batch_sizes=batch_sizes, reverse=reverse)
    h0, c0, w_hh = (rng.standard_normal(s) for s in ((batch, hidden), (batch, hidden),
                                                     (4 * hidden, hidden)))
    grads = {"output": rng.standard_normal(output.shape), "h_n": rng.standard_normal(h_n.shape),
             "c_n": rng.standard_normal(c_n.shape)}
    upstream = [grads[k] if k in given.split("+") else None for k in ("output", "h_n", "c_n")]
    args = (gates, c_all, output, h0, c0, w_hh, *upstream, None, None)
    params = {"batch_sizes": batch_sizes, "reverse": reverse}
    expected = _lstm_layer_backward.forward(*args, **params)
    got = _lstm_layer_backward_in_place(*args, **params)
    assert _lstm_layer_backward(*args, **params)[3] is not None
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


def _packed_lstm(lengths: list[int], bidirectional: bool) -> tuple[Any, Any]:
    bp.manual_seed(0)
    layer = bp.nn.LSTM(2, 3, num_layers=2, bidirectional=bidirectional).double()
    directions = 2 if bidirectional else 1

    def outputs(x: bp.Tensor, h0: bp.Tensor, c0: bp.Tensor) -> tuple:
        packed = rnn_utils.pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, (h_n, c_n) = layer(packed, (h0, c0))
        return rnn_utils.pad_packed_sequence(out)[0], h_n, c_n

    rng = np.random.default_rng(1)
    inputs = [bp.tensor(rng.standard_normal(shape), requires_grad=True)
              for shape in ((max(lengths), len(lengths), 2), (2 * directions, len(lengths), 3),
                            (2 * directions, len(lengths), 3))]
    return outputs, inputs


@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_lstm_matches_finite_differences(bidirectional: bool) -> None:
    outputs, inputs = _packed_lstm([2, 3, 1], bidirectional)
    assert bp.autograd.gradcheck(outputs, inputs)


def test_packed_lstm_second_derivatives_match_finite_differences() -> None:
    outputs, inputs = _packed_lstm([2, 1], bidirectional=True)
    assert bp.autograd.gradgradcheck(outputs, inputs)


def test_parameter_gradients_match_the_unrolled_cells() -> None:
    """weight_hh's gradient made in one product over all steps equals the sum of the per-step
    gradients that unrolled ``bp.lstm_cell`` steps give."""
    bp.manual_seed(0)
    layer = bp.nn.LSTM(2, 3).double()
    x = bp.tensor(np.random.default_rng(3).standard_normal((4, 2, 2)))
    (layer(x)[0] ** 2).sum().backward()
    weights = [p.detach().requires_grad_() for p in layer._flat_weights]
    h = c = bp.zeros(2, 3, dtype=bp.float64)
    total = 0
    for t in range(4):
        h, c = bp.lstm_cell(x[t], (h, c), *weights)
        total = total + (h ** 2).sum()
    total.backward()
    for p, w in zip(layer._flat_weights, weights):
        np.testing.assert_allclose(p.grad.numpy(), w.grad.numpy(), rtol=1e-12, atol=1e-14)
