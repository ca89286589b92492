"""Rows: the CTC, triplet, multi-margin and hinge losses, EmbeddingBag, Softmax2d, and RReLU and
the dropout family in eval mode (their training draws are tested by distribution in
tests/test_nn_rest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from moduletable.spec import Case, Const, softmax, x


def loss(name: str, inputs: Callable, gradcheck: bool = True, **kwargs: Any) -> Case:
    label = "-".join([name, *(f"{k}={v}" for k, v in kwargs.items())])
    return Case(label, lambda l: getattr(l.nn, name)(**kwargs), inputs, gradcheck=gradcheck)


def ctc_inputs(concatenated: bool = False) -> Callable:
    def make(rng: np.random.Generator) -> list:
        log_probs = np.log(softmax(rng.standard_normal((6, 3, 4)), 2))
        targets = np.array([[1, 2, 2], [3, 1, 0], [2, 0, 0]])
        lengths = np.array([3, 2, 1])
        if concatenated:
            targets = np.concatenate([row[:n] for row, n in zip(targets, lengths)])
        return [log_probs, Const(targets), Const(np.array([6, 5, 3])), Const(lengths)]

    return make


def triplets(*shape: int) -> Callable:
    return lambda rng: [rng.standard_normal(shape) for _ in range(3)]


def class_scores(rng: np.random.Generator) -> list:
    return [rng.standard_normal((5, 4)), Const(rng.integers(0, 4, 5))]


def label_lists(rng: np.random.Generator) -> list:
    return [rng.standard_normal((3, 4)), Const(np.array([[3, 0, -1, 1], [1, 2, 3, 0],
                                                         [2, -1, 0, 0]]))]


def multi_hot(rng: np.random.Generator) -> list:
    return [rng.standard_normal((3, 4)), Const((rng.random((3, 4)) > 0.5).astype(float))]


def signed(rng: np.random.Generator) -> list:
    return [rng.standard_normal((3, 4)), Const(np.where(rng.random((3, 4)) > 0.5, 1.0, -1.0))]


def weighted(lib: Any, name: str, **kwargs: Any) -> Any:
    tensors = {k: lib.tensor(v) for k, v in kwargs.items() if isinstance(v, np.ndarray)}
    return getattr(lib.nn, name)(**{**kwargs, **tensors})


def bags(rng: np.random.Generator) -> list:
    return [Const(np.array([1, 2, 4, 5, 4, 3, 2, 2, 7])), Const(np.array([0, 2, 2, 6]))]


def csr_bags(rng: np.random.Generator) -> list:
    return [Const(np.array([1, 2, 4, 5, 4, 3, 2, 2, 7])), Const(np.array([0, 2, 2, 6, 9]))]


WEIGHT4 = np.array([0.2, 1.0, 2.5, 0.7])

# PyTorch's CTC gradient is with respect to the logits of a log_softmax (it assumes log_probs
# came from one), not the derivative at free log_probs: finite differences cannot check it here
# (the op table checks it through log_softmax); the comparison with PyTorch does.
CASES = [
    loss("CTCLoss", ctc_inputs(), gradcheck=False),
    loss("CTCLoss", ctc_inputs(True), gradcheck=False, reduction="sum", blank=0),
    loss("CTCLoss", ctc_inputs(), gradcheck=False, reduction="none", zero_infinity=True),
    loss("TripletMarginLoss", triplets(4, 3)),
    loss("TripletMarginLoss", triplets(4, 3), margin=0.5, p=1.0, swap=True, reduction="sum"),
    loss("TripletMarginWithDistanceLoss", triplets(4, 3), swap=True, reduction="none"),
    Case("TripletMarginWithDistanceLoss-cosine", lambda l: l.nn.TripletMarginWithDistanceLoss(
        distance_function=l.nn.CosineSimilarity(), margin=0.3), triplets(4, 3)),
    loss("MultiMarginLoss", class_scores),
    loss("MultiMarginLoss", class_scores, p=2, margin=0.7, reduction="none"),
    Case("MultiMarginLoss-weight", lambda l: weighted(l, "MultiMarginLoss", weight=WEIGHT4),
         class_scores),
    loss("MultiLabelMarginLoss", label_lists),
    loss("MultiLabelMarginLoss", label_lists, reduction="none"),
    loss("MultiLabelSoftMarginLoss", multi_hot),
    Case("MultiLabelSoftMarginLoss-weight", lambda l: weighted(
        l, "MultiLabelSoftMarginLoss", weight=WEIGHT4, reduction="sum"), multi_hot),
    loss("HingeEmbeddingLoss", signed),
    loss("HingeEmbeddingLoss", signed, margin=0.5, reduction="none"),
    loss("NLLLoss2d", lambda rng: [np.log(softmax(rng.standard_normal((2, 3, 2, 2)), 1)),
                                   Const(rng.integers(0, 3, (2, 2, 2)))]),
    Case("EmbeddingBag", lambda l: l.nn.EmbeddingBag(8, 3), bags),
    Case("EmbeddingBag-sum-last-offset", lambda l: l.nn.EmbeddingBag(
        8, 3, mode="sum", include_last_offset=True), csr_bags),
    Case("EmbeddingBag-max-padding", lambda l: l.nn.EmbeddingBag(8, 3, mode="max",
                                                                  padding_idx=2), bags),
    Case("EmbeddingBag-2d", lambda l: l.nn.EmbeddingBag(8, 3, padding_idx=0),
         lambda rng: [Const(np.array([[1, 0, 4], [5, 4, 4]]))]),
    Case("EmbeddingBag-per-sample-weights", lambda l: l.nn.EmbeddingBag(8, 3, mode="sum"),
         lambda rng: [*bags(rng)], kwargs=lambda rng: {"per_sample_weights": rng.random(9)}),
    Case("EmbeddingBag-max-norm", lambda l: l.nn.EmbeddingBag(8, 3, max_norm=1.0), bags,
         gradcheck=False),
    Case("RReLU-eval", lambda l: l.nn.RReLU(), x(3, 4, scale=2.0), train=False),
    Case("RReLU-eval-bounds", lambda l: l.nn.RReLU(0.2, 0.6), x(3, 4, scale=2.0), train=False),
    Case("RReLU-equal-bounds", lambda l: l.nn.RReLU(0.3, 0.3), x(3, 4, scale=2.0)),
    Case("Softmax2d", lambda l: l.nn.Softmax2d(), x(2, 3, 2, 2)),
    Case("Softmax2d-unbatched", lambda l: l.nn.Softmax2d(), x(3, 2, 2)),
    Case("Dropout1d-eval", lambda l: l.nn.Dropout1d(0.3), x(2, 3, 4), train=False),
    Case("Dropout1d-p0", lambda l: l.nn.Dropout1d(0.0), x(3, 4)),
    Case("Dropout3d-eval", lambda l: l.nn.Dropout3d(0.5), x(1, 2, 2, 1, 2), train=False),
    Case("AlphaDropout-eval", lambda l: l.nn.AlphaDropout(0.2), x(3, 4), train=False),
    Case("AlphaDropout-p0", lambda l: l.nn.AlphaDropout(0.0), x(3, 4)),
    Case("FeatureAlphaDropout-eval", lambda l: l.nn.FeatureAlphaDropout(0.4), x(2, 3, 2),
         train=False),
]
