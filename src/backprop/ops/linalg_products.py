"""Fused matrix products (addmm and kin), tensordot, kron, vdot, cross products, distances, covariance, integration by trapezoids (issue 17)."""

from __future__ import annotations

__all__: list[str] = []
