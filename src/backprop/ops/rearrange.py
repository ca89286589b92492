"""Ops that rearrange elements into a new tensor (copies, not views): pad, flip, roll, repeat
and tile, and the triangles tril and triu.

Their VJPs only move gradient values around (fold padded borders back, flip or roll back, sum the
repeats, mask the same way), written with the primitives of this module, shape.py and join.py
(and ``sum``), which keeps grad-of-grad exact.
"""

from __future__ import annotations

import functools

from typing import Any, Sequence

import numpy as np

from .. import backend
from ..backends import numba_indexing
from ..errors import DimError, ShapeError, format_shape
from .join import _constant_pad, _narrow, _widths_at
from .primitive import primitive
from .shape import _explain_dims, _int_tuple, _shape_arg, _sum_axes, reshape


# -- pad ----------------------------------------------------------------------------------------

def _crop(widths: tuple[tuple[int, int], ...], shape: tuple[int, ...]) -> tuple[slice, ...]:
    """The region kept by the negative widths (a crop) of ``widths``."""
    return tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(widths, shape))


def _crops(widths: tuple[tuple[int, int], ...]) -> bool:
    return any(before < 0 or after < 0 for before, after in widths)


def _mode_pad(name: str, numpy_mode: str, crop_first: bool, rule: Any) -> Any:
    # Negative widths crop. PyTorch pads then crops in reflect and replicate modes (a crop on one
    # side leaves what the other side reflects unchanged), but crops first in circular mode.
    def forward(input: Any, widths: tuple[tuple[int, int], ...]) -> Any:
        grown = [(max(before, 0), max(after, 0)) for before, after in widths]
        if crop_first and _crops(widths):
            input = input[_crop(widths, input.shape)]
        out = np.pad(input, grown, mode=numpy_mode)
        if not crop_first and _crops(widths):
            out = out[_crop(widths, out.shape)]
        return out

    forward.__doc__ = f"Pad by ``widths`` (``(before, after)`` per dim) in {name} mode."
    return primitive(f"{name}_pad", grads={"input": rule})(forward)


def _uncrop(g: Any, widths: tuple[tuple[int, int], ...]) -> Any:
    """The adjoint of the crop by the negative widths: put zeros back where it cut."""
    return _constant_pad(g, tuple((max(-b, 0), max(-a, 0)) for b, a in widths), 0.0)


def _fold_padding(g: Any, shape: tuple[int, ...], widths: tuple[tuple[int, int], ...],
                  mode: str) -> Any:
    """Sum the gradient of a padded tensor of ``shape`` (padded by the non-negative ``widths``)
    back onto it: each padded border is added onto the elements it copies, one dim at a time
    (the padding is separable, so the order does not matter)."""
    ndim = len(widths)
    for d, ((before, after), n) in enumerate(zip(widths, shape)):
        if not before and not after:
            continue
        core = _narrow(g, d, before, n)
        if before:
            border = _narrow(g, d, 0, before)
            if mode == "reflect":  # border holds x[before], ..., x[1]
                core = core + _constant_pad(_flip(border, (d,)),
                                            _widths_at(ndim, d, 1, n - 1 - before), 0.0)
            elif mode == "replicate":  # every border element is x[0]
                core = core + _constant_pad(_sum_axes(border, (d,), True),
                                            _widths_at(ndim, d, 0, n - 1), 0.0)
            else:  # circular: border holds x[n - before], ..., x[n - 1]
                core = core + _constant_pad(border, _widths_at(ndim, d, n - before, 0), 0.0)
        if after:
            border = _narrow(g, d, before + n, after)
            if mode == "reflect":  # border holds x[n - 2], ..., x[n - 1 - after]
                core = core + _constant_pad(_flip(border, (d,)),
                                            _widths_at(ndim, d, n - 1 - after, 1), 0.0)
            elif mode == "replicate":
                core = core + _constant_pad(_sum_axes(border, (d,), True),
                                            _widths_at(ndim, d, n - 1, 0), 0.0)
            else:  # circular: border holds x[0], ..., x[after - 1]
                core = core + _constant_pad(border, _widths_at(ndim, d, 0, n - after), 0.0)
        g = core
    return g


def _grown(widths: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    return tuple((max(b, 0), max(a, 0)) for b, a in widths)


def _pad_then_crop_vjp(mode: str) -> Any:
    def vjp(g: Any, out: Any, input: Any, widths: tuple[tuple[int, int], ...]) -> Any:
        if _crops(widths):
            g = _uncrop(g, widths)
        return _fold_padding(g, input.shape, _grown(widths), mode)

    return vjp


def _circular_vjp(g: Any, out: Any, input: Any, widths: tuple[tuple[int, int], ...]) -> Any:
    cropped = tuple(s.stop - s.start for s in _crop(widths, input.shape))
    g = _fold_padding(g, cropped, _grown(widths), "circular")
    return _uncrop(g, widths) if _crops(widths) else g


_reflection_pad = _mode_pad("reflection", "reflect", False, _pad_then_crop_vjp("reflect"))
_replication_pad = _mode_pad("replication", "edge", False, _pad_then_crop_vjp("replicate"))
_circular_pad = _mode_pad("circular", "wrap", True, _circular_vjp)

_PAD_MODES = {"reflect": _reflection_pad, "replicate": _replication_pad,
              "circular": _circular_pad}


def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Any:
    """Pad the last ``len(pad) // 2`` dims: ``pad`` is ``(left, right)`` for the last dim, then
    ``(top, bottom)`` for the one before, and so on (``torch.nn.functional.pad``). Negative
    widths crop. Modes: ``"constant"`` (with ``value``, default 0), ``"reflect"`` (mirror without
    repeating the edge), ``"replicate"`` (repeat the edge), ``"circular"`` (wrap around).

    >>> import backprop as bp
    >>> bp.pad(bp.tensor([1., 2., 3.]), (1, 2)).tolist()
    [0.0, 1.0, 2.0, 3.0, 0.0, 0.0]
    >>> bp.pad(bp.tensor([[1., 2., 3.]]), (2, 1), mode="reflect").tolist()
    [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
    """
    pad = tuple(int(p) for p in pad)
    shape = input.shape
    ndim = len(shape)
    if len(pad) % 2:
        raise ShapeError(f"pad: the padding {pad} must have an even length ((before, after) "
                         "pairs, starting from the last dim)")
    if len(pad) // 2 > ndim:
        raise ShapeError(f"pad: the padding {pad} covers {len(pad) // 2} dims but the tensor of "
                         f"shape {format_shape(shape)} has {ndim}")
    widths = [(0, 0)] * ndim
    for j in range(len(pad) // 2):
        widths[ndim - 1 - j] = (pad[2 * j], pad[2 * j + 1])
    widths = tuple(widths)
    for d, ((before, after), n) in enumerate(zip(widths, shape)):
        if n + before + after < 0:
            raise ShapeError(f"pad: padding ({before}, {after}) of dim {d} of size {n} gives a "
                             f"negative size (tensor shape {format_shape(shape)})")
    if mode == "constant":
        return _constant_pad(input, widths, 0.0 if value is None else value)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', "
                         f"got {mode!r}")
    if value is not None and value != 0:
        raise ValueError(f"pad: value is only used in constant mode, got value={value} with "
                         f"mode {mode!r}")
    for d, ((before, after), n) in enumerate(zip(widths, shape)):
        if not before and not after:
            continue
        if mode == "circular":  # circular crops before it wraps
            n += min(before, 0) + min(after, 0)
        widest = max(before, after)
        if (mode == "reflect" and widest >= n) or (mode == "circular" and widest > n) or n == 0:
            limit = "less than" if mode == "reflect" else "at most"
            raise ShapeError(f"pad: {mode} padding ({before}, {after}) of dim {d} must be {limit} "
                             f"its size {n} (tensor shape {format_shape(shape)})")
    return _PAD_MODES[mode](input, widths)


# -- flip, roll ---------------------------------------------------------------------------------

@primitive("flip", explain=_explain_dims("flip"), grads={
    "input": lambda g, out, input, dims: _flip(g, dims),
})
def _flip(input: Any, dims: tuple[int, ...]) -> Any:
    # NumPy's flip is a view; PyTorch's is a copy, so writing to the result leaves input alone.
    return np.flip(input, dims).copy()


@_flip.kernel(np.ndarray, compiled=True)
def _flip_last(input: np.ndarray, dims: tuple[int, ...]) -> np.ndarray | None:
    # NumPy copies a reversed last axis element by element (3-4x PyTorch's time); a compiled
    # loop reverses it, rows read in either order: the last dim alone, or a matrix's both.
    ndim = input.ndim
    flipped = {d % ndim for d in dims} if ndim else set()
    if flipped == {ndim - 1}:
        return numba_indexing.flip_last(input)
    if ndim == 2 and flipped == {0, 1}:
        return numba_indexing.flip_last(input[::-1])
    return None


def flip(input: Any, dims: int | Sequence[int], *more_dims: int) -> Any:
    """Reverse the order of elements along ``dims`` (a copy): ``bp.flip(x, (0, 1))``,
    ``bp.flip(x, dims=[0, 1])`` or ``x.flip(0, 1)``.

    >>> import backprop as bp
    >>> bp.tensor([[1, 2], [3, 4]]).flip(0, 1).tolist()
    [[4, 3], [2, 1]]
    """
    dims = _int_tuple(dims) + _int_tuple(more_dims)
    if len(set(d % max(input.ndim, 1) for d in dims)) != len(dims):
        raise DimError(f"flip: dims {dims} name a dimension more than once")
    return _flip(input, dims)


def _negated_shifts(shifts: Any) -> Any:
    return tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts


@primitive("roll", explain=_explain_dims("roll"), grads={
    "input": lambda g, out, input, shifts, dims: _roll(g, _negated_shifts(shifts), dims),
})
def _roll(input: Any, shifts: Any, dims: Any) -> Any:
    return np.roll(input, shifts, dims)


def roll(input: Any, shifts: int | Sequence[int],
         dims: int | Sequence[int] | None = None) -> Any:
    """Shift elements by ``shifts`` along ``dims``, wrapping around; with ``dims=None`` the
    tensor is rolled as if flattened.

    >>> import backprop as bp
    >>> bp.arange(5).roll(2).tolist()
    [3, 4, 0, 1, 2]
    """
    if dims is None:
        shifts = _int_tuple(shifts)
        if len(shifts) != 1:
            raise ShapeError(f"roll: {len(shifts)} shifts {shifts} given without dims; give one "
                             "shift per dim in dims, or a single shift to roll the flattened "
                             "tensor")
        return _roll(input, shifts[0], None)
    shifts, dims = _int_tuple(shifts), _int_tuple(dims)
    if len(shifts) != len(dims):
        raise ShapeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    return _roll(input, shifts, dims)


# -- repeat, tile -------------------------------------------------------------------------------


def _repeat_vjp(g: Any, out: Any, input: Any, repeats: tuple[int, ...]) -> Any:
    # Output dim i has repeats[i] blocks of the input's size n_i: view it as (r_i, n_i) and sum
    # over the blocks.
    shape = (1,) * (len(repeats) - input.ndim) + tuple(input.shape)
    blocks: list[int] = []
    for r, n in zip(repeats, shape):
        blocks += [r, n]
    summed = _sum_axes(reshape(g, tuple(blocks)), tuple(range(0, len(blocks), 2)), False)
    return reshape(summed, input.shape)


@primitive("repeat", grads={"input": _repeat_vjp})
def _repeat(input: Any, repeats: tuple[int, ...]) -> Any:
    return np.tile(input, repeats)


def repeat(input: Any, *sizes: Any) -> Any:
    """Tile the tensor ``sizes[i]`` times along dim ``i`` (``Tensor.repeat``; extra sizes add
    leading dims). A copy.

    >>> import backprop as bp
    >>> bp.tensor([1, 2]).repeat(2, 2).tolist()
    [[1, 2, 1, 2], [1, 2, 1, 2]]
    """
    sizes = _shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise ShapeError(f"repeat: {len(sizes)} repeat sizes {format_shape(sizes)} given for a "
                         f"tensor of shape {format_shape(input.shape)}; give at least one per "
                         "dimension (or use tile)")
    if any(s < 0 for s in sizes):
        raise ShapeError(f"repeat: repeat sizes must be non-negative, got {format_shape(sizes)}")
    return _repeat(input, sizes)


def tile(input: Any, dims: Sequence[int]) -> Any:
    """Like ``repeat``, but fewer ``dims`` than the tensor has are padded with ones in front.

    >>> import backprop as bp
    >>> bp.zeros(2, 3).tile((2,)).shape
    (2, 6)
    """
    dims = _int_tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


# -- tril, triu ---------------------------------------------------------------------------------

def _check_matrix(op: str, input: Any) -> None:
    if input.ndim < 2:
        raise ShapeError(f"{op}: expects a tensor with at least 2 dimensions, got shape "
                         f"{format_shape(input.shape)}")


@functools.lru_cache(maxsize=32)
def _triangle_masks(rows: int, cols: int, diagonal: int,
                    lower: bool) -> tuple[Any, Any, bool]:
    """The (rows, cols) masks of what ``tril``/``triu`` keep and zero. Kept: a model masks the
    same shapes every step, and making them is most of ``np.tril``'s time."""
    offset = np.arange(cols)[None, :] - np.arange(rows)[:, None]  # column minus row
    keep = offset <= diagonal if lower else offset >= diagonal
    keep.flags.writeable = False
    zero = ~keep
    zero.flags.writeable = False
    return keep, zero, 2 * int(keep.sum()) < keep.size


def _keep_triangle(input: Any, diagonal: int, lower: bool) -> Any:
    """A copy of ``input`` with the elements above (``lower``) or below diagonal ``diagonal``
    of its last two dims set to zero: the kept part copied into zeros, or the zeroed part
    written over a copy, whichever part is smaller (a masked write costs per element)."""
    xp = backend.xp_of(input)
    keep, zero, keep_fewer = _triangle_masks(*input.shape[-2:], diagonal, lower)
    if keep_fewer:
        out = xp.zeros_like(input)
        xp.copyto(out, input, where=backend.on_device_of(keep, input))
    else:
        out = input.copy()
        xp.copyto(out, backend.zeros((), out.dtype, input),
                  where=backend.on_device_of(zero, input))
    return out


# Masking is linear and self-adjoint: the gradient is masked the same way.
@primitive("tril", grads={"input": lambda g, out, input, diagonal: _tril(g, diagonal)})
def _tril(input: Any, diagonal: int) -> Any:
    return _keep_triangle(input, diagonal, lower=True)


@primitive("triu", grads={"input": lambda g, out, input, diagonal: _triu(g, diagonal)})
def _triu(input: Any, diagonal: int) -> Any:
    return _keep_triangle(input, diagonal, lower=False)


def tril(input: Any, diagonal: int = 0) -> Any:
    """Zero the elements above diagonal ``diagonal`` of the last two dims.

    >>> import backprop as bp
    >>> bp.ones(2, 2).tril().tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
    _check_matrix("tril", input)
    return _tril(input, int(diagonal))


def triu(input: Any, diagonal: int = 0) -> Any:
    """Zero the elements below diagonal ``diagonal`` of the last two dims.

    >>> import backprop as bp
    >>> bp.ones(2, 2).triu(1).tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    """
    _check_matrix("triu", input)
    return _triu(input, int(diagonal))


__all__ = ["pad", "flip", "roll", "repeat", "tile", "tril", "triu"]
