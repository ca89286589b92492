"""``AdaptiveLogSoftmaxWithLoss``: the adaptive softmax of Grave et al. (2016) for large
vocabularies, with PyTorch's parameter names (``head``, ``tail.<i>.0/1``) and numbers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from ...ops.elementwise import where
from ...ops.join import cat
from ...ops.scatter import nonzero
from ...tensor import Tensor
from .. import functional as F
from ..module import Module
from .container import ModuleList, Sequential
from .linear import Linear

__all__ = ["AdaptiveLogSoftmaxWithLoss"]


class _ASMoutput(NamedTuple):
    """What ``AdaptiveLogSoftmaxWithLoss`` returns (PyTorch's name): the log-probability of each
    target and the mean negative log-likelihood."""

    output: Tensor
    loss: Tensor


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax: the ``cutoffs[0]`` most frequent classes and one entry per tail cluster
    share the ``head`` softmax; a class in cluster ``i`` gets the head's cluster log-probability
    plus its log-probability within ``tail[i]`` (a two-layer projection shrunk by
    ``div_value ** (i + 1)``).

    >>> import backprop as bp
    >>> asm = bp.nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4, 7], div_value=2.0)
    >>> out = asm(bp.randn(3, 8), bp.tensor([0, 5, 9]))
    >>> out.output.shape, out.loss.shape
    ((3,), ())
    >>> asm.log_prob(bp.randn(3, 8)).exp().sum(1).allclose(bp.ones(3))
    True
    """

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int],
                 div_value: float = 4.0, head_bias: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs)
                or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted "
                             "in an increasing order, where each value is between 1 and "
                             "n_classes-1")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, device=device,
                           dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(
                Linear(in_features, hidden, bias=False, device=device, dtype=dtype),
                Linear(hidden, size, bias=False, device=device, dtype=dtype)))

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for projection in self.tail:
            for layer in projection:
                layer.reset_parameters()

    def forward(self, input: Tensor, target: Tensor) -> _ASMoutput:
        name = type(self).__name__
        if target.ndim == 1:
            if input.shape[0] != target.shape[0]:
                raise RuntimeError(f"{name}: Input and target should have the same size in the "
                                   f"batch dimension (input {tuple(input.shape)}, target "
                                   f"{tuple(target.shape)}).")
            if input.ndim != 2:
                raise RuntimeError(f"{name}: 1D target tensor expects 2D input tensors, but "
                                   f"found inputs with size {tuple(input.shape)}")
        elif target.ndim == 0:
            if input.ndim != 1:
                raise RuntimeError(f"{name}: 0D target tensor expects 1D input tensors, but "
                                   f"found inputs with size {tuple(input.shape)}")
        else:
            raise RuntimeError(f"{name}: 0D or 1D target tensor expected, multi-target not "
                               f"supported (target of shape {tuple(target.shape)})")
        batched = input.ndim > 1
        if not batched:
            input, target = input.unsqueeze(0), target.unsqueeze(0)
        in_range = ((target >= 0) & (target < self.n_classes)).sum()
        if int(in_range) != target.shape[0]:
            raise RuntimeError(f"{name}: Target values should be in [0, {self.n_classes - 1}], "
                               f"but values in range [{int(target.min())}, {int(target.max())}] "
                               "were found.")
        # Rows of a tail cluster read the head at that cluster's entry, and add their
        # log-probability within the cluster.
        head_index = target
        in_clusters = []
        for i in range(self.n_clusters):
            low, high = self.cutoffs[i], self.cutoffs[i + 1]
            mask = (target >= low) & (target < high)
            head_index = where(mask, self.shortlist_size + i, head_index)
            rows = nonzero(mask)[:, 0]
            if rows.shape[0]:
                cluster_logprob = F.log_softmax(self.tail[i](input.index_select(0, rows)), dim=1)
                relative = (target.index_select(0, rows) - low).unsqueeze(1)
                in_clusters.append((rows, cluster_logprob.gather(1, relative)[:, 0]))
        head_logprob = F.log_softmax(self.head(input), dim=1)
        output = head_logprob.gather(1, head_index.unsqueeze(1))[:, 0]
        for rows, value in in_clusters:
            output = output.index_add(0, rows, value)
        loss = (-output).mean()
        return _ASMoutput(output if batched else output[0], loss)

    def log_prob(self, input: Tensor) -> Tensor:
        """Log-probabilities of every class, ``(N, n_classes)``, for an ``(N, in_features)``
        input."""
        if input.ndim != 2:
            raise RuntimeError(f"{type(self).__name__}.log_prob: expected a 2D input "
                               f"(N, {self.in_features}), got shape {tuple(input.shape)}")
        head_logprob = F.log_softmax(self.head(input), dim=1)
        pieces = [head_logprob[:, :self.shortlist_size]]
        for i, projection in enumerate(self.tail):
            cluster_logprob = F.log_softmax(projection(input), dim=1)
            pieces.append(cluster_logprob
                          + head_logprob[:, self.shortlist_size + i].unsqueeze(1))
        return cat(pieces, dim=1)

    def predict(self, input: Tensor) -> Tensor:
        """The most likely class of each row, ``(N,)``; equals ``log_prob(input).argmax(1)``."""
        return self.log_prob(input).argmax(dim=1)
