"""Reductions over dims: sums and means, products, statistics, norms and cumulative sums.
(logsumexp and the softmax family, with their fused stable VJPs, are in fused.py; max, min, their
indices and amax/amin in extrema.py; both import this module's helpers.)

Each primitive's VJPs follow right after it and are written with our own ops, so gradients of
gradients come for free. ``expand_reduced`` broadcasts a reduced gradient back over the reduced
dims; every reduction's VJP starts from it.
"""

from __future__ import annotations

import builtins
import math
from typing import Any, Sequence

import numpy as np

from .. import backend
from ..autograd.graph import summed_axes
from ..backend import cascade_sum
from ..backends import numba_reductions
from ..errors import DimError, DTypeError, ShapeError, check_dim, format_shape
from ..tensor import Tensor
from .conjugation import conjugate_if_complex
from .elementwise import abs, eq, sign, to, where
from .primitive import primitive
from .shape import broadcast_to, reshape

# This module defines sum, all and any; Python's own are reached through ``builtins``.


def normalize_dims(op: str, dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...] | None:
    """``dim`` as a sorted tuple of non-negative axes (None or ``()`` means all), checked against
    ``ndim``. A 0-d tensor accepts dim 0 and -1, as in PyTorch, and has no axes to reduce."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)) and not isinstance(dim, bool):
        check_dim(op, int(dim), ndim)
        return (int(dim) % ndim,) if ndim else ()
    if not isinstance(dim, (tuple, list)) or not builtins.all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in dim):
        raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
    if not dim:
        return None
    axes = tuple(sorted(check_dim(op, int(d), ndim) for d in dim))
    if len(set(axes)) != len(axes):
        raise DimError(f"{op}: dim {tuple(dim)} names a dimension twice")
    return axes if ndim else ()


def _single_dim(op: str, dim: Any, ndim: int) -> int:
    """One dim (ops that reduce or scan along exactly one), made non-negative."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    return check_dim(op, int(dim), ndim)


def expand_reduced(g: Any, shape: tuple[int, ...], axes: tuple[int, ...] | None,
                   keepdim: bool) -> Any:
    """Broadcast the gradient of a reduction over ``axes`` back to the input ``shape``."""
    if not keepdim and axes is not None and shape:
        kept = list(shape)
        for a in axes:
            kept[a] = 1
        g = reshape(g, tuple(kept))
    return broadcast_to(g, shape)


def kept_dims(x: Any, shape: tuple[int, ...], axes: tuple[int, ...] | None,
              keepdim: bool) -> Any:
    """A reduction's result ``x`` with its reduced dims back as size 1, as ``keepdim=True``
    gives it: it broadcasts against the input ``shape`` without being expanded to it."""
    if keepdim or axes is None or not shape:
        return x
    return reshape(x, tuple(1 if d in axes else n for d, n in enumerate(shape)))


def _count(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> int:
    """How many elements a reduction over ``axes`` folds into each result."""
    if axes is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in axes)


@primitive("at_extreme", differentiable=False)
def at_extreme(input: Any, extreme: Any) -> Any:
    """Where ``input`` equals its slice's ``extreme`` (its max or min, with kept dims): the
    elements that share a max's or min's gradient. A NaN extreme comes from NaNs in its slice
    (max and min propagate them), and those NaNs are where it is."""
    return np.equal(input, extreme) | np.isnan(input)


@at_extreme.kernel(np.ndarray)
def _at_extreme_without_nans(input: Any, extreme: Any) -> Any:
    # A NaN extreme is rare: checking the few extremes spares a pass for NaNs over every input
    # (a third of the definition's time).
    if np.isnan(extreme).any():
        return None
    return np.equal(input, extreme)


def _require_float(op: str, input: Any, what: str = "floating point") -> None:
    if input.dtype.kind not in "fcV":
        raise DTypeError(f"{op}: input dtype must be {what}, got {input.dtype}; "
                         "convert with .float() first")


# -- sum and mean -------------------------------------------------------------------------------

# Reductions compute float16 in float32 (``promote``) and round the result to float16, as
# PyTorch's CPU kernels accumulate; float sums are cascaded (``cascade_sum``) along any axis.
@primitive("sum", promote=("input",), grads={
    "input": lambda g, out, input, axes, keepdim: expand_reduced(g, input.shape, axes, keepdim),
})
def _sum(input: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    if input.dtype.kind in "biu":  # PyTorch sums bools and integers in int64
        return input.sum(axis=axes, keepdims=keepdim, dtype=np.int64)
    return cascade_sum(input, axes, keepdim)


# float32 sums by Numba (``backends.numba_reductions``): NumPy's float32 sum takes four times
# PyTorch's time; the kernels' float32 blocks added in float64 are as accurate as the cascade.
@_sum.kernel(np.ndarray, compiled=True)
def _sum_by_numba(input: np.ndarray, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    return numba_reductions.sums(input, axes, keepdim, numba_reductions.SUM)


def summed(array: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    """``sum``'s forward on an array, by its kernels where one takes it (for forwards of other
    ops that sum, as the trapezoidal rule)."""
    for kernel in _sum.kernels.get(type(array), ()):
        out = kernel(array, axes, keepdim)
        if out is not None:
            return out
    return _sum.forward(array, axes, keepdim)


def sum(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
        dtype: Any = None) -> Tensor:
    """Sum over ``dim`` (an int, a tuple, or all dims when None).

    >>> import backprop as bp
    >>> bp.tensor([[1., 2.], [3., 4.]]).sum(dim=0).tolist()
    [4.0, 6.0]
    """
    if dtype is not None:  # PyTorch casts before summing (float32 input summed in float64)
        input = input.to(dtype)
    return _sum(input, normalize_dims("sum", dim, input.ndim), keepdim)


def _mean_vjp(g: Any, out: Any, input: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    count = builtins.max(_count(input.shape, axes), 1)
    return expand_reduced(g, input.shape, axes, keepdim) / count


@primitive("mean", promote=("input",), grads={"input": _mean_vjp})
def _mean(input: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    if input.dtype.kind not in "fcV":
        raise DTypeError(f"mean: input dtype must be floating point, got {input.dtype}; "
                        "convert with .float() first")
    return _cascade_mean(input, axes, keepdim)


def _cascade_mean(input: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    with np.errstate(invalid="ignore", divide="ignore"):  # an empty mean is nan, as in PyTorch
        return cascade_sum(input, axes, keepdim) / _count(input.shape, axes)


@_mean.kernel(np.ndarray, compiled=True)
def _mean_by_numba(input: np.ndarray, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    total = numba_reductions.sums(input, axes, keepdim, numba_reductions.SUM)
    return None if total is None else total / _count(input.shape, axes)


def mean(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """Mean over ``dim`` (float tensors only, as in PyTorch).

    >>> import backprop as bp
    >>> bp.tensor([1., 2., 3.]).mean().item()
    2.0
    """
    if dtype is not None:
        input = input.to(dtype)
    return _mean(input, normalize_dims("mean", dim, input.ndim), keepdim)


@primitive(grads={"input": lambda g, out, input, size: broadcast_to(g, input.shape)})
def sum_to_size(input: Any, size: tuple[int, ...]) -> Any:
    shape = tuple(size)
    axes = summed_axes(input.shape, shape)
    if axes is None:
        raise ShapeError(f"sum_to_size: a tensor of shape {format_shape(input.shape)} cannot be "
                         f"summed to {format_shape(shape)}: that shape must broadcast to it")
    return cascade_sum(input, axes, True).reshape(shape)


def _sum_to_size_method(self: Tensor, *size: Any) -> Tensor:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return sum_to_size(self, tuple(size))


# -- products -----------------------------------------------------------------------------------

# Complex inputs: the gradient takes the conjugate of the derivative (PyTorch's convention).
@primitive("prod", save=("input",), promote=("input",), grads={
    "input": lambda g, out, input, axis, keepdim: expand_reduced(
    g, input.shape, None if axis is None else (axis,), keepdim) * conjugate_if_complex(
    _prod_others(input, axis) if axis is not None
    else reshape(_prod_others(reshape(input, (-1,)), 0), input.shape)),
})
def _prod(input: Any, axis: int | None, keepdim: bool) -> Any:
    if input.dtype.kind in "biu":  # in int64, as PyTorch
        return input.prod(axis=axis, keepdims=keepdim, dtype=np.int64)
    return input.prod(axis=axis, keepdims=keepdim)


# NumPy multiplies along a contiguous axis one element after another (a chain of dependent
# multiplies, 20 to 60 times slower than PyTorch's vectorised loop), but across rows it
# multiplies whole rows at once. So the whole array is cut into rows of 1024, multiplied
# together, and the last axis is turned to run across rows (a transposed copy): the same
# products, rounded in another order.
_BLOCKED_PRODUCT_MIN = 4096
_BLOCK = 1024


@_prod.kernel(np.ndarray)
def _prod_across_rows(input: np.ndarray, axis: int | None, keepdim: bool) -> Any:
    if (input.dtype.kind not in "fV" or input.size < _BLOCKED_PRODUCT_MIN
            or not input.flags.c_contiguous or axis not in (None, input.ndim - 1)):
        return None  # the plain forward
    if axis is None:
        flat = input.reshape(-1)
        whole = flat.size // _BLOCK * _BLOCK
        out = flat[:whole].reshape(-1, _BLOCK).prod(axis=0).prod() * flat[whole:].prod()
        return np.full((1,) * input.ndim if keepdim else (), out, dtype=input.dtype)
    out = np.ascontiguousarray(input.reshape(-1, input.shape[-1]).T).prod(axis=0)
    return out.reshape(input.shape[:-1] + ((1,) if keepdim else ()))


@_prod.kernel(np.ndarray, compiled=True)
def _prod_of_rows(input: np.ndarray, axis: int | None, keepdim: bool) -> Any:
    # float32 rows by Numba, multiplied in vector lanes as PyTorch's vectorised loop does
    return numba_reductions.row_products(input, None if axis is None else (axis,), keepdim)


def _prod_others_vjp(g: Any, out: Any, input: Any, axis: int) -> Any:
    # Only second and higher derivatives of prod reach here. d out[i] / d input[k] is the product
    # over j not in {i, k}: prod_others of a copy of the input whose i-th entry is 1, laid out
    # along a new axis for i (n x n memory along the reduced dim, and no division by zeros).
    shape = input.shape
    n = shape[axis]
    eye = backend.eye(n, bool, input)
    eye = eye.reshape((n, n) + (1,) * (len(shape) - axis - 1))
    rows = broadcast_to(reshape(input, shape[:axis] + (1,) + shape[axis:]),
                        shape[:axis] + (n,) + shape[axis:])
    others = _prod_others(where(eye, 1.0, rows), axis + 1)  # [..., i, k, ...]
    g_rows = reshape(g, shape[:axis] + (n, 1) + shape[axis + 1:])
    return _sum(where(eye, 0.0, g_rows * conjugate_if_complex(others)), (axis,), False)


@primitive("prod_others", save=("input",), grads={"input": _prod_others_vjp})
def _prod_others(input: Any, axis: int) -> Any:
    """``out[i]`` = the product of every ``input[j]`` with ``j != i`` along ``axis``.

    Exclusive products from the left times exclusive products from the right: no division, so
    it is exact where inputs are zero (the gradient of prod at a single zero is the product of
    the others; with two zeros it is zero everywhere).
    """
    before = (slice(None),) * axis
    first, drop_last, skip_first = (before + (slice(0, 1),), before + (slice(0, -1),),
                                    before + (slice(1, None),))
    left = np.empty_like(input)
    left[first] = 1
    np.cumprod(input[drop_last], axis=axis, out=left[skip_first])
    right = np.empty_like(input)  # built in reversed order, then flipped back (a view)
    right[first] = 1
    np.cumprod(np.flip(input, axis)[drop_last], axis=axis, out=right[skip_first])
    left *= np.flip(right, axis)
    return left


@_prod_others.kernel(np.ndarray, compiled=True)
def _prod_others_by_numba(input: np.ndarray, axis: int) -> Any:
    return numba_reductions.products_of_others(input, axis)


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """Product of all elements, or along one ``dim``; the gradient is exact at zeros.

    >>> import backprop as bp
    >>> x = bp.tensor([2., 0., 3.], requires_grad=True)
    >>> x.prod().backward(); x.grad.tolist()
    [0.0, 6.0, 0.0]
    """
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        if keepdim:
            raise TypeError("prod: keepdim needs a dim (prod(input, dim, keepdim=True))")
        return _prod(input, None, False)
    axis = _single_dim("prod", dim, input.ndim)
    return _prod(input, axis if input.ndim else None, keepdim)


# -- variance and standard deviation -------------------------------------------------------------

def _degrees_of_freedom(shape: tuple[int, ...], axes: tuple[int, ...] | None,
                        correction: float) -> float:
    return builtins.max(_count(shape, axes) - correction, 0)


def _var_vjp(g: Any, out: Any, input: Any, axes: tuple[int, ...] | None, correction: float,
             keepdim: bool, mean: Any = None) -> Any:
    """``g * 2 (input - mean) / dof``; ``mean`` (kept dims) when the forward gave it."""
    dof = _degrees_of_freedom(input.shape, axes, correction)
    scale = 2.0 / dof if dof > 0 else math.inf
    deviation = input - (_mean(input, axes, True) if mean is None else mean)
    return expand_reduced(g, input.shape, axes, keepdim) * deviation * scale


def _var_and_mean(input: Any, axes: tuple[int, ...] | None, correction: float,
                  keepdim: bool) -> tuple[Any, Any]:
    """The variance and the mean over ``axes`` (the mean with kept dims) by cascaded sums in
    two passes, corrected for the rounding of the mean: the squares of ``input - mean`` total
    too much by ``n * error**2``, which the deviations' own sum, ``n * error``, removes. Without
    it three float32 values near 1000 lost 3 digits of a small variance (PyTorch's Welford
    updates accumulate in float64)."""
    mean = _cascade_mean(input, axes, True)
    deviation = input - mean
    residual = None
    if deviation.dtype.kind == "c":
        squares = (deviation * deviation.conj()).real
    elif deviation.ndim:
        residual = cascade_sum(deviation, axes, keepdim)
        squares = np.multiply(deviation, deviation, out=deviation)
    else:  # 0-d: NumPy gives a scalar, which cannot be written in place
        squares = deviation * deviation
    total = cascade_sum(squares, axes, keepdim)
    if residual is not None:
        with np.errstate(divide="ignore", invalid="ignore"):  # empty: nan, as the variance
            total -= residual * residual / _count(input.shape, axes)
    with np.errstate(divide="ignore", invalid="ignore"):  # no degrees of freedom: inf/nan
        return total / _degrees_of_freedom(input.shape, axes, correction), mean


@primitive("var", save=("input",), promote=("input",), grads={"input": _var_vjp})
def _var(input: Any, axes: tuple[int, ...] | None, correction: float, keepdim: bool) -> Any:
    return _var_and_mean(input, axes, correction, keepdim)[0]


def _var_grad_of_std(g: Any, std: Any) -> Any:
    # d sqrt(v) = dv / (2 sqrt(v)) is infinite at zero variance; PyTorch's convention (which we
    # follow) is a zero gradient there, the subgradient of a constant input.
    zero = eq(std, 0)
    return where(zero, 0.0, g / (where(zero, 1.0, std) * 2.0))


def _std_vjp(g: Any, out: Any, input: Any, axes: tuple[int, ...] | None, correction: float,
             keepdim: bool) -> Any:
    return _var_vjp(_var_grad_of_std(g, out), None, input, axes, correction, keepdim)


@primitive("std", save=("input", "out"), promote=("input",), grads={"input": _std_vjp})
def _std(input: Any, axes: tuple[int, ...] | None, correction: float, keepdim: bool) -> Any:
    return np.sqrt(_var.forward(input, axes, correction, keepdim))


def _var_mean_vjp(g: tuple, out: tuple, input: Any, axes: tuple[int, ...] | None,
                  correction: float, keepdim: bool) -> Any:
    # The two outputs' gradients add up. The variance's reads the saved mean instead of
    # computing it again; under create_graph that mean is the node's own output, so the second
    # derivative through it comes back to this rule as a gradient of the mean.
    g_var, g_mean = g
    grad = None
    if g_var is not None:
        mean = kept_dims(out[1], input.shape, axes, keepdim)
        grad = _var_vjp(g_var, None, input, axes, correction, keepdim, mean)
    if g_mean is not None:
        through_mean = _mean_vjp(g_mean, None, input, axes, keepdim)
        grad = through_mean if grad is None else grad + through_mean
    return grad


@primitive("var_mean", outputs=("var", "mean"), save=("input", "mean"), promote=("input",),
           grads={"input": _var_mean_vjp})
def _var_mean(input: Any, axes: tuple[int, ...] | None, correction: float,
              keepdim: bool) -> tuple[Any, Any]:
    var, mean = _var_and_mean(input, axes, correction, keepdim)
    return var, mean if keepdim else np.squeeze(mean, axis=axes)


def _std_mean_vjp(g: tuple, out: tuple, input: Any, axes: tuple[int, ...] | None,
                  correction: float, keepdim: bool) -> Any:
    g_std, g_mean = g
    g_var = None if g_std is None else _var_grad_of_std(g_std, out[0])
    return _var_mean_vjp((g_var, g_mean), out, input, axes, correction, keepdim)


@primitive("std_mean", outputs=("std", "mean"), save=("input", "std", "mean"),
           promote=("input",), grads={"input": _std_mean_vjp})
def _std_mean(input: Any, axes: tuple[int, ...] | None, correction: float,
              keepdim: bool) -> tuple[Any, Any]:
    var, mean = _var_mean.forward(input, axes, correction, keepdim)
    return np.sqrt(var), mean


def _correction(op: str, dim: Any, unbiased: bool | None,
                correction: float | None) -> tuple[Any, float]:
    """PyTorch's spellings: ``correction=``, the legacy ``unbiased=`` and ``var(x, True)``."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: give either correction= or the legacy unbiased=, not both")
    if correction is None:
        correction = 1 if unbiased is None else int(builtins.bool(unbiased))
    return dim, correction


def _statistic(op: str, compute: Any, input: Tensor, dim: Any, unbiased: bool | None,
               keepdim: bool, correction: float | None) -> Any:
    """``var``, ``std`` and their ``_mean`` pairs: one argument parsing for all four."""
    dim, correction = _correction(op, dim, unbiased, correction)
    _require_float(op, input)
    return compute(input, normalize_dims(op, dim, input.ndim), correction, keepdim)


def var(input: Tensor, dim: int | Sequence[int] | None = None, unbiased: bool | None = None,
        keepdim: bool = False, *, correction: float | None = None) -> Tensor:
    """Variance over ``dim``: the sum of squared deviations divided by ``N - correction``
    (``correction=1``, Bessel's, by default; the legacy ``unbiased=False`` means 0).

    >>> import backprop as bp
    >>> round(bp.tensor([1., 2., 3., 4.]).var().item(), 4)
    1.6667
    >>> bp.tensor([1., 2., 3., 4.]).var(correction=0).item()
    1.25
    """
    return _statistic("var", _var, input, dim, unbiased, keepdim, correction)


def std(input: Tensor, dim: int | Sequence[int] | None = None, unbiased: bool | None = None,
        keepdim: bool = False, *, correction: float | None = None) -> Tensor:
    """Standard deviation over ``dim`` (the square root of ``var``, same arguments). Where the
    variance is zero the gradient is zero, as in PyTorch.

    >>> import backprop as bp
    >>> bp.tensor([[1., 3.], [2., 2.]]).std(dim=1, correction=0).tolist()
    [1.0, 0.0]
    """
    return _statistic("std", _std, input, dim, unbiased, keepdim, correction)


def var_mean(input: Tensor, dim: int | Sequence[int] | None = None, unbiased: bool | None = None,
             keepdim: bool = False, *, correction: float | None = None) -> tuple[Tensor, Tensor]:
    """``(var(input, dim), mean(input, dim))`` from one pass, as ``torch.var_mean`` (same
    arguments as ``var``). Both results carry a gradient: a loss may use either or both.

    >>> import backprop as bp
    >>> x = bp.tensor([1., 2., 3., 4.], requires_grad=True)
    >>> var, mean = bp.var_mean(x, correction=0)
    >>> var.item(), mean.item()
    (1.25, 2.5)
    >>> (var + mean).backward(); x.grad.tolist()
    [-0.5, 0.0, 0.5, 1.0]
    """
    return _statistic("var_mean", _var_mean, input, dim, unbiased, keepdim, correction)


def std_mean(input: Tensor, dim: int | Sequence[int] | None = None, unbiased: bool | None = None,
             keepdim: bool = False, *, correction: float | None = None) -> tuple[Tensor, Tensor]:
    """``(std(input, dim), mean(input, dim))`` from one pass, as ``torch.std_mean`` (same
    arguments as ``std``; a zero standard deviation passes no gradient, as in PyTorch).

    >>> import backprop as bp
    >>> std, mean = bp.std_mean(bp.tensor([[1., 3.], [2., 2.]]), dim=1, correction=0)
    >>> std.tolist(), mean.tolist()
    ([1.0, 0.0], [2.0, 2.0])
    """
    return _statistic("std_mean", _std_mean, input, dim, unbiased, keepdim, correction)


# -- norms --------------------------------------------------------------------------------------


def _norm_vjp(g: Any, out: Any, input: Any, p: float, axes: tuple[int, ...] | None,
              keepdim: bool) -> Any:
    # PyTorch's formulas (linalg_vector_norm_backward), including its conventions where the
    # norm is not differentiable: a zero gradient at the zero vector, ties sharing for inf.
    shape = input.shape
    g = expand_reduced(g, shape, axes, keepdim)
    kept = kept_dims(out, shape, axes, keepdim)
    out = broadcast_to(kept, shape)
    if p == 0:
        return g * 0.0
    if p == 1:
        return g * sign(input)
    zero_norm = eq(out, 0)
    safe_norm = where(zero_norm, 1.0, out)
    if p == 2:
        return g * input / safe_norm  # input is all zero where the norm is
    if p == math.inf or p == -math.inf:
        winners = at_extreme(abs(input), kept)
        count = to(_sum(winners, axes, True), g.dtype)
        return where(winners, sign(input) * g / count, 0.0)
    zero_input = eq(input, 0)
    magnitude = where(zero_input, 1.0, abs(input))  # keeps 0 ** negative out of the formula
    if p < 1:
        scaled = where(zero_input, 0.0, sign(input) * magnitude ** (p - 1.0))
        return scaled * g * out ** (1.0 - p)
    scaled = (sign(input) * magnitude ** (p - 1.0) if p < 2
              else input * magnitude ** (p - 2.0))
    return scaled * where(zero_norm, 0.0, g / safe_norm ** (p - 1.0))


@primitive("norm", save=("input", "out"), promote=("input",), grads={"input": _norm_vjp})
def _norm(input: Any, p: float, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    if p == 2 and input.dtype.kind != "c":
        return np.sqrt(cascade_sum(input * input, axes, keepdim))
    magnitude = np.abs(input)
    if p == 1:
        return cascade_sum(magnitude, axes, keepdim)
    if p == math.inf:
        return np.amax(magnitude, axis=axes, keepdims=keepdim)
    if p == -math.inf:
        return np.amin(magnitude, axis=axes, keepdims=keepdim)
    if p == 0:
        return np.sum(magnitude != 0, axis=axes, keepdims=keepdim).astype(magnitude.dtype)
    if p == 2:
        return np.sqrt(cascade_sum(magnitude * magnitude, axes, keepdim))
    with np.errstate(divide="ignore"):  # 0 ** negative p = inf, whose sum ** (1/p) is 0
        return cascade_sum(magnitude ** p, axes, keepdim) ** (1.0 / p)


@_norm.kernel(np.ndarray, compiled=True)
def _two_norm_by_numba(input: np.ndarray, p: float, axes: tuple[int, ...] | None,
                      keepdim: bool) -> Any:
    if p != 2:
        return None
    squares = numba_reductions.sums(input, axes, keepdim, numba_reductions.SQUARES)
    return None if squares is None else np.sqrt(squares)


# Matrix norms by name ('nuc'), registered by ops/linalg_decompositions.py, which computes them
# with the SVD (and imports this module, so this one cannot import it).
MATRIX_NORMS: dict[str, Any] = {}


def norm(input: Tensor, p: float | str | None = "fro", dim: int | Sequence[int] | None = None,
         keepdim: bool = False, dtype: Any = None) -> Tensor:
    """Vector p-norm over ``dim`` (all elements when None), as ``torch.norm`` and
    ``torch.linalg.vector_norm``: ``p`` is a number (2, 1, inf, -inf, 0 counts nonzeros, any
    other), ``'fro'`` (the 2-norm) or ``'nuc'`` (the nuclear norm of matrices, the sum of
    their singular values). The gradient at the zero vector is zero.

    >>> import backprop as bp
    >>> bp.tensor([3., -4.]).norm().item()
    5.0
    >>> bp.tensor([[3., -4.]]).norm(p=1, dim=1).tolist()
    [7.0]
    """
    if dtype is not None:
        input = input.to(dtype)
    _require_float("norm", input, "floating point or complex")
    if p is None or p == "fro":
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise ValueError(f"norm: p='fro' is a matrix norm over at most 2 dims, got "
                             f"dim={tuple(dim)}; use p=2 for the 2-norm over more dims")
        p = 2.0
    elif p in MATRIX_NORMS:  # 'nuc': the sum of singular values, over the two dims
        return MATRIX_NORMS[p](input, p, tuple(range(input.ndim)) if dim is None else dim,
                               keepdim)
    elif isinstance(p, str):
        raise ValueError(f"norm: p={p!r} is not supported; use a number, inf, 'fro' or 'nuc'")
    return _norm(input, float(p), normalize_dims("norm", dim, input.ndim), keepdim)


# -- cumulative sums ----------------------------------------------------------------------------

def _running_sums(input: Any, axis: int) -> Any:
    """``np.cumsum`` along ``axis`` accumulated as PyTorch's CPU kernel does: integers and bools
    in int64, floats of single precision or less in float64 (a running sum adds one element at a
    time, so in float32 its error would grow with the length)."""
    if input.ndim == 0:
        input = input.reshape(1)
    kind, size = input.dtype.kind, input.dtype.itemsize
    if kind in "biu":
        return np.cumsum(input, axis=axis, dtype=np.int64)
    if (kind in "fV" and size < 8) or (kind == "c" and size < 16):
        wide = np.float64 if kind in "fV" else np.complex128
        return np.cumsum(input, axis=axis, dtype=wide).astype(input.dtype)
    return np.cumsum(input, axis=axis)


@primitive("cumsum", promote=("input",),
           grads={"input": lambda g, out, input, axis: _reverse_cumsum(g, axis)})
def _cumsum(input: Any, axis: int) -> Any:
    # Rows of floats by Numba (NumPy's float32-in-float64 cumsum casts through buffers, 5x
    # PyTorch's time): the same sums in the same order, to the bit
    fast = numba_reductions.running_sums(input, axis, False)
    return _running_sums(input, axis).reshape(input.shape) if fast is None else fast


@primitive("reverse_cumsum", promote=("input",),
           grads={"input": lambda g, out, input, axis: _cumsum(g, axis)})
def _reverse_cumsum(input: Any, axis: int) -> Any:
    """``out[i]`` = the sum of ``input[j]`` for ``j >= i`` along ``axis`` (cumsum's VJP)."""
    if input.ndim == 0:
        return input.copy()
    fast = numba_reductions.running_sums(input, axis, True)
    return np.flip(_running_sums(np.flip(input, axis), axis), axis) if fast is None else fast


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sums along ``dim``; integer and bool inputs sum in int64, as in PyTorch.

    >>> import backprop as bp
    >>> bp.tensor([1., 2., 3.]).cumsum(0).tolist()
    [1.0, 3.0, 6.0]
    """
    if dtype is not None:
        input = input.to(dtype)
    return _cumsum(input, _single_dim("cumsum", dim, input.ndim))


# -- all and any --------------------------------------------------------------------------------

@primitive("all", differentiable=False)
def _all(input: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    return input.all(axis=axes, keepdims=keepdim)


@primitive("any", differentiable=False)
def _any(input: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
    return input.any(axis=axes, keepdims=keepdim)


def all(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    """True where every element over ``dim`` is nonzero (a bool tensor).

    >>> import backprop as bp
    >>> bp.tensor([[1., 0.], [2., 3.]]).all(dim=1).tolist()
    [False, True]
    """
    return _all(input, normalize_dims("all", dim, input.ndim), keepdim)


def any(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    """True where some element over ``dim`` is nonzero (a bool tensor).

    >>> import backprop as bp
    >>> bp.tensor([[1., 0.], [0., 0.]]).any(dim=1).tolist()
    [True, False]
    """
    return _any(input, normalize_dims("any", dim, input.ndim), keepdim)


__all__ = ["sum", "mean", "sum_to_size", "prod", "var", "std", "var_mean", "std_mean", "norm",
           "cumsum", "all", "any"]
