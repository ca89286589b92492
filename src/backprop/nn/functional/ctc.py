"""Connectionist temporal classification: ``ctc_loss`` (Graves et al., 2006).

The forward runs the log-space alpha recursion over time, vectorised over the batch and the
extended label sequence (a blank between labels and at both ends); the beta recursion then gives
each class's occupation ``log sum_{s: l'(s) = c} alpha_t(s) beta_t(s)``. The gradient is
PyTorch's, ``exp(log_probs) - exp(occupation + nll - log_probs)``: that is the gradient with
respect to the *logits* of a ``log_softmax`` (the softmax's own backward then adds nothing, as
the rows of both terms sum to one), not of ``log_probs`` taken as free values. Feed
``log_softmax`` output, as PyTorch's documentation requires.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ... import backend
from ...errors import ShapeError, format_shape
from ...ops.elementwise import exp, where
from ...ops.primitive import primitive
from ...ops.reduction import mean, sum
from ...tensor import Tensor
from .loss import _check_reduction


class _CTCPlan:
    """Targets and lengths prepared once per call: ``ext`` the extended labels ``(N, 2L+1)``,
    ``skip`` where a step may jump two positions (a label that differs from the one two back),
    ``input_lengths``/``target_lengths`` as host integer arrays."""

    __slots__ = ("blank", "ext", "input_lengths", "skip", "target_lengths", "zero_infinity")

    def __init__(self, targets: Any, input_lengths: np.ndarray, target_lengths: np.ndarray,
                 blank: int, zero_infinity: bool) -> None:
        batch = len(target_lengths)
        longest = int(target_lengths.max()) if batch else 0
        ext = np.full((batch, 2 * longest + 1), blank, dtype=np.int64)
        ext[:, 1::2] = targets[:, :longest]
        skip = np.zeros(ext.shape, bool)
        skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
        self.ext, self.skip, self.blank = ext, skip, blank
        self.input_lengths, self.target_lengths = input_lengths, target_lengths
        self.zero_infinity = zero_infinity


def _shift(a: Any, by: int) -> Any:
    """``a`` moved ``by`` places right along the last axis, -inf filling the start."""
    out = np.full_like(a, -np.inf)
    out[..., by:] = a[..., :-by]
    return out


def _unshift(a: Any, by: int) -> Any:
    """``a`` moved ``by`` places left along the last axis, -inf filling the end."""
    out = np.full_like(a, -np.inf)
    out[..., :-by] = a[..., by:]
    return out


def _ctc_grad(g: tuple, out: tuple, log_probs: Any, plan: _CTCPlan) -> Any:
    g_loss, nll, occupation = g[0], out[0].reshape(1, -1, 1), out[1]
    if plan.zero_infinity:
        finite = backend.array_of(nll) != np.inf
        nll = where(finite, nll, 0.0)
    grad = exp(log_probs) - exp(occupation + nll - log_probs)
    if plan.zero_infinity:
        grad = where(finite, grad, 0.0)
    # Frames past an input's length take no part in its loss.
    steps = np.arange(log_probs.shape[0]).reshape(-1, 1, 1)
    inside = steps < plan.input_lengths.reshape(1, -1, 1)
    grad = where(backend.on_device_of(inside, backend.array_of(nll)), grad, 0.0)
    return grad * g_loss.reshape(1, -1, 1)


@primitive("ctc_loss", outputs=("loss", "occupation"), save=("loss", "occupation", "log_probs"),
           grads={"log_probs": _ctc_grad})
def _ctc_loss(log_probs: Any, plan: _CTCPlan) -> tuple[Any, Any]:
    def on_device(host: np.ndarray) -> Any:
        return backend.on_device_of(host, log_probs)

    steps, batch, classes = log_probs.shape
    ext, skip = on_device(plan.ext), on_device(plan.skip)
    width = ext.shape[1]
    # Positions past a target's 2 * length + 1 are cut off (-inf), so beta cannot flow from them.
    inside = on_device(np.arange(width) < 2 * plan.target_lengths.reshape(-1, 1) + 1)
    index = np.broadcast_to(ext, (steps, batch, width))
    emit = np.where(inside, np.take_along_axis(log_probs, index, axis=2), -np.inf)
    alpha = np.full_like(emit, -np.inf)
    alpha[0, :, :2] = emit[0, :, :2]
    for t in range(1, steps):
        prev = alpha[t - 1]
        reach = np.logaddexp(prev, _shift(prev, 1))
        reach = np.where(skip, np.logaddexp(reach, _shift(prev, 2)), reach)
        alpha[t] = reach + emit[t]
    last, rows = on_device(plan.input_lengths - 1), on_device(np.arange(batch))
    end = on_device(2 * plan.target_lengths)
    final = alpha[last, rows]  # (N, width)
    nll = -np.logaddexp(final[rows, end],
                        np.where(end > 0, final[rows, np.maximum(end - 1, 0)], -np.inf))
    # Beta, from each input's last frame backwards; a frame past an input's length stays -inf.
    ends = np.zeros((batch, width), bool)
    host_end, host_rows = 2 * plan.target_lengths, np.arange(batch)
    ends[host_rows, host_end] = True
    ends[host_rows, np.maximum(host_end - 1, 0)] |= host_end > 0
    ends = on_device(ends)
    skip_next = _unshift(np.where(skip, 0.0, -np.inf), 2)  # may position s jump to s + 2
    beta = np.full_like(emit, -np.inf)
    for t in range(steps - 1, -1, -1):
        after = beta[t + 1] if t + 1 < steps else beta[t]
        reach = np.logaddexp(after, _unshift(after, 1))
        reach = np.logaddexp(reach, _unshift(after, 2) + skip_next)
        start = (t == last).reshape(-1, 1)
        reach = np.where(start, np.where(ends, 0.0, -np.inf), reach)
        beta[t] = np.where((t <= last).reshape(-1, 1), reach + emit[t], -np.inf)
    both = alpha + beta  # (T, N, width): the emission counted twice, as PyTorch's occupation
    top = both.max(axis=2, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    # (N, width, C): which class each extended position emits.
    onehot = (ext[:, :, None] == backend.arange(classes, like=ext)).astype(log_probs.dtype)
    with np.errstate(divide="ignore"):
        occupation = np.log(np.matmul(np.exp(both - top).transpose(1, 0, 2), onehot))
    occupation = occupation.transpose(1, 0, 2) + top
    return nll.astype(log_probs.dtype), occupation


def _lengths(op: str, name: str, value: Any, batch: int) -> np.ndarray:
    lengths = np.asarray(backend.to_host(backend.array_of(value)) if isinstance(value, Tensor)
                         else value).reshape(-1)
    if lengths.dtype.kind not in "iu":
        raise TypeError(f"{op}: {name} must hold integers, got {lengths.dtype}")
    if lengths.shape != (batch,):
        raise ShapeError(f"{op}: {name} must have one entry per batch element ({batch}), got "
                         f"{lengths.shape[0]}")
    return lengths.astype(np.int64)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Tensor | Sequence[int],
             target_lengths: Tensor | Sequence[int], blank: int = 0, reduction: str = "mean",
             zero_infinity: bool = False) -> Tensor:
    """The CTC loss ``-log p(target | log_probs)`` summed over all alignments.

    ``log_probs`` is ``(T, N, C)`` (or unbatched ``(T, C)``) log-probabilities, e.g. from
    ``log_softmax(dim=2)``; ``targets`` is padded ``(N, S)`` or the ``N`` targets concatenated
    ``(sum(target_lengths),)``, never containing ``blank``. 'mean' divides each loss by its
    target length and then averages over the batch; ``zero_infinity`` zeroes the infinite losses
    (and their gradients) of inputs too short for their targets.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> lp = bp.full((2, 1, 2), 0.5).log()
    >>> round(F.ctc_loss(lp, bp.tensor([[1]]), [2], [1], reduction="sum").item(), 4)
    0.2877
    """
    op = "ctc_loss"
    _check_reduction(op, reduction)
    if log_probs.ndim not in (2, 3):
        raise ShapeError(f"{op}: log_probs must be (T, N, C) or unbatched (T, C), got "
                         f"{format_shape(log_probs.shape)}")
    unbatched = log_probs.ndim == 2
    steps, batch, classes = (log_probs.shape[0], 1, log_probs.shape[1]) if unbatched \
        else log_probs.shape
    in_lengths = _lengths(op, "input_lengths", input_lengths, batch)
    out_lengths = _lengths(op, "target_lengths", target_lengths, batch)
    if (in_lengths > steps).any() or (in_lengths < 1).any():
        raise ValueError(f"{op}: input_lengths must be in [1, {steps}] (the input's length), got "
                         f"{in_lengths.tolist()}")
    if (out_lengths < 0).any():
        raise ValueError(f"{op}: target_lengths must be >= 0, got {out_lengths.tolist()}")
    if not 0 <= blank < classes:
        raise IndexError(f"{op}: blank must be in [0, {classes}), got {blank}")
    labels = backend.to_host(backend.array_of(targets)).astype(np.int64)
    if unbatched:
        labels = labels.reshape(1, -1)
    elif labels.ndim == 1:  # concatenated: cut into rows of a padded (N, S) array
        if labels.shape[0] != out_lengths.sum():
            raise ShapeError(f"{op}: concatenated targets of length {labels.shape[0]} must have "
                             f"sum(target_lengths) = {out_lengths.sum()} entries")
        padded = np.full((batch, int(out_lengths.max(initial=0))), blank, np.int64)
        starts = np.concatenate([[0], np.cumsum(out_lengths)[:-1]])
        for n, (start, length) in enumerate(zip(starts, out_lengths)):
            padded[n, :length] = labels[start:start + length]
        labels = padded
    if labels.ndim != 2 or labels.shape[0] != batch or labels.shape[1] < out_lengths.max(initial=0):
        raise ShapeError(f"{op}: targets of shape {format_shape(targets.shape)} must be (N, S) "
                         f"with S >= max(target_lengths) = {out_lengths.max(initial=0)}, or "
                         f"concatenated (sum(target_lengths),), for batch size {batch}")
    used = np.arange(labels.shape[1]) < out_lengths.reshape(-1, 1)
    if ((labels < 0) | (labels >= classes) | (labels == blank))[used].any():
        raise IndexError(f"{op}: target labels must be in [0, {classes}) and differ from "
                         f"blank={blank}")
    plan = _CTCPlan(labels, in_lengths, out_lengths, blank, zero_infinity)
    lp = log_probs.reshape(steps, 1, classes) if unbatched else log_probs
    nll = _ctc_loss(lp, plan)[0]
    if zero_infinity:  # the rule gives these entries a zero gradient
        nll = where(backend.array_of(nll) == np.inf, 0.0, nll)
    if reduction == "none":
        return nll.reshape(()) if unbatched else nll
    if reduction == "sum":
        return sum(nll)
    divisor = np.maximum(out_lengths, 1).astype(backend.array_of(nll).dtype)
    return mean(nll / backend.on_device_of(divisor, backend.array_of(nll)))


__all__ = ["ctc_loss"]
