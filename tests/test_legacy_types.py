"""The legacy tensor types (``torch.FloatTensor`` ...), the ``torch.Tensor(*sizes)`` constructor
and ``Tensor.type()``, against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp

NAMES = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
         "CharTensor", "ByteTensor", "BoolTensor"]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("args", [(3,), (2, 3), ([1, 0, 2],), ([[1, 2]],), ()])
def test_constructors_make_what_pytorch_makes(torch, name: str, args: tuple) -> None:
    ours, theirs = getattr(bp, name)(*args), getattr(torch, name)(*args)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.type() == theirs.type() == f"torch.{name}"
    if args and isinstance(args[0], list):  # data, not an uninitialised tensor
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("args", [(2, 3), ([1, 2],), ((4, 5),), ()])
def test_tensor_constructor_takes_sizes_or_data(torch, args: tuple) -> None:
    ours, theirs = bp.Tensor(*args), torch.Tensor(*args)
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == bp.float32
    assert tuple(bp.Tensor(bp.Size([2, 4])).shape) == tuple(torch.Tensor(torch.Size([2, 4])).shape)


def test_isinstance_checks_dtype(torch) -> None:
    for lib in (bp, torch):
        assert isinstance(lib.zeros(2, dtype=lib.float32), lib.FloatTensor)
        assert not isinstance(lib.zeros(2, dtype=lib.float32), lib.LongTensor)
        assert isinstance(lib.zeros(2, dtype=lib.int64), lib.LongTensor)
        assert not isinstance([1.0], lib.FloatTensor)


@pytest.mark.parametrize("target", ["torch.LongTensor", "LongTensor", "cls", "dtype"])
def test_type_converts(torch, target: str) -> None:
    def convert(lib):
        to = {"cls": lib.LongTensor, "dtype": lib.int64}.get(target, target)
        return lib.tensor([1.5, -2.5]).type(to)
    if target != "LongTensor":  # PyTorch wants the qualified name
        assert convert(torch).tolist() == convert(bp).tolist()
    assert convert(bp).dtype == bp.int64


def test_word_language_models_dummy_input() -> None:
    # main.py's ONNX export: torch.LongTensor(seq_len * batch_size).zero_().view(-1, batch_size)
    dummy = bp.LongTensor(35 * 4).zero_().view(-1, 4)
    assert tuple(dummy.shape) == (35, 4) and dummy.dtype == bp.int64 and not dummy.any()


def test_bad_arguments_are_refused_by_name() -> None:
    with pytest.raises(TypeError, match="FloatTensor: expected a tensor of dtype float32, got "
                                        "int64"):
        bp.FloatTensor(bp.zeros(2, dtype=bp.int64))
    with pytest.raises(TypeError, match="LongTensor: expected sizes"):
        bp.LongTensor([1], [2])
    with pytest.raises(ValueError, match="type: invalid type 'torch.NoTensor'"):
        bp.zeros(2).type("torch.NoTensor")
