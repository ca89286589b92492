"""Op-table rows for ``backprop.ops.copies_more``."""

from __future__ import annotations

from .spec import OpSpec

ROWS: list[OpSpec] = []
