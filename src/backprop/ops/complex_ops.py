"""Complex numbers' ops (issue 17): real, imag, conj, angle, polar, complex, view_as_real and
view_as_complex.

Gradients follow PyTorch's convention for complex numbers: for a real loss L of z = x + iy,
the gradient is ``dL/dx + i dL/dy`` (twice the conjugate Wirtinger derivative). A rule gets
``g`` in that convention and returns ``conj(df/dz) * g`` for a holomorphic f (``mul``'s input
gets ``g * conj(other)``); a real input's gradient is the real part of what its rule returns
(the engine takes it, as PyTorch does).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..backend import contiguous, empty, xp_of
from ..errors import DTypeError, ShapeError, format_shape
from ..tensor import Tensor
from .conjugation import conj_physical, conjugate_if_complex
from .elementwise import cos, sign, sin, where
from .primitive import primitive
from .shape import _transpose

COMPLEX64, COMPLEX128 = np.dtype(np.complex64), np.dtype(np.complex128)
_REAL_OF = {np.dtype(np.complex64): np.dtype(np.float32),
            np.dtype(np.complex128): np.dtype(np.float64)}
_COMPLEX_OF = {np.dtype(np.float32): np.dtype(np.complex64),
               np.dtype(np.float64): np.dtype(np.complex128)}


def _require_complex(op: str, input: Any) -> None:
    if input.dtype.kind != "c":
        raise DTypeError(f"{op}: expected a complex tensor, got a {format_shape(input.shape)} "
                         f"{input.dtype} tensor; {op} is not implemented for real dtypes, as "
                         "in PyTorch")


# The real part's gradient is real; the engine makes it the complex input's (imaginary part 0).
@primitive("real", view=True, grads={"input": lambda g, out, input: g})
def _real(input: Any) -> Any:
    return input.real


def real(input: Any) -> Any:
    """The real part of a complex tensor (a view); a real tensor itself (the same object, as
    in PyTorch: no view to record).

    >>> import backprop as bp
    >>> bp.real(bp.tensor([1 + 2j, 3 - 1j])).tolist()
    [1.0, 3.0]
    >>> x = bp.ones(2); bp.real(x) is x
    True
    """
    if isinstance(input, Tensor) and input._data.dtype.kind != "c":
        return input
    return _real(input)


# d Im(z)/dy = 1: the gradient dL/dx + i dL/dy is i g.
@primitive(view=True, grads={"input": lambda g, out, input: g * 1j})
def imag(input: Any) -> Any:
    """The imaginary part of a complex tensor (a view); real tensors have none.

    >>> import backprop as bp
    >>> bp.imag(bp.tensor([1 + 2j, 3 - 1j])).tolist()
    [2.0, -1.0]
    """
    _require_complex("imag", input)
    return input.imag


def conj(input: Tensor) -> Tensor:
    """The complex conjugate; a real tensor itself (PyTorch marks a lazy conjugate; ours is
    computed at once).

    >>> import backprop as bp
    >>> bp.conj(bp.tensor([1 + 2j, 3 - 1j])).tolist()
    [(1-2j), (3+1j)]
    """
    return conj_physical(input) if input.dtype.kind == "c" else input


def conj_physical_(input: Tensor) -> Tensor:
    """``input.conj_physical_()``: conjugated in place; a real tensor unchanged.

    >>> import backprop as bp
    >>> bp.tensor([1 + 2j]).conj_physical_().tolist()
    [(1-2j)]
    """
    return input.copy_(conj_physical(input)) if is_complex(input) else input


def is_complex(input: Tensor) -> bool:
    """``input.is_complex()``: whether its dtype is complex64 or complex128.

    >>> import backprop as bp
    >>> bp.tensor([1j]).is_complex(), bp.ones(1).is_complex()
    (True, False)
    """
    return input.dtype.kind == "c"


def resolve_conj(input: Tensor) -> Tensor:
    """``input`` with its lazy conjugation carried out: backprop conjugates at once, so the
    tensor itself.

    >>> import backprop as bp
    >>> x = bp.tensor([1 + 2j])
    >>> bp.resolve_conj(x) is x
    True
    """
    return input


def resolve_neg(input: Tensor) -> Tensor:
    """``input`` with its lazy negation carried out: backprop negates at once, so the tensor
    itself.

    >>> import backprop as bp
    >>> x = bp.tensor([1.0])
    >>> bp.resolve_neg(x) is x
    True
    """
    return input


def _angle_grad(g: Any, out: Any, input: Any) -> Any:
    # Real inputs: angle is piecewise constant (0 or pi), its gradient zero. Complex ones:
    # d atan2(y, x) = (-y dx + x dy) / |z|^2, so the gradient is g * i z / |z|^2 (0 at z = 0).
    if input.dtype.kind != "c":
        return g * 0
    size = real(input) * real(input) + imag(input) * imag(input)
    return where(size == 0, 0.0, g * input * 1j / where(size == 0, 1.0, size))


@primitive(save=("input",), grads={"input": _angle_grad})
def angle(input: Any) -> Any:
    """The argument of each complex number, in (-pi, pi]; for real numbers 0, or pi where
    negative (NaN stays NaN).

    >>> import backprop as bp
    >>> bp.angle(bp.tensor([1j, -1 + 0j])).tolist()
    [1.5707963267948966, 3.141592653589793]
    """
    if input.dtype.kind == "c":
        return np.angle(input)
    if input.dtype.kind in "biu":
        input = input.astype(np.float32)
    # PyTorch's angle of a real number: pi below zero, 0 at or above it (-0.0 too), NaN kept.
    return np.where(input < 0, np.pi, np.where(np.isnan(input), input, 0.0)).astype(input.dtype)


@angle.kernel(np.ndarray)
def _angle_real(input: Any) -> Any:
    # Real floats without np.where's branch per element: pi times (x < 0), nan copied in where
    # there is one (NumPy arrays: the test reads the array on the host).
    if input.dtype.kind not in "fV" or input.ndim == 0:  # (NumPy makes scalars of 0-d arrays)
        return None
    out = np.less(input, 0).astype(input.dtype)
    out *= input.dtype.type(np.pi)
    nan = np.isnan(input)
    if nan.any():
        np.copyto(out, input, where=nan)
    return out


def _check_parts(op: str, first: str, a: Any, second: str, b: Any) -> None:
    if a.dtype != b.dtype or a.dtype not in _COMPLEX_OF:
        raise DTypeError(f"{op}: expected {first} and {second} of one dtype, float32 or float64, "
                         f"got {a.dtype} and {b.dtype}")


def _polar_grads(g: Any, out: Any, abs: Any, angle: Any, needs: tuple[bool, ...]) -> list[Any]:
    # out = abs e^{i angle}: d out/d angle = i out, and a real input's gradient is
    # Re(conj(d out/d input) g). For abs PyTorch takes sgn(out) for d out/d abs, which is
    # e^{i angle} where abs > 0 (0 where abs == 0, -e^{i angle} where abs < 0): as PyTorch.
    # sgn(out) = sign(abs) e^{i angle}, written so that its derivative in angle is kept.
    g_real, g_imag = real(g), imag(g)
    grad_abs = None
    if needs[0]:
        grad_abs = (g_real * cos(angle) + g_imag * sin(angle)) * sign(abs)
    return [grad_abs, (g_imag * real(out) - g_real * imag(out)) if needs[1] else None]


@primitive(save=("abs", "angle", "out"), grads=_polar_grads)
def polar(abs: Any, angle: Any) -> Any:
    """The complex numbers of absolute value ``abs`` and argument ``angle``.

    >>> import backprop as bp
    >>> bp.polar(bp.tensor([2.0]), bp.tensor([0.0])).tolist()
    [(2+0j)]
    """
    _check_parts("polar", "abs", abs, "angle", angle)
    shape = np.broadcast_shapes(abs.shape, angle.shape)
    out = empty(shape, _COMPLEX_OF[abs.dtype], abs)
    out.real = abs * np.cos(angle)
    out.imag = abs * np.sin(angle)
    return out


def _complex_grads(g: Any, out: Any, real_part: Any, imag_part: Any,
                   needs: tuple[bool, ...]) -> list[Any]:
    return [real(g) if needs[0] else None, imag(g) if needs[1] else None]


@primitive(grads=_complex_grads)
def complex(real: Any, imag: Any) -> Any:
    """The complex numbers ``real + i imag`` (``torch.complex``), broadcasting.

    >>> import backprop as bp
    >>> bp.complex(bp.tensor([1.0]), bp.tensor([2.0])).tolist()
    [(1+2j)]
    """
    _check_parts("complex", "real", real, "imag", imag)
    out = empty(np.broadcast_shapes(real.shape, imag.shape), _COMPLEX_OF[real.dtype], real)
    out.real = real
    out.imag = imag
    return out


@primitive(view=True, grads={"input": lambda g, out, input: view_as_complex(g)})
def view_as_real(input: Any) -> Any:
    """A real view of a complex tensor, its last dimension of size 2 holding the real and
    imaginary parts.

    >>> import backprop as bp
    >>> bp.view_as_real(bp.tensor([1 + 2j])).tolist()
    [[1.0, 2.0]]
    """
    _require_complex("view_as_real", input)
    return input[..., None].view(_REAL_OF[input.dtype])


@primitive(view=True, grads={"input": lambda g, out, input: view_as_real(g)})
def view_as_complex(input: Any) -> Any:
    """A complex view of a real tensor whose last dimension, of size 2, holds the real and
    imaginary parts.

    >>> import backprop as bp
    >>> bp.view_as_complex(bp.tensor([[1.0, 2.0]])).tolist()
    [(1+2j)]
    """
    if input.dtype not in _COMPLEX_OF:
        raise DTypeError(f"view_as_complex: expected a float32 or float64 tensor, got "
                         f"{input.dtype}")
    if input.ndim == 0 or input.shape[-1] != 2:
        raise ShapeError(f"view_as_complex: the last dimension must have size 2 (real and "
                         f"imaginary parts), got shape {format_shape(input.shape)}")
    # A gradient reaching here may be laid out otherwise; a contiguous copy then (a view else).
    return contiguous(input).view(_COMPLEX_OF[input.dtype])[..., 0]


__all__ = ["angle", "complex", "conj", "conj_physical", "imag", "polar", "real", "resolve_conj",
           "resolve_neg", "view_as_complex", "view_as_real"]


# -- eig and eigvals: complex results of real or complex matrices --------------------------------

def _conj_transpose(x: Any) -> Any:
    return conj_physical(_transpose(x, -1, -2)) if x.dtype.kind == "c" else _transpose(x, -1, -2)


def _eig_solve_grads(g: Any, out: Any, a: Any, b: Any, needs: tuple[bool, ...]) -> list[Any]:
    # x = a^-1 b: gb = a^-H g, ga = -gb x^H.
    grad_b = _eig_solve(_conj_transpose(a), g)
    return [-grad_b @ _conj_transpose(out) if needs[0] else None, grad_b if needs[1] else None]


# A solve of its own (its gradient needs one): the eigenvector matrix is invertible wherever
# eig's gradient is defined.
@primitive("eig_solve", save=("a", "out"), grads=_eig_solve_grads)
def _eig_solve(a: Any, b: Any) -> Any:
    return xp_of(a).linalg.solve(a, b)


def _eig_grads(g: Any, out: Any, input: Any, needs: tuple[bool, ...]) -> list[Any]:
    # PyTorch's linalg_eig_backward: with V^H gV = M and E_ij = conj(L_j) - conj(L_i),
    # gA = V^-H (diag(gL) + (M - V^H V diag(Re diag M)) / E, off the diagonal) V^H.
    g_values, g_vectors = g
    values, vectors = out
    n = vectors.shape[-1]
    eye = backend.eye(n, bool, vectors)
    vectors_h = _conj_transpose(vectors)
    if g_vectors is None:
        inner = g_values.reshape(g_values.shape[:-1] + (1, n)) * eye
    else:
        m = vectors_h @ g_vectors
        diagonal = real((m * eye).sum(-1))
        inner = m - vectors_h @ (vectors * diagonal.reshape(diagonal.shape[:-1] + (1, n)))
        conj_values = conjugate_if_complex(values)
        gaps = (conj_values.reshape(values.shape[:-1] + (1, n))
                - conj_values.reshape(values.shape + (1,)))
        inner = where(eye, 0.0, inner / where(eye, 1.0, gaps))
        if g_values is not None:
            inner = inner + g_values.reshape(g_values.shape[:-1] + (1, n)) * eye
    return [_eig_solve(vectors_h, inner @ vectors_h)]


def _check_square(op: str, input: Any) -> None:
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise ShapeError(f"{op}: A must be batches of square matrices, but they are "
                         f"{format_shape(input.shape[-2:])} matrices (input of shape "
                         f"{format_shape(input.shape)})")


@primitive("linalg_eig", outputs=("eigenvalues", "eigenvectors"),
           save=("eigenvalues", "eigenvectors"), grads=_eig_grads)
def _linalg_eig(input: Any) -> Any:
    _check_square("linalg.eig", input)
    if input.dtype.kind not in "fcV":
        raise DTypeError(f"linalg.eig: expected a float or complex tensor, got {input.dtype}")
    if not np.isfinite(input).all():
        raise ValueError("linalg.eig: input tensor should not contain infs or NaNs")
    dtype = _COMPLEX_OF.get(input.dtype, input.dtype)
    values, vectors = _eig_arrays(input)
    return values.astype(dtype), vectors.astype(dtype)


@backend.on_host
def _eig_arrays(a: Any) -> tuple[Any, Any]:
    """NumPy's (LAPACK's geev) eigenvalues and eigenvectors; CuPy has no eigensolver for
    general matrices, so a device array is solved on the host and its results copied back."""
    values, vectors = np.linalg.eig(a)
    return values, vectors


def eig(A: Tensor, *, out: Any = None) -> tuple[Tensor, Tensor]:
    """The eigenvalues and eigenvectors of square matrices (``torch.linalg.eig``): complex
    results, eigenvectors of norm 1, ``A V = V diag(L)``.

    >>> import backprop as bp
    >>> L, V = bp.linalg.eig(bp.tensor([[2.0, 0.0], [0.0, 3.0]]))
    >>> L.tolist()
    [(2+0j), (3+0j)]
    """
    if out is not None:
        raise TypeError("linalg.eig: out= is not supported; use the returned tensors")
    values, vectors = _linalg_eig(A)
    return values, vectors


def eigvals(A: Tensor, *, out: Any = None) -> Tensor:
    """The eigenvalues of square matrices (``torch.linalg.eigvals``), complex.

    >>> import backprop as bp
    >>> bp.linalg.eigvals(bp.tensor([[0.0, -1.0], [1.0, 0.0]])).tolist()
    [1j, -1j]
    """
    if out is not None:
        raise TypeError("linalg.eigvals: out= is not supported; use the returned tensor")
    return _linalg_eig(A)[0]
