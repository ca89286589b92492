"""The default dtype, finfo/iinfo/can_cast, and the questions a tensor answers about its kind
and layout (``stride``, ``is_signed``, ``nbytes`` ...), against PyTorch's answers."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np
import pytest

import backprop as bp

FLOATS = ["float16", "float32", "float64", "complex64", "complex128"]
INTEGERS = ["uint8", "int8", "int16", "int32", "int64"]
ALL = [*FLOATS, *INTEGERS, "bool"]


@pytest.fixture
def default_float64() -> Iterator[None]:
    bp.set_default_dtype(bp.float64)
    yield
    bp.set_default_dtype(bp.float32)


# What follows the default dtype once it is float64 (each made as PyTorch would make it).
FOLLOWS_DEFAULT: dict[str, Callable[[], bp.Tensor]] = {
    "tensor of floats": lambda: bp.tensor([1.5]),
    "Tensor(data)": lambda: bp.Tensor([1, 2]),
    "zeros": lambda: bp.zeros(2),
    "rand": lambda: bp.rand(2),
    "randn": lambda: bp.randn(2),
    "float arange": lambda: bp.arange(0.0, 1.0, 0.5),
    "linspace": lambda: bp.linspace(0, 1, 3),
    "full with a float": lambda: bp.full((2,), 1.5),
    "int tensor times a float": lambda: bp.tensor([1, 2]) * 2.5,
    "int / int": lambda: bp.tensor([1, 2]) / bp.tensor([2, 2]),
    "sqrt of ints": lambda: bp.sqrt(bp.tensor([1, 4])),
    "lgamma of ints": lambda: bp.lgamma(bp.tensor([1, 4])),
    "Linear's weight": lambda: bp.nn.Linear(2, 2).weight,
}


@pytest.mark.parametrize("what", FOLLOWS_DEFAULT)
def test_set_default_dtype_reaches_factories_modules_and_promotion(what: str,
                                                                    default_float64: None) -> None:
    assert FOLLOWS_DEFAULT[what]().dtype == np.float64


def test_set_default_dtype_reaches_a_promotion_already_made() -> None:
    """An op that promoted an int tensor and a Python float before the change keeps no stale
    result dtype afterwards."""
    x = bp.tensor([1, 2])
    assert (x * 1.5).dtype == np.float32
    bp.set_default_dtype(bp.float64)
    try:
        assert (x * 1.5).dtype == np.float64
    finally:
        bp.set_default_dtype(bp.float32)
    assert (x * 1.5).dtype == np.float32


def test_default_dtype_leaves_explicit_dtypes_alone(default_float64: None) -> None:
    assert (bp.ones(2, dtype=bp.float32) * 2.5).dtype == np.float32
    assert bp.tensor([1 + 2j]).dtype == np.complex128  # complex follows the default float
    assert bp.get_default_dtype() == np.float64


def test_set_default_dtype_refuses_integers() -> None:
    with pytest.raises(TypeError, match="set_default_dtype: only floating-point"):
        bp.set_default_dtype(bp.int64)
    assert bp.get_default_dtype() == np.float32


@pytest.mark.parametrize("name", FLOATS)
def test_finfo_matches_pytorch(name: str, torch: Any) -> None:
    ours, theirs = bp.finfo(getattr(bp, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name", INTEGERS)
def test_iinfo_matches_pytorch(name: str, torch: Any) -> None:
    ours, theirs = bp.iinfo(getattr(bp, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.min, ours.max, ours.dtype) == (theirs.bits, theirs.min, theirs.max,
                                                           theirs.dtype)
    assert repr(ours) == repr(theirs)


def test_finfo_and_iinfo_refuse_the_other_kind() -> None:
    with pytest.raises(TypeError, match="finfo: int64 is not a floating-point"):
        bp.finfo(bp.int64)
    with pytest.raises(TypeError, match="iinfo: float32 is not an integer"):
        bp.iinfo(bp.float32)


def test_can_cast_matches_pytorch_on_every_pair(torch: Any) -> None:
    for source in ALL:
        for target in ALL:
            assert bp.can_cast(getattr(bp, source), getattr(bp, target)) == \
                torch.can_cast(getattr(torch, source), getattr(torch, target)), (source, target)


# Each made the same way on both sides from arange(24) reshaped to (2, 3, 4).
LAYOUTS: dict[str, Callable[[Any], Any]] = {
    "contiguous": lambda x: x,
    "transposed": lambda x: x.transpose(0, 2),
    "sliced with a step": lambda x: x[:, ::2, 1:],
    "expanded": lambda x: x[:, :1].expand(2, 5, 4),
    "selected": lambda x: x[1],
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_strides_in_elements_match_pytorch(layout: str, torch: Any) -> None:
    ours = LAYOUTS[layout](bp.arange(24.0).reshape(2, 3, 4))
    theirs = LAYOUTS[layout](torch.arange(24.0).reshape(2, 3, 4))
    assert ours.stride() == theirs.stride()
    assert ours.stride(-1) == theirs.stride(-1)


@pytest.mark.parametrize("name", ALL)
def test_kind_questions_match_pytorch(name: str, torch: Any) -> None:
    ours, theirs = bp.zeros(3, dtype=getattr(bp, name)), torch.zeros(3, dtype=getattr(torch, name))
    for question in ("is_signed", "is_complex", "is_floating_point", "element_size",
                     "is_conj", "is_neg", "is_inference", "get_device"):
        assert getattr(ours, question)() == getattr(theirs, question)(), question
    for attribute in ("nbytes", "itemsize", "is_cpu"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute


def test_tensor_questions_as_functions() -> None:
    x = bp.zeros(2, 3)
    assert bp.is_tensor(x) and not bp.is_tensor(np.zeros(2))
    assert bp.numel(x) == 6 and bp.is_floating_point(x) and not bp.is_complex(x)
    assert bp.is_same_size(x, bp.ones(2, 3)) and not bp.is_same_size(x, bp.ones(3, 2))
    assert bp.is_nonzero(bp.tensor([2.0])) and not bp.is_nonzero(bp.tensor(0))
    with pytest.raises(RuntimeError, match="is_nonzero: the tensor has 6 elements"):
        bp.is_nonzero(x)
    assert x.type_as(bp.tensor([1])).dtype == np.int64
    assert x[1:].data_ptr() - x.data_ptr() == 12  # one row of three float32s further on
