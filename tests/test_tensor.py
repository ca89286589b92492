"""The Tensor and factory API as a PyTorch user expects it.

Construction and dtype inference, factories and random numbers, attributes and conversions,
operators mixing tensors with NumPy arrays and Python scalars (and PyTorch's type promotion),
printing, and the errors a user meets first. Where PyTorch is installed, dtype rules and factory
values are also compared with it directly (the shared ``torch32`` fixture restores PyTorch's own
default float32, which the ``torch`` fixture sets to float64 for the gradient comparisons).
"""

from __future__ import annotations

import operator
import re
from typing import Any, Callable

import numpy as np
import pytest

import backprop as bp


def torch_dtype_name(dtype: Any) -> str:
    """``torch.float32`` -> ``"float32"``, to compare with ``str(bp_tensor.dtype)``."""
    return str(dtype).removeprefix("torch.")


# -- bp.tensor: dtype inference ------------------------------------------------------------------

PYTHON_DATA = [
    pytest.param(1.5, bp.float32, id="float-scalar"),
    pytest.param([1.0, 2.0], bp.float32, id="float-list"),
    pytest.param([[1.0], [2.0]], bp.float32, id="float-nested"),
    pytest.param(3, bp.int64, id="int-scalar"),
    pytest.param([[1, 2], [3, 4]], bp.int64, id="int-nested"),
    pytest.param(True, bp.bool, id="bool-scalar"),
    pytest.param([True, False], bp.bool, id="bool-list"),
    pytest.param([1, 2.5], bp.float32, id="int-and-float"),
    pytest.param([True, 2], bp.int64, id="bool-and-int"),
    pytest.param([], bp.float32, id="empty-list"),
]


@pytest.mark.parametrize("data,expected", PYTHON_DATA)
def test_tensor_infers_dtype_from_python_values(data: Any, expected: Any) -> None:
    t = bp.tensor(data)
    assert t.dtype == expected
    np.testing.assert_array_equal(t.numpy(), np.array(data, dtype=expected))


@pytest.mark.parametrize("data,expected", PYTHON_DATA)
def test_tensor_dtype_inference_matches_torch(torch32: Any, data: Any, expected: Any) -> None:
    assert str(bp.tensor(data).dtype) == torch_dtype_name(torch32.tensor(data).dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int32, np.int64,
                                   np.uint8, np.bool_])
def test_tensor_keeps_numpy_dtype(dtype: Any) -> None:
    array = np.array([[0, 1], [1, 0]], dtype=dtype)
    t = bp.tensor(array)
    assert t.dtype == array.dtype
    assert t.shape == (2, 2)
    np.testing.assert_array_equal(t.numpy(), array)


def test_tensor_keeps_numpy_scalar_dtype() -> None:
    assert bp.tensor(np.float64(2.0)).dtype == bp.float64
    assert bp.tensor(np.int32(2)).dtype == bp.int32


@pytest.mark.parametrize("data,dtype,expected", [
    ([1, 2], bp.float64, [1.0, 2.0]),
    ([1.0, 2.0], bp.float64, [1.0, 2.0]),
    ([1.7, -2.0], bp.int64, [1, -2]),
    ([1, 0, 3], bp.bool, [True, False, True]),
    (np.array([1.5, 2.5]), bp.float32, [1.5, 2.5]),
    ([0.5], bp.float16, [0.5]),
])
def test_tensor_dtype_argument_overrides_inference(data: Any, dtype: Any, expected: list) -> None:
    t = bp.tensor(data, dtype=dtype)
    assert t.dtype == dtype
    assert t.tolist() == expected


def test_tensor_accepts_dtype_names_and_python_types() -> None:
    assert bp.tensor([1], dtype="float64").dtype == bp.float64
    assert bp.tensor([1], dtype=float).dtype == bp.float64  # torch maps Python float to float64
    assert bp.tensor([1.5], dtype=int).dtype == bp.int64


def test_tensor_rejects_a_non_dtype() -> None:
    with pytest.raises(TypeError, match="dtype"):
        bp.tensor([1.0], dtype="not-a-dtype")


# -- bp.tensor / as_tensor / from_numpy: copying semantics ----------------------------------------

def test_tensor_copies_a_numpy_array() -> None:
    array = np.zeros(3)
    t = bp.tensor(array)
    array[0] = 5.0
    assert t.tolist() == [0.0, 0.0, 0.0]


def test_tensor_copies_a_tensor() -> None:
    source = bp.tensor([1.0, 2.0])
    copy = bp.tensor(source)
    source.numpy()[0] = 9.0
    assert copy.tolist() == [1.0, 2.0]
    assert copy.dtype == source.dtype


def test_tensor_from_list_of_tensors() -> None:
    t = bp.tensor([bp.tensor(1.0), bp.tensor(2.0)])
    assert t.tolist() == [1.0, 2.0]
    assert t.dtype == bp.float32


@pytest.mark.parametrize("make", [bp.as_tensor, bp.from_numpy], ids=["as_tensor", "from_numpy"])
def test_as_tensor_and_from_numpy_share_memory(make: Callable) -> None:
    array = np.arange(4, dtype=np.float64)
    t = make(array)
    assert t.dtype == bp.float64
    array[0] = 10.0
    assert t.tolist()[0] == 10.0
    t.numpy()[1] = -1.0  # and writes through the tensor reach the array
    assert array[1] == -1.0


def test_as_tensor_copies_only_when_the_dtype_changes() -> None:
    array = np.arange(3, dtype=np.float64)
    converted = bp.as_tensor(array, dtype=bp.float32)
    assert converted.dtype == bp.float32
    array[0] = 7.0
    assert converted.tolist()[0] == 0.0


def test_as_tensor_returns_a_tensor_unchanged() -> None:
    t = bp.tensor([1.0, 2.0])
    assert bp.as_tensor(t) is t


def test_as_tensor_of_python_data_infers_like_tensor() -> None:
    assert bp.as_tensor([1.0, 2.0]).dtype == bp.float32
    assert bp.as_tensor([1, 2]).dtype == bp.int64


@pytest.mark.parametrize("data", [[1.0, 2.0], 3.0, bp.tensor([1.0])],
                         ids=["list", "float", "tensor"])
def test_from_numpy_refuses_non_arrays(data: Any) -> None:
    with pytest.raises(TypeError, match="ndarray"):
        bp.from_numpy(data)


# -- bp.tensor: bad input ------------------------------------------------------------------------

@pytest.mark.parametrize("data", [[[1, 2], [3]], [[1.0], [2.0, 3.0]], [[[1]], [2]]],
                         ids=["short-row", "long-row", "mixed-depth"])
def test_ragged_lists_raise_a_clear_error(data: Any) -> None:
    # PyTorch raises ValueError ("expected sequence of length 2 at dim 1 (got 1)").
    with pytest.raises(ValueError, match="ragged"):
        bp.tensor(data)


@pytest.mark.parametrize("data", ["abc", ["a", "b"], [1, "a"], [1, None], None, {"a": 1}],
                         ids=["str", "str-list", "int-and-str", "none-in-list", "none", "dict"])
def test_non_numeric_data_raises_type_error(data: Any) -> None:
    with pytest.raises(TypeError, match="tensor"):
        bp.tensor(data)


# -- factories ------------------------------------------------------------------------------------

@pytest.mark.parametrize("factory,value", [(bp.zeros, 0.0), (bp.ones, 1.0), (bp.empty, None)],
                         ids=["zeros", "ones", "empty"])
@pytest.mark.parametrize("size,shape", [((2, 3), (2, 3)), (((2, 3),), (2, 3)), (([4],), (4,)),
                                        ((), ()), ((0, 2), (0, 2))],
                         ids=["varargs", "tuple", "list", "scalar", "empty-dim"])
def test_constant_factories(factory: Callable, value: float | None, size: tuple,
                            shape: tuple) -> None:
    t = factory(*size)
    assert t.shape == shape
    assert t.dtype == bp.float32
    assert not t.requires_grad and t.is_leaf
    if value is not None:
        assert (t.numpy() == value).all()


@pytest.mark.parametrize("factory", [bp.zeros, bp.ones, bp.empty], ids=["zeros", "ones", "empty"])
def test_constant_factories_dtype_and_requires_grad(factory: Callable) -> None:
    assert factory(2, dtype=bp.int64).dtype == bp.int64
    assert factory(2, dtype=bp.float64).dtype == bp.float64
    t = factory(2, requires_grad=True)
    assert t.requires_grad and t.is_leaf


def test_negative_size_raises() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        bp.zeros(2, -1)


@pytest.mark.parametrize("fill,dtype", [(7, bp.int64), (0.5, bp.float32), (True, bp.bool),
                                        (-3, bp.int64)])
def test_full_dtype_follows_fill_value(fill: Any, dtype: Any) -> None:
    t = bp.full((2, 3), fill)
    assert t.shape == (2, 3)
    assert t.dtype == dtype
    assert (t.numpy() == fill).all()


@pytest.mark.parametrize("fill", [7, 0.5, True])
def test_full_dtype_matches_torch(torch32: Any, fill: Any) -> None:
    assert str(bp.full((2,), fill).dtype) == torch_dtype_name(torch32.full((2,), fill).dtype)


def test_full_dtype_argument_and_requires_grad() -> None:
    t = bp.full((2,), 3, dtype=bp.float64, requires_grad=True)
    assert t.dtype == bp.float64 and t.requires_grad
    assert t.tolist() == [3.0, 3.0]


SOURCE_FOR_LIKE = bp.tensor([[1, 2, 3], [4, 5, 6]], dtype=bp.float64)


@pytest.mark.parametrize("like,value", [(bp.zeros_like, 0.0), (bp.ones_like, 1.0),
                                        (bp.empty_like, None), (bp.rand_like, None),
                                        (bp.randn_like, None)],
                         ids=["zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"])
def test_like_factories_keep_shape_and_dtype(like: Callable, value: float | None) -> None:
    t = like(SOURCE_FOR_LIKE)
    assert t.shape == (2, 3)
    assert t.dtype == bp.float64
    if value is not None:
        assert (t.numpy() == value).all()
    assert like(SOURCE_FOR_LIKE, dtype=bp.float32).dtype == bp.float32
    assert like(SOURCE_FOR_LIKE, requires_grad=True).requires_grad


def test_like_factories_follow_an_int_input() -> None:
    ints = bp.tensor([1, 2])
    assert bp.zeros_like(ints).dtype == bp.int64
    assert bp.ones_like(ints).tolist() == [1, 1]


def test_full_like_takes_fill_value_positionally() -> None:
    # torch.full_like(input, fill_value, *, dtype=None, ...): the value is the 2nd positional arg.
    t = bp.full_like(SOURCE_FOR_LIKE, 3)
    assert t.shape == (2, 3) and t.dtype == bp.float64
    assert (t.numpy() == 3).all()
    assert bp.full_like(SOURCE_FOR_LIKE, fill_value=2.5).tolist() == [[2.5] * 3] * 2


@pytest.mark.parametrize("args,kwargs,expected,dtype", [
    ((5,), {}, [0, 1, 2, 3, 4], bp.int64),
    ((2, 8, 3), {}, [2, 5], bp.int64),
    ((5, 0, -1), {}, [5, 4, 3, 2, 1], bp.int64),
    ((0, -6, -2), {}, [0, -2, -4], bp.int64),
    ((0, 1, 0.25), {}, [0.0, 0.25, 0.5, 0.75], bp.float32),
    ((1.0, 0, -0.25), {}, [1.0, 0.75, 0.5, 0.25], bp.float32),
    ((3.0,), {}, [0.0, 1.0, 2.0], bp.float32),
    ((3,), {"dtype": bp.float64}, [0.0, 1.0, 2.0], bp.float64),
    ((0,), {}, [], bp.int64),
    ((3, 3), {}, [], bp.int64),
])
def test_arange(args: tuple, kwargs: dict, expected: list, dtype: Any) -> None:
    t = bp.arange(*args, **kwargs)
    assert t.dtype == dtype
    np.testing.assert_allclose(t.numpy(), expected)


@pytest.mark.parametrize("args", [(5,), (2, 8, 3), (5, 0, -1), (0, 1, 0.25), (1.0, 0, -0.25),
                                  (0, 1, 0.1), (-1.5, 2.5)])
def test_arange_matches_torch(torch32: Any, args: tuple) -> None:
    ours, theirs = bp.arange(*args), torch32.arange(*args)
    assert str(ours.dtype) == torch_dtype_name(theirs.dtype)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_arange_zero_step_raises() -> None:
    with pytest.raises(ValueError, match="step"):
        bp.arange(0, 3, 0)


@pytest.mark.parametrize("start,end,steps", [(0, 1, 5), (-1, 1, 3), (2, 2, 4), (0, 1, 1),
                                             (0, 1, 0), (1, 0, 3)])
def test_linspace(start: float, end: float, steps: int) -> None:
    t = bp.linspace(start, end, steps)
    assert t.dtype == bp.float32
    assert t.shape == (steps,)
    np.testing.assert_allclose(t.numpy(), np.linspace(start, end, steps), rtol=1e-6)
    if steps > 1:
        assert t.tolist()[0] == start and t.tolist()[-1] == end


def test_linspace_matches_torch(torch32: Any) -> None:
    np.testing.assert_allclose(bp.linspace(-2, 3, 7).numpy(), torch32.linspace(-2, 3, 7).numpy(),
                               rtol=1e-6)
    assert bp.linspace(0, 1, 3, dtype=bp.float64).dtype == bp.float64


@pytest.mark.parametrize("args,expected", [((3,), np.eye(3)), ((2, 3), np.eye(2, 3)),
                                           ((3, 2), np.eye(3, 2)), ((0,), np.eye(0))])
def test_eye(args: tuple, expected: np.ndarray) -> None:
    t = bp.eye(*args)
    assert t.dtype == bp.float32
    np.testing.assert_array_equal(t.numpy(), expected)
    assert bp.eye(*args, dtype=bp.int64).dtype == bp.int64


# -- random numbers ------------------------------------------------------------------------------

def test_rand_is_uniform_in_unit_interval() -> None:
    t = bp.rand(2000)
    assert t.dtype == bp.float32 and t.shape == (2000,)
    values = t.numpy()
    assert values.min() >= 0.0 and values.max() < 1.0
    assert abs(values.mean() - 0.5) < 0.05
    assert bp.rand(2, 3).shape == (2, 3) and bp.rand((2, 3)).shape == (2, 3)


def test_randn_is_standard_normal() -> None:
    t = bp.randn(4000)
    assert t.dtype == bp.float32
    assert abs(t.numpy().mean()) < 0.1
    assert abs(t.numpy().std() - 1.0) < 0.1
    assert bp.randn(2, 3, dtype=bp.float64).dtype == bp.float64
    assert bp.randn(2, requires_grad=True).requires_grad


@pytest.mark.parametrize("args,kwargs,low,high", [
    ((3, 10, (500,)), {}, 3, 10),
    ((-5, 5, (500,)), {}, -5, 5),
    ((0, 1, (50,)), {}, 0, 1),
    ((3, 10), {"size": (500,)}, 3, 10),
    ((10, (500,)), {}, 0, 10),            # torch.randint(high, size)
    ((10,), {"size": (500,)}, 0, 10),     # torch.randint(high, size=...)
], ids=["low-high-size", "negative-low", "single-value", "size-keyword", "high-size",
        "high-size-keyword"])
def test_randint_range_and_dtype(args: tuple, kwargs: dict, low: int, high: int) -> None:
    t = bp.randint(*args, **kwargs)
    assert t.dtype == bp.int64
    assert t.shape == (500,) or t.shape == (50,)
    values = t.numpy()
    assert values.min() >= low and values.max() < high
    if high - low > 1:
        assert len(np.unique(values)) == high - low  # every value in range is drawn


def test_randint_dtype_and_shape_arguments() -> None:
    assert bp.randint(0, 5, (2, 3)).shape == (2, 3)
    assert bp.randint(0, 5, (4,), dtype=bp.int32).dtype == bp.int32


def test_randint_empty_range_raises() -> None:
    with pytest.raises(ValueError, match="randint"):
        bp.randint(5, 5, (3,))


@pytest.mark.parametrize("n", [0, 1, 7, 50])
def test_randperm(n: int) -> None:
    t = bp.randperm(n)
    assert t.dtype == bp.int64
    assert sorted(t.tolist()) == list(range(n))


DRAWS = {
    "rand": lambda **kw: bp.rand(5, **kw),
    "randn": lambda **kw: bp.randn(5, **kw),
    "randint": lambda **kw: bp.randint(0, 1000, (5,), **kw),
    "randperm": lambda **kw: bp.randperm(20, **kw),
}


@pytest.mark.parametrize("draw", DRAWS.values(), ids=DRAWS.keys())
def test_manual_seed_makes_sequences_reproducible(draw: Callable) -> None:
    bp.manual_seed(1234)
    first = [draw().tolist() for _ in range(3)]
    bp.manual_seed(1234)
    second = [draw().tolist() for _ in range(3)]
    assert first == second
    assert first[0] != first[1]  # the stream moves on between calls


@pytest.mark.parametrize("draw", DRAWS.values(), ids=DRAWS.keys())
def test_different_seeds_give_different_values(draw: Callable) -> None:
    bp.manual_seed(0)
    a = draw().tolist()
    bp.manual_seed(1)
    b = draw().tolist()
    assert a != b


def test_manual_seed_returns_a_generator() -> None:
    assert isinstance(bp.manual_seed(0), bp.Generator)


@pytest.mark.parametrize("draw", DRAWS.values(), ids=DRAWS.keys())
def test_generator_is_independent_of_the_global_stream(draw: Callable) -> None:
    g = bp.Generator().manual_seed(7)
    a = draw(generator=g).tolist()
    bp.manual_seed(99)
    g.manual_seed(7)
    bp.rand(3)  # drawing from the default stream must not move g
    b = draw(generator=g).tolist()
    assert a == b
    bp.manual_seed(7)
    draw()  # nor does drawing from g move the default stream
    g2 = bp.Generator().manual_seed(7)
    assert draw(generator=g2).tolist() == a


def test_generator_state_round_trip() -> None:
    g = bp.Generator().manual_seed(3)
    assert g.initial_seed() == 3
    state = g.get_state()
    a = bp.rand(4, generator=g).tolist()
    g.set_state(state)
    assert bp.rand(4, generator=g).tolist() == a


# -- dtypes --------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype,data", [
    (bp.float32, [1.0]), (bp.float64, np.array([1.0])), (bp.float16, np.array([1.0], np.float16)),
    (bp.int64, [1]), (bp.int32, np.array([1], np.int32)), (bp.bool, [True]),
])
def test_dtype_objects_compare_with_tensor_dtype(dtype: Any, data: Any) -> None:
    t = bp.tensor(data)
    assert t.dtype == dtype
    assert bp.zeros(1, dtype=dtype).dtype == dtype
    others = [d for d in (bp.float32, bp.float64, bp.float16, bp.int64, bp.int32, bp.bool)
              if d is not dtype]
    assert all(t.dtype != other for other in others)


@pytest.mark.parametrize("alias,dtype", [("float", bp.float32), ("double", bp.float64),
                                         ("half", bp.float16), ("long", bp.int64),
                                         ("int", bp.int32), ("short", bp.int16)])
def test_dtype_aliases(alias: str, dtype: Any) -> None:
    # PyTorch's aliases: torch.float is float32, torch.int is int32, torch.long is int64, ...
    assert getattr(bp, alias, None) == dtype, f"bp.{alias} should be {dtype}"


# -- attributes ----------------------------------------------------------------------------------

MATRIX = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def test_shape_ndim_size_numel_len() -> None:
    t = bp.tensor(MATRIX)
    assert t.shape == (2, 3)
    assert isinstance(t.shape, tuple)
    assert t.ndim == 2 and t.dim() == 2
    assert t.size() == (2, 3)
    assert (t.size(0), t.size(1), t.size(-1), t.size(-2)) == (2, 3, 3, 2)
    assert t.numel() == 6
    assert len(t) == 2


def test_scalar_attributes() -> None:
    t = bp.tensor(3.0)
    assert t.shape == () and t.ndim == 0 and t.numel() == 1 and t.size() == ()


@pytest.mark.parametrize("dim", [2, -3, 5])
def test_size_of_a_missing_dim_raises_index_error(dim: int) -> None:
    with pytest.raises(IndexError, match=r"\[-2, 1\]"):
        bp.tensor(MATRIX).size(dim)


def test_iter_yields_rows() -> None:
    rows = list(bp.tensor(MATRIX))
    assert len(rows) == 2
    assert all(isinstance(r, bp.Tensor) for r in rows)
    assert [r.tolist() for r in rows] == MATRIX
    assert [r.shape for r in rows] == [(3,), (3,)]


def test_iter_over_a_vector_yields_scalars() -> None:
    items = [v.item() for v in bp.tensor([1, 2, 3])]
    assert items == [1, 2, 3]


@pytest.mark.parametrize("data,expected,kind", [
    (2.5, 2.5, float), ([2.5], 2.5, float), ([[7]], 7, int), (True, True, bool),
    (np.array(1.25, np.float64), 1.25, float),
])
def test_item_returns_a_python_number(data: Any, expected: Any, kind: type) -> None:
    value = bp.tensor(data).item()
    assert value == expected
    assert type(value) is kind


@pytest.mark.parametrize("data,count", [([1.0, 2.0, 3.0], 3), (MATRIX, 6), ([], 0)])
def test_item_of_several_elements_raises_naming_the_count(data: Any, count: int) -> None:
    with pytest.raises(ValueError, match=rf"\b{count} elements"):
        bp.tensor(data).item()


def test_tolist() -> None:
    assert bp.tensor(MATRIX).tolist() == MATRIX
    assert bp.tensor([[1, 2]]).tolist() == [[1, 2]]
    assert type(bp.tensor([[1, 2]]).tolist()[0][0]) is int
    assert bp.tensor(2.0).tolist() == 2.0


def test_numpy_shares_memory() -> None:
    t = bp.tensor([1.0, 2.0])
    array = t.numpy()
    assert isinstance(array, np.ndarray) and array.dtype == np.float32
    array[0] = 5.0
    assert t.tolist() == [5.0, 2.0]
    assert np.shares_memory(t.numpy(), array)


def test_numpy_refuses_a_tensor_that_requires_grad() -> None:
    t = bp.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)"):
        t.numpy()
    with pytest.raises(RuntimeError, match=r"detach\(\)"):
        (t * 2).numpy()
    assert t.detach().numpy().tolist() == [1.0, 1.0]


def test_np_asarray() -> None:
    t = bp.tensor(MATRIX)
    array = np.asarray(t)
    assert isinstance(array, np.ndarray)
    assert array.dtype == np.float32
    assert array.tolist() == MATRIX
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert np.array(t).tolist() == MATRIX


def test_numpy_functions_accept_tensors() -> None:
    t = bp.tensor([1.0, 2.0, 3.0])
    np.testing.assert_allclose(np.asarray(t) * 2, [2.0, 4.0, 6.0])
    assert float(t.sum()) == 6.0


# -- graph bookkeeping: detach, clone, contiguous, requires_grad_, is_leaf, data ----------------

def test_detach_shares_storage_outside_the_graph() -> None:
    x = bp.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert d.tolist() == [2.0, 4.0]
    d.numpy()[0] = 10.0
    assert y.detach().tolist()[0] == 10.0  # same storage


def test_clone_copies_and_is_differentiable() -> None:
    x = bp.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.tolist() == [1.0, 2.0]
    assert not c.is_leaf and c.requires_grad
    assert "Clone" in repr(c.grad_fn)
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    plain = bp.tensor([1.0, 2.0])
    copy = plain.clone()
    copy.numpy()[0] = 9.0
    assert plain.tolist() == [1.0, 2.0]


def test_contiguous() -> None:
    t = bp.tensor(MATRIX)
    assert t.is_contiguous()
    assert t.contiguous() is t
    transposed = bp.from_numpy(np.asarray(MATRIX).T)
    assert not transposed.is_contiguous()
    made = transposed.contiguous()
    assert made.is_contiguous()
    assert made.tolist() == np.asarray(MATRIX).T.tolist()


def test_requires_grad_() -> None:
    t = bp.zeros(2)
    assert t.requires_grad_() is t
    assert t.requires_grad and t.is_leaf
    assert t.requires_grad_(False) is t
    assert not t.requires_grad


def test_requires_grad_cannot_be_turned_off_on_a_non_leaf() -> None:
    y = bp.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


@pytest.mark.parametrize("make", [
    lambda: bp.tensor([1, 2], requires_grad=True),
    lambda: bp.tensor([True], requires_grad=True),
    lambda: bp.zeros(2, dtype=bp.int64, requires_grad=True),
    lambda: bp.tensor([1, 2]).requires_grad_(),
    lambda: bp.arange(3, requires_grad=True),
], ids=["tensor-int", "tensor-bool", "zeros-int", "requires_grad_", "arange-int"])
def test_requires_grad_on_an_integer_tensor_raises_dtype_error(make: Callable) -> None:
    with pytest.raises(bp.DTypeError, match="floating"):
        make()


def test_is_leaf() -> None:
    x = bp.ones(2, requires_grad=True)
    assert x.is_leaf
    y = x * 2
    assert not y.is_leaf and y.grad_fn is not None
    # As in PyTorch, a tensor that does not require grad is a leaf by convention.
    assert (bp.ones(2) * 2).is_leaf
    assert x.detach().is_leaf


def test_data_is_the_same_storage_outside_the_graph() -> None:
    x = bp.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    assert isinstance(d, bp.Tensor)
    assert not d.requires_grad
    d.numpy()[0] = 5.0
    assert x.detach().tolist() == [5.0, 2.0]
    x.data = bp.tensor([3.0, 4.0])
    assert x.detach().tolist() == [3.0, 4.0] and x.requires_grad


# -- casts ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("method,dtype", [("float", bp.float32), ("double", bp.float64),
                                          ("half", bp.float16), ("long", bp.int64),
                                          ("int", bp.int32), ("bool", bp.bool)])
@pytest.mark.parametrize("source", [[0.0, 1.5, -2.0], [0, 1, 2], [True, False]],
                         ids=["float", "int", "bool"])
def test_cast_methods(method: str, dtype: Any, source: list) -> None:
    t = bp.tensor(source)
    cast = getattr(t, method)()
    assert cast.dtype == dtype
    np.testing.assert_array_equal(cast.numpy(), np.array(source).astype(dtype))


@pytest.mark.parametrize("dtype", [bp.float32, bp.float64, bp.int64])
def test_to_the_same_dtype_returns_self(dtype: Any) -> None:
    t = bp.zeros(2, dtype=dtype)
    assert t.to(dtype) is t
    assert t.to("cpu") is t


def test_to_converts_and_is_differentiable() -> None:
    x = bp.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(bp.float64)
    assert y.dtype == bp.float64 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == bp.float32
    assert x.grad.tolist() == [2.0, 4.0]
    assert x.to(dtype=bp.float16).dtype == bp.float16
    assert x.to("cpu", bp.float64).dtype == bp.float64
    assert x.to(bp.zeros(1, dtype=bp.float64)).dtype == bp.float64


def test_float_cast_of_float32_returns_self() -> None:
    t = bp.tensor([1.0])
    assert t.float() is t


# -- operators with NumPy arrays and Python scalars ----------------------------------------------

BASE = np.array([1.0, 2.0, 4.0], dtype=np.float32)
SCALAR = 2.0
ARRAY = np.array([2.0, 3.0, 0.5], dtype=np.float32)

OPERATORS = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "floordiv": operator.floordiv, "pow": operator.pow, "lt": operator.lt, "le": operator.le,
    "gt": operator.gt, "ge": operator.ge, "eq": operator.eq, "ne": operator.ne,
}


@pytest.mark.parametrize("op", OPERATORS.values(), ids=OPERATORS.keys())
@pytest.mark.parametrize("other", [SCALAR, ARRAY, 3], ids=["python-float", "ndarray", "python-int"])
@pytest.mark.parametrize("tensor_on_left", [True, False], ids=["tensor-left", "tensor-right"])
def test_operators_with_arrays_and_scalars_give_tensors(op: Callable, other: Any,
                                                        tensor_on_left: bool) -> None:
    t = bp.tensor(BASE)
    if tensor_on_left:
        result, expected = op(t, other), op(BASE, other)
    else:
        result, expected = op(other, t), op(other, BASE)
    assert isinstance(result, bp.Tensor), f"got {type(result).__name__}, not a Tensor"
    assert result.shape == expected.shape
    assert result.dtype == (np.bool_ if expected.dtype == np.bool_ else np.float32)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("op", OPERATORS.values(), ids=OPERATORS.keys())
def test_operators_with_float64_arrays_broadcast_and_give_tensors(op: Callable) -> None:
    column = np.array([[1.5], [3.0]])  # float64, shape (2, 1): broadcasts with (3,)
    t = bp.tensor(BASE)
    for result, expected in [(op(t, column), op(BASE.astype(np.float64), column)),
                             (op(column, t), op(column, BASE.astype(np.float64)))]:
        assert isinstance(result, bp.Tensor)
        assert result.shape == (2, 3)
        np.testing.assert_allclose(result.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("op", [operator.add, operator.mul, operator.sub, operator.truediv],
                         ids=["add", "mul", "sub", "truediv"])
def test_operators_with_scalars_keep_the_graph(op: Callable) -> None:
    x = bp.tensor([1.0, 2.0], requires_grad=True)
    for result in (op(x, 2.0), op(2.0, x), op(x, np.array([2.0, 4.0], np.float32)),
                   op(np.array([2.0, 4.0], np.float32), x)):
        assert result.requires_grad and result.grad_fn is not None


# (expression, result dtype) where PyTorch's type promotion differs from NumPy's in places.
PROMOTIONS = {
    "int/int": (lambda: bp.tensor([1, 2]) / bp.tensor([2, 2]), bp.float32),
    "int/int-scalar": (lambda: bp.tensor([1, 2]) / 2, bp.float32),
    "int-scalar/int": (lambda: 2 / bp.tensor([1, 2]), bp.float32),
    "int*float-scalar": (lambda: bp.tensor([1, 2]) * 2.5, bp.float32),
    "float-scalar*int": (lambda: 2.5 * bp.tensor([1, 2]), bp.float32),
    "int32+float-scalar": (lambda: bp.tensor([1, 2], dtype=bp.int32) + 1.5, bp.float32),
    "float32*float-scalar": (lambda: bp.tensor([1.0, 2.0]) * 2.5, bp.float32),
    "float32+int-scalar": (lambda: bp.tensor([1.0, 2.0]) + 1, bp.float32),
    "float64*float-scalar": (lambda: bp.tensor([1.0], dtype=bp.float64) * 2.5, bp.float64),
    "float16*float-scalar": (lambda: bp.tensor([1.0], dtype=bp.float16) * 2.5, bp.float16),
    "int+int-scalar": (lambda: bp.tensor([1, 2]) + 1, bp.int64),
    "int32+int-scalar": (lambda: bp.tensor([1, 2], dtype=bp.int32) + 1, bp.int32),
    "bool+int-scalar": (lambda: bp.tensor([True, False]) + 1, bp.int64),
    "int//int-scalar": (lambda: bp.tensor([3, 4]) // 2, bp.int64),
    "int**int-scalar": (lambda: bp.tensor([3, 4]) ** 2, bp.int64),
    "int-scalar**int": (lambda: 2 ** bp.tensor([3, 4]), bp.int64),
    "float-scalar**int": (lambda: 2.5 ** bp.tensor([3, 4]), bp.float32),
    "int**float-scalar": (lambda: bp.tensor([3, 4]) ** 0.5, bp.float32),
    "int<float-scalar": (lambda: bp.tensor([3, 4]) < 3.5, bp.bool),
    "float32+float64": (lambda: bp.tensor([1.0]) + bp.tensor([1.0], dtype=bp.float64), bp.float64),
    "float32+int64": (lambda: bp.tensor([1.0]) + bp.tensor([1]), bp.float32),
    "float32*numpy-float64-scalar": (lambda: bp.tensor([1.0, 2.0]) * np.float64(2.5), bp.float32),
    "numpy-float64-scalar*float32": (lambda: np.float64(2.5) * bp.tensor([1.0, 2.0]), bp.float32),
    "float32+numpy-float64-array": (lambda: bp.tensor([1.0]) + np.array([1.0]), bp.float64),
    "exp(int)": (lambda: bp.exp(bp.tensor([0, 1])), bp.float32),
}


@pytest.mark.parametrize("expression,dtype", PROMOTIONS.values(), ids=PROMOTIONS.keys())
def test_type_promotion_follows_pytorch(expression: Callable, dtype: Any) -> None:
    result = expression()
    assert isinstance(result, bp.Tensor)
    assert result.dtype == dtype, f"got {result.dtype}, PyTorch gives {dtype}"


# The same promotions evaluated by PyTorch itself: the table above must agree with it.
TORCH_PROMOTIONS = {
    "int/int": lambda torch: torch.tensor([1, 2]) / torch.tensor([2, 2]),
    "int*float-scalar": lambda torch: torch.tensor([1, 2]) * 2.5,
    "int32+float-scalar": lambda torch: torch.tensor([1, 2], dtype=torch.int32) + 1.5,
    "float32*float-scalar": lambda torch: torch.tensor([1.0, 2.0]) * 2.5,
    "float64*float-scalar": lambda torch: torch.tensor([1.0], dtype=torch.float64) * 2.5,
    "float16*float-scalar": lambda torch: torch.tensor([1.0], dtype=torch.float16) * 2.5,
    "int32+int-scalar": lambda torch: torch.tensor([1, 2], dtype=torch.int32) + 1,
    "bool+int-scalar": lambda torch: torch.tensor([True, False]) + 1,
    "int-scalar**int": lambda torch: 2 ** torch.tensor([3, 4]),
    "float-scalar**int": lambda torch: 2.5 ** torch.tensor([3, 4]),
    "int**float-scalar": lambda torch: torch.tensor([3, 4]) ** 0.5,
    "float32+int64": lambda torch: torch.tensor([1.0]) + torch.tensor([1]),
    "float32*numpy-float64-scalar": lambda torch: torch.tensor([1.0, 2.0]) * np.float64(2.5),
    "exp(int)": lambda torch: torch.exp(torch.tensor([0, 1])),
}


@pytest.mark.parametrize("name", TORCH_PROMOTIONS.keys())
def test_promotion_table_agrees_with_torch(torch32: Any, name: str) -> None:
    expected = TORCH_PROMOTIONS[name](torch32).dtype
    assert str(PROMOTIONS[name][1]) == torch_dtype_name(expected)
    assert str(PROMOTIONS[name][0]().dtype) == torch_dtype_name(expected)


def test_integer_division_values() -> None:
    assert (bp.tensor([1, 3]) / bp.tensor([2, 2])).tolist() == [0.5, 1.5]
    assert (bp.tensor([7, -7]) // 2).tolist() == [3, -4]  # floor, as Python and PyTorch
    assert (bp.tensor([7, -7]) % 3).tolist() == [1, 2]


def test_reflected_operators_put_the_scalar_first() -> None:
    t = bp.tensor([1.0, 2.0, 4.0])
    assert (1 - t).tolist() == [0.0, -1.0, -3.0]
    assert (1 / t).tolist() == [1.0, 0.5, 0.25]
    assert (2 ** t).tolist() == [2.0, 4.0, 16.0]
    assert (9 // t).tolist() == [9.0, 4.0, 2.0]
    assert (-t).tolist() == [-1.0, -2.0, -4.0]
    assert (+t) is t


# -- printing ------------------------------------------------------------------------------------

def test_repr_shows_values_and_dtype() -> None:
    text = repr(bp.tensor([1.5, -2.0]))
    assert text.startswith("tensor(")
    assert "1.5" in text and "-2." in text
    assert "dtype=float32" in text
    assert "grad_fn" not in text and "requires_grad" not in text
    assert "dtype=int64" in repr(bp.tensor([1, 2]))
    assert "dtype=float64" in repr(bp.tensor([1.0], dtype=bp.float64))


def test_repr_of_a_leaf_that_requires_grad() -> None:
    text = repr(bp.tensor([1.0, 2.0], requires_grad=True))
    assert "requires_grad=True" in text
    assert "grad_fn" not in text


@pytest.mark.parametrize("make,name", [
    (lambda x: x * 2, "MulBackward"),
    (lambda x: x + 1, "AddBackward"),
    (lambda x: x.exp(), "ExpBackward"),
    (lambda x: x.sum(), "SumBackward"),
    (lambda x: x / 3, "DivBackward"),
])
def test_repr_of_an_op_result_names_its_grad_fn(make: Callable, name: str) -> None:
    text = repr(make(bp.tensor([1.0, 2.0], requires_grad=True)))
    assert re.search(rf"grad_fn=<{name}\d*>", text), text
    assert "requires_grad=True" not in text


def test_repr_of_scalars_and_large_tensors() -> None:
    assert "3." in repr(bp.tensor(3.0))
    text = repr(bp.zeros(10000))
    assert "..." in text and len(text) < 500


def test_format_of_a_scalar_tensor() -> None:
    assert f"{bp.tensor(0.5):.2f}" == "0.50"


# -- errors a user meets first -------------------------------------------------------------------

@pytest.mark.parametrize("data", [[1.0, 2.0], [[True, False]], MATRIX])
def test_bool_of_a_multi_element_tensor_raises(data: Any) -> None:
    with pytest.raises((ValueError, RuntimeError), match="ambiguous"):
        bool(bp.tensor(data))


@pytest.mark.parametrize("data,expected", [([1.0], True), (0.0, False), ([[0]], False),
                                           (True, True)])
def test_bool_of_a_single_element_tensor(data: Any, expected: bool) -> None:
    assert bool(bp.tensor(data)) is expected


def test_len_of_a_scalar_raises_type_error() -> None:
    with pytest.raises(TypeError, match="0-d"):
        len(bp.tensor(1.0))


def test_iter_of_a_scalar_raises_type_error() -> None:
    with pytest.raises(TypeError, match="0-d"):
        iter(bp.tensor(1.0))


def test_float_and_int_conversions() -> None:
    assert float(bp.tensor([2.5])) == 2.5
    assert int(bp.tensor(3.9)) == 3
    with pytest.raises(ValueError, match="3 elements"):
        float(bp.tensor([1.0, 2.0, 3.0]))


def test_index_conversion_only_for_integer_tensors() -> None:
    assert [10, 20, 30][bp.tensor(1)] == 20
    with pytest.raises(TypeError, match="integer"):
        [10, 20, 30][bp.tensor(1.0)]


def test_tensor_constructor_class() -> None:
    t = bp.Tensor([1.0, 2.0], requires_grad=True)
    assert isinstance(t, bp.Tensor) and t.requires_grad and t.is_leaf
    assert t.tolist() == [1.0, 2.0]
