"""Inverses, determinants, linear solves, Cholesky, LU and LDL factorizations, matrix powers and exponentials (issue 17)."""

from __future__ import annotations

__all__: list[str] = []
