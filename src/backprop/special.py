"""``bp.special``: PyTorch's ``torch.special`` namespace. The functions live in
``backprop.ops`` beside their gradients; this module gives them ``torch.special``'s names."""

from __future__ import annotations

# -- Bessel, Airy, zeta, incomplete gamma, ndtr family, erfinv (ops/special_functions.py) -----
from .ops.special_functions import (airy_ai, bessel_j0, bessel_j1, bessel_y0, bessel_y1,
                                    erfcx, erfinv, gammainc, gammaincc, i0, i0e, i1, i1e,
                                    log_ndtr,
                                    modified_bessel_i0, modified_bessel_i1, modified_bessel_k0,
                                    modified_bessel_k1, multigammaln, ndtr, ndtri,
                                    scaled_modified_bessel_k0, scaled_modified_bessel_k1,
                                    spherical_bessel_j0, zeta)

# -- polynomials, entr, xlog1py, and the aliases of ops we had (ops/special_polynomials.py,
#    ops/pointwise_tail.py, and older modules) ------------------------------------------------


__all__: list[str] = [
    # ops/special_functions.py
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "i0", "i0e", "i1", "i1e",
    "modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
    "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0", "ndtr",
    "log_ndtr", "ndtri", "erfcx", "erfinv", "zeta", "multigammaln", "gammainc", "gammaincc",
]
