"""Type promotion follows PyTorch, not NumPy (issue 15, item 4).

The property test enumerates every pair of operands, each a tensor with dimensions, a 0-d tensor
or a Python number, of every dtype backprop has, through the arithmetic ops and the comparisons:
the result's dtype and values equal PyTorch's, or both refuse. PyTorch is run with its default
dtype float32 (the suite's ``torch`` fixture sets float64, which changes what a Python float
promotes to), and restored afterwards.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import backprop as bp

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
          "complex64", "complex128"]
# One Python number per category (a number's dtype is its category's default).
NUMBERS = [True, 3, 1.5, 1.5 + 0.5j]
# Values that no op below divides by zero, overflows or takes to a negative integer power.
VALUE = {"b": True, "u": 3, "i": 3, "f": 1.5, "c": 1.5 + 0.5j}

# PyTorch's results backprop cannot give: a complex number with a float16 tensor is complex32
# in PyTorch, a dtype backprop does not have; it refuses, saying so.
COMPLEX32 = "complex32"


@pytest.fixture
def torch32(torch: Any) -> Iterator[Any]:
    """PyTorch with its own default dtype, float32 (what backprop's default is)."""
    torch.set_default_dtype(torch.float32)
    yield torch
    torch.set_default_dtype(torch.float64)


def operands() -> list[tuple[str, Any]]:
    """(description, spec) for every operand: a tensor (2,) or 0-d of each dtype, a number."""
    specs: list[tuple[str, Any]] = []
    for dtype in DTYPES:
        specs.append((f"{dtype}[2]", ("tensor", dtype, (2,))))
        specs.append((f"{dtype}[]", ("tensor", dtype, ())))
    specs.extend((type(n).__name__, ("number", n)) for n in NUMBERS)
    return specs


def build(lib: Any, spec: Any) -> Any:
    if spec[0] == "number":
        return spec[1]
    _, dtype, shape = spec
    value = VALUE[np.dtype(dtype).kind]
    return lib.tensor(np.full(shape, value, dtype=dtype), dtype=getattr(lib, dtype))


def run(call: Callable[[], Any]) -> tuple[str, Any]:
    """(dtype name, values) of a call's result, or ("refused", the exception's type)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = call()
    except (TypeError, RuntimeError, ValueError, NotImplementedError, OverflowError) as err:
        return "refused", type(err).__name__
    dtype = str(out.dtype).replace("torch.", "")
    return dtype, None if dtype == COMPLEX32 else out.numpy()


CONDITION = np.array([True, False])

# Each op as both libraries spell it: operators where they exist (so a number may stand on the
# left, through the reflected operator), the function otherwise.
OPS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "add": lambda lib, a, b: a + b,
    "sub": lambda lib, a, b: a - b,
    "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / b,
    "floor_divide": lambda lib, a, b: a // b,
    "remainder": lambda lib, a, b: a % b,
    "pow": lambda lib, a, b: a ** b,
    "maximum": lambda lib, a, b: lib.maximum(a, b),
    "minimum": lambda lib, a, b: lib.minimum(a, b),
    "where": lambda lib, a, b: lib.where(lib.tensor(CONDITION), a, b),
    "eq": lambda lib, a, b: a == b,
    "ne": lambda lib, a, b: a != b,
    "lt": lambda lib, a, b: a < b,
    "le": lambda lib, a, b: a <= b,
    "gt": lambda lib, a, b: a > b,
    "ge": lambda lib, a, b: a >= b,
}
# torch.maximum and torch.minimum take tensors only: numbers are an argument error there, not a
# promotion, so only tensors are paired for them. ``where`` takes two numbers as well.
TENSORS_ONLY = {"maximum", "minimum"}


def pairs(op: str) -> Iterator[tuple[tuple[str, Any], tuple[str, Any]]]:
    for a, b in itertools.product(operands(), repeat=2):
        numbers = (a[1][0] == "number") + (b[1][0] == "number")
        if numbers == 2 and op != "where" or numbers and op in TENSORS_ONLY:
            continue
        yield a, b


@pytest.mark.parametrize("op", list(OPS))
def test_result_dtype_and_values_match_pytorch_for_every_pair(op: str, torch32: Any) -> None:
    torch = torch32
    call = OPS[op]
    mismatches = []
    compared = 0
    for (name_a, a), (name_b, b) in pairs(op):
        ours = run(lambda: call(bp, build(bp, a), build(bp, b)))
        theirs = run(lambda: call(torch, build(torch, a), build(torch, b)))
        compared += 1
        if theirs[0] == COMPLEX32:
            if ours[0] != "refused":
                mismatches.append(f"{name_a} {op} {name_b}: complex32 in PyTorch, {ours[0]} here")
            continue
        if ours[0] != theirs[0]:
            mismatches.append(f"{name_a} {op} {name_b}: {ours[0]} here, {theirs[0]} in PyTorch")
        elif ours[0] != "refused" and not np.allclose(ours[1], theirs[1], rtol=1e-3,
                                                      equal_nan=True):
            mismatches.append(f"{name_a} {op} {name_b}: {ours[1]} here, {theirs[1]} in PyTorch")
    assert compared > 400
    assert not mismatches, f"{len(mismatches)} of {compared}:\n" + "\n".join(mismatches[:40])


def test_result_type_and_promote_types_match_pytorch(torch32: Any) -> None:
    torch = torch32
    mismatches = []
    for (name_a, a), (name_b, b) in pairs("add"):
        try:
            ours = str(bp.result_type(build(bp, a), build(bp, b)))
        except bp.DTypeError:
            ours = "refused"
        theirs = str(torch.result_type(build(torch, a), build(torch, b))).replace("torch.", "")
        if ours != theirs and not (theirs == COMPLEX32 and ours == "refused"):
            mismatches.append(f"result_type({name_a}, {name_b}): {ours}, PyTorch {theirs}")
    for a, b in itertools.product(DTYPES, repeat=2):
        ours = str(bp.promote_types(getattr(bp, a), getattr(bp, b)))
        theirs = str(torch.promote_types(getattr(torch, a), getattr(torch, b)))
        if ours != theirs.replace("torch.", ""):
            mismatches.append(f"promote_types({a}, {b}): {ours}, PyTorch {theirs}")
    assert not mismatches, "\n".join(mismatches)


# -- the examples -------------------------------------------------------------------------

def test_a_0d_tensor_promotes_like_a_number() -> None:
    out = bp.ones(2) + bp.tensor(1.0, dtype=bp.float64)
    assert out.dtype == bp.float32 and out.tolist() == [2.0, 2.0]
    # ... but over integers a float 0-d tensor brings its own dtype, as in PyTorch.
    assert (bp.tensor([1, 2]) + bp.tensor(1.0, dtype=bp.float64)).dtype == bp.float64


def test_uint8_with_an_int64_0d_tensor_stays_uint8_and_wraps() -> None:
    out = bp.tensor([255, 1], dtype=bp.uint8) + bp.tensor(1)
    assert out.dtype == bp.uint8 and out.tolist() == [0, 2]
    assert (bp.tensor([5], dtype=bp.uint8) < bp.tensor(-1)).tolist() == [True]  # -1 is 255


def test_float16_with_an_integer_tensor_stays_float16() -> None:
    out = bp.ones(2, dtype=bp.float16) + bp.tensor([1, 2])
    assert out.dtype == bp.float16 and out.tolist() == [2.0, 3.0]


@pytest.mark.parametrize("dtype", [bp.uint8, bp.bool, bp.int8, bp.int32])
def test_sum_cumsum_prod_of_small_integers_give_int64(dtype: Any) -> None:
    x = bp.tensor([1, 1, 0, 1], dtype=dtype)
    for out in (x.sum(), x.sum(0), x.cumsum(0), x.prod(), x.prod(0)):
        assert out.dtype == bp.int64
    assert bp.tensor([200, 100], dtype=bp.uint8).sum().item() == 300
    assert bp.tensor([True] * 3).cumsum(0).tolist() == [1, 2, 3]


@pytest.mark.parametrize("call,match", [
    (lambda t: t - 1, "sub: subtraction with a bool tensor"),
    (lambda t: 1 - t, "sub: subtraction with a bool tensor"),
    (lambda t: t - t, "sub: subtraction with a bool tensor"),
    (lambda t: t * 1.5 - t, "sub: subtraction with a bool tensor"),
    (lambda t: -t, "neg: negation of a bool tensor .* use ~ or logical_not"),
    (lambda t: t // t, "floor_divide: not implemented for bool tensors"),
    (lambda t: t % t, "remainder: not implemented for bool tensors"),
    (lambda t: t ** t, "pow: not implemented for bool tensors"),
    (lambda t: t.abs(), "abs: not implemented for bool tensors"),
    (lambda t: t.argmax(), "argmax: not implemented for bool tensors"),
    (lambda t: t.argmin(0), "argmin: not implemented for bool tensors"),
], ids=["bool-int", "int-bool", "bool-bool", "float-bool", "neg", "floordiv", "mod", "pow",
        "abs", "argmax", "argmin"])
def test_bool_arithmetic_pytorch_refuses_raises(call: Callable, match: str, torch: Any) -> None:
    with pytest.raises(bp.DTypeError, match=match):
        call(bp.tensor([True, False]))
    with pytest.raises((RuntimeError, NotImplementedError)):
        call(torch.tensor([True, False]))


def test_bool_arithmetic_pytorch_allows_still_works() -> None:
    t = bp.tensor([True, False])
    assert (t + t).dtype == bp.bool and (t * t).dtype == bp.bool
    assert (t // 2).dtype == bp.int64 and (t + 1).tolist() == [2, 1]
    assert (t / t).dtype == bp.float32 and t.sum().item() == 1


def test_a_uint8_index_is_a_mask(torch: Any) -> None:
    x = bp.tensor([1.0, 2.0, 3.0])
    mask = bp.tensor([1, 0, 1], dtype=bp.uint8)
    with pytest.warns(UserWarning, match="uint8 .* deprecated"):
        picked = x[mask]
    with pytest.warns(UserWarning):
        expected = torch.tensor([1.0, 2.0, 3.0])[torch.tensor([1, 0, 1], dtype=torch.uint8)]
    assert picked.tolist() == expected.tolist() == [1.0, 3.0]
    with pytest.warns(UserWarning, match="uint8"):
        x[mask] = 0.0
    assert x.tolist() == [0.0, 2.0, 0.0]


# -- gradients through promotion ------------------------------------------------------------------

@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "maximum", "where"])
def test_gradients_through_a_0d_float64_tensor_match_pytorch(op: str, torch32: Any) -> None:
    """float32 with a 0-d float64 tensor computes in float32; each input's gradient has its
    own dtype and PyTorch's values."""
    torch = torch32
    x64 = np.array([0.5, 2.0])
    results = []
    for lib in (bp, torch):
        x = lib.tensor(x64, dtype=lib.float32, requires_grad=True)
        s = lib.tensor(1.5, dtype=lib.float64, requires_grad=True)
        out = OPS[op](lib, x, s)
        out.backward(lib.ones_like(out))
        results.append((str(out.dtype), out.detach().numpy(), x.grad.dtype, x.grad.numpy(),
                        s.grad.dtype, s.grad.numpy()))
    ours, theirs = results
    assert ours[0] == "float32" and theirs[0] == "torch.float32"
    assert str(ours[2]) == "float32" and str(ours[4]) == "float64"
    for k in (1, 3, 5):
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-6)


def test_a_float32_graph_stays_float32_beside_float64_scalars() -> None:
    w = bp.randn(3, requires_grad=True)
    scale = bp.tensor(0.5, dtype=bp.float64)  # e.g. a schedule's value kept as a 0-d tensor
    loss = ((w * scale + 1) ** 2).mean()
    assert loss.dtype == bp.float32
    loss.backward()
    assert w.grad.dtype == bp.float32
