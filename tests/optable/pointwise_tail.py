"""Op-table rows for ``backprop.ops.pointwise_tail``."""

from __future__ import annotations

from .spec import OpSpec

ROWS: list[OpSpec] = []
