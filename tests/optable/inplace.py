"""Op-table rows for in-place ops, applied to a clone so the graph records them, and for writes
through views (the ``copy_slices`` row)."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .spec import OpSpec, Sample, uniform


def _fill_samples(rng):
    return [Sample((uniform(rng, (2, 3)), uniform(rng, ())), name="tensor-value")]


def _copy_samples(rng):
    return [Sample((uniform(rng, (2, 3)), uniform(rng, (3,))), name="broadcast-src")]


ROWS = [
    OpSpec("fill_", lambda x, v: x.clone().fill_(v), lambda x, v: np.full(x.shape, v),
           _fill_samples, torch=lambda torch, x, v: x.clone().fill_(v), aliases=("fill",)),
    OpSpec("copy_", lambda x, s: x.clone().copy_(s), lambda x, s: np.broadcast_to(s, x.shape),
           _copy_samples, torch=lambda torch, x, s: x.clone().copy_(s), aliases=("copy",)),
    OpSpec("add_", lambda x, y: (x * 1).add_(y, alpha=2), lambda x, y: x + 2 * y,
           lambda rng: [Sample((uniform(rng, (2, 3)), uniform(rng, (3,))))],
           torch=lambda torch, x, y: (x * 1).add_(y, alpha=2)),
    OpSpec("mul_", lambda x, y: (x * 1).mul_(y), lambda x, y: x * y,
           lambda rng: [Sample((uniform(rng, (2, 3)), uniform(rng, (3,))))],
           torch=lambda torch, x, y: (x * 1).mul_(y)),
]


# -- writes through views -------------------------------------------------------------------------
# Each case is written once for backprop and PyTorch (``lib`` is either module) and once in NumPy
# for the values. A write's graph goes through the base (PyTorch's CopySlices), so each case
# checks the gradients of all its inputs, and second derivatives, through the rebased base.

def _zeros(lib, like, *shape):
    return lib.zeros(*shape, dtype=like.dtype, device=like.device)


# The examples of issue 15, item 6.

def _issue_row_setitem(lib, w, p):
    z = _zeros(lib, w, 2, 3)
    row = z[0]
    row[1:] = w * 3
    return z * p


def _np_issue_row_setitem(w, p):
    z = np.zeros((2, 3))
    z[0, 1:] = w * 3
    return z * p


def _issue_transpose_copy(lib, w, p):
    z = _zeros(lib, w, 2, 3)
    z.T[1][:2].copy_(w)
    return z * p


def _np_issue_transpose_copy(w, p):
    z = np.zeros((2, 3))
    z[:, 1] = w
    return z * p


def _issue_view_iadd(lib, w, p):
    z = _zeros(lib, w, 2, 3)
    z.view(6)[:2] += w  # the view's __iadd__, then __setitem__ of the view(6) with the result
    return z * p


def _issue_chain_add(lib, w, p):
    z = _zeros(lib, w, 2, 3)
    z[0][:2].add_(w)
    return z * p


def _np_first_two_of_row_0(w, p):
    z = np.zeros((2, 3))
    z[0, :2] = w
    return z * p


def _issue_nonleaf_mul(lib, a):
    b = a * 2
    b[:, 0].mul_(3)
    return b


def _issue_nonleaf_imul(lib, a):
    b = a * 2
    b[:, 0] *= 3
    return b


def _np_issue_nonleaf_mul(a):
    return a * 2 * np.array([3, 1])


def _issue_nonleaf_zero(lib, a):
    b = a * 2
    b.T[0].zero_()
    return b


def _np_issue_nonleaf_zero(a):
    return a * 2 * np.array([0, 1])


# Chains of views.

def _chain_reshape_view_transpose_slice(lib, x, w):
    b = x * 1
    b.reshape(6, 2).view(3, 4).T[1:3][:, 1].mul_(w)
    return b * x


def _np_chain_reshape_view_transpose_slice(x, w):
    b = x.copy()
    b.reshape(3, 4).T[1:3, 1] *= w
    return b * x


def _chain_permute_narrow_unsqueeze_squeeze(lib, x, u):
    b = x * 1
    b.permute(2, 0, 1).narrow(1, 1, 1).unsqueeze(0)[0, 1].squeeze(0).add_(u)
    return b.exp()


def _np_chain_permute_narrow_unsqueeze_squeeze(x, u):
    b = x.copy()
    b.transpose(2, 0, 1)[1, 1] += u
    return np.exp(b)


def _chain_squeeze_nothing_select(lib, x, w):
    b = x * 1
    b.squeeze()[0].mul_(w)  # a squeeze with nothing to squeeze is still a view
    return b * x


def _np_chain_squeeze_nothing_select(x, w):
    b = x.copy()
    b[0] *= w
    return b * x


# setitem with each kind of key, through a view (the same code runs on NumPy arrays).

def _setitem_int_through_transpose(lib, x, w):
    b = x * 1
    b.T[1] = w
    return b * b


def _setitem_slices_through_view(lib, x, w):
    b = x * 1
    b.reshape(4, 3)[1:, ::2] = w
    return b * x


def _setitem_mask_through_slice(lib, x, w, mask):
    b = x * 1
    b[1:][mask] = w * 2
    return b * x


def _setitem_int_array_through_transpose(lib, x, w, index):
    b = x * 1
    b.T[index] = w
    return b * x


def _writes_into_0d_views(lib, x, s):
    b = x * 1
    b[1][2] = s
    b[0][3] *= s
    return b * x


# Several writes into one base; views made before a write and used after it; the base read.

def _several_writes(lib, w, u, p):
    z = _zeros(lib, w, 3, 4)
    z[0][1:] = w
    z.T[0].copy_(u)
    z[1:].mul_(p[1:])
    return z * p


def _np_several_writes(w, u, p):
    z = np.zeros((3, 4))
    z[0, 1:] = w
    z[:, 0] = u
    z[1:] *= p[1:]
    return z * p


def _view_before_write(lib, x, w):
    b = x * 1
    row = b[0]
    b[:, 1].mul_(w)  # changes row[1]
    return row * x[0]


def _np_view_before_write(x, w):
    b = x.copy()
    b[:, 1] *= w
    return b[0] * x[0]


def _view_of_view_before_write(lib, x, w):
    b = x * 1
    row = b[1:][0]
    b.T[2].copy_(w)
    return row * row


def _np_view_of_view_before_write(x, w):
    b = x.copy()
    b[:, 2] = w
    return b[1] * b[1]


def _base_read_after_writes(lib, x, w):
    b = x * 1
    b[0].add_(w)
    b[1:, 2].add_(b[0, :2])  # reads the part the first write made
    return b * b


def _np_base_read_after_writes(x, w):
    b = x.copy()
    b[0] += w
    b[1:, 2] += b[0, :2]
    return b * b


def _leaf_base_view_before_write(lib, w, p):
    z = _zeros(lib, w, 2, 3)
    row = z[1]
    z.T[2].copy_(w)
    return row * p[1]


def _np_leaf_base_view_before_write(w, p):
    z = np.zeros((2, 3))
    z[:, 2] = w
    return z[1] * p[1]


def _on_numpy(case):
    """A case whose code runs as it is on NumPy arrays."""
    return lambda *args: case(np, *(a.copy() for a in args))


_WP = ((2,), (2, 3))
_MASK = np.array([[True, False, False, True], [False, True, False, False]])
# name: (backprop and PyTorch, NumPy, input shapes or (non-float) arrays)
VIEW_WRITES = {
    "issue-row-setitem": (_issue_row_setitem, _np_issue_row_setitem, _WP),
    "issue-transpose-copy_": (_issue_transpose_copy, _np_issue_transpose_copy, _WP),
    "issue-view-iadd": (_issue_view_iadd, _np_first_two_of_row_0, _WP),
    "issue-chain-add_": (_issue_chain_add, _np_first_two_of_row_0, _WP),
    "issue-nonleaf-mul_": (_issue_nonleaf_mul, _np_issue_nonleaf_mul, ((2, 2),)),
    "issue-nonleaf-imul": (_issue_nonleaf_imul, _np_issue_nonleaf_mul, ((2, 2),)),
    "issue-nonleaf-zero_": (_issue_nonleaf_zero, _np_issue_nonleaf_zero, ((2, 2),)),
    "chain-reshape-view-transpose-slice": (_chain_reshape_view_transpose_slice,
                                           _np_chain_reshape_view_transpose_slice,
                                           ((2, 3, 2), (2,))),
    "chain-permute-narrow-unsqueeze-squeeze": (_chain_permute_narrow_unsqueeze_squeeze,
                                               _np_chain_permute_narrow_unsqueeze_squeeze,
                                               ((2, 3, 2), (3,))),
    "chain-squeeze-nothing-select": (_chain_squeeze_nothing_select,
                                     _np_chain_squeeze_nothing_select, ((2, 3), (3,))),
    "setitem-int-through-transpose": (_setitem_int_through_transpose,
                                      _on_numpy(_setitem_int_through_transpose), ((3, 4), (3,))),
    "setitem-slices-through-view": (_setitem_slices_through_view,
                                    _on_numpy(_setitem_slices_through_view), ((3, 4), (3, 2))),
    "setitem-mask-through-slice": (_setitem_mask_through_slice,
                                   _on_numpy(_setitem_mask_through_slice), ((3, 4), (3,), _MASK)),
    "setitem-int-array-through-transpose": (_setitem_int_array_through_transpose,
                                            _on_numpy(_setitem_int_array_through_transpose),
                                            ((3, 4), (3,), np.array([3, 0]))),
    "writes-into-0d-views": (_writes_into_0d_views, _on_numpy(_writes_into_0d_views),
                             ((3, 4), ())),
    "several-writes": (_several_writes, _np_several_writes, ((3,), (3,), (3, 4))),
    "view-before-write": (_view_before_write, _np_view_before_write, ((3, 4), (3,))),
    "view-of-view-before-write": (_view_of_view_before_write, _np_view_of_view_before_write,
                                  ((3, 4), (3,))),
    "base-read-after-writes": (_base_read_after_writes, _np_base_read_after_writes,
                               ((3, 4), (4,))),
    "leaf-base-view-before-write": (_leaf_base_view_before_write,
                                    _np_leaf_base_view_before_write, _WP),
}


def _view_write_samples(rng):
    return [Sample(tuple(s if isinstance(s, np.ndarray) else uniform(rng, s) for s in shapes),
                   {"case": name}, name=name)
            for name, (_, _, shapes) in VIEW_WRITES.items()]


ROWS.append(OpSpec(
    "copy_slices", lambda *args, case: VIEW_WRITES[case][0](bp, *args),
    lambda *args, case: VIEW_WRITES[case][1](*args), _view_write_samples,
    torch=lambda torch, *args, case: VIEW_WRITES[case][0](torch, *args)))
