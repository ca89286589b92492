"""Op-table rows for ``backprop.ops.special_functions``."""

from __future__ import annotations

from .spec import OpSpec

ROWS: list[OpSpec] = []
