"""Op-table rows for joining and splitting: narrow, split, chunk, unbind, cat and stack."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .shape import _errors, _one, _x25, _x34
from .spec import OpSpec, Sample, uniform


# -- NumPy references ---------------------------------------------------------------------------

def _split_sizes(n, size):
    return [size] * (n // size) + ([n % size] if n % size else [])


def _split_ref(x, sizes, dim=0):
    if isinstance(sizes, int):
        sizes = _split_sizes(x.shape[dim], sizes)
    return np.split(x, np.cumsum(sizes)[:-1], axis=dim)


def _chunk_ref(x, chunks, dim=0):
    return _split_ref(x, -(-x.shape[dim] // chunks), dim)


def _unbind_ref(x, dim=0):
    return list(np.moveaxis(x, dim, 0))


def _cat_ref(*xs, dim=0):
    kept = [x for x in xs if x.shape != (0,)]  # PyTorch skips legacy 1-d empty tensors
    return np.concatenate(kept, axis=dim)


def _stack_ref(*xs, dim=0):
    return np.stack(xs, axis=dim)


def _narrow_ref(x, dim, start, length):
    start %= x.shape[dim] + 1 if start >= 0 else x.shape[dim]
    return np.take(x, range(start, start + length), axis=dim)


# -- samples ------------------------------------------------------------------------------------

def _narrow_samples(rng):
    x = uniform(rng, (3, 4))
    return [Sample((x, 1, 1, 2), name="middle"), Sample((x, 0, -2, 2), name="neg-start"),
            Sample((x, -1, 0, 4), name="all")]


def _split_samples(rng):
    return [Sample((uniform(rng, (5, 2)), 2), name="size"),
            Sample((uniform(rng, (5, 2)), [1, 4]), name="sections"),
            Sample((uniform(rng, (2, 5)), 3), {"dim": 1}, name="dim")]


def _chunk_samples(rng):
    return [Sample((uniform(rng, (5, 2)), 3), name="uneven"),
            Sample((uniform(rng, (6,)), 4), name="fewer"),
            Sample((uniform(rng, (2, 5)), 2), {"dim": -1}, name="dim")]


def _unbind_samples(rng):
    return [Sample((uniform(rng, (2, 3)),), name="rows"),
            Sample((uniform(rng, (2, 3)), 1), name="cols"),
            Sample((uniform(rng, (2, 3, 2)), -1), name="neg")]


def _split_copy_samples(rng):
    return [Sample((uniform(rng, (5, 2)), [1, 4]), name="rows"),
            Sample((uniform(rng, (2, 6)), [3, 0, 2, 1]), {"dim": -1}, name="cols-empty-piece"),
            Sample((uniform(rng, (4, 3)), [4]), name="one")]


def _cat_samples(rng):
    return [Sample((uniform(rng, (2, 3)), uniform(rng, (1, 3))), name="rows"),
            Sample((uniform(rng, (2, 3)), uniform(rng, (2, 1)), uniform(rng, (2, 2))),
                   {"dim": -1}, name="three-neg-dim"),
            Sample((uniform(rng, (3,)),), name="single")]


def _stack_samples(rng):
    return [Sample((uniform(rng, (2, 3)), uniform(rng, (2, 3))), name="front"),
            Sample((uniform(rng, (3,)), uniform(rng, (3,)), uniform(rng, (3,))), {"dim": -1},
                   name="neg-dim"),
            Sample((uniform(rng, (2,)), uniform(rng, (2,))), {"dim": 1}, name="end")]


# -- the rows -----------------------------------------------------------------------------------

ROWS = [
    OpSpec("narrow", bp.narrow, _narrow_ref, _narrow_samples,
           torch=lambda torch, x, d, s, n: torch.narrow(x, d, s, n),
           error_inputs=_errors(
               (lambda: bp.ones(2, 3).narrow(1, 2, 2), bp.ShapeError,
                r"narrow: start \(2\) \+ length \(2\) must lie within dim 1 of size 3"),
               (lambda: bp.ones(2, 3).narrow(1, -4, 1), bp.DimError,
                r"narrow: start -4 is out of range for dim 1 of size 3"))),
    OpSpec("split", bp.split, _split_ref, _split_samples,
           torch=lambda torch, x, s, dim=0: torch.split(x, s, dim),
           error_inputs=_errors(
               (lambda: bp.split(bp.ones(4, 2), [1, 2]), bp.ShapeError,
                r"split: split sizes \[1, 2\] must be non-negative and sum to 4, the size of dim 0 "
                r"of a tensor of shape \(4, 2\)"),
               (lambda: bp.split(bp.ones(4), 0), bp.ShapeError,
                r"split: split_size must be positive .* got 0"),
               (lambda: bp.split(bp.ones(4), 2, dim=1), bp.DimError, r"split: dim 1 is out"))),
    OpSpec("chunk", bp.chunk, _chunk_ref, _chunk_samples,
           torch=lambda torch, x, c, dim=0: torch.chunk(x, c, dim),
           error_inputs=_errors((lambda: bp.chunk(bp.ones(4), 0), ValueError,
                                 r"chunk: chunks must be positive, got 0"))),
    OpSpec("unbind", bp.unbind, _unbind_ref, _unbind_samples,
           torch=lambda torch, x, *a: torch.unbind(x, *a),
           error_inputs=_errors(
               (lambda: bp.ones(2).unbind(1), bp.DimError, r"unbind: dim 1 is out of range"),
               (lambda: bp.tensor(1.0).unbind(), bp.DimError,
                r"unbind: cannot be applied to a 0-d tensor"))),
    OpSpec("split_with_sizes_copy", bp.split_with_sizes_copy, _split_ref, _split_copy_samples,
           torch=lambda torch, x, s, dim=0: torch.split_with_sizes_copy(x, s, dim),
           error_inputs=_errors(
               (lambda: bp.split_with_sizes_copy(bp.ones(4, 2), [1, 2]), bp.ShapeError,
                r"split_with_sizes_copy: split_sizes \[1, 2\] must be non-negative and sum to 4"),
               (lambda: bp.split_with_sizes_copy(bp.ones(4), [4], dim=1), bp.DimError,
                r"split_with_sizes_copy: dim 1 is out"))),
    OpSpec("cat", lambda *xs, dim=0: bp.cat(xs, dim), _cat_ref, _cat_samples,
           torch=lambda torch, *xs, dim=0: torch.cat(xs, dim), aliases=("concat", "concatenate"),
           error_inputs=_errors(
               (lambda: bp.cat([]), bp.ShapeError, r"cat: expected a non-empty list of tensors"),
               (lambda: bp.cat([bp.ones(2, 3), bp.ones(2, 3), bp.ones(2, 4)]), bp.ShapeError,
                r"cat: tensor 2 has shape \(2, 4\) but tensor 0 has shape \(2, 3\): sizes must "
                r"match except in dim 0 \(they differ in dim 1\)"),
               (lambda: bp.cat([bp.ones(2, 3), bp.ones(3)]), bp.ShapeError,
                r"cat: tensor 1 has shape \(3,\) but tensor 0 has shape \(2, 3\): all tensors "
                r"need the same number of dimensions"),
               (lambda: bp.cat([bp.tensor(1.0), bp.tensor(2.0)]), bp.ShapeError,
                r"cat: tensor 0 is zero-dimensional"),
               (lambda: bp.cat([bp.ones(2), bp.ones(2)], dim=1), bp.DimError,
                r"cat: dim 1 is out of range"),
               (lambda: bp.cat(bp.ones(2)), TypeError, r"cat: expected a list or tuple"))),
    OpSpec("stack", lambda *xs, dim=0: bp.stack(xs, dim), _stack_ref, _stack_samples,
           torch=lambda torch, *xs, dim=0: torch.stack(xs, dim),
           error_inputs=_errors(
               (lambda: bp.stack([]), bp.ShapeError, r"stack: expected a non-empty list"),
               (lambda: bp.stack([bp.ones(2, 3), bp.ones(2, 4)]), bp.ShapeError,
                r"stack: tensor 1 has shape \(2, 4\) but tensor 0 has shape \(2, 3\): all tensors "
                r"must have the same shape"),
               (lambda: bp.stack([bp.ones(2)], dim=2), bp.DimError,
                r"stack: dim 2 is out of range for a tensor with 1 dimension "
                r"\(expected a value in \[-2, 1\]\)"))),
    # Zero-size results. No gradgrad: gradgradcheck refuses an empty grad_output ("inputs must
    # be contiguous", since np.shares_memory is False for empty arrays).
    OpSpec("narrow", bp.narrow, _narrow_ref, _one(Sample((_x34, 0, 1, 0), name="empty")),
           torch=lambda torch, x, d, s, n: torch.narrow(x, d, s, n), gradgrad=False),
    OpSpec("split", bp.split, _split_ref,
           _one(Sample((_x25, [2, 0, 3]), {"dim": -1}, name="zero-piece")),
           torch=lambda torch, x, s, dim=0: torch.split(x, s, dim), gradgrad=False),
    OpSpec("cat", lambda *xs, dim=0: bp.cat(xs, dim), _cat_ref,
           _one(Sample((_x25, np.zeros((0,))), grad_args=(0,), name="legacy-empty")),
           torch=lambda torch, *xs, dim=0: torch.cat(xs, dim), gradgrad=False),
]
