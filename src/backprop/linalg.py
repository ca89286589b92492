"""``bp.linalg``: PyTorch's ``torch.linalg`` namespace. The functions live in ``backprop.ops``
beside their gradients; this module gives them the names ``torch.linalg`` uses."""

from __future__ import annotations

# -- inverses, determinants, solves, Cholesky, LU, LDL, powers (ops/linalg_solve.py) --------
# (the inverses, determinants, solves and Cholesky are defined in ops/linalg_inverse.py)
from .ops.linalg_inverse import (
    LinAlgError,  # noqa: F401 - raised by the ops below, as torch.linalg.LinAlgError
    cholesky_ex,
    det,
    inv,
    inv_ex,
    solve,
    solve_ex,
    solve_triangular,
)
from .ops.linalg_inverse import linalg_cholesky as cholesky
from .ops.linalg_inverse import linalg_slogdet as slogdet
from .ops.linalg_solve import (
    ldl_factor,
    ldl_factor_ex,
    ldl_solve,
    lu_factor,
    lu_factor_ex,
    matrix_exp,
    matrix_power,
    multi_dot,
    tensorinv,
    tensorsolve,
)
from .ops.linalg_solve import linalg_lu as lu
from .ops.linalg_solve import linalg_lu_solve as lu_solve

# -- SVD, QR, eigh, pinv, lstsq, rank, cond, norms (ops/linalg_decompositions.py, linalg_norms.py)
from .ops.linalg_decompositions import _eigvalsh as eigvalsh
from .ops.linalg_decompositions import _linalg_eigh as eigh
from .ops.linalg_decompositions import _linalg_pinv as pinv
from .ops.linalg_decompositions import _linalg_qr as qr
from .ops.linalg_decompositions import _linalg_svd as svd
from .ops.linalg_decompositions import _lstsq as lstsq
from .ops.linalg_decompositions import _matrix_rank as matrix_rank
from .ops.linalg_decompositions import _svdvals as svdvals
from .ops.linalg_decompositions import householder_product
from .ops.linalg_norms import _cond as cond
from .ops.linalg_norms import _linalg_norm as norm
from .ops.linalg_norms import _matrix_norm as matrix_norm
from .ops.linalg_norms import _vector_norm as vector_norm


# -- products, cross, vecdot, vander, multi_dot (ops/linalg_products.py) ----------------------
from .ops.linalg_products import linalg_cross as cross
from .ops.linalg_products import vander, vecdot


# -- diagonal (ops/views_more.py) ---------------------------------------------------------------
from .ops.views_more import linalg_diagonal as diagonal  # noqa: E402


# -- eig and eigvals, whose results are complex (ops/spectral.py, ops/complex_ops.py) ----------


__all__: list[str] = [
    # SVD, QR, eigh, pinv, lstsq, rank, cond, norms
    "svd", "svdvals", "qr", "eigh", "eigvalsh", "pinv", "matrix_rank", "cond", "lstsq",
    "householder_product", "norm", "vector_norm", "matrix_norm",
    "diagonal",
    "cross", "vecdot", "vander",  # ops/linalg_products.py
    # linalg_solve
    "cholesky", "cholesky_ex", "det", "inv", "inv_ex", "ldl_factor",
    "ldl_factor_ex", "ldl_solve", "lu",
    "lu_factor", "lu_factor_ex", "lu_solve", "matrix_exp", "matrix_power",
    "multi_dot", "slogdet", "solve", "solve_ex", "solve_triangular", "tensorinv",
    "tensorsolve",
]
