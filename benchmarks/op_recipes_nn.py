"""Recipes of ``benchmarks.op_recipes`` for recurrent cells, convolution, pooling and the
``nn.functional`` layers and losses (a (16, 8, 32, 32) image, or the (100, 1000) inputs as a
batch of 100 rows). Importing ``benchmarks.op_recipes`` registers them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.op_recipes import RECIPES, Recipe, _array, _index, _leaf, _shaped, calls, recipe

# ---------------------------------------------------------------------------------------------
# Recurrent cells: batch 100, 256 features, 256 hidden units.

def _cell_args(lib: Any, x: Any, gates: int) -> list[Any]:
    inp, h = _shaped(lib, x, (100, 256)), _shaped(lib, x, (100, 256))
    w_ih = _leaf(lib, x, (_array(x).ravel()[: gates * 256 * 256 // 4].repeat(4)
                          .reshape(gates * 256, 256) - 0.5) / 16)
    w_hh = _leaf(lib, x, (np.resize(_array(x), (gates * 256, 256)) - 0.5) / 16)
    b_ih, b_hh = _shaped(lib, x, (gates * 256,)), _shaped(lib, x, (gates * 256,))
    return [inp, h, w_ih, w_hh, b_ih, b_hh]


@recipe("rnn_tanh_cell", "batch 100, 256 -> 256")
def _rnn_tanh(lib, x, y):
    inp, h, *w = _cell_args(lib, x, 1)
    return lambda: lib.rnn_tanh_cell(inp, h, *w)


@recipe("rnn_relu_cell", "batch 100, 256 -> 256")
def _rnn_relu(lib, x, y):
    inp, h, *w = _cell_args(lib, x, 1)
    return lambda: lib.rnn_relu_cell(inp, h, *w)


@recipe("gru_cell", "batch 100, 256 -> 256")
def _gru(lib, x, y):
    inp, h, *w = _cell_args(lib, x, 3)
    return lambda: lib.gru_cell(inp, h, *w)


@recipe("lstm_cell", "batch 100, 256 -> 256")
def _lstm(lib, x, y):
    inp, h, *w = _cell_args(lib, x, 4)
    c = _shaped(lib, y, (100, 256))
    return lambda: lib.lstm_cell(inp, (h, c), *w)


# ---------------------------------------------------------------------------------------------
# Convolution and pooling: a (16,8,32,32) image (131k elements), 16 filters of 3x3.

IMAGE = (16, 8, 32, 32)


@recipe("conv1d", "(16,8,800) * 16x8x3")
def _conv1d(lib, x, y):
    a, w = _shaped(lib, x, (16, 8, 800)), _shaped(lib, y, (16, 8, 3))
    return lambda: lib.conv1d(a, w)


calls("conv2d nn.functional.conv2d", "(16,8,32,32) * 16x8x3x3, padding 1",
      lambda lib, x, y: (_shaped(lib, x, IMAGE), _shaped(lib, y, (16, 8, 3, 3)),
                         _shaped(lib, y, (16,))), padding=1)


@recipe("conv3d", "(4,8,16,16,16) * 8x8x3x3x3")
def _conv3d(lib, x, y):
    a, w = _shaped(lib, x, (4, 8, 16, 16, 16)), _shaped(lib, y, (8, 8, 3, 3, 3))
    return lambda: lib.conv3d(a, w)


@recipe("conv_transpose1d", "(16,8,800) * 8x16x3")
def _convt1d(lib, x, y):
    a, w = _shaped(lib, x, (16, 8, 800)), _shaped(lib, y, (8, 16, 3))
    return lambda: lib.conv_transpose1d(a, w)


@recipe("conv_transpose2d", "(16,8,32,32) * 8x16x3x3")
def _convt2d(lib, x, y):
    a, w = _shaped(lib, x, IMAGE), _shaped(lib, y, (8, 16, 3, 3))
    return lambda: lib.conv_transpose2d(a, w)


@recipe("conv_transpose3d", "(4,8,16,16,16) * 8x8x3x3x3")
def _convt3d(lib, x, y):
    a, w = _shaped(lib, x, (4, 8, 16, 16, 16)), _shaped(lib, y, (8, 8, 3, 3, 3))
    return lambda: lib.conv_transpose3d(a, w)


@recipe("avg_pool1d", "(16,8,800), 3")
def _avg_pool1d(lib, x, y):
    a = _shaped(lib, x, (16, 8, 800))
    return lambda: lib.avg_pool1d(a, 3)


@recipe("adaptive_avg_pool1d", "(16,8,800) -> 10")
def _adaptive_avg_pool1d(lib, x, y):
    a = _shaped(lib, x, (16, 8, 800))
    return lambda: lib.adaptive_avg_pool1d(a, 10)


@recipe("max_pool1d", "(16,8,800), 3")
def _max_pool1d(lib, x, y):
    a = _shaped(lib, x, (16, 8, 800))
    return lambda: lib.max_pool1d(a, 3)


calls("max_pool2d nn.functional.max_pool2d", "(16,8,32,32), 2",
      lambda lib, x, y: (_shaped(lib, x, IMAGE), 2))


@recipe("max_pool3d", "(4,8,16,16,16), 2")
def _max_pool3d(lib, x, y):
    a = _shaped(lib, x, (4, 8, 16, 16, 16))
    return lambda: lib.max_pool3d(a, 2)


_F_IMAGE: dict[str, Callable[[Any, Any], Any]] = {
    "nn.functional.avg_pool2d": lambda F, a: F.avg_pool2d(a, 2),
    "nn.functional.max_pool2d:3x3s1": lambda F, a: F.max_pool2d(a, 3, 1, 1),
    "nn.functional.adaptive_avg_pool2d": lambda F, a: F.adaptive_avg_pool2d(a, 1),
    "nn.functional.interpolate": lambda F, a: F.interpolate(a, scale_factor=2, mode="nearest"),
    "nn.functional.interpolate:bilinear": lambda F, a: F.interpolate(
        a, scale_factor=2, mode="bilinear", align_corners=False),
    "nn.functional.pad": lambda F, a: F.pad(a, (1, 1, 1, 1)),
    "nn.functional.pad:reflect": lambda F, a: F.pad(a, (1, 1, 1, 1), mode="reflect"),
    "nn.functional.group_norm": lambda F, a: F.group_norm(a, 4),
    "nn.functional.instance_norm": lambda F, a: F.instance_norm(a),
    "nn.functional.unfold": lambda F, a: F.unfold(a, 3, padding=1),
}
def _on_image(call: Callable[[Any, Any], Any]) -> Callable:
    def build(lib: Any, x: Any, y: Any) -> Callable[[], Any]:
        a = _shaped(lib, x, IMAGE)
        return lambda: call(lib.nn.functional, a)
    return build


for _op, _call in _F_IMAGE.items():
    RECIPES[_op] = Recipe(_on_image(_call), "(16,8,32,32)")


@recipe("nn.functional.batch_norm", "(16,8,32,32), training, 8 channels")
def _batch_norm(lib, x, y):
    a = _shaped(lib, x, IMAGE)
    w, b = _shaped(lib, y, (8,)), _shaped(lib, x, (8,))
    mean, var = lib.zeros(8), lib.ones(8)
    return lambda: lib.nn.functional.batch_norm(a, mean, var, w, b, training=True)


@recipe("nn.functional.batch_norm:eval", "(16,8,32,32), running statistics")
def _batch_norm_eval(lib, x, y):
    a = _shaped(lib, x, IMAGE)
    w, b = _shaped(lib, y, (8,)), _shaped(lib, x, (8,))
    mean, var = lib.zeros(8), lib.ones(8)
    return lambda: lib.nn.functional.batch_norm(a, mean, var, w, b, training=False)


# ---------------------------------------------------------------------------------------------
# nn.functional on the (100, 1000) inputs: a batch of 100 rows of 1000 features / classes.

@recipe("nn.functional.linear", "(100,1000) @ (100,1000).T + 100")
def _linear(lib, x, y):
    b = _shaped(lib, y, (100,))
    return lambda: lib.nn.functional.linear(x, y, b)


@recipe("nn.functional.embedding", "1e4 indices into (1000,100)")
def _embedding(lib, x, y):
    i = _index(lib, 1000, (100, 100))
    w = _shaped(lib, x, (1000, 100))
    return lambda: lib.nn.functional.embedding(i, w)


@recipe("nn.functional.one_hot", "1e4 indices, 10 classes", backward=False)
def _one_hot(lib, x, y):
    i = _index(lib, 10, (10_000,))
    return lambda: lib.nn.functional.one_hot(i, 10)


@recipe("nn.functional.cross_entropy", "100x1000 logits, 100 targets")
def _cross_entropy(lib, x, y):
    t = _index(lib, 1000, (100,))
    return lambda: lib.nn.functional.cross_entropy(x, t)


@recipe("nn.functional.cross_entropy:smooth", "100x1000 logits, label smoothing 0.1")
def _cross_entropy_smooth(lib, x, y):
    t = _index(lib, 1000, (100,))
    return lambda: lib.nn.functional.cross_entropy(x, t, label_smoothing=0.1)


@recipe("nn.functional.nll_loss", "100x1000 log-probabilities, 100 targets")
def _nll(lib, x, y):
    t = _index(lib, 1000, (100,))
    return lambda: lib.nn.functional.nll_loss(x, t)


@recipe("nn.functional.mse_loss", "2 x 100x1000")
def _mse(lib, x, y):
    t = y.detach()
    return lambda: lib.nn.functional.mse_loss(x, t)


@recipe("nn.functional.binary_cross_entropy", "2 x 100x1000")
def _bce(lib, x, y):
    t = y.detach()
    return lambda: lib.nn.functional.binary_cross_entropy(x, t)


@recipe("nn.functional.binary_cross_entropy_with_logits", "2 x 100x1000")
def _bce_logits(lib, x, y):
    t = y.detach()
    return lambda: lib.nn.functional.binary_cross_entropy_with_logits(x, t)


@recipe("nn.functional.layer_norm", "100x1000 over 1000, weight and bias")
def _layer_norm(lib, x, y):
    w, b = _shaped(lib, y, (1000,)), _shaped(lib, x, (1000,))
    return lambda: lib.nn.functional.layer_norm(x, (1000,), w, b)


@recipe("nn.functional.normalize", "100x1000 dim=1")
def _normalize(lib, x, y):
    return lambda: lib.nn.functional.normalize(x, dim=1)


@recipe("nn.functional.softmax", "100x1000 dim=-1")
def _f_softmax(lib, x, y):
    return lambda: lib.nn.functional.softmax(x, dim=-1)


@recipe("nn.functional.log_softmax", "100x1000 dim=-1")
def _f_log_softmax(lib, x, y):
    return lambda: lib.nn.functional.log_softmax(x, dim=-1)


@recipe("nn.functional.gelu", "100x1000")
def _gelu(lib, x, y):
    return lambda: lib.nn.functional.gelu(x)


@recipe("nn.functional.silu", "100x1000")
def _silu(lib, x, y):
    return lambda: lib.nn.functional.silu(x)


@recipe("nn.functional.dropout:eval", "100x1000, training=False")
def _dropout_eval(lib, x, y):
    return lambda: lib.nn.functional.dropout(x, 0.5, training=False)


@recipe("nn.functional.scaled_dot_product_attention", "(4,4,100,64) q, k, v")
def _sdpa(lib, x, y):
    q, k = _shaped(lib, x, (4, 4, 100, 64)), _shaped(lib, y, (4, 4, 100, 64))
    v = _shaped(lib, x, (4, 4, 100, 64))
    return lambda: lib.nn.functional.scaled_dot_product_attention(q, k, v)
