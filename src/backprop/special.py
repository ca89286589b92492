"""``bp.special``: PyTorch's ``torch.special`` namespace. The functions live in
``backprop.ops`` beside their gradients; this module gives them ``torch.special``'s names."""

from __future__ import annotations

# -- Bessel, Airy, zeta, incomplete gamma, ndtr family, erfinv (ops/special_functions.py) -----


# -- polynomials, entr, xlog1py, and the aliases of ops we had (ops/special_polynomials.py,
#    ops/pointwise_tail.py, and older modules) ------------------------------------------------


__all__: list[str] = []
