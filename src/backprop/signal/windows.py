"""``bp.signal.windows``: the window functions of ``torch.signal.windows`` (Hann, Hamming,
Blackman, Kaiser, Gaussian ...), as tensors of a given length."""

from __future__ import annotations

__all__: list[str] = []
