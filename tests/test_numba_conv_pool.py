"""``backends.numba_conv`` (im2col/col2im convolutions) and ``backends.numba_pool`` (max pooling
in one pass, its scatter-add) against the NumPy definitions in ``ops.conv``/``ops.pooling`` and
PyTorch: 1-d and 2-d, strides, padding, dilation, groups, output padding, float32 and float64,
NaN and inf; max pooling bit for bit (indices included). Each check asserts that the kernel
took the call (it returns None where it declines), and the declines are checked too."""

from __future__ import annotations

import numpy as np
import pytest
from numba_checks import numba_switched_on

import backprop as bp
from backprop.backends import numba as numba_switch
from backprop.backends import numba_conv, numba_pool
from backprop.ops import conv, pooling

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.skipif(not (numba_switch.enabled and numba_switch.is_available()),
                                reason="Numba absent or switched off")

FLOATS = [np.float32, np.float64]

# (input shape, weight shape, stride, padding, dilation, groups); the 2-d ones span whole
# windows, zero padding on either side, strides past the kernel and dilated taps.
CASES = [
    ((2, 4, 11), (6, 4, 3), (1,), ((1, 1),), (1,), 1),
    ((2, 4, 11), (6, 2, 3), (2,), ((0, 0),), (2,), 2),
    ((3, 4, 9, 10), (6, 4, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ((2, 6, 9, 8), (4, 3, 3, 2), (2, 1), ((0, 0), (1, 1)), (1, 2), 2),
    ((2, 4, 8, 7), (4, 4, 1, 1), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
    ((2, 4, 10, 9), (5, 4, 3, 3), (2, 3), ((1, 1), (2, 2)), (1, 1), 1),
    ((5, 3, 12, 12), (8, 3, 5, 5), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),  # W3's shapes, smaller
    # W3's first layer: several column chunks (2 images each in float64), the last one short
    ((9, 1, 28, 28), (8, 1, 5, 5), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
]


accelerator_on = pytest.fixture(autouse=True)(numba_switched_on)


def _inputs(case: tuple, dtype: type, special: bool) -> tuple[np.ndarray, ...]:
    shape, wshape = case[:2]
    rng = np.random.default_rng(sum(shape) + len(wshape))
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(wshape).astype(dtype)
    b = rng.standard_normal(wshape[0]).astype(dtype)
    if special:
        x.reshape(-1)[[3, 11, 20]] = [np.nan, np.inf, -np.inf]
    return x, w, b


def _close(got: np.ndarray, want: np.ndarray, taps: int) -> None:
    """Equal up to the rounding of ``taps``-term sums added in another order (the products run
    per image here, per band there): NaN where NaN, infinities equal."""
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)])
    eps = np.finfo(want.dtype).eps
    np.testing.assert_allclose(got[finite], want[finite], rtol=4 * taps * eps,
                               atol=4 * taps * eps * max(1.0, float(np.abs(want[finite]).max())))


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf - inf in the sums
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("special", [False, True])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_kernels_match_the_numpy_definitions(case, dtype, special):
    _, wshape, stride, padding, dilation, groups = case
    x, w, b = _inputs(case, dtype, special)
    taps = w[0].size
    y = numba_conv.convolution(x, w, b, stride, padding, dilation, groups)
    assert y is not None, "the compiled convolution declined"
    want = conv._conv.forward(x, w, b, stride, padding, dilation, groups)
    _close(y, want, taps + 1)
    g = np.random.default_rng(1).standard_normal(want.shape).astype(dtype)
    dw = numba_conv.conv_weight_grad(x, g, wshape, stride, padding, dilation, groups)
    assert dw is not None
    _close(dw, conv._conv_weight.forward(x, g, wshape, stride, padding, dilation, groups),
           g[:, 0].size)
    back = conv._transpose_padding(padding, x.shape[2:], wshape[2:], stride, dilation,
                                   g.shape[2:])
    dx = numba_conv.conv_transpose(g, w, None, stride, back, dilation, groups)
    assert dx is not None
    _close(dx, conv._conv_transpose.forward(g, w, None, stride, back, dilation, groups), taps)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("extra", [0, 1])
def test_transposed_convolution_with_output_padding_and_bias(dtype, extra):
    """conv_transpose as a layer: the after-padding goes negative (output_padding appends)."""
    rng = np.random.default_rng(extra)
    x = rng.standard_normal((2, 4, 5, 6)).astype(dtype)
    w = rng.standard_normal((4, 3, 3, 2)).astype(dtype)
    b = rng.standard_normal(6).astype(dtype)
    pads = ((1, 1 - extra), (0, -extra))
    got = numba_conv.conv_transpose(x, w, b, (2, 2), pads, (1, 2), 2)
    assert got is not None
    _close(got, conv._conv_transpose.forward(x, w, b, (2, 2), pads, (1, 2), 2), 13)


def test_kernels_decline_what_they_do_not_cover():
    x32, w32 = np.ones((2, 3, 6, 6), np.float32), np.ones((4, 3, 3, 3), np.float32)
    args = ((1, 1), ((0, 0), (0, 0)), (1, 1), 1)
    assert numba_conv.convolution(x32, w32.astype(np.float64), None, *args) is None  # mixed
    assert numba_conv.convolution(x32.astype(np.int64), w32.astype(np.int64), None, *args) is None
    three = ((1, 1, 1), ((0, 0),) * 3, (1, 1, 1), 1)
    assert numba_conv.convolution(np.ones((1, 2, 4, 4, 4)), np.ones((2, 2, 2, 2, 2)), None,
                                  *three) is None
    assert numba_conv.convolution(np.ones((0, 3, 6, 6)), np.ones((4, 3, 3, 3)), None,
                                  *args) is None
    assert numba_pool.max_pool(np.ones((1, 1, 2, 2, 2)), (2, 2, 2), (2, 2, 2),
                               ((0, 0),) * 3, (1, 1, 1), (1, 1, 1)) is None
    assert numba_pool.max_pool(np.ones((1, 1, 4, 4), np.int32), (2, 2), (2, 2),
                               ((0, 0),) * 2, (1, 1), (2, 2)) is None
    numba_switch.enabled = False
    assert numba_conv.convolution(x32, w32, None, *args) is None
    assert numba_pool.max_pool(x32, (2, 2), (2, 2), ((0, 0),) * 2, (1, 1), (3, 3)) is None


def test_results_do_not_change_with_later_calls():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 2, 7, 7)), rng.standard_normal((4, 2, 3, 3))
    args = ((1, 1), ((1, 1), (1, 1)), (1, 1), 1)
    first = numba_conv.convolution(x, w, None, *args)
    kept = first.copy()
    numba_conv.convolution(2 * x, w, None, *args)  # same buffer, new windows
    numba_conv.conv_weight_grad(x, first, w.shape, *args)
    np.testing.assert_array_equal(first, kept)


@pytest.mark.parametrize("nd", [1, 2])
def test_gradients_through_the_public_api_match_torch(nd):
    """The engine runs the kernels in an ordinary forward and backward (float64)."""
    rng = np.random.default_rng(nd)
    x = rng.standard_normal((3, 4) + (9,) * nd)
    w = rng.standard_normal((6, 2) + (3,) * nd)
    b = rng.standard_normal(6)
    ours = [bp.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    fn, tfn = ((bp.conv1d, torch.nn.functional.conv1d) if nd == 1
               else (bp.conv2d, torch.nn.functional.conv2d))
    y = fn(*ours, stride=2, padding=1, dilation=1, groups=2)
    t = tfn(*theirs, stride=2, padding=1, dilation=1, groups=2)
    np.testing.assert_allclose(y.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-12)
    seed = rng.standard_normal(t.shape)
    y.backward(bp.tensor(seed))
    t.backward(torch.tensor(seed))
    for a, ta in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_conv_transpose2d_matches_torch():
    rng = np.random.default_rng(5)
    x, w, b = (rng.standard_normal(s) for s in ((2, 4, 5, 6), (4, 3, 3, 3), (6,)))
    got = bp.conv_transpose2d(bp.tensor(x), bp.tensor(w), bp.tensor(b), stride=2, padding=1,
                              output_padding=1, groups=2)
    want = torch.nn.functional.conv_transpose2d(torch.tensor(x), torch.tensor(w),
                                                torch.tensor(b), stride=2, padding=1,
                                                output_padding=1, groups=2)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


def _pool_cases() -> list[tuple]:
    """Random 1-d and 2-d pools (kernel, stride, padding, dilation, ceil mode) over inputs
    with ties, NaNs and -inf."""
    rng = np.random.default_rng(11)
    cases = []
    while len(cases) < 40:
        nd = int(rng.integers(1, 3))
        sizes = tuple(int(v) for v in rng.integers(3, 9, nd))
        kernel = tuple(int(v) for v in rng.integers(1, 4, nd))
        stride = tuple(int(v) for v in rng.integers(1, 3, nd))
        dilation = tuple(int(v) for v in rng.integers(1, 3, nd))
        pads = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
        if any(d * (k - 1) + 1 > n + 2 * p for d, k, n, p in zip(dilation, kernel, sizes, pads)):
            continue
        cases.append((sizes, kernel, stride, pads, dilation, bool(rng.integers(0, 2))))
    return cases


# 2x2 windows at stride 2 with no padding take max_pool_2x2 (odd sizes: a row and a column
# left over; with ceil_mode the last windows reach past the input and the general kernel runs).
_POOLS_2X2 = [((8, 8), (2, 2), (2, 2), (0, 0), (1, 1), False),
              ((7, 9), (2, 2), (2, 2), (0, 0), (1, 1), False),
              ((7, 9), (2, 2), (2, 2), (0, 0), (1, 1), True)]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", _pool_cases() + _POOLS_2X2, ids=str)
def test_max_pool_is_the_numpy_path_bit_for_bit(case, dtype):
    sizes, kernel, stride, pads, dilation, ceil_mode = case
    rng = np.random.default_rng(sum(sizes))
    x = np.round(rng.standard_normal((2, 3) + sizes))  # integers: ties
    x[x > 1.5] = np.nan
    x[x < -1.5] = -np.inf
    x = x.astype(dtype)
    out, cover = pooling._pool_sizes("t", sizes, kernel, stride, pads, dilation, ceil_mode,
                                     x.shape)
    found = numba_pool.max_pool(x, kernel, stride, cover, dilation, out)
    assert found is not None
    values, indices = pooling._max_pool_argmax(x, kernel, stride, cover, dilation, out)
    np.testing.assert_array_equal(found[0], values)  # NaNs in the same places
    np.testing.assert_array_equal(found[1], indices)
    assert found[1].dtype == np.int64
    g = rng.standard_normal(values.shape).astype(dtype)
    back = numba_pool.max_pool_backward(g, indices, x.shape)
    assert back is not None
    np.testing.assert_array_equal(back, pooling._max_pool_scatter.forward(g, indices, x.shape))


@pytest.mark.parametrize("case", _POOLS_2X2, ids=str)
def test_the_2x2_kernel_takes_exactly_the_windows_inside(case, monkeypatch):
    sizes, kernel, stride, pads, dilation, ceil_mode = case
    module = numba_pool._load()
    calls = []
    original = module.max_pool_2x2
    monkeypatch.setattr(module, "max_pool_2x2", lambda *args: calls.append(1) or original(*args))
    x = np.random.default_rng(0).standard_normal((2, 3) + sizes)
    out, cover = pooling._pool_sizes("t", sizes, kernel, stride, pads, dilation, ceil_mode,
                                     x.shape)
    assert numba_pool.max_pool(x, kernel, stride, cover, dilation, out) is not None
    assert len(calls) == (0 if ceil_mode else 1)


# Pools whose windows all lie inside the input take max_pool_inside; padding, or ceil_mode's
# last windows reaching past the input, take the general kernel.
_POOLS_INSIDE = [(((1, 800), (1, 3), (1, 3), (0, 0), (1, 1), False), True),
                 (((9, 8), (3, 2), (2, 1), (0, 0), (2, 1), False), True),
                 (((9, 8), (3, 3), (2, 2), (1, 1), (1, 1), False), False),
                 (((8, 8), (3, 3), (2, 2), (0, 0), (1, 1), True), False)]


@pytest.mark.parametrize("case, inside", _POOLS_INSIDE, ids=str)
def test_the_inside_kernel_takes_exactly_the_pools_inside(case, inside, monkeypatch):
    sizes, kernel, stride, pads, dilation, ceil_mode = case
    module = numba_pool._load()
    calls = []
    original = module.max_pool_inside
    monkeypatch.setattr(module, "max_pool_inside",
                        lambda *args: calls.append(1) or original(*args))
    x = np.round(np.random.default_rng(1).standard_normal((2, 3) + sizes))  # ties
    out, cover = pooling._pool_sizes("t", sizes, kernel, stride, pads, dilation, ceil_mode,
                                     x.shape)
    found = numba_pool.max_pool(x, kernel, stride, cover, dilation, out)
    assert len(calls) == inside
    values, indices = pooling._max_pool_argmax(x, kernel, stride, cover, dilation, out)
    np.testing.assert_array_equal(found[0], values)
    np.testing.assert_array_equal(found[1], indices)


def test_max_pool2d_matches_torch_with_indices_and_gradient():
    rng = np.random.default_rng(2)
    x = np.round(rng.standard_normal((2, 3, 9, 8)) * 2)  # ties
    ours = bp.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    y, i = bp.max_pool2d(ours, 3, stride=2, padding=1, ceil_mode=True, return_indices=True)
    t, ti = torch.nn.functional.max_pool2d(theirs, 3, stride=2, padding=1, ceil_mode=True,
                                           return_indices=True)
    np.testing.assert_array_equal(y.detach().numpy(), t.detach().numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    seed = rng.standard_normal(t.shape)
    y.backward(bp.tensor(seed))
    t.backward(torch.tensor(seed))
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
