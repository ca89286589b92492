"""Reductions over the elements a mask keeps (issue 17): the bp.masked family."""

from __future__ import annotations

__all__: list[str] = []
