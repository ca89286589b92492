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
from .ops.elementwise import exp2, expm1, log1p, round
from .ops.elementwise import sigmoid as expit
from .ops.fused import log_softmax, logsumexp, softmax
from .ops.pointwise_more import erfc, logit, sinc, xlogy
from .ops.pointwise_tail import entr, xlog1py
from .ops.special import digamma, erf, polygamma
from .ops.special import digamma as psi
from .ops.special import lgamma as gammaln
from .ops.special_polynomials import (
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
)


__all__ = ["airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t",
           "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "digamma",
           "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc",
           "gammaincc", "gammaln", "hermite_polynomial_h", "hermite_polynomial_he", "i0", "i0e",
           "i1", "i1e", "laguerre_polynomial_l", "legendre_polynomial_p", "log1p", "log_ndtr",
           "log_softmax", "logit", "logsumexp", "modified_bessel_i0", "modified_bessel_i1",
           "modified_bessel_k0", "modified_bessel_k1", "multigammaln", "ndtr", "ndtri",
           "polygamma", "psi", "round", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1",
           "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
           "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "sinc", "softmax",
           "spherical_bessel_j0", "xlog1py", "xlogy", "zeta"]
