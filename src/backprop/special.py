"""``bp.special``: PyTorch's ``torch.special`` namespace. The functions live in
``backprop.ops`` beside their gradients; this module gives them ``torch.special``'s names."""

from __future__ import annotations

# -- Bessel, Airy, zeta, incomplete gamma, ndtr family, erfinv (ops/special_functions.py) -----


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


__all__: list[str] = [
    # polynomials, entr, xlog1py, and the aliases of ops we had
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
    "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
    "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p", "entr", "xlog1py",
    "expit", "logit", "exp2", "expm1", "log1p", "gammaln", "digamma", "psi", "polygamma", "erf",
    "erfc", "sinc", "round", "softmax", "log_softmax", "logsumexp", "xlogy",
]
