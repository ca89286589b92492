"""``gradient``: finite-difference derivatives of sampled values along dims (issue 17).

Written with differentiable ops (slices, arithmetic, cat), so it needs no rule of its own and
its derivative is the same linear map applied to the incoming gradient. The arithmetic follows
PyTorch's order, so float32 results round alike: with a scalar spacing the centre is
``(f[2:] - f[:-2]) / h / 2``; with coordinates, the second-order weights of unequal steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import check_dim
from ..tensor import Tensor
from .join import cat


def _along(x: Tensor, dim: int, start: int | None, stop: int | None) -> Tensor:
    key = [slice(None)] * x.ndim
    key[dim] = slice(start, stop)
    return x[tuple(key)]


def _uniform(x: Tensor, dim: int, h: Any, edge_order: int) -> Tensor:
    f = _along
    center = (f(x, dim, 2, None) - f(x, dim, 0, -2)) / h
    if edge_order == 1:
        prepend = (f(x, dim, 1, 2) - f(x, dim, 0, 1)) / h
        append = (f(x, dim, -1, None) - f(x, dim, -2, -1)) / h
    else:
        prepend = (f(x, dim, 0, 1) * -1.5 + f(x, dim, 1, 2) * 2 - f(x, dim, 2, 3) * 0.5) / h
        append = (f(x, dim, -3, -2) * 0.5 + f(x, dim, -2, -1) * -2 + f(x, dim, -1, None) * 1.5) / h
    return cat([prepend, center / 2, append], dim)


def _coordinates(x: Tensor, dim: int, coords: Tensor, edge_order: int) -> Tensor:
    f = _along
    dx = coords[1:] - coords[:-1]
    dx1, dx2 = dx[:-1], dx[1:]
    shape = [1] * x.ndim
    shape[dim] = -1
    a = (-dx2 / (dx1 * (dx1 + dx2))).reshape(shape)
    b = ((dx2 - dx1) / (dx1 * dx2)).reshape(shape)
    c = (dx1 / (dx2 * (dx1 + dx2))).reshape(shape)
    center = a * f(x, dim, 0, -2) + b * f(x, dim, 1, -1) + c * f(x, dim, 2, None)
    if edge_order == 1:
        prepend = (f(x, dim, 1, 2) - f(x, dim, 0, 1)) / dx[0]
        append = (f(x, dim, -1, None) - f(x, dim, -2, -1)) / dx[-1]
    else:
        d0, d1 = dx[0], dx[1]
        a = -(2.0 * d0 + d1) / (d0 * (d0 + d1))
        b = (d0 + d1) / (d0 * d1)
        c = (-d0) / (d1 * (d0 + d1))
        prepend = a * f(x, dim, 0, 1) + b * f(x, dim, 1, 2) + c * f(x, dim, 2, 3)
        e1, e2 = dx[-1], dx[-2]
        a = e1 / (e2 * (e1 + e2))
        b = -(e1 + e2) / (e1 * e2)
        c = (2 * e1 + e2) / (e1 * (e1 + e2))
        append = a * f(x, dim, -3, -2) + b * f(x, dim, -2, -1) + c * f(x, dim, -1, None)
    return cat([prepend, center, append], dim)


def gradient(input: Tensor, *, spacing: Any = 1, dim: int | Sequence[int] | None = None,
             edge_order: int = 1) -> tuple[Tensor, ...]:
    """The derivative of the sampled values ``input`` along each of ``dim`` (default: every
    dim), by central differences inside and one-sided ones of order ``edge_order`` (1 or 2) at
    the ends. ``spacing`` is the step (a number, one per dim) or the sample coordinates (one
    1-D tensor per dim).

    >>> import backprop as bp
    >>> [g.tolist() for g in bp.gradient(bp.tensor([1., 4., 9., 16.]))]
    [[3.0, 4.0, 6.0, 7.0]]
    >>> [g.tolist() for g in bp.gradient(bp.tensor([1., 4., 9.]), spacing=2.)]
    [[1.5, 2.0, 2.5]]
    """
    if edge_order not in (1, 2):
        raise ValueError(f"gradient: edge_order must be 1 or 2, got {edge_order}")
    if input.ndim == 0:
        raise ValueError("gradient: input must have at least one dimension, got a 0-d tensor")
    if dim is None:
        dims = list(range(input.ndim))
    elif isinstance(dim, int):
        dims = [dim]
    else:
        dims = list(dim)
    dims = [check_dim("gradient", d, input.ndim) for d in dims]
    if len(set(dims)) != len(dims):
        raise ValueError(f"gradient: dim {tuple(dims)} repeats a dim")
    if spacing is None:
        spacing = 1
    if isinstance(spacing, (int, float, Tensor)) and not (
            isinstance(spacing, Tensor) and spacing.ndim == 1 and len(dims) == 1):
        steps = [spacing] * len(dims)
    else:
        steps = list(spacing)
        if len(steps) != len(dims):
            raise ValueError(f"gradient: spacing must give one entry per dim ({len(dims)}), "
                             f"got {len(steps)}")
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise ValueError(f"gradient: each dim differentiated needs at least edge_order + 1 "
                             f"= {edge_order + 1} samples, got {input.shape[d]} in dim {d} of "
                             f"shape {tuple(input.shape)}")
    result = []
    for d, h in zip(dims, steps):
        if isinstance(h, Tensor) and h.ndim == 1:
            if h.shape[0] != input.shape[d]:
                raise ValueError(f"gradient: the coordinates for dim {d} must have "
                                 f"{input.shape[d]} values, got {h.shape[0]}")
            if h.device != input.device:
                raise RuntimeError(f"gradient: the coordinates for dim {d} are on {h.device} "
                                   f"but input is on {input.device}; move them with "
                                   f".to({str(input.device)!r}) first")
            result.append(_coordinates(input, d, h, edge_order))
        else:
            result.append(_uniform(input, d, h.item() if isinstance(h, Tensor) else h,
                                   edge_order))
    return tuple(result)


__all__: list[str] = []  # exported by indexing_more
