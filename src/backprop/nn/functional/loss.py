"""Loss functions of ``bp.nn.functional``, with PyTorch's signatures, defaults and reductions.

The hot losses are fused primitives with stable forwards and their own VJPs (``cross_entropy``
with class indices, ``nll_loss``, ``binary_cross_entropy`` and its logits form); the VJPs are
written with our ops, so gradients of gradients work. The rest are composed from bp ops and live
in loss_composed.py (regression losses, ``kl_div``, margin and likelihood losses), which uses this
module's shared helpers.

Every loss takes ``reduction='mean' | 'sum' | 'none'`` (``kl_div`` also ``'batchmean'``); the
legacy ``size_average``/``reduce`` arguments are not supported.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ... import backend
from ...autograd import grad_mode
from ...autograd import observers as _observers
from ...backend import check_same_device
from ...backends import numba_indexing
from ...capture.state import replayable
from ...errors import DTypeError, ShapeError, format_shape
from ...ops.elementwise import abs, clamp, exp, log, log1p, relu, sigmoid
from ...ops.fused import _softmax_backward, log_softmax
from ...ops.primitive import primitive
from ...ops.reduction import mean, sum
from ...ops.shape import reshape
from ...tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


# -- shared helpers -------------------------------------------------------------------------------

def _check_reduction(op: str, reduction: str, allowed: tuple[str, ...] = _REDUCTIONS) -> None:
    if reduction not in allowed:
        listed = ", ".join(repr(r) for r in allowed)
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction "
                         f"(expected one of {listed})")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    return loss


def _same_device(op: str, input: Tensor, a: Any, b: Any = None) -> None:
    """Refuse arrays (targets, weights: not the primitive's tensor arguments, so not checked
    by it) on another device than ``input``, by name; only type checks on the CPU."""
    x = input._data
    kind = type(x)
    if kind is not np.ndarray or type(a) is not kind or (b is not None and type(b) is not kind):
        check_same_device(op, [x, a] if b is None else [x, a, b])


def _require_float(op: str, name: str, x: Any) -> None:
    if x.dtype.kind not in "fV":
        raise DTypeError(f"{op}: {name} must be a floating point tensor, got {x.dtype}; "
                         "convert it with .float()")


def _pointwise_target(op: str, input: Tensor, target: Any, warn: bool = True) -> None:
    """PyTorch broadcasts a target of a different shape (mse, l1, smooth_l1 and huber with a
    warning), so do we: the shapes must broadcast (a clear error otherwise), and a mismatch is
    warned about where PyTorch warns, not refused."""
    if input.shape != tuple(target.shape):
        try:
            np.broadcast_shapes(input.shape, tuple(target.shape))
        except ValueError:
            raise ShapeError(f"{op}: target of shape {format_shape(target.shape)} does not "
                             f"broadcast with input of shape {format_shape(input.shape)}; give a "
                             "target of the input's shape") from None
        if warn:
            warnings.warn(f"{op}: target shape {format_shape(target.shape)} differs from "
                          f"input shape {format_shape(input.shape)}; they are broadcast, which "
                          "is likely not what you want", UserWarning, stacklevel=3)


def _same_size_target(op: str, input: Tensor, target: Any) -> None:
    """The binary cross entropies require the target to have the input's shape (PyTorch too)."""
    if input.shape != tuple(target.shape):
        raise ShapeError(f"{op}: target of shape {format_shape(target.shape)} must have the "
                         f"input's shape {format_shape(input.shape)}")


def _legacy(op: str, size_average: Any, reduce: Any) -> None:
    if size_average is not None or reduce is not None:
        raise TypeError(f"{op}: size_average and reduce are deprecated and not supported; use "
                        "reduction='mean' | 'sum' | 'none'")


# -- class-index targets: cross_entropy and nll_loss -------------------------------------------------

class _ClassTargets:
    """Class-index targets prepared once per call, shared by the forward and the VJP.

    ``flat`` holds, per target (the target's shape), the position of its class's entry in the
    flattened input (ignored targets point at class 0); ``coef`` is each target's class weight,
    0 where ignored (None: all ones); ``keep`` is 1.0 where the target is not ignored (None:
    none is); ``weight`` the class weights shaped to broadcast along the class axis (or None);
    ``norm`` what 'mean' divides by, the summed ``coef``. ``column`` is the target's shape with
    the class axis put back as size 1.
    """

    __slots__ = ("axis", "classes", "coef", "column", "flat", "keep", "norm", "weight")

    def __init__(self, axis: int, classes: int, flat: np.ndarray, coef: np.ndarray | None,
                 keep: np.ndarray | None, weight: np.ndarray | None, norm: float,
                 column: tuple[int, ...]) -> None:
        self.axis = axis
        self.classes = classes
        self.flat = flat
        self.coef = coef
        self.keep = keep
        self.weight = weight
        self.norm = norm
        self.column = column

    def onehot(self, shape: tuple[int, ...], dtype: np.dtype, values: Any = None) -> np.ndarray:
        """``values`` (default ``coef``) placed at each target's class in zeros of the input's
        shape."""
        if values is None:
            values = 1.0 if self.coef is None else self.coef
        out = backend.zeros(math.prod(shape), dtype, self.flat)
        out[self.flat] = values  # positions never repeat
        return out.reshape(shape)

    def empty_mean(self, dtype: np.dtype) -> np.ndarray:
        """Per target, the factor a 'mean' over weights summing to 0 gives its gradient, as
        PyTorch computes it: a kept target's weight divided by that total (nan for weight 0),
        and 0 for an ignored one, which the gradient never reaches. So a batch of ignored
        targets only (all padding) has a nan loss but a zero gradient, harmless to the
        weights."""
        coef = backend.ones(self.flat.shape, dtype, self.flat) if self.coef is None else self.coef
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = coef / 0.0
        return factor if self.keep is None else np.where(self.keep, factor, 0.0)

    def distribution(self, shape: tuple[int, ...], dtype: np.dtype,
                     smoothing: float) -> tuple[np.ndarray, Any]:
        """The target distribution q the loss is ``-<q, log_softmax(input)>`` against, and its
        sum over classes (shaped to broadcast along the class axis; None when it is 1).
        Label smoothing mixes the one-hot target with a uniform one, each class scaled by its
        weight, as PyTorch combines them: ``q = (1 - eps) w[t] onehot(t) + eps / C * w``, zero
        at ignored positions."""
        q = self.onehot(shape, dtype)
        coef = None if self.coef is None else self.coef.reshape(self.column)
        if not smoothing:
            return q, coef
        uniform = smoothing / self.classes
        if smoothing != 1.0:
            q *= 1.0 - smoothing
        keep = None if self.keep is None else self.keep.reshape(self.column)
        spread = np.full_like(q, uniform, shape=()) if self.weight is None else self.weight * uniform
        if keep is not None:
            spread = spread * keep
        q += spread
        total = (self.classes if self.weight is None else float(self.weight.sum())) * uniform
        qsum = (1.0 if coef is None else coef) * (1.0 - smoothing) + (
            total if keep is None else keep * total)
        if coef is None and keep is None:
            return q, None  # (1 - eps) + eps: every row of q sums to 1
        return q, qsum


def _under_vmap(*tensors: Any) -> bool:
    """Whether a tensor is batched by ``bp.func.vmap``: the plan below reads the target's
    values, which would be the whole batch's; ``backprop.func`` computes the loss with ops."""
    return any(getattr(t, "_batched_by_vmap", False) for t in tensors)


def _vmapped() -> Any:
    from ... import func  # only under vmap, which has imported it

    return func.batched_losses


@replayable  # reads the targets' values: a captured step makes its plan again each replay
def _class_targets(op: str, input: Tensor, target: Any, weight: Any,
                   ignore_index: int) -> _ClassTargets:
    shape = input.shape
    if not shape:
        raise ShapeError(f"{op}: input must have a class dimension, got a 0-d tensor")
    t = backend.array_of(target)
    _same_device(op, input, t, None if weight is None else backend.array_of(weight))
    if t.dtype.kind not in "iu":
        raise DTypeError(f"{op}: class-index target must be an integer (int64) tensor, got "
                         f"{t.dtype} of shape {format_shape(t.shape)}; convert with .long(), "
                         f"or give class probabilities of the input's shape "
                         f"{format_shape(shape)}")
    axis = 1 if len(shape) > 1 else 0
    expected = shape[:axis] + shape[axis + 1:]
    if t.shape != expected:
        raise ShapeError(f"{op}: target of shape {format_shape(t.shape)} does not fit input of "
                         f"shape {format_shape(shape)}: class indices need shape "
                         f"{format_shape(expected)} (the input's shape without the class "
                         f"dim {axis})")
    classes = shape[axis]
    keep = None
    if t.size:
        low, high = int(t.min()), int(t.max())
        if low <= ignore_index <= high:
            ignored = t == ignore_index
            if ignored.any():
                keep = np.logical_not(ignored)
                t = np.where(ignored, 0, t)
                low, high = (int(t[keep].min()), int(t[keep].max())) if keep.any() else (0, 0)
        if low < 0 or high >= classes:
            bad = low if low < 0 else high
            raise IndexError(f"{op}: target class {bad} is out of range for {classes} classes "
                             f"(expected values in [0, {classes - 1}], or ignore_index="
                             f"{ignore_index})")
    # The flat position of input[n, t, d1, ...]: n * C * D + t * D + d with D = d1 * d2 * ...
    if axis == 0:
        flat = t
    else:
        inner = math.prod(shape[2:])
        rows = backend.arange(shape[0], t) * (classes * inner)
        if inner == 1:
            flat = t + rows.reshape((-1,) + (1,) * (t.ndim - 1))
        else:
            flat = (t * inner + rows.reshape((-1,) + (1,) * (t.ndim - 1))
                    + backend.arange(inner, t).reshape(shape[2:]))
    dtype = input.dtype
    class_weight = None
    coef = None if keep is None else keep.astype(dtype)
    if weight is not None:
        w = backend.array_of(weight)
        if w.shape != (classes,):
            raise ShapeError(f"{op}: weight of shape {format_shape(w.shape)} must be a vector "
                             f"with one entry per class, ({classes},)")
        w = w.astype(dtype, copy=False)
        coef = w[t] if coef is None else w[t] * coef
        class_weight = w.reshape((classes,) + (1,) * (len(shape) - axis - 1))
    norm = float(t.size) if coef is None else float(coef.sum())
    return _ClassTargets(axis, classes, flat, coef, None if keep is None else keep.astype(dtype),
                         class_weight, norm, shape[:axis] + (1,) + shape[axis + 1:])


def _reduce_array(loss: np.ndarray, plan: _ClassTargets, reduction: str) -> Any:
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    # All targets ignored: nan, as in PyTorch (0 / 0, without NumPy's warning).
    return total / plan.norm if plan.norm else total * math.nan


def _reduction_scale(g: Any, plan: _ClassTargets, reduction: str) -> Any:
    """The incoming gradient broadcast back over the class axis, divided as the mean was."""
    if reduction == "none":
        return reshape(g, plan.column)
    if reduction == "sum":
        return g
    if not plan.norm:
        return g * plan.empty_mean(g.dtype).reshape(plan.column)
    return g * (1.0 / plan.norm)




def _cross_entropy_grad(g: tuple, out: tuple, input: Any, plan: _ClassTargets,
                        label_smoothing: float, reduction: str) -> Any:
    # d/dx -<q, log_softmax(x)> = softmax(x) * sum(q) - q, with q the (smoothed, weighted,
    # masked) target distribution, a constant. The softmax is the forward's second output, so
    # under create_graph a gradient reaching it (from this very formula) flows back through
    # softmax's derivative: the second derivative is exact.
    g_loss, g_probs = g
    p = out[1]
    grad = None
    if g_loss is not None:
        q, qsum = plan.distribution(input.shape, input.dtype, label_smoothing)
        grad = ((p if qsum is None else p * qsum) - q) * _reduction_scale(g_loss, plan, reduction)
    if g_probs is not None:
        through = _softmax_backward(g_probs, p, (plan.axis,))
        grad = through if grad is None else grad + through
    return grad


@primitive("cross_entropy", outputs=("loss", "probs"), save=("probs",),
           grads={"input": _cross_entropy_grad})
def _cross_entropy(input: Any, plan: _ClassTargets, label_smoothing: float,
                   reduction: str) -> tuple[Any, Any]:
    axis = plan.axis
    # log_softmax(input) = shifted - lse is never formed whole: only the targets' entries
    # (and, with smoothing, a weighted sum over classes) are needed.
    # input minus its max along the axis (so exp cannot overflow); what the loss reads of it is
    # taken before its exp overwrites it (one array of the input's size, not two).
    shifted = input - backend.amax(input, (axis,))
    picked = np.take(shifted, plan.flat)
    if label_smoothing:
        if plan.weight is None:
            weighted, mass = shifted.sum(axis=axis, keepdims=True), float(plan.classes)
        else:
            weighted = (shifted * plan.weight).sum(axis=axis, keepdims=True)
            mass = float(plan.weight.sum())
    e = np.exp(shifted, out=shifted) if type(shifted) is np.ndarray else np.exp(shifted)
    total = backend.sum_kept(e, axis)
    lse = np.log(total)
    loss = lse.reshape(plan.flat.shape) - picked
    if plan.coef is not None:
        loss *= plan.coef
    if label_smoothing:
        smooth = (lse * mass - weighted).reshape(plan.flat.shape)
        if plan.keep is not None:
            smooth *= plan.keep
        loss = loss * (1.0 - label_smoothing) + smooth * (label_smoothing / plan.classes)
    e /= total  # softmax(input): the second output
    return _reduce_array(loss, plan, reduction), e


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average: None = None, ignore_index: int = -100, reduce: None = None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy between ``log_softmax(input, dim=1)`` and the target.

    ``input`` is ``(N, C)``, ``(N, C, d1, ...)`` or unbatched ``(C,)``. ``target`` is either
    class indices (integers, the input's shape without ``C``; entries equal to ``ignore_index``
    contribute nothing) or class probabilities (floats, the input's shape). ``weight`` (``(C,)``)
    scales each class; with class indices 'mean' divides by the summed weights of the
    non-ignored targets, with probabilities by the number of positions, as in PyTorch.
    ``label_smoothing`` mixes the target with the uniform distribution.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> logits = bp.tensor([[2., 0., 0.], [0., 2., 0.]], requires_grad=True)
    >>> loss = F.cross_entropy(logits, bp.tensor([0, 1]))
    >>> round(loss.item(), 4)
    0.2395
    >>> loss.backward(); [round(v, 4) for v in logits.grad[0].tolist()]
    [-0.1065, 0.0533, 0.0533]
    """
    _legacy("cross_entropy", size_average, reduce)
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    _require_float("cross_entropy", "input", input)
    if tuple(target.shape) == input.shape:  # class indices never have the input's shape
        return _cross_entropy_probabilities(input, target, weight, reduction,
                                            float(label_smoothing))
    if _under_vmap(input, target, weight):
        return _vmapped().class_index_loss(input, target, weight, ignore_index, reduction,
                                           float(label_smoothing), log_probabilities=False)
    plan = _class_targets("cross_entropy", input, target, weight, ignore_index)
    return _cross_entropy(input, plan, float(label_smoothing), reduction)[0]


def _cross_entropy_probabilities(input: Tensor, target: Tensor, weight: Any, reduction: str,
                                 label_smoothing: float) -> Tensor:
    """Class-probability targets: composed (the target may require grad too)."""
    if backend.array_of(target).dtype.kind not in "fV":
        raise DTypeError(f"cross_entropy: target of shape {format_shape(target.shape)} has the "
                         "input's shape, so it is read as class probabilities, which must be "
                         f"floating point; got {target.dtype}. For class indices give shape "
                         f"{format_shape(input.shape[:1] + input.shape[2:])}")
    axis = 1 if input.ndim > 1 else 0
    classes = input.shape[axis]
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + label_smoothing / classes
    terms = log_softmax(input, axis) * target
    if weight is not None:
        w = backend.array_of(weight)
        if w.shape != (classes,):
            raise ShapeError(f"cross_entropy: weight of shape {format_shape(w.shape)} must be a "
                             f"vector with one entry per class, ({classes},)")
        terms = terms * reshape(weight, (classes,) + (1,) * (input.ndim - axis - 1))
    if reduction == "none":
        return -sum(terms, axis)
    total = -sum(terms)
    if reduction == "sum":
        return total
    return total / (input.numel() // classes if classes else 0)


def _nll_loss_grad(g: Any, out: Any, input: Any, plan: _ClassTargets, reduction: str) -> Any:
    # Linear in the input: minus the weighted one-hot, so the second derivative is zero.
    if reduction == "mean" and not plan.norm:  # only the targets' entries get the nan
        return g * -plan.onehot(input.shape, input.dtype, plan.empty_mean(input.dtype))
    return _reduction_scale(g, plan, reduction) * -plan.onehot(input.shape, input.dtype)


@primitive("nll_loss", grads={"input": _nll_loss_grad})
def _nll_loss(input: Any, plan: _ClassTargets, reduction: str) -> Any:
    loss = -np.take(input, plan.flat)
    if plan.coef is not None:
        loss *= plan.coef
    return _reduce_array(loss, plan, reduction)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             size_average: None = None, ignore_index: int = -100, reduce: None = None,
             reduction: str = "mean") -> Tensor:
    """Negative log likelihood: ``-weight[t] * input[n, t]`` for log-probabilities ``input``
    (``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``) and class indices ``t``.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> round(F.nll_loss(bp.tensor([[-0.5, -1.0], [-2.0, -0.1]]), bp.tensor([0, 1])).item(), 4)
    0.3
    """
    _legacy("nll_loss", size_average, reduce)
    _check_reduction("nll_loss", reduction)
    _require_float("nll_loss", "input", input)
    if _under_vmap(input, target, weight):
        return _vmapped().class_index_loss(input, target, weight, ignore_index, reduction, 0.0,
                                           log_probabilities=True)
    if (weight is None and type(input) is Tensor and type(target) is Tensor
            and not _observers.REGISTRY.count
            and not (input._requires_grad and grad_mode.state.enabled)):
        out = _plain_nll_loss(input._data, target._data, ignore_index, reduction)
        if out is not None:
            return Tensor._wrap(out)
    plan = _class_targets("nll_loss", input, target, weight, ignore_index)
    return _nll_loss(input, plan, reduction)


_ROW_STARTS: dict[tuple[int, int], np.ndarray] = {}


def _plain_nll_loss(input: Any, target: Any, ignore_index: int, reduction: str
                    ) -> np.ndarray | None:
    """``_nll_loss``'s numbers for the common call with nothing to record (a matrix of float
    log-probabilities on the host, one int64 class per row, no weight, no target equal to
    ignore_index), without the plan (a fifth of the time at 100 rows); None otherwise."""
    if (type(input) is not np.ndarray or type(target) is not np.ndarray or input.ndim != 2
            or target.dtype != np.int64 or target.shape != input.shape[:1] or not target.size
            or input.dtype.kind != "f"):
        return None
    rows, classes = input.shape
    if 0 <= ignore_index < classes:
        return None  # a target may be ignored: the plan handles it
    loss = numba_indexing.negated_picks(input, target)  # one pass, the classes checked
    if loss is None:
        # Seen as unsigned, a negative class is huge: one reduction tells both bounds
        if int(np.maximum.reduce(target.view(np.uint64), None)) >= classes:
            return None  # the plan words the error
        starts = _ROW_STARTS.get((rows, classes))
        if starts is None:
            if len(_ROW_STARTS) > 64:  # many shapes seen: start afresh rather than grow
                _ROW_STARTS.clear()
            starts = _ROW_STARTS[(rows, classes)] = np.arange(rows) * classes
            starts.setflags(write=False)
        loss = np.negative(input.reshape(-1).take(target + starts))
    if reduction == "none":
        return loss
    total = np.add.reduce(loss, None)
    return np.asarray(total if reduction == "sum" else total / float(rows))


# -- binary cross entropy ---------------------------------------------------------------------------

def _weight_array(op: str, input: Tensor, weight: Any, name: str = "weight") -> Any:
    if weight is None:
        return None
    w = backend.array_of(weight)
    _same_device(op, input, w)
    try:
        np.broadcast_shapes(w.shape, input.shape)
    except ValueError:
        raise ShapeError(f"{op}: {name} of shape {format_shape(w.shape)} does not broadcast "
                         f"with input of shape {format_shape(input.shape)}") from None
    return w


def _mean_scale(g: Any, size: int, reduction: str) -> Any:
    return g * (1.0 / size if size else math.nan) if reduction == "mean" else g


def _reduce_elementwise(loss: np.ndarray, reduction: str) -> Any:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean() if loss.size else loss.sum() * math.nan


def _mse_loss_grad(g: Any, out: Any, input: Any, target: Any, mean: bool) -> Any:
    return (input - target) * (g * (2.0 / _size(input) if mean else 2.0))


def _size(x: Any) -> int:
    return math.prod(x.shape)


@primitive("mse_loss", save=("input", "target"), promote=("input", "target"), grads={
    "input": _mse_loss_grad,
    "target": lambda g, out, input, target, mean:
    -_mse_loss_grad(g, out, input, target, mean),
})
def _mse_loss(input: Any, target: Any, mean: bool) -> Any:
    """Squared error summed (or averaged) in one pass: one node instead of sub, mul and mean,
    which is most of a tiny model's loss cost."""
    diff = input - target
    total = backend.sum_of_squares(diff)
    return total / diff.size if mean else total


def _bce_grad_input(g: Any, out: Any, input: Any, target: Any, weight: Any,
                    reduction: str) -> Any:
    # (x - t) / (x (1 - x)), the denominator kept >= 1e-12 as PyTorch does at x = 0 or 1.
    grad = (input - target) / clamp((1 - input) * input, min=1e-12)
    if weight is not None:
        grad = grad * weight
    return grad * _mean_scale(g, _loss_size(input, target, weight), reduction)


def _bce_grad_target(g: Any, out: Any, input: Any, target: Any, weight: Any,
                     reduction: str) -> Any:
    grad = log1p(-input) - log(input)  # -logit(x), unclamped as in PyTorch
    if weight is not None:
        grad = grad * weight
    return grad * _mean_scale(g, _loss_size(input, target, weight), reduction)


def _loss_size(input: Any, target: Any, weight: Any) -> int:
    if weight is None:
        return math.prod(input.shape)
    return math.prod(np.broadcast_shapes(input.shape, target.shape, weight.shape))


@primitive("binary_cross_entropy", save=("input", "target"), grads={
    "input": _bce_grad_input,
    "target": _bce_grad_target,
})
def _binary_cross_entropy(input: Any, target: Any, weight: Any, reduction: str) -> Any:
    with np.errstate(divide="ignore"):
        # PyTorch clamps each log at -100, so a probability of exactly 0 or 1 gives a finite loss.
        log_p = np.maximum(np.log(input), -100.0)
        log_q = np.maximum(np.log1p(-input), -100.0)
    loss = (target - 1) * log_q - target * log_p
    if weight is not None:
        loss = loss * weight
    return _reduce_elementwise(loss, reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: None = None, reduce: None = None,
                         reduction: str = "mean") -> Tensor:
    """``-weight * (t log x + (1 - t) log(1 - x))`` for probabilities ``x`` in [0, 1]; each log
    is clamped at -100 as in PyTorch. Prefer ``binary_cross_entropy_with_logits``.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> round(F.binary_cross_entropy(bp.tensor([0.8, 0.3]), bp.tensor([1., 0.])).item(), 4)
    0.2899
    """
    _legacy("binary_cross_entropy", size_average, reduce)
    _check_reduction("binary_cross_entropy", reduction)
    _require_float("binary_cross_entropy", "input", input)
    _require_float("binary_cross_entropy", "target", target)
    _same_size_target("binary_cross_entropy", input, target)
    x = input._data
    low, high = (x.min(), x.max()) if x.size else (0, 0)
    if not (low >= 0 and high <= 1):  # written so that NaN fails too, as in PyTorch
        bad = low if not low >= 0 else high
        raise ValueError(f"binary_cross_entropy: input values must be probabilities in [0, 1], "
                         f"found {float(bad)}; apply sigmoid first, or use "
                         "binary_cross_entropy_with_logits")
    w = _weight_array("binary_cross_entropy", input, weight)
    return _binary_cross_entropy(input, target, w, reduction)


def _bcel_size(input: Any, target: Any, weight: Any, pos_weight: Any) -> int:
    shapes = [input.shape, target.shape] + [w.shape for w in (weight, pos_weight) if w is not None]
    return math.prod(np.broadcast_shapes(*shapes))


def _bcel_grad_input(g: Any, out: Any, input: Any, target: Any, weight: Any, pos_weight: Any,
                     reduction: str) -> Any:
    # sigmoid(x) * lw - pos_weight * t; sigmoid is a primitive, so this differentiates again.
    if pos_weight is None:
        grad = sigmoid(input) - target
    else:
        grad = sigmoid(input) * ((pos_weight - 1) * target + 1) - target * pos_weight
    if weight is not None:
        grad = grad * weight
    return grad * _mean_scale(g, _bcel_size(input, target, weight, pos_weight), reduction)


def _bcel_grad_target(g: Any, out: Any, input: Any, target: Any, weight: Any,
                      pos_weight: Any, reduction: str) -> Any:
    # d/dt = -x + (pos_weight - 1) softplus(-x)
    if pos_weight is None:
        grad = -input
    else:
        softplus_neg = relu(-input) + log1p(exp(-abs(input)))
        grad = softplus_neg * (pos_weight - 1) - input
    if weight is not None:
        grad = grad * weight
    return grad * _mean_scale(g, _bcel_size(input, target, weight, pos_weight), reduction)


@primitive("binary_cross_entropy_with_logits", save=("input", "target"), grads={
    "input": _bcel_grad_input,
    "target": _bcel_grad_target,
})
def _bce_with_logits(input: Any, target: Any, weight: Any, pos_weight: Any,
                     reduction: str) -> Any:
    # (1 - t) x + lw * softplus(-x) with lw = 1 + (pos_weight - 1) t, and
    # softplus(-x) = max(-x, 0) + log1p(exp(-|x|)), which cannot overflow.
    softplus_neg = np.maximum(-input, 0) + np.log1p(np.exp(-np.abs(input)))
    if pos_weight is None:
        loss = (1 - target) * input + softplus_neg
    else:
        loss = (1 - target) * input + ((pos_weight - 1) * target + 1) * softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce_elementwise(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average: None = None,
                                     reduce: None = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross entropy of ``sigmoid(input)`` against ``target``, computed stably from the
    logits. ``pos_weight`` (broadcast along the last dim, one per class) scales the positive
    term; ``weight`` scales each element.

    >>> import backprop as bp
    >>> import backprop.nn.functional as F
    >>> round(F.binary_cross_entropy_with_logits(bp.tensor([100., -100.]),
    ...                                          bp.tensor([1., 0.])).item(), 6)
    0.0
    """
    op = "binary_cross_entropy_with_logits"
    _legacy(op, size_average, reduce)
    _check_reduction(op, reduction)
    _require_float(op, "input", input)
    _require_float(op, "target", target)
    _same_size_target(op, input, target)
    w = _weight_array(op, input, weight)
    pw = _weight_array(op, input, pos_weight, "pos_weight")
    return _bce_with_logits(input, target, w, pw, reduction)


__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
]
