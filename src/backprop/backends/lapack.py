"""``bp.backends.lapack``: LAPACK routines NumPy does not expose, called through ctypes in the
OpenBLAS that NumPy's own wheel bundles (no new dependency).

``np.linalg`` wraps a handful of LAPACK drivers (gesv, getrf inside det, potrf, syevd, gesdd)
and each call pays for checks, copies and float64 work arrays; it has no getri, potrs, potri,
trsm or sytrf at all, so our ops built those from NumPy steps, several times slower than
PyTorch. NumPy's Linux, Windows and Intel-macOS wheels ship a full OpenBLAS with LAPACK
(``numpy.libs/libscipy_openblas64_-*.so``: 64-bit integers, symbols such as
``scipy_sgetrf_64_``); this module finds it at first use and calls its Fortran entry points on
column-major copies, one call per matrix of a batch (each is O(n^3) work, so the Python loop
costs little): getrf, getri, gesv, trsm, potrf, potrs, potri, sytrf and sytrs here, in
float32 and float64; the decompositions (gesdd, syevd, geqrf, orgqr, ormqr) are in
``lapack_decompositions``, on this module's library loading and helpers.

Where the library is not found (NumPy built against Accelerate, MKL or a system LAPACK), or
``enabled`` is False (``BACKPROP_LAPACK=0`` at import), every function here returns None and the
ops run their NumPy code, which gives the same numbers to rounding. The functions take NumPy
arrays only (never CuPy's: ``type(a) is np.ndarray``) of float32 or float64, batched over the
leading dims, and report LAPACK's ``info`` per matrix.

>>> import numpy as np
>>> result = getrf(np.array([[0., 1.], [2., 3.]]))
>>> result is None or result[1].tolist() == [2, 2]
True
"""

from __future__ import annotations

import ctypes
import glob
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["enabled", "is_available"]


def _enabled_by_default() -> bool:
    return os.environ.get("BACKPROP_LAPACK", "").strip().lower() not in ("0", "false", "off",
                                                                           "no")


#: Use the bundled LAPACK where it is found. Set to False to run the NumPy code everywhere.
enabled: bool = _enabled_by_default()

# How a bundled OpenBLAS names its Fortran symbols: (prefix, suffix, integer type). NumPy 2's
# wheels use scipy-openblas64 (scipy_sgetrf_64_); NumPy 1.22-1.26's used openblas64_ (sgetrf_64_).
_NAMINGS = (("scipy_", "_64_", ctypes.c_int64), ("", "_64_", ctypes.c_int64))

_library: ctypes.CDLL | None = None
_naming: tuple[str, str, Any] | None = None
_searched = False
_functions: dict[str, Callable[..., Any]] = {}
_FLOATS = {np.dtype(np.float32): "s", np.dtype(np.float64): "d"}

#: Calls made through the library, by routine (``"getrf"``...): tests read it to know the
#: fast path ran rather than a silent fallback.
calls: dict[str, int] = {}


def _candidates() -> list[str]:
    """Shared libraries beside NumPy that may be its OpenBLAS."""
    root = os.path.dirname(os.path.dirname(np.__file__))
    found = []
    for folder in (os.path.join(root, "numpy.libs"), os.path.join(os.path.dirname(np.__file__),
                                                                  ".dylibs")):
        for pattern in ("*openblas*.so*", "*openblas*.dylib", "*openblas*.dll"):
            found += sorted(glob.glob(os.path.join(folder, pattern)))
    return found


def _load() -> ctypes.CDLL | None:
    global _library, _naming, _searched
    if not _searched:
        _searched = True
        for path in _candidates():
            try:
                library = ctypes.CDLL(path)
            except OSError:
                continue
            for prefix, suffix, integer in _NAMINGS:
                if all(hasattr(library, f"{prefix}{name}{suffix}")
                       for name in ("sgetrf", "dgetri", "dpotrs", "strsm", "dsytrf")):
                    _library, _naming = library, (prefix, suffix, integer)
                    return _library
    return _library


def is_available() -> bool:
    """Whether the bundled LAPACK was found (this searches for it, the first time).

    >>> import backprop as bp
    >>> bp.backends.lapack.is_available() in (True, False)
    True
    """
    return _load() is not None


def _finite(a: np.ndarray) -> bool:
    """Whether ``a`` holds no NaN or inf. OpenBLAS's own getrf (C, not LAPACK's reference code)
    skips the column scaling under a NaN pivot and leaves finite numbers where LAPACK's and
    PyTorch's factors are NaN; the LU-based functions leave such input to the NumPy code."""
    return bool(np.isfinite(a).all())


def _usable(*arrays: Any) -> bool:
    """The library is on, found, and every array is a host float32/float64 NumPy array of one
    dtype."""
    if not enabled or _load() is None:
        return False
    dtype = arrays[0].dtype
    return all(type(a) is np.ndarray and a.dtype == dtype for a in arrays) and dtype in _FLOATS


# Argument kinds of the Fortran signatures: c a character (its hidden length is appended at the
# end, as gfortran passes it), i an integer, p an array or scalar by address.
_SIGNATURES = {
    "getrf": "iipipp",         # m n a lda ipiv info
    "getri": "ipippip",       # n a lda ipiv work lwork info
    "gesv": "iipippip",        # n nrhs a lda ipiv b ldb info
    "potrf": "cipip",          # uplo n a lda info
    "potrs": "ciipipip",       # uplo n nrhs a lda b ldb info
    "potri": "cipip",          # uplo n a lda info
    "trsm": "cccciippipi",     # side uplo transa diag m n alpha a lda b ldb
    "sytrf": "cipippip",       # uplo n a lda ipiv work lwork info
    "sytrs": "ciipippip",      # uplo n nrhs a lda ipiv b ldb info
    "gesdd": "ciipippipipipp",  # jobz m n a lda s u ldu vt ldvt work lwork iwork info
    "syevd": "ccipippipip",    # jobz uplo n a lda w work lwork iwork liwork info
    "geqrf": "iipippip",       # m n a lda tau work lwork info
    "orgqr": "iiipippip",      # m n k a lda tau work lwork info
    "ormqr": "cciiipippipip",  # side trans m n k a lda tau c ldc work lwork info
}


def _function(routine: str, dtype: np.dtype) -> Callable[..., Any]:
    """The ctypes function for ``routine`` in ``dtype`` (argtypes set once, then cached)."""
    name = _FLOATS[dtype] + routine
    function = _functions.get(name)
    if function is None:
        prefix, suffix, _ = _naming  # type: ignore[misc]
        function = getattr(_library, f"{prefix}{name}{suffix}")
        kinds = _SIGNATURES[routine]
        function.argtypes = ([ctypes.c_char_p if k == "c" else ctypes.c_void_p for k in kinds]
                             + [ctypes.c_size_t] * kinds.count("c"))
        function.restype = None
        _functions[name] = function
    return function


class _Ints:
    """Reusable by-address integers of the library's width, for one batch of calls."""

    def __init__(self) -> None:
        self.integer = _naming[2]  # type: ignore[index]

    def __call__(self, value: int) -> Any:
        return ctypes.byref(self.integer(value))


def _count(name: str) -> None:
    calls[name] = calls.get(name, 0) + 1


#: float32 matrices of fewer elements than this squared are inverted, solved, Cholesky-factored,
#: and decomposed (SVD, eigenvalues) in float64, as NumPy's linalg always does: on small matrices
#: it costs microseconds, and ill-conditioned ones keep their float64 accuracy. Larger ones are
#: factored in float32, as PyTorch's are: float64 work would double their time.
widen_below: int = 128


def _working(a: np.ndarray) -> np.dtype:
    """The dtype ``a`` is factored in: float64 for small float32 matrices (``widen_below``)."""
    small = a.shape[-2] * a.shape[-1] < widen_below * widen_below
    return np.dtype(np.float64) if small else a.dtype


def _fortran(a: np.ndarray, batch: tuple[int, ...], dtype: Any = None) -> np.ndarray:
    """A new buffer holding each matrix of ``a`` (broadcast to ``batch``) in column-major
    order: C-contiguous (count, cols, rows), each matrix transposed."""
    rows, cols = a.shape[-2:]
    out = np.empty((int(np.prod(batch)), cols, rows), dtype=dtype or a.dtype)
    out.reshape(batch + (cols, rows))[...] = np.swapaxes(a, -2, -1)
    return out


def _back(buffer: np.ndarray, batch: tuple[int, ...]) -> np.ndarray:
    """``_fortran``'s buffer seen as (..., rows, cols) matrices again (a transposed view)."""
    return np.swapaxes(buffer, -2, -1).reshape(batch + buffer.shape[:0:-1])


_masks: dict[int, np.ndarray] = {}


def _strictly_lower(n: int) -> np.ndarray:
    """The (n, n) mask of the strict lower triangle, made once per size."""
    mask = _masks.get(n)
    if mask is None:
        mask = _masks[n] = np.tri(n, n, -1, dtype=bool)
    return mask


def _address(a: np.ndarray) -> tuple[int, int]:
    """Where ``a``'s data starts, and the bytes from one matrix to the next."""
    return a.ctypes.data, (a.strides[0] if a.ndim == 3 and a.shape[0] > 1 else 0)


# -- LU -------------------------------------------------------------------------------------------

def getrf(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(LU, pivots, info)`` of ``a`` (..., m, n) by LAPACK's getrf, as
    ``lu_numerics.lu_factor_arrays``: pivots 1-based int32, info per matrix (0-d for one
    matrix). None where the library is not used.

    >>> result = getrf(np.array([[0., 1.], [2., 3.]]))
    >>> result is None or result[0].tolist() == [[2., 3.], [0., 1.]]
    True
    """
    if not _usable(a) or not _finite(a):
        return None
    *batch_list, m, n = a.shape
    batch = tuple(batch_list)
    k = min(m, n)
    buffer = _fortran(a, batch)
    count = buffer.shape[0]
    pivots = np.zeros((count, k), dtype=np.int64)
    info = np.zeros(count, dtype=np.int64)
    if m and n:
        call, ints = _function("getrf", a.dtype), _Ints()
        base, step = _address(buffer)
        for i in range(count):
            call(ints(m), ints(n), base + i * step, ints(max(m, 1)),
                 pivots[i].ctypes.data, info[i:].ctypes.data)
    _count("getrf")
    return (_back(buffer, batch), pivots.astype(np.int32).reshape(batch + (k,)),
            info.astype(np.int32).reshape(batch))


def inverse(a: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(a^-1, info)`` by getrf and getri for square ``a`` (..., n, n). None where the library
    is not used or a matrix is singular (getri then stops; the caller's code produces the
    inf/NaN inverse and info that PyTorch's does).

    >>> result = inverse(np.array([[2., 0.], [0., 4.]]))
    >>> result is None or result[0].tolist() == [[0.5, 0.], [0., 0.25]]
    True
    """
    if not _usable(a) or not _finite(a):
        return None
    *batch_list, n, _ = a.shape
    batch = tuple(batch_list)
    dtype = _working(a)
    buffer = _fortran(a, batch, dtype)
    count = buffer.shape[0]
    info = np.zeros(count, dtype=np.int64)
    if n:
        getrf_call, getri_call, ints = (_function("getrf", dtype), _function("getri", dtype),
                                        _Ints())
        pivots = np.empty(n, dtype=np.int64)
        lwork = 64 * n  # getri's blocked size (ilaenv's 64) times n: no workspace query
        work = np.empty(lwork, dtype=dtype)
        base, step = _address(buffer)
        for i in range(count):
            address = base + i * step
            getrf_call(ints(n), ints(n), address, ints(n), pivots.ctypes.data,
                       info[i:].ctypes.data)
            if info[i]:
                return None
            getri_call(ints(n), address, ints(n), pivots.ctypes.data, work.ctypes.data,
                       ints(lwork), info[i:].ctypes.data)
    _count("getri")
    result = _back(buffer, batch).astype(a.dtype, copy=False)
    result += 0.0  # getri leaves -0.0 where the inverse is zero; NumPy's and PyTorch's have 0.0
    return result, info.astype(np.int32).reshape(batch)


def solve(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """``a^-1 b`` by LAPACK's gesv for square ``a`` (..., n, n) and ``b`` (..., n, k), batch dims
    broadcast. None where the library is not used or a matrix is singular (the caller's code
    then produces PyTorch's inf/NaN solution and info).

    >>> x = solve(np.array([[2., 0.], [0., 4.]]), np.array([[2.], [2.]]))
    >>> x is None or x.tolist() == [[1.], [0.5]]
    True
    """
    if not _usable(a, b) or not _finite(a):
        return None
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    n, k = b.shape[-2:]
    dtype = _working(a)
    factors = _fortran(a, batch, dtype)
    x = _fortran(b, batch, dtype)
    if n and k:
        call, ints = _function("gesv", dtype), _Ints()
        pivots = np.empty(n, dtype=np.int64)
        info = np.zeros(1, dtype=np.int64)
        a_base, a_step = _address(factors)
        x_base, x_step = _address(x)
        for i in range(x.shape[0]):
            call(ints(n), ints(k), a_base + i * a_step, ints(n), pivots.ctypes.data,
                 x_base + i * x_step, ints(n), info.ctypes.data)
            if info[0]:
                return None
    _count("gesv")
    return _back(x, batch).astype(a.dtype, copy=False)


# -- triangular solves ----------------------------------------------------------------------------

def trsm(a: np.ndarray, b: np.ndarray, upper: bool, unitriangular: bool) -> np.ndarray | None:
    """``T^-1 b`` for the upper or lower triangle ``T`` of ``a`` (..., n, n) by BLAS's trsm
    (only that triangle read; a zero diagonal gives inf/NaN, no error), batch dims broadcast.
    As ``lu_numerics.triangular_solve_array``; None where the library is not used.

    >>> x = trsm(np.array([[2., 1.], [0., 4.]]), np.array([[3.], [4.]]), True, False)
    >>> x is None or x.tolist() == [[1.], [1.]]
    True
    """
    if not _usable(a, b):
        return None
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    n, k = b.shape[-2:]
    count = int(np.prod(batch))
    # Row-major arrays are their transposes in column-major terms, so X = T^-1 B is solved as
    # X^T = B^T T^-T from the right, with no transposing copies: b's row-major copy is B^T
    # (k x n) column-major, a is a^T, whose triangle T^T is the other one (see below).
    # Column-major: B^T := B^T (a^T)^-1 (side R, op N), reading a^T's lower triangle where
    # T is a's upper one.
    uplo, transa = (b"L" if upper else b"U"), b"N"
    if a.ndim == 2 and a.flags.f_contiguous and not a.flags.c_contiguous:
        # a column-major matrix (getrf's LU, a transpose) is itself in LAPACK's layout: read T
        # there and apply it transposed, with no transposing copy of a. (One matrix serves every
        # right-hand side: its step is 0.)
        matrices = a.T[None]
        uplo, transa = (b"U" if upper else b"L"), b"T"
    elif a.ndim == 2:
        matrices = np.ascontiguousarray(a)[None]
    else:
        matrices = np.ascontiguousarray(np.broadcast_to(a, batch + a.shape[-2:])).reshape(
            count, n, n)
    x = np.array(np.broadcast_to(b, batch + b.shape[-2:]), order="C").reshape(count, n, k)
    if n and k and count:
        call, ints = _function("trsm", a.dtype), _Ints()
        one = np.ones(1, dtype=a.dtype)
        a_base, a_step = _address(matrices)
        x_base, x_step = _address(x)
        diag = b"U" if unitriangular else b"N"
        for i in range(count):
            call(b"R", uplo, transa, diag, ints(k), ints(n), one.ctypes.data,
                 a_base + i * a_step, ints(n), x_base + i * x_step, ints(k), 1, 1, 1, 1)
    _count("trsm")
    return x.reshape(batch + (n, k))


# -- Cholesky -------------------------------------------------------------------------------------

def potrf(a: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(L, info)``: the lower Cholesky factor of each matrix of ``a`` (..., n, n) by LAPACK's
    potrf, reading its lower triangle; None where the library is not used or a matrix is not
    positive definite (the caller's code then gives the partial factor PyTorch's does).

    >>> result = potrf(np.array([[4., 2.], [2., 2.]]))
    >>> result is None or result[0].tolist() == [[2., 0.], [1., 1.]]
    True
    """
    if not _usable(a):
        return None
    *batch_list, n, _ = a.shape
    batch = tuple(batch_list)
    dtype = _working(a)
    buffer = _fortran(a, batch, dtype)
    count = buffer.shape[0]
    if n:
        call, ints = _function("potrf", dtype), _Ints()
        info = np.zeros(1, dtype=np.int64)
        base, step = _address(buffer)
        for i in range(count):
            call(b"L", ints(n), base + i * step, ints(n), info.ctypes.data, 1)
            if info[0]:
                return None
    _count("potrf")
    # The buffer holds L^T row-major: its strict lower part is the input's upper, zeroed.
    np.copyto(buffer, 0, where=_strictly_lower(n))
    return _back(buffer, batch).astype(a.dtype, copy=False), np.zeros(batch, dtype=np.int32)


def potrs(lower: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """``A^-1 b`` from the lower Cholesky factor ``lower`` (..., n, n) of A (only its lower
    triangle read) by LAPACK's potrs; batch dims broadcast. None where the library is not used.

    >>> x = potrs(np.array([[2., 0.], [1., 1.]]), np.array([[4.], [2.]]))
    >>> x is None or x.tolist() == [[1.], [0.]]
    True
    """
    if not _usable(lower, b):
        return None
    batch = np.broadcast_shapes(lower.shape[:-2], b.shape[:-2])
    n, k = b.shape[-2:]
    factors = _fortran(lower, batch)
    x = _fortran(b, batch)
    if n and k:
        call, ints = _function("potrs", lower.dtype), _Ints()
        info = np.zeros(1, dtype=np.int64)
        a_base, a_step = _address(factors)
        x_base, x_step = _address(x)
        for i in range(x.shape[0]):
            call(b"L", ints(n), ints(k), a_base + i * a_step, ints(n), x_base + i * x_step,
                 ints(n), info.ctypes.data, 1)
    _count("potrs")
    return _back(x, batch)


def potri(lower: np.ndarray) -> np.ndarray | None:
    """``(L L^T)^-1`` from lower Cholesky factors ``lower`` (..., n, n) by LAPACK's potri,
    symmetric; None where the library is not used or a diagonal entry is zero (the caller's code
    then gives inf/NaN).

    >>> x = potri(np.array([[2., 0.], [0., 1.]]))
    >>> x is None or x.tolist() == [[0.25, 0.], [0., 1.]]
    True
    """
    if not _usable(lower):
        return None
    *batch_list, n, _ = lower.shape
    batch = tuple(batch_list)
    # A row-major copy is L^T column-major: potri's upper form (OpenBLAS's faster one) takes it
    # with no transposing copy, and leaves the inverse in the buffer's row-major lower half.
    buffer = np.empty((int(np.prod(batch)), n, n), dtype=lower.dtype)
    buffer.reshape(batch + (n, n))[...] = lower
    if n:
        call, ints = _function("potri", lower.dtype), _Ints()
        info = np.zeros(1, dtype=np.int64)
        base, step = _address(buffer)
        for i in range(buffer.shape[0]):
            call(b"U", ints(n), base + i * step, ints(n), info.ctypes.data, 1)
            if info[0]:
                return None
    _count("potri")
    # Mirror the lower half into the upper one.
    np.copyto(buffer, np.swapaxes(buffer, -2, -1), where=_strictly_lower(n).T)
    buffer += 0.0  # potri's -0.0 (where the inverse is zero) as 0.0, as our NumPy code gives
    return buffer.reshape(batch + (n, n))


# -- LDL^T ----------------------------------------------------------------------------------------

def sytrf(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(LD, pivots, info)``: Bunch-Kaufman LDL^T of each symmetric matrix of ``a`` (..., n, n)
    from its lower triangle by LAPACK's sytrf, in its layout (the strict upper triangle zeroed,
    pivots 1-based int32, negative for 2x2 blocks), as ``lu_numerics.ldl_factor_arrays``. None
    where the library is not used.

    >>> result = sytrf(np.array([[0., 1.], [1., 0.]]))
    >>> result is None or result[1].tolist() == [-2, -2]
    True
    """
    if not _usable(a):
        return None
    *batch_list, n, _ = a.shape
    batch = tuple(batch_list)
    buffer = _fortran(a, batch)
    count = buffer.shape[0]
    pivots = np.zeros((count, n), dtype=np.int64)
    info = np.zeros(count, dtype=np.int64)
    if n:
        call, ints = _function("sytrf", a.dtype), _Ints()
        lwork = 64 * n  # sytrf's blocked size (ilaenv's 64) times n: no workspace query
        work = np.empty(lwork, dtype=a.dtype)
        base, step = _address(buffer)
        for i in range(count):
            call(b"L", ints(n), base + i * step, ints(n), pivots[i].ctypes.data,
                 work.ctypes.data, ints(lwork), info[i:].ctypes.data, 1)
    _count("sytrf")
    np.copyto(buffer, 0, where=_strictly_lower(n))  # the input's strict upper triangle
    return (_back(buffer, batch), pivots.astype(np.int32).reshape(batch + (n,)),
            info.astype(np.int32).reshape(batch))


def sytrs(ld: np.ndarray, pivots: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """``A^-1 b`` from ``sytrf``'s factors of A by LAPACK's sytrs; batch dims broadcast. None
    where the library is not used.

    >>> result = sytrf(np.array([[0., 1.], [1., 0.]]))
    >>> b = np.array([[1.], [2.]])
    >>> result is None or sytrs(result[0], result[1], b).tolist() == [[2.], [1.]]
    True
    """
    if not _usable(ld, b) or pivots.dtype != np.int32 or type(pivots) is not np.ndarray:
        return None
    batch = np.broadcast_shapes(ld.shape[:-2], pivots.shape[:-1], b.shape[:-2])
    n, k = b.shape[-2:]
    count = int(np.prod(batch))
    flat_pivots = np.broadcast_to(pivots, batch + pivots.shape[-1:]).reshape(count, n)
    if n and ((flat_pivots == 0) | (np.abs(flat_pivots) > n)).any():
        return None  # not sytrf's pivots: the NumPy code reports them
    factors = _fortran(ld, batch)
    x = _fortran(b, batch)
    if n and k:
        call, ints = _function("sytrs", ld.dtype), _Ints()
        info = np.zeros(1, dtype=np.int64)
        wide = np.ascontiguousarray(flat_pivots, dtype=np.int64)
        a_base, a_step = _address(factors)
        x_base, x_step = _address(x)
        for i in range(count):
            call(b"L", ints(n), ints(k), a_base + i * a_step, ints(n), wide[i].ctypes.data,
                 x_base + i * x_step, ints(n), info.ctypes.data, 1)
    _count("sytrs")
    return _back(x, batch)


# -- determinants ---------------------------------------------------------------------------------

def slogdet(a: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(sign, log|det|)`` of each square matrix of ``a`` (..., n, n) in float64, from getrf's
    U diagonal and pivots (as NumPy's slogdet, which also factors in float64; here only small
    float32 matrices are widened, see ``widen_below``). A singular matrix gives sign 0 and
    -inf. None where the library is not used.

    >>> result = slogdet(np.array([[-2., 0.], [0., 1.]]))
    >>> result is None or (float(result[0]), round(float(result[1]), 4)) == (-1.0, 0.6931)
    True
    """
    if not _usable(a) or not _finite(a):
        return None
    *batch_list, n, _ = a.shape
    batch = tuple(batch_list)
    dtype = _working(a)
    buffer = _fortran(a, batch, dtype)
    count = buffer.shape[0]
    pivots = np.zeros((count, n), dtype=np.int64)
    if n:
        call, ints = _function("getrf", dtype), _Ints()
        info = np.zeros(1, dtype=np.int64)
        base, step = _address(buffer)
        for i in range(count):
            call(ints(n), ints(n), base + i * step, ints(n), pivots[i].ctypes.data,
                 info.ctypes.data)
    _count("getrf")
    diagonal = np.einsum("bii->bi", buffer).astype(np.float64)
    swaps = np.count_nonzero(pivots != np.arange(1, n + 1), axis=-1)
    # As NumPy's: a NaN on the diagonal leaves the sign alone (NaN is not negative).
    sign = np.where(swaps % 2, -1.0, 1.0) * np.prod(np.where(diagonal < 0, -1.0, 1.0), axis=-1)
    sign[(diagonal == 0).any(axis=-1)] = 0
    with np.errstate(divide="ignore"):
        logabsdet = np.sum(np.log(np.abs(diagonal)), axis=-1)
    return sign.reshape(batch), logabsdet.reshape(batch)


def _c_symbol(name: str) -> str:
    """The bundled library's name for its C (not Fortran) function ``name``:
    ``scipy_cblas_sgemm64_`` for ``cblas_sgemm``."""
    prefix, suffix, _ = _naming  # type: ignore[misc]
    return f"{prefix}{name}{suffix.lstrip('_')}"


def cblas_gemm(dtype: np.dtype) -> Callable[..., Any] | None:
    """The bundled BLAS's ``cblas_sgemm``/``cblas_dgemm`` for ``dtype`` (float32/float64) as a
    ctypes function (row-major order, transposes and 64-bit sizes as CBLAS takes them), for
    compiled kernels that multiply one image at a time; None where it is not found.

    >>> gemm = cblas_gemm(np.dtype(np.float32))
    >>> gemm is None or callable(gemm)
    True
    """
    if not enabled or _load() is None or dtype not in _FLOATS:
        return None
    name = f"cblas_{_FLOATS[dtype]}gemm"
    function = _functions.get(name)
    if function is None:
        integer = _naming[2]  # type: ignore[index]
        function = getattr(_library, _c_symbol(name), None)
        if function is None:
            return None
        scalar = ctypes.c_float if dtype == np.float32 else ctypes.c_double
        enum, pointer = ctypes.c_int, ctypes.c_void_p
        function.argtypes = [enum, enum, enum, integer, integer, integer, scalar, pointer,
                             integer, pointer, integer, scalar, pointer, integer]
        function.restype = None
        _functions[name] = function
    return function


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Hold the bundled OpenBLAS to one thread for the block, then give back its count (0.6 us
    the pair): for kernels that run their own threads, each calling the BLAS for its share.
    The count is the process's: a product another thread runs meanwhile gets one thread too.

    >>> with one_blas_thread():
    ...     float((np.ones((300, 300)) @ np.ones(300))[0])
    300.0
    """
    library = _load() if enabled else None
    if library is None:
        yield
        return
    get = getattr(library, _c_symbol("openblas_get_num_threads"))
    put = getattr(library, _c_symbol("openblas_set_num_threads"))
    before = get()
    put(1)
    try:
        yield
    finally:
        put(before)
