"""PyTorch's ``torch.nn.modules.<file>`` paths under the import hook: programs name classes by
them (``safe_globals`` lists, ``isinstance`` against private bases) though our files differ."""

from __future__ import annotations

import sys

import pytest

import backprop
from backprop._torch_modules import torch_served


@pytest.mark.parametrize(("path", "name", "ours"), [
    ("torch.nn.modules.activation", "MultiheadAttention", backprop.nn.MultiheadAttention),
    ("torch.nn.modules.normalization", "LayerNorm", backprop.nn.LayerNorm),
    ("torch.nn.modules.sparse", "Embedding", backprop.nn.Embedding),
    ("torch.nn.modules.module", "Module", backprop.nn.Module),
    ("torch.nn.modules.rnn", "LSTM", backprop.nn.LSTM),
])
def test_each_path_finds_the_class_where_we_keep_it(path: str, name: str, ours: type) -> None:
    with torch_served():
        module = __import__(path, fromlist=[name])
        assert getattr(module, name) is ours


def test_each_path_is_an_attribute_too_as_programs_reach_it() -> None:
    with torch_served():
        import torch
        assert torch.nn.modules.activation.MultiheadAttention is backprop.nn.MultiheadAttention
        assert torch.nn.modules.sparse.Embedding is backprop.nn.Embedding


def test_private_bases_are_found_for_isinstance_checks() -> None:
    with torch_served():
        from torch.nn.modules.batchnorm import _BatchNorm  # type: ignore[import-not-found]
        from torch.nn.modules.loss import _Loss  # type: ignore[import-not-found]
        assert isinstance(backprop.nn.BatchNorm1d(3), _BatchNorm)
        assert isinstance(backprop.nn.MSELoss(), _Loss)


def test_a_name_we_lack_is_an_attribute_error_naming_the_torch_path() -> None:
    with torch_served():
        import torch.nn.modules.sparse  # type: ignore[import-not-found]
        with pytest.raises(AttributeError, match="'torch.nn.modules.sparse' has no attribute"):
            torch.nn.modules.sparse.NoSuchLayer  # noqa: B018


def test_leaving_the_block_restores_our_own_files() -> None:
    activation = sys.modules["backprop.nn.modules.activation"]
    with torch_served():
        import torch.nn.modules.activation  # type: ignore[import-not-found]
        import torch.nn.modules.sparse  # type: ignore[import-not-found]  # noqa: F401
    assert backprop.nn.modules.activation is activation
    assert not hasattr(backprop.nn.modules, "sparse")
