"""``bp.backends.lapack``'s decompositions: SVD (gesdd), symmetric eigenvalues (syevd), QR
(geqrf and orgqr) and products with a QR's Q (orgqr, ormqr), through the bundled LAPACK that
``lapack`` finds. Each function returns None where that library is not used (not found, switched
off by ``lapack.enabled``, or not a host float32/float64 array), and the op runs its NumPy code.

>>> import numpy as np
>>> result = qr(np.array([[3., 1.], [4., 2.]]))
>>> result is None or round(float(result[1][0, 0]), 4) == -5.0
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .lapack import (
    _address,
    _back,
    _count,
    _fortran,
    _function,
    _Ints,
    _strictly_lower,
    _usable,
    _working,
)

__all__ = ["gesdd", "orgqr", "ormqr", "qr", "syevd"]


def _column_major(a: np.ndarray) -> tuple[tuple[int, ...], int, int, int, Any, np.ndarray]:
    """``(batch, m, n, k = min(m, n), working dtype, column-major buffer)`` of ``a`` (..., m, n):
    what gesdd and geqrf both start from."""
    *batch_list, m, n = a.shape
    batch = tuple(batch_list)
    dtype = _working(a)
    return batch, m, n, min(m, n), dtype, _fortran(a, batch, dtype)


# -- SVD and the symmetric eigenproblem ------------------------------------------------------------

def gesdd(a: np.ndarray, vectors: bool) -> tuple[np.ndarray, ...] | None:
    """``(U, S, Vh)`` (reduced: U m x k, Vh k x n) or, without ``vectors``, ``(S,)`` of each
    matrix of ``a`` (..., m, n) by LAPACK's divide-and-conquer gesdd. None where the library is
    not used or it does not converge (the caller's NumPy code then raises or gives NaN).

    >>> result = gesdd(np.array([[3., 0.], [0., -4.]]), True)
    >>> result is None or result[1].tolist() == [4., 3.]
    True
    """
    if not _usable(a):
        return None
    batch, m, n, k, dtype, buffer = _column_major(a)
    count = buffer.shape[0]
    s = np.zeros((count, k), dtype=dtype)
    # Column-major U (m x k) and Vh (k x n) are row-major (k, m) and (n, k) buffers.
    u = np.zeros((count, k, m) if vectors else (1, 1, 1), dtype=dtype)
    vt = np.zeros((count, n, k) if vectors else (1, 1, 1), dtype=dtype)
    if k:
        call, ints = _function("gesdd", dtype), _Ints()
        jobz = b"S" if vectors else b"N"
        ldu, ldvt = (m, k) if vectors else (1, 1)
        info = np.zeros(1, dtype=np.int64)
        iwork = np.empty(8 * k, dtype=np.int64)
        query = np.zeros(1, dtype=dtype)
        a_base, a_step = _address(buffer)
        u_base, u_step = _address(u) if vectors else (u.ctypes.data, 0)
        v_base, v_step = _address(vt) if vectors else (vt.ctypes.data, 0)
        call(jobz, ints(m), ints(n), a_base, ints(m), s.ctypes.data, u_base, ints(ldu), v_base,
             ints(ldvt), query.ctypes.data, ints(-1), iwork.ctypes.data, info.ctypes.data, 1)
        lwork = int(query[0])
        work = np.empty(max(lwork, 1), dtype=dtype)
        for i in range(count):
            call(jobz, ints(m), ints(n), a_base + i * a_step, ints(m),
                 s[i].ctypes.data, u_base + i * u_step, ints(ldu), v_base + i * v_step,
                 ints(ldvt), work.ctypes.data, ints(lwork), iwork.ctypes.data,
                 info.ctypes.data, 1)
            if info[0]:
                return None
    _count("gesdd")
    values = s.astype(a.dtype, copy=False).reshape(batch + (k,))
    if not vectors:
        return (values,)
    return (_back(u, batch).astype(a.dtype, copy=False), values,
            _back(vt, batch).astype(a.dtype, copy=False))


def syevd(a: np.ndarray, lower: bool) -> np.ndarray | None:
    """The eigenvalues (ascending) of each symmetric matrix of ``a`` (..., n, n), reading its
    lower (or upper) triangle, by LAPACK's syevd. None where the library is not used or it does
    not converge.

    >>> w = syevd(np.array([[2., 1.], [1., 2.]]), True)
    >>> w is None or np.allclose(w, [1., 3.])
    True
    """
    if not _usable(a):
        return None
    *batch_list, n, _ = a.shape
    batch = tuple(batch_list)
    dtype = _working(a)
    # Row-major a is column-major a^T: its lower triangle is a^T's upper one.
    buffer = np.empty((int(np.prod(batch)), n, n), dtype=dtype)
    buffer.reshape(batch + (n, n))[...] = a
    count = buffer.shape[0]
    w = np.zeros((count, n), dtype=dtype)
    if n:
        call, ints = _function("syevd", dtype), _Ints()
        uplo = b"U" if lower else b"L"
        info = np.zeros(1, dtype=np.int64)
        lwork, liwork = 2 * n + 1, 1
        work = np.empty(lwork, dtype=dtype)
        iwork = np.empty(liwork, dtype=np.int64)
        base, step = _address(buffer)
        for i in range(count):
            call(b"N", uplo, ints(n), base + i * step, ints(n), w[i].ctypes.data,
                 work.ctypes.data, ints(lwork), iwork.ctypes.data, ints(liwork),
                 info.ctypes.data, 1, 1)
            if info[0]:
                return None
    _count("syevd")
    return w.astype(a.dtype, copy=False).reshape(batch + (n,))


# -- QR -------------------------------------------------------------------------------------------

def qr(a: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(Q, R)``, the reduced QR decomposition of each matrix of ``a`` (..., m, n) by LAPACK's
    geqrf and orgqr (Q m x k with orthonormal columns, R k x n upper triangular, k = min(m, n)),
    as ``np.linalg.qr(a, mode="reduced")``: the same Householder signs. None where the library
    is not used.

    >>> result = qr(np.array([[3., 1.], [4., 2.]]))
    >>> result is None or round(float(result[1][0, 0]), 4) == -5.0
    True
    """
    if not _usable(a):
        return None
    batch, m, n, k, dtype, buffer = _column_major(a)
    count = buffer.shape[0]
    r = np.zeros((count, k, n), dtype=dtype)
    if not k:
        _count("geqrf")
        q = np.zeros((count, m, k), dtype=dtype)
        return q.reshape(batch + (m, k)).astype(a.dtype), r.reshape(batch + (k, n)).astype(a.dtype)
    geqrf_call, orgqr_call, ints = (_function("geqrf", dtype), _function("orgqr", dtype),
                                    _Ints())
    tau = np.empty(k, dtype=dtype)
    lwork = 64 * max(n, 1)  # the blocked size (ilaenv's 32 or 64) times n: no workspace query
    work = np.empty(lwork, dtype=dtype)
    info = np.zeros(1, dtype=np.int64)
    base, step = _address(buffer)
    upper = ~_strictly_lower(max(k, n))[:k, :n]
    for i in range(count):
        address = base + i * step
        geqrf_call(ints(m), ints(n), address, ints(m), tau.ctypes.data, work.ctypes.data,
                   ints(lwork), info.ctypes.data)
        # R is the upper triangle of the factor's first k rows (column-major: buffer[i].T).
        np.copyto(r[i], buffer[i, :, :k].T, where=upper)
        orgqr_call(ints(m), ints(k), ints(k), address, ints(m), tau.ctypes.data,
                   work.ctypes.data, ints(lwork), info.ctypes.data)
    _count("geqrf")
    # Q's k columns are the buffer's first k (column-major) rows.
    q = np.swapaxes(buffer[:, :k, :], -2, -1).reshape(batch + (m, k))
    return q.astype(a.dtype, copy=False), r.reshape(batch + (k, n)).astype(a.dtype, copy=False)


# -- products with Q: orgqr, ormqr ----------------------------------------------------------------

def _householder_batch(a: np.ndarray, tau: np.ndarray) -> tuple[int, ...] | None:
    """The batch of ``a`` (..., m, n) and ``tau`` (..., k) when both hold it exactly (no
    broadcasting: the ops' checks guarantee it), else None."""
    batch = a.shape[:-2]
    return batch if tau.shape[:-1] == batch else None


def orgqr(a: np.ndarray, tau: np.ndarray) -> np.ndarray | None:
    """The first n columns of ``H_1 ... H_k`` (``H_i = I - tau_i v_i v_i^T``, ``v_i`` below
    ``a``'s diagonal with an implied leading 1) for each matrix of ``a`` (..., m, n), m >= n >=
    k, by LAPACK's orgqr, as ``torch.linalg.householder_product``. None where the library is
    not used.

    >>> q = orgqr(np.array([[-5., -2.2], [0.5, -0.4]]), np.array([1.6, 0.]))
    >>> q is None or np.allclose(q, [[-0.6, -0.8], [-0.8, 0.6]])
    True
    """
    if not _usable(a, tau):
        return None
    batch = _householder_batch(a, tau)
    m, n = a.shape[-2:]
    k = tau.shape[-1]
    if batch is None or not (m >= n >= k):
        return None
    buffer = _fortran(a, batch)
    taus = np.ascontiguousarray(tau).reshape(-1, k)
    if n:
        call, ints = _function("orgqr", a.dtype), _Ints()
        lwork = 64 * max(n, 1)  # the blocked size (ilaenv's 32 or 64) times n
        work = np.empty(lwork, dtype=a.dtype)
        info = np.zeros(1, dtype=np.int64)
        base, step = _address(buffer)
        for i in range(buffer.shape[0]):
            call(ints(m), ints(n), ints(k), base + i * step, ints(m), taus[i].ctypes.data,
                 work.ctypes.data, ints(lwork), info.ctypes.data)
    _count("orgqr")
    return _back(buffer, batch)


def ormqr(a: np.ndarray, tau: np.ndarray, c: np.ndarray, left: bool,
          transpose: bool) -> np.ndarray | None:
    """``Q @ c`` (``left``) or ``c @ Q``, Q transposed when ``transpose``, for the Q that
    ``geqrf``'s ``(a, tau)`` represent (a (..., m, n), tau (..., k), k <= min(m, n)), by
    LAPACK's ormqr, as ``torch.ormqr``. c's batch must be a's. None where the library is not
    used.

    >>> a, tau = np.array([[-5., -2.2], [0.5, -0.4]]), np.array([1.6, 0.])
    >>> x = ormqr(a, tau, np.eye(2), True, False)
    >>> x is None or np.allclose(x, [[-0.6, -0.8], [-0.8, 0.6]])
    True
    """
    if not _usable(a, tau, c):
        return None
    batch = _householder_batch(a, tau)
    m = a.shape[-2]
    k = tau.shape[-1]
    if batch is None or c.shape[:-2] != batch or k > min(a.shape[-2:]):
        return None
    rows, cols = c.shape[-2:]
    if (rows if left else cols) != m:
        return None
    reflectors = _fortran(a[..., :k], batch)  # column-major m x k
    # Row-major c is C^T column-major (cols x rows): Q C = (C^T Q^T)^T and C Q = (Q^T C^T)^T,
    # so LAPACK applies Q from the other side, transposed the other way, with no copy of C's
    # transpose.
    out = np.array(c, order="C").reshape(-1, rows, cols)
    taus = np.ascontiguousarray(tau).reshape(-1, k)
    if rows and cols and k:
        call, ints = _function("ormqr", a.dtype), _Ints()
        side = b"R" if left else b"L"
        trans = b"N" if transpose else b"T"
        # ormqr's blocked code keeps a 65 x 64 block of T in the workspace beside n * 64.
        lwork = 64 * max(rows, cols) + 65 * 64
        work = np.empty(lwork, dtype=a.dtype)
        info = np.zeros(1, dtype=np.int64)
        a_base, a_step = _address(reflectors)
        c_base, c_step = _address(out)
        for i in range(out.shape[0]):
            call(side, trans, ints(cols), ints(rows), ints(k), a_base + i * a_step, ints(m),
                 taus[i].ctypes.data, c_base + i * c_step, ints(cols), work.ctypes.data,
                 ints(lwork), info.ctypes.data, 1, 1)
    _count("ormqr")
    return out.reshape(batch + (rows, cols))
