"""cross_entropy and nll_loss with class-index targets, written with ops, for ``vmap``.

The ordinary losses prepare a plan from the target's values in NumPy, which under vmap would
be the whole batch's; these compute the same numbers with ops that have batching rules.
``nn.functional.cross_entropy`` and ``nll_loss`` call here when an argument is batched.

>>> import backprop as bp
>>> import backprop.nn.functional as F
>>> logits, target = bp.randn(4, 3, 5), bp.tensor([[0, 1, 4], [2, 2, 2], [1, 0, 3], [4, 4, 0]])
>>> ours = bp.func.vmap(F.cross_entropy)(logits, target)
>>> loop = bp.stack([F.cross_entropy(l, t) for l, t in zip(logits, target)])
>>> bool(bp.allclose(ours, loop, atol=1e-6))
True
"""

from __future__ import annotations

from ..tensor import Tensor


def class_index_loss(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
                     reduction: str, label_smoothing: float, *,
                     log_probabilities: bool) -> Tensor:
    """PyTorch's cross_entropy (``log_probabilities=False``) or nll_loss (True) of ``input``
    (``(N, C, ...)`` or ``(C,)``) against class indices ``target``."""
    from ..creation import arange
    from ..ops.elementwise import where

    class_dim = 1 if input.ndim > 1 else 0
    classes = input.shape[class_dim]
    logp = input if log_probabilities else input.log_softmax(class_dim)
    keep = target != ignore_index
    safe = where(keep, target, 0)
    onehot = (safe.unsqueeze(-1) == arange(classes)).to(input.dtype).movedim(-1, class_dim)
    kept = keep.to(input.dtype)
    if weight is None:
        per_class = None
        target_weight = kept
    else:
        per_class = weight.to(input.dtype).reshape((classes,) + (1,) * (input.ndim - class_dim - 1))
        target_weight = (onehot * per_class).sum(class_dim) * kept
    nll = -(logp * onehot).sum(class_dim) * target_weight
    loss = nll
    if label_smoothing:
        spread = logp if per_class is None else logp * per_class
        smooth = -spread.sum(class_dim) / classes * kept
        loss = nll * (1.0 - label_smoothing) + smooth * label_smoothing
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / target_weight.sum()


__all__ = ["class_index_loss"]
