"""Complex numbers' ops (issue 17): real, imag, conj, angle, polar, view_as_real and view_as_complex."""

from __future__ import annotations

__all__: list[str] = []
