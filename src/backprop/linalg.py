"""``bp.linalg``: PyTorch's ``torch.linalg`` namespace. The functions live in ``backprop.ops``
beside their gradients; this module gives them the names ``torch.linalg`` uses."""

from __future__ import annotations

# -- inverses, determinants, solves, Cholesky, LU, LDL, powers (ops/linalg_solve.py) --------


# -- SVD, QR, eigh, pinv, lstsq, rank, cond, norms (ops/linalg_decompositions.py) -----------


# -- products, cross, vecdot, vander, multi_dot (ops/linalg_products.py) ----------------------


# -- diagonal (ops/views_more.py) ---------------------------------------------------------------


# -- eig and eigvals, whose results are complex (ops/spectral.py, ops/complex_ops.py) ----------
from .ops.complex_ops import eig, eigvals


__all__: list[str] = ["eig", "eigvals"]
