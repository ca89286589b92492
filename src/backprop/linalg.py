"""``bp.linalg``: PyTorch's ``torch.linalg`` namespace. The functions live in ``backprop.ops``
beside their gradients; this module gives them the names ``torch.linalg`` uses.

>>> import backprop as bp
>>> bp.linalg.det(bp.tensor([[2.0, 1.0], [1.0, 3.0]])).item()
5.0
"""

from __future__ import annotations

# Eigen-decompositions of general matrices: complex results (ops/complex_ops.py).
from .ops.complex_ops import eig, eigvals
# SVD, QR, eigh, pinv, lstsq, rank (ops/linalg_decompositions.py).
from .ops.linalg_decompositions import _eigvalsh as eigvalsh
from .ops.linalg_decompositions import _linalg_eigh as eigh
from .ops.linalg_decompositions import _linalg_pinv as pinv
from .ops.linalg_decompositions import _linalg_qr as qr
from .ops.linalg_decompositions import _linalg_svd as svd
from .ops.linalg_decompositions import _lstsq as lstsq
from .ops.linalg_decompositions import _matrix_rank as matrix_rank
from .ops.linalg_decompositions import _svdvals as svdvals
from .ops.linalg_decompositions import householder_product
# Inverses, determinants, solves and Cholesky (ops/linalg_inverse.py).
from .ops.linalg_inverse import (
    LinAlgError,  # noqa: F401 - raised by the ops below, as torch.linalg.LinAlgError
    cholesky_ex, det, inv, inv_ex, solve, solve_ex, solve_triangular)
from .ops.linalg_inverse import linalg_cholesky as cholesky
from .ops.linalg_inverse import linalg_slogdet as slogdet
# Vector and matrix norms, condition numbers (ops/linalg_norms.py).
from .ops.linalg_norms import _cond as cond
from .ops.linalg_norms import _linalg_norm as norm
from .ops.linalg_norms import _matrix_norm as matrix_norm
from .ops.linalg_norms import _vector_norm as vector_norm
# Products (ops/linalg.py, ops/linalg_products.py).
from .ops.linalg import matmul
from .ops.linalg_products import linalg_cross as cross
from .ops.linalg_products import vander, vecdot
# LU and LDL, powers and exponentials, tensor inverses (ops/linalg_solve.py).
from .ops.linalg_solve import (ldl_factor, ldl_factor_ex, ldl_solve, lu_factor, lu_factor_ex,
                               matrix_exp, matrix_power, multi_dot, tensorinv, tensorsolve)
from .ops.linalg_solve import linalg_lu as lu
from .ops.linalg_solve import linalg_lu_solve as lu_solve
# The diagonal view (ops/views_more.py).
from .ops.views_more import linalg_diagonal as diagonal

__all__ = ["cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eig", "eigh", "eigvals",
           "eigvalsh", "householder_product", "inv", "inv_ex", "ldl_factor", "ldl_factor_ex",
           "ldl_solve", "lstsq", "lu", "lu_factor", "lu_factor_ex", "lu_solve", "matmul",
           "matrix_exp", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv",
           "qr", "slogdet", "solve", "solve_ex", "solve_triangular", "svd", "svdvals", "tensorinv",
           "tensorsolve", "vander", "vecdot", "vector_norm"]
