"""Converters of arithmetic, activations, reductions and the nn primitives (linear, conv,
pooling, normalization, embedding)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._context import Context, Event
from ._registry import converter


def _dtype(x: Any) -> np.dtype:
    return np.dtype(x.dtype) if isinstance(x, Tensor) else np.asarray(x).dtype


def operand(ctx: Context, x: Any, dtype: np.dtype) -> str:
    """``x`` as an ONNX value of ``dtype``: numbers become constants of it, tensors of another
    dtype are cast (PyTorch promotes before computing; ONNX operators need equal types)."""
    if not isinstance(x, Tensor) and not isinstance(x, np.ndarray):
        return ctx.value(x, dtype)
    name = ctx.value(x)
    if _dtype(x) != dtype:
        from ._graph import tensor_type

        name = ctx.node("Cast", [name], to=tensor_type(dtype))
    return name


def _out_dtype(event: Event) -> np.dtype:
    out = event.out[0] if isinstance(event.out, tuple) else event.out
    return np.dtype(out.dtype)


def _binary(op_type: str):
    def convert(ctx: Context, ev: Event) -> str:
        dtype = _out_dtype(ev)
        a, b = (operand(ctx, x, dtype) for x in ev.args[:2])
        alpha = ev.params.get("alpha", 1)
        if alpha != 1:
            b = ctx.node("Mul", [b, ctx.value(alpha, dtype)])
        return ctx.node(op_type, [a, b])
    return convert


converter("add")(_binary("Add"))
converter("sub")(_binary("Sub"))
converter("mul")(_binary("Mul"))
converter("pow")(_binary("Pow"))


@converter("div")
def _div(ctx: Context, ev: Event) -> str:
    dtype = _out_dtype(ev)
    a, b = (operand(ctx, x, np.dtype(np.float32) if dtype.kind != "f" else dtype)
            for x in ev.args[:2])
    mode = ev.params.get("rounding_mode")
    out = ctx.node("Div", [a, b])
    if mode == "floor":
        out = ctx.node("Floor", [out])
    elif mode is not None:
        raise ev.fail(f"rounding_mode={mode!r} is not exported (None and 'floor' are)")
    return operand_cast(ctx, out, np.dtype(np.float32) if dtype.kind != "f" else dtype, dtype)


def operand_cast(ctx: Context, name: str, have: np.dtype, want: np.dtype) -> str:
    if have == want:
        return name
    from ._graph import tensor_type

    return ctx.node("Cast", [name], to=tensor_type(want))


def _unary(op_type: str):
    def convert(ctx: Context, ev: Event) -> str:
        return ctx.node(op_type, [ctx.value(ev.args[0])])
    return convert


for _name, _op_type in {"neg": "Neg", "exp": "Exp", "log": "Log", "sqrt": "Sqrt",
                        "tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu", "abs": "Abs",
                        "clone": "Identity", "contiguous": "Identity", "erf": "Erf",
                        "sin": "Sin", "cos": "Cos", "reciprocal": "Reciprocal",
                        "floor": "Floor", "ceil": "Ceil", "sign": "Sign"}.items():
    converter(_name)(_unary(_op_type))


@converter("rsqrt")
def _rsqrt(ctx: Context, ev: Event) -> str:
    return ctx.node("Reciprocal", [ctx.node("Sqrt", [ctx.value(ev.args[0])])])


@converter("silu")
def _silu(ctx: Context, ev: Event) -> str:
    x = ctx.value(ev.args[0])
    return ctx.node("Mul", [x, ctx.node("Sigmoid", [x])])


@converter("leaky_relu")
def _leaky_relu(ctx: Context, ev: Event) -> str:
    return ctx.node("LeakyRelu", [ctx.value(ev.args[0])], alpha=float(ev.args[1]))


@converter("elu")
def _elu(ctx: Context, ev: Event) -> str:
    x = ctx.value(ev.args[0])
    alpha, scale, input_scale = (float(v) for v in ev.args[1:4])
    if scale == 1.0 and input_scale == 1.0:
        return ctx.node("Elu", [x], alpha=alpha)
    # SELU and CELU pass a scale or an input scale that ONNX's Elu lacks:
    # scale * (x if x > 0 else alpha * (exp(input_scale * x) - 1)).
    dtype = _out_dtype(ev)
    scaled = ctx.node("Mul", [x, ctx.value(input_scale, dtype)])
    negative = ctx.node("Mul", [ctx.node("Sub", [ctx.node("Exp", [scaled]),
                                                 ctx.value(1.0, dtype)]),
                                ctx.value(alpha, dtype)])
    chosen = ctx.node("Where", [ctx.node("Greater", [x, ctx.value(0.0, dtype)]), x, negative])
    return ctx.node("Mul", [chosen, ctx.value(scale, dtype)])


@converter("gelu")
def _gelu(ctx: Context, ev: Event) -> str:
    x = ctx.value(ev.args[0])
    approximate = ev.args[1] if len(ev.args) > 1 else ev.params.get("approximate", "none")
    if ctx.opset >= 20:
        return ctx.node("Gelu", [x], approximate=approximate)
    dtype = _out_dtype(ev)
    if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
        cube = ctx.node("Mul", [ctx.node("Mul", [x, x]), x])
        inner = ctx.node("Add", [x, ctx.node("Mul", [cube, ctx.value(0.044715, dtype)])])
        inner = ctx.node("Mul", [inner, ctx.value(math.sqrt(2 / math.pi), dtype)])
        gate = ctx.node("Tanh", [inner])
    else:  # 0.5 x (1 + erf(x / sqrt(2)))
        gate = ctx.node("Erf", [ctx.node("Mul", [x, ctx.value(1 / math.sqrt(2), dtype)])])
    half = ctx.node("Mul", [x, ctx.value(0.5, dtype)])
    return ctx.node("Mul", [half, ctx.node("Add", [gate, ctx.value(1.0, dtype)])])


@converter("hardtanh")
def _hardtanh(ctx: Context, ev: Event) -> str:
    dtype = _out_dtype(ev)
    return ctx.node("Clip", [ctx.value(ev.args[0]), ctx.value(ev.args[1], dtype),
                             ctx.value(ev.args[2], dtype)])


@converter("softplus")
def _softplus(ctx: Context, ev: Event) -> str:
    x = ctx.value(ev.args[0])
    beta, threshold = float(ev.args[1]), float(ev.args[2])
    dtype = _out_dtype(ev)
    scaled = ctx.node("Mul", [x, ctx.value(beta, dtype)])
    soft = ctx.node("Div", [ctx.node("Softplus", [scaled]), ctx.value(beta, dtype)])
    # PyTorch returns x itself where beta * x > threshold (for numerical stability).
    return ctx.node("Where", [ctx.node("Greater", [scaled, ctx.value(threshold, dtype)]), x, soft])


def _softmax(op_type: str):
    def convert(ctx: Context, ev: Event) -> str:
        axes = ev.args[1]
        x = ev.args[0]
        if axes is None or len(axes) != 1:
            raise ev.fail(f"softmax over dims {axes} is not exported (one dim is)")
        return ctx.node(op_type, [ctx.value(x)], axis=int(axes[0]) % max(x.ndim, 1))
    return convert


converter("softmax")(_softmax("Softmax"))
converter("log_softmax")(_softmax("LogSoftmax"))


@converter("attention_softmax")
def _attention_softmax(ctx: Context, ev: Event) -> str:
    x, scale, causal = ev.args[:3]
    dtype = _out_dtype(ev)
    scores = ctx.node("Mul", [operand(ctx, x, dtype), ctx.value(scale, dtype)])
    if causal:  # the traced (L, S)'s mask, a constant (as the unfused ops' mask was)
        keep = ctx.value(np.tri(*x.shape[-2:], dtype=bool))
        scores = ctx.node("Where", [keep, scores, ctx.value(-np.inf, dtype)])
    return ctx.node("Softmax", [scores], axis=x.ndim - 1)


def _reduce(op_type: str, axes_input_since: int):
    def convert(ctx: Context, ev: Event) -> str:
        x, axes, keepdim = ev.args[0], ev.args[1], bool(ev.args[2])
        if isinstance(axes, int):
            axes = (axes,)
        inputs = [operand(ctx, x, _out_dtype(ev))]  # a sum of bools counts in int64
        attributes: dict[str, Any] = {"keepdims": int(keepdim)}
        if axes is not None and len(axes) > 0:
            axes = [int(a) % max(x.ndim, 1) for a in axes]
            if ctx.opset >= axes_input_since:
                inputs.append(ctx.graph.ints(axes))
            else:
                attributes["axes"] = axes
        return ctx.node(op_type, inputs, **attributes)
    return convert


converter("sum")(_reduce("ReduceSum", 13))
converter("mean")(_reduce("ReduceMean", 18))
converter("amax")(_reduce("ReduceMax", 18))
converter("amin")(_reduce("ReduceMin", 18))


@converter("matmul")
def _matmul(ctx: Context, ev: Event) -> str:
    return ctx.node("MatMul", [ctx.value(ev.args[0]), ctx.value(ev.args[1])])


@converter("linear")
def _linear(ctx: Context, ev: Event) -> str:
    x, weight, bias = ev.args[:3]
    # Gemm takes the weight as stored ((out, in), named as in the state dict) for 2-d inputs.
    if x.ndim == 2 and weight.ndim == 2:
        inputs = [ctx.value(x), ctx.value(weight)]
        if bias is not None:
            inputs.append(ctx.value(bias))
        return ctx.node("Gemm", inputs, transB=1)
    out = ctx.node("MatMul", [ctx.value(x), ctx.node("Transpose", [ctx.value(weight)])])
    return out if bias is None else ctx.node("Add", [out, ctx.value(bias)])


@converter("embedding")
def _embedding(ctx: Context, ev: Event) -> str:
    indices, weight = ev.args[:2]
    return ctx.node("Gather", [ctx.value(weight), ctx.value(indices)], axis=0)


def _pads(pairs: Any) -> list[int]:
    return [int(lo) for lo, _ in pairs] + [int(hi) for _, hi in pairs]


@converter("convolution")
def _convolution(ctx: Context, ev: Event) -> str:
    x, weight, bias, stride, padding, dilation, groups = ev.args[:7]
    if any(lo < 0 or hi < 0 for lo, hi in padding):
        raise ev.fail(f"negative padding {padding} is not exported")
    inputs = [ctx.value(x), ctx.value(weight)] + ([] if bias is None else [ctx.value(bias)])
    return ctx.node("Conv", inputs, kernel_shape=list(weight.shape[2:]),
                    strides=list(stride), pads=_pads(padding), dilations=list(dilation),
                    group=int(groups))


@converter("max_pool", dynamic=(1, 2))  # the maxima found beforehand: not read
def _max_pool(ctx: Context, ev: Event) -> str:
    window = ev.params.get("window")
    if window is None:
        raise ev.fail("adaptive and fractional max pooling are not exported (max_pool1d/2d/3d "
                      "and MaxPool1d/2d/3d are)")
    kernel, stride, pads, dilation, ceil_mode = window
    return ctx.node("MaxPool", [ctx.value(ev.args[0])], kernel_shape=list(kernel),
                    strides=list(stride), pads=[int(p) for p in pads] * 2,
                    dilations=list(dilation), ceil_mode=int(ceil_mode))


@converter("avg_pool")
def _avg_pool(ctx: Context, ev: Event) -> str:
    x, kernel, stride, padding, divisor = ev.args[:5]
    if isinstance(divisor, np.ndarray):
        count_include_pad = 0  # the divisor counts each window's cells inside the input
    elif float(divisor) == float(np.prod(kernel)):
        count_include_pad = 1  # every window divides by its full area
    else:
        raise ev.fail(f"avg_pool with divisor {divisor} (divisor_override) is not exported")
    # The padding covers every window: a longer after side means ceil mode; a shorter one,
    # rows floor mode never reaches either.
    ceil_mode = int(any(hi > lo for lo, hi in padding))
    pads = [int(lo) for lo, _ in padding] * 2
    return ctx.node("AveragePool", [ctx.value(x)], kernel_shape=list(kernel),
                    strides=list(stride), pads=pads, ceil_mode=ceil_mode,
                    count_include_pad=count_include_pad)


@converter("layer_norm")
def _layer_norm(ctx: Context, ev: Event) -> list:
    x, weight, bias, axes, eps = ev.args[:5]
    axes = sorted(int(a) % x.ndim for a in axes)
    if axes != list(range(axes[0], x.ndim)):
        raise ev.fail(f"layer norm over dims {axes} is not exported (trailing dims are)")
    dtype = np.dtype(x.dtype)
    normalized = tuple(x.shape[axes[0]:])
    scale = (ctx.value(weight) if weight is not None
             else ctx.value(np.ones(normalized, dtype)))
    inputs = [ctx.value(x), scale] + ([] if bias is None else [ctx.value(bias)])
    out = ctx.node("LayerNormalization", inputs, axis=axes[0], epsilon=float(eps))
    return [out] + [None] * (len(ev.out) - 1)


@converter("conv_transpose")
def _conv_transpose(ctx: Context, ev: Event) -> str:
    x, weight, bias, stride, padding, dilation, groups = ev.args[:7]
    # The crop is (padding, padding - output_padding) per spatial dim.
    pads = [int(lo) for lo, _ in padding]
    extra = [int(lo) - int(hi) for lo, hi in padding]
    inputs = [ctx.value(x), ctx.value(weight)] + ([] if bias is None else [ctx.value(bias)])
    return ctx.node("ConvTranspose", inputs, kernel_shape=list(weight.shape[2:]),
                    strides=list(stride), pads=pads * 2, dilations=list(dilation),
                    group=int(groups), output_padding=extra if any(extra) else None)


def _gates(ctx: Context, x: Any, count: int) -> list:
    size = int(x.shape[-1]) // count
    return ctx.node("Split", [ctx.value(x), ctx.graph.ints([size] * count)], count, axis=-1)


@converter("fused_lstm_cell")
def _lstm_cell(ctx: Context, ev: Event) -> list:
    """One step of LSTMCell: gates (i, f, g, o) from the summed products, c' = f c + i g,
    h' = o tanh(c'); the third output (the activated gates, kept for the gradient) is not
    written."""
    gi, gh, c = ev.args[:3]
    pre = ctx.node("Add", [ctx.value(gi), ctx.value(gh)])
    size = int(gi.shape[-1]) // 4
    i, f, g, o = ctx.node("Split", [pre, ctx.graph.ints([size] * 4)], 4, axis=-1)
    i, f, o = (ctx.node("Sigmoid", [gate]) for gate in (i, f, o))
    c_next = ctx.node("Add", [ctx.node("Mul", [f, ctx.value(c)]),
                              ctx.node("Mul", [i, ctx.node("Tanh", [g])])])
    return [ctx.node("Mul", [o, ctx.node("Tanh", [c_next])]), c_next, None]


@converter("fused_gru_cell")
def _gru_cell(ctx: Context, ev: Event) -> str:
    """One step of GRUCell: r, z = sigmoid(gi + gh), n = tanh(gi_n + r gh_n), h' = n + z (h - n)."""
    gi, gh, h = ev.args[:3]
    gi_r, gi_z, gi_n = _gates(ctx, gi, 3)
    gh_r, gh_z, gh_n = _gates(ctx, gh, 3)
    r = ctx.node("Sigmoid", [ctx.node("Add", [gi_r, gh_r])])
    z = ctx.node("Sigmoid", [ctx.node("Add", [gi_z, gh_z])])
    n = ctx.node("Tanh", [ctx.node("Add", [gi_n, ctx.node("Mul", [r, gh_n])])])
    h_name = ctx.value(h)
    return ctx.node("Add", [n, ctx.node("Mul", [z, ctx.node("Sub", [h_name, n])])])


@converter("clamp")
def _clamp(ctx: Context, ev: Event) -> str:
    x, low, high = ev.args[:3]
    dtype = _out_dtype(ev)
    out = operand(ctx, x, dtype)
    # Clip wants scalar bounds; tensor bounds broadcast, so they go through Max and Min.
    if low is not None:
        out = ctx.node("Max", [out, operand(ctx, low, dtype)])
    if high is not None:
        out = ctx.node("Min", [out, operand(ctx, high, dtype)])
    return out


def _elementwise_binary(op_type: str):
    def convert(ctx: Context, ev: Event) -> str:
        dtype = _out_dtype(ev)
        return ctx.node(op_type, [operand(ctx, x, dtype) for x in ev.args[:2]])
    return convert


converter("maximum")(_elementwise_binary("Max"))
converter("minimum")(_elementwise_binary("Min"))


@converter("prelu")
def _prelu(ctx: Context, ev: Event) -> str:
    x, weight = ev.args[:2]
    slope = ctx.value(weight)
    if weight.ndim == 1 and weight.shape[0] > 1 and x.ndim > 2:
        # One slope per channel (dim 1): ONNX broadcasts from the right, so (C, 1, ..., 1).
        slope = ctx.node("Reshape", [slope, ctx.graph.ints([-1] + [1] * (x.ndim - 2))])
    return ctx.node("PRelu", [ctx.value(x), slope])


@converter("logsigmoid")
def _logsigmoid(ctx: Context, ev: Event) -> str:
    # log(sigmoid(x)) = -softplus(-x), without the log of an underflowed sigmoid.
    negated = ctx.node("Neg", [ctx.value(ev.args[0])])
    return ctx.node("Neg", [ctx.node("Softplus", [negated])])


@converter("logsumexp")
def _logsumexp(ctx: Context, ev: Event) -> str:
    x, axes, keepdim = ev.args[:3]
    return _reduced(ctx, "ReduceLogSumExp", ctx.value(x), _positive_axes(x, axes), keepdim)


@converter("argmax")
def _argmax(ctx: Context, ev: Event) -> str:
    x, axis, keepdim = ev.args[:3]
    name = ctx.value(x)
    if axis is None:  # over the flattened tensor
        name = ctx.node("Reshape", [name, ctx.graph.ints([-1])])
        axis, keepdim = 0, False
    return ctx.node("ArgMax", [name], axis=int(axis) % max(x.ndim, 1), keepdims=int(keepdim),
                    select_last_index=0)


@converter("cumsum")
def _cumsum(ctx: Context, ev: Event) -> str:
    x, axis = ev.args[:2]
    return ctx.node("CumSum", [ctx.value(x), ctx.value(np.int64(int(axis) % max(x.ndim, 1)))])


@converter("rms_norm")
def _rms_norm(ctx: Context, ev: Event) -> list:
    """x / sqrt(mean(x^2 over axes) + eps) * weight."""
    x, weight, axes, eps = ev.args[:4]
    dtype = _out_dtype(ev)
    name = ctx.value(x)
    axes = [int(a) % x.ndim for a in axes]
    square = ctx.node("Mul", [name, name])
    if ctx.opset >= 18:
        mean = ctx.node("ReduceMean", [square, ctx.graph.ints(axes)], keepdims=1)
    else:
        mean = ctx.node("ReduceMean", [square], axes=axes, keepdims=1)
    eps = float(np.finfo(dtype).eps) if eps is None else float(eps)
    scale = ctx.node("Reciprocal", [ctx.node("Sqrt", [ctx.node("Add", [mean,
                                                                       ctx.value(eps, dtype)])])])
    out = ctx.node("Mul", [name, scale])
    if weight is not None:
        out = ctx.node("Mul", [out, ctx.value(weight)])
    return [out] + [None] * (len(ev.out) - 1)


@converter("norm")
def _norm(ctx: Context, ev: Event) -> str:
    x, p, axes, keepdim = ev.args[:4]
    name = ctx.value(x)
    p = float(p)
    op_type = {1.0: "ReduceL1", 2.0: "ReduceL2", math.inf: "ReduceMax"}.get(p)
    if op_type is None:
        raise ev.fail(f"the {p}-norm is not exported (1, 2 and inf are)")
    if p == math.inf:
        name = ctx.node("Abs", [name])
    return _reduced(ctx, op_type, name, _positive_axes(x, axes), keepdim)


def _positive_axes(x: Any, axes: Any) -> list[int] | None:
    return None if axes is None else [int(a) % max(x.ndim, 1) for a in axes]


def _reduced(ctx: Context, op_type: str, name: str, axes: list[int] | None, keepdim: bool) -> str:
    """A Reduce* node over ``axes`` (all when None), axes as an input from opset 18."""
    if axes is None:
        return ctx.node(op_type, [name], keepdims=int(keepdim))
    if ctx.opset >= 18 or op_type == "ReduceSum":
        return ctx.node(op_type, [name, ctx.graph.ints(axes)], keepdims=int(keepdim))
    return ctx.node(op_type, [name], axes=axes, keepdims=int(keepdim))


def _variance(ctx: Context, ev: Event, name: str, x: Any, axes: list[int] | None,
              correction: float, keepdim: bool) -> tuple[str, str]:
    """(variance, mean): the mean of squared deviations times n / (n - correction), n read
    from the input's shape (a reduced axis may be dynamic)."""
    dtype = _out_dtype(ev)
    mean = _reduced(ctx, "ReduceMean", name, axes, True)
    deviation = ctx.node("Sub", [name, mean])
    variance = _reduced(ctx, "ReduceMean", ctx.node("Mul", [deviation, deviation]), axes,
                        keepdim)
    if correction:
        from ._graph import tensor_type

        sizes = ctx.shape_of(name)
        if axes is not None:
            sizes = ctx.node("Gather", [sizes, ctx.graph.ints(axes)], axis=0)
        count = ctx.node("Cast", [ctx.node("ReduceProd", [sizes], keepdims=0)],
                         to=tensor_type(dtype))
        factor = ctx.node("Div", [count, ctx.node("Sub", [count,
                                                          ctx.value(correction, dtype)])])
        variance = ctx.node("Mul", [variance, factor])
    if not keepdim:
        mean = ctx.node("Squeeze", [mean, ctx.graph.ints(axes if axes is not None
                                                         else list(range(x.ndim)))])
    return variance, mean


def _axes(x: Any, axes: Any) -> list[int] | None:
    if axes is None:
        return None
    return [int(a) % max(x.ndim, 1) for a in ((axes,) if isinstance(axes, int) else axes)]


@converter("var", "std", "var_mean")
def _var(ctx: Context, ev: Event) -> Any:
    x, axes, correction, keepdim = ev.args[:4]
    variance, mean = _variance(ctx, ev, ctx.value(x), x, _axes(x, axes), float(correction),
                               bool(keepdim))
    if ev.name == "std":
        return ctx.node("Sqrt", [variance])
    return [variance, mean] if ev.name == "var_mean" else variance


@converter("group_norm")
def _group_norm(ctx: Context, ev: Event) -> list:
    """(x - mean) / sqrt(var + eps) over ``axes``, then the weight and bias (which broadcast)."""
    x, weight, bias, axes, eps = ev.args[:5]
    dtype = _out_dtype(ev)
    name = ctx.value(x)
    variance, mean = _variance(ctx, ev, name, x, _axes(x, axes), 0.0, True)
    scale = ctx.node("Sqrt", [ctx.node("Add", [variance, ctx.value(float(eps), dtype)])])
    out = ctx.node("Div", [ctx.node("Sub", [name, mean]), scale])
    if weight is not None:
        out = ctx.node("Mul", [out, ctx.value(weight)])
    if bias is not None:
        out = ctx.node("Add", [out, ctx.value(bias)])
    return [out] + [None] * (len(ev.out) - 1)


@converter("index_select")
def _index_select(ctx: Context, ev: Event) -> str:
    x, dim, index = ev.args[:3]
    return ctx.node("Gather", [ctx.value(x), operand(ctx, index, np.dtype(np.int64))],
                    axis=int(dim) % max(x.ndim, 1))


@converter("gather")
def _gather(ctx: Context, ev: Event) -> str:
    x, dim, index = ev.args[:3]
    return ctx.node("GatherElements", [ctx.value(x), operand(ctx, index, np.dtype(np.int64))],
                    axis=int(dim) % max(x.ndim, 1))
