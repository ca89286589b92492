"""The last pointwise ops (issue 17): hyperbolic sine and cosine, fmax/fmin, gcd/lcm, bit shifts, nextafter, frexp, entr, xlog1py."""

from __future__ import annotations

__all__: list[str] = []
