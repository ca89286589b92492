"""Op-table rows for ``backprop.ops.indexing_more``."""

from __future__ import annotations

from .spec import OpSpec

ROWS: list[OpSpec] = []
