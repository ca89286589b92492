"""Reductions and normalizations over the elements a boolean mask keeps: the ``bp.masked``
family (``torch.masked``), on ordinary tensors.

Each op replaces the masked-out elements with its reduction's identity (0 for sums, 1 for
products, -inf for maxima and log-sum-exp, +inf for minima) and runs the plain op, so a fully
masked-out slice gives that identity, or NaN where none exists (mean, median, var, std), as
PyTorch's do. The replacement is a ``where``: masked-out elements get no gradient.

>>> import backprop as bp
>>> x = bp.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
>>> keep = bp.tensor([[True, False, True], [False, False, False]])
>>> bp.masked.sum(x, 1, mask=keep).tolist(), bp.masked.amax(x, 1, mask=keep).tolist()
([4.0, 0.0], [3.0, -inf])
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import backend, dtypes
from ..errors import ShapeError, format_shape
from ..tensor import Tensor
from . import elementwise as ew
from . import extrema, fused, reduction, reductions_more
from .shape import reshape

Dims = int | Sequence[int] | None

# The dtypes whose sums and products PyTorch accumulates in int64.
_SMALL_INTEGERS = {dtypes.bool, dtypes.uint8, dtypes.int8, dtypes.int16, dtypes.int32}


def _all_dims(op: str, dim: Dims, ndim: int) -> tuple[int, ...]:
    """``dim`` as a sorted tuple of non-negative dims; None (or ``()``) means every dim."""
    dims = reduction.normalize_dims(op, dim, ndim)
    return tuple(range(ndim)) if dims is None else dims


def _mask(op: str, input: Tensor, mask: Any) -> Tensor | None:
    """The mask as a bool tensor of the input's shape (broadcast), or None for no mask."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        mask = Tensor._wrap(backend.on_device_of(np.asarray(mask), input._data))
    if mask.ndim > input.ndim:
        raise ShapeError(f"masked.{op}: the mask has more dimensions ({mask.ndim}) than the "
                         f"input ({input.ndim})")
    try:
        return mask.to(dtypes.bool).expand(*input.shape)
    except Exception:  # noqa: BLE001 - reworded below with both shapes
        raise ShapeError(f"masked.{op}: a mask of shape {format_shape(mask.shape)} does not "
                         f"broadcast to the input's {format_shape(input.shape)}") from None


def _identity(op: str, dtype: np.dtype) -> Any:
    """The value that leaves the reduction ``op`` unchanged, in ``dtype``'s terms."""
    if op in ("sum", "cumsum", "norm"):
        return 0
    if op in ("prod", "cumprod"):
        return 1
    floating = dtype.kind in "fcV"
    if op in ("amax", "argmax", "logsumexp", "logaddexp"):
        return -np.inf if floating else np.iinfo(dtype).min
    if op in ("amin", "argmin", "norm-inf"):
        return np.inf if floating else np.iinfo(dtype).max
    if op == "median":
        return np.nan
    raise AssertionError(op)


def _filled(op: str, input: Tensor, mask: Any, identity: str | None = None) -> Tensor:
    """``input`` with its masked-out elements replaced by ``op``'s identity."""
    keep = _mask(op, input, mask)
    if keep is None:
        return input
    fill = _constant(_identity(identity or op, input.dtype), input.dtype, input)
    return ew.where(keep, input, fill)


def _constant(value: Any, dtype: Any, like: Tensor) -> Tensor:
    """A 0-d tensor of ``value`` in ``dtype``, on ``like``'s device."""
    return Tensor._wrap(backend.on_device_of(np.asarray(value, dtype=dtype), like._data))


def _accumulating(dtype: Any, input: Tensor) -> Any:
    """PyTorch's sum/prod dtype: the one asked for, else int64 for small integers."""
    if dtype is not None:
        return dtypes.as_dtype(dtype, "masked")
    return dtypes.int64 if input.dtype in _SMALL_INTEGERS else None


def sum(input: Tensor, dim: Dims = None, *, keepdim: bool = False, dtype: Any = None,
        mask: Tensor | None = None) -> Tensor:
    """The sum of the kept elements over ``dim`` (every dim by default).

    >>> import backprop as bp
    >>> bp.masked.sum(bp.tensor([1.0, 2.0, 3.0]), mask=bp.tensor([True, False, True])).item()
    4.0
    """
    dims = _all_dims("masked.sum", dim, input.ndim)
    filled = _filled("sum", input, mask)
    return reduction.sum(filled, dims, keepdim=keepdim, dtype=_accumulating(dtype, input))


def prod(input: Tensor, dim: Dims = None, *, keepdim: bool = False, dtype: Any = None,
         mask: Tensor | None = None) -> Tensor:
    """The product of the kept elements over ``dim`` (every dim by default)."""
    dims = _all_dims("masked.prod", dim, input.ndim)
    result = _filled("prod", input, mask)
    target = _accumulating(dtype, input)
    if target is not None:
        result = result.to(target)
    for d in reversed(dims):
        result = reduction.prod(result, d, keepdim=keepdim)
    return result


def cumsum(input: Tensor, dim: int, *, dtype: Any = None,
           mask: Tensor | None = None) -> Tensor:
    """The running sum along ``dim``, masked-out elements counting as 0."""
    return reduction.cumsum(_filled("cumsum", input, mask), dim, dtype=dtype)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None,
            mask: Tensor | None = None) -> Tensor:
    """The running product along ``dim``, masked-out elements counting as 1."""
    return reductions_more.cumprod(_filled("cumprod", input, mask), dim, dtype=dtype)


def _cast(result: Tensor, dtype: Any) -> Tensor:
    return result if dtype is None else result.to(dtypes.as_dtype(dtype, "masked"))


def amax(input: Tensor, dim: Dims = None, *, keepdim: bool = False, dtype: Any = None,
         mask: Tensor | None = None) -> Tensor:
    """The largest kept element over ``dim`` (-inf where none is kept)."""
    dims = _all_dims("masked.amax", dim, input.ndim)
    return _cast(extrema.amax(_filled("amax", input, mask), dims, keepdim), dtype)


def amin(input: Tensor, dim: Dims = None, *, keepdim: bool = False, dtype: Any = None,
         mask: Tensor | None = None) -> Tensor:
    """The smallest kept element over ``dim`` (+inf where none is kept)."""
    dims = _all_dims("masked.amin", dim, input.ndim)
    return _cast(extrema.amin(_filled("amin", input, mask), dims, keepdim), dtype)


def argmax(input: Tensor, dim: int | None = None, *, keepdim: bool = False, dtype: Any = None,
           mask: Tensor | None = None) -> Tensor:
    """Where the largest kept element is along ``dim`` (the flat index for ``dim=None``), in
    the input's dtype unless ``dtype`` says otherwise (as PyTorch's)."""
    return _cast(extrema.argmax(_filled("argmax", input, mask), dim, keepdim), dtype or input.dtype)


def argmin(input: Tensor, dim: int | None = None, *, keepdim: bool = False, dtype: Any = None,
           mask: Tensor | None = None) -> Tensor:
    """Where the smallest kept element is along ``dim``."""
    return _cast(extrema.argmin(_filled("argmin", input, mask), dim, keepdim), dtype or input.dtype)


def _count(input: Tensor, dims: tuple[int, ...], keepdim: bool, mask: Any) -> Tensor:
    """How many elements each slice keeps (int64)."""
    keep = _mask("count", input, mask)
    if keep is None:
        keep = Tensor._wrap(backend.ones(input.shape, bool, input._data))
    return reduction.sum(keep, dims, keepdim=keepdim) if dims else keep.to(dtypes.int64)


def mean(input: Tensor, dim: Dims = None, *, keepdim: bool = False, dtype: Any = None,
         mask: Tensor | None = None) -> Tensor:
    """The mean of the kept elements (NaN where none is kept)."""
    target = input.dtype if dtype is None else dtypes.as_dtype(dtype, "masked.mean")
    if target.kind not in "fcV":
        raise TypeError(f"masked.mean: the result dtype must be floating or complex; got "
                        f"{target}: pass dtype=")
    dims = _all_dims("masked.mean", dim, input.ndim)
    total = sum(input, dims, keepdim=keepdim, dtype=target, mask=mask)
    return ew.div(total, _count(input, dims, keepdim, mask))


def median(input: Tensor, dim: int = -1, *, keepdim: bool = False, dtype: Any = None,
           mask: Tensor | None = None) -> Tensor:
    """The median of the kept elements along ``dim`` (NaN where none is kept)."""
    floating = input.dtype.kind in "fV"
    source = input if floating else input.to(dtypes.float32)
    output = reductions_more.nanmedian(_filled("median", source, mask), dim, keepdim).values
    if floating:
        return output
    if bool(ew.isnan(output).any()):
        raise ValueError("masked.median: an integer input may not have a fully masked-out "
                         "slice (its median would be NaN)")
    return output.to(input.dtype if dtype is None else dtypes.as_dtype(dtype, "masked.median"))


def logsumexp(input: Tensor, dim: Dims = None, *, keepdim: bool = False, dtype: Any = None,
              mask: Tensor | None = None) -> Tensor:
    """``log(sum(exp(kept elements)))`` over ``dim`` (-inf where none is kept)."""
    dims = _all_dims("masked.logsumexp", dim, input.ndim)
    return _cast(fused.logsumexp(_filled("logsumexp", input, mask), dims, keepdim), dtype)


def logaddexp(input: Tensor, other: Tensor, *, dtype: Any = None,
              input_mask: Tensor | None = None, other_mask: Tensor | None = None) -> Tensor:
    """``log(exp(input) + exp(other))``, elementwise, masked-out elements counting as -inf."""
    from .pointwise_more import logaddexp as plain

    return _cast(plain(_filled("logaddexp", input, input_mask),
                       _filled("logaddexp", other, other_mask)), dtype)


def norm(input: Tensor, ord: float | None = 2.0, dim: Dims = None, *, keepdim: bool = False,
         dtype: Any = None, mask: Tensor | None = None) -> Tensor:
    """The ``ord``-norm of the kept elements over ``dim`` (``linalg.vector_norm``)."""
    from .linalg_norms import _vector_norm  # linalg_norms imports more than this module needs

    ord = 2.0 if ord is None else ord
    filled = _filled("norm", input, mask, "norm-inf" if ord == -np.inf else None)
    dims = _all_dims("masked.norm", dim, input.ndim)
    return _vector_norm(filled, ord, dims, keepdim, dtype=dtype)


def _std_var(op: str, input: Tensor, dim: Dims, unbiased: bool | None,
             correction: float | None, keepdim: bool, dtype: Any, mask: Any,
             take_sqrt: bool) -> Tensor:
    if unbiased is not None and correction is not None:
        raise ValueError(f"masked.{op}: give unbiased or correction, not both")
    if correction is None:
        correction = 0.0 if unbiased is False else 1.0
    target = input.dtype if dtype is None else dtypes.as_dtype(dtype, f"masked.{op}")
    if target.kind not in "fcV":
        target = dtypes.float32
    dims = _all_dims(f"masked.{op}", dim, input.ndim)
    count = _count(input, dims, True, mask)
    centred = ew.sub(input, ew.div(sum(input, dims, keepdim=True, dtype=target, mask=mask),
                                   count))
    total = sum(ew.mul(centred, centred), dims, keepdim=keepdim, dtype=target, mask=mask)
    if not keepdim:
        count = reshape(count, total.shape)
    if correction != 0:
        count = ew.maximum(ew.sub(count.to(target), correction), _constant(0, target, input))
    output = ew.div(total, count).to(target)
    return ew.sqrt(output) if take_sqrt else output


def var(input: Tensor, dim: Dims = None, unbiased: bool | None = None, *,
        correction: float | None = None, keepdim: bool = False, dtype: Any = None,
        mask: Tensor | None = None) -> Tensor:
    """The variance of the kept elements (``correction=1``: Bessel's; NaN where none kept)."""
    return _std_var("var", input, dim, unbiased, correction, keepdim, dtype, mask, False)


def std(input: Tensor, dim: Dims = None, unbiased: bool | None = None, *,
        correction: float | None = None, keepdim: bool = False, dtype: Any = None,
        mask: Tensor | None = None) -> Tensor:
    """The standard deviation of the kept elements."""
    return _std_var("std", input, dim, unbiased, correction, keepdim, dtype, mask, True)


def softmax(input: Tensor, dim: int, *, dtype: Any = None,
            mask: Tensor | None = None) -> Tensor:
    """Softmax along ``dim`` over the kept elements (masked-out ones get 0)."""
    return fused.softmax(_filled("amax", input, mask), dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None,
                mask: Tensor | None = None) -> Tensor:
    """Log-softmax along ``dim`` over the kept elements (masked-out ones get -inf)."""
    return fused.log_softmax(_filled("amax", input, mask), dim, dtype=dtype)


def softmin(input: Tensor, dim: int, *, dtype: Any = None,
            mask: Tensor | None = None) -> Tensor:
    """Softmin along ``dim`` over the kept elements (masked-out ones get 0)."""
    return fused.softmax(ew.neg(_filled("amin", input, mask)), dim, dtype=dtype)


def normalize(input: Tensor, ord: float, dim: int, *, eps: float = 1e-12, dtype: Any = None,
              mask: Tensor | None = None) -> Tensor:
    """The kept elements divided by their ``ord``-norm along ``dim`` (at least ``eps``)."""
    target = input.dtype if dtype is None else dtypes.as_dtype(dtype, "masked.normalize")
    size = norm(input, ord, dim, keepdim=True, dtype=target, mask=mask)
    denominator = ew.maximum(size, _constant(eps, size.dtype, input))
    return ew.div(_filled("sum", input, mask), denominator)



__all__: list[str] = []
