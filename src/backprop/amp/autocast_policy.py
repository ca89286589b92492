"""Which of backprop's primitives autocast runs in the low precision, which in float32, and
which in their operands' widest dtype: PyTorch's CPU autocast lists, spelled in our primitives.

The lists were found by running every op-table row's PyTorch spelling under
``torch.autocast("cpu", dtype=torch.bfloat16)`` (and float16) on float32 inputs, and on
bfloat16 inputs, and reading the output dtypes; ``tests/test_amp_autocast.py`` checks every row
again against PyTorch.

- ``LOWER_PRECISION``: PyTorch's "lower_precision_fp" ops (matmul, mm, bmm, baddbmm, addmm,
  addbmm, linear, conv*, conv_transpose*, prelu; einsum through its bmm): floating operands
  other than float64 are cast to the autocast dtype.
- ``FLOAT32``: its "fp32" ops: low-precision operands are cast to float32 (losses, prod, cdist,
  trace, linear algebra, FFTs, pooling with unpooling, CTC). Composite ops (``l1_loss`` is
  ``(x - y).abs().mean()`` here) are not primitives and run in their operands' dtype; the loss
  modules of PyTorch's list are caught at the module call instead (``FLOAT32_MODULES``).
- ``PROMOTE``: its "promote" ops (cat, stack, index_copy): all operands in the widest
  floating dtype among them, which our ``cat`` and ``stack`` already do; listed for clarity.

>>> policy_of("linear"), policy_of("cross_entropy"), policy_of("exp")
('lower', 'float32', None)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LOWER = "lower"
FLOAT32 = "float32"
PROMOTE = "promote"

LOWER_PRECISION = frozenset({
    "matmul", "einsum", "linear", "add_product", "convolution", "conv_transpose", "prelu",
})

FLOAT32_OPS = frozenset({
    # losses
    "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "mse_loss", "ctc_loss",
    # reductions and distances
    "prod", "cdist", "trace",
    # unpooling (PyTorch's max_unpool2d/3d)
    "max_unpool",
    # linear algebra
    "linalg_inv_ex", "linalg_solve_ex", "linalg_solve_triangular", "linalg_cholesky_ex",
    "cholesky_inverse", "cholesky_solve", "linalg_lu_factor_ex", "linalg_svd", "linalg_eigh",
    "linalg_eig", "linalg_qr", "linalg_pinv", "geqrf", "linalg_det", "linalg_slogdet",
    "linalg_matrix_exp",
    # spectral
    "fft_c2c", "fft_r2c", "fft_c2r", "stft_frames",
    # complex numbers from real pairs: PyTorch has no complex bfloat16
    "view_as_complex", "polar",
})

PROMOTE_OPS = frozenset({"cat", "stack"})

# Loss modules whose functional form is a composite here (see FLOAT32 above): their inputs
# are cast to float32 when the module is called under autocast, as PyTorch's fp32 ops do.
FLOAT32_MODULES = frozenset({
    "L1Loss", "SmoothL1Loss", "HuberLoss", "KLDivLoss", "MarginRankingLoss", "SoftMarginLoss",
    "CosineEmbeddingLoss", "PoissonNLLLoss", "TripletMarginLoss", "MultiMarginLoss",
    "MultiLabelMarginLoss", "HingeEmbeddingLoss", "CrossEntropyLoss", "NLLLoss", "MSELoss",
    "BCELoss", "BCEWithLogitsLoss", "CTCLoss",
})

POLICY: dict[str, str] = {**dict.fromkeys(LOWER_PRECISION, LOWER),
                          **dict.fromkeys(FLOAT32_OPS, FLOAT32),
                          **dict.fromkeys(PROMOTE_OPS, PROMOTE)}


def _matrices(input: Any, a: Any, b: Any, *rest: Any) -> bool:
    return getattr(a, "ndim", 0) >= 2 and getattr(b, "ndim", 0) >= 2


# Primitives on a list only for some operands: ``add_product`` is addmm, baddbmm and addbmm
# (on PyTorch's list) but also addmv (not on it).
CONDITIONS: dict[str, Callable[..., bool]] = {"add_product": _matrices}


def policy_for(name: str, args: tuple) -> str | None:
    """``policy_of(name)`` for a call with operands ``args``.

    >>> import numpy as np
    >>> policy_for("add_product", (np.ones(2), np.ones((2, 3)), np.ones(3)))  # addmv
    """
    policy = POLICY.get(name)
    if policy is None:
        return None
    condition = CONDITIONS.get(name)
    return policy if condition is None or condition(*args) else None


def policy_of(name: str) -> str | None:
    """``'lower'``, ``'float32'``, ``'promote'`` or None (the op runs as called) for primitive
    ``name`` under autocast.

    >>> policy_of("matmul")
    'lower'
    """
    return POLICY.get(name)


__all__ = ["FLOAT32", "FLOAT32_MODULES", "FLOAT32_OPS", "LOWER", "LOWER_PRECISION", "POLICY",
           "PROMOTE", "PROMOTE_OPS", "policy_for", "policy_of"]
