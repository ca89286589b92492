"""Op-table rows for ``backprop.ops.complex_ops``.

The table's tests differentiate real functions of real arrays, so each complex op is checked
inside one: its complex input is made of a real (..., 2) array (``view_as_complex``), and its
complex result is read back as one (``view_as_real``).
"""

from __future__ import annotations

import numpy as np

import backprop as bp

from .spec import ErrorInput, OpSpec, Sample, positive, uniform


def _pairs(rng: np.random.Generator) -> list[Sample]:
    """Complex numbers as (..., 2) real arrays."""
    return [Sample((uniform(rng, s + (2,)),), name=str(s)) for s in ((), (3,), (2, 3))]


def _np_complex(x: np.ndarray) -> np.ndarray:
    return x[..., 0] + 1j * x[..., 1]


def _np_real(z: np.ndarray) -> np.ndarray:
    return np.stack([z.real, z.imag], axis=-1)


def _complex_unary(name: str, ours, ref, torch) -> OpSpec:
    """A row for an op on complex numbers, given as (..., 2) arrays in and out."""
    return OpSpec(name=name,
                  op=lambda x: bp.view_as_real(ours(bp.view_as_complex(x))),
                  ref=lambda x: _np_real(ref(_np_complex(x))),
                  torch=lambda t, x: t.view_as_real(torch(t, t.view_as_complex(x)).resolve_conj()),
                  samples=_pairs)


def _square_complex(bp_or_torch, x):
    z = bp_or_torch.view_as_complex(x)
    return z * z


def _angle_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((uniform(rng, (3, 2), 0.3, 2.0) * np.array([1.0, -1.0]),), name="complex")]


def _parts(rng: np.random.Generator) -> list[Sample]:
    return [Sample((uniform(rng, (2, 3)), uniform(rng, (2, 3))), name="(2, 3)"),
            Sample((uniform(rng, (3,)), uniform(rng, (2, 3))), name="broadcast")]


def _polar_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((positive(rng, (2, 3)), uniform(rng, (2, 3), -3.0, 3.0)), name="(2, 3)")]


def _errors() -> list[ErrorInput]:
    return [
        ErrorInput(lambda: bp.imag(bp.ones(2)), bp.errors.DTypeError, "imag: expected a complex"),
        ErrorInput(lambda: bp.view_as_real(bp.ones(2)), bp.errors.DTypeError,
                   "view_as_real: expected a complex"),
        ErrorInput(lambda: bp.view_as_complex(bp.ones(2, 3)), bp.errors.ShapeError,
                   "view_as_complex: the last dimension must have size 2"),
        ErrorInput(lambda: bp.polar(bp.ones(2), bp.ones(2, dtype=bp.float64)),
                   bp.errors.DTypeError, "polar: expected abs and angle of one dtype"),
    ]


def _matrices(rng: np.random.Generator) -> list[Sample]:
    """Matrices with distinct eigenvalues (a rotation's complex pair among them), where the
    eigenvalues are smooth functions of the entries."""
    rotation = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
    return [Sample((np.diag([1.0, 2.0, 3.5]) + 0.2 * uniform(rng, (3, 3)),), name="real"),
            Sample((rotation + 0.1 * uniform(rng, (3, 3)),), name="complex-pair"),
            Sample((np.diag([1.0, -1.0]) + 0.2 * uniform(rng, (2, 2, 2)),), name="batch")]


def _eig_invariant(module, a):
    """A function of eig's results that does not depend on each eigenvector's phase (which
    PyTorch leaves undefined): |V_ij|^2 weighted by the eigenvalues' real and imaginary parts."""
    values, vectors = module.linalg.eig(a)
    weights = vectors.abs() ** 2
    return module.stack([(weights * values.real.unsqueeze(-2)).sum(-1),
                         (weights * values.imag.unsqueeze(-2)).sum(-1)])


def _np_eig_invariant(a):
    values, vectors = np.linalg.eig(a)
    weights = np.abs(vectors) ** 2
    return np.stack([(weights * values.real[..., None, :]).sum(-1),
                     (weights * values.imag[..., None, :]).sum(-1)])


def _eig_errors() -> list[ErrorInput]:
    return [ErrorInput(lambda: bp.linalg.eig(bp.ones(2, 3)), bp.errors.ShapeError,
                       "linalg.eig: A must be batches of square matrices"),
            ErrorInput(lambda: bp.linalg.eigvals(bp.tensor([[np.nan]])), ValueError,
                       "linalg.eig: input tensor should not contain infs or NaNs")]


ROWS: list[OpSpec] = [
    OpSpec(name="linalg.eigvals", op=lambda a: bp.view_as_real(bp.linalg.eigvals(a)),
           ref=lambda a: _np_real(np.linalg.eigvals(a).astype(complex)),
           torch=lambda t, a: t.view_as_real(t.linalg.eigvals(a)), samples=_matrices,
           error_inputs=_eig_errors),
    OpSpec(name="linalg.eig", op=lambda a: _eig_invariant(bp, a),
           ref=_np_eig_invariant, torch=_eig_invariant, samples=_matrices),
    _complex_unary("conj", bp.conj, np.conj, lambda t, z: t.conj(z)),
    _complex_unary("conj_physical", bp.conj_physical, np.conj, lambda t, z: t.conj_physical(z)),
    _complex_unary("resolve_conj", lambda z: bp.resolve_conj(bp.conj(z)), np.conj,
                   lambda t, z: t.resolve_conj(t.conj(z))),
    _complex_unary("resolve_neg", lambda z: bp.resolve_neg(-z), np.negative,
                   lambda t, z: t.resolve_neg(-z)),
    OpSpec(name="angle", op=lambda x: bp.angle(bp.view_as_complex(x)),
           ref=lambda x: np.angle(_np_complex(x)),
           torch=lambda t, x: t.angle(t.view_as_complex(x)), samples=_angle_samples,
           error_inputs=_errors),
    OpSpec(name="complex", aliases=("real", "imag"),
           op=lambda a, b: bp.stack([bp.real(bp.complex(a, b) ** 2),
                                     bp.imag(bp.complex(a, b) * 3)]),
           ref=lambda a, b: np.stack([((a + 1j * b) ** 2).real,
                                      np.broadcast_to((3 * (a + 1j * b)).imag,
                                                      np.broadcast_shapes(a.shape, b.shape))]),
           torch=lambda t, a, b: t.stack([t.real(t.complex(a, b) ** 2),
                                          t.imag(t.complex(a, b) * 3)]),
           samples=_parts),
    OpSpec(name="polar", op=lambda a, b: bp.view_as_real(bp.polar(a, b)),
           ref=lambda a, b: _np_real(a * np.exp(1j * b)),
           torch=lambda t, a, b: t.view_as_real(t.polar(a, b)), samples=_polar_samples),
    OpSpec(name="view_as_real", op=lambda x: bp.view_as_real(_square_complex(bp, x)),
           ref=lambda x: _np_real(_np_complex(x) ** 2),
           torch=lambda t, x: t.view_as_real(_square_complex(t, x)), samples=_pairs),
    OpSpec(name="view_as_complex", op=lambda x: bp.real(bp.view_as_complex(x) * (1 + 2j)),
           ref=lambda x: (_np_complex(x) * (1 + 2j)).real,
           torch=lambda t, x: t.real(t.view_as_complex(x) * (1 + 2j)), samples=_pairs),
]
