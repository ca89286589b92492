"""More views and their scatters (issue 17): slices, diagonals, as_strided, unfold, the *_copy forms, and the odd creation functions."""

from __future__ import annotations

__all__: list[str] = []
