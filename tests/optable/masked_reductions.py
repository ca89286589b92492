"""Op-table rows for ``backprop.ops.masked_reductions``."""

from __future__ import annotations

from .spec import OpSpec

ROWS: list[OpSpec] = []
