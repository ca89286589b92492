"""Op-table rows for ``backprop.ops.views_more``."""

from __future__ import annotations

from .spec import OpSpec

ROWS: list[OpSpec] = []
