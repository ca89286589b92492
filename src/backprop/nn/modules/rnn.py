"""Recurrent layers: ``RNN``, ``LSTM`` and ``GRU`` over whole sequences, and their one-step
cells ``RNNCell``, ``LSTMCell`` and ``GRUCell``.

A layer runs each direction of each layer as: one product of the whole sequence with
``weight_ih`` (every gate, every time step), then per step one product with ``weight_hh`` and
the cell's fused primitive (``nn.functional.recurrent``). Sequences are handled as packed rows
(time-major, ``batch_sizes[t]`` rows at step ``t``), a padded batch being the case of equal
batch sizes, so a ``PackedSequence`` and a padded tensor take the same path. The steps' input
rows come from one ``split_with_sizes_copy``, whose backward is one concatenation (slicing each
step out would pad every step's gradient to the whole sequence). An LSTM without ``proj_size``
runs its steps inside one primitive per layer and direction (``recurrent_layer``), whose
backward makes ``weight_hh``'s gradient in one product over all steps.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

from ... import creation
from ...errors import ShapeError, format_shape
from ...ops.elementwise import relu, tanh
from ...ops.join import cat, split_with_sizes_copy, stack
from ...ops.linalg import matmul
from ...ops.scatter import index_select
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..functional.recurrent import (_fused_gru_cell, _fused_lstm_cell, gru_cell, lstm_cell,
                                    rnn_relu_cell, rnn_tanh_cell)
from ..functional.recurrent_layer import _lstm_layer
from ..module import Module
from ..utils.rnn import PackedSequence
from .utils import new_parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _check_positive(owner: str, **sizes: Any) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
            raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")


def _uniform_by_hidden_size(module: Any) -> None:
    """Every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch's recurrent
    layers and cells (hidden_size is checked positive in their constructors)."""
    bound = 1.0 / math.sqrt(module.hidden_size)
    for weight in module.parameters():
        init.uniform_(weight, -bound, bound)


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: the parameters (``weight_ih_l{k}``,
    ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``, LSTM's ``weight_hr_l{k}``, with
    ``_reverse`` for the backward direction), their U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))
    initialisation and the loop over layers, directions and time steps. ``mode`` is ``"LSTM"``,
    ``"GRU"``, ``"RNN_TANH"`` or ``"RNN_RELU"``.

    >>> import backprop as bp
    >>> bp.nn.RNNBase("GRU", 3, 4).weight_ih_l0.shape
    (12, 3)
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"{name}: unknown mode {mode!r} (expected one of {list(_GATES)})")
        _check_positive(name, input_size=input_size, hidden_size=hidden_size,
                        num_layers=num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be a number in [0, 1] (the probability of "
                             f"zeroing an element), got {dropout!r}")
        if isinstance(proj_size, bool) or not isinstance(proj_size, numbers.Integral) \
                or proj_size < 0:
            raise ValueError(f"{name}: proj_size must be a non-negative integer, got "
                             f"{proj_size!r}")
        if proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size is supported only by LSTM, got "
                             f"proj_size={proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size ({proj_size}) must be smaller than hidden_size "
                             f"({hidden_size})")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout={dropout} has no effect with num_layers=1 (it "
                          "applies between layers, after every layer but the last)",
                          UserWarning, stacklevel=2)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        gates = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = {"weight_ih": (gates, layer_input), "weight_hh": (gates, real_hidden)}
                if bias:
                    shapes.update(bias_ih=(gates,), bias_hh=(gates,))
                if proj_size:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                for kind, shape in shapes.items():
                    setattr(self, kind + suffix, new_parameter(*shape, dtype=dtype, device=device))
                    self._flat_weights_names.append(kind + suffix)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_by_hidden_size(self)

    @property
    def _flat_weights(self) -> list[Tensor]:
        return [getattr(self, name) for name in self._flat_weights_names]

    def flatten_parameters(self) -> None:
        """Does nothing: PyTorch packs the weights into one buffer for cuDNN; ours need no
        packing. It exists so that code calling it runs unchanged."""

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            text += f", proj_size={self.proj_size}"
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False),
                              ("dropout", 0.0), ("bidirectional", False)):
            value = getattr(self, name)
            if value != default:
                text += f", {name}={value}"
        return text

    # -- forward ---------------------------------------------------------------------------------

    def _check_state(self, what: str, state: Tensor, expected: tuple[int, ...]) -> None:
        if tuple(state.shape) != expected:
            raise ShapeError(f"{type(self).__name__}: {what} has shape "
                             f"{format_shape(state.shape)}, expected {format_shape(expected)} (num_layers * num_directions, "
                             "batch, hidden size)")

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple[Any, Any]:
        name = type(self).__name__
        lstm = self.mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        if packed:
            rows, batch_sizes, sorted_indices, unsorted_indices = input
            batch_sizes = [int(b) for b in batch_sizes.tolist()]
            batch, batched = batch_sizes[0], True
        else:
            if input.ndim not in (2, 3):
                raise ShapeError(f"{name}: expected input to be 2-D (sequence, features) or 3-D "
                                 f"(batched), got shape {format_shape(input.shape)}")
            batched = input.ndim == 3
            if not batched:
                input = input.unsqueeze(1)
            elif self.batch_first:
                input = input.transpose(0, 1)
            steps, batch = input.shape[:2]
            rows = input.reshape(steps * batch, input.shape[2])
            batch_sizes = [batch] * steps
            sorted_indices = unsorted_indices = None
        if rows.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input has {rows.shape[-1]} features, expected "
                             f"input_size={self.input_size}")
        directions = 2 if self.bidirectional else 1
        layers = self.num_layers * directions
        real_hidden = self.proj_size or self.hidden_size
        states = self._initial_states(hx, batched, batch, rows, sorted_indices)
        expected = (layers, batch, real_hidden)
        self._check_state("hx[0] (h_0)" if lstm else "hx", states[0], expected)
        if lstm:
            self._check_state("hx[1] (c_0)", states[1], (layers, batch, self.hidden_size))
        finals: list[list[Tensor]] = [[] for _ in states]
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                out, last = self._run_direction(rows, batch_sizes, [s[k] for s in states],
                                                suffix, reverse=bool(direction))
                outputs.append(out)
                for store, state in zip(finals, last):
                    store.append(state)
            rows = outputs[0] if directions == 1 else cat(outputs, 1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                rows = F.dropout(rows, self.dropout, training=True)
        hidden = [stack(store, 0) for store in finals]
        if packed:
            if unsorted_indices is not None:
                hidden = [index_select(h, 1, unsorted_indices) for h in hidden]
            output: Any = PackedSequence(rows, input.batch_sizes, sorted_indices, unsorted_indices)
        else:
            output = rows.reshape(len(batch_sizes), batch, rows.shape[-1])
            if not batched:
                output = output.squeeze(1)
                hidden = [h.squeeze(1) for h in hidden]
            elif self.batch_first:
                output = output.transpose(0, 1)
        return output, (tuple(hidden) if lstm else hidden[0])

    def _initial_states(self, hx: Any, batched: bool, batch: int, rows: Tensor,
                        sorted_indices: Tensor | None) -> list[Tensor]:
        """h_0 (and LSTM's c_0) as ``(layers, batch, size)``: zeros when not given; a given
        state is unsqueezed for unbatched input and put in the packed batch's order."""
        name = type(self).__name__
        layers = self.num_layers * (2 if self.bidirectional else 1)
        if hx is None:
            sizes = [self.proj_size or self.hidden_size]
            if self.mode == "LSTM":
                sizes.append(self.hidden_size)
            return [creation.zeros((layers, batch, size), dtype=rows.dtype, device=rows.device)
                    for size in sizes]
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0), got "
                                f"{type(hx).__name__}")
            states = list(hx)
        else:
            if not isinstance(hx, Tensor):
                raise TypeError(f"{name}: hx must be a Tensor, got {type(hx).__name__}")
            states = [hx]
        want = 3 if batched else 2
        for state in states:
            if state.ndim != want:
                raise ShapeError(f"{name}: for {'batched 3-D' if batched else 'unbatched 2-D'} "
                                 f"input, hx must be {want}-D, got shape "
                                 f"{format_shape(state.shape)}")
        if not batched:
            states = [s.unsqueeze(1) for s in states]
        if sorted_indices is not None:
            states = [index_select(s, 1, sorted_indices) for s in states]
        return states

    def _run_direction(self, rows: Tensor, batch_sizes: list[int], state: list[Tensor],
                       suffix: str, reverse: bool) -> tuple[Tensor, list[Tensor]]:
        """One layer in one direction over packed rows: its output rows and final states."""
        w_hh = getattr(self, "weight_hh" + suffix)
        b_hh = getattr(self, "bias_hh" + suffix) if self.bias else None
        w_hr = getattr(self, "weight_hr" + suffix) if self.proj_size else None
        b_ih = getattr(self, "bias_ih" + suffix) if self.bias else None
        if b_hh is not None and self.mode != "GRU":
            # Both biases go into the input's product for the whole sequence, not into every
            # step: their gradient is then one sum over all rows. (GRU's b_hn is scaled by the
            # reset gate, so it stays in the step.)
            b_ih, b_hh = b_ih + b_hh, None
        gates = F.linear(rows, getattr(self, "weight_ih" + suffix), b_ih)
        if self.mode == "LSTM" and w_hr is None:
            output, h_n, c_n, _, _ = _lstm_layer(gates, state[0], state[1], w_hh,
                                                 batch_sizes=tuple(batch_sizes), reverse=reverse)
            return output, [h_n, c_n]
        # The steps multiply by weight_hh^T laid out contiguously (one copy per call): OpenBLAS
        # takes a small (batch, hidden) @ (hidden, gates) product about 1.5x faster so.
        w_hh_t = w_hh.t().contiguous()
        step_gates = split_with_sizes_copy(gates, batch_sizes) if len(batch_sizes) > 1 \
            else (gates,)
        full = state
        running = batch_sizes[-1] if reverse else batch_sizes[0]
        state = [s[:running] for s in full] if running < full[0].shape[0] else list(full)
        done: list[list[Tensor]] = [[] for _ in state]  # states of sequences that have ended
        outputs: list[Any] = [None] * len(batch_sizes)
        for t in (reversed(range(len(batch_sizes))) if reverse else range(len(batch_sizes))):
            size = batch_sizes[t]
            if size != running:
                if reverse:  # sequences start (backwards) as the batch grows
                    state = [cat([s, f[running:size]]) for s, f in zip(state, full)]
                else:  # the last `running - size` sequences have ended
                    for store, s in zip(done, state):
                        store.append(s[size:])
                    state = [s[:size] for s in state]
                running = size
            hidden = matmul(state[0], w_hh_t)
            if b_hh is not None:
                hidden = hidden + b_hh
            if self.mode == "LSTM":
                h, c, _ = _fused_lstm_cell(step_gates[t], hidden, state[1])
                state = [h if w_hr is None else F.linear(h, w_hr), c]
            elif self.mode == "GRU":
                state = [_fused_gru_cell(step_gates[t], hidden, state[0])]
            else:
                activation = tanh if self.mode == "RNN_TANH" else relu
                state = [activation(step_gates[t] + hidden)]
            outputs[t] = state[0]
        last = [s if not store else cat([s, *reversed(store)]) for s, store in zip(state, done)]
        return (outputs[0] if len(outputs) == 1 else cat(outputs)), last


class RNN(RNNBase):
    """An Elman RNN, ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (``relu`` with
    ``nonlinearity="relu"``), over ``(L, N, input_size)`` (``(N, L, ...)`` with batch_first,
    ``(L, input_size)`` unbatched, or a ``PackedSequence``). Returns ``(output, h_n)``.

    >>> import backprop as bp
    >>> rnn = bp.nn.RNN(3, 4, num_layers=2)
    >>> output, h_n = rnn(bp.ones(5, 2, 3))
    >>> output.shape, h_n.shape
    ((5, 2, 4), (2, 2, 4))
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # PyTorch's signature: (input_size, hidden_size, num_layers=1, nonlinearity='tanh',
        # bias=True, batch_first=False, dropout=0.0, bidirectional=False, device=None,
        # dtype=None), nonlinearity fourth.
        if "proj_size" in kwargs:
            raise ValueError("RNN: proj_size is supported only by LSTM")
        if len(args) > 3:
            args, nonlinearity = args[:3] + args[4:], args[3]
            if "nonlinearity" in kwargs:
                raise TypeError("RNN: got nonlinearity both by position and by name")
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r} (expected 'tanh' or "
                             "'relu')")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """A long short-term memory layer (gates ``i, f, g, o`` in PyTorch's order), with
    ``proj_size`` for a projected hidden state. Returns ``(output, (h_n, c_n))``.

    >>> import backprop as bp
    >>> lstm = bp.nn.LSTM(3, 4, bidirectional=True, batch_first=True)
    >>> output, (h_n, c_n) = lstm(bp.ones(2, 5, 3))
    >>> output.shape, h_n.shape, c_n.shape
    ((2, 5, 8), (2, 2, 4), (2, 2, 4))
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """A gated recurrent unit layer (gates ``r, z, n`` in PyTorch's order). Returns
    ``(output, h_n)``.

    >>> import backprop as bp
    >>> output, h_n = bp.nn.GRU(3, 4)(bp.ones(5, 3))  # unbatched
    >>> output.shape, h_n.shape
    ((5, 4), (1, 4))
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("GRU", *args, **kwargs)


# -- cells ----------------------------------------------------------------------------------------

class RNNCellBase(Module):
    """What the cells share: ``weight_ih`` ``(num_chunks * hidden_size, input_size)``,
    ``weight_hh``, ``bias_ih`` and ``bias_hh``, initialised from
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

    >>> import backprop as bp
    >>> bp.nn.RNNCellBase(3, 4, True, 2).weight_hh.shape
    (8, 4)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        _check_positive(type(self).__name__, input_size=input_size, hidden_size=hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        rows = num_chunks * hidden_size
        self.weight_ih = new_parameter(rows, input_size, dtype=dtype, device=device)
        self.weight_hh = new_parameter(rows, hidden_size, dtype=dtype, device=device)
        if bias:
            self.bias_ih = new_parameter(rows, dtype=dtype, device=device)
            self.bias_hh = new_parameter(rows, dtype=dtype, device=device)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_by_hidden_size(self)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text

    def _inputs(self, input: Tensor, hx: Any, states: int) -> tuple[Tensor, list[Tensor], bool]:
        """The input as ``(batch, input_size)``, the states given or zeros, and whether the
        input was batched."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ShapeError(f"{name}: expected input to be 1-D or 2-D, got shape "
                             f"{format_shape(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input has {input.shape[-1]} features, expected "
                             f"input_size={self.input_size}")
        batched = input.ndim == 2
        expected = tuple(input.shape[:-1]) + (self.hidden_size,)
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            return input, [creation.zeros((input.shape[0], self.hidden_size), dtype=input.dtype,
                                          device=input.device) for _ in range(states)], batched
        given = list(hx) if states == 2 else [hx]
        for state in given:
            if tuple(state.shape) != expected:
                raise ShapeError(f"{name}: hidden state has shape {format_shape(state.shape)}, "
                                 f"expected {format_shape(expected)}")
        if not batched:
            given = [s.unsqueeze(0) for s in given]
        return input, given, batched


class RNNCell(RNNCellBase):
    """One Elman RNN step, ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu).

    >>> import backprop as bp
    >>> bp.nn.RNNCell(3, 4)(bp.ones(2, 3)).shape
    (2, 4)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r} (expected 'tanh' "
                             "or 'relu')")
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (h,), batched = self._inputs(input, hx, 1)
        step = rnn_tanh_cell if self.nonlinearity == "tanh" else rnn_relu_cell
        h = step(input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step; ``hx = (h, c)`` (zeros when not given); returns ``(h', c')``.

    >>> import backprop as bp
    >>> h, c = bp.nn.LSTMCell(3, 4)(bp.ones(2, 3))
    >>> h.shape, c.shape
    ((2, 4), (2, 4))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, Tensor]:
        input, (h, c), batched = self._inputs(input, hx, 2)
        h, c = lstm_cell(input, (h, c), self.weight_ih, self.weight_hh, self.bias_ih,
                         self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step; returns ``h'``.

    >>> import backprop as bp
    >>> bp.nn.GRUCell(3, 4)(bp.ones(3)).shape
    (4,)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (h,), batched = self._inputs(input, hx, 1)
        h = gru_cell(input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h.squeeze(0)
