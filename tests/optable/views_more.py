"""Op-table rows for ``backprop.ops.views_more``: slices, diagonals, as_strided, unfold and the
scatters. The NumPy references build each view with NumPy's own slicing, diagonal and
stride tricks (on C-ordered copies, so strides count elements as PyTorch's do)."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .shape import _errors, _one
from .spec import OpSpec, Sample, uniform


_R = np.random.default_rng(17)
_x34 = uniform(_R, (3, 4))
_x234 = uniform(_R, (2, 3, 4))
_x5 = uniform(_R, (5,))
_x9 = uniform(_R, (9,))


def _slice_ref(x, dim=0, start=None, end=None, step=1):
    return x[(slice(None),) * (dim % x.ndim) + (slice(start, end, step),)]


def _slice_scatter_ref(x, src, dim=0, start=None, end=None, step=1):
    out = x.copy()
    out[(slice(None),) * (dim % x.ndim) + (slice(start, end, step),)] = src
    return out


def _select_scatter_ref(x, src, dim, index):
    out = x.copy()
    out[(slice(None),) * (dim % x.ndim) + (index,)] = src
    return out


def _diagonal_scatter_ref(x, src, offset=0, dim1=0, dim2=1):
    out = x.copy()
    moved = np.moveaxis(out, (dim1, dim2), (-2, -1))  # a view of out
    rows, cols = np.nonzero(np.eye(moved.shape[-2], moved.shape[-1], k=offset, dtype=bool))
    moved[..., rows, cols] = src
    return out


def _diag_embed_ref(x, offset=0, dim1=-2, dim2=-1):
    n = x.shape[-1] + abs(offset)
    out = np.zeros(x.shape[:-1] + (n, n))
    rows, cols = np.nonzero(np.eye(n, k=offset, dtype=bool))
    out[..., rows, cols] = x
    return np.moveaxis(out, (-2, -1), (dim1, dim2))


def _strided_ref(x, size, stride, storage_offset=0):
    flat = np.ascontiguousarray(x).reshape(-1)[storage_offset:]
    return np.lib.stride_tricks.as_strided(flat, size, [s * flat.itemsize for s in stride]).copy()


def _strided_scatter_ref(x, src, size, stride, storage_offset=0):
    out = np.ascontiguousarray(x).copy()
    flat = out.reshape(-1)[storage_offset:]
    np.lib.stride_tricks.as_strided(flat, size, [s * flat.itemsize for s in stride])[...] = src
    return out


def _unfold_ref(x, dimension, size, step):
    windows = np.lib.stride_tricks.sliding_window_view(x, size, axis=dimension)
    return windows[(slice(None),) * dimension + (slice(None, None, step),)]


def _torch_slice(torch, x, dim=0, start=None, end=None, step=1):
    return torch.ops.aten.slice(x, dim, start, end, step)


ROWS = [
    OpSpec("slice", bp.slice, _slice_ref,
           _one(Sample((_x34, 1, 1, None, 2), name="step"),
                Sample((_x234, -1, -10, 3), name="clamped"),
                Sample((_x5, 0, 4, 2), name="empty")),
           torch=_torch_slice,
           error_inputs=_errors((lambda: bp.slice(bp.ones(3), 0, 0, 2, 0), ValueError,
                                 r"slice: step must be positive, got 0"),
                                (lambda: bp.slice(bp.ones(3), 1), bp.DimError,
                                 r"slice: dim 1 is out of range"))),
    OpSpec("slice_scatter", bp.slice_scatter, _slice_scatter_ref,
           _one(Sample((_x34, uniform(_R, (3, 2)), 1, 1, None, 2), name="step"),
                Sample((_x234, uniform(_R, (1, 3, 4)), 0, -1), name="negative-start")),
           torch=lambda torch, *a: torch.slice_scatter(*a),
           error_inputs=_errors((lambda: bp.slice_scatter(bp.ones(4), bp.ones(3), 0, 0, 2),
                                 bp.ShapeError, (r"slice_scatter: src has shape \(3,\) but the "
                                 r"part of the input of shape \(4,\) it replaces has shape "
                                 r"\(2,\)")))),
    OpSpec("select_scatter", bp.select_scatter, _select_scatter_ref,
           _one(Sample((_x34, uniform(_R, (3,)), 1, -1), name="last"),
                Sample((_x5, uniform(_R, ()), 0, 2), name="vector")),
           torch=lambda torch, *a: torch.select_scatter(*a),
           error_inputs=_errors((lambda: bp.select_scatter(bp.ones(2, 2), bp.ones(2), 0, 2),
                                 IndexError, r"select_scatter: index 2 is out of range"))),
    OpSpec("diagonal", bp.diagonal, lambda x, *a: np.diagonal(x, *a),
           _one(Sample((_x34,), name="main"), Sample((_x34, -1), name="below"),
                Sample((_x234, 2, 2, 0), name="dims"), Sample((_x34, 5), name="empty")),
           torch=lambda torch, *a: torch.diagonal(*a),
           error_inputs=_errors((lambda: bp.diagonal(bp.ones(2, 2), 0, 1, -1), bp.DimError,
                                 r"diagonal: dim1 and dim2 both name dim 1"))),
    OpSpec("diagonal_copy", bp.diagonal_copy, lambda x, *a: np.diagonal(x, *a).copy(),
           _one(Sample((_x234, 1, 0, 2), name="dims")),
           torch=lambda torch, *a: torch.diagonal_copy(*a)),
    OpSpec("linalg.diagonal", bp.linalg.diagonal,
           lambda x, **k: np.diagonal(x, k.get("offset", 0), -2, -1),
           _one(Sample((_x234,), name="batch"), Sample((_x34,), {"offset": 1}, name="offset")),
           torch=lambda torch, x, **k: torch.linalg.diagonal(x, **k)),
    OpSpec("diagonal_scatter", bp.diagonal_scatter, _diagonal_scatter_ref,
           _one(Sample((_x34, uniform(_R, (3,))), name="main"),
                Sample((_x34, uniform(_R, (2,)), -1), name="below"),
                Sample((_x234, uniform(_R, (3, 2)), 1, 0, 2), name="dims")),
           torch=lambda torch, *a: torch.diagonal_scatter(*a),
           error_inputs=_errors((lambda: bp.diagonal_scatter(bp.ones(2, 2), bp.ones(3)),
                                 bp.ShapeError, r"diagonal_scatter: src has shape \(3,\)"))),
    OpSpec("diag_embed", bp.diag_embed, _diag_embed_ref,
           _one(Sample((_x5,), name="vector"), Sample((_x34, 1), name="batch"),
                Sample((_x34, -2, 0, 2), name="dims")),
           torch=lambda torch, *a: torch.diag_embed(*a),
           error_inputs=_errors((lambda: bp.diag_embed(bp.tensor(1.0)), bp.DimError,
                                 r"diag_embed: cannot be applied to a 0-d tensor"))),
    OpSpec("diag", bp.diag, lambda x, k=0: np.diag(x, k),
           _one(Sample((_x5,), name="vector"), Sample((_x5, -2), name="vector-below"),
                Sample((_x34, 1), name="matrix")),
           torch=lambda torch, *a: torch.diag(*a),
           error_inputs=_errors((lambda: bp.diag(bp.ones(2, 2, 2)), bp.ShapeError,
                                 r"diag: expects a 1-d or 2-d tensor, got shape \(2, 2, 2\)"))),
    OpSpec("diagflat", bp.diagflat, lambda x, k=0: np.diagflat(x, k),
           _one(Sample((uniform(_R, (2, 2)),), name="matrix"),
                Sample((uniform(_R, ()), 1), name="scalar")),
           torch=lambda torch, *a: torch.diagflat(*a)),
    OpSpec("as_strided", bp.as_strided, _strided_ref,
           _one(Sample((_x9, (2, 2), (1, 3), 1), name="transposed"),
                Sample((_x9, (3, 3), (1, 1)), name="overlapping"),
                Sample((_x34, (2, 0), (4, 1)), name="empty")),
           torch=lambda torch, *a: torch.as_strided(*a),
           forward_ad=False,
           forward_ad_reason="as_strided reads the storage under its input, and the storage under "
                             "make_dual's view is the primal's base, which carries no tangent "
                             "(tangents are kept per tensor, not per storage)",
           error_inputs=_errors((lambda: bp.as_strided(bp.ones(4), (2,), (4,)), bp.ShapeError,
                                 (r"as_strided: size \(2,\), stride \(4,\) and storage_offset 0 "
                                 r"reach element 4, out of bounds for a storage of 4 elements")),
                                (lambda: bp.as_strided(bp.ones(4), (2,), (-1,), 3), ValueError,
                                 r"as_strided: negative strides are not supported"))),
    OpSpec("as_strided_copy", bp.as_strided_copy, _strided_ref,
           _one(Sample((_x9, (2, 3), (3, 2)), name="strided")),
           torch=lambda torch, *a: torch.as_strided_copy(*a),
           forward_ad=False,
           forward_ad_reason="as_strided reads the storage under its input, and the storage under "
                             "make_dual's view is the primal's base, which carries no tangent "
                             "(tangents are kept per tensor, not per storage)"),
    OpSpec("as_strided_scatter", bp.as_strided_scatter, _strided_scatter_ref,
           _one(Sample((_x34, uniform(_R, (2, 2)), (2, 2), (1, 4), 1), name="transposed"),
                Sample((_x9, uniform(_R, (3,)), (3,), (3,)), name="vector")),
           # PyTorch's gradient of input is wrong (its OpInfo marks test_fn_grad an expected
           # failure): the values are compared with torch, the gradients with finite differences.
           torch=None, torch_reason="PyTorch's backward of as_strided_scatter is known wrong; "
                                    "its values are checked against the OpInfo samples"),
    OpSpec("unfold_copy", bp.unfold_copy, _unfold_ref,
           _one(Sample((_x34, 1, 2, 1), name="overlapping"),
                Sample((_x234, 0, 1, 2), name="step")),
           torch=lambda torch, *a: torch.unfold_copy(*a), aliases=("unfold",),
           error_inputs=_errors((lambda: bp.unfold_copy(bp.ones(3), 0, 4, 1), bp.ShapeError,
                                 r"unfold: size 4 must lie in \[0, 3\]"),
                                (lambda: bp.ones(3).unfold(0, 2, 0), ValueError,
                                 r"unfold: step must be positive"))),
]
