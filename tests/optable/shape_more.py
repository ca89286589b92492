"""Op-table rows for the shape ops of ``ops/shape_more.py`` (issue 17): ravel, atleast_*d, the
hstack family, fliplr/flipud and broadcast_tensors."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .shape import _errors
from .spec import OpSpec, Sample, uniform


def _one_tensor_samples(rng):
    return [Sample((uniform(rng, shape),), name=f"{len(shape)}-d")
            for shape in [(), (3,), (2, 3), (2, 1, 3)]]


def _many_samples(rng):
    """Several tensors of different ranks at once (the tuple form)."""
    return [Sample((uniform(rng, ()), uniform(rng, (3,)), uniform(rng, (2, 3))), name="mixed")]


def _stack_samples(rng):
    return [Sample((uniform(rng, (3,)), uniform(rng, (3,))), name="vectors"),
            Sample((uniform(rng, (2, 3)), uniform(rng, (2, 3))), name="matrices"),
            Sample((uniform(rng, (2, 2, 1)), uniform(rng, (2, 2, 1))), name="3-d")]


def _hstack_samples(rng):
    return _stack_samples(rng) + [Sample((uniform(rng, (2, 1)), uniform(rng, (2, 3))),
                                         name="widths")]


def _column_stack_samples(rng):
    return [Sample((uniform(rng, (3,)), uniform(rng, (3, 2))), name="vector-and-matrix"),
            Sample((uniform(rng, ()), uniform(rng, (1,))), name="scalar")]


def _atleast_row(name, ref):
    op = getattr(bp, name)
    return [OpSpec(name, op, ref, _one_tensor_samples,
                   torch=lambda torch, *xs: getattr(torch, name)(*xs)),
            OpSpec(name, op, lambda *xs: tuple(ref(x) for x in xs), _many_samples,
                   torch=lambda torch, *xs: getattr(torch, name)(*xs))]


def _list_row(name, ref, samples, **kwargs):
    return OpSpec(name, lambda *xs: getattr(bp, name)(list(xs)), lambda *xs: ref(xs), samples,
                  torch=lambda torch, *xs: getattr(torch, name)(list(xs)), **kwargs)


ROWS = [
    OpSpec("ravel", bp.ravel, np.ravel, _one_tensor_samples, torch=lambda torch, x: torch.ravel(x)),
    *_atleast_row("atleast_1d", np.atleast_1d),
    *_atleast_row("atleast_2d", np.atleast_2d),
    *_atleast_row("atleast_3d", np.atleast_3d),
    _list_row("hstack", np.hstack, _hstack_samples,
              error_inputs=_errors((lambda: bp.hstack([]), bp.ShapeError,
                                    r"hstack: expected a non-empty list of tensors"))),
    _list_row("vstack", np.vstack, _stack_samples, aliases=("row_stack",),
              error_inputs=_errors((lambda: bp.vstack(bp.ones(2)), TypeError,
                                    r"vstack: expected a list or tuple of tensors, got Tensor"))),
    _list_row("dstack", np.dstack, _stack_samples),
    _list_row("column_stack", np.column_stack, _column_stack_samples),
    OpSpec("fliplr", bp.fliplr, np.fliplr,
           lambda rng: [Sample((uniform(rng, (2, 3, 2)),), name="3-d")],
           torch=lambda torch, x: torch.fliplr(x),
           error_inputs=_errors((lambda: bp.fliplr(bp.ones(3)), bp.ShapeError,
                                 r"fliplr: the input must have at least 2 dimensions, got shape "
                                 r"\(3,\)"))),
    OpSpec("flipud", bp.flipud, np.flipud,
           lambda rng: [Sample((uniform(rng, (3,)),), name="1-d"),
                        Sample((uniform(rng, (2, 3)),), name="2-d")],
           torch=lambda torch, x: torch.flipud(x),
           error_inputs=_errors((lambda: bp.flipud(bp.tensor(1.0)), bp.ShapeError,
                                 r"flipud: the input must have at least 1 dimension"))),
    OpSpec("broadcast_tensors", bp.broadcast_tensors, np.broadcast_arrays,
           lambda rng: [Sample((uniform(rng, (2, 1)), uniform(rng, (3,)), uniform(rng, ())),
                               name="three")],
           torch=lambda torch, *xs: torch.broadcast_tensors(*xs),
           error_inputs=_errors((lambda: bp.broadcast_tensors(bp.ones(2), bp.ones(3)),
                                 bp.ShapeError,
                                 r"broadcast_shapes: shapes \(2,\), \(3,\) cannot be broadcast"))),
]


# -- select, tensor_split and the hsplit family, rot90, trace -----------------------------------

def _select_ref(x, dim, index):
    return np.take(x, index, axis=dim)


def _tensor_split_ref(x, split, dim=0):
    return np.array_split(x, split, axis=dim)


def _rot90_ref(x, k=1, dims=(0, 1)):
    return np.rot90(x, k, dims)


def _split_row(name, samples, error):
    return OpSpec(name, getattr(bp, name), getattr(np, name), samples,
                  torch=lambda torch, x, s: getattr(torch, name)(x, s), error_inputs=_errors(error))


ROWS += [
    OpSpec("select", bp.select, _select_ref,
           lambda rng: [Sample((uniform(rng, (2, 3)), 1, -1), name="neg-index"),
                        Sample((uniform(rng, (3,)), 0, 1), name="vector")],
           torch=lambda torch, x, d, i: torch.select(x, d, i),
           error_inputs=_errors((lambda: bp.ones(2, 3).select(1, 3), IndexError,
                                 r"select: index 3 is out of range for dim 1 of size 3"))),
    OpSpec("tensor_split", bp.tensor_split, _tensor_split_ref,
           lambda rng: [Sample((uniform(rng, (5, 2)), 2), name="sections"),
                        Sample((uniform(rng, (2, 5)), [1, 7, -2]), {"dim": 1}, name="indices")],
           torch=lambda torch, x, s, dim=0: torch.tensor_split(x, s, dim),
           error_inputs=_errors((lambda: bp.ones(3).tensor_split(0), ValueError,
                                 r"tensor_split: the number of sections must be positive"))),
    _split_row("hsplit", lambda rng: [Sample((uniform(rng, (2, 4)), 2), name="sections"),
                                      Sample((uniform(rng, (4,)), [1, 3]), name="indices")],
               (lambda: bp.ones(2, 3).hsplit(2), bp.ShapeError,
                r"hsplit: dim 1 of size 3 cannot be split into 2 equal sections")),
    _split_row("vsplit", lambda rng: [Sample((uniform(rng, (4, 2)), 2), name="sections"),
                                      Sample((uniform(rng, (4, 2)), [3]), name="indices")],
               (lambda: bp.ones(3).vsplit(3), bp.ShapeError,
                r"vsplit: the input must have at least 2 dimensions, got shape \(3,\)")),
    _split_row("dsplit", lambda rng: [Sample((uniform(rng, (1, 2, 4)), 2), name="sections"),
                                      Sample((uniform(rng, (1, 2, 4)), [1]), name="indices")],
               (lambda: bp.ones(2, 2).dsplit(2), bp.ShapeError,
                r"dsplit: the input must have at least 3 dimensions")),
    OpSpec("rot90", bp.rot90, _rot90_ref,
           lambda rng: [Sample((uniform(rng, (2, 3)), k), name=f"k={k}") for k in (0, 1, 2, 3, -1)]
           + [Sample((uniform(rng, (2, 3, 2)), 1, (2, 0)), name="dims")],
           torch=lambda torch, x, k=1, dims=(0, 1): torch.rot90(x, k, dims),
           error_inputs=_errors((lambda: bp.ones(2, 2).rot90(1, (0, 0)), bp.DimError,
                                 r"rot90: dims \(0, 0\) name the same dimension twice"))),
    OpSpec("trace", bp.trace, np.trace,
           lambda rng: [Sample((uniform(rng, (3, 3)),), name="square"),
                        Sample((uniform(rng, (2, 4)),), name="wide"),
                        Sample((uniform(rng, (4, 2)),), name="tall")],
           torch=lambda torch, x: torch.trace(x),
           error_inputs=_errors((lambda: bp.ones(3).trace(), bp.ShapeError,
                                 r"trace: expected a matrix, got shape \(3,\)"))),
]


def _meshgrid_samples(rng):
    vectors = (uniform(rng, (2,)), uniform(rng, (3,)), uniform(rng, ()))
    return [Sample(vectors, {"indexing": indexing}, name=indexing) for indexing in ("ij", "xy")]


ROWS.append(OpSpec(
    "meshgrid", bp.meshgrid, lambda *xs, indexing: np.meshgrid(*xs, indexing=indexing),
    _meshgrid_samples, torch=lambda torch, *xs, indexing: torch.meshgrid(*xs, indexing=indexing),
    error_inputs=_errors((lambda: bp.meshgrid(bp.ones(2, 2), indexing="ij"), bp.ShapeError,
                          r"meshgrid: expected 0-d or 1-d tensors, but tensor 0 has shape "
                          r"\(2, 2\)"),
                         (lambda: bp.meshgrid(bp.ones(2), indexing="yx"), ValueError,
                          r"meshgrid: indexing must be 'ij' or 'xy'"))))
