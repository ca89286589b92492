"""More indexing, searching and counting (issue 17): take, put, index_*, masked_select/scatter, unique, searchsorted, bucketize, histograms."""

from __future__ import annotations

__all__: list[str] = []
