"""Array kernels behind ``ops/linalg_decompositions.py``'s SVD and symmetric eigenvalues on the
host: LAPACK's gesdd and syevd through ``backends.lapack_decompositions`` (in float32 where
NumPy's linalg works in float64), and the full SVD's square factor completed from the reduced one.

Each returns None where it does not apply (a device array, no bundled LAPACK, no convergence),
and the op then runs its ``np.linalg`` call, which gives the same numbers to rounding.

>>> import numpy as np
>>> result = svd_arrays(np.array([[3., 0., 0.], [0., -4., 0.]]), True)
>>> result is None or [x.shape for x in result] == [(2, 2), (2,), (3, 3)]
True
"""

from __future__ import annotations

import numpy as np

from ..backends import lapack_decompositions


def svd_arrays(a: np.ndarray, full_matrices: bool) -> tuple[np.ndarray, ...] | None:
    """``(U, S, Vh)`` of each matrix of ``a`` (..., m, n), as ``np.linalg.svd``: with
    ``full_matrices`` U is m x m and Vh n x n. None where the library is not used.

    gesdd's full job ('A') builds the whole n x n orthogonal factor by Householder products and
    costs 8 times its reduced job ('S') on a 100 x 1000 matrix; the full factor's last n - k
    vectors are any orthonormal basis of the complement (PyTorch's differ from LAPACK's to
    LAPACK's), so they are completed here from the reduced factor by one QR and one matmul.

    >>> U, S, Vh = svd_arrays(np.array([[1., 0., 0.]]), True) or np.linalg.svd([[1., 0., 0.]])
    >>> bool(np.allclose(Vh @ Vh.T, np.eye(3)))
    True
    """
    result = lapack_decompositions.gesdd(a, True)
    if result is None:
        return None
    U, S, Vh = result
    m, n = a.shape[-2:]
    if full_matrices and m < n:
        Vh = _completed(Vh)
    elif full_matrices and m > n:
        U = np.swapaxes(_completed(np.swapaxes(U, -2, -1)), -2, -1)
    return U, S, Vh


def _completed(rows: np.ndarray) -> np.ndarray:
    """``rows`` (..., k, n), orthonormal, with n - k orthonormal rows below that span the rest.

    A QR of rows^T = Q R gives Q = H_1 ... H_k = I - Y T Y^T (the compact WY form: Y the unit
    lower Householder vectors, T upper triangular from Puglisi's T^-1 = diag(1/tau) +
    triu(Y^T Y, 1)); Q's first k columns are +-rows^T, its last n - k columns the complement,
    E - Y T Y[k:]^T with E the identity's last columns.
    """
    k, n = rows.shape[-2:]
    if k == 0:
        return np.broadcast_to(np.eye(n, dtype=rows.dtype), rows.shape[:-2] + (n, n)).copy()
    # NumPy's raw QR returns LAPACK's column-major factor seen transposed: (..., k, n).
    h, tau = np.linalg.qr(np.swapaxes(rows, -2, -1), mode="raw")
    Y = np.tril(np.swapaxes(h, -2, -1), -1) + np.eye(n, k)
    unit_upper = tau[..., :, None] * np.triu(np.swapaxes(Y, -2, -1) @ Y, 1) + np.eye(k)
    T = np.linalg.inv(unit_upper) * tau[..., None, :]
    Y = Y.astype(rows.dtype, copy=False)  # the large product in the input's precision
    T = T.astype(rows.dtype, copy=False)
    extra = Y[..., k:, :] @ (np.swapaxes(T, -2, -1) @ np.swapaxes(Y, -2, -1))
    np.negative(extra, out=extra)
    tail = np.einsum("...ii->...i", extra[..., :, k:])
    tail += 1
    return np.concatenate([rows, extra], axis=-2)


def eigvalsh_array(a: np.ndarray, UPLO: str) -> np.ndarray | None:
    """The eigenvalues (ascending) of each symmetric matrix of ``a`` from its ``UPLO``
    triangle, as ``np.linalg.eigvalsh``; None where the library is not used.

    >>> w = eigvalsh_array(np.array([[2., 1.], [1., 2.]]), "L")
    >>> w is None or bool(np.allclose(w, [1., 3.]))
    True
    """
    return lapack_decompositions.syevd(a, UPLO == "L")
