"""SVD, QR, symmetric eigendecomposition, pseudo-inverses, least squares, ranks, condition numbers and the vector and matrix norms (issue 17)."""

from __future__ import annotations

__all__: list[str] = []
