"""The pools PyTorch keeps in ``F`` only: adaptive max pooling, ``max_poolNd_with_indices``,
max unpooling and power-average (LP) pooling, in 1, 2 and 3 spatial dims.

Adaptive max pooling gathers every (uneven) window into a padded block, windows shorter than
the longest repeat their last element, which changes neither the maximum nor the first index
holding it, and records the maxima through ``max_pool``'s primitive, so the gradient goes to the
chosen elements exactly as for ``max_pool``. Unpooling writes each value at its index (where
overlapping windows picked one element twice, both copies are that element's value: PyTorch
writes it once) and its VJP is the matching gather; LP pooling is composed from ``avg_pool``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import backend
from ...errors import ShapeError, format_shape
from ...ops import pooling as _pooling
from ...ops.conv import _batched, _ints, _positive, _prod, _row_major
from ...ops.elementwise import abs, sign
from ...ops.pooling import _adaptive_size, _max_pool_gather, _max_pool_result
from ...ops.primitive import primitive
from ...ops.shape import reshape
from ...tensor import Tensor
from .activation import relu

__all__ = ["adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "max_pool1d_with_indices",
           "max_pool2d_with_indices", "max_pool3d_with_indices", "max_unpool1d", "max_unpool2d",
           "max_unpool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d"]


# -- adaptive max pooling -------------------------------------------------------------------------

def _window_table(n: int, m: int) -> np.ndarray:
    """(m, longest) input positions of PyTorch's adaptive windows ``floor(i n / m) ..
    ceil((i + 1) n / m)``, short windows padded with their last position."""
    starts = (np.arange(m) * n) // m
    ends = -(-((np.arange(m) + 1) * n) // m)
    longest = int((ends - starts).max())
    return np.minimum(starts[:, None] + np.arange(longest), ends[:, None] - 1)


def _adaptive_argmax(x: np.ndarray, wanted: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Each adaptive window's maximum of ``x`` (N, C, *S) and its flat index into the plane
    (the first where values tie; a NaN wins, as in PyTorch)."""
    sizes = x.shape[2:]
    nd = len(sizes)
    tables = [_window_table(n, m) for n, m in zip(sizes, wanted)]
    # positions[d]: (o_0, k_0, ..., o_{nd-1}, k_{nd-1}) broadcastable grid of dim d's position.
    flat = np.zeros((), np.int64)
    for d, (table, stride) in enumerate(zip(tables, _row_major(sizes))):
        shape = [1] * (2 * nd)
        shape[2 * d:2 * d + 2] = table.shape
        flat = flat + table.reshape(shape) * stride
    # Outputs first, then every window offset in row-major order: (*out, *window).
    order = tuple(range(0, 2 * nd, 2)) + tuple(range(1, 2 * nd, 2))
    flat = np.ascontiguousarray(flat.transpose(order)).reshape(tuple(wanted) + (-1,))
    on_device = backend.on_device_of(flat, x)
    plane = x.reshape(x.shape[:2] + (-1,))
    blocks = np.take(plane, on_device, axis=2)  # (N, C, *out, window)
    arg = np.argmax(np.where(np.isnan(blocks), np.inf, blocks), axis=-1) \
        if x.dtype.kind in "fV" else np.argmax(blocks, axis=-1)
    arg = arg[..., None]
    values = np.take_along_axis(blocks, arg, axis=-1)[..., 0]
    index = np.take_along_axis(np.broadcast_to(on_device, blocks.shape), arg, axis=-1)[..., 0]
    return values, index


def _adaptive_max_poolnd(op: str, nd: int, input: Tensor, output_size: Any,
                         return_indices: bool) -> Any:
    if type(input) is not Tensor and getattr(input, "_batched_by_vmap", False):
        # the maxima are found in NumPy: fold bp.func.vmap's batch into N first
        from ... import func  # only under vmap, which imported it

        return func.batching.fold_into_batch(input, nd + 1, lambda x: _adaptive_max_poolnd(
            op, nd, x, output_size, return_indices))
    batched = _batched(op, input, nd)
    if not batched:
        input = reshape(input, (1,) + tuple(input.shape))
    wanted = _adaptive_size(op, nd, tuple(input.shape[2:]), output_size)
    if any(n == 0 for n in input.shape[2:]):
        raise ShapeError(f"{op}: the input's spatial sizes must be non-zero, got shape "
                         f"{format_shape(input.shape)}")
    found, indices = _adaptive_argmax(backend.array_of(input), wanted)
    return _max_pool_result(input, indices, found, batched, return_indices)


def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling of (N, C, L) or (C, L) to length ``output_size``: output i is the maximum of
    inputs ``floor(i * L / out) .. ceil((i + 1) * L / out)``.

    >>> import backprop as bp
    >>> bp.nn.functional.adaptive_max_pool1d(bp.tensor([[1., 5., 2., 4., 3.]]), 2).tolist()
    [[5.0, 4.0]]
    """
    return _adaptive_max_poolnd("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling of (N, C, H, W) or (C, H, W) to ``output_size`` (an int or a pair whose None
    keeps that size), PyTorch's windows; with ``return_indices`` also each maximum's flat index
    into its H * W plane.

    >>> import backprop as bp
    >>> x = bp.arange(16.).reshape(1, 4, 4)
    >>> bp.nn.functional.adaptive_max_pool2d(x, 2, return_indices=True)[1].tolist()
    [[[5, 7], [13, 15]]]
    """
    return _adaptive_max_poolnd("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling of (N, C, D, H, W) or (C, D, H, W) to ``output_size``; see
    ``adaptive_max_pool2d``.

    >>> import backprop as bp
    >>> bp.nn.functional.adaptive_max_pool3d(bp.arange(27.).reshape(1, 3, 3, 3), 1).tolist()
    [[[[26.0]]]]
    """
    return _adaptive_max_poolnd("adaptive_max_pool3d", 3, input, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool1d`` returning (values, indices).

    >>> import backprop as bp
    >>> F = bp.nn.functional
    >>> F.adaptive_max_pool1d_with_indices(bp.tensor([[3., 1., 2.]]), 1)[1].tolist()
    [[0]]
    """
    return _adaptive_max_poolnd("adaptive_max_pool1d", 1, input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool2d`` returning (values, indices).

    >>> import backprop as bp
    >>> F = bp.nn.functional
    >>> F.adaptive_max_pool2d_with_indices(bp.ones(1, 2, 2), 1)[1].tolist()
    [[[0]]]
    """
    return _adaptive_max_poolnd("adaptive_max_pool2d", 2, input, output_size, True)


def adaptive_max_pool3d_with_indices(input: Tensor, output_size: Any,
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool3d`` returning (values, indices).

    >>> import backprop as bp
    >>> F = bp.nn.functional
    >>> F.adaptive_max_pool3d_with_indices(bp.arange(8.).reshape(1, 2, 2, 2), 1)[1].tolist()
    [[[[7]]]]
    """
    return _adaptive_max_poolnd("adaptive_max_pool3d", 3, input, output_size, True)


# -- max pooling with indices ---------------------------------------------------------------------

def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``max_pool1d`` returning (values, indices).

    >>> import backprop as bp
    >>> bp.nn.functional.max_pool1d_with_indices(bp.tensor([[1., 3., 2., 0.]]), 2)[1].tolist()
    [[1, 2]]
    """
    return _pooling.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``max_pool2d`` returning (values, indices).

    >>> import backprop as bp
    >>> bp.nn.functional.max_pool2d_with_indices(bp.arange(4.).reshape(1, 2, 2), 2)[1].tolist()
    [[[3]]]
    """
    return _pooling.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None,
                            padding: Any = 0, dilation: Any = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``max_pool3d`` returning (values, indices).

    >>> import backprop as bp
    >>> F = bp.nn.functional
    >>> F.max_pool3d_with_indices(bp.arange(8.).reshape(1, 2, 2, 2), 2)[1].tolist()
    [[[[7]]]]
    """
    return _pooling.max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# -- max unpooling --------------------------------------------------------------------------------

@primitive("max_unpool", save=("indices",), grads={
    "input": lambda g, out, input, indices, shape: _max_pool_gather(g, indices),
})
def _max_unpool(input: Any, indices: Any, shape: tuple[int, ...]) -> Any:
    """Zeros of ``shape`` (N, C, *out) with ``input`` written at ``indices`` (flat per plane)."""
    n, c = shape[:2]
    out = backend.zeros((n * c, _prod(shape[2:])), input.dtype, input)
    np.put_along_axis(out, indices.reshape(n * c, -1), input.reshape(n * c, -1), axis=1)
    return out.reshape(shape)


def _max_unpoolnd(op: str, nd: int, input: Tensor, indices: Any, kernel_size: Any, stride: Any,
                  padding: Any, output_size: Any) -> Tensor:
    batched = _batched(op, input, nd)
    index = backend.array_of(indices) if isinstance(indices, Tensor) else indices
    if tuple(index.shape) != tuple(input.shape):
        raise ShapeError(f"{op}: indices must have the input's shape "
                         f"{format_shape(input.shape)}, got {format_shape(index.shape)}")
    if not np.issubdtype(index.dtype, np.integer):
        raise TypeError(f"{op}: indices must be an integer tensor, got {index.dtype}")
    kernel = _positive(op, "kernel_size", kernel_size, nd)
    stride = kernel if stride is None else _positive(op, "stride", stride, nd)
    pads = _ints(op, "padding", padding, nd)
    sizes = tuple(input.shape[-nd:])
    if output_size is None:
        out = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(sizes, stride, pads, kernel))
    else:
        out = tuple(int(v) for v in output_size)[-nd:]
        if len(tuple(output_size)) not in (nd, input.ndim):
            raise ValueError(f"{op}: output_size must have {nd} or {input.ndim} elements, got "
                             f"{tuple(output_size)}")
        # PyTorch accepts any size within one stride of the default one.
        for n, s, p, k, m in zip(sizes, stride, pads, kernel, out):
            smallest = (n - 1) * s - 2 * p + k
            if not smallest - s < m < smallest + s:
                raise ValueError(f"{op}: output_size {tuple(output_size)} is out of range: each "
                                 f"size must lie within a stride of {smallest}")
    area = _prod(out)
    if index.size and (index.min() < 0 or index.max() >= area):
        raise IndexError(f"{op}: indices must lie in [0, {area}) for an output of spatial size "
                         f"{format_shape(out)}, got values in [{int(index.min())}, "
                         f"{int(index.max())}]")
    if not batched:
        input = reshape(input, (1,) + tuple(input.shape))
        index = index[None]
    result = _max_unpool(input, backend.on_device_of(index.astype(np.int64), input),
                         tuple(input.shape[:2]) + out)
    return result if batched else reshape(result, tuple(result.shape[1:]))


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The partial inverse of ``max_pool1d``: zeros with each value put back at its index.

    >>> import backprop as bp
    >>> F = bp.nn.functional
    >>> v, i = F.max_pool1d(bp.tensor([[1., 3., 2., 0.]]), 2, return_indices=True)
    >>> F.max_unpool1d(v, i, 2).tolist()
    [[0.0, 3.0, 2.0, 0.0]]
    """
    return _max_unpoolnd("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                         output_size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The partial inverse of ``max_pool2d``: an output of size ``(H - 1) * stride -
    2 * padding + kernel_size`` (or ``output_size``), zero but at ``indices``.

    >>> import backprop as bp
    >>> F = bp.nn.functional
    >>> v, i = F.max_pool2d(bp.arange(4.).reshape(1, 1, 2, 2), 2, return_indices=True)
    >>> F.max_unpool2d(v, i, 2).tolist()
    [[[[0.0, 0.0], [0.0, 3.0]]]]
    """
    return _max_unpoolnd("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                         output_size)


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """The partial inverse of ``max_pool3d``; see ``max_unpool2d``.

    >>> import backprop as bp
    >>> F = bp.nn.functional
    >>> v, i = F.max_pool3d(bp.arange(8.).reshape(1, 1, 2, 2, 2), 2, return_indices=True)
    >>> F.max_unpool3d(v, i, 2).flatten().tolist()
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 7.0]
    """
    return _max_unpoolnd("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                         output_size)


# -- power-average pooling ------------------------------------------------------------------------

def _lp_poolnd(op: str, nd: int, input: Tensor, norm_type: float, kernel_size: Any,
               stride: Any, ceil_mode: bool) -> Tensor:
    kernel = _positive(op, "kernel_size", kernel_size, nd)
    pool = getattr(_pooling, f"avg_pool{nd}d")
    mean = pool(input ** norm_type, kernel, stride, 0, ceil_mode)
    # (sum of x^p)^(1/p); a window whose sum is negative (odd p) gives 0, as PyTorch's.
    return (sign(mean) * relu(abs(mean)) * _prod(kernel)) ** (1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: int, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling ``(sum of x ** p over each window) ** (1 / p)`` over (N, C, L).

    >>> import backprop as bp
    >>> bp.nn.functional.lp_pool1d(bp.tensor([[[3., 4.]]]), 2, 2).tolist()
    [[[5.0]]]
    """
    return _lp_poolnd("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over (N, C, H, W); see ``lp_pool1d``.

    >>> import backprop as bp
    >>> bp.nn.functional.lp_pool2d(bp.ones(1, 1, 2, 2), 1, 2).tolist()
    [[[[4.0]]]]
    """
    return _lp_poolnd("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling over (N, C, D, H, W); see ``lp_pool1d``.

    >>> import backprop as bp
    >>> bp.nn.functional.lp_pool3d(bp.ones(1, 1, 2, 2, 2), 1, 2).tolist()
    [[[[[8.0]]]]]
    """
    return _lp_poolnd("lp_pool3d", 3, input, norm_type, kernel_size, stride, ceil_mode)
