"""Rows: every loss module, each reduction and weighting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from moduletable.spec import Case, Const, sigmoid, softmax


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


CASES = [
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
