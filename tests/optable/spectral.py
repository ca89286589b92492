"""Op-table rows for ``backprop.ops.spectral``."""

from __future__ import annotations

from .spec import OpSpec

ROWS: list[OpSpec] = []
