"""Shared fixtures. PyTorch is the test oracle: comparisons skip without it on a user's machine,
and fail in CI, where BACKPROP_REQUIRE_TORCH=1 says it must be there."""

from __future__ import annotations

import importlib
import os
from typing import Any

import pytest

# A PyTorch script that test_port.py imports with `torch` bound to backprop; collected on its
# own (doctests) it would import the real torch, which a user's machine may not have.
collect_ignore = ["port/pytorch_style_training.py"]


@pytest.fixture(scope="session")
def torch() -> Any:
    try:
        module = importlib.import_module("torch")
    except ImportError:
        if os.environ.get("BACKPROP_REQUIRE_TORCH") == "1":
            pytest.fail("BACKPROP_REQUIRE_TORCH=1 but PyTorch is not installed")
        pytest.skip("PyTorch is not installed; its comparisons are skipped")
    module.set_default_dtype(module.float64)
    return module


@pytest.fixture
def torch32(torch: Any) -> Any:
    """PyTorch with its out-of-the-box default dtype (float32), restored to float64 afterwards."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    yield torch
    torch.set_default_dtype(previous)
