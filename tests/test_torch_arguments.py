"""PyTorch's argument forms and result dtypes for the ops of issue 15 (items 7 and 8), beyond
the op table's values and gradients: the dtype (and the sign of a zero) each call gives, NumPy
errors re-raised with their message, ``.to``'s positional flags, ``memory_format`` wherever
PyTorch takes it, and tensor bounds in ``linspace``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import backprop as bp
from backprop.errors import reworded
from backprop.ops import PRIMITIVES


def _same(ours: bp.Tensor, theirs: Any) -> None:
    """Same dtype, shape, values and signs of zeros."""
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours, theirs)
    expected = theirs.numpy()
    np.testing.assert_array_equal(ours.numpy(), expected)
    if expected.dtype.kind == "f":
        np.testing.assert_array_equal(np.signbit(ours.numpy()), np.signbit(expected))


# -- dtypes and signed zeros -----------------------------------------------------------------------

SIGN_INPUTS = [
    ("float32", [float("nan"), 0.0, -0.0, float("inf"), -float("inf"), 2.0, -3.0]),
    ("float64", [float("nan"), -0.0, 1e-300]),
    ("bool", [True, False]),
    ("int64", [3, 0, -2]),
    ("uint8", [3, 0, 255]),
]


@pytest.mark.parametrize("name", ["sign", "sgn"])
@pytest.mark.parametrize("dtype,values", SIGN_INPUTS, ids=[d for d, _ in SIGN_INPUTS])
def test_sign_matches_pytorch(torch: Any, name: str, dtype: str, values: list) -> None:
    ours = getattr(bp.tensor(np.array(values, dtype=dtype)), name)()
    _same(ours, getattr(torch.tensor(values, dtype=getattr(torch, dtype)), name)())


def test_issue_sign_of_bool_returns_the_signs() -> None:
    assert bp.tensor([True, False]).sign().tolist() == [True, False]


DIVISIONS = [("int64", "int64"), ("int32", "int64"), ("uint8", "uint8"), ("float32", "int64"),
             ("int64", "float64"), ("float32", "float32")]


@pytest.mark.parametrize("mode", ["trunc", "floor"])
@pytest.mark.parametrize("a,b", DIVISIONS, ids=[f"{a}/{b}" for a, b in DIVISIONS])
def test_rounded_division_dtypes_match_pytorch(torch: Any, mode: str, a: str, b: str) -> None:
    x, y = [-7, 7, -8, 8, 0, 5, 9], [2, 2, 2, 3, 3, 3, 4]
    if b != "uint8":
        y = [v * s for v, s in zip(y, [1, -1, 1, -1, 1, -1, 1])]
    if a == "uint8":
        x = [abs(v) for v in x]
    ours = bp.div(bp.tensor(x, dtype=getattr(bp, a)), bp.tensor(y, dtype=getattr(bp, b)),
                  rounding_mode=mode)
    _same(ours, torch.div(torch.tensor(x, dtype=getattr(torch, a)),
                          torch.tensor(y, dtype=getattr(torch, b)), rounding_mode=mode))
    other = 2 if a == "uint8" else -2
    scalar = bp.tensor(x, dtype=getattr(bp, a)).div(other, rounding_mode=mode)
    _same(scalar, torch.tensor(x, dtype=getattr(torch, a)).div(other, rounding_mode=mode))


def test_rounded_division_in_place_keeps_an_integer_tensor(torch: Any) -> None:
    ours = bp.tensor([-7, 7])
    ours.div_(2, rounding_mode="trunc")
    _same(ours, torch.tensor([-7, 7]).div_(2, rounding_mode="trunc"))


@pytest.mark.parametrize("dtype", ["int64", "float32", "float64"])
def test_alpha_dtypes_match_pytorch(torch: Any, dtype: str) -> None:
    x, y = [1, 2, 3], [4, 5, 6]
    for op in ("add", "sub"):
        ours = getattr(bp.tensor(x, dtype=getattr(bp, dtype)), op)(
            bp.tensor(y, dtype=getattr(bp, dtype)), alpha=3)
        _same(ours, getattr(torch.tensor(x, dtype=getattr(torch, dtype)), op)(
            torch.tensor(y, dtype=getattr(torch, dtype)), alpha=3))


INTEGER_ALPHAS = [
    pytest.param(lambda lib: lib.tensor([1, 2], dtype=lib.int8).add(100, alpha=2), id="int8-wraps"),
    pytest.param(lambda lib: lib.add(lib.tensor([1, 2], dtype=lib.uint8), 3, alpha=-1),
                 id="uint8-negative-alpha"),
    pytest.param(lambda lib: lib.tensor([1, 2], dtype=lib.int8).sub(
        lib.tensor([100, 1], dtype=lib.int8), alpha=3), id="int8-sub"),
    pytest.param(lambda lib: lib.tensor([1, 2], dtype=lib.uint8).add(300, alpha=2),
                 id="uint8-large-other"),
    pytest.param(lambda lib: lib.tensor([1, 2]).add(lib.tensor([True, False]), alpha=3),
                 id="bool-other"),
]


@pytest.mark.parametrize("call", INTEGER_ALPHAS)
def test_integer_alpha_wraps_as_pytorch(torch: Any, call: Any) -> None:
    _same(call(bp), call(torch))


def test_integer_alpha_beyond_the_dtype_is_refused(torch: Any) -> None:
    with pytest.raises(RuntimeError, match="cannot be converted to type uint8_t without overflow"):
        torch.add(torch.tensor([1], dtype=torch.uint8), torch.tensor([1], dtype=torch.uint8),
                  alpha=300)
    with pytest.raises(bp.DTypeOverflowError,
                       match=r"add: alpha=300 cannot be converted to type uint8 without overflow"):
        bp.add(bp.tensor([1], dtype=bp.uint8), bp.tensor([1], dtype=bp.uint8), alpha=300)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "float32"])
def test_scatter_reduce_dtypes_match_pytorch(torch: Any, reduce: str, dtype: str) -> None:
    x, src, index = [[5, 1], [2, 7]], [[3, 4], [6, 8], [1, 1]], [[0, 0], [0, 1], [1, 1]]
    for include_self in (True, False):
        ours = bp.scatter_reduce(bp.tensor(x, dtype=getattr(bp, dtype)), 0, bp.tensor(index),
                                 bp.tensor(src, dtype=getattr(bp, dtype)), reduce,
                                 include_self=include_self)
        theirs = torch.scatter_reduce(torch.tensor(x, dtype=getattr(torch, dtype)), 0,
                                      torch.tensor(index),
                                      torch.tensor(src, dtype=getattr(torch, dtype)), reduce,
                                      include_self=include_self)
        _same(ours, theirs)


@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_legacy_scatter_reduce_matches_pytorch(torch: Any, reduce: str) -> None:
    """PyTorch's own scatter(reduce=) (the op table compares with scatter_reduce, which has
    gradients), including the in-place form and a number for src."""
    x, index, src = [[1.0, 2.0], [3.0, 4.0]], [[0, 0], [0, 1]], [[2.0, 3.0], [5.0, 7.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PyTorch deprecates scatter(reduce=)
        x32 = torch.tensor(x, dtype=torch.float32)
        theirs = x32.scatter(0, torch.tensor(index), torch.tensor(src, dtype=torch.float32),
                             reduce=reduce)
        theirs_value = x32.scatter_(0, torch.tensor(index), 1.5, reduce=reduce)
    _same(bp.tensor(x).scatter(0, bp.tensor(index), bp.tensor(src), reduce=reduce), theirs)
    _same(bp.tensor(x).scatter_(0, bp.tensor(index), value=1.5, reduce=reduce), theirs_value)


# -- NumPy errors re-raised ------------------------------------------------------------------------

def test_numpy_exceptions_with_their_own_constructors_keep_their_message() -> None:
    """NumPy's _UFuncNoLoopError takes (ufunc, dtypes), so rebuilding it from a message failed
    with a TypeError about __init__, hiding the real error (issue 15)."""
    with pytest.raises(TypeError) as caught:
        np.sign(np.array(["a"]))
    assert type(caught.value).__init__ is not TypeError.__init__  # the case that used to break
    err = PRIMITIVES["sign"]._clear_error(caught.value, [np.array(["a"])], {})
    assert type(err) is TypeError
    assert str(err).startswith("sign: ufunc 'sign' did not contain a loop")
    assert "(inputs: (1,) <U1)" in str(err)


def test_reworded_keeps_classes_that_take_a_message() -> None:
    class Mine(ValueError):
        pass

    assert type(reworded(np.linalg.LinAlgError("x"), "y")) is np.linalg.LinAlgError
    assert type(reworded(Mine("x"), "y")) is Mine
    assert str(reworded(Mine("x"), "y")) == "y"


@pytest.mark.parametrize("err,kind", [
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), UnicodeError),
    (KeyError("k"), KeyError),
    (np.exceptions.AxisError(2, 1), ValueError),  # its own __init__: not trusted with a message
    (FileNotFoundError(2, "No such file"), FileNotFoundError),
], ids=["five-argument-builtin", "builtin", "own-constructor", "errno"])
def test_reworded_takes_every_exception_type(err: BaseException, kind: type) -> None:
    """Every exception comes back with the message, of its own class or the nearest base that
    takes one (UnicodeDecodeError's constructor needs five arguments)."""
    new = reworded(err, "op: the message")
    assert type(new) is kind and "op: the message" in str(new)


# -- .to(...) --------------------------------------------------------------------------------------

def test_to_takes_non_blocking_and_copy_by_position() -> None:
    x = bp.ones(2)
    assert x.to(bp.float32, False, True) is not x
    assert x.to(bp.float32, True) is x
    assert x.to("cpu", bp.float32, False, True) is not x
    assert x.to(x, False, True) is not x
    assert x.to(bp.float32, non_blocking=True, copy=True) is not x
    assert x.to(bp.float64, True).dtype == bp.float64


@pytest.mark.parametrize("call,error,match", [
    (lambda x: x.to(bp.float32, False, True, True), TypeError,
     r"to: got 3 flags \[False, True, True\]; at most two follow the dtype or device"),
    (lambda x: x.to(bp.float32, False, True, copy=True), TypeError,
     r"to: copy is given both by position and as a keyword"),
    (lambda x: x.to(False, bp.float32), TypeError,
     r"to: dtype\('float32'\) comes after the flags non_blocking and copy"),
    (lambda x: x.to(bp.float32, devise="cpu"), TypeError,
     r"to: unexpected keyword argument 'devise'"),
    (lambda x: x.to(memory_format=bp.channels_last), ValueError,
     r"to: memory_format=bp.channels_last is not supported"),
], ids=["three-flags", "copy-twice", "flag-first", "unknown-keyword", "channels-last"])
def test_to_refuses_what_pytorch_refuses(call: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        call(bp.ones(2))


def test_module_to_takes_pytorchs_arguments() -> None:
    layer = bp.nn.Linear(2, 1)
    assert layer.to("cpu", bp.float64, False).weight.dtype == bp.float64
    assert layer.to(memory_format=bp.contiguous_format) is layer
    with pytest.raises(ValueError, match=r"Module.to: memory_format=bp.channels_last_3d"):
        layer.to(memory_format=bp.channels_last_3d)


# -- memory_format ---------------------------------------------------------------------------------

LIKE = ["empty_like", "zeros_like", "ones_like", "rand_like", "randn_like"]


@pytest.mark.parametrize("name", LIKE)
def test_like_factories_take_memory_format(torch: Any, name: str) -> None:
    x = bp.ones(2, 3, dtype=bp.float64)
    for fmt in ("contiguous_format", "preserve_format"):
        ours = getattr(bp, name)(x, memory_format=getattr(bp, fmt))
        theirs = getattr(torch, name)(torch.ones(2, 3), memory_format=getattr(torch, fmt))
        assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == "float64"
    with pytest.raises(ValueError, match=rf"{name}: memory_format=bp.channels_last is not"):
        getattr(bp, name)(x, memory_format=bp.channels_last)


def test_full_like_and_contiguous_take_memory_format() -> None:
    assert bp.full_like(bp.ones(2), 3, memory_format=bp.preserve_format).tolist() == [3.0, 3.0]
    x = bp.ones(2, 3).T
    y = x.contiguous(memory_format=bp.contiguous_format)
    assert y.is_contiguous() and y.tolist() == x.tolist()
    with pytest.raises(ValueError, match=r"contiguous: memory_format=bp.channels_last"):
        x.contiguous(memory_format=bp.channels_last)
    with pytest.raises(TypeError, match=r"full_like: memory_format must be"):
        bp.full_like(bp.ones(2), 3, memory_format="channels_last")


def test_empty_and_is_contiguous_take_memory_format(torch: Any) -> None:
    ours = bp.empty(2, 3, memory_format=bp.contiguous_format)
    theirs = torch.empty(2, 3, memory_format=torch.contiguous_format)
    assert ours.shape == tuple(theirs.shape) and ours.is_contiguous(bp.contiguous_format)
    assert not bp.ones(2, 3).T.is_contiguous(memory_format=bp.contiguous_format)
    for call in (lambda: bp.empty(1, 2, 3, 4, memory_format=bp.channels_last),
                 lambda: ours.is_contiguous(memory_format=bp.channels_last)):
        with pytest.raises(ValueError, match=r"(empty|is_contiguous): memory_format="
                                             r"bp.channels_last is not supported"):
            call()


def test_memory_formats_are_named_as_in_pytorch(torch: Any) -> None:
    for name in ("contiguous_format", "preserve_format", "channels_last", "channels_last_3d"):
        assert isinstance(getattr(bp, name), bp.memory_format)
        assert repr(getattr(bp, name)) == f"bp.{name}" == repr(getattr(torch, name)).replace(
            "torch.", "bp.")


# -- linspace with tensor bounds -------------------------------------------------------------------

@pytest.mark.parametrize("start,end", [(0.0, 1.0), (0, 10), (-2.5, 2)])
def test_issue_linspace_takes_0d_tensor_bounds(torch: Any, start: Any, end: Any) -> None:
    for dtype in ("float32", "float64"):
        ours = bp.linspace(bp.tensor(start), bp.tensor(end), 5, dtype=getattr(bp, dtype))
        theirs = torch.linspace(torch.tensor(start), torch.tensor(end), 5,
                                dtype=getattr(torch, dtype))
        assert str(ours.dtype) == dtype
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    assert bp.linspace(bp.tensor(start), end, 3).dtype == bp.float32  # the default float
    assert bp.linspace(start, bp.tensor(end), 3).tolist() == bp.linspace(start, end, 3).tolist()


def test_linspace_refuses_tensor_bounds_with_dims() -> None:
    with pytest.raises(bp.ShapeError,
                       match=r"linspace: start must be a number or a 0-d tensor, got a tensor of "
                             r"shape \(1,\)"):
        bp.linspace(bp.tensor([0.0]), 1, 3)


def test_logspace_takes_0d_tensor_bounds(torch: Any) -> None:
    ours = bp.logspace(bp.tensor(0.0), bp.tensor(2.0), 5, dtype=bp.float64)
    _same(ours, torch.logspace(torch.tensor(0.0), torch.tensor(2.0), 5, dtype=torch.float64))
    with pytest.raises(bp.ShapeError, match=r"logspace: end must be a number or a 0-d tensor"):
        bp.logspace(0, bp.tensor([2.0]), 3)


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_rounded_integer_division_by_zero_raises_as_pytorch(torch: Any, mode: str) -> None:
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        torch.div(torch.tensor([5, -5]), 0, rounding_mode=mode)
    with pytest.raises(bp.IntegerDivisionByZeroError, match=r"div: integer division by zero"):
        bp.div(bp.tensor([5, -5]), 0, rounding_mode=mode)
    assert bp.div(bp.tensor([5.0, -5.0]), 0, rounding_mode=mode).tolist() == torch.div(
        torch.tensor([5.0, -5.0]), 0, rounding_mode=mode).tolist()
