"""Bad input, one row per mistake: each call raises a clear error that names the op or layer and
the argument (a regex on the message), or, where PyTorch defines a result (NaN propagates, an
empty batch gives an empty output, a mean over nothing is NaN), gives that result.

Rows marked xfail (strict) are mistakes whose fix lives in a file this table does not own; the
reason says which fix. When it lands, the row passes, strict xfail fails, and the mark goes.
The `backprop` command's rows check the promise that every user error is one line on stderr
with exit code 2, never a traceback.
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Any, Callable

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F
from backprop import nn
from backprop.errors import DimError, DTypeError, ShapeError
from backprop.utils.data import DataLoader, TensorDataset

NAN, INF = float("nan"), float("inf")


def row(id: str, call: Callable[[], Any], error: type[BaseException] | None = None,
        match: str | None = None, check: Callable[[Any], bool] | None = None,
        xfail: str | None = None) -> Any:
    """One table row: ``call`` raises ``error`` matching ``match``, or returns a value that
    ``check`` accepts."""
    marks = [pytest.mark.xfail(reason=xfail, strict=True)] if xfail else []
    return pytest.param(call, error, match, check, id=id, marks=marks)


def values(t: bp.Tensor) -> np.ndarray:
    return t.detach().numpy()


def x(*shape: int, seed: int = 0, dtype: Any = np.float32) -> bp.Tensor:
    return bp.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def labels(*items: int) -> bp.Tensor:
    return bp.tensor(np.array(items, dtype=np.int64))


def ce_reference(logits: bp.Tensor, target: list[int], keep: list[int]) -> float:
    """Mean cross-entropy over the rows in ``keep`` (what ignore_index leaves), in float64."""
    z = values(logits).astype(np.float64)
    log_p = z - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)) \
        - z.max(1, keepdims=True)
    return float(np.mean([-log_p[i, target[i]] for i in keep]))


def stepped_unchanged(param: bp.Tensor) -> bool:
    """An optimizer holding ``param`` (which never gets a gradient) steps without touching it."""
    before = values(param).copy()
    optimizer = bp.optim.SGD([param], lr=0.1)
    optimizer.step()
    return np.array_equal(values(param), before)


def loaded_non_strict() -> bool:
    layer = nn.Linear(2, 2)
    weight = bp.full((2, 2), 3.0)
    result = layer.load_state_dict({"weight": weight, "extra": bp.ones(1)}, strict=False)
    return (result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
            and np.array_equal(values(layer.weight), values(weight)))


def loaded_int_into_float() -> bool:
    layer = nn.Linear(2, 2)
    layer.load_state_dict({"weight": bp.ones(2, 2, dtype=bp.int64), "bias": bp.zeros(2)})
    return (layer.weight.dtype == bp.float32
            and np.array_equal(values(layer.weight), np.ones((2, 2))))


def same_as_contiguous(make_layer: Callable[[], nn.Module], array: np.ndarray) -> bool:
    """A layer gives the same output for a strided/reversed view as for a contiguous copy."""
    bp.manual_seed(0)
    layer = make_layer()
    strided = values(layer(bp.from_numpy(array)))
    contiguous = values(layer(bp.tensor(np.ascontiguousarray(array))))
    return np.allclose(strided, contiguous, rtol=1e-6, atol=1e-6)


def mse_with_broadcast() -> bp.Tensor:
    """PyTorch warns that a (3,) target against a (3, 1) input broadcasts to (3, 3)."""
    with pytest.warns(UserWarning, match=r"mse_loss: target shape \(3,\) differs from input "
                      r"shape \(3, 1\)"):
        return F.mse_loss(x(3, 1), x(3))


def quiet(call: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``call`` with NumPy's RuntimeWarnings ("mean of empty slice", "invalid value in
    subtract") silenced: PyTorch gives the same NaN without a warning."""
    def run() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return call()
    return run


REVERSED = np.arange(24, dtype=np.float32).reshape(2, 3, 4)[::-1, :, ::-1]
TRANSPOSED = np.arange(15, dtype=np.float32).reshape(3, 5).T
BIG_ENDIAN = np.arange(4, dtype=">f4")

LIBRARY_ROWS = [
    # -- layers: wrong shapes and dtypes -------------------------------------------------------
    row("Linear/in_features", lambda: nn.Linear(4, 3)(x(2, 5)), ShapeError,
        r"linear: .*input of shape \(2, 5\).*weight of shape \(3, 4\)"),
    row("Linear/0-d input", lambda: nn.Linear(4, 3)(bp.tensor(1.0)), ShapeError,
        r"linear: input must be at least 1-D"),
    row("Linear/negative size", lambda: nn.Linear(-1, 3), ValueError,
        r"Linear: in_features must be a non-negative integer, got -1"),
    row("Linear/float size", lambda: nn.Linear(4, 2.5), ValueError,
        r"Linear: out_features must be a non-negative integer, got 2.5"),
    row("Linear/empty batch", lambda: nn.Linear(4, 3)(x(0, 4)).shape,
        check=lambda shape: shape == (0, 3)),
    row("Conv2d/2-d input", lambda: nn.Conv2d(3, 8, 3)(x(3, 8)), ShapeError,
        r"conv2d: expected a 3-d \(unbatched\) or 4-d \(batched\) input, got shape \(3, 8\)"),
    row("Conv2d/in_channels", lambda: nn.Conv2d(3, 8, 3)(x(1, 4, 8, 8)), ShapeError,
        r"conv2d: the input has 4 channels \(in_channels\).*expects 3"),
    row("Conv2d/kernel larger than input", lambda: nn.Conv2d(3, 8, 5)(x(1, 3, 3, 3)),
        ShapeError, r"conv2d: the kernel \(5, 5\).*larger than the padded input \(3, 3\)"),
    row("Conv2d/groups", lambda: nn.Conv2d(3, 8, 3, groups=2), ValueError,
        r"Conv2d: in_channels \(3\) must be divisible by groups \(2\)"),
    row("Conv2d/negative channels", lambda: nn.Conv2d(-3, 8, 3), ValueError,
        r"Conv2d: in_channels must be a non-negative integer, got -3"),
    row("Conv2d/zero kernel", lambda: nn.Conv2d(3, 8, 0), ValueError,
        r"Conv2d: kernel_size must be a positive integer, got 0"),
    row("Conv2d/zero stride", lambda: nn.Conv2d(3, 8, 3, stride=0), ValueError,
        r"Conv2d: stride must be a positive integer, got 0"),
    row("conv2d/zero stride", lambda: F.conv2d(x(1, 3, 8, 8), x(8, 3, 3, 3), stride=0),
        ValueError, r"conv2d: stride must be positive"),
    row("Conv2d/empty batch", lambda: nn.Conv2d(3, 8, 3)(x(0, 3, 8, 8)).shape,
        check=lambda shape: shape == (0, 8, 6, 6)),
    row("BatchNorm1d/channels", lambda: nn.BatchNorm1d(4)(x(8, 5)), ValueError,
        r"BatchNorm1d: expected 4 channels \(dim 1\) but the input of shape \(8, 5\) has 5"),
    row("BatchNorm1d/batch of one", lambda: nn.BatchNorm1d(4)(x(1, 4)), ValueError,
        r"batch_norm: expected more than 1 value per channel when training.*\(1, 4\)"),
    row("BatchNorm1d/4-d input", lambda: nn.BatchNorm1d(4)(x(2, 4, 5, 5)), ValueError,
        r"BatchNorm1d: expected 2D or 3D input, got a 4D input"),
    row("BatchNorm1d/empty batch in eval", lambda: nn.BatchNorm1d(4).eval()(x(0, 4)).shape,
        check=lambda shape: shape == (0, 4)),
    row("BatchNorm2d/3-d input", lambda: nn.BatchNorm2d(4)(x(4, 5, 5)), ValueError,
        r"BatchNorm2d: expected 4D input, got a 3D input of shape \(4, 5, 5\)"),
    row("BatchNorm2d/channels", lambda: nn.BatchNorm2d(4)(x(2, 3, 5, 5)), ValueError,
        r"BatchNorm2d: expected 4 channels \(dim 1\)"),
    row("LayerNorm/normalized_shape", lambda: nn.LayerNorm(8)(x(2, 7)), ShapeError,
        r"layer_norm: normalized_shape \(8,\) does not match .*\(2, 7\)"),
    row("LayerNorm/empty batch", lambda: nn.LayerNorm(4)(x(0, 4)).shape,
        check=lambda shape: shape == (0, 4)),
    row("Embedding/float indices", lambda: nn.Embedding(10, 3)(bp.tensor([1.0, 2.0])),
        DTypeError, r"embedding: input must be a tensor of integer indices"),
    row("Embedding/index == num_embeddings", lambda: nn.Embedding(10, 3)(labels(1, 10)),
        IndexError, r"embedding: index 10 is out of range for a table of 10 rows"),
    row("Embedding/negative index", lambda: nn.Embedding(10, 3)(labels(-1)), IndexError,
        r"embedding: index -1 is out of range"),
    row("Embedding/index 2**62", lambda: nn.Embedding(10, 3)(labels(2**62)), IndexError,
        r"embedding: index 4611686018427387904 is out of range"),
    row("Embedding/uint64 max", lambda: nn.Embedding(10, 3)(bp.tensor(np.array([2**64 - 1],
                                                                             np.uint64))),
        IndexError, r"embedding: index 18446744073709551615 is out of range"),
    row("Embedding/negative size", lambda: nn.Embedding(-1, 3), ValueError,
        r"Embedding: num_embeddings must be a non-negative integer, got -1"),
    row("Embedding/padding_idx", lambda: nn.Embedding(10, 3, padding_idx=10), ValueError,
        r"Embedding: padding_idx 10 must be within \[-10, 10\)"),
    row("LSTM/input_size", lambda: nn.LSTM(3, 4)(x(5, 2, 4)), ShapeError,
        r"LSTM: input has 4 features, expected input_size=3"),
    row("GRU/4-d input", lambda: nn.GRU(3, 4)(x(5, 2, 1, 3)), ShapeError,
        r"GRU: expected input to be 2-D \(sequence, features\) or 3-D \(batched\)"),
    row("LSTM/h_0 batch", lambda: nn.LSTM(3, 4)(x(5, 2, 3), (x(1, 3, 4), x(1, 3, 4))),
        ShapeError, r"LSTM: hx\[0\] \(h_0\) has shape \(1, 3, 4\), expected \(1, 2, 4\)"),
    row("RNN/h_0 without batch for batched input", lambda: nn.RNN(3, 4)(x(5, 2, 3), x(1, 4)),
        ShapeError, r"RNN: for batched 3-D input, hx must be 3-D, got shape \(1, 4\)"),
    row("LSTM/proj_size", lambda: nn.LSTM(3, 4, proj_size=5), ValueError,
        r"LSTM: proj_size \(5\) must be smaller than hidden_size \(4\)"),
    row("pack_padded_sequence/unsorted", lambda: nn.utils.rnn.pack_padded_sequence(
        x(3, 2, 1), [2, 3]), ValueError, r"pack_padded_sequence: lengths must be sorted in "
        r"decreasing order when enforce_sorted is True, got \[2, 3\]; pass enforce_sorted=False"),
    row("pack_padded_sequence/too long", lambda: nn.utils.rnn.pack_padded_sequence(
        x(3, 2, 1), [4, 3]), ValueError,
        r"pack_padded_sequence: a length of 4 exceeds the 3 time steps of the input"),
    row("MultiheadAttention/embed_dim", lambda: nn.MultiheadAttention(8, 2)(
        x(3, 2, 6), x(3, 2, 6), x(3, 2, 6)), ShapeError,
        r"expected embedding size 8, got query of shape \(3, 2, 6\)"),
    row("MultiheadAttention/num_heads", lambda: nn.MultiheadAttention(8, 3), ValueError,
        r"MultiheadAttention: embed_dim \(8\) must be divisible by num_heads \(3\)"),
    row("MultiheadAttention/key vs value", lambda: nn.MultiheadAttention(8, 2)(
        x(3, 2, 8), x(4, 2, 8), x(5, 2, 8)), ShapeError,
        r"multi_head_attention: key \(4, 2, 8\) and value \(5, 2, 8\)"),
    row("MultiheadAttention/key_padding_mask", lambda: nn.MultiheadAttention(
        8, 2, batch_first=True)(x(2, 3, 8), x(2, 3, 8), x(2, 3, 8),
                                key_padding_mask=bp.zeros(2, 4, dtype=bp.bool)), ShapeError,
        r"key_padding_mask of shape \(2, 4\) must be \(N, S\) = \(2, 3\)"),
    row("MultiheadAttention/empty batch", lambda: nn.MultiheadAttention(8, 2, batch_first=True)(
        x(0, 3, 8), x(0, 3, 8), x(0, 3, 8))[0].shape, check=lambda shape: shape == (0, 3, 8)),
    row("MaxPool2d/kernel larger than input", lambda: nn.MaxPool2d(4)(x(1, 1, 2, 2)),
        ShapeError, r"max_pool2d: the output size \(0, 0\) is too small"),
    row("MaxPool2d/2-d input", lambda: nn.MaxPool2d(2)(x(4, 4)), ShapeError,
        r"max_pool2d: expected a 3-d \(unbatched\) or 4-d \(batched\) input"),
    row("MaxPool2d/padding", lambda: nn.MaxPool2d(2, padding=2)(x(1, 1, 4, 4)), ValueError,
        r"max_pool2d: padding \(2, 2\) must be non-negative and at most half of kernel_size"),
    row("MaxPool2d/zero stride", lambda: nn.MaxPool2d(2, stride=0)(x(1, 1, 4, 4)), ValueError,
        r"max_pool2d: stride must be positive"),
    row("AvgPool2d/negative kernel", lambda: nn.AvgPool2d(-1)(x(1, 1, 4, 4)), ValueError,
        r"avg_pool2d: kernel_size must be positive, got -1"),
    row("pooling/empty batch", lambda: (nn.MaxPool2d(2)(x(0, 1, 4, 4)).shape,
                                        nn.AvgPool2d(2)(x(0, 1, 4, 4)).shape),
        check=lambda shapes: shapes == ((0, 1, 2, 2), (0, 1, 2, 2))),
    # -- losses ---------------------------------------------------------------------------------
    row("cross_entropy/label == C", lambda: F.cross_entropy(x(2, 3), labels(0, 3)), IndexError,
        r"cross_entropy: target class 3 is out of range for 3 classes"),
    row("cross_entropy/negative label", lambda: F.cross_entropy(x(2, 3), labels(0, -2)),
        IndexError, r"cross_entropy: target class -2 is out of range .*ignore_index=-100"),
    row("cross_entropy/ignore_index -100", lambda: (
        F.cross_entropy(x(3, 4), labels(2, -100, 1)).item(), ce_reference(x(3, 4), [2, 0, 1],
                                                                          [0, 2])),
        check=lambda got: math.isclose(*got, rel_tol=1e-5)),
    row("cross_entropy/ignore_index 7", lambda: (
        F.cross_entropy(x(3, 4), labels(7, 3, 0), ignore_index=7).item(),
        ce_reference(x(3, 4), [0, 3, 0], [1, 2])),
        check=lambda got: math.isclose(*got, rel_tol=1e-5)),
    row("cross_entropy/all ignored is nan", lambda: F.cross_entropy(x(2, 3),
                                                                    labels(-100, -100)).item(),
        check=math.isnan),
    row("cross_entropy/batch sizes", lambda: F.cross_entropy(x(2, 3), labels(0, 1, 2)),
        ShapeError, r"cross_entropy: target of shape \(3,\) does not fit input of shape \(2, 3\)"),
    row("cross_entropy/float labels", lambda: F.cross_entropy(x(2, 3), bp.tensor([0.0, 1.0])),
        DTypeError, r"cross_entropy: class-index target must be an integer \(int64\) tensor"),
    row("cross_entropy/integer logits", lambda: F.cross_entropy(
        bp.ones(2, 3, dtype=bp.int64), labels(0, 1)), DTypeError,
        r"cross_entropy: input must be a floating point tensor, got int64"),
    row("cross_entropy/weight size", lambda: F.cross_entropy(x(2, 3), labels(0, 1),
                                                             weight=bp.ones(4)),
        ShapeError, r"cross_entropy: weight of shape \(4,\) must be a vector with one entry"),
    row("cross_entropy/label_smoothing", lambda: F.cross_entropy(x(2, 3), labels(0, 1),
                                                                 label_smoothing=1.5),
        ValueError, r"cross_entropy: label_smoothing must be in \[0, 1\], got 1.5"),
    row("cross_entropy/empty batch is nan", lambda: F.cross_entropy(
        x(0, 3), bp.tensor(np.zeros(0, np.int64))).item(), check=math.isnan),
    row("cross_entropy/(N, C, L) label", lambda: F.cross_entropy(
        x(2, 3, 4), bp.tensor([[0, 1, 2, 0], [1, 1, 1, 5]])), IndexError,
        r"cross_entropy: target class 5 is out of range for 3 classes"),
    row("nll_loss/label", lambda: F.nll_loss(x(2, 3), labels(0, 5)), IndexError,
        r"nll_loss: target class 5 is out of range for 3 classes"),
    row("nll_loss/weight size", lambda: F.nll_loss(x(2, 3), labels(0, 1), weight=bp.ones(2)),
        ShapeError, r"nll_loss: weight of shape \(2,\)"),
    row("mse_loss/shapes", lambda: F.mse_loss(x(3), x(4)), ShapeError,
        r"mse_loss: target of shape \(4,\) does not broadcast with input of shape \(3,\)"),
    row("mse_loss/broadcast warns", mse_with_broadcast, check=lambda loss: loss.shape == ()),
    row("mse_loss/reduction", lambda: F.mse_loss(x(3), x(3), reduction="avg"), ValueError,
        r"mse_loss: 'avg' is not a valid value for reduction"),
    row("mse_loss/empty", quiet(lambda: (F.mse_loss(x(0), x(0)).item(),
                                         F.mse_loss(x(0), x(0), reduction="sum").item())),
        check=lambda got: math.isnan(got[0]) and got[1] == 0.0),
    row("l1_loss/shapes", lambda: F.l1_loss(x(3), x(2)), ShapeError,
        r"l1_loss: target of shape \(2,\) does not broadcast"),
    row("huber_loss/shapes", lambda: F.huber_loss(x(3), x(2)), ShapeError,
        r"huber_loss: target of shape \(2,\)"),
    row("smooth_l1_loss/beta", lambda: F.smooth_l1_loss(x(3), x(3), beta=-1.0), ValueError,
        r"smooth_l1_loss: beta must be >= 0, got -1.0"),
    row("kl_div/shapes", lambda: F.kl_div(x(3), x(2)), ShapeError,
        r"kl_div: target of shape \(2,\)"),
    row("bce/input above 1", lambda: F.binary_cross_entropy(bp.tensor([1.5]), bp.tensor([1.0])),
        ValueError, r"binary_cross_entropy: input values must be probabilities in \[0, 1\], "
        r"found 1.5"),
    row("bce/nan input", lambda: F.binary_cross_entropy(bp.tensor([NAN]), bp.tensor([1.0])),
        ValueError, r"binary_cross_entropy: .*\[0, 1\], found nan"),
    row("bce/shapes", lambda: F.binary_cross_entropy(bp.rand(3, 1), bp.rand(3)), ShapeError,
        r"binary_cross_entropy: target of shape \(3,\) must have the input's shape \(3, 1\)"),
    row("bce_with_logits/shapes", lambda: F.binary_cross_entropy_with_logits(x(3), bp.rand(4)),
        ShapeError, r"binary_cross_entropy_with_logits: target of shape \(4,\)"),
    row("bce_with_logits/int target", lambda: F.binary_cross_entropy_with_logits(
        x(3), labels(0, 1, 1)), DTypeError,
        r"binary_cross_entropy_with_logits: target must be a floating point tensor, got int64"),
    row("bce_with_logits/pos_weight", lambda: F.binary_cross_entropy_with_logits(
        x(2, 3), bp.rand(2, 3), pos_weight=bp.ones(4)), ShapeError,
        r"pos_weight of shape \(4,\) does not broadcast with input of shape \(2, 3\)"),
    # -- NaN and inf propagate, as in PyTorch: no error -----------------------------------------
    row("nan/Linear", lambda: values(nn.Linear(2, 1)(bp.tensor([[NAN, 1.0]]))),
        check=lambda out: np.isnan(out).all()),
    row("nan/LSTM", lambda: values(nn.LSTM(2, 3)(bp.tensor([[[NAN, 1.0]], [[0.0, 1.0]]]))[0]),
        check=lambda out: np.isnan(out).all()),
    row("nan/cross_entropy", lambda: F.cross_entropy(bp.tensor([[NAN, 0.0]]), labels(0)).item(),
        check=math.isnan),
    row("inf/cross_entropy", quiet(lambda: (
        F.cross_entropy(bp.tensor([[INF, 0.0]]), labels(0)).item(),
        F.cross_entropy(bp.tensor([[0.0, -INF]]), labels(0)).item())),
        check=lambda got: math.isnan(got[0]) and got[1] == 0.0),
    row("inf/softmax", quiet(lambda: values(F.softmax(bp.tensor([INF, 0.0]), 0))),
        check=lambda out: np.isnan(out).all()),
    row("nan/bce_with_logits", lambda: F.binary_cross_entropy_with_logits(
        bp.tensor([NAN]), bp.tensor([1.0])).item(), check=math.isnan),
    row("nan/BatchNorm1d", lambda: values(nn.BatchNorm1d(2)(bp.tensor([[NAN, 1.0], [0.0, 2.0]]))),
        check=lambda out: np.isnan(out[:, 0]).all() and np.allclose(out[:, 1], [-1, 1],
                                                                      atol=1e-4)),
    row("nan/MaxPool1d", lambda: values(nn.MaxPool1d(2)(bp.tensor([[[NAN, 1.0, 2.0, 3.0]]]))),
        check=lambda out: np.isnan(out[0, 0, 0]) and out[0, 0, 1] == 3.0),
    row("nan/backward", lambda: (lambda w: ((w * NAN).sum().backward(), values(w.grad))[1])(
        bp.ones(2, requires_grad=True)), check=lambda grad: np.isnan(grad).all()),
    # -- zero-size tensors ------------------------------------------------------------------------
    row("empty/sum and mean", quiet(lambda: (x(0, 3).sum().item(), x(0, 3).mean().item())),
        check=lambda got: got[0] == 0.0 and math.isnan(got[1])),
    row("empty/max", lambda: x(0, 3).max(), ShapeError,
        r"amax: cannot reduce over a dim of size 0 \(input shape \(0, 3\)\)"),
    row("empty/matmul", lambda: values(bp.zeros(0, 3) @ bp.ones(3, 2)),
        check=lambda out: out.shape == (0, 2)),
    row("zeros/negative size", lambda: bp.zeros(-1), ValueError,
        r"zeros: sizes must be non-negative, got \(-1,\)"),
    row("zeros/float size", lambda: bp.zeros(2.5), TypeError,
        r"zeros: sizes must be integers, got 2.5 \(float\)"),
    row("softmax/dim", lambda: F.softmax(x(2, 3), dim=2), DimError,
        r"softmax: dim 2 is out of range for a tensor with 2 dimensions"),
    # -- NumPy arrays: strided, reversed, foreign --------------------------------------------------
    row("tensor/non-contiguous", lambda: bp.tensor(np.arange(12.0).reshape(3, 4)[:, ::2]).tolist(),
        check=lambda got: got == [[0.0, 2.0], [4.0, 6.0], [8.0, 10.0]]),
    row("tensor/negative stride", lambda: bp.tensor(REVERSED).numpy(),
        check=lambda got: np.array_equal(got, REVERSED) and got.flags.owndata),
    row("from_numpy/negative stride", lambda: bp.from_numpy(REVERSED),
        check=lambda t: np.array_equal(values(t), REVERSED) and np.shares_memory(values(t),
                                                                                REVERSED)),
    row("from_numpy/transposed", lambda: values(bp.from_numpy(TRANSPOSED).sum(0)),
        check=lambda got: np.allclose(got, TRANSPOSED.sum(0))),
    row("Linear/transposed input", lambda: same_as_contiguous(lambda: nn.Linear(3, 2),
                                                             TRANSPOSED[:, :3]),
        check=bool),
    row("LSTM/reversed input", lambda: same_as_contiguous(
        lambda: (lambda lstm: lambda t: lstm(t)[0])(nn.LSTM(4, 2)), REVERSED), check=bool),
    row("Conv2d/reversed input", lambda: same_as_contiguous(lambda: nn.Conv2d(2, 3, 2),
                                                           REVERSED[None]), check=bool),
    row("Embedding/reversed indices", lambda: values(nn.Embedding(5, 2)(
        bp.from_numpy(np.arange(4)[::-1]))).shape, check=lambda shape: shape == (4, 2)),
    row("tensor/big-endian array", lambda: bp.tensor(BIG_ENDIAN),
        check=lambda t: t.dtype == bp.float32 and t.tolist() == [0.0, 1.0, 2.0, 3.0]),
    row("from_numpy/big-endian array", lambda: bp.from_numpy(BIG_ENDIAN), TypeError,
        r"from_numpy: the array is >f4 \(not the machine's byte order\)"),
    row("from_numpy/object array", lambda: bp.from_numpy(np.array([1, None])), TypeError,
        r"from_numpy: dtype object is not supported"),
    row("tensor/object array", lambda: bp.tensor(np.array([object()])), TypeError,
        r"tensor: cannot make a tensor from an array of dtype object"),
    row("from_numpy/read-only array", lambda: (lambda a: (a.setflags(write=False),
                                                          bp.from_numpy(a).add_(1)))(np.ones(2)),
        ValueError, r"add_: this tensor's memory is read-only"),
    # -- indices: out of range, beyond int64 ------------------------------------------------------
    row("gather/out of range", lambda: bp.gather(x(2, 3), 1, bp.tensor([[0, 3]])), IndexError,
        r"gather: index 3 is out of range for dimension 1 with size 3"),
    row("gather/index 2**62", lambda: bp.gather(x(2, 3), 1, bp.tensor([[0, 2**62]])),
        IndexError, r"gather: index 4611686018427387904 is out of range"),
    row("gather/float index", lambda: bp.gather(x(2, 3), 1, bp.tensor([[0.0, 1.0]])),
        DTypeError, r"gather: index must be an integer \(int64\) tensor, got float32"),
    row("index_select/out of range", lambda: bp.index_select(x(2, 3), 1, labels(5)),
        IndexError, r"index_select: index 5 is out of range for dimension 1 with size 3"),
    row("index_select/uint64 max", lambda: bp.index_select(
        x(2, 3), 1, bp.tensor(np.array([2**64 - 1], np.uint64))), IndexError,
        r"index_select: index 18446744073709551615 is out of range"),
    row("getitem/index 2**62", lambda: x(3)[labels(2**62)], IndexError,
        r"getitem: index 4611686018427387904 is out of range for dimension 0 with size 3"),
    row("scatter/out of range", lambda: bp.scatter(bp.zeros(2, 2), 1, bp.tensor([[2], [0]]),
                                                   value=1.0),
        IndexError, r"scatter: index 2 is out of range for dimension 1 with size 2"),
    row("tensor/integer beyond int64", lambda: bp.tensor([1, 2**64]), OverflowError,
        r"tensor: the integer 18446744073709551616 does not fit in int64"),
    # -- devices: unknown types and indices that do not exist (the strict stand-in has 0 and 1)
    row("device/zeros strict:2", lambda: bp.zeros(2, device="strict:2"), ValueError,
        r"zeros: strict:2 does not exist; the strict stand-in has devices 0 to 1"),
    row("device/tensor bad index", lambda: bp.tensor([1.0], device="cuda:x"), ValueError,
        r"tensor: the index in 'cuda:x' must be a non-negative integer"),
    row("device/randn mps", lambda: bp.randn(2, device="mps"), ValueError,
        r"randn: unknown device type 'mps'; expected one of cpu, cuda, strict"),
    row("device/Linear strict:9", lambda: nn.Linear(2, 2, device="strict:9"), ValueError,
        r"Parameter: strict:9 does not exist"),
    row("device/cpu works", lambda: (bp.ones(2, device="cpu").device,
                                     bp.zeros_like(bp.ones(1), device="cpu").device),
        check=lambda got: got == ("cpu", "cpu")),
    row("device/Tensor.to tpu", lambda: bp.ones(2).to("tpu"), ValueError,
        r"to: unknown device type 'tpu'"),
    row("device/Module.to strict:3", lambda: nn.Linear(2, 2).to("strict:3"), ValueError,
        r"Module.to: strict:3 does not exist"),
    row("device/mixed", lambda: bp.ones(2, device="strict:1") * bp.ones(2), RuntimeError,
        r"mul: expected all tensors to be on the same device, but found at least two devices, "
        r"strict:1 and cpu"),
    # -- optimizers -------------------------------------------------------------------------------
    row("optimizer/not a tensor", lambda: bp.optim.SGD([1.0], lr=0.1), TypeError,
        r"SGD: optimizer can only optimize Tensors, but params\[0\] is a float"),
    row("optimizer/non-leaf", lambda: bp.optim.SGD([bp.ones(2, requires_grad=True) * 2], lr=0.1),
        ValueError, r"SGD: can't optimize a non-leaf Tensor \(params\[0\] of shape \(2,\)"),
    row("optimizer/int tensor is skipped", lambda: stepped_unchanged(bp.ones(2, dtype=bp.int64)),
        check=bool),
    row("optimizer/tensor without grad is skipped", lambda: stepped_unchanged(bp.ones(2)),
        check=bool),
    row("optimizer/one tensor", lambda: bp.optim.SGD(bp.ones(2, requires_grad=True), lr=0.1),
        TypeError, r"SGD: params should be an iterable of Tensors or dicts, but got a single"),
    row("optimizer/a module", lambda: bp.optim.Adam(nn.Linear(2, 2)), TypeError,
        r"Adam: params should be an iterable .* got .*Linear; pass model.parameters\(\)"),
    row("optimizer/empty", lambda: bp.optim.SGD([], lr=0.1), ValueError,
        r"SGD: optimizer got an empty parameter list"),
    row("optimizer/duplicate", lambda: (lambda p: bp.optim.SGD([p, p], lr=0.1))(
        nn.Parameter(bp.ones(2))), ValueError, r"SGD: a parameter group contains the same "),
    row("optimizer/a set in a group", lambda: bp.optim.SGD(
        [{"params": {nn.Parameter(bp.ones(2))}}], lr=0.1), TypeError,
        r"SGD: optimizer parameters need to be organized in ordered collections"),
    row("optimizer/negative lr", lambda: bp.optim.SGD(nn.Linear(2, 2).parameters(), lr=-0.1),
        ValueError, r"SGD: invalid learning rate lr=-0.1"),
    row("optimizer/betas", lambda: bp.optim.Adam(nn.Linear(2, 2).parameters(), betas=(1.5, 0.9)),
        ValueError, r"Adam: invalid beta parameter at index 0: betas\[0\]=1.5"),
    row("optimizer/lr as text", lambda: bp.optim.SGD(nn.Linear(2, 2).parameters(), lr="0.1"),
        TypeError, r"SGD: .*lr"),
    row("optimizer/load_state_dict groups", lambda: bp.optim.SGD(
        nn.Linear(2, 2).parameters(), lr=0.1).load_state_dict(
        {"state": {}, "param_groups": [{"params": [0], "lr": 0.1}]}), ValueError,
        r"SGD.load_state_dict: loaded state dict contains a parameter group that doesn't match"),
    # -- load_state_dict --------------------------------------------------------------------------
    row("load_state_dict/missing", lambda: nn.Linear(2, 2).load_state_dict(
        {"weight": bp.ones(2, 2)}), RuntimeError, r"(?s)load_state_dict: .*missing keys: 'bias'"),
    row("load_state_dict/unexpected", lambda: nn.Linear(2, 2).load_state_dict(
        {**nn.Linear(2, 2).state_dict(), "extra": bp.ones(1)}), RuntimeError,
        r"unexpected keys: 'extra'"),
    row("load_state_dict/mis-shaped", lambda: nn.Linear(2, 2).load_state_dict(
        {"weight": bp.ones(3, 2), "bias": bp.ones(2)}), RuntimeError,
        r"size mismatch for weight: .*\(3, 2\)"),
    row("load_state_dict/non-strict", loaded_non_strict, check=bool),
    row("load_state_dict/non-strict mis-shaped", lambda: nn.Linear(2, 2).load_state_dict(
        {"weight": bp.ones(3, 2)}, strict=False), RuntimeError, r"size mismatch for weight"),
    row("load_state_dict/int values into float", loaded_int_into_float, check=bool),
    row("load_state_dict/not a dict", lambda: nn.Linear(2, 2).load_state_dict([1, 2]),
        TypeError, r"load_state_dict: .*state_dict.* dict"),
    # -- DataLoader -------------------------------------------------------------------------------
    row("DataLoader/batch_size 0", lambda: DataLoader(TensorDataset(x(4, 2)), batch_size=0),
        ValueError, r"batch_size should be a positive integer value, but got batch_size=0"),
    row("DataLoader/batch_size -1", lambda: DataLoader(TensorDataset(x(4, 2)), batch_size=-1),
        ValueError, r"but got batch_size=-1"),
    row("DataLoader/batch_size 2.5", lambda: DataLoader(TensorDataset(x(4, 2)), batch_size=2.5),
        ValueError, r"but got batch_size=2.5"),
    row("DataLoader/batch_size None", lambda: next(iter(DataLoader(TensorDataset(x(4, 2)),
                                                                   batch_size=None)))[0].shape,
        check=lambda shape: shape == (2,)),
    row("DataLoader/not a dataset", lambda: DataLoader(5), TypeError,
        r"DataLoader: dataset must be a map-style Dataset .* got int"),
    row("DataLoader/num_workers", lambda: DataLoader(TensorDataset(x(4, 2)), num_workers=-1),
        ValueError, r"DataLoader: num_workers option should be non-negative"),
    row("DataLoader/empty dataset", lambda: list(DataLoader(TensorDataset(x(0, 2)),
                                                            batch_size=2)),
        check=lambda batches: batches == []),
    row("TensorDataset/sizes", lambda: TensorDataset(x(4, 2), x(3)), ValueError,
        r"TensorDataset: size mismatch between tensors.*\(tensor 0: 4, tensor 1: 3\)"),
]


@pytest.mark.parametrize("call, error, match, check", LIBRARY_ROWS)
def test_bad_call(call, error, match, check):
    if error is not None:
        with pytest.raises(error, match=match):
            call()
    else:
        assert check(call())


def test_the_table_is_large_and_has_no_duplicate_rows():
    ids = [param.id for param in LIBRARY_ROWS]
    assert len(ids) >= 50 and len(set(ids)) == len(ids)


# -- files the library refuses -----------------------------------------------------------------


@pytest.mark.parametrize("make, error, match", [
    (lambda tmp: tmp, IsADirectoryError, r"Is a directory"),
    (lambda tmp: tmp / "missing.safetensors", FileNotFoundError,
     r"load: no checkpoint file at this path"),
    (lambda tmp: (tmp / "notes.txt", (tmp / "notes.txt").write_text("hello"))[0],
     bp.serialization.CheckpointError, r"load: .*notes.txt is not a checkpoint"),
], ids=["directory", "missing", "text file"])
def test_load_refuses_what_is_not_a_checkpoint_file(make, error, match, tmp_path):
    pytest.importorskip("safetensors")
    with pytest.raises(error, match=match):
        bp.load(make(tmp_path))


# -- the `backprop` command: one line on stderr, exit code 2 ------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Broken inputs for the command, and one sound (untrained) `backprop train` checkpoint."""
    pytest.importorskip("safetensors")
    import safetensors.numpy
    from backprop.train.config import TrainConfig
    from backprop.train.models import build_model

    folder = tmp_path_factory.mktemp("cli")
    paths = {name: folder / name for name in (
        "notes.txt", "folder", "bad.toml", "broken.toml", "unknown.toml", "plain.safetensors",
        "state.safetensors", "truncated.safetensors", "train.safetensors", "fake.png",
        "wrong.npy", "objects.npy", "out")}
    paths["notes.txt"].write_text("hello\n")
    paths["folder"].mkdir()
    paths["bad.toml"].write_text('epochs = "many"\n')
    paths["broken.toml"].write_text("epochs = \n")
    paths["unknown.toml"].write_text("nonsense = 1\n")
    safetensors.numpy.save_file({"a": np.zeros(2)}, str(paths["plain.safetensors"]))
    bp.save(nn.Linear(2, 2).state_dict(), paths["state.safetensors"])
    paths["truncated.safetensors"].write_bytes(paths["state.safetensors"].read_bytes()[:-5])
    config = TrainConfig(hidden=(8,), progress=False)
    bp.manual_seed(0)
    model = build_model(config, (1, 8, 8), 10)
    bp.save({"format": "backprop-train-1", "config": config.to_dict(), "epoch": 1,
             "classes": [str(i) for i in range(10)], "image_shape": [1, 8, 8],
             "normalize": [0.0, 1.0], "model": model.state_dict()}, paths["train.safetensors"])
    paths["fake.png"].write_bytes(b"not a picture")
    np.save(paths["wrong.npy"], np.zeros((3, 7)))
    np.save(paths["objects.npy"], np.array([{"x": 1}], dtype=object), allow_pickle=True)
    return {name: str(path) for name, path in paths.items()}


def cli_row(id: str, argv: list[str], match: str, xfail: str | None = None,
            real_training: bool = False) -> Any:
    marks = [pytest.mark.xfail(reason=xfail, strict=True)] if xfail else []
    return pytest.param(argv, match, real_training, id=id, marks=marks)


CLI_ROWS = [
    cli_row("no command", [], r"the following arguments are required: command"),
    cli_row("unknown command", ["frobnicate"], r"invalid choice: 'frobnicate'"),
    cli_row("unknown flag", ["train", "--frobnicate"], r"unrecognized arguments: --frobnicate"),
    cli_row("epochs -1", ["train", "--epochs", "-1"], r"epochs must be at least 1; got -1"),
    cli_row("epochs not a number", ["train", "--epochs", "many"], r"epochs .*'many'"),
    cli_row("batch-size 0", ["train", "--batch-size", "0"], r"--batch-size must be at least 1"),
    cli_row("lr negative", ["train", "--lr", "-1"],
            r"--lr must be a positive finite number; got -1.0"),
    cli_row("lr nan", ["train", "--lr", "nan"], r"--lr must be a positive finite number"),
    cli_row("model unknown", ["train", "--model", "transformer"],
            r"argument --model: invalid choice: 'transformer' \(choose from 'mlp', 'cnn', "
            r"'resnet'\)"),
    cli_row("hidden not numbers", ["train", "--hidden", "abc"], r"hidden .*'abc'"),
    cli_row("hidden negative", ["train", "--hidden", "8,-3"], r"hidden .* positive"),
    cli_row("checkpoint-every negative", ["train", "--checkpoint-every", "-5"],
            r"--checkpoint-every .*-5"),
    cli_row("config missing", ["train", "--config", "{folder}/missing.toml"],
            r"--config: no such file"),
    cli_row("config is a folder", ["train", "--config", "{folder}"], r"--config: .*folder"),
    cli_row("config bad value", ["train", "--config", "{bad.toml}"], r"epochs .*'many'"),
    cli_row("config not TOML", ["train", "--config", "{broken.toml}"], r"is not valid TOML"),
    cli_row("config text file", ["train", "--config", "{notes.txt}"], r"is not valid TOML"),
    cli_row("config unknown key", ["train", "--config", "{unknown.toml}"],
            r"unknown setting 'nonsense'"),
    cli_row("resume missing", ["train", "--resume", "{folder}/missing.safetensors"],
            r"--resume: no such checkpoint"),
    cli_row("resume a folder", ["train", "--resume", "{folder}"], r"--resume: .*folder"),
    cli_row("resume a text file", ["train", "--resume", "{notes.txt}"], r"is not a checkpoint",
            real_training=True),
    cli_row("resume the wrong kind", ["train", "--resume", "{state.safetensors}"],
            r"not one written by `backprop train`", real_training=True),
    cli_row("evaluate missing", ["evaluate", "{folder}/missing.safetensors"], r"no such file"),
    cli_row("evaluate a folder", ["evaluate", "{folder}"], r"folder"),
    cli_row("evaluate a text file", ["evaluate", "{notes.txt}"], r"is not a checkpoint"),
    cli_row("evaluate plain safetensors", ["evaluate", "{plain.safetensors}"],
            r"not a backprop checkpoint"),
    cli_row("evaluate truncated", ["evaluate", "{truncated.safetensors}"],
            r"is truncated or corrupted"),
    cli_row("evaluate the wrong kind", ["evaluate", "{state.safetensors}"],
            r"is a checkpoint, but not one written by `backprop train`"),
    cli_row("evaluate --out is a file", ["evaluate", "{train.safetensors}", "--out",
                                         "{notes.txt}"], r"notes.txt"),
    cli_row("predict missing input", ["predict", "{train.safetensors}"],
            r"the following arguments are required: input"),
    cli_row("predict the wrong kind", ["predict", "{state.safetensors}", "{wrong.npy}"],
            r"not one written by `backprop train`"),
    cli_row("predict a folder", ["predict", "{train.safetensors}", "{folder}"], r"folder"),
    cli_row("predict not an image", ["predict", "{train.safetensors}", "{fake.png}"],
            r"predict: .*fake.png is not a PNG file"),
    cli_row("predict wrong shape", ["predict", "{train.safetensors}", "{wrong.npy}"],
            r"predict: .*wrong.npy holds 21 values of shape \(3, 7\)"),
    cli_row("predict pickled objects", ["predict", "{train.safetensors}", "{objects.npy}"],
            r"allow_pickle=False"),
    cli_row("profile steps -1", ["profile", "--steps", "-1"], r"--steps must be at least 1"),
    cli_row("landscape missing", ["landscape", "{folder}/missing.safetensors"],
            r"CHECKPOINT: no such file"),
    cli_row("landscape the wrong kind", ["landscape", "{state.safetensors}"],
            r"not one written by `backprop train`"),
    cli_row("landscape bad steps", ["landscape", "{train.safetensors}", "--steps", "-3"],
            r"steps must be an integer of at least 2"),
]


def run_command(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    from backprop.cli import main

    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("argv, match, real_training", CLI_ROWS)
def test_a_user_error_is_one_line_and_exit_code_2(argv, match, real_training, files, capsys,
                                                  monkeypatch, tmp_path):
    import backprop.train.loop

    if not real_training:  # a row that reaches training has failed: never spend time there
        def no_training(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("training started: the mistake was not caught")
        monkeypatch.setattr(backprop.train.loop, "train", no_training)
    monkeypatch.chdir(tmp_path)  # anything written by mistake lands in a scratch folder
    for name, path in files.items():  # "{notes.txt}" -> the fixture's file
        argv = [arg.replace("{" + name + "}", path) for arg in argv]
    if argv[:1] == ["train"] and real_training:
        argv += ["--epochs", "1", "--hidden", "8", "--no-progress", "--out", str(tmp_path)]
    code, err = run_command(argv, capsys)
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("backprop: error: "), err
    assert code == 2, err
    assert re.search(match, err), err


def test_an_unreadable_checkpoint_is_a_user_error(files, capsys, monkeypatch):
    from backprop import serialization

    def denied(path: Any, *args: Any, **kwargs: Any) -> Any:  # chmod 000 means nothing to root
        raise PermissionError(13, "Permission denied", str(path))
    monkeypatch.setattr(serialization, "open", denied, raising=False)
    code, err = run_command(["evaluate", files["train.safetensors"]], capsys)
    assert err.count("\n") == 1 and "Permission denied" in err, err
    assert code == 2, err


def test_the_sound_checkpoint_behind_the_cli_rows_evaluates(files, capsys, tmp_path):
    # The rows above fail for the reason they name, not because the fixture is broken.
    code, err = run_command(["evaluate", files["train.safetensors"], "--out", str(tmp_path)],
                            capsys)
    assert code == 0, err
