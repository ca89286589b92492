"""Op-table rows for linalg ops: matmul in every shape case, its strict forms, and einsum."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .spec import ErrorInput, OpSpec, Sample, uniform


def _pairs(*shapes: tuple[tuple[int, ...], tuple[int, ...]]):
    """Samples for a two-operand product, one per (left shape, right shape) pair."""

    def samples(rng: np.random.Generator) -> list[Sample]:
        return [Sample((uniform(rng, a), uniform(rng, b)), name=f"{a}x{b}") for a, b in shapes]

    return samples


def _torch_name(name: str):
    return lambda torch, *args, **kwargs: getattr(torch, name)(*args, **kwargs)


MATMUL_SHAPES = (
    ((3,), (3,)),                  # dot: a 0-d result
    ((2, 3), (3,)),                # matrix @ vector
    ((3,), (3, 2)),                # vector @ matrix
    ((2, 3), (3, 4)),              # matrix @ matrix
    ((2, 2, 3), (2, 3, 2)),        # batched
    ((2, 2, 3), (3, 2)),           # batched @ matrix (batch broadcast)
    ((2, 3), (2, 3, 2)),           # matrix @ batched
    ((2, 1, 2, 3), (3, 3, 2)),     # batch dims (2, 1) and (3,) broadcast to (2, 3)
    ((3,), (2, 3, 2)),             # vector @ batched
    ((2, 2, 3), (3,)),             # batched @ vector
    ((1, 2, 3), (2, 1, 3, 2)),     # size-1 batch dims on both sides
)


def _ones(*shape: int) -> bp.Tensor:
    return bp.ones(*shape, dtype=bp.float64)


def _matmul_errors() -> list[ErrorInput]:
    return [
        ErrorInput(lambda: bp.matmul(_ones(32, 784), _ones(100, 10)), bp.ShapeError,
                   r"^matmul: cannot multiply \(32, 784\) by \(100, 10\): inner sizes 784 and "
                   r"100 differ$"),
        ErrorInput(lambda: _ones(3) @ _ones(4, 2), bp.ShapeError,
                   r"matmul: cannot multiply \(3,\) by \(4, 2\): inner sizes 3 and 4 differ"),
        ErrorInput(lambda: _ones(2, 3) @ _ones(4), bp.ShapeError,
                   r"matmul: cannot multiply \(2, 3\) by \(4,\): inner sizes 3 and 4 differ"),
        ErrorInput(lambda: bp.matmul(bp.tensor(2.0), _ones(3)), bp.ShapeError,
                   r"matmul: both arguments must be at least 1-D, got shapes \(\) and \(3,\)"),
        ErrorInput(lambda: _ones(3) @ bp.tensor(2.0), RuntimeError,
                   r"matmul: both arguments must be at least 1-D"),
        ErrorInput(lambda: _ones(2, 2, 3) @ _ones(3, 3, 2), bp.ShapeError,
                   r"matmul: cannot broadcast the batch dimensions \(2,\) of \(2, 2, 3\) and "
                   r"\(3,\) of \(3, 3, 2\)"),
    ]


def _mm_errors() -> list[ErrorInput]:
    return [
        ErrorInput(lambda: bp.mm(_ones(3), _ones(3, 2)), bp.ShapeError,
                   r"mm: input must be a 2-D tensor, got shape \(3,\) \(1-D\)"),
        ErrorInput(lambda: bp.mm(_ones(2, 3), _ones(2, 3, 2)), bp.ShapeError,
                   r"mm: mat2 must be a 2-D tensor, got shape \(2, 3, 2\)"),
        ErrorInput(lambda: bp.mm(_ones(2, 3), _ones(4, 2)), bp.ShapeError,
                   r"mm: cannot multiply \(2, 3\) by \(4, 2\): inner sizes 3 and 4 differ"),
    ]


def _bmm_errors() -> list[ErrorInput]:
    return [
        ErrorInput(lambda: bp.bmm(_ones(2, 2, 3), _ones(3, 3, 2)), bp.ShapeError,
                   r"bmm: batch sizes 2 and 3 differ \(input \(2, 2, 3\), mat2 \(3, 3, 2\)\)"),
        ErrorInput(lambda: bp.bmm(_ones(2, 3), _ones(3, 2)), bp.ShapeError,
                   r"bmm: input must be a 3-D tensor, got shape \(2, 3\)"),
        ErrorInput(lambda: bp.bmm(_ones(2, 2, 3), _ones(2, 4, 2)), bp.ShapeError,
                   r"bmm: cannot multiply \(2, 2, 3\) by \(2, 4, 2\): inner sizes 3 and 4"),
    ]


def _mv_errors() -> list[ErrorInput]:
    return [
        ErrorInput(lambda: bp.mv(_ones(2, 3), _ones(3, 1)), bp.ShapeError,
                   r"mv: vec must be a 1-D tensor, got shape \(3, 1\)"),
        ErrorInput(lambda: bp.mv(_ones(3), _ones(3)), bp.ShapeError,
                   r"mv: input must be a 2-D tensor"),
        ErrorInput(lambda: bp.mv(_ones(2, 3), _ones(2)), bp.ShapeError,
                   r"mv: cannot multiply \(2, 3\) by \(2,\): inner sizes 3 and 2 differ"),
    ]


def _dot_errors() -> list[ErrorInput]:
    return [
        ErrorInput(lambda: bp.dot(_ones(2, 2), _ones(2, 2)), bp.ShapeError,
                   r"dot: expected 1-D tensors, got shapes \(2, 2\) and \(2, 2\)"),
        ErrorInput(lambda: bp.dot(_ones(2), _ones(3)), bp.ShapeError,
                   r"dot: sizes 2 and 3 differ"),
    ]


def _outer_errors() -> list[ErrorInput]:
    return [ErrorInput(lambda: bp.outer(_ones(2, 2), _ones(3)), bp.ShapeError,
                       r"outer: input must be a 1-D tensor, got shape \(2, 2\)"),
            ErrorInput(lambda: bp.ger(_ones(2), bp.tensor(1.0)), bp.ShapeError,
                       r"outer: vec2 must be a 1-D tensor, got shape \(\)")]


def _inner_errors() -> list[ErrorInput]:
    return [ErrorInput(lambda: bp.inner(_ones(2, 3), _ones(3, 2)), bp.ShapeError,
                       r"inner: cannot multiply \(2, 3\) by \(3, 2\): last dimensions 3 and 2")]


# -- einsum -------------------------------------------------------------------------------------

EINSUM_CASES = (
    ("matrix-product", "ij,jk->ik", (2, 3), (3, 4)),
    ("batched", "bij,bjk->bik", (2, 2, 3), (2, 3, 2)),
    ("transpose", "ij->ji", (2, 3)),
    ("trace", "ii->", (3, 3)),
    ("diagonal", "ii->i", (3, 3)),
    ("sum", "ij->", (2, 3)),
    ("row-sum", "ij->i", (2, 3)),
    ("outer", "i,j->ij", (2,), (3,)),
    ("bilinear", "bi,ij,bj->b", (2, 3), (3, 4), (2, 4)),
    ("implicit", "ij,jk", (2, 3), (3, 4)),
    ("implicit-trace", "ii", (3, 3)),
    ("implicit-order", "xB,ax", (2, 3), (4, 2)),
    ("ellipsis", "...ij,...jk->...ik", (2, 1, 2, 3), (3, 3, 2)),
    ("ellipsis-implicit", "...ij,jk", (2, 2, 3), (3, 2)),
    ("ellipsis-summed", "...i,...i->", (2, 3), (3,)),
    ("attention", "bhqd,bhkd->bhqk", (1, 2, 2, 3), (1, 2, 3, 3)),
    ("rowwise-dot", "ij,ij->i", (2, 3), (2, 3)),
    ("broadcast-label", "ij,ij->ij", (1, 3), (2, 3)),
    # A label of size 1 in one operand broadcast against the other's (issue 15): each operand's
    # gradient must come back in its own size, summed (size 1) or spread (the larger one).
    ("issue-einsum-size-1-operand", "ij,j->i", (2, 3), (1,)),
    ("size-1-in-the-larger", "ij,j->i", (2, 1), (3,)),
    ("size-1-both-ways", "ij,ij->ij", (1, 3), (2, 1)),
    ("size-1-contracted", "ij,jk->ik", (2, 3), (1, 4)),
    ("size-1-batch", "bij,bjk->bik", (1, 2, 3), (2, 3, 2)),
    ("size-1-ellipsis", "...ij,...jk", (2, 1, 3), (1, 3, 2)),
    ("size-1-diagonal", "ii,i->i", (1, 1), (3,)),
    ("diagonal-with-batch", "bii->bi", (2, 3, 3)),
    ("repeat-and-lone", "iij,k->jk", (2, 2, 3), (2,)),
    ("triple-repeat", "iii->i", (2, 2, 2)),
    ("scalar-times", ",ij->ij", (), (2, 3)),
    ("spaces", " ij , jk -> ik ", (2, 3), (3, 2)),
)


# NumPy refuses to sum over '...' dims that the output leaves out; these are written by hand.
_EINSUM_REFS = {"...i,...i->": lambda a, b: (a * b).sum()}


def _einsum_ref(equation: str, *operands: np.ndarray) -> np.ndarray:
    if equation in _EINSUM_REFS:
        return _EINSUM_REFS[equation](*operands)
    return np.einsum(equation, *operands)


def _einsum_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((equation,) + tuple(uniform(rng, s) for s in shapes), name=name)
            for name, equation, *shapes in EINSUM_CASES]


def _einsum_list_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample(("ij,jk->ik", uniform(rng, (2, 3)), uniform(rng, (3, 2))), name="list")]


def _einsum_errors() -> list[ErrorInput]:
    return [
        ErrorInput(lambda: bp.einsum("ij,jk->ik", _ones(2, 3)), ValueError,
                   r"einsum: the equation 'ij,jk->ik' has subscripts for 2 operands but 1 was "
                   r"given"),
        ErrorInput(lambda: bp.einsum("ij->ij", _ones(2, 3), _ones(3)), ValueError,
                   r"einsum: .* has subscripts for 1 operand but 2 were given"),
        ErrorInput(lambda: bp.einsum("ij,jk->ik", _ones(2, 3), _ones(3, 4, 5)), bp.ShapeError,
                   r"einsum: operand 1 has shape \(3, 4, 5\) \(3 dims\) but its subscripts 'jk' "
                   r"name 2; add '...'"),
        ErrorInput(lambda: bp.einsum("ijk->i", _ones(2, 3)), bp.ShapeError,
                   r"einsum: operand 0 has shape \(2, 3\) \(2 dims\) but its subscripts 'ijk' "
                   r"name 3"),
        ErrorInput(lambda: bp.einsum("...ijk->i", _ones(2, 3)), bp.ShapeError,
                   r"einsum: operand 0 has shape \(2, 3\) .* name 3 dims besides '...'"),
        ErrorInput(lambda: bp.einsum("ij,jk->ik", _ones(2, 3), _ones(4, 5)), bp.ShapeError,
                   r"einsum: subscript 'j' has size 3 in operand 0 but size 4 in operand 1"),
        ErrorInput(lambda: bp.einsum("ii->i", _ones(2, 3)), bp.ShapeError,
                   r"einsum: subscript 'i' is repeated in operand 0 \(shape \(2, 3\)\) with "
                   r"sizes 2 and 3"),
        ErrorInput(lambda: bp.einsum("ij->k", _ones(2, 3)), ValueError,
                   r"einsum: output subscript 'k' of 'ij->k' appears in no operand"),
        ErrorInput(lambda: bp.einsum("ij->ii", _ones(2, 2)), ValueError,
                   r"einsum: output subscript 'i' appears more than once"),
        ErrorInput(lambda: bp.einsum("i1->i", _ones(2, 3)), ValueError,
                   r"einsum: invalid subscript '1'"),
        ErrorInput(lambda: bp.einsum("ij->...", _ones(2, 3)), ValueError,
                   r"einsum: the output of 'ij->...' has '...' but no operand does"),
        ErrorInput(lambda: bp.einsum(_ones(2), _ones(2)), TypeError,
                   r"einsum: the equation must be a string"),
    ]


# The swap of the last two dims is private (matmul's VJPs use it); this row exercises it.
ROWS = [
    OpSpec("matmul", bp.matmul, np.matmul, _pairs(*MATMUL_SHAPES), torch=_torch_name("matmul"),
           error_inputs=_matmul_errors),
    OpSpec("matmul", lambda a, b: a @ b, np.matmul,
           _pairs(((2, 3), (3,)), ((3,), (3, 2)), ((2, 1, 2, 3), (3, 3, 2))),
           torch=lambda torch, a, b: a @ b, aliases=("__matmul__",)),
    # ndarray @ Tensor: NumPy defers to Tensor.__rmatmul__ (Tensor sets __array_ufunc__ = None).
    OpSpec("matmul", lambda a, b: a.detach().numpy() @ b, np.matmul,
           lambda rng: [Sample(s.args, grad_args=(1,), name=s.name)
                        for s in _pairs(((2, 3), (3, 2)), ((3,), (2, 3, 2)))(rng)],
           torch=lambda torch, a, b: a @ b, aliases=("__rmatmul__",)),
    OpSpec("mm", bp.mm, np.matmul, _pairs(((2, 3), (3, 4)), ((1, 3), (3, 1))),
           torch=_torch_name("mm"), error_inputs=_mm_errors),
    OpSpec("bmm", bp.bmm, np.matmul, _pairs(((2, 2, 3), (2, 3, 4)), ((1, 3, 2), (1, 2, 3))),
           torch=_torch_name("bmm"), error_inputs=_bmm_errors),
    OpSpec("mv", bp.mv, np.matmul, _pairs(((2, 3), (3,)), ((1, 4), (4,))),
           torch=_torch_name("mv"), error_inputs=_mv_errors),
    OpSpec("dot", bp.dot, np.dot, _pairs(((3,), (3,)), ((1,), (1,))),
           torch=_torch_name("dot"), error_inputs=_dot_errors),
    OpSpec("outer", bp.outer, np.outer, _pairs(((2,), (3,)), ((1,), (4,))),
           torch=_torch_name("outer"), aliases=("ger",), error_inputs=_outer_errors),
    OpSpec("inner", bp.inner, np.inner,
           _pairs(((3,), (3,)), ((2, 3), (3,)), ((2, 3), (4, 3)), ((2, 1, 3), (2, 3)),
                  ((), (2, 3)), ((2, 3), ())),
           torch=_torch_name("inner"), error_inputs=_inner_errors),
    OpSpec("einsum", bp.einsum, _einsum_ref, _einsum_samples, torch=_torch_name("einsum"),
           error_inputs=_einsum_errors),
    OpSpec("einsum", lambda eq, a, b: bp.einsum(eq, [a, b]), np.einsum, _einsum_list_samples,
           torch=lambda torch, eq, a, b: torch.einsum(eq, [a, b])),
]
