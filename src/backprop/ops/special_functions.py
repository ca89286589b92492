"""Special functions with no elementary form: Bessel and Airy functions, zeta, incomplete gamma, the normal distribution's functions, erfinv (issue 17)."""

from __future__ import annotations

__all__: list[str] = []
