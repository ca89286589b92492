"""``bp.fft``: PyTorch's ``torch.fft`` namespace (discrete Fourier transforms). The functions
live in ``backprop.ops.spectral`` beside their gradients.
"""

from __future__ import annotations

from .ops.spectral import (fft, fft2, fftfreq, fftn, fftshift, hfft, hfft2, hfftn, ifft, ifft2,
                           ifftn, ifftshift, ihfft, ihfft2, ihfftn, irfft, irfft2, irfftn, rfft,
                           rfft2, rfftfreq, rfftn)

__all__: list[str] = ["fft", "fft2", "fftfreq", "fftn", "fftshift", "hfft", "hfft2", "hfftn",
                      "ifft", "ifft2", "ifftn", "ifftshift", "ihfft", "ihfft2", "ihfftn", "irfft",
                      "irfft2", "irfftn", "rfft", "rfft2", "rfftfreq", "rfftn"]
