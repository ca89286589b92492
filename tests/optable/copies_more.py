"""Op-table rows for ``backprop.ops.copies_more``: copies of views, PyTorch's other spellings of
splits and padding, ``fill``, ``rsub`` and the odd creation functions."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .shape import _errors, _one
from .spec import OpSpec, Sample, binary, uniform


_R = np.random.default_rng(18)
_x34 = uniform(_R, (3, 4))
_x213 = uniform(_R, (2, 1, 3))
_x5 = uniform(_R, (5,))


def _copy_row(name, ref, *samples, **kwargs):
    return OpSpec(name, getattr(bp, name), ref, _one(*samples),
                  torch=lambda torch, *a, **k: getattr(torch, name)(*a, **k), **kwargs)


def _split_ref(x, sizes, dim=0):
    return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=dim))


def _pad_ref(x, pad, value=0.0):
    widths = [(0, 0)] * x.ndim
    for j in range(len(pad) // 2):
        widths[x.ndim - 1 - j] = (pad[2 * j], pad[2 * j + 1])
    grown = [(max(b, 0), max(a, 0)) for b, a in widths]
    out = np.pad(x, grown, constant_values=value)
    return out[tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(widths, out.shape))]


ROWS = [
    _copy_row("alias_copy", np.copy, Sample((_x34,), name="matrix")),
    _copy_row("expand_copy", lambda x, size: np.broadcast_to(x, size).copy(),
              Sample((_x213, (4, 2, 3, 3)), name="expand")),
    _copy_row("narrow_copy", lambda x, d, s, n: np.take(x, range(s, s + n), axis=d),
              Sample((_x34, 1, 1, 2), name="columns")),
    _copy_row("permute_copy", np.transpose, Sample((_x213, (2, 0, 1)), name="3-d")),
    _copy_row("squeeze_copy", lambda x, dim=None: np.squeeze(x, dim),
              Sample((_x213,), name="all"), Sample((_x213, 1), name="dim")),
    _copy_row("t_copy", np.transpose, Sample((_x34,), name="matrix"),
              Sample((_x5,), name="vector")),
    _copy_row("transpose_copy", lambda x, a, b: np.swapaxes(x, a, b),
              Sample((_x213, 0, -1), name="3-d")),
    _copy_row("unsqueeze_copy", np.expand_dims, Sample((_x34, -1), name="last")),
    _copy_row("view_copy", np.reshape, Sample((_x34, (2, -1)), name="reshape"),
              error_inputs=_errors((lambda: bp.view_copy(bp.ones(4), (3, -1)), bp.ShapeError,
                                    r"view: cannot view a tensor of shape \(4,\)"))),
    _copy_row("unbind_copy", lambda x, dim=0: tuple(np.moveaxis(x, dim, 0)),
              Sample((_x34, 1), name="columns")),
    _copy_row("unsafe_split", lambda x, n, dim=0: _split_ref(
        x, [n] * (x.shape[dim] // n) + [x.shape[dim] % n] * bool(x.shape[dim] % n), dim),
        Sample((_x5, 2), name="uneven")),
    _copy_row("unsafe_chunk", lambda x, n, dim=0: tuple(np.array_split(x, n, axis=dim)),
              Sample((_x34, 2, 1), name="columns")),
    _copy_row("split_with_sizes", _split_ref, Sample((_x34, [1, 3], 1), name="columns"),
              error_inputs=_errors((lambda: bp.split_with_sizes(bp.ones(4), 2), TypeError,
                                    r"split_with_sizes: split_sizes must be a list of ints"))),
    _copy_row("constant_pad_nd", _pad_ref, Sample((_x34, (1, 2)), name="last"),
              Sample((_x34, (0, 1, -1, 1), 2.5), name="crop-and-value")),
    OpSpec("fill", bp.fill, lambda x, v: np.full_like(x, v),
           _one(Sample((_x34, 1.5), name="number"), Sample((_x34, uniform(_R, ())), name="tensor")),
           torch=lambda torch, *a: torch.fill(*a),
           error_inputs=_errors((lambda: bp.fill(bp.ones(2), bp.ones(2)), bp.ShapeError,
                                 r"fill: value must be a number or a 0-d tensor"))),
    OpSpec("rsub", bp.rsub, lambda x, y, alpha=1: y - alpha * x, binary(),
           torch=lambda torch, *a, **k: torch.rsub(*a, **k), broadcast=True),
    OpSpec("rsub", bp.rsub, lambda x, y, alpha=1: y - alpha * x,
           _one(Sample((_x5, 2.0), {"alpha": 3}, name="number-alpha")),
           torch=lambda torch, *a, **k: torch.rsub(*a, **k)),
    # The creation functions take the dtype and device of a tensor ``like`` (so that the rows
    # run on every device); uninitialised memory is zeroed to compare shapes and dtypes.
    OpSpec("scalar_tensor", lambda like, s: bp.scalar_tensor(s, dtype=like.dtype,
                                                             device=like.device),
           lambda like, s: np.array(s, dtype=like.dtype),
           _one(Sample((_x5, 3), name="int"), Sample((_x5, -0.5), name="float")),
           torch=lambda torch, like, s: torch.scalar_tensor(s, dtype=like.dtype), grad=False),
    OpSpec("empty_strided", lambda like, size, stride: bp.empty_strided(
        size, stride, dtype=like.dtype, device=like.device).zero_(),
           lambda like, size, stride: np.zeros(size, like.dtype),
           _one(Sample((_x5, (2, 3), (1, 2)), name="column-major"),
                Sample((_x5, (2, 3), (0, 1)), name="overlapping")),
           torch=lambda torch, like, size, stride: torch.empty_strided(
               size, stride, dtype=like.dtype).zero_(), grad=False),
    OpSpec("empty_permuted", lambda like, size, layout: bp.empty_permuted(
        size, layout, dtype=like.dtype, device=like.device).zero_(),
           lambda like, size, layout: np.zeros(size, like.dtype),
           _one(Sample((_x5, (2, 3, 4), (2, 0, 1)), name="permuted")),
           torch=lambda torch, like, size, layout: torch.empty_permuted(
               size, layout, dtype=like.dtype).zero_(), grad=False,
           error_inputs=_errors((lambda: bp.empty_permuted((2, 3), (0, 0)), bp.ShapeError,
                                 (r"empty_permuted: physical_layout \(0, 0\) must be a "
                                 r"permutation")))),
]
