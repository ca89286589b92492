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

# -- SVD, QR, eigh, pinv, lstsq, rank, cond, norms (ops/linalg_decompositions.py) -----------


# -- products, cross, vecdot, vander, multi_dot (ops/linalg_products.py) ----------------------


# -- diagonal (ops/views_more.py) ---------------------------------------------------------------


# -- eig and eigvals, whose results are complex (ops/spectral.py, ops/complex_ops.py) ----------


__all__: list[str] = [
    # linalg_solve
    "cholesky", "cholesky_ex", "det", "inv", "inv_ex", "ldl_factor",
    "ldl_factor_ex", "ldl_solve", "lu",
    "lu_factor", "lu_factor_ex", "lu_solve", "matrix_exp", "matrix_power",
    "multi_dot", "slogdet", "solve", "solve_ex", "solve_triangular", "tensorinv",
    "tensorsolve",
]
