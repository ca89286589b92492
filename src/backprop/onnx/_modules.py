"""Modules converted as a whole: the recurrent layers, to ONNX's LSTM, GRU and RNN operators
(and MultiheadAttention: see _attention.py).

One ONNX node per layer keeps the sequence length dynamic (the traced primitives run one step
at a time). The gates are stored in another order: PyTorch's LSTM rows are (i, f, g, o) and
ONNX's (i, o, f, c); PyTorch's GRU rows (r, z, n) and ONNX's (z, r, h), with
``linear_before_reset=1`` for PyTorch's n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.modules.rnn import RNNBase
from ..nn.utils.rnn import PackedSequence
from ._context import Context, Event, host

# Per mode: the ONNX operator, PyTorch's gate blocks in ONNX's order, the activations.
_MODES = {
    "LSTM": ("LSTM", (0, 3, 1, 2), None),
    "GRU": ("GRU", (1, 0, 2), None),
    "RNN_TANH": ("RNN", (0,), "Tanh"),
    "RNN_RELU": ("RNN", (0,), "Relu"),
}


def captured(module: Any) -> bool:
    """Whether ``module`` is converted as a whole (its inner ops are not traced)."""
    from ..nn.modules.attention import MultiheadAttention

    return isinstance(module, (RNNBase, MultiheadAttention))


def _reordered(array: np.ndarray, order: tuple, hidden: int) -> np.ndarray:
    return np.concatenate([array[k * hidden:(k + 1) * hidden] for k in order], axis=0)


def convert_module(ctx: Context, ev: Event) -> Any:
    module = ev.module
    if isinstance(module, RNNBase):
        return _recurrent(ctx, ev, module)
    from ._attention import multihead_attention

    return multihead_attention(ctx, ev, module)


def _recurrent(ctx: Context, ev: Event, module: Any) -> Any:
    op_type, order, activation = _MODES[module.mode]
    input: Any = ev.args[0] if ev.args else ev.params.get("input")
    hx = ev.args[1] if len(ev.args) > 1 else ev.params.get("hx")
    if isinstance(input, PackedSequence):
        raise ev.fail("a PackedSequence input is not exported (pass a padded tensor)")
    if input.ndim not in (2, 3):
        raise ev.fail(f"expected a 2-d or 3-d input, got shape {tuple(input.shape)}")
    batched = input.ndim == 3
    if getattr(module, "proj_size", 0):
        raise ev.fail("LSTM with proj_size is not exported")
    prefix = ctx.qualnames.get(id(module), "")
    prefix = f"{prefix}." if prefix else ""
    lstm = module.mode == "LSTM"
    directions = 2 if module.bidirectional else 1
    hidden = module.hidden_size
    states = (list(hx) if lstm else [hx]) if hx is not None else [None, None]
    # Unbatched: a batch of one in the middle (sequence, 1, features), and states (layers, 1, h).
    axis_one = ctx.graph.ints([1])
    state_names = [None if state is None else ctx.value(state) if batched
                   else ctx.node("Unsqueeze", [ctx.value(state), axis_one]) for state in states]
    x = ctx.value(input)
    if not batched:
        x = ctx.node("Unsqueeze", [x, axis_one])
    elif module.batch_first:
        x = ctx.node("Transpose", [x], perm=[1, 0, 2])
    finals: list[list[str]] = [[], []]
    for layer in range(module.num_layers):
        suffixes = [f"_l{layer}"] + ([f"_l{layer}_reverse"] if directions == 2 else [])
        weights = {}
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            if kind.startswith("bias") and not module.bias:
                continue
            weights[kind] = np.stack([_reordered(host(getattr(module, kind + s)), order, hidden)
                                      for s in suffixes])
        w = ctx.graph.initializer(f"{prefix}W_l{layer}", weights["weight_ih"])
        r = ctx.graph.initializer(f"{prefix}R_l{layer}", weights["weight_hh"])
        b = ""
        if module.bias:
            b = ctx.graph.initializer(f"{prefix}B_l{layer}", np.concatenate(
                [weights["bias_ih"], weights["bias_hh"]], axis=1))
        initial = []
        for state in state_names[:2 if lstm else 1]:
            if state is None:
                initial.append("")
                continue
            initial.append(ctx.node("Slice", [state, ctx.graph.ints([layer * directions]),
                                              ctx.graph.ints([(layer + 1) * directions]),
                                              ctx.graph.ints([0])]))
        attributes: dict[str, Any] = {
            "hidden_size": hidden,
            "direction": "bidirectional" if directions == 2 else "forward"}
        if op_type == "GRU":
            attributes["linear_before_reset"] = 1
        if activation is not None:
            attributes["activations"] = [activation] * directions
        outputs = ctx.node(op_type, [x, w, r, b, ""] + initial, 3 if lstm else 2, **attributes)
        # Y is (sequence, directions, batch, hidden); the next layer takes the directions side by
        # side: (sequence, batch, directions * hidden).
        y = ctx.node("Transpose", [outputs[0]], perm=[0, 2, 1, 3])
        x = ctx.node("Reshape", [y, ctx.graph.ints([0, 0, directions * hidden])])
        for store, state in zip(finals, outputs[1:]):
            store.append(state)
    hidden_states = [store[0] if len(store) == 1 else ctx.node("Concat", store, axis=0)
                     for store in finals if store]
    if not batched:
        x = ctx.node("Squeeze", [x, axis_one])
        hidden_states = [ctx.node("Squeeze", [h, axis_one]) for h in hidden_states]
    elif module.batch_first:
        x = ctx.node("Transpose", [x], perm=[1, 0, 2])
    return (x, tuple(hidden_states)) if lstm else (x, hidden_states[0])
