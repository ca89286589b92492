"""Recurrent cells: one step of an LSTM, a GRU or an Elman RNN (PyTorch's ``torch.lstm_cell``,
``torch.gru_cell``, ``torch.rnn_tanh_cell``, ``torch.rnn_relu_cell``).

A step is two products and one fused primitive. The input's product ``gi = x @ w_ih.T + b_ih``
covers every gate at once (``nn.LSTM`` makes it for the whole sequence in one product), the hidden
state's ``gh = h @ w_hh.T + b_hh`` is made per step, and the gate nonlinearities and the state
update are one primitive (``fused_lstm_cell``, ``fused_gru_cell``) whose rule is one fused
backward. The GRU's rule recomputes its gates from the saved ``gi`` and ``gh`` rather than
saving them (a few elementwise passes instead of three more arrays alive per step); the LSTM's
saves its activated gates, whose recomputation would cost as many exponentials as the forward.
Each backward is a composite primitive (``lstm_cell_backward``,
``gru_cell_backward``): written with our ops, so grad-of-grad is exact and CuPy runs it, with an
in-place NumPy kernel.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import ShapeError, format_shape
from ...ops.elementwise import relu, sigmoid, tanh
from ...ops.join import _cat, split
from ...ops.primitive import primitive
from ...tensor import Tensor
from .layers import linear

__all__ = ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"]


def _sigmoid_(x: np.ndarray) -> np.ndarray:
    """Sigmoid in place, as ``bp.sigmoid`` computes it: 1 / (1 + e^-x)."""
    np.negative(x, out=x)
    with np.errstate(over="ignore"):
        np.exp(x, out=x)
    x += 1.0
    return np.divide(1.0, x, out=x)


# -- LSTM ---------------------------------------------------------------------------------------
# gates = gi + gh = [i | f | g | o] (PyTorch's order), c' = sigmoid(f) c + sigmoid(i) tanh(g),
# h' = sigmoid(o) tanh(c').

def _lstm_activations(gi: np.ndarray, gh: np.ndarray) -> np.ndarray:
    return _lstm_activations_(gi + gh)


def _lstm_activations_(gates: np.ndarray) -> np.ndarray:
    """The gate nonlinearities applied in place to the pre-activations ``[i | f | g | o]``."""
    n = gates.shape[-1] // 4
    _sigmoid_(gates[..., :2 * n])
    np.tanh(gates[..., 2 * n:3 * n], out=gates[..., 2 * n:3 * n])
    _sigmoid_(gates[..., 3 * n:])
    return gates


@primitive("lstm_cell_backward", outputs=("grad_gates", "grad_c"), composite=True)
def _lstm_cell_backward(g_h: Any, g_c: Any, g_gates: Any, gates: Any, c: Any,
                        c_next: Any) -> tuple:
    """The gradients of the gate pre-activations and of the previous cell state, given those of
    ``h'``, ``c'`` and of the activated gates (any may be None; the gates' comes only in a
    second derivative, which differentiates this function through its ``gates`` input)."""
    n = c.shape[-1]
    i, f, g, o = split(gates, n, -1)
    tanh_c = tanh(c_next)
    zero = c * 0.0
    grad_c, grad_o = (zero, zero) if g_c is None else (g_c, zero)
    if g_h is not None:
        grad_c = grad_c + g_h * o * (1 - tanh_c * tanh_c)
        grad_o = g_h * tanh_c
    grad_acts = [grad_c * g, grad_c * c, grad_c * i, grad_o]  # of the activated i, f, g, o
    if g_gates is not None:
        grad_acts = [a + extra for a, extra in zip(grad_acts, split(g_gates, n, -1))]
    grad_i, grad_f, grad_g, grad_o = grad_acts
    grad_gates = _cat(c.ndim - 1, grad_i * i * (1 - i), grad_f * f * (1 - f), grad_g * (1 - g * g),
                      grad_o * o * (1 - o))
    return grad_gates, grad_c * f


@_lstm_cell_backward.kernel(np.ndarray)
def _lstm_cell_backward_in_place(g_h: Any, g_c: Any, g_gates: Any, gates: Any, c: Any,
                                 c_next: Any) -> tuple | None:
    if g_gates is not None:
        return None  # only in second derivatives, which run the composite
    grad = np.empty_like(gates)
    return grad, _lstm_cell_grads_into(grad, g_h, g_c, gates, c, c_next)


def _lstm_cell_grads_into(grad: np.ndarray, g_h: Any, g_c: Any, gates: np.ndarray,
                          c: np.ndarray, c_next: np.ndarray) -> np.ndarray:
    """``lstm_cell_backward`` in place: writes the gates' gradient into ``grad`` (a whole
    layer's backward hands it its rows of one buffer) and returns the previous cell state's."""
    n = c.shape[-1]
    i, g = gates[..., :n], gates[..., 2 * n:3 * n]
    tanh_c = np.tanh(c_next)
    # d act / d pre-activation over all four gates at once: a (1 - a) for the sigmoid gates,
    # then 1 - g^2 written over the tanh gate's slice.
    np.subtract(1.0, gates, out=grad)
    grad *= gates
    np.multiply(g, g, out=grad[..., 2 * n:3 * n])
    np.subtract(1.0, grad[..., 2 * n:3 * n], out=grad[..., 2 * n:3 * n])
    if g_h is None:
        grad_c = g_c.copy()
        grad[..., 3 * n:] = 0.0
    else:
        through_o = g_h * tanh_c
        grad[..., 3 * n:] *= through_o
        tanh_c *= tanh_c
        np.subtract(1.0, tanh_c, out=tanh_c)
        tanh_c *= gates[..., 3 * n:]
        tanh_c *= g_h
        grad_c = tanh_c if g_c is None else np.add(tanh_c, g_c, out=tanh_c)
    grad[..., :n] *= g
    grad[..., n:2 * n] *= c
    grad[..., 2 * n:3 * n] *= i
    grad.reshape(grad.shape[:-1] + (4, n))[..., :3, :] *= grad_c[..., None, :]
    return np.multiply(grad_c, gates[..., n:2 * n])


def _lstm_rule(g: tuple, out: tuple, gi: Any, gh: Any, c: Any, needs: tuple[bool, ...]) -> list:
    grad_gates, grad_c = _lstm_cell_backward(g[0], g[1], g[2], out[2], c, out[1])
    return [grad_gates if needs[0] else None, grad_gates if needs[1] else None,
            grad_c if needs[2] else None]


# The activated gates are a third output, saved for the rule (recomputing them would cost the
# backward as many exponentials as the forward); lstm_cell returns only h' and c'.
@primitive("fused_lstm_cell", outputs=("h", "c_next", "gates"), save=("c", "c_next", "gates"),
           grads=_lstm_rule)
def _fused_lstm_cell(gi: Any, gh: Any, c: Any) -> tuple:
    act = _lstm_activations(gi, gh)
    n = c.shape[-1]
    c_next = act[..., n:2 * n] * c
    c_next += act[..., :n] * act[..., 2 * n:3 * n]
    h = np.tanh(c_next)
    h *= act[..., 3 * n:]
    return h, c_next, act


# -- GRU ----------------------------------------------------------------------------------------
# r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z), n = tanh(gi_n + r gh_n) (gh_n holds b_hn,
# which is why the products stay apart), h' = (1 - z) n + z h.

def _gru_gates(gi: np.ndarray, gh: np.ndarray) -> tuple:
    k = gi.shape[-1] // 3
    rz = _sigmoid_(gi[..., :2 * k] + gh[..., :2 * k])
    r, z = rz[..., :k], rz[..., k:]
    n = r * gh[..., 2 * k:]
    n += gi[..., 2 * k:]
    return r, z, np.tanh(n, out=n)


@primitive("gru_cell_backward", outputs=("grad_gi", "grad_gh", "grad_h"), composite=True)
def _gru_cell_backward(g: Any, gi: Any, gh: Any, h: Any) -> tuple:
    """The gradients of the input's and the hidden state's gate products and of ``h``."""
    k = h.shape[-1]
    gi_r, gi_z, gi_n = split(gi, k, -1)
    gh_r, gh_z, gh_n = split(gh, k, -1)
    r, z = sigmoid(gi_r + gh_r), sigmoid(gi_z + gh_z)
    n = tanh(gi_n + r * gh_n)
    grad_n = g * (1 - z) * (1 - n * n)
    grad_z = g * (h - n) * z * (1 - z)
    grad_r = grad_n * gh_n * r * (1 - r)
    last = g.ndim - 1
    return _cat(last, grad_r, grad_z, grad_n), _cat(last, grad_r, grad_z, grad_n * r), g * z


@_gru_cell_backward.kernel(np.ndarray)
def _gru_cell_backward_in_place(g: Any, gi: Any, gh: Any, h: Any) -> tuple:
    r, z, n = _gru_gates(gi, gh)
    k = h.shape[-1]
    grad_gi = np.empty(gi.shape, dtype=np.result_type(g, gi))
    grad_r, grad_z, grad_n = grad_gi[..., :k], grad_gi[..., k:2 * k], grad_gi[..., 2 * k:]
    np.multiply(n, n, out=grad_n)
    np.subtract(1.0, grad_n, out=grad_n)
    grad_n *= 1.0 - z
    grad_n *= g
    np.subtract(h, n, out=grad_z)
    grad_z *= g
    grad_z *= z
    grad_z *= 1.0 - z
    np.multiply(grad_n, gh[..., 2 * k:], out=grad_r)
    grad_r *= r
    grad_r *= 1.0 - r
    grad_gh = grad_gi.copy()
    grad_gh[..., 2 * k:] *= r
    return grad_gi, grad_gh, g * z


def _gru_rule(g: Any, out: Any, gi: Any, gh: Any, h: Any, needs: tuple[bool, ...]) -> list:
    grads = _gru_cell_backward(g, gi, gh, h)
    return [grad if need else None for grad, need in zip(grads, needs)]


@primitive("fused_gru_cell", save=("gi", "gh", "h"), grads=_gru_rule)
def _fused_gru_cell(gi: Any, gh: Any, h: Any) -> Any:
    _, z, n = _gru_gates(gi, gh)
    out = h - n  # (1 - z) n + z h = n + z (h - n)
    out *= z
    out += n
    return out


# -- the public cells ---------------------------------------------------------------------------

def _check_cell(op: str, input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                gates: int) -> None:
    hidden = w_hh.shape[1]
    if w_ih.shape[0] != gates * hidden or w_hh.shape[0] != gates * hidden:
        raise ShapeError(f"{op}: w_ih {format_shape(w_ih.shape)} and w_hh "
                         f"{format_shape(w_hh.shape)} must have {gates} * hidden_size = "
                         f"{gates * hidden} rows")
    if input.shape[-1] != w_ih.shape[1]:
        raise ShapeError(f"{op}: input has {input.shape[-1]} features, expected "
                         f"{w_ih.shape[1]} (w_ih is {format_shape(w_ih.shape)})")
    if hx.shape[-1] != hidden or hx.shape[:-1] != input.shape[:-1]:
        raise ShapeError(f"{op}: hidden state of shape {format_shape(hx.shape)} does not match "
                         f"input {format_shape(input.shape)}: expected "
                         f"{format_shape(input.shape[:-1] + (hidden,))}")


def lstm_cell(input: Tensor, hx: tuple[Tensor, Tensor], w_ih: Tensor, w_hh: Tensor,
              b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step: ``(h', c')`` from ``input`` ``(batch, input_size)`` and ``hx = (h, c)``,
    with PyTorch's gate order ``i, f, g, o`` in ``w_ih`` ``(4 hidden, input_size)`` and ``w_hh``
    ``(4 hidden, hidden)``.

    >>> import backprop as bp
    >>> h, c = bp.lstm_cell(bp.ones(2, 3), (bp.zeros(2, 4), bp.zeros(2, 4)),
    ...                     bp.ones(16, 3), bp.ones(16, 4))
    >>> round(h[0, 0].item(), 4), round(c[0, 0].item(), 4)  # c' = sigmoid(3) tanh(3)
    (0.7038, 0.9479)
    """
    h, c = hx
    _check_cell("lstm_cell", input, h, w_ih, w_hh, 4)
    if c.shape != h.shape:
        raise ShapeError(f"lstm_cell: cell state of shape {format_shape(c.shape)} does not match "
                         f"the hidden state's {format_shape(h.shape)}")
    return _fused_lstm_cell(linear(input, w_ih, b_ih), linear(h, w_hh, b_hh), c)[:2]


def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """One GRU step: ``h'`` from ``input`` ``(batch, input_size)`` and ``hx``, with PyTorch's
    gate order ``r, z, n`` in ``w_ih`` ``(3 hidden, input_size)`` and ``w_hh``.

    >>> import backprop as bp
    >>> h = bp.gru_cell(bp.ones(1, 2), bp.zeros(1, 3), bp.ones(9, 2), bp.ones(9, 3))
    >>> round(h[0, 0].item(), 4)  # (1 - sigmoid(2)) tanh(2)
    0.1149
    """
    _check_cell("gru_cell", input, hx, w_ih, w_hh, 3)
    return _fused_gru_cell(linear(input, w_ih, b_ih), linear(hx, w_hh, b_hh), hx)


def _elman_step(op: str, activation: Any, input: Tensor, hx: Tensor, w_ih: Tensor,
                w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor:
    _check_cell(op, input, hx, w_ih, w_hh, 1)
    return activation(linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh))


def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One Elman RNN step, ``tanh(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh)``.

    >>> import backprop as bp
    >>> bp.rnn_tanh_cell(bp.zeros(1, 2), bp.zeros(1, 3), bp.ones(3, 2), bp.ones(3, 3)).tolist()
    [[0.0, 0.0, 0.0]]
    """
    return _elman_step("rnn_tanh_cell", tanh, input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One Elman RNN step with ReLU, ``relu(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh)``.

    >>> import backprop as bp
    >>> bp.rnn_relu_cell(bp.ones(1, 2), bp.zeros(1, 3), bp.ones(3, 2), bp.ones(3, 3)).tolist()
    [[2.0, 2.0, 2.0]]
    """
    return _elman_step("rnn_relu_cell", relu, input, hx, w_ih, w_hh, b_ih, b_hh)
