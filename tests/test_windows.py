"""The top-level window functions (``bp.hann_window`` ...) against PyTorch's: periodic by
default, the older spellings of ``bp.signal.windows`` (which the op table and OpInfo check)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import backprop as bp

CALLS = {
    "hann_window": {},
    "hamming_window": {"alpha": 0.6, "beta": 0.4},
    "bartlett_window": {},
    "blackman_window": {},
    "kaiser_window": {"beta": 5.0},
}


@pytest.mark.parametrize("name", CALLS)
@pytest.mark.parametrize("length", [0, 1, 2, 9])
@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_window_matches_pytorch(name: str, length: int, periodic: bool, dtype: str,
                                torch: Any) -> None:
    ours = getattr(bp, name)(length, periodic, dtype=getattr(bp, dtype), **CALLS[name])
    theirs = getattr(torch, name)(length, periodic, dtype=getattr(torch, dtype), **CALLS[name])
    assert ours.dtype == np.dtype(dtype) and ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6 if dtype == "float32"
                               else 1e-12, atol=1e-7 if dtype == "float32" else 1e-15)


def test_windows_follow_the_default_dtype_and_take_requires_grad() -> None:
    window = bp.hann_window(4, requires_grad=True)
    assert window.dtype == np.float32 and window.requires_grad and window.is_leaf
