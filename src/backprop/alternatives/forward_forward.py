"""The forward-forward algorithm (Hinton 2022, "The Forward-Forward Algorithm: Some Preliminary
Investigations"): every layer learns from a local objective, and no gradient crosses a layer.

The label is part of the input: ``ForwardForwardNet`` concatenates the image with a one-hot
label. *Positive* data carries the true label, *negative* data a wrong one drawn at random.
Each layer's *goodness* is the sum of its squared ReLU activities, and its local loss asks for
goodness above ``threshold`` on positive data and below it on negative data:

    loss_layer = mean(softplus(threshold - G_pos)) + mean(softplus(G_neg - threshold)).

Each layer's input is the previous layer's activity divided by its length and *detached*, so a
layer's loss reaches only its own weights (the length carries the previous goodness; without the
normalisation a layer could read it off and learn nothing new). ``ForwardForward.estimate_``
fills every layer's ``.grad`` from its own loss, so any ``bp.optim`` optimizer steps on it; the
backward passes are one layer deep, never through the network. To classify, the net runs the
image once with each label and picks the label whose summed goodness is highest (so prediction
costs ``num_classes`` forward passes).

>>> import backprop as bp
>>> net = ForwardForwardNet(4, [8, 8], num_classes=3)
>>> batch = (bp.randn(6, 4), bp.tensor([0, 1, 2, 0, 1, 2]))
>>> spent = ForwardForward(seed=0).estimate_(net, None, batch)
>>> spent.forward_evaluations, spent.backward_evaluations, net.predict(batch[0]).shape
(2, 0, (6,))
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..nn import functional as F
from ..ops.join import cat, stack
from ..tensor import Tensor
from .base import Estimate, GradientEstimator

__all__ = ["ForwardForward", "ForwardForwardNet"]


class ForwardForwardNet(nn.Module):
    """ReLU layers of the given ``hidden`` widths over an image (``in_features`` values) joined
    with a one-hot label of ``num_classes``; see the module docstring."""

    def __init__(self, in_features: int, hidden: Sequence[int], num_classes: int,
                 threshold: float = 2.0) -> None:
        super().__init__()
        if not hidden or any(h < 1 for h in hidden) or num_classes < 2:
            raise ValueError(f"ForwardForwardNet: need positive hidden widths and at least 2 "
                             f"classes; got hidden={list(hidden)}, num_classes={num_classes}")
        self.in_features = in_features
        self.num_classes = num_classes
        self.threshold = float(threshold)
        widths = [in_features + num_classes, *hidden]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(widths))

    def embed(self, inputs: Tensor, labels: Tensor) -> Tensor:
        """The flattened ``inputs`` joined with the one-hot ``labels`` (B, in + classes)."""
        flat = inputs.reshape(inputs.shape[0], -1)
        if flat.shape[1] != self.in_features:
            raise ValueError(f"ForwardForwardNet: inputs of {flat.shape[1]} values per sample; "
                             f"the net was built for in_features={self.in_features}")
        hot = F.one_hot(labels, self.num_classes).to(flat.dtype)
        return cat([flat, hot], 1)

    def activities(self, embedded: Tensor) -> list[Tensor]:
        """Each layer's ReLU activity; each layer sees the previous one normalised and
        detached, so no gradient crosses a layer."""
        out, h = [], embedded
        for layer in self.layers:
            h = F.relu(layer(F.normalize(h.detach(), dim=1)))
            out.append(h)
        return out

    def goodness(self, inputs: Tensor, labels: Tensor) -> Tensor:
        """Summed goodness over layers for each sample with the given labels, (B,)."""
        with no_grad():
            layers = self.activities(self.embed(inputs, labels))
            total = (layers[0] * layers[0]).sum(1)
            for h in layers[1:]:
                total = total + (h * h).sum(1)
            return total

    def predict(self, inputs: Tensor) -> np.ndarray:
        """The label with the highest goodness for each sample (``num_classes`` passes)."""
        return self(inputs).numpy().argmax(1)

    def forward(self, inputs: Tensor) -> Tensor:
        """Goodness of every label, (B, num_classes): larger means more likely."""
        n = inputs.shape[0]
        return stack([self.goodness(inputs, Tensor._wrap(np.full(n, c, dtype=np.int64)))
                      for c in range(self.num_classes)], 1)

    def local_losses(self, inputs: Tensor, labels: Tensor, wrong: Tensor) -> list[Tensor]:
        """Each layer's loss for positive (``labels``) and negative (``wrong``) data."""
        positive = self.activities(self.embed(inputs, labels))
        negative = self.activities(self.embed(inputs, wrong))
        return [F.softplus(self.threshold - (p * p).sum(1)).mean()
                + F.softplus((q * q).sum(1) - self.threshold).mean()
                for p, q in zip(positive, negative)]


class ForwardForward(GradientEstimator):
    """Fills a ``ForwardForwardNet``'s ``.grad`` from its layer-local losses (``loss_fn`` is
    not used: the objective is the net's own). A wrong label is drawn per sample from ``seed``."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def estimate_(self, model: Any, loss_fn: Any, batch: tuple[Tensor, Tensor]) -> Estimate:
        """One positive and one negative pass (2 forward evaluations, no network backward);
        ``loss`` is the sum of the layer losses."""
        if not isinstance(model, ForwardForwardNet):
            raise TypeError(f"ForwardForward: the model must be a ForwardForwardNet (labels are "
                            f"part of its input); got {type(model).__name__}")
        inputs, labels = batch
        y = np.asarray(labels.numpy(), dtype=np.int64)
        shift = self.rng.integers(1, model.num_classes, size=len(y))
        wrong = Tensor._wrap((y + shift) % model.num_classes)
        for p in model.parameters():
            p.grad = None
        losses = model.local_losses(inputs, labels, wrong)
        total = losses[0]
        for loss in losses[1:]:
            total = total + loss
        total.backward()  # the detaches make this one independent backward per layer
        return Estimate(float(total.item()), 2, 0)
