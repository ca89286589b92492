"""Integer arithmetic against PyTorch where NumPy's answer differs (issue 15, item 5).

A Python int beyond a tensor's integer dtype wraps into it (``uint8 + (-3)`` adds 253, where
NumPy 2 raises OverflowError), for every arithmetic op, integer dtype and side; integer ``//``
and ``%`` by zero raise ZeroDivisionError as in PyTorch (NumPy gives 0), while float division by
zero still gives inf and nan; integers to negative integer powers are PyTorch's (``2 **
tensor([3, -1])`` is [8, 0]). Each case runs with backprop and torch, which share these names.
"""

from __future__ import annotations

import itertools
import math
import operator
from typing import Any, Callable

import numpy as np
import pytest

import backprop as bp

INTEGER_DTYPES = ["uint8", "int8", "int16", "int32", "int64"]
# Python ints outside some or all of the integer dtypes (PyTorch takes -2**63 to 2**64 - 1)
SCALARS = [-3, 300, -300, 70000, -(2**31) - 5, 2**40 + 3, 2**63, -(2**63)]
ARITHMETIC = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
              "floor_divide": operator.floordiv, "remainder": operator.mod,
              "bitwise_and": operator.and_, "bitwise_or": operator.or_,
              "bitwise_xor": operator.xor}


def same(ours: bp.Tensor, theirs: Any) -> bool:
    return (str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
            and ours.tolist() == theirs.tolist())


@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
@pytest.mark.parametrize("name", sorted(ARITHMETIC))
def test_python_int_beyond_the_dtype_wraps_as_in_torch(torch: Any, name: str, dtype: str) -> None:
    op = ARITHMETIC[name]
    mismatches = []
    for scalar, reflected in itertools.product(SCALARS, (False, True)):
        def run(lib: Any, scalar: int = scalar, reflected: bool = reflected) -> Any:
            t = lib.tensor([1, 7, 100, 127], dtype=getattr(lib, dtype))
            return op(scalar, t) if reflected else op(t, scalar)

        try:
            theirs = run(torch)
        except RuntimeError:  # the scalar wrapped to 0 and divides: ZeroDivisionError
            with pytest.raises(ZeroDivisionError):
                run(bp)
            continue
        ours = run(bp)
        if not same(ours, theirs):
            mismatches.append((scalar, reflected, ours.tolist(), theirs.tolist()))
    assert not mismatches, mismatches


@pytest.mark.parametrize("expression,expected", [
    ("uint8 + (-3)", [254, 197]), ("-3 + uint8", [254, 197]), ("uint8 - 300", [213, 156]),
    ("300 - uint8", [43, 100]), ("uint8 * 300", [44, 96]), ("uint8 // 300", [0, 4]),
    ("uint8 % -3", [1, 200]),
], ids=lambda value: value if isinstance(value, str) else "")
def test_issue_example_uint8_with_a_python_int(torch: Any, expression: str,
                                                expected: list) -> None:
    for lib in (bp, torch):
        result = eval(expression, {"uint8": lib.tensor([1, 200], dtype=lib.uint8)})
        assert result.tolist() == expected and str(result.dtype).endswith("uint8")


def test_python_ints_pytorch_cannot_take_are_refused(torch: Any) -> None:
    with pytest.raises(OverflowError):
        torch.tensor([1]) + 2**64
    with pytest.raises(OverflowError, match=r"add: the integer 18446744073709551616 is too large"):
        bp.tensor([1]) + 2**64


# -- integer division by zero --------------------------------------------------------------------

ZERO_DIVISIONS = [  # (make, the op named)
    pytest.param(lambda lib: lib.tensor([5, -5]) // 0, "floor_divide", id="issue-floordiv-0"),
    pytest.param(lambda lib: lib.tensor([5, -5]) % 0, "remainder", id="issue-mod-0"),
    pytest.param(lambda lib: lib.tensor([5, -5]) // lib.tensor(0), "floor_divide",
                 id="issue-floordiv-0-tensor"),
    pytest.param(lambda lib: lib.tensor([5, -5]) % lib.tensor([0, 1]), "remainder",
                 id="issue-mod-tensor-with-a-0"),
    pytest.param(lambda lib: 5 // lib.tensor([0, 1]), "floor_divide", id="reflected-floordiv"),
    pytest.param(lambda lib: 5 % lib.tensor([1, 0]), "remainder", id="reflected-mod"),
    pytest.param(lambda lib: lib.tensor([5], dtype=lib.uint8) // 0, "floor_divide", id="uint8"),
    pytest.param(lambda lib: lib.remainder(lib.tensor([5], dtype=lib.int8),
                                           lib.tensor([0], dtype=lib.int8)), "remainder",
                 id="int8-tensors"),
    pytest.param(lambda lib: lib.floor_divide(lib.tensor([[5, 6]], dtype=lib.int32), 0),
                 "floor_divide", id="int32-function"),
]


@pytest.mark.parametrize("make,op", ZERO_DIVISIONS)
def test_integer_division_by_zero_raises_as_in_torch(torch: Any, make: Callable,
                                                     op: str) -> None:
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        make(torch)
    with pytest.raises(ZeroDivisionError, match=rf"^{op}: integer division by zero \(the .*0"):
        make(bp)
    with pytest.raises(RuntimeError):  # a ported `except RuntimeError` still catches it
        make(bp)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make", [
    lambda lib, dtype: lib.tensor([5.0, -5.0, 0.0], dtype=dtype) // 0,
    lambda lib, dtype: lib.tensor([5.0, -5.0, 0.0], dtype=dtype) % 0,
    lambda lib, dtype: lib.tensor([5.0, -5.0, 0.0], dtype=dtype) / lib.tensor(0),
    lambda lib, dtype: lib.tensor([5, -5]).to(dtype) // 0.0,
    lambda lib, dtype: lib.tensor([5, -5]) % lib.tensor(0.0, dtype=dtype),
], ids=["floordiv", "mod", "div", "int-tensor-floordiv-float-0", "int-mod-float-0-tensor"])
def test_float_division_by_zero_gives_inf_and_nan_as_in_torch(torch: Any, make: Callable,
                                                              dtype: str) -> None:
    with np.errstate(divide="ignore", invalid="ignore"):
        ours = make(bp, getattr(bp, dtype))
    theirs = make(torch, getattr(torch, dtype))
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_empty_integer_division_is_no_division_by_zero() -> None:
    assert (bp.tensor([], dtype=bp.int64) // 0).shape == (0,)


# -- integers to negative integer powers ----------------------------------------------------------

POWERS = [
    pytest.param(lambda lib: 2 ** lib.tensor([3, -1]), id="issue-2**tensor([3,-1])"),
    pytest.param(lambda lib: lib.tensor([2, 1, -1, 0, -2, 3]) ** lib.tensor([-1, -1, -3, -1, -2, 2]),
                 id="tensor**tensor"),
    pytest.param(lambda lib: (-1) ** lib.tensor([-1, -2, -3, 0]), id="minus-one-base"),
    pytest.param(lambda lib: lib.pow(0, lib.tensor([-1, 0, 2])), id="zero-base"),
    pytest.param(lambda lib: lib.tensor([2, -1], dtype=lib.int8) ** lib.tensor([-1, -1],
                                                                             dtype=lib.int8),
                 id="int8"),
    pytest.param(lambda lib: lib.tensor([[3], [-1]], dtype=lib.int32)
                 ** lib.tensor([-2, 3], dtype=lib.int32), id="int32-broadcast"),
    pytest.param(lambda lib: lib.tensor([2]) ** -1.0, id="float-exponent"),
    pytest.param(lambda lib: 2.0 ** lib.tensor([-1]), id="float-base"),
    pytest.param(lambda lib: lib.tensor([2, 3], dtype=lib.uint8) ** 9, id="uint8-wraps"),
]


@pytest.mark.parametrize("make", POWERS)
def test_integer_powers_match_torch(torch32: Any, make: Callable) -> None:
    ours, theirs = make(bp), make(torch32)
    assert same(ours, theirs), (ours, theirs)


@pytest.mark.parametrize("make,message", [
    pytest.param(lambda lib: lib.tensor([2]) ** -1, r"pow: Integers to negative integer powers",
                 id="issue-tensor([2])**-1"),
    pytest.param(lambda lib: lib.pow(lib.tensor([2], dtype=lib.uint8), -1),
                 r"pow: Integers to negative integer powers", id="uint8-negative"),
    pytest.param(lambda lib: lib.tensor([3], dtype=lib.uint8) ** 300,
                 r"pow: value 300 cannot be converted to type uint8 without overflow",
                 id="exponent-beyond-uint8"),
])
def test_integer_powers_torch_refuses_are_refused(torch: Any, make: Callable,
                                                  message: str) -> None:
    with pytest.raises(RuntimeError):
        make(torch)
    with pytest.raises((ValueError, RuntimeError), match=message):
        make(bp)


def test_python_int_exponent_powers_are_exact() -> None:
    # int64 powers stay integers (no trip through float64, which rounds beyond 2**53)
    assert (bp.tensor([3]) ** 39).tolist() == [3**39]
    assert math.isclose((bp.tensor([2.0]) ** -1).item(), 0.5)
