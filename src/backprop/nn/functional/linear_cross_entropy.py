"""``linear_cross_entropy``: a linear projection fused with cross-entropy (PyTorch 2.13).

Without ``options`` it is ``cross_entropy(linear(input, linear_weight, linear_bias), target)``.
With ``LinearCrossEntropyOptions`` the batch is processed in chunks, so the ``(N, C)`` logits
(the vocabulary-sized tensor of a language-model head) never exist whole: the forward keeps only
each chunk's loss, and the backward recomputes one chunk's logits at a time. Unlike PyTorch's
chunked path, ours recomputes in backward rather than storing gradients, so a second backward
(``retain_graph=True``) works whatever ``allow_retain_graph`` says.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

from ... import dtypes
from ...backend import arange, array_of, xp_of
from ...ops.fused import logsumexp, softmax
from ...ops.primitive import primitive
from ...ops.join import cat
from ...tensor import Tensor
from .layers import linear
from .loss import cross_entropy

__all__ = ["linear_cross_entropy", "LinearCrossEntropyOptions"]

_ACC_POLICIES = ("auto", "accurate", "balanced", "compact")


@dataclasses.dataclass(frozen=True)
class LinearCrossEntropyOptions:
    """How ``linear_cross_entropy`` chunks the batch (PyTorch's fields and checks).

    ``batch_chunk_size`` rows per chunk, or ``chunking_method`` ``"aspect_ratio[:N]"`` to size
    chunks so a chunk's logits take about ``1/N`` of the input's memory (``"auto"`` is
    ``"aspect_ratio:2"``, PyTorch's pick for float32/float64). ``acc_policy`` and
    ``acc_dtype`` are accepted; we accumulate in the input's dtype.

    >>> import backprop as bp
    >>> bp.nn.LinearCrossEntropyOptions(batch_chunk_size=64).batch_chunk_size
    64
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: Any = None

    def __post_init__(self) -> None:
        if self.acc_policy not in _ACC_POLICIES:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            self._aspect_factor(self.chunking_method)
        if not (self.batch_chunk_size is None or isinstance(self.batch_chunk_size, int)
                and not isinstance(self.batch_chunk_size, bool) and self.batch_chunk_size > 0):
            raise ValueError("batch_chunk_size must be positive int or None, got "
                             f"{self.batch_chunk_size!r}")

    @staticmethod
    def _aspect_factor(method: str) -> int:
        name, sep, factor = method.partition(":")
        factor = factor if sep else "1"
        if not (name == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
            raise ValueError(f"invalid chunking_method: {method!r}")
        return int(factor)

    def chunk_size(self, num_batches: int, in_features: int, num_classes: int) -> int:
        """Rows per chunk for this call (PyTorch's ``_adjust``: an explicit size wins over
        ``"auto"``; an explicit size and method that disagree are refused)."""
        method = self.chunking_method
        if method == "auto":
            method = None if self.batch_chunk_size is not None else "aspect_ratio:2"
        size = num_batches if self.batch_chunk_size is None else min(self.batch_chunk_size,
                                                                        num_batches)
        if method is not None:
            # A chunk's (rows, C) logits match the (N, in_features) input's size, over N.
            ratio = -(-num_classes // in_features)
            rows = -(-num_batches // ratio)
            size = min(num_batches,
                       max(1, (1 << (rows - 1).bit_length()) // self._aspect_factor(method)))
            if self.batch_chunk_size is not None and self.batch_chunk_size != size:
                raise ValueError(f"batch_chunk_size (={self.batch_chunk_size}) and "
                                 f"chunking_method ('{method}') give different chunk sizes "
                                 f"({self.batch_chunk_size} vs {size}); pass only one.")
        return max(size, 1)


def _row_coefficients(target: Any, weight: Any, ignore_index: int, dtype: Any
                      ) -> tuple[Any, Any]:
    """(targets with ignored entries set to 0, each row's class weight in ``dtype``: 0 where
    ignored)."""
    xp = xp_of(target)
    ignored = target == ignore_index
    safe = xp.where(ignored, 0, target)
    coef = (~ignored).astype(dtype)
    if weight is not None:
        coef = coef * weight[safe].astype(dtype)
    return safe, coef


def _chunks(n: int, size: int) -> list[slice]:
    """The row ranges of the chunks (one empty chunk for an empty batch)."""
    return [slice(start, min(start + size, n)) for start in range(0, n, size)] or [slice(0, 0)]


def _chunked_grad(g: Any, out: Any, input: Any, linear_weight: Any, linear_bias: Any,
                  target: Any, weight: Any, needs: tuple[bool, ...], ignore_index: int,
                  reduction: str, chunk: int) -> list:
    """Recomputes one chunk's logits at a time: d loss / d logits = coef * (softmax - onehot)."""
    num_classes = linear_weight.shape[0]
    # Targets and class weights get no gradient: under create_graph they arrive as tensors.
    target = array_of(target)
    weight = None if weight is None else array_of(weight)
    safe, coef = _row_coefficients(target, weight, ignore_index, array_of(input).dtype)
    if reduction == "mean":
        coef = coef / coef.sum()
    classes = arange(num_classes, like=target)
    grad_input, grad_weight, grad_bias = [], 0, 0
    for rows in _chunks(input.shape[0], chunk):
        logits = input[rows] @ linear_weight.T
        if linear_bias is not None:
            logits = logits + linear_bias
        row_g = g[rows] if reduction == "none" else g
        targets = (safe[rows, None] == classes).astype(coef.dtype)
        d_logits = (softmax(logits, 1) - targets) * (coef[rows] * row_g)[:, None]
        if needs[0]:
            grad_input.append(d_logits @ linear_weight)
        if needs[1]:
            grad_weight = grad_weight + d_logits.T @ input[rows]
        if needs[2] and linear_bias is not None:
            grad_bias = grad_bias + d_logits.sum(0)
    return [cat(grad_input, 0) if needs[0] else None, grad_weight if needs[1] else None,
            grad_bias if needs[2] and linear_bias is not None else None, None, None]


@primitive("linear_cross_entropy_chunked",
           save=("input", "linear_weight", "linear_bias", "target", "weight"),
           grads=_chunked_grad)
def _linear_cross_entropy_chunked(input: Any, linear_weight: Any, linear_bias: Any, target: Any,
                                  weight: Any, ignore_index: int, reduction: str,
                                  chunk: int) -> Any:
    xp = xp_of(input)
    safe, coef = _row_coefficients(target, weight, ignore_index, input.dtype)
    losses = []
    for rows in _chunks(input.shape[0], chunk):
        logits = input[rows] @ linear_weight.T
        if linear_bias is not None:
            logits = logits + linear_bias
        picked = xp.take_along_axis(logits, safe[rows, None], 1)[:, 0]
        losses.append((logsumexp(logits, 1) - picked) * coef[rows])
    loss = xp.concatenate(losses)
    if reduction == "none":
        return loss
    total = loss.sum()
    return total / coef.sum() if reduction == "mean" else total


def linear_cross_entropy(input: Tensor, linear_weight: Tensor, target: Tensor, *,
                         linear_bias: Tensor | None = None, weight: Tensor | None = None,
                         reduction: str = "mean", ignore_index: int | None = None,
                         label_smoothing: float = 0.0,
                         options: LinearCrossEntropyOptions | None = None) -> Tensor:
    """``cross_entropy(linear(input, linear_weight, linear_bias), target)``, with
    ``linear_weight`` ``(C, in_features)`` or ``(C, d1, ..., dK, in_features)`` for a
    K-dimensional loss; ``options`` computes it in batch chunks (see the module's note).

    >>> import backprop as bp
    >>> x, w = bp.randn(6, 4), bp.randn(10, 4)
    >>> t = bp.tensor([1, 0, 9, 3, 3, 2])
    >>> chunked = bp.nn.functional.linear_cross_entropy(
    ...     x, w, t, options=bp.nn.LinearCrossEntropyOptions(batch_chunk_size=2))
    >>> bool(chunked.isclose(bp.nn.functional.cross_entropy(x @ w.T, t)))
    True
    """
    op = "linear_cross_entropy"
    if input.ndim not in (1, 2):
        raise RuntimeError(f"{op}: expected input with dimensionality 1 or 2, got {input.ndim} "
                           f"(shape {tuple(input.shape)})")
    if linear_weight.ndim < 2:
        raise RuntimeError(f"{op}: expected linear_weight with dimensionality at least 2, got "
                           f"{linear_weight.ndim}")
    batch, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(f"{op}: expected equal input and linear_weight last dimensions "
                           f"(in_features), got {in_features} and {linear_weight.shape[-1]}, "
                           "respectively")
    num_classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"{op}: expected linear_bias shape {(num_classes, *out_features)}, "
                           f"got {tuple(linear_bias.shape)}")
    if out_features and not batch:
        raise RuntimeError(f"{op}: K-dimensional loss defined by linear_weight shape "
                           f"{tuple(linear_weight.shape)} requires batched input, (N, "
                           f"{in_features}), got unbatched input with shape "
                           f"{tuple(input.shape)}")
    logits_shape = (*batch, num_classes, *out_features)
    probabilities = tuple(target.shape) == logits_shape
    if probabilities and ignore_index is not None:
        raise RuntimeError(f"{op}: ignore_index cannot be specified when target contains "
                           "probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    chunkable = (reduction in ("mean", "sum", "none") and label_smoothing == 0.0
                 and not probabilities and target.dtype == dtypes.int64 and not out_features)
    if options is not None and not chunkable:
        warnings.warn(f"{op}: ``options`` ignored; chunked path needs reduction in "
                      "{'mean','sum','none'}, label_smoothing == 0, target.dtype == int64, "
                      f"out_features == (). Got reduction={reduction!r}, label_smoothing="
                      f"{label_smoothing}, target.dtype={target.dtype}, "
                      f"out_features={out_features}", stacklevel=2)
    if options is not None and chunkable:
        if not isinstance(options, LinearCrossEntropyOptions):  # PyTorch's, or a look-alike
            options = LinearCrossEntropyOptions(**{field.name: getattr(options, field.name)
                                                   for field in dataclasses.fields(
                                                       LinearCrossEntropyOptions)})
        rows = input if batch else input.unsqueeze(0)
        targets = target if batch else target.unsqueeze(0)
        bad = targets[(targets != ignore_index) & ((targets < 0) | (targets >= num_classes))]
        if bad.numel():
            raise IndexError(f"{op}: target class {int(bad[0])} is out of range for "
                             f"{num_classes} classes (expected values in [0, {num_classes - 1}]"
                             f", or ignore_index={ignore_index})")
        chunk = options.chunk_size(rows.shape[0], in_features, num_classes)
        loss = _linear_cross_entropy_chunked(rows, linear_weight, linear_bias, targets, weight,
                                             ignore_index=ignore_index, reduction=reduction,
                                             chunk=chunk)
        return loss if batch or reduction != "none" else loss[0]
    flat = math.prod(out_features, start=num_classes)
    logits = linear(input, linear_weight.reshape(flat, in_features),
                    None if linear_bias is None else linear_bias.reshape(flat))
    return cross_entropy(logits.reshape(logits_shape), target, weight=weight,
                         reduction=reduction, ignore_index=ignore_index,
                         label_smoothing=label_smoothing)
