"""The two matrix primitives ``MultivariateNormal`` needs: ``cholesky`` and
``solve_triangular``, with their gradient rules written with our ops (so they also give second
derivatives)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import on_device_of, xp_of
from ..ops.linalg import matmul
from ..ops.primitive import primitive
from ..ops.rearrange import tril, triu
from ..ops.shape import transpose


def _mT(x: Any) -> Any:
    return transpose(x, -1, -2)


def _solve_triangular_grads(g: Any, out: Any, A: Any, B: Any, needs: Any, *, upper: bool) -> Any:
    # X = A^-1 B: dB = A^-T g, dA = -dB X^T, kept in A's triangle (the other is not an input).
    grad_B = solve_triangular(_mT(A), g, upper=not upper)
    grad_A = None
    if needs[0]:
        full = -matmul(grad_B, _mT(out))
        grad_A = triu(full) if upper else tril(full)
    return grad_A, grad_B


@primitive("solve_triangular", save=("A", "out"), grads=_solve_triangular_grads)
def solve_triangular(A: Any, B: Any, *, upper: bool) -> Any:
    """``A^-1 B`` for a triangular ``A`` (lower unless ``upper``), batched and broadcast."""
    xp = xp_of(A, B)
    batch = xp.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    return xp.linalg.solve(xp.broadcast_to(A, batch + A.shape[-2:]),
                           xp.broadcast_to(B, batch + B.shape[-2:]))


def _cholesky_grad(g: Any, out: Any, input: Any) -> Any:
    # With L = out and P = tril(L^T g) with its diagonal halved: dA = sym(L^-T P L^-1).
    P = tril(matmul(_mT(out), g))
    P = P - 0.5 * P * _eye_like(out)
    S = _mT(solve_triangular(_mT(out), _mT(solve_triangular(_mT(out), P, upper=True)),
                             upper=True))
    return 0.5 * (S + _mT(S))


def _eye_like(x: Any) -> Any:
    """An identity of ``x``'s size and dtype on ``x``'s device (``xp.eye`` would make it on the
    current device, not necessarily ``x``'s)."""
    return on_device_of(np.eye(x.shape[-1], dtype=x.dtype), x)


@primitive("cholesky", save=("out",), grads={"input": _cholesky_grad})
def cholesky(input: Any) -> Any:
    """The lower Cholesky factor ``L`` of a symmetric positive-definite ``input = L L^T``."""
    xp = xp_of(input)
    try:
        return xp.linalg.cholesky(input)
    except xp.linalg.LinAlgError:
        raise ValueError("cholesky: the matrix is not positive-definite") from None
