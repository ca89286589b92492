"""Vector and matrix norms and condition numbers (issue 17): ``torch.linalg.vector_norm``,
``matrix_norm``, ``norm`` and ``cond``. The spectral and nuclear norms are functions of the
singular values (``linalg_decompositions.py``); the rest reduce with the vector norm's primitive
(``reduction.py``), whose gradient is PyTorch's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import DimError, DTypeError, ShapeError, check_dim, format_shape
from ..tensor import Tensor
from .extrema import _amax, _amin
from .linalg_decompositions import _float_matrix, _linalg_pinv, _singular_values, _square
from .reduction import MATRIX_NORMS, _norm, _sum, normalize_dims
from .shape import movedim, squeeze, unsqueeze


# -- norms -----------------------------------------------------------------------------------------

def _vector_norm(x: Tensor, ord: float = 2, dim: int | Sequence[int] | None = None,
                 keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The vector ``ord``-norm over ``dim`` (all elements when None), as
    ``torch.linalg.vector_norm``: ``ord`` is any real number or ±inf (0 counts nonzeros).

    >>> import backprop as bp
    >>> bp.linalg.vector_norm(bp.tensor([[3., -4.]]), ord=1, dim=1).tolist()
    [7.0]
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.vector_norm: x must be a Tensor, got {type(x).__name__}")
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind not in "fcV":
        raise DTypeError(f"linalg.vector_norm: expected a floating point tensor as input, got "
                         f"{x.dtype}; pass dtype= or convert it with .float()")
    if isinstance(ord, str) or isinstance(ord, bool):
        raise TypeError(f"linalg.vector_norm: ord must be a number, got {ord!r}; use "
                        "linalg.matrix_norm for 'fro' and 'nuc'")
    axes = normalize_dims("linalg.vector_norm", dim, x.ndim)
    if ord < 0 or ord == math.inf:
        reduced = x.shape if axes is None else [x.shape[a] for a in axes]
        if x.ndim and 0 in reduced:
            raise ValueError(f"linalg.vector_norm: cannot compute the {ord} norm of an empty "
                             f"tensor (shape {format_shape(x.shape)}) over a zero-size dimension")
    return _norm(x, float(ord), axes, keepdim)


def _matrix_dims(op: str, A: Tensor, dim: Any) -> tuple[int, int]:
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise ValueError(f"{op}: dim must be a 2-tuple of ints, got {dim!r}")
    d0, d1 = (check_dim(op, int(d), A.ndim) for d in dim)
    if d0 == d1:
        raise DimError(f"{op}: dims must be different, got dim={tuple(dim)}")
    return d0, d1


def _matrix_norm(A: Tensor, ord: Any = "fro", dim: Sequence[int] = (-2, -1),
                 keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The matrix norm over the two dims ``dim``, as ``torch.linalg.matrix_norm``: ``'fro'``,
    ``'nuc'`` (sum of singular values), 2 and -2 (largest and smallest singular value), 1 and -1
    (largest and smallest column sum of absolute values), inf and -inf (row sums).

    >>> import backprop as bp
    >>> A = bp.tensor([[1., -2.], [3., 4.]])
    >>> bp.linalg.matrix_norm(A, 1).item(), bp.linalg.matrix_norm(A, float('inf')).item()
    (6.0, 7.0)
    """
    if not isinstance(A, Tensor) or A.ndim < 2:
        raise ShapeError(f"linalg.matrix_norm: A must have at least 2 dimensions, got shape "
                         f"{format_shape(getattr(A, 'shape', ()))}")
    if dtype is not None:
        A = A.to(dtype)
    if A.dtype.kind not in "fcV":
        raise DTypeError(f"linalg.matrix_norm: expected a floating point tensor, got {A.dtype}")
    d0, d1 = _matrix_dims("linalg.matrix_norm", A, dim)
    if ord == "fro":
        return _norm(A, 2.0, tuple(sorted((d0, d1))), keepdim)
    empty = 0 in (A.shape[d0], A.shape[d1])
    if ord == "nuc" or ord in (2, -2):
        if empty and ord == -2:
            raise ValueError(f"linalg.matrix_norm: the -2 norm of an empty matrix (shape "
                             f"{format_shape(A.shape)}) is not defined")
        S = _singular_values(movedim(A, (d0, d1), (-2, -1)))
        last = (S.ndim - 1,)
        # The largest of no singular values is 0, as in PyTorch (their sum is too).
        result = (_sum(S, last, False) if ord == "nuc" or empty
                  else _amax(S, last, False) if ord == 2 else _amin(S, last, False))
        if keepdim:
            for d in sorted((d0, d1)):
                result = unsqueeze(result, d)
        return result
    if ord not in (1, -1, math.inf, -math.inf):
        raise ValueError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', inf, -inf, 1, -1, 2 or "
                         f"-2, got {ord!r}")
    summed, extreme = (d0, d1) if ord in (1, -1) else (d1, d0)
    sums = _norm(A, 1.0, (summed,), True)
    if A.shape[extreme] == 0:
        if ord < 0:
            raise ValueError(f"linalg.matrix_norm: the {ord} norm of a matrix of shape "
                             f"{format_shape(A.shape)} is the smallest of no sums: not defined")
        result = _sum(sums, (extreme,), True)  # the largest of no sums is 0, as in PyTorch
    else:
        result = (_amax if ord > 0 else _amin)(sums, (extreme,), True)
    return result if keepdim else squeeze(result, tuple(sorted((d0, d1))))


MATRIX_NORMS["nuc"] = _matrix_norm  # torch.norm(A, 'nuc')


def _linalg_norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *,
                 dtype: Any = None) -> Tensor:
    """A vector or matrix norm, as ``torch.linalg.norm``: a vector norm over one ``dim``, a
    matrix norm over two; with ``dim=None`` the 2-norm of all elements when ``ord`` is None,
    else the vector or matrix norm of a 1-D or 2-D input.

    >>> import backprop as bp
    >>> bp.linalg.norm(bp.tensor([[3., 4.], [0., 0.]])).item()
    5.0
    >>> bp.linalg.norm(bp.tensor([[3., 4.], [0., 0.]]), 'nuc').item()
    5.0
    """
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.norm: A must be a Tensor, got {type(A).__name__}")
    if dim is not None:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        if len(dims) == 1:
            if isinstance(ord, str):
                raise ValueError(f"linalg.norm: ord={ord!r} is a matrix norm; it needs two dims")
            return _vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return _matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise ValueError(f"linalg.norm: dim must be an int or a tuple of 1 or 2 ints, got {dim!r}")
    if ord is None:
        return _vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return _matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if A.ndim == 1 and not isinstance(ord, str):
        return _vector_norm(A, ord, None, keepdim, dtype=dtype)
    raise ValueError(f"linalg.norm: if dim is not given but ord is, the input must be 1-D or 2-D "
                     f"(2-D for ord={ord!r}), got shape {format_shape(A.shape)}")



def _cond(A: Tensor, p: Any = None) -> Tensor:
    """The condition number in norm ``p``, as ``torch.linalg.cond``: for None and 2 the ratio
    of the largest to the smallest singular value (-2: its inverse); for 'fro', 'nuc', inf,
    -inf, 1 and -1, ``matrix_norm(A, p) * matrix_norm(inv(A), p)``.

    >>> import backprop as bp
    >>> bp.linalg.cond(bp.tensor([[2., 0.], [0., 0.5]])).item()
    4.0
    """
    _float_matrix("linalg.cond", A)
    if p is None or p == 2 or p == -2:
        S = _singular_values(A)
        if S.shape[-1] == 0:
            return _sum(S, (S.ndim - 1,), False)
        ratio = S[..., 0] / S[..., -1]
        return 1 / ratio if p == -2 else ratio
    if p not in ("fro", "nuc", math.inf, -math.inf, 1, -1):
        raise ValueError(f"linalg.cond: p must be None, 2, -2, 'fro', 'nuc', inf, -inf, 1 or -1, "
                         f"got {p!r}")
    _square("linalg.cond", A)
    with np.errstate(all="ignore"):
        inverse = _linalg_pinv(A)
    return _matrix_norm(A, p) * _matrix_norm(inverse, p)
