"""Op-table rows for ``backprop.ops.special_polynomials``."""

from __future__ import annotations

from .spec import OpSpec

ROWS: list[OpSpec] = []
