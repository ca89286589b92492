"""``bp.fft``: PyTorch's ``torch.fft`` namespace (discrete Fourier transforms). The functions
live in ``backprop.ops.spectral`` beside their gradients.
"""

from __future__ import annotations

__all__: list[str] = []
