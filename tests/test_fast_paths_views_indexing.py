"""The fast paths of the view, split and indexing ops (issue 17's speed work) give what
the general paths give, and run where they should: broadcast_to's view of a contiguous array
made by the ndarray constructor, prelu's max/min pass, the shifts with amounts in range,
gather's flat index and its call without a node, tensor_split through split's pieces, and
as_strided's one-pass geometry check.
"""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.ops import pointwise_tail, scatter, shape

torch = pytest.importorskip("torch")

EDGES = [0.0, -0.0, 1.0, -1.0, 1e-40, -1e-40, 3e38, -3e38, np.inf, -np.inf, np.nan, 0.5, -2.5]


def _bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal values, nan where nan, and the same sign of zero."""
    a, b = np.asarray(a), np.asarray(b)
    return bool(np.array_equal(a, b, equal_nan=True)
                and np.array_equal(np.signbit(a), np.signbit(b)))


# -- broadcast_to ---------------------------------------------------------------------------------

@pytest.mark.parametrize("source, target", [
    ((1, 5), (3, 5)), ((5,), (2, 3, 5)), ((3, 1), (3, 4)), ((1, 1), (0, 1)), ((), (2, 2)),
    ((2, 3), (2, 3)), ((0, 3), (4, 0, 3)), ((1, 3), (2, 1, 3)),
])
def test_broadcast_contiguous_matches_numpy(source: tuple, target: tuple) -> None:
    array = np.arange(int(np.prod(source)), dtype=np.float32).reshape(source)
    made = shape._broadcast_contiguous(array, target)
    assert made is not None  # the fast path served it
    expected = np.broadcast_to(array, target)
    np.testing.assert_array_equal(made, expected)
    assert made.shape == expected.shape and made.dtype == expected.dtype
    assert not made.flags.writeable
    assert made.size == 0 or np.shares_memory(made, array)


def test_broadcast_contiguous_base_is_the_owner() -> None:
    owner = np.zeros((4, 3), np.float32)
    row = owner[1:2]
    made = shape._broadcast_contiguous(row, (5, 3))
    assert made.base is owner  # what the view short path checks to share the version counter


@pytest.mark.parametrize("target", [(2, 4), (2, -1), (-1, 3), (3,)])
def test_broadcast_contiguous_refuses_what_does_not_broadcast(target: tuple) -> None:
    assert shape._broadcast_contiguous(np.ones((1, 3)), target) is None
    with pytest.raises(Exception, match="broadcast_to"):
        bp.broadcast_to(bp.ones(1, 3), target)


def test_broadcast_to_is_a_view_sharing_the_version() -> None:
    x = bp.zeros(1, 3)
    y = x.broadcast_to((4, 3))
    x.add_(1.0)
    assert y.tolist() == [[1.0] * 3] * 4
    assert y._version is x._version


# -- prelu ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("slopes", [[0.25], [0.1, 0.5, 1.0], [1.0, 2.0, 7.5], [1e-30, 1.0],
                                    [0.0, 0.5], [-0.5, 0.25], [0.5, 2.0], [np.nan, 0.5],
                                    [np.inf, 2.0]])
def test_prelu_agrees_with_torch_on_edges(dtype: type, slopes: list) -> None:
    values = np.array(EDGES, dtype=dtype)
    x = np.stack([values] * len(slopes), 0)[None]  # (1, channels, len(EDGES))
    w = np.array(slopes, dtype=dtype)
    with np.errstate(all="ignore"):
        got = bp.prelu(bp.tensor(x), bp.tensor(w)).numpy()
    expected = torch.prelu(torch.from_numpy(x), torch.from_numpy(w)).numpy()
    assert got.dtype == expected.dtype
    assert _bits_equal(got, expected)


@pytest.mark.parametrize("slopes, fast", [([0.25, 1.0], np.maximum), ([1.0, 3.0], np.minimum)])
def test_prelu_takes_the_one_pass(monkeypatch: pytest.MonkeyPatch, slopes: list,
                                  fast: np.ufunc) -> None:
    calls = []

    def spy(*args, **kwargs):
        calls.append(True)
        return fast(*args, **kwargs)

    monkeypatch.setattr(pointwise_tail.np, fast.__name__, spy, raising=True)
    x = bp.tensor(np.linspace(-2, 2, 12, dtype=np.float32).reshape(2, 2, 3))
    bp.prelu(x, bp.tensor(np.array(slopes, np.float32)))
    assert calls


def test_prelu_gradients_match_torch() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4, 5))
    x[0, 0, 0] = 0.0
    w = np.array([0.25, 0.5, 1.5, -0.5])
    bx, bw = bp.tensor(x, requires_grad=True), bp.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    g = rng.normal(size=x.shape)
    bp.prelu(bx, bw).backward(bp.tensor(g))
    torch.prelu(tx, tw).backward(torch.tensor(g))
    np.testing.assert_allclose(bx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(bw.grad.numpy(), tw.grad.numpy(), rtol=1e-12)


# -- shifts ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8])
@pytest.mark.parametrize("name", ["bitwise_left_shift", "bitwise_right_shift"])
def test_shifts_agree_with_torch(dtype: type, name: str) -> None:
    info = np.iinfo(dtype)
    bits = np.dtype(dtype).itemsize * 8
    values = np.array([0, 1, -1, info.max, info.min, 5, -7, 3]).astype(dtype)
    for amounts in (np.arange(8) % bits, np.array([0, bits - 1, 1, 2, 3, bits - 1, 0, 1]),
                    np.array([0, bits, -1, bits + 3, 2, 1, 0, 100])):
        other = amounts.astype(dtype)
        fast = pointwise_tail._amounts_in_range(values, other)
        wide = other.astype(np.int64)
        assert fast == bool(((wide >= 0) & (wide < bits)).all())
        got = getattr(bp, name)(bp.tensor(values), bp.tensor(other)).numpy()
        expected = getattr(torch, name)(torch.from_numpy(values), torch.from_numpy(other))
        np.testing.assert_array_equal(got, expected.numpy())


# -- gather ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape_, dim", [((4, 7), 1), ((4, 7), 0), ((3, 4, 5), 2), ((3, 4, 5), 1),
                                         ((3, 4, 5), 0), ((6,), 0)])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_gather_flat_index_matches_torch(shape_: tuple, dim: int, requires_grad: bool) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=shape_)
    index_shape = tuple(max(n - 1, 1) if d != dim else 2 * n for d, n in enumerate(shape_))
    index = rng.integers(0, shape_[dim], index_shape)
    bx = bp.tensor(x, requires_grad=requires_grad)
    got = bp.gather(bx, dim, bp.tensor(index))
    expected = torch.gather(torch.tensor(x), dim, torch.tensor(index))
    np.testing.assert_array_equal(got.detach().numpy(), expected.numpy())
    assert got.requires_grad == requires_grad
    # the forward's flat path against fancy indexing with one array per dim
    np.testing.assert_array_equal(scatter._gather.forward(x, dim, index),
                                  x[scatter._along_dim_key(dim, index)])


def test_gather_of_a_non_contiguous_input() -> None:
    x = np.arange(30.0).reshape(5, 6).T  # (6, 5), not C-contiguous
    index = np.array([[0, 4], [1, 1], [2, 3]])
    got = bp.gather(bp.tensor(x), 1, bp.tensor(index)).numpy()
    np.testing.assert_array_equal(got, np.take_along_axis(x[:3], index, 1))


@pytest.mark.parametrize("bad", [-1, 7, np.iinfo(np.int64).min])
def test_gather_range_check_words_the_bad_index(bad: int) -> None:
    with pytest.raises(IndexError, match=f"gather: index {bad} is out of range"):
        bp.gather(bp.zeros(2, 7), 1, bp.tensor([[0, bad], [1, 2]]))


def test_gather_range_check_int32_index() -> None:
    index = np.array([[0, 6]], dtype=np.int32)
    assert bp.gather(bp.arange(7.0)[None], 1, bp.tensor(index)).tolist() == [[0.0, 6.0]]
    with pytest.raises(IndexError, match="index -3"):
        bp.gather(bp.arange(7.0)[None], 1, bp.tensor(np.array([[-3]], dtype=np.int32)))


# -- tensor_split ---------------------------------------------------------------------------------

@pytest.mark.parametrize("split", [3, 7, 1, [2, 5], [0, 0, 4], [5, 2], [-2], [3, 100], [8, 1]])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_tensor_split_matches_torch(split: object, requires_grad: bool) -> None:
    x = np.arange(21.0).reshape(3, 7)
    pieces = bp.tensor_split(bp.tensor(x, requires_grad=requires_grad), split, 1)
    expected = torch.tensor_split(torch.tensor(x), split, 1)
    assert len(pieces) == len(expected)
    for got, want in zip(pieces, expected):
        np.testing.assert_array_equal(got.detach().numpy(), want.numpy())
        if got.numel():
            assert got._version is pieces[0]._version  # views of the input


# -- as_strided -----------------------------------------------------------------------------------

@pytest.mark.parametrize("size, stride, offset, ok", [
    ((2, 3), (3, 1), 0, True), ((3, 2), (1, 3), 0, True), ((2, 3), (3, 1), 1, False),
    ((0, 5), (9, 9), 4, True), ((2,), (-1,), 1, False), ((-1,), (1,), 0, False),
    ((2, 2), (1,), 0, False), ((6,), (1,), 0, True), ((7,), (1,), 0, False),
])
def test_as_strided_geometry(size: tuple, stride: tuple, offset: int, ok: bool) -> None:
    x = bp.arange(6.0)
    if ok:
        got = bp.as_strided(x, size, stride, offset)
        want = torch.as_strided(torch.arange(6.0), size, stride, offset)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    else:
        with pytest.raises(Exception, match="as_strided"):
            bp.as_strided(x, size, stride, offset)


def test_broadcast_strides_cache_tells_dtypes_and_layouts_apart() -> None:
    for dtype in (np.float32, np.float64, np.int8, np.float32):
        array = np.arange(3, dtype=dtype).reshape(1, 3)
        for _ in range(2):  # the second call reads the cache
            made = shape._broadcast_contiguous(array, (4, 3))
            np.testing.assert_array_equal(made, np.broadcast_to(array, (4, 3)))
    assert shape._broadcast_contiguous(np.ones((1, 3)), [4, 3]) is None  # a list: no key
