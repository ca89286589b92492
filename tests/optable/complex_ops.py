"""Op-table rows for ``backprop.ops.complex_ops``."""

from __future__ import annotations

from .spec import OpSpec

ROWS: list[OpSpec] = []
