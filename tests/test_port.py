"""A PyTorch training script runs unchanged with `torch` bound to backprop (only imports differ)."""

from __future__ import annotations

import importlib
import sys
from typing import Any, Iterator

import pytest

import backprop

ALIASES = {"torch": "backprop", "torch.nn": "backprop.nn",
           "torch.nn.functional": "backprop.nn.functional", "torch.optim": "backprop.optim",
           "torch.utils": "backprop.utils", "torch.utils.data": "backprop.utils.data"}
SCRIPT = "port.pytorch_style_training"


@pytest.fixture
def torch_is_backprop() -> Iterator[None]:
    saved = {name: sys.modules.get(name) for name in [*ALIASES, SCRIPT]}
    for alias, target in ALIASES.items():
        sys.modules[alias] = importlib.import_module(target)
    sys.modules.pop(SCRIPT, None)
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def run_script() -> dict[str, Any]:
    return importlib.import_module(SCRIPT).main()


def test_pytorch_script_trains_with_backprop(torch_is_backprop: None) -> None:
    assert importlib.import_module(SCRIPT).torch is backprop
    result = run_script()
    assert result["last_loss"] < result["first_loss"] / 3
    assert result["accuracy"] > 0.9
    assert result["restored_equal"] is True


def test_the_same_script_reaches_the_same_accuracy_with_pytorch(torch: Any) -> None:
    """The script is real PyTorch code: under PyTorch it learns the task equally well."""
    sys.modules.pop(SCRIPT, None)
    torch.set_default_dtype(torch.float32)
    try:
        result = run_script()
    finally:
        torch.set_default_dtype(torch.float64)
        sys.modules.pop(SCRIPT, None)
    assert result["accuracy"] > 0.9
