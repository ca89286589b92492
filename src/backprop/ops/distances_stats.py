"""Distances (cdist, dist, renorm), tensors joined or gathered (block_diag, cartesian_prod,
combinations), covariance and correlation, and integration by trapezoids (issue 17); their
public names are re-exported by ``backprop.ops.linalg_products``.

``cdist`` is one row (its forward one NumPy pass, its rule PyTorch's subgradients at zero
distances); ``block_diag`` another (zeros with the blocks copied in); the rest compose
differentiable ops, so second derivatives come free.

>>> import backprop as bp
>>> bp.cdist(bp.tensor([[0., 0.]]), bp.tensor([[3., 4.]])).item()
5.0
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from .. import backend
from ..backends import numba_reductions
from ..dtypes import promote_types
from ..errors import DimError, DTypeError, ShapeError, format_shape
from ..tensor import Tensor
from .elementwise import abs as _abs
from .elementwise import clamp, sign, sqrt, where
from .join import _constant_pad, _widths_at, cat, narrow, stack
from .linalg import _matmul, _swap_last, einsum
from .primitive import each_input, primitive
from .reduction import _reverse_cumsum, _running_sums, cumsum, expand_reduced, norm, summed
from .reduction import sum as _sum
from .scatter import index_select
from .shape import reshape, unsqueeze
from .shape_more import meshgrid

# -- distances ----------------------------------------------------------------------------------

def _cdist_grad(g: Any, out: Any, x1: Any, x2: Any, needs: tuple[bool, ...], *, p: float,
                use_mm: bool) -> list[Any]:
    if p == 0:
        return [x1 * 0 if needs[0] else None, x2 * 0 if needs[1] else None]
    if p == 2:
        # sum_r g / d (x1 - x2_r), written with two products; 0 where the distance is 0.
        ratio = where(out == 0, 0.0, g / where(out == 0, 1.0, out))
        return [x1 * _sum(ratio, -1, keepdim=True) - _matmul(ratio, x2) if needs[0] else None,
                x2 * unsqueeze(_sum(ratio, -2), -1) - _matmul(_swap_last(ratio), x1)
                if needs[1] else None]
    # The other norms need the (..., P, R, M) differences: taken in blocks of columns, each
    # block's gradient its own, so memory stays bounded as in the forward.
    m = x1.shape[-1]
    width = max(1, _BLOCK_ELEMENTS // max(math.prod(out.shape), 1))
    if width >= m:
        return _cdist_grad_columns(g, out, x1, x2, p, needs)
    blocks = [_cdist_grad_columns(g, out, narrow(x1, -1, start, min(width, m - start)),
                                  narrow(x2, -1, start, min(width, m - start)), p, needs)
              for start in range(0, m, width)]
    return [cat([b[i] for b in blocks], -1) if needs[i] else None for i in (0, 1)]


def _cdist_grad_columns(g: Any, out: Any, x1: Any, x2: Any, p: float,
                        needs: tuple[bool, ...]) -> list[Any]:
    """The gradients of x1's and x2's columns given (a block of them), for p not 0 or 2."""
    diff = unsqueeze(x1, -2) - unsqueeze(x2, -3)  # (..., P, R, M)
    dist = unsqueeze(out, -1)
    if p == 1:
        weight = sign(diff)
    elif p == math.inf:
        # Every coordinate at the largest distance gets the whole gradient, as in PyTorch.
        weight = sign(diff) * (_abs(diff) == dist)
    else:
        size = _abs(diff)
        if p < 1:  # |diff| ** (p - 1) is infinite at 0: PyTorch takes 0 there
            size = where(diff == 0, 1.0, size)
        safe = where(dist == 0, 1.0, dist)
        weight = where(dist == 0, 0.0, sign(diff) * size ** (p - 1) / safe ** (p - 1))
    each = unsqueeze(g, -1) * weight
    return [_sum(each, -2) if needs[0] else None, -_sum(each, -3) if needs[1] else None]


# Up to this many columns the direct distances are summed column by column; beyond, in blocks
# of columns whose differences hold about _BLOCK_ELEMENTS numbers (bounded memory).
_COLUMNS_ONE_BY_ONE = 64
_BLOCK_ELEMENTS = 2**20


@primitive("cdist", save=("x1", "x2", "out"), grads=_cdist_grad)
def _cdist(x1: Any, x2: Any, *, p: float, use_mm: bool) -> Any:
    if use_mm:
        # PyTorch's matrix-product form of the Euclidean distance, |x|^2 + |y|^2 - 2 x.y, with
        # its roundings (and its floor of 1e-30 before the square root).
        sq1 = np.sum(x1 * x1, axis=-1, keepdims=True)
        sq2 = np.sum(x2 * x2, axis=-1, keepdims=True)
        left = np.concatenate([x1 * -2, sq1, np.ones_like(sq1)], axis=-1)
        right = np.concatenate([x2, np.ones_like(sq2), sq2], axis=-1)
        return np.sqrt(np.maximum(np.matmul(left, np.swapaxes(right, -1, -2)), 1e-30))
    m = x1.shape[-1]
    if m > _COLUMNS_ONE_BY_ONE:
        # Blocks of columns, so the (..., P, R, block) differences stay near _BLOCK_ELEMENTS
        planes = math.prod(np.broadcast_shapes(x1.shape[:-1] + (1,), x2.shape[:-2] + (1,)
                                               + x2.shape[-2:-1]))
        width = max(_COLUMNS_ONE_BY_ONE, _BLOCK_ELEMENTS // max(planes, 1))
        parts = [_cdist_columns(x1[..., start:start + width], x2[..., start:start + width], p)
                 for start in range(0, m, width)]
        total = functools.reduce(np.maximum if p == math.inf else np.add, parts)
        return _cdist_finish(total, p)
    # Few columns: accumulate column by column over (P, R) planes, which NumPy does ~5x faster
    # than reducing a short last axis of the (P, R, M) differences.
    total = None
    for k in range(m):
        d = np.abs(x1[..., :, k, None] - x2[..., None, :, k])
        term = (d != 0).astype(d.dtype) if p == 0 else d if p in (1, math.inf) else \
            d * d if p == 2 else d ** p
        if total is None:
            total = term
        elif p == math.inf:
            np.maximum(total, term, out=total)
        else:
            total += term
    if total is None:  # no columns: every distance is 0
        return np.zeros(np.broadcast_shapes(x1.shape[:-1] + (1,), x2.shape[:-2] + (1,)
                                            + x2.shape[-2:-1]), x1.dtype)
    return _cdist_finish(total, p)


def _cdist_columns(x1: Any, x2: Any, p: float) -> Any:
    """The sums over these columns of |x1 - x2| ** p (their largest for p = inf), unrooted."""
    diff = np.abs(x1[..., :, None, :] - x2[..., None, :, :])
    if p == 0:
        return np.count_nonzero(diff, axis=-1).astype(diff.dtype)
    if p == 1:
        return np.sum(diff, axis=-1)
    if p == 2:
        return np.sum(diff * diff, axis=-1)
    if p == math.inf:
        return np.max(diff, axis=-1, initial=0.0).astype(diff.dtype)
    return np.sum(diff ** p, axis=-1)


def _cdist_finish(total: Any, p: float) -> Any:
    if p == 2:
        return np.sqrt(total)
    return total if p in (0, 1, math.inf) else total ** (1 / p)


_COMPUTE_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                  "donot_use_mm_for_euclid_dist")


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str | None = None) -> Tensor:
    """The ``p``-norm distance between each row of ``x1`` (..., P, M) and each row of ``x2``
    (..., R, M): a (..., P, R) tensor; batch dims broadcast. For ``p = 2`` PyTorch's
    ``compute_mode`` picks the matrix-product form (faster, less exact for near points):
    always, never, or (default) when P or R exceeds 25.

    >>> import backprop as bp
    >>> bp.cdist(bp.tensor([[0., 0.]]), bp.tensor([[3., 4.], [1., 0.]])).tolist()
    [[5.0, 1.0]]
    """
    if x1.ndim < 2 or x2.ndim < 2:
        raise ShapeError(f"cdist: x1 and x2 must have at least 2 dimensions, got shapes "
                         f"{format_shape(x1.shape)} and {format_shape(x2.shape)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(f"cdist: x1 {format_shape(x1.shape)} and x2 {format_shape(x2.shape)} "
                         f"must have the same number of columns ({x1.shape[-1]} and "
                         f"{x2.shape[-1]})")
    for name, x in (("x1", x1), ("x2", x2)):
        if x.dtype.kind not in "fV":
            raise DTypeError(f"cdist: expected floating-point tensors, got {name} of dtype "
                             f"{x.dtype}; convert with .float() first")
    if x1.dtype != x2.dtype:
        raise DTypeError(f"cdist: x1 ({x1.dtype}) and x2 ({x2.dtype}) must have one dtype")
    if not p >= 0:
        raise ValueError(f"cdist: p must be non-negative, got {p}")
    if compute_mode is None:
        compute_mode = _COMPUTE_MODES[0]
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"cdist: compute_mode must be one of {list(_COMPUTE_MODES)}, got "
                         f"{compute_mode!r}")
    try:
        np.broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    except ValueError:
        raise ShapeError(f"cdist: cannot broadcast the batch dims of x1 "
                         f"{format_shape(x1.shape)} and x2 {format_shape(x2.shape)}") from None
    use_mm = p == 2 and (compute_mode == _COMPUTE_MODES[1] or (
        compute_mode == _COMPUTE_MODES[0] and (x1.shape[-2] > 25 or x2.shape[-2] > 25)))
    return _cdist(x1, x2, p=float(p), use_mm=use_mm)


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm of ``input - other`` (broadcast), over all elements.

    >>> import backprop as bp
    >>> bp.dist(bp.tensor([0., 0.]), bp.tensor([3., 4.])).item()
    5.0
    """
    return norm(input - other, p)


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along ``dim`` scaled down to ``p``-norm ``maxnorm`` where its norm exceeds
    it (by ``maxnorm / (norm + 1e-7)``, as PyTorch does).

    >>> import backprop as bp
    >>> bp.renorm(bp.tensor([[3., 4.], [0.5, 0.25]]), 2, 0, 1.0).tolist()[1]
    [0.5, 0.25]
    """
    if not p > 0:
        raise ValueError(f"renorm: p must be positive, got {p}")
    if maxnorm < 0:
        raise ValueError(f"renorm: maxnorm must be non-negative, got {maxnorm}")
    if input.ndim < 2:
        raise ShapeError(f"renorm: input needs at least 2 dimensions, got shape "
                         f"{format_shape(input.shape)}")
    if not -max(input.ndim, 1) <= dim < max(input.ndim, 1):
        raise DimError(f"renorm: dim {dim} is out of range for a tensor with {input.ndim} "
                       "dimensions")
    others = [d for d in range(input.ndim) if d != dim % max(input.ndim, 1)]
    norms = norm(input, p, others, keepdim=True) if others else _abs(input)
    factor = where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return input * factor


# -- joined and gathered tensors ----------------------------------------------------------------

def _block_diag_grad(i: int, g: Any, out: Any, *blocks: Any) -> Any:
    row = sum(b.shape[0] for b in blocks[:i])
    column = sum(b.shape[1] for b in blocks[:i])
    rows, columns = blocks[i].shape
    return narrow(narrow(g, 0, row, rows), 1, column, columns)


@primitive("block_diag", grads=each_input(_block_diag_grad))
def _block_diag(*blocks: Any) -> Any:
    out = backend.zeros((sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)),
                        blocks[0].dtype, blocks[0])
    row = column = 0
    for b in blocks:
        out[row:row + b.shape[0], column:column + b.shape[1]] = b
        row, column = row + b.shape[0], column + b.shape[1]
    return out


def block_diag(*tensors: Tensor) -> Tensor:
    """The tensors (0-, 1- or 2-D; a 1-D tensor is a row) placed along the diagonal of a
    matrix of zeros.

    >>> import backprop as bp
    >>> bp.block_diag(bp.tensor([[1., 2.]]), bp.tensor(3.)).tolist()
    [[1.0, 2.0, 0.0], [0.0, 0.0, 3.0]]
    """
    if not tensors:
        from ..creation import zeros  # creation imports the ops

        return zeros(1, 0)
    blocks = []
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise ShapeError(f"block_diag: input {i} must have 2 dimensions or fewer, got shape "
                             f"{format_shape(t.shape)}")
        blocks.append(reshape(t, (1, -1) if t.ndim < 2 else tuple(t.shape)))
    dtype = functools.reduce(promote_types, [b.dtype for b in blocks])  # PyTorch's promotion
    return _block_diag(*[b if b.dtype == dtype else b.to(dtype) for b in blocks])


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every tuple of one element from each 1-D tensor, in order: a (N, len(tensors)) tensor
    (or the one tensor itself).

    >>> import backprop as bp
    >>> bp.cartesian_prod(bp.tensor([1, 2]), bp.tensor([3, 4])).tolist()
    [[1, 3], [1, 4], [2, 3], [2, 4]]
    """
    for i, t in enumerate(tensors):
        if t.ndim != 1:
            raise ShapeError(f"cartesian_prod: expects 1-D tensors, got shape "
                             f"{format_shape(t.shape)} for input {i}")
    if len({t.dtype for t in tensors}) > 1:
        raise TypeError("cartesian_prod: expects tensors of one dtype, got "
                        f"{', '.join(str(t.dtype) for t in tensors)}")
    if len(tensors) == 1:
        return tensors[0] * 1  # a new tensor, as PyTorch's
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of a 1-D tensor's elements, as ``itertools.combinations``
    (or ``combinations_with_replacement``) orders them: a (N, r) tensor.

    >>> import backprop as bp
    >>> bp.combinations(bp.tensor([1., 2., 3.])).tolist()
    [[1.0, 2.0], [1.0, 3.0], [2.0, 3.0]]
    """
    if input.ndim != 1:
        raise ShapeError(f"combinations: expects a 1-D tensor, got shape "
                         f"{format_shape(input.shape)}")
    if r < 0:
        raise ValueError(f"combinations: r must be non-negative, got {r}")
    if r == 0:
        return input[:0] * 1
    index = _combination_index(input.shape[0], r, with_replacement)
    # The positions are counted on the host (a few small integer arrays) and moved once.
    index = backend.on_device_of(index.reshape(-1), input)
    return reshape(index_select(input, 0, index), (-1, r))


def _combination_index(n: int, r: int, with_replacement: bool) -> np.ndarray:
    """The (N, r) positions of every combination in lexicographic order (itertools'), grown
    one column at a time: each row is followed by every larger position (or equal, with
    replacement), all rows at once."""
    combos = np.arange(n, dtype=np.int64)[:, None]
    for _ in range(r - 1):
        start = combos[:, -1] + (0 if with_replacement else 1)
        counts = np.maximum(n - start, 0)
        rows = np.repeat(np.arange(len(combos)), counts)
        offsets = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
        combos = np.concatenate([combos[rows], (start[rows] + offsets)[:, None]], axis=1)
    return combos


# -- statistics ---------------------------------------------------------------------------------

def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """The covariance matrix of the variables in ``input``'s rows (observations in its
    columns; a 1-D tensor is one variable), with frequency and observation weights.

    >>> import backprop as bp
    >>> bp.cov(bp.tensor([[0., 1., 2.], [2., 1., 0.]])).tolist()
    [[1.0, -1.0], [-1.0, 1.0]]
    """
    if input.ndim > 2:
        raise ShapeError(f"cov: expected input with 2 dimensions or fewer, got shape "
                         f"{format_shape(input.shape)}")
    x = reshape(input, (1, -1)) if input.ndim < 2 else input
    n = x.shape[1]
    weights = None
    for name, w in (("fweights", fweights), ("aweights", aweights)):
        if w is None:
            continue
        if not isinstance(w, Tensor):
            from ..creation import as_tensor  # creation imports the ops

            w = as_tensor(w, device=input.device)  # weights given as data: input's device
        if w.ndim > 1:
            raise ShapeError(f"cov: {name} must be a scalar or 1-D tensor, got shape "
                             f"{format_shape(w.shape)}")
        if w.ndim == 1 and w.shape[0] != n:
            raise ShapeError(f"cov: {name} must have as many elements as input has "
                             f"observations ({n}), got {w.shape[0]}")
        if name == "fweights" and w.dtype.kind not in "iu":
            raise TypeError(f"cov: fweights must be an integer tensor, got {w.dtype}")
        if (w.detach() < 0).any():
            raise ValueError(f"cov: {name} cannot be negative")
        weights = w if weights is None else weights * w
    if weights is None:
        total = n
        mean = _sum(x, 1) / n if n else _sum(x, 1) * math.nan
    else:
        total = _sum(weights)
        mean = _sum(x * weights, 1) / total
    if weights is None:
        factor = total - correction
    elif correction == 0:
        factor = total
    elif aweights is None:
        factor = total - correction
    else:
        factor = total - correction * _sum(weights * aweights) / total
    if isinstance(factor, Tensor):
        factor = clamp(factor, min=0)
    else:
        factor = max(factor, 0)
    centred = x - unsqueeze(mean, 1)
    weighted = centred if weights is None else centred * weights
    out = _matmul(weighted, _swap_last(centred)) / factor
    return reshape(out, ()) if x.shape[0] == 1 else out  # one variable: a 0-d result


def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation coefficients of the variables in ``input``'s rows (see ``cov``),
    clamped to [-1, 1].

    >>> import backprop as bp
    >>> bp.corrcoef(bp.tensor([[0., 1., 2.], [2., 1., 0.]])).tolist()
    [[1.0, -1.0], [-1.0, 1.0]]
    """
    c = cov(input)
    if c.ndim == 0:
        return c / c
    stddev = sqrt(einsum("ii->i", c))
    c = c / reshape(stddev, (-1, 1))
    c = c / reshape(stddev, (1, -1))
    return clamp(c, -1, 1)


# -- integration by trapezoids ------------------------------------------------------------------

def _spacing(op: str, y: Tensor, x: Tensor | None, dx: float | None, dim: int) -> Any:
    """The spacing of ``y``'s points along ``dim`` (a number, or differences of ``x`` that
    broadcast against the pairs of neighbours), after checking the arguments."""
    if x is not None and dx is not None:
        raise TypeError(f"{op}: give x or dx, not both")
    if y.ndim == 0:
        raise ShapeError(f"{op}: y must have at least one dimension, got a 0-d tensor")
    if not -y.ndim <= dim < y.ndim:
        raise DimError(f"{op}: dim {dim} is out of range for y of shape {format_shape(y.shape)}")
    if x is None:
        return 1.0 if dx is None else dx
    dim %= y.ndim
    n = y.shape[dim]
    if x.ndim == 1:
        if x.shape[0] != n:
            raise ShapeError(f"{op}: x of shape {format_shape(x.shape)} must have as many "
                             f"elements as y's dim {dim} (size {n})")
        return reshape(_neighbour_difference(x, 0), (-1,) + (1,) * (y.ndim - 1 - dim))
    xdim = dim - y.ndim + x.ndim if x.ndim < y.ndim else dim
    if not 0 <= xdim < x.ndim or x.shape[xdim] not in (n, 1):
        raise ShapeError(f"{op}: x of shape {format_shape(x.shape)} does not broadcast "
                         f"against y of shape {format_shape(y.shape)} along dim {dim}")
    return _neighbour_difference(x, xdim)


def _neighbour_difference(x: Tensor, dim: int) -> Tensor:
    n = x.shape[dim]  # (an empty dim has no neighbours: an empty result)
    return narrow(x, dim, min(n, 1), max(n - 1, 0)) - narrow(x, dim, 0, max(n - 1, 0))


def _neighbour_sum(y: Tensor, dim: int) -> Tensor:
    n = y.shape[dim]
    return narrow(y, dim, min(n, 1), max(n - 1, 0)) + narrow(y, dim, 0, max(n - 1, 0))


def trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None,
              dim: int = -1) -> Tensor:
    """The trapezoidal rule's integral of ``y`` along ``dim``, at points ``x`` (a 1-D tensor
    or one broadcasting with ``y``) or spaced ``dx`` apart (default 1).

    >>> import backprop as bp
    >>> bp.trapezoid(bp.tensor([1., 2., 3.])).item()
    4.0
    >>> bp.trapezoid(bp.tensor([1., 2., 3.]), bp.tensor([0., 1., 3.])).item()
    6.5
    """
    spacing = _spacing("trapezoid", y, x, dx, dim)
    dim %= y.ndim
    if isinstance(spacing, Tensor):
        return _sum(_neighbour_sum(y, dim) * spacing, dim) / 2
    n = y.shape[dim]
    if y.dtype.kind in "fcV" and n:
        return _uniform_trapezoid(y, dim, spacing)
    total = _sum(y, dim)
    if n == 0:  # no intervals: 0
        return total
    ends = narrow(y, dim, 0, 1) + narrow(y, dim, n - 1, 1)
    return spacing * (total - reshape(ends, total.shape) * 0.5)


def _uniform_trapezoid_vjp(g: Any, out: Any, y: Any, axis: int, spacing: float) -> Any:
    # Every point weighs ``spacing``, the two ends half as much (a single point, nothing).
    n = y.shape[axis]
    weights = backend.ones((n,), g.dtype, g) * spacing
    weights[0] -= spacing * 0.5
    weights[n - 1] -= spacing * 0.5
    return expand_reduced(g, y.shape, (axis,), False) * weights.reshape(
        (n,) + (1,) * (y.ndim - 1 - axis))


@primitive("uniform_trapezoid", promote=("y",), grads={"y": _uniform_trapezoid_vjp})
def _uniform_trapezoid(y: Any, axis: int, spacing: float) -> Any:
    """Equal spacing: the sum less half the two ends, without forming the pairs (PyTorch's
    form), in one op."""
    n = y.shape[axis]
    before = (slice(None),) * axis
    ends = y[before + (0,)] + y[before + (n - 1,)]
    return spacing * (summed(y, (axis,), False) - ends * 0.5)


def trapz(y: Tensor, x: Tensor | None = None, *, dx: float | None = None,
          dim: int = -1) -> Tensor:
    """``trapezoid`` under its older name.

    >>> import backprop as bp
    >>> bp.trapz(bp.tensor([1., 2., 3.]), dx=2.0).item()
    8.0
    """
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None,
                         dim: int = -1) -> Tensor:
    """The running trapezoidal integral of ``y`` along ``dim`` (one element fewer than ``y``).

    >>> import backprop as bp
    >>> bp.cumulative_trapezoid(bp.tensor([1., 2., 3.])).tolist()
    [1.5, 4.0]
    """
    spacing = _spacing("cumulative_trapezoid", y, x, dx, dim)
    dim %= y.ndim
    if not isinstance(spacing, Tensor) and y.dtype.kind in "fcV" and y.shape[dim]:
        return _uniform_cumulative_trapezoid(y, dim, spacing / 2)
    pairs = _neighbour_sum(y, dim)
    if isinstance(spacing, Tensor):
        return cumsum(pairs * spacing, dim) / 2
    return cumsum(pairs * (spacing / 2), dim)


def _uniform_cumulative_trapezoid_vjp(g: Any, out: Any, y: Any, axis: int, half: float) -> Any:
    # cumsum's VJP, then the pairs' (each point is in the pair before it and the one after).
    h = _reverse_cumsum(g, axis) * half
    ndim = y.ndim
    return (_constant_pad(h, _widths_at(ndim, axis, 1, 0), 0.0)
            + _constant_pad(h, _widths_at(ndim, axis, 0, 1), 0.0))


@primitive("uniform_cumulative_trapezoid", promote=("y",),
           grads={"y": _uniform_cumulative_trapezoid_vjp})
def _uniform_cumulative_trapezoid(y: Any, axis: int, half: float) -> Any:
    """Equal spacing: the running sums of the pairs' sums times ``half`` (half the spacing), in
    one op."""
    before = (slice(None),) * axis
    pairs = y[before + (slice(1, None),)] + y[before + (slice(None, -1),)]
    return _running_sums(pairs * half, axis).reshape(pairs.shape)


@_uniform_cumulative_trapezoid.kernel(np.ndarray, compiled=True)
def _running_trapezoid_rows(y: np.ndarray, axis: int, half: float) -> Any:
    return numba_reductions.running_trapezoid(y, axis, half)


# -- in-place forms -----------------------------------------------------------------------------

def renorm_(self: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """``renorm`` in place.

    >>> import backprop as bp
    >>> bp.tensor([[0., 2.], [0., 0.5]]).renorm_(1, 0, 1.0).tolist()[1]
    [0.0, 0.5]
    """
    from .inplace import apply_inplace

    return apply_inplace(self, "renorm_", lambda old: renorm(old, p, dim, maxnorm))



__all__ = ["cdist", "dist", "renorm", "renorm_", "block_diag", "cartesian_prod", "combinations",
           "cov", "corrcoef", "trapezoid", "trapz", "cumulative_trapezoid"]
