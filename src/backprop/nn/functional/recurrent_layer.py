"""A whole LSTM layer (one direction) as one primitive: the time loop runs inside one node.

Per step the cell's own path (``recurrent.py``) records a product with ``weight_hh`` and a fused
cell, and its backward makes per step a state-gradient product, a ``weight_hh``-gradient product
and an addition of that gradient into the sum over steps: small products and many nodes. Here the
forward writes every step into preallocated ``(rows, 4 hidden)`` gates and ``(rows, hidden)``
output and cell buffers, and the backward runs per step only what must be sequential (the state
gradient's product and the cell backward); ``weight_hh``'s gradient is then one large product
over all steps, ``grad_gates^T @ h_prev``.

Rows are packed (time-major, ``batch_sizes[t]`` rows at step ``t``, non-increasing), a padded
batch being the case of equal sizes. A step updates the first ``batch_sizes[t]`` rows of the
running state and leaves the rest, so the state left after the last step is ``(h_n, c_n)`` in
either direction: forwards, the sequences that ended keep their last state; backwards, the ones
that have not started yet keep ``h_0``.

The backward is a composite primitive (``lstm_layer_backward``), written with our ops, so
grad-of-grad is exact and CuPy runs it; NumPy arrays take its in-place kernel. The activated
gates and the cell states are outputs of the layer (not side arrays) so that under
``create_graph`` the backward's use of them is differentiated too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ... import kernels
from ...ops.join import _cat
from ...ops.linalg import matmul
from ...ops.primitive import primitive
from ...ops.shape import t as _t
from .recurrent import _lstm_activations_, _lstm_cell_backward, _lstm_cell_grads_into

__all__: list[str] = []


def _steps(batch_sizes: tuple[int, ...], reverse: bool) -> Iterator[tuple[int, int, int, int]]:
    """``(offset, size, previous offset, previous size)`` of each step's rows in the order the
    layer runs them; the previous step's are ``(0, 0)`` for the first."""
    offsets = np.concatenate(([0], np.cumsum(batch_sizes)[:-1])).tolist()
    order = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))
    previous = (0, 0)
    for step in order:
        yield offsets[step], batch_sizes[step], *previous
        previous = (offsets[step], batch_sizes[step])


def _compiled(name: str, array: Any) -> Any:
    """The compiled step kernel registered as ``name`` for ``array``'s type (``backends.numba``:
    it returns False where it does not apply), or None."""
    return next(iter(kernels.kernels_for(name, array)), None)


def _before(rows: Any, initial: Any, size: int, prev_offset: int, prev_size: int) -> Any:
    """The state a step of ``size`` rows starts from: the previous step's rows (``rows`` holds
    every step's), then the initial state's for the rows that start here."""
    kept = min(size, prev_size)
    if kept == size:
        return rows[prev_offset:prev_offset + size]
    if kept == 0:
        return initial[:size]
    return _cat(0, rows[prev_offset:prev_offset + kept], initial[kept:size])


@primitive("lstm_layer_backward", outputs=("grad_gates_x", "grad_h0", "grad_c0", "grad_w_hh"),
           composite=True)
def _lstm_layer_backward(gates: Any, c_all: Any, output: Any, h0: Any, c0: Any, w_hh: Any,
                         g_output: Any, g_h_n: Any, g_c_n: Any, g_gates: Any, g_c_all: Any, *,
                         batch_sizes: tuple[int, ...], reverse: bool) -> tuple:
    """The gradients of the layer's inputs given those of its outputs (any may be None;
    ``g_gates`` and ``g_c_all`` come only in second derivatives)."""
    carry_h = h0 * 0.0 if g_h_n is None else g_h_n
    carry_c = c0 * 0.0 if g_c_n is None else g_c_n
    batch = h0.shape[0]
    grad_steps, h_prevs = [], []
    for offset, size, prev_offset, prev_size in reversed(list(_steps(batch_sizes, reverse))):
        rows = slice(offset, offset + size)
        g_h = carry_h[:size] if g_output is None else g_output[rows] + carry_h[:size]
        g_c = carry_c[:size] if g_c_all is None else g_c_all[rows] + carry_c[:size]
        grad_gates, grad_c = _lstm_cell_backward(
            g_h, g_c, None if g_gates is None else g_gates[rows], gates[rows],
            _before(c_all, c0, size, prev_offset, prev_size), c_all[rows])
        grad_h = matmul(grad_gates, w_hh)
        carry_h = grad_h if size == batch else _cat(0, grad_h, carry_h[size:])
        carry_c = grad_c if size == batch else _cat(0, grad_c, carry_c[size:])
        grad_steps.append((offset, grad_gates))
        h_prevs.append((offset, _before(output, h0, size, prev_offset, prev_size)))
    in_time_order = sorted(range(len(grad_steps)), key=lambda k: grad_steps[k][0])
    grad_gates_x = _cat(0, *[grad_steps[k][1] for k in in_time_order])
    h_prev = _cat(0, *[h_prevs[k][1] for k in in_time_order])
    return grad_gates_x, carry_h, carry_c, matmul(_t(grad_gates_x), h_prev)


@_lstm_layer_backward.kernel(np.ndarray)
def _lstm_layer_backward_in_place(gates: Any, c_all: Any, output: Any, h0: Any, c0: Any,
                                  w_hh: Any, g_output: Any, g_h_n: Any, g_c_n: Any, g_gates: Any,
                                  g_c_all: Any, *, batch_sizes: tuple[int, ...],
                                  reverse: bool) -> tuple | None:
    if g_gates is not None or g_c_all is not None:
        return None  # only in second derivatives, which run the composite
    dtype = np.result_type(gates, *[g for g in (g_output, g_h_n, g_c_n) if g is not None])
    carry_h = np.zeros(h0.shape, dtype) if g_h_n is None else g_h_n.astype(dtype, copy=True)
    carry_c = np.zeros(c0.shape, dtype) if g_c_n is None else g_c_n.astype(dtype, copy=True)
    grad_gates_x = np.empty(gates.shape, gates.dtype)
    uniform = len(set(batch_sizes)) == 1
    fused = _compiled("lstm_step_backward", gates)
    if fused is not None and g_output is not None:
        g_output = np.ascontiguousarray(g_output)  # a batch-first output's gradient is strided
    for offset, size, prev_offset, prev_size in reversed(list(_steps(batch_sizes, reverse))):
        rows = slice(offset, offset + size)
        grad_gates = grad_gates_x[rows]
        c_prev = _before(c_all, c0, size, prev_offset, prev_size)
        if fused is None or not fused(grad_gates, None if g_output is None else g_output[rows],
                                      carry_h[:size], carry_c[:size], gates[rows], c_prev,
                                      c_all[rows]):
            g_h = carry_h[:size] if g_output is None else g_output[rows] + carry_h[:size]
            carry_c[:size] = _lstm_cell_grads_into(grad_gates, g_h, carry_c[:size],
                                                   gates[rows], c_prev, c_all[rows])
        np.matmul(grad_gates, w_hh, out=carry_h[:size])
    # weight_hh's gradient over every step at once: (4 hidden, rows) @ (rows, hidden), with the
    # state each step started from; a padded batch's is the output shifted by one step.
    if uniform:
        shifted = (output[batch_sizes[0]:], h0) if reverse else (h0, output[:-batch_sizes[0]])
        h_prev = np.concatenate(shifted)
    else:
        h_prev = np.empty(output.shape, output.dtype)
        for offset, size, prev_offset, prev_size in _steps(batch_sizes, reverse):
            h_prev[offset:offset + size] = _before(output, h0, size, prev_offset, prev_size)
    return grad_gates_x, carry_h, carry_c, grad_gates_x.T @ h_prev


def _lstm_layer_rule(g: tuple, out: tuple, gates_x: Any, h0: Any, c0: Any, w_hh: Any,
                     needs: tuple[bool, ...], *, batch_sizes: tuple[int, ...],
                     reverse: bool) -> list:
    output, _, _, gates, c_all = out
    grads = _lstm_layer_backward(gates, c_all, output, h0, c0, w_hh, *g,
                                 batch_sizes=batch_sizes, reverse=reverse)
    return [grad if need else None for grad, need in zip(grads, needs)]


@primitive("lstm_layer", outputs=("output", "h_n", "c_n", "gates", "c_all"),
           save=("h0", "c0", "w_hh", "output", "gates", "c_all"), grads=_lstm_layer_rule)
def _lstm_layer(gates_x: Any, h0: Any, c0: Any, w_hh: Any, *, batch_sizes: tuple[int, ...],
                reverse: bool) -> tuple:
    """``(output, h_n, c_n, gates, c_all)`` of one LSTM layer over packed rows ``gates_x``
    (the input's gate products with both biases added), from ``h0`` and ``c0``: the output
    rows, the final states, the activated gates and the cell state of every row."""
    hidden = c0.shape[-1]
    gates = np.empty_like(gates_x)
    output = np.empty_like(gates, shape=(gates.shape[0], hidden))
    c_all = np.empty_like(output)
    h, c = h0.copy(), c0.copy()
    product = np.empty_like(c)
    w_hh_t = w_hh.T.copy()  # C order: OpenBLAS takes the small products faster so
    fused = _compiled("lstm_step", gates)
    for offset, size, _, _ in _steps(batch_sizes, reverse):
        rows = slice(offset, offset + size)
        step = gates[rows]
        np.matmul(h[:size], w_hh_t, out=step)
        if fused is not None and fused(step, gates_x[rows], c[:size], h[:size], c_all[rows],
                                       output[rows]):
            continue
        step += gates_x[rows]
        _lstm_activations_(step)
        c_next = c_all[rows]
        np.multiply(step[:, hidden:2 * hidden], c[:size], out=c_next)
        c_next += np.multiply(step[:, :hidden], step[:, 2 * hidden:3 * hidden],
                              out=product[:size])
        h_next = output[rows]
        np.tanh(c_next, out=h_next)
        h_next *= step[:, 3 * hidden:]
        c[:size] = c_next
        h[:size] = h_next
    return output, h, c, gates, c_all
