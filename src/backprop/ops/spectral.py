"""Discrete Fourier transforms (issue 17): the bp.fft family, stft and istft."""

from __future__ import annotations

__all__: list[str] = []
