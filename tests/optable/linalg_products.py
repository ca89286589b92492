"""Op-table rows for ``backprop.ops.linalg_products``."""

from __future__ import annotations

from .spec import OpSpec

ROWS: list[OpSpec] = []
