"""``bp.masked``: PyTorch's ``torch.masked`` namespace: reductions and normalizations over the
elements a boolean mask keeps. The functions live in ``backprop.ops.masked_reductions``.
"""

from __future__ import annotations

__all__: list[str] = []
