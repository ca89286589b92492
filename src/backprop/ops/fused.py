"""Fused ops with stable forwards and VJPs: logsumexp, softmax and log_softmax.

Each shifts by the max before exponentiating, so large inputs cannot overflow, and each VJP is
formed from the saved result rather than from fresh exponentials of the input. They reduce over
dims with reduction.py's helpers (``normalize_dims``, ``expand_reduced``, ``_sum``), imported from
that module, which does not import this one.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import backend, dtypes
from ..backends import numba_reductions
from ..errors import ShapeError, format_shape
from ..tensor import Tensor
from .elementwise import exp, to
from .primitive import primitive
from .reduction import _require_float, _single_dim, _sum, expand_reduced, normalize_dims

# -- logsumexp ----------------------------------------------------------------------------------

# d logsumexp = softmax, formed from the saved result so it cannot overflow.
@primitive("logsumexp", save=("input", "out"), promote=("input",), grads={
    "input": lambda g, out, input, axes, keepdim: expand_reduced(g, input.shape, axes, keepdim)
    * exp(input - expand_reduced(out, input.shape, axes, keepdim)),
})
def _logsumexp(input: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    # Shift by the max so exp cannot overflow; an infinite max (all -inf, or a +inf entry) is
    # not shifted, which gives -inf and inf as the exact answers.
    shift = backend.amax(input, axes)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    terms = backend.as_array(input - shift)
    np.exp(terms, out=terms)  # in place: one temporary fewer
    # float32 rows by Numba (float32 blocks added in float64, a quarter of NumPy's time)
    total = numba_reductions.sums(terms, axes, True, numba_reductions.SUM)
    if total is None:
        total = backend.cascade_sum(terms, axes, True)
    with np.errstate(divide="ignore"):  # log(0) = -inf for an all -inf slice
        out = np.log(total)
    out += shift
    return out if keepdim else np.squeeze(out, axis=axes)


def logsumexp(input: Tensor, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:
    """``log(sum(exp(input), dim))`` computed without overflow; its gradient is the softmax.

    >>> import backprop as bp
    >>> round(bp.tensor([1000., 1000.]).logsumexp(0).item(), 2)
    1000.69
    """
    if input.dtype.kind not in "fcV":  # integers give a float result, as in PyTorch
        input = to(input, dtypes.get_default_dtype())
    return _logsumexp(input, normalize_dims("logsumexp", dim, input.ndim), keepdim)


# -- softmax ------------------------------------------------------------------------------------
# Each VJP is a composite primitive of its own (``softmax_backward``): the rule that calls it
# stays one line, a backend gives it a one-pass kernel (NumPy in place below, Numba's over the
# last axis), and under create_graph it records the ops it is made of, which carry the second
# derivative.


@primitive("softmax_backward", composite=True, promote=("g", "out"))
def _softmax_backward(g: Any, out: Any, axes: tuple[int, ...] | None) -> Any:
    # out * (g - <g, out>): the softmax Jacobian diag(out) - out out^T applied without forming it.
    return out * (g - _sum(g * out, axes, True))


@_softmax_backward.kernel(np.ndarray)
def _softmax_backward_in_place(g: Any, out: Any, axes: tuple[int, ...] | None) -> Any:
    if not out.ndim:  # NumPy makes 0-d results scalars, which the in-place steps refuse
        return None
    grad = np.multiply(g, out)
    dot = grad.sum(axis=axes, keepdims=True)
    grad -= out * dot
    return grad


@primitive("softmax", save=("out",), promote=("input",),
           grads={"input": lambda g, out, input, axes: _softmax_backward(g, out, axes)})
def _softmax(input: Any, axes: tuple[int, ...] | None) -> Any:
    # Subtracting the max keeps exp in range; the result is unchanged.
    e = backend.as_array(input - backend.amax(input, axes))
    np.exp(e, out=e)
    e /= backend.cascade_sum(e, axes, True)
    return e


@primitive("log_softmax_backward", composite=True, promote=("g", "out"))
def _log_softmax_backward(g: Any, out: Any, axes: tuple[int, ...] | None) -> Any:
    return g - exp(out) * _sum(g, axes, True)


@_log_softmax_backward.kernel(np.ndarray)
def _log_softmax_backward_in_place(g: Any, out: Any, axes: tuple[int, ...] | None) -> Any:
    if not out.ndim:
        return None
    grad = np.exp(out)
    grad *= g.sum(axis=axes, keepdims=True)
    return np.subtract(g, grad, out=grad)


@primitive("log_softmax", save=("out",), promote=("input",),
           grads={"input": lambda g, out, input, axes: _log_softmax_backward(g, out, axes)})
def _log_softmax(input: Any, axes: tuple[int, ...] | None) -> Any:
    shifted = input - backend.amax(input, axes)
    with np.errstate(divide="ignore"):
        shifted -= np.log(backend.cascade_sum(np.exp(shifted), axes, True))
    return shifted


# -- attention's softmax -------------------------------------------------------------------------
# softmax(input * scale) over the last dim, with the causal mask (key j > query i masked) applied
# in the same pass: scaled_dot_product_attention's scores go through one node instead of three
# (mul, where, softmax), and a kernel skips the masked upper triangle.


@primitive("attention_softmax_backward", composite=True, promote=("g", "out"))
def _attention_softmax_backward(g: Any, out: Any, scale: float) -> Any:
    # Masked entries need no select: their probability is 0, so out * (g - <g, out>) is 0 there.
    return _softmax_backward(g, out, (out.ndim - 1,)) * scale


@primitive("attention_softmax", save=("out",), promote=("input",), grads={
    "input": lambda g, out, input, scale, causal: _attention_softmax_backward(g, out, scale)})
def _attention_softmax(input: Any, scale: float, causal: bool) -> Any:
    scores = input * scale
    if causal:
        # top-left aligned, as PyTorch's is_causal: query i sees keys 0..i
        keep = backend.on_device_of(np.tri(*input.shape[-2:], dtype=bool), input)
        scores = np.where(keep, scores, -np.inf)
    return _softmax(scores, (scores.ndim - 1,))


def attention_softmax(input: Tensor, scale: float, causal: bool = False) -> Tensor:
    """``softmax(input * scale)`` over the last dim, keys after each query masked when
    ``causal`` (``input`` is ``(..., L, S)``; query ``i`` sees keys ``0..i``): the attention
    weights of ``scaled_dot_product_attention`` in one op.

    >>> import backprop as bp
    >>> from backprop.ops.fused import attention_softmax
    >>> attention_softmax(bp.zeros(2, 2), 1.0, causal=True).tolist()
    [[1.0, 0.0], [0.5, 0.5]]
    """
    if input.ndim < 2:
        raise ShapeError(f"attention_softmax: input must be (..., L, S), got shape "
                         f"{format_shape(input.shape)}")
    return _attention_softmax(input, float(scale), bool(causal))


def _softmax_axes(op: str, input: Any, dim: Any, dtype: Any) -> tuple[Any, tuple[int, ...] | None]:
    if dtype is not None:
        input = input.to(dtype)
    else:
        _require_float(op, input, "floating point (or pass dtype=bp.float32)")
    axis = _single_dim(op, dim, input.ndim)
    return input, (axis,) if input.ndim else None


def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """``exp(input) / sum(exp(input), dim)``, computed stably; ``dtype`` casts the input first.

    >>> import backprop as bp
    >>> bp.tensor([1000., 1000.]).softmax(0).tolist()
    [0.5, 0.5]
    """
    input, axes = _softmax_axes("softmax", input, dim, dtype)
    return _softmax(input, axes)


def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """``input - logsumexp(input, dim)``: log-probabilities, stable for large inputs.

    >>> import backprop as bp
    >>> [round(v, 4) for v in bp.tensor([0., 0.]).log_softmax(0).tolist()]
    [-0.6931, -0.6931]
    """
    input, axes = _softmax_axes("log_softmax", input, dim, dtype)
    return _log_softmax(input, axes)


__all__ = ["logsumexp", "softmax", "log_softmax"]
