"""Layer classes against PyTorch's: the same layer is built in both libraries, PyTorch's weights
are copied into ours, and the forward values, the input gradients and the parameter gradients
must agree in float64 (rtol 1e-8). Each case also checks that the printed layer, the parameter
names and shapes and the ``state_dict`` keys are PyTorch's.

Then what a single comparison cannot show: BatchNorm's running statistics over several training
steps and in eval mode, dropout's statistics, initial weight distributions, constructor errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop import nn

RTOL, ATOL = 1e-8, 1e-12

# PyTorch's own notes: performance of padding='same' with even kernels, KLDivLoss's 'mean'.
pytestmark = [pytest.mark.filterwarnings("ignore:Using padding='same'"),
              pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")]


class Const:
    """An input that gets no gradient (targets, masks, indices)."""

    def __init__(self, value: Any) -> None:
        self.value = value


@dataclass
class Case:
    """``build(lib)`` makes the layer in bp or torch; ``inputs(rng)`` the positional arguments
    (float arrays get requires_grad unless wrapped in ``Const``); ``kwargs(rng)`` keyword ones."""

    id: str
    build: Callable[[Any], Any]
    inputs: Callable[[np.random.Generator], list]
    kwargs: Callable[[np.random.Generator], dict] = field(default=lambda rng: {})
    train: bool = True
    rtol: float = RTOL


def randn(*shape: int, scale: float = 1.0) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.standard_normal(shape) * scale


def x(*shape: int, scale: float = 1.0) -> Callable[[np.random.Generator], list]:
    """A single float input."""
    return lambda rng: [rng.standard_normal(shape) * scale]


def softmax(a: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


# -- the cases ----------------------------------------------------------------------------------

LAYER_CASES = [
    Case("Linear", lambda l: l.nn.Linear(4, 3), x(2, 4)),
    Case("Linear-3d-input", lambda l: l.nn.Linear(4, 3), x(2, 5, 4)),
    Case("Linear-unbatched", lambda l: l.nn.Linear(4, 3), x(4)),
    Case("Linear-no-bias", lambda l: l.nn.Linear(4, 3, bias=False), x(2, 4)),
    Case("Bilinear", lambda l: l.nn.Bilinear(3, 2, 4), lambda r: [r.standard_normal((5, 3)),
                                                                  r.standard_normal((5, 2))]),
    Case("Bilinear-no-bias", lambda l: l.nn.Bilinear(3, 2, 4, bias=False),
         lambda r: [r.standard_normal((5, 3)), r.standard_normal((5, 2))]),
    Case("Identity", lambda l: l.nn.Identity(3, key="ignored"), x(2, 3)),
    Case("Flatten", lambda l: l.nn.Flatten(), x(2, 3, 2, 2)),
    Case("Flatten-0-1", lambda l: l.nn.Flatten(0, 1), x(2, 3, 4)),
    Case("Unflatten", lambda l: l.nn.Unflatten(1, (2, 3)), x(4, 6)),
    Case("Unflatten-minus-one", lambda l: l.nn.Unflatten(-1, (2, -1)), x(4, 6)),
]

CONV_CASES = [
    Case("Conv1d", lambda l: l.nn.Conv1d(2, 4, 3), x(2, 2, 7)),
    Case("Conv1d-stride-pad-dil", lambda l: l.nn.Conv1d(2, 4, 3, stride=2, padding=2,
                                                        dilation=2), x(2, 2, 9)),
    Case("Conv1d-groups", lambda l: l.nn.Conv1d(4, 6, 2, groups=2, bias=False), x(2, 4, 5)),
    Case("Conv1d-same", lambda l: l.nn.Conv1d(2, 3, 4, padding="same"), x(2, 2, 6)),
    Case("Conv1d-circular", lambda l: l.nn.Conv1d(2, 3, 3, padding=2,
                                                  padding_mode="circular"), x(1, 2, 5)),
    Case("Conv1d-unbatched", lambda l: l.nn.Conv1d(2, 3, 3), x(2, 6)),
    Case("Conv2d", lambda l: l.nn.Conv2d(3, 4, 3), x(2, 3, 5, 5)),
    Case("Conv2d-stride-padding", lambda l: l.nn.Conv2d(3, 4, (3, 2), stride=(2, 1),
                                                        padding=(1, 0)), x(2, 3, 6, 5)),
    Case("Conv2d-dilation", lambda l: l.nn.Conv2d(2, 3, 3, dilation=2, padding=2),
         x(1, 2, 6, 6)),
    Case("Conv2d-groups", lambda l: l.nn.Conv2d(4, 6, 3, groups=2, bias=False), x(2, 4, 4, 4)),
    Case("Conv2d-depthwise", lambda l: l.nn.Conv2d(3, 6, 3, groups=3, padding=1),
         x(1, 3, 4, 4)),
    Case("Conv2d-all", lambda l: l.nn.Conv2d(4, 2, (2, 3), stride=(1, 2), padding=(2, 1),
                                             dilation=(2, 1), groups=2), x(2, 4, 5, 6)),
    Case("Conv2d-reflect", lambda l: l.nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
         x(1, 2, 4, 5)),
    Case("Conv2d-replicate", lambda l: l.nn.Conv2d(2, 3, 3, padding=(2, 1), stride=2,
                                                   padding_mode="replicate"), x(2, 2, 5, 4)),
    Case("Conv2d-circular", lambda l: l.nn.Conv2d(2, 3, 3, padding=1, groups=1,
                                                  padding_mode="circular"), x(1, 2, 4, 4)),
    Case("Conv2d-reflect-groups-dilation", lambda l: l.nn.Conv2d(
        4, 4, 3, padding=2, dilation=2, groups=2, padding_mode="reflect"), x(1, 4, 5, 5)),
    Case("Conv2d-same-odd", lambda l: l.nn.Conv2d(2, 3, 3, padding="same", dilation=2),
         x(1, 2, 5, 5)),
    Case("Conv2d-same-even", lambda l: l.nn.Conv2d(2, 3, (4, 2), padding="same"),
         x(1, 2, 5, 5)),
    Case("Conv2d-same-reflect", lambda l: l.nn.Conv2d(2, 3, 4, padding="same",
                                                      padding_mode="reflect"), x(1, 2, 5, 6)),
    Case("Conv2d-valid", lambda l: l.nn.Conv2d(2, 3, 2, padding="valid"), x(1, 2, 4, 4)),
    Case("Conv2d-unbatched", lambda l: l.nn.Conv2d(2, 3, 3, padding=1), x(2, 4, 4)),
    Case("ConvTranspose1d", lambda l: l.nn.ConvTranspose1d(2, 3, 3, stride=2, padding=1,
                                                           output_padding=1), x(2, 2, 4)),
    Case("ConvTranspose2d", lambda l: l.nn.ConvTranspose2d(3, 2, 3), x(2, 3, 3, 3)),
    Case("ConvTranspose2d-stride-pad", lambda l: l.nn.ConvTranspose2d(
        3, 2, 3, stride=2, padding=1, output_padding=1), x(1, 3, 3, 4)),
    Case("ConvTranspose2d-groups-dilation", lambda l: l.nn.ConvTranspose2d(
        4, 6, (2, 3), stride=(2, 1), groups=2, dilation=(1, 2), bias=False), x(2, 4, 3, 3)),
    Case("ConvTranspose2d-output-size", lambda l: l.nn.ConvTranspose2d(2, 2, 3, stride=2,
                                                                       padding=1),
         x(1, 2, 3, 3), kwargs=lambda r: {"output_size": [1, 2, 6, 6]}),
]

POOL_CASES = [
    Case("MaxPool2d", lambda l: l.nn.MaxPool2d(2), x(2, 3, 4, 6)),
    Case("MaxPool2d-stride-pad", lambda l: l.nn.MaxPool2d(3, stride=2, padding=1),
         x(1, 2, 5, 5)),
    Case("MaxPool2d-ceil-dilation", lambda l: l.nn.MaxPool2d((2, 3), stride=2, dilation=(1, 2),
                                                             ceil_mode=True), x(1, 2, 5, 7)),
    Case("MaxPool2d-indices", lambda l: l.nn.MaxPool2d(2, return_indices=True), x(1, 2, 4, 4)),
    Case("MaxPool1d", lambda l: l.nn.MaxPool1d(3, stride=2, padding=1), x(2, 3, 7)),
    Case("AvgPool1d", lambda l: l.nn.AvgPool1d(3, stride=2, padding=1,
                                               count_include_pad=False), x(2, 3, 7)),
    Case("AvgPool2d", lambda l: l.nn.AvgPool2d(2), x(2, 3, 4, 6)),
    Case("AvgPool2d-pad-exclude", lambda l: l.nn.AvgPool2d(3, stride=2, padding=1,
                                                           count_include_pad=False),
         x(1, 2, 5, 5)),
    Case("AvgPool2d-ceil-divisor", lambda l: l.nn.AvgPool2d(2, ceil_mode=True,
                                                            divisor_override=3), x(1, 2, 5, 5)),
    Case("AdaptiveAvgPool2d", lambda l: l.nn.AdaptiveAvgPool2d((2, 3)), x(2, 3, 5, 7)),
    Case("AdaptiveAvgPool2d-global", lambda l: l.nn.AdaptiveAvgPool2d(1), x(2, 3, 4, 4)),
    Case("AdaptiveAvgPool1d", lambda l: l.nn.AdaptiveAvgPool1d(3), x(2, 3, 7)),
    Case("PixelShuffle", lambda l: l.nn.PixelShuffle(2), x(2, 8, 2, 3)),
    Case("PixelUnshuffle", lambda l: l.nn.PixelUnshuffle(2), x(2, 2, 4, 6)),
]

NORM_CASES = [
    Case("BatchNorm1d-2d-input", lambda l: l.nn.BatchNorm1d(3), x(6, 3)),
    Case("BatchNorm1d-3d-input", lambda l: l.nn.BatchNorm1d(3, momentum=None), x(4, 3, 5)),
    Case("BatchNorm2d", lambda l: l.nn.BatchNorm2d(3), x(2, 3, 3, 4)),
    Case("BatchNorm2d-no-affine", lambda l: l.nn.BatchNorm2d(3, affine=False, eps=1e-3),
         x(2, 3, 2, 2)),
    Case("BatchNorm2d-no-bias", lambda l: l.nn.BatchNorm2d(3, bias=False), x(2, 3, 2, 2)),
    Case("BatchNorm2d-untracked", lambda l: l.nn.BatchNorm2d(3, track_running_stats=False),
         x(2, 3, 2, 2)),
    Case("BatchNorm2d-eval", lambda l: l.nn.BatchNorm2d(3), x(2, 3, 2, 2), train=False),
    Case("BatchNorm2d-untracked-eval", lambda l: l.nn.BatchNorm2d(3, track_running_stats=False),
         x(2, 3, 2, 2), train=False),
    Case("InstanceNorm1d", lambda l: l.nn.InstanceNorm1d(3), x(2, 3, 5)),
    Case("InstanceNorm2d-affine-tracked", lambda l: l.nn.InstanceNorm2d(
        3, affine=True, track_running_stats=True), x(2, 3, 3, 3)),
    Case("InstanceNorm2d-unbatched", lambda l: l.nn.InstanceNorm2d(3, affine=True),
         x(3, 3, 3)),
    Case("LayerNorm", lambda l: l.nn.LayerNorm(4), x(3, 4)),
    Case("LayerNorm-2d-shape", lambda l: l.nn.LayerNorm((3, 4), eps=1e-3), x(2, 3, 4)),
    Case("LayerNorm-no-affine", lambda l: l.nn.LayerNorm(4, elementwise_affine=False),
         x(2, 3, 4)),
    Case("LayerNorm-no-bias", lambda l: l.nn.LayerNorm([4], bias=False), x(3, 4)),
    Case("GroupNorm", lambda l: l.nn.GroupNorm(2, 4), x(2, 4, 3)),
    Case("GroupNorm-no-affine", lambda l: l.nn.GroupNorm(3, 6, eps=1e-3, affine=False),
         x(2, 6, 2, 2)),
    Case("GroupNorm-no-bias", lambda l: l.nn.GroupNorm(1, 4, bias=False), x(2, 4, 3)),
    Case("RMSNorm", lambda l: l.nn.RMSNorm(4), x(3, 4)),
    Case("RMSNorm-2d-eps", lambda l: l.nn.RMSNorm((3, 4), eps=1e-6), x(2, 3, 4)),
    Case("RMSNorm-no-affine", lambda l: l.nn.RMSNorm(4, elementwise_affine=False), x(3, 4)),
]


def indices(high: int, *shape: int) -> Callable[[np.random.Generator], Const]:
    return lambda rng: Const(rng.integers(0, high, shape))


MISC_CASES = [
    Case("Dropout-eval", lambda l: l.nn.Dropout(0.3), x(3, 4), train=False),
    Case("Dropout-p0", lambda l: l.nn.Dropout(0.0), x(3, 4)),
    Case("Dropout2d-eval", lambda l: l.nn.Dropout2d(0.5), x(2, 3, 2, 2), train=False),
    Case("Embedding", lambda l: l.nn.Embedding(10, 3),
         lambda r: [Const(r.integers(0, 10, (4, 5)))]),
    Case("Embedding-padding", lambda l: l.nn.Embedding(6, 2, padding_idx=-2),
         lambda r: [Const(np.array([[4, 1, 4], [0, 5, 4]]))]),
    Case("Embedding-max-norm", lambda l: l.nn.Embedding(6, 3, max_norm=1.0),
         lambda r: [Const(np.array([1, 3, 1, 5]))]),
    Case("CosineSimilarity", lambda l: l.nn.CosineSimilarity(dim=1),
         lambda r: [r.standard_normal((3, 4)), r.standard_normal((3, 4))]),
    Case("PairwiseDistance", lambda l: l.nn.PairwiseDistance(p=3.0, keepdim=True),
         lambda r: [r.standard_normal((3, 4)), r.standard_normal((3, 4))]),
]


def mha_inputs(L: int, S: int, N: int, E: int, kdim: int | None = None,
               vdim: int | None = None, batch_first: bool = False, same: bool = False,
               unbatched: bool = False) -> Callable[[np.random.Generator], list]:
    def make(rng: np.random.Generator) -> list:
        def seq(length: int, dim: int) -> np.ndarray:
            if unbatched:
                return rng.standard_normal((length, dim))
            shape = (N, length, dim) if batch_first else (length, N, dim)
            return rng.standard_normal(shape)

        if same:
            return ["self"]  # self-attention: the same tensor three times
        return [seq(L, E), seq(S, kdim or E), seq(S, vdim or E)]

    return make


def padding_mask(N: int, S: int, kind: str = "bool") -> Callable[[np.random.Generator], dict]:
    def make(rng: np.random.Generator) -> dict:
        mask = np.zeros((N, S), dtype=bool)
        mask[0, -2:] = True
        mask[-1, 0] = True
        return {"key_padding_mask": Const(mask if kind == "bool"
                                          else np.where(mask, -1e9, 0.0))}

    return make


def causal(L: int) -> np.ndarray:
    return np.triu(np.ones((L, L), dtype=bool), 1)


MHA_CASES = [
    Case("MHA", lambda l: l.nn.MultiheadAttention(4, 2), mha_inputs(3, 5, 2, 4)),
    Case("MHA-self", lambda l: l.nn.MultiheadAttention(4, 2), mha_inputs(3, 3, 2, 4, same=True)),
    Case("MHA-batch-first", lambda l: l.nn.MultiheadAttention(6, 3, batch_first=True),
         mha_inputs(3, 4, 2, 6, batch_first=True)),
    Case("MHA-batch-first-self", lambda l: l.nn.MultiheadAttention(4, 1, batch_first=True),
         lambda r: [r.standard_normal((2, 3, 4))] * 3),
    Case("MHA-kdim-vdim", lambda l: l.nn.MultiheadAttention(4, 2, kdim=3, vdim=5),
         mha_inputs(3, 4, 2, 4, kdim=3, vdim=5)),
    Case("MHA-no-bias", lambda l: l.nn.MultiheadAttention(4, 2, bias=False),
         mha_inputs(3, 4, 2, 4)),
    Case("MHA-bias-kv-zero-attn", lambda l: l.nn.MultiheadAttention(
        4, 2, add_bias_kv=True, add_zero_attn=True), mha_inputs(3, 4, 2, 4),
         kwargs=padding_mask(2, 4)),
    Case("MHA-key-padding-mask", lambda l: l.nn.MultiheadAttention(4, 2, batch_first=True),
         mha_inputs(3, 4, 2, 4, batch_first=True), kwargs=padding_mask(2, 4)),
    Case("MHA-float-key-padding-mask", lambda l: l.nn.MultiheadAttention(4, 2),
         mha_inputs(3, 4, 2, 4), kwargs=padding_mask(2, 4, kind="float")),
    Case("MHA-causal-bool-mask", lambda l: l.nn.MultiheadAttention(4, 2),
         mha_inputs(3, 3, 2, 4, same=True),
         kwargs=lambda r: {"attn_mask": Const(causal(3))}),
    Case("MHA-causal-hint", lambda l: l.nn.MultiheadAttention(4, 2, batch_first=True),
         mha_inputs(4, 4, 2, 4, batch_first=True),
         kwargs=lambda r: {"attn_mask": Const(causal(4)), "is_causal": True}),
    Case("MHA-float-3d-mask", lambda l: l.nn.MultiheadAttention(4, 2),
         mha_inputs(3, 5, 2, 4), kwargs=lambda r: {"attn_mask": Const(r.standard_normal(
             (4, 3, 5)))}),
    Case("MHA-both-masks", lambda l: l.nn.MultiheadAttention(4, 2, batch_first=True),
         mha_inputs(4, 4, 2, 4, batch_first=True),
         kwargs=lambda r: {**padding_mask(2, 4)(r), "attn_mask": Const(causal(4))}),
    Case("MHA-per-head-weights", lambda l: l.nn.MultiheadAttention(4, 2),
         mha_inputs(3, 4, 2, 4), kwargs=lambda r: {"average_attn_weights": False}),
    Case("MHA-no-weights", lambda l: l.nn.MultiheadAttention(4, 2, batch_first=True),
         mha_inputs(3, 4, 2, 4, batch_first=True),
         kwargs=lambda r: {**padding_mask(2, 4)(r), "need_weights": False}),
    Case("MHA-no-weights-causal", lambda l: l.nn.MultiheadAttention(4, 2),
         mha_inputs(4, 4, 2, 4), kwargs=lambda r: {"attn_mask": Const(causal(4)),
                                                   "need_weights": False, "is_causal": True}),
    Case("MHA-unbatched", lambda l: l.nn.MultiheadAttention(4, 2),
         mha_inputs(3, 5, 1, 4, unbatched=True),
         kwargs=lambda r: {"key_padding_mask": Const(np.array([False, True, False, False,
                                                               True]))}),
    Case("MHA-eval", lambda l: l.nn.MultiheadAttention(4, 2, dropout=0.5),
         mha_inputs(3, 4, 2, 4), train=False),
]


def act(name: str, *args: Any, shape: tuple = (3, 5), scale: float = 2.0, rtol: float = RTOL,
        **kwargs: Any) -> Case:
    label = "-".join([name, *map(str, args), *(f"{k}={v}" for k, v in kwargs.items())])
    return Case(label, lambda l: getattr(l.nn, name)(*args, **kwargs), x(*shape, scale=scale),
                rtol=rtol)


def inplace_act(name: str, *args: Any) -> Case:
    """An in-place activation after a layer (in-place on a leaf that requires grad is an
    error in both libraries)."""
    return Case(f"{name}-inplace", lambda l: l.nn.Sequential(
        l.nn.Linear(5, 5), getattr(l.nn, name)(*args, inplace=True)), x(3, 5, scale=2.0))


ACTIVATION_CASES = [
    act("ReLU"), inplace_act("ReLU"), act("ReLU6", scale=5.0), inplace_act("ReLU6"),
    act("LeakyReLU"), act("LeakyReLU", 0.2), inplace_act("LeakyReLU", 0.2), inplace_act("ELU"),
    inplace_act("Hardtanh"), inplace_act("SiLU"), act("PReLU"), act("PReLU", 4, 0.1, shape=(2, 4, 3)),
    act("ELU"), act("ELU", alpha=0.5), act("SELU"), act("CELU", 2.0), act("GELU"),
    act("GELU", approximate="tanh"), act("SiLU"), act("Mish"), act("Tanh"), act("Sigmoid"),
    act("Hardtanh"), act("Hardtanh", -2.0, 0.5), # PyTorch's hardsigmoid backward multiplies by 1/6 rounded to float32 (1.0f / 6.0f), 3e-8 off.
    act("Hardsigmoid", scale=3.0, rtol=1e-7),
    act("Hardswish", scale=3.0), act("Softplus"), act("Softplus", 2.0, 1.0), act("Softsign"),
    act("Softshrink"), act("Softshrink", 1.0), act("Hardshrink", 0.3), act("Tanhshrink"),
    act("LogSigmoid"), act("Threshold", 0.1, -2.0), act("GLU", shape=(3, 4)), act("GLU", 0, shape=(4, 3)),
    act("Softmax", dim=1), act("Softmax", dim=0), act("LogSoftmax", dim=-1),
    act("Softmin", dim=1),
]


def loss(name: str, inputs: Callable, **kwargs: Any) -> Case:
    label = "-".join([name, *(f"{k}={v}" for k, v in kwargs.items()
                              if not hasattr(v, "shape"))])
    return Case(label, lambda l: getattr(l.nn, name)(**kwargs), inputs)


def pair(*shape: int) -> Callable[[np.random.Generator], list]:
    return lambda rng: [rng.standard_normal(shape), Const(rng.standard_normal(shape))]


def classes(N: int, C: int, *extra: int, ignore: bool = False) -> Callable:
    def make(rng: np.random.Generator) -> list:
        target = rng.integers(0, C, (N, *extra))
        if ignore:
            target.flat[1] = -100
        return [rng.standard_normal((N, C, *extra)), Const(target)]

    return make


def log_probs(N: int, C: int) -> Callable:
    return lambda rng: [np.log(softmax(rng.standard_normal((N, C)), 1)),
                        Const(rng.integers(0, C, N))]


def probabilities(*shape: int, logits: bool = False) -> Callable:
    def make(rng: np.random.Generator) -> list:
        value = rng.standard_normal(shape)
        return [value if logits else sigmoid(value), Const(rng.random(shape))]

    return make


def kl_inputs(log_target: bool) -> Callable:
    def make(rng: np.random.Generator) -> list:
        p = softmax(rng.standard_normal((3, 4)), 1)
        return [np.log(softmax(rng.standard_normal((3, 4)), 1)),
                Const(np.log(p) if log_target else p)]

    return make


def signs(*shape: int) -> Callable:
    return lambda rng: Const(np.where(rng.random(shape) > 0.5, 1.0, -1.0))


WEIGHT4 = np.array([0.2, 1.0, 2.5, 0.7])


def weighted(lib: Any, name: str, **kwargs: Any) -> Any:
    """A loss built with tensor-valued arguments (class weights) in bp or torch."""
    tensors = {k: lib.tensor(v) for k, v in kwargs.items() if isinstance(v, np.ndarray)}
    return getattr(lib.nn, name)(**{**kwargs, **tensors})


LOSS_CASES = [
    *(loss(name, pair(3, 4), reduction=r) for name in ("MSELoss", "L1Loss")
      for r in ("mean", "sum", "none")),
    loss("SmoothL1Loss", pair(3, 4)), loss("SmoothL1Loss", pair(3, 4), beta=0.5,
                                           reduction="sum"),
    loss("HuberLoss", pair(3, 4)), loss("HuberLoss", pair(3, 4), delta=0.7, reduction="none"),
    loss("CrossEntropyLoss", classes(5, 4)),
    loss("CrossEntropyLoss", classes(3, 4, 2, ignore=True), reduction="sum"),
    loss("CrossEntropyLoss", classes(5, 4), label_smoothing=0.1),
    Case("CrossEntropyLoss-weight-ignore", lambda l: weighted(
        l, "CrossEntropyLoss", weight=WEIGHT4, ignore_index=2, label_smoothing=0.05),
         classes(6, 4)),
    loss("CrossEntropyLoss", lambda r: [r.standard_normal((3, 4)),
                                        Const(softmax(r.standard_normal((3, 4)), 1))]),
    loss("NLLLoss", log_probs(5, 4)), loss("NLLLoss", log_probs(5, 4), reduction="none"),
    Case("NLLLoss-weight", lambda l: weighted(l, "NLLLoss", weight=WEIGHT4), log_probs(6, 4)),
    loss("BCELoss", probabilities(3, 4)),
    Case("BCELoss-weight", lambda l: weighted(l, "BCELoss", weight=WEIGHT4, reduction="sum"),
         probabilities(3, 4)),
    loss("BCEWithLogitsLoss", probabilities(3, 4, logits=True)),
    Case("BCEWithLogitsLoss-pos-weight", lambda l: weighted(
        l, "BCEWithLogitsLoss", weight=np.array([1.0, 0.5, 2.0, 1.5]), pos_weight=WEIGHT4),
         probabilities(3, 4, logits=True)),
    loss("KLDivLoss", kl_inputs(False), reduction="batchmean"),
    loss("KLDivLoss", kl_inputs(True), reduction="sum", log_target=True),
    loss("KLDivLoss", kl_inputs(False)),
    loss("MarginRankingLoss", lambda r: [r.standard_normal(5), r.standard_normal(5),
                                         signs(5)(r)], margin=0.3),
    loss("SoftMarginLoss", lambda r: [r.standard_normal((3, 4)), signs(3, 4)(r)]),
    loss("CosineEmbeddingLoss", lambda r: [r.standard_normal((5, 3)), r.standard_normal((5, 3)),
                                           signs(5)(r)], margin=0.2),
    loss("PoissonNLLLoss", lambda r: [r.standard_normal((3, 4)),
                                      Const(r.poisson(2.0, (3, 4)).astype(float))]),
    loss("PoissonNLLLoss", lambda r: [r.random((3, 4)) + 0.5,
                                      Const(r.poisson(2.0, (3, 4)).astype(float))],
         log_input=False, full=True),
    loss("GaussianNLLLoss", lambda r: [r.standard_normal((3, 4)), Const(r.standard_normal(
        (3, 4))), r.random((3, 4)) + 0.1]),
]

PAD_CASES = [
    Case("ZeroPad1d", lambda l: l.nn.ZeroPad1d((2, 1)), x(2, 3, 4)),
    Case("ZeroPad2d", lambda l: l.nn.ZeroPad2d((1, 1, 2, 0)), x(1, 2, 3, 3)),
    Case("ZeroPad2d-int-unbatched", lambda l: l.nn.ZeroPad2d(1), x(2, 3, 3)),
    Case("ZeroPad2d-negative-crops", lambda l: l.nn.ZeroPad2d((-1, 1, 0, -2)), x(1, 1, 4, 4)),
    Case("ZeroPad3d", lambda l: l.nn.ZeroPad3d((1, 0, 0, 2, 1, 1)), x(1, 1, 2, 2, 2)),
    Case("ConstantPad1d", lambda l: l.nn.ConstantPad1d(2, 3.5), x(2, 4)),
    Case("ConstantPad2d", lambda l: l.nn.ConstantPad2d((0, 1, 2, 3), -1.5), x(1, 2, 3, 3)),
    Case("ConstantPad3d", lambda l: l.nn.ConstantPad3d(1, 2), x(1, 2, 2, 2, 2)),
    Case("ReflectionPad1d", lambda l: l.nn.ReflectionPad1d((3, 1)), x(2, 3, 5)),
    Case("ReflectionPad2d", lambda l: l.nn.ReflectionPad2d((1, 2, 2, 0)), x(2, 2, 3, 4)),
    Case("ReflectionPad2d-int-unbatched", lambda l: l.nn.ReflectionPad2d(1), x(2, 3, 3)),
    Case("ReflectionPad3d", lambda l: l.nn.ReflectionPad3d(1), x(1, 1, 2, 3, 3)),
    Case("ReplicationPad1d", lambda l: l.nn.ReplicationPad1d(2), x(2, 3, 4)),
    Case("ReplicationPad2d", lambda l: l.nn.ReplicationPad2d((2, 0, 1, 3)), x(1, 2, 3, 3)),
    Case("ReplicationPad3d", lambda l: l.nn.ReplicationPad3d((1, 2, 0, 1, 1, 0)),
         x(1, 2, 2, 2, 3)),
    Case("CircularPad1d", lambda l: l.nn.CircularPad1d((1, 2)), x(2, 3, 4)),
    Case("CircularPad2d", lambda l: l.nn.CircularPad2d((1, 0, 2, 1)), x(1, 2, 3, 3)),
    Case("CircularPad3d", lambda l: l.nn.CircularPad3d(1), x(1, 1, 2, 3, 3)),
]

ALL_CASES = [*LAYER_CASES, *CONV_CASES, *POOL_CASES, *NORM_CASES, *MISC_CASES, *MHA_CASES,
             *ACTIVATION_CASES, *LOSS_CASES, *PAD_CASES]


# -- the comparison -----------------------------------------------------------------------------

def to_lib(lib: Any, value: Any) -> Any:
    """A NumPy input as a bp or torch tensor (floats require grad unless ``Const``)."""
    if isinstance(value, Const):
        return lib.tensor(value.value)
    if isinstance(value, np.ndarray):
        return lib.tensor(value, requires_grad=value.dtype.kind == "f")
    return value


def to_numpy(t: Any) -> np.ndarray:
    return t.detach().numpy()


def run(lib: Any, module: Any, case: Case, rng_seed: int) -> tuple[list, list]:
    """Forward, then backward from random upstream gradients; returns (outputs, inputs)."""
    rng = np.random.default_rng(rng_seed)
    raw = case.inputs(rng)
    if raw and isinstance(raw[0], str):
        shared = to_lib(lib, rng.standard_normal((3, 2, 4)))
        inputs = [shared, shared, shared]
    else:
        inputs = [to_lib(lib, v) for v in raw]
    if len(inputs) == 3 and all(v is raw[0] for v in raw):  # the same array three times
        inputs = [inputs[0]] * 3
    kwargs = {k: to_lib(lib, v) for k, v in case.kwargs(rng).items()}
    module.train(case.train)
    out = module(*inputs, **kwargs)
    outputs = list(out) if isinstance(out, tuple) else [out]
    grad_rng = np.random.default_rng(rng_seed + 1)
    total = None
    for o in outputs:
        if o is None or not o.is_floating_point():
            continue
        g = grad_rng.standard_normal(tuple(o.shape))
        if o.requires_grad:
            term = (o * lib.tensor(g)).sum()
            total = term if total is None else total + term
    if total is not None:
        total.backward()
    return outputs, inputs


def assert_close(ours: Any, theirs: Any, what: str, rtol: float = RTOL) -> None:
    if theirs is None:
        assert ours is None, what
        return
    assert ours is not None, f"{what}: backprop gave None, PyTorch a value"
    a, b = to_numpy(ours), to_numpy(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs PyTorch's {b.shape}"
    if b.dtype.kind in "iub":
        np.testing.assert_array_equal(a, b, err_msg=what)
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=ATOL, err_msg=what)


def copy_weights(ours: Any, theirs: Any) -> None:
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.id)
def test_layer_matches_torch(torch: Any, case: Case) -> None:
    theirs = case.build(torch).double()
    ours = case.build(bp).double()
    assert repr(ours) == repr(theirs)
    assert ([(n, tuple(p.shape)) for n, p in ours.named_parameters()]
            == [(n, tuple(p.shape)) for n, p in theirs.named_parameters()])
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_weights(ours, theirs)

    our_out, our_inputs = run(bp, ours, case, 0)
    their_out, their_inputs = run(torch, theirs, case, 0)
    assert len(our_out) == len(their_out)
    for i, (a, b) in enumerate(zip(our_out, their_out)):
        assert_close(a, b, f"output {i}", case.rtol)
    for i, (a, b) in enumerate(zip(our_inputs, their_inputs)):
        if isinstance(b, torch.Tensor) and b.requires_grad:
            assert_close(a.grad, b.grad, f"gradient of input {i}", case.rtol)
    for name, p in theirs.named_parameters():
        assert_close(dict(ours.named_parameters())[name].grad, p.grad, f"gradient of {name}",
                     case.rtol)
    for name, buffer in theirs.named_buffers():  # running statistics after the step
        assert_close(dict(ours.named_buffers())[name], buffer, f"buffer {name}")
    for name, value in theirs.state_dict().items():  # parameters changed in place (max_norm)
        assert_close(ours.state_dict()[name], value, f"state {name}")


@pytest.mark.parametrize("case", PAD_CASES, ids=lambda c: c.id)
def test_padding_in_float32_matches_torch(torch: Any, case: Case) -> None:
    data = case.inputs(np.random.default_rng(1))[0].astype(np.float32)
    ours_x = bp.tensor(data, requires_grad=True)
    theirs_x = torch.tensor(data, requires_grad=True)
    ours, theirs = case.build(bp)(ours_x), case.build(torch)(theirs_x)
    assert ours.dtype == bp.float32
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    weights = np.random.default_rng(2).standard_normal(tuple(theirs.shape)).astype(np.float32)
    (ours * bp.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-6)


# -- batch norm over several steps -------------------------------------------------------------

@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("name,shape", [("BatchNorm1d", (5, 3)), ("BatchNorm1d", (4, 3, 2)),
                                        ("BatchNorm2d", (2, 3, 2, 3))])
def test_batch_norm_running_stats_over_steps_then_eval(torch: Any, momentum: Any, name: str,
                                                       shape: tuple) -> None:
    theirs = getattr(torch.nn, name)(3, momentum=momentum).double()
    ours = getattr(bp.nn, name)(3, momentum=momentum).double()
    rng = np.random.default_rng(0)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.random(3) + 0.5))
        theirs.bias.copy_(torch.tensor(rng.standard_normal(3)))
    copy_weights(ours, theirs)
    for step in range(4):
        batch = rng.standard_normal(shape) * (step + 1) + step
        upstream = rng.standard_normal(shape)
        our_x = bp.tensor(batch, requires_grad=True)
        their_x = torch.tensor(batch, requires_grad=True)
        (ours(our_x) * bp.tensor(upstream)).sum().backward()
        (theirs(their_x) * torch.tensor(upstream)).sum().backward()
        assert_close(our_x.grad, their_x.grad, f"input gradient at step {step}")
        for key in ("running_mean", "running_var", "num_batches_tracked"):
            assert_close(getattr(ours, key), getattr(theirs, key), f"{key} at step {step}")
    assert ours.num_batches_tracked.item() == 4
    for key in ("weight", "bias"):
        assert_close(getattr(ours, key).grad, getattr(theirs, key).grad, f"{key} gradient")
    ours.eval()
    theirs.eval()
    batch = rng.standard_normal(shape)
    our_x, their_x = bp.tensor(batch, requires_grad=True), torch.tensor(batch, requires_grad=True)
    our_y, their_y = ours(our_x), theirs(their_x)
    assert_close(our_y, their_y, "eval output")
    (our_y * 1.5).sum().backward()
    (their_y * 1.5).sum().backward()
    assert_close(our_x.grad, their_x.grad, "eval input gradient")
    before = ours.running_mean.numpy().copy()
    ours(bp.tensor(batch))
    np.testing.assert_array_equal(ours.running_mean.numpy(), before)  # eval leaves them alone
    assert ours.num_batches_tracked.item() == 4


def test_batch_norm_reset_running_stats() -> None:
    bn = nn.BatchNorm1d(2)
    bn(bp.randn(4, 2) * 3 + 1)
    bn.reset_running_stats()
    assert bn.running_mean.tolist() == [0.0, 0.0] and bn.running_var.tolist() == [1.0, 1.0]
    assert bn.num_batches_tracked.item() == 0


# -- dropout ----------------------------------------------------------------------------------

def test_dropout_statistics_and_scaling() -> None:
    bp.manual_seed(0)
    drop = nn.Dropout(0.3)
    x = bp.ones(200_000, dtype=bp.float64, requires_grad=True)
    y = drop(x)
    values = y.detach().numpy()
    assert set(np.unique(values)) <= {0.0, 1 / 0.7}
    assert (values == 0).mean() == pytest.approx(0.3, abs=0.005)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)  # the gradient uses the same mask
    assert drop.eval()(x) is x or np.array_equal(drop(x).detach().numpy(), x.detach().numpy())


def test_dropout2d_zeroes_whole_channels() -> None:
    bp.manual_seed(1)
    y = nn.Dropout2d(0.5)(bp.ones(8, 16, 3, 3)).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1)).all()
    assert 0.3 < (per_channel == 0).all(-1).mean() < 0.7


def test_dropout_repeats_with_the_seed() -> None:
    bp.manual_seed(5)
    first = nn.Dropout(0.5)(bp.ones(50)).numpy().copy()
    bp.manual_seed(5)
    np.testing.assert_array_equal(nn.Dropout(0.5)(bp.ones(50)).numpy(), first)


def test_dropout_inplace_writes_into_the_input() -> None:
    x = bp.ones(100, dtype=bp.float64)
    y = nn.Dropout(0.5, inplace=True)(x)
    assert y is x and (x.numpy() != 1.0).all()


def test_multihead_attention_dropout_only_in_training() -> None:
    mha = nn.MultiheadAttention(4, 2, dropout=0.9)
    x = bp.randn(3, 2, 4)
    _, train_weights = mha(x, x, x)
    mha.eval()
    _, eval_weights = mha(x, x, x)
    np.testing.assert_allclose(eval_weights.detach().numpy().sum(-1), 1.0, rtol=1e-6)
    assert not np.allclose(train_weights.detach().numpy().sum(-1), 1.0)


# -- initialisation -------------------------------------------------------------------------------

def test_linear_and_conv_initialisation_follow_torch() -> None:
    bp.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert np.abs(b).max() <= bound and b.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)
    conv = nn.Conv2d(16, 64, 5, groups=2)
    fan_in = 8 * 25
    w = conv.weight.detach().numpy()
    assert np.abs(w).max() <= 1 / math.sqrt(fan_in)
    assert w.std() == pytest.approx(1 / math.sqrt(3 * fan_in), rel=0.03)
    assert np.abs(conv.bias.detach().numpy()).max() <= 1 / math.sqrt(fan_in)
    transposed = nn.ConvTranspose2d(64, 16, 3)  # weight (64, 16, 3, 3): fan_in uses dim 1
    assert np.abs(transposed.weight.detach().numpy()).max() <= 1 / math.sqrt(16 * 9)
    bilinear = nn.Bilinear(50, 20, 30)
    assert np.abs(bilinear.weight.detach().numpy()).max() <= 1 / math.sqrt(50)


def test_embedding_and_attention_initialisation_follow_torch() -> None:
    bp.manual_seed(0)
    emb = nn.Embedding(1000, 64, padding_idx=3)
    w = emb.weight.detach().numpy()
    assert (w[3] == 0).all()
    assert w.std() == pytest.approx(1.0, rel=0.02) and abs(w.mean()) < 0.01
    mha = nn.MultiheadAttention(64, 4)
    bound = math.sqrt(6 / (64 + 3 * 64))  # xavier on the packed (3E, E) weight
    in_proj = mha.in_proj_weight.detach().numpy()
    assert np.abs(in_proj).max() <= bound and np.abs(in_proj).max() > 0.98 * bound
    assert not mha.in_proj_bias.detach().numpy().any()
    assert not mha.out_proj.bias.detach().numpy().any()
    assert np.abs(mha.out_proj.weight.detach().numpy()).max() <= 1 / math.sqrt(64)
    separate = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True)
    assert separate.in_proj_weight is None and separate.k_proj_weight.shape == (8, 3)
    assert separate.bias_k.shape == (1, 1, 8) and separate.bias_k.detach().numpy().any()


def test_norm_layers_start_as_identity_scale() -> None:
    for layer in (nn.BatchNorm2d(3), nn.LayerNorm(3), nn.GroupNorm(1, 3), nn.RMSNorm(3)):
        assert (layer.weight.detach().numpy() == 1).all()
        if getattr(layer, "bias", None) is not None:
            assert (layer.bias.detach().numpy() == 0).all()
    assert nn.PReLU(3).weight.tolist() == [0.25] * 3


def test_parameters_are_float32_by_default_and_forward_keeps_float32() -> None:
    for layer, shape in ((nn.Linear(3, 2), (4, 3)), (nn.Conv2d(2, 3, 3), (1, 2, 4, 4)),
                         (nn.LayerNorm(3), (2, 3)), (nn.BatchNorm1d(3), (4, 3))):
        assert all(p.dtype == bp.float32 for p in layer.parameters())
        assert layer(bp.randn(*shape)).dtype == bp.float32


def test_embedding_from_pretrained_and_padding_gradient() -> None:
    table = bp.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=bp.float64)
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and frozen(bp.tensor([2])).tolist() == [[5.0, 6.0]]
    trainable = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=1)
    trainable(bp.tensor([0, 1, 1, 2])).sum().backward()
    assert trainable.weight.grad.tolist() == [[1.0, 1.0], [0.0, 0.0], [1.0, 1.0]]
    assert repr(trainable) == "Embedding(3, 2, padding_idx=1)"


def test_conv_transpose_output_size_selects_output_padding(torch: Any) -> None:
    ours = nn.ConvTranspose2d(2, 2, 3, stride=3)
    theirs = torch.nn.ConvTranspose2d(2, 2, 3, stride=3)
    x = bp.randn(1, 2, 4, 4)
    for size in (12, 13, 14):  # (4 - 1) * 3 + 3 = 12, plus up to stride - 1
        assert ours(x, output_size=(size, size)).shape == (1, 2, size, size)
        assert theirs(torch.randn(1, 2, 4, 4), output_size=(size, size)).shape[-1] == size
    with pytest.raises(ValueError, match=r"output_size \[15, 12\] cannot be reached: dim 0 "
                                         r"must be in \[12, 14\]"):
        ours(x, output_size=[15, 12])


def test_loss_weight_is_a_buffer() -> None:
    weighted_loss = nn.CrossEntropyLoss(weight=bp.tensor([1.0, 2.0]))
    assert list(weighted_loss.state_dict()) == ["weight"]
    weighted_loss.to(bp.float64)
    assert weighted_loss.weight.dtype == bp.float64
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    both = nn.BCEWithLogitsLoss(weight=bp.ones(2), pos_weight=bp.ones(2))
    assert list(both.state_dict()) == ["weight", "pos_weight"]


def test_legacy_size_average_and_reduce(torch: Any) -> None:
    for size_average, reduce in ((False, None), (None, False), (True, True)):
        with pytest.warns(UserWarning, match="deprecated"):
            ours = nn.MSELoss(size_average=size_average, reduce=reduce)
        with pytest.warns(UserWarning):
            theirs = torch.nn.MSELoss(size_average=size_average, reduce=reduce)
        assert ours.reduction == theirs.reduction


# -- constructor and input errors --------------------------------------------------------------

@pytest.mark.parametrize("build,error,match", [
    (lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, (r"in_channels \(3\) must be divisible "
                                                       r"by groups \(2\)")),
    (lambda: nn.Conv2d(4, 3, 3, groups=2), ValueError, "out_channels .3. must be divisible"),
    (lambda: nn.Conv2d(4, 4, 3, groups=0), ValueError, "groups must be a positive integer"),
    (lambda: nn.Conv2d(2, 2, 3, padding="full"), ValueError, "invalid padding string 'full'"),
    (lambda: nn.Conv2d(2, 2, 3, padding="same", stride=2), ValueError,
     "padding='same' is not supported for strided convolutions"),
    (lambda: nn.Conv2d(2, 2, 3, padding_mode="mirror"), ValueError, "padding_mode must be one"),
    (lambda: nn.Conv2d(2, 2, (3, 3, 3)), ValueError, ("kernel_size must be an int or a tuple of "
                                                     "2 ints")),
    (lambda: nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect"), ValueError,
     "only padding_mode='zeros'"),
    (lambda: nn.GroupNorm(3, 4), ValueError, (r"num_channels \(4\) must be divisible by "
                                             r"num_groups \(3\)")),
    (lambda: nn.Dropout(1.5), ValueError, ("dropout probability has to be between 0 and 1, but "
                                          "got 1.5")),
    (lambda: nn.Embedding(5, 2, padding_idx=5), ValueError, "padding_idx 5 must be within"),
    (lambda: nn.MultiheadAttention(6, 4), ValueError, (r"embed_dim \(6\) must be divisible by "
                                                      r"num_heads \(4\)")),
    (lambda: nn.GELU("exact"), ValueError, "approximate must be 'none' or 'tanh'"),
    (lambda: nn.Hardtanh(1.0, -1.0), ValueError, "max_val .* must be greater than min_val"),
    (lambda: nn.MSELoss(reduction="avg"), ValueError, ("reduction must be 'none', 'mean' or "
                                                      "'sum', got 'avg'")),
    (lambda: nn.Linear(2, 2, device="strict:4"), ValueError, "strict:4 does not exist"),
    (lambda: nn.ZeroPad2d(1.5), TypeError, "ZeroPad2d: padding must be an int or a tuple of "
                                           "ints, got 1.5"),
    (lambda: nn.ReflectionPad1d((1, "2")), TypeError, "ReflectionPad1d: padding must be"),
])
def test_constructor_errors(build: Callable, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize("call,match", [
    (lambda: nn.BatchNorm2d(3)(bp.randn(2, 3, 4)), (r"BatchNorm2d: expected 4D input, got a 3D "
                                                   r"input of shape \(2, 3, 4\)")),
    (lambda: nn.BatchNorm1d(3)(bp.randn(2, 4)), (r"expected 3 channels \(dim 1\) but the input "
                                                r"of shape \(2, 4\) has 4")),
    (lambda: nn.InstanceNorm2d(3)(bp.randn(3, 3)), "expected 3D .unbatched. or 4D"),
    (lambda: nn.CircularPad2d(1)(bp.randn(1, 1, 1, 2, 2)), (r"CircularPad2d: expected 3D or 4D "
                                                           r"input \(got 5D input\)")),
])
def test_input_errors(call: Callable, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_softmax_without_dim_uses_the_legacy_choice(torch: Any) -> None:
    for shape in ((4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)):
        data = np.random.default_rng(0).standard_normal(shape)
        with pytest.warns(UserWarning, match="implicit dimension"):
            ours = nn.Softmax()(bp.tensor(data))
        with pytest.warns(UserWarning):
            theirs = torch.nn.Softmax()(torch.tensor(data))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
