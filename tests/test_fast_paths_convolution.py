"""The fast paths of the convolution and its neighbours (issue 17's speed work) compute what
the general code and PyTorch do: the convolution forward and weight gradient one image and one
band of rows at a time, max pooling without indices (no NaN check), and evaluation batch norm
against repeated per-channel factors."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.ops import conv

torch = pytest.importorskip("torch")

# (input shape, weight shape, stride, padding, dilation, groups)
CASES = [
    ((2, 4, 11), (6, 4, 3), (1,), ((1, 1),), (1,), 1),
    ((2, 4, 11), (6, 2, 3), (2,), ((0, 0),), (2,), 2),
    ((3, 4, 9, 10), (6, 4, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ((2, 6, 9, 8), (4, 3, 3, 2), (2, 1), ((0, 0), (1, 1)), (1, 2), 2),
    ((2, 4, 8, 7), (4, 4, 1, 1), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
    ((2, 4, 10, 9), (5, 4, 3, 3), (2, 3), ((1, 1), (2, 2)), (1, 1), 1),
    ((2, 4, 6, 5, 7), (3, 4, 3, 3, 3), (1, 1, 1), ((1, 1),) * 3, (1, 1, 1), 1),
    ((1, 4, 6, 7, 6), (4, 2, 2, 3, 2), (2, 1, 2), ((0, 0), (1, 1), (0, 0)), (1, 1, 2), 2),
]


def _whole_batch(x, w, stride, padding, dilation, groups):
    """The convolution as one product over the whole batch (the path other array modules
    take), for NumPy arrays."""
    dtype = np.result_type(x, w)
    kernel = w.shape[2:]
    cols, out, rows = conv._unfold(x.astype(dtype), groups, kernel, stride, padding, dilation)
    taps = conv._prod(kernel) * (x.shape[1] // groups)
    y = np.matmul(conv._kernel_major(w.astype(dtype), groups),
                  cols.reshape(groups, taps, x.shape[0] * conv._prod(rows)))
    y = y.reshape((w.shape[0], x.shape[0]) + rows)[..., :out[-1]]
    return np.ascontiguousarray(y.swapaxes(0, 1))


def _inputs(shape, wshape, dtype, special):
    rng = np.random.default_rng(sum(shape) + len(wshape))
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(wshape).astype(dtype)
    if special:
        flat = x.reshape(-1)
        values = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e30, -1e30, 1e-30, 3e-39]
        flat[:len(values)] = np.array(values).astype(dtype)
    return x, w


@pytest.fixture(params=[1 << 18, 64], ids=["default-band", "tiny-band"])
def band(request, monkeypatch):
    """Default bands and bands of a single row (so many bands, the last one partial)."""
    monkeypatch.setattr(conv, "_BLOCK_BYTES", request.param)
    return request.param


def _spy(monkeypatch, name):
    calls = []
    original = getattr(conv, name)

    def spy(*args):
        calls.append(1)
        return original(*args)
    monkeypatch.setattr(conv, name, spy)
    return calls


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf * 0 in the products
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("special", [False, True])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_banded_forward_is_the_whole_batch_product(case, dtype, special, band, monkeypatch):
    shape, wshape, stride, padding, dilation, groups = case
    x, w = _inputs(shape, wshape, dtype, special)
    b = np.linspace(-1, 1, wshape[0]).astype(dtype)
    calls = _spy(monkeypatch, "_blocked_product")
    got = conv._conv.forward(x, w, None, stride, padding, dilation, groups)
    assert calls, "the banded product did not run"
    want = _whole_batch(x, w, stride, padding, dilation, groups)
    assert got.dtype == want.dtype and got.shape == want.shape
    _assert_rounding(got, want, x, w, stride, padding, dilation, groups)
    with_bias = conv._conv.forward(x, w, b, stride, padding, dilation, groups)
    _assert_rounding(with_bias, want + b.reshape((-1,) + (1,) * (x.ndim - 2)), x, w, stride,
                     padding, dilation, groups, 2)


def _assert_rounding(got, want, x, w, stride, padding, dilation, groups, extra=0):
    """Equal up to the rounding of a sum in another order (BLAS kernels treat a block's edge
    columns differently): within ``taps * eps * sum |x| |w|``; equal where not finite."""
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)])
    with np.errstate(all="ignore"):
        scale = _whole_batch(np.abs(x).astype(np.float64), np.abs(w).astype(np.float64), stride,
                             padding, dilation, groups)
        taps = w[0].size + extra
        bound = 2 * taps * np.finfo(x.dtype).eps * (scale + 1)
        ok = np.abs(got.astype(np.float64) - want) <= bound
    assert ok[finite & np.isfinite(bound)].all()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_banded_forward_matches_torch(case, band):
    shape, wshape, stride, padding, dilation, groups = case
    x, w = _inputs(shape, wshape, np.float32, False)
    fn = {1: torch.nn.functional.conv1d, 2: torch.nn.functional.conv2d,
          3: torch.nn.functional.conv3d}[x.ndim - 2]
    want = fn(torch.from_numpy(x), torch.from_numpy(w), stride=stride,
              padding=tuple(lo for lo, _ in padding), dilation=dilation, groups=groups)
    got = conv._conv.forward(x, w, None, stride, padding, dilation, groups)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_banded_weight_gradient_matches_torch(case, dtype, band, monkeypatch):
    shape, wshape, stride, padding, dilation, groups = case
    x, w = _inputs(shape, wshape, dtype, False)
    y = conv._conv.forward(x, w, None, stride, padding, dilation, groups)
    g = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    calls = _spy(monkeypatch, "_blocked_weight_grad")
    got = conv._conv_weight.forward(x, g, wshape, stride, padding, dilation, groups)
    assert calls, "the banded weight gradient did not run"
    tw = torch.from_numpy(w).requires_grad_()
    fn = {1: torch.nn.functional.conv1d, 2: torch.nn.functional.conv2d,
          3: torch.nn.functional.conv3d}[x.ndim - 2]
    out = fn(torch.from_numpy(x), tw, stride=stride, padding=tuple(lo for lo, _ in padding),
             dilation=dilation, groups=groups)
    (want,) = torch.autograd.grad(out, tw, torch.from_numpy(g))
    assert got.dtype == dtype and got.shape == wshape
    tol = 1e-4 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(got, want.numpy(), rtol=tol, atol=tol)


def test_conv2d_gradients_through_the_public_api():
    x, w = _inputs((3, 4, 7, 6), (5, 4, 3, 3), np.float64, False)
    bx, bw = bp.tensor(x, requires_grad=True), bp.tensor(w, requires_grad=True)
    tx, tw = torch.from_numpy(x).requires_grad_(), torch.from_numpy(w).requires_grad_()
    bp.conv2d(bx, bw, padding=1).sum().backward()
    torch.nn.functional.conv2d(tx, tw, padding=1).sum().backward()
    np.testing.assert_allclose(bx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bw.grad.numpy(), tw.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_pool_without_indices_keeps_nans_and_infs(dtype, nd):
    rng = np.random.default_rng(nd)
    x = rng.standard_normal((2, 3) + (6,) * nd).astype(dtype)
    flat = x.reshape(-1)
    flat[::7] = np.nan
    flat[1::11] = np.inf
    flat[2::13] = -np.inf
    flat[3::17] = 0.0
    fn = {1: bp.max_pool1d, 2: bp.max_pool2d, 3: bp.max_pool3d}[nd]
    tfn = {1: torch.nn.functional.max_pool1d, 2: torch.nn.functional.max_pool2d,
           3: torch.nn.functional.max_pool3d}[nd]
    for kernel, stride, padding in [(2, 2, 0), (3, 1, 1), (3, 2, 1)]:
        got = fn(bp.tensor(x), kernel, stride, padding).numpy()
        want = tfn(torch.from_numpy(x), kernel, stride, padding).numpy()
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 4, 5), (2, 3, 2, 3, 4), (0, 3, 4)])
def test_batch_norm_eval_fast_path_is_the_recorded_one(dtype, shape, monkeypatch):
    from backprop.nn.functional import norm
    ran = []
    original = norm._fused_affine

    def spy(*args):
        out = original(*args)
        ran.append(out is not None)
        return out
    monkeypatch.setattr(norm, "_fused_affine", spy)
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape).astype(dtype)
    if x.size:
        x.reshape(-1)[:4] = np.array([np.inf, -np.inf, np.nan, 0.0]).astype(dtype)
    mean, var, w, b = (rng.uniform(0.1, 2, 3).astype(dtype) for _ in range(4))
    args = [bp.tensor(a) for a in (mean, var, w, b)]
    fast = bp.nn.functional.batch_norm(bp.tensor(x), *args, training=False)
    slow = bp.nn.functional.batch_norm(bp.tensor(x, requires_grad=True), *args, training=False)
    assert ran == [True, False], "the fused evaluation path did not run"
    np.testing.assert_array_equal(fast.numpy(), slow.detach().numpy())
    assert fast.dtype == slow.dtype
    want = torch.nn.functional.batch_norm(*(torch.from_numpy(a) for a in (x, mean, var, w, b)),
                                          training=False)
    np.testing.assert_allclose(fast.numpy(), want.numpy(), rtol=1e-6, atol=1e-6)
    # A non-contiguous input takes the broadcasting route.
    xt = np.ascontiguousarray(np.swapaxes(x, 0, -1)).swapaxes(0, -1) if x.ndim > 2 else x
    again = bp.nn.functional.batch_norm(bp.tensor(xt), *args, training=False)
    np.testing.assert_array_equal(again.numpy(), fast.numpy())


def test_banded_paths_take_an_empty_batch():
    x = bp.zeros(0, 3, 6, 5, requires_grad=True)
    w = bp.ones(4, 3, 3, 3, requires_grad=True)
    b = bp.ones(4, requires_grad=True)
    y = bp.conv2d(x, w, b, padding=1)
    assert y.shape == (0, 4, 6, 5)
    y.sum().backward()
    assert x.grad.shape == (0, 3, 6, 5)
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros((4, 3, 3, 3), np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(64, 8, 24, 24), (16, 3, 4096), (3, 4, 5000),
                                   (4, 2, 2, 3, 2000)])
def test_bias_gradient_by_products_is_within_a_millionth_of_the_exact_sum(dtype, shape):
    # Values far from zero, where float32 accumulators lose the most.
    g = (np.random.default_rng(0).standard_normal(shape) + 100.0).astype(dtype)
    truth = g.astype(np.float64).sum(axis=(0,) + tuple(range(2, g.ndim)))
    fast = conv._bias_grad(g)
    assert fast.dtype == dtype and fast.shape == (shape[1],)
    # float32: BLAS's accumulators give ~5e-7 on such rows (the cascaded sum ~1e-8); 1e-6 is
    # what the product path promises up to _PRODUCT_SUM_TERMS terms.
    tolerance = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(fast, truth, rtol=tolerance)
    if np.prod(shape[2:]) > conv._PRODUCT_SUM_TERMS:  # long rows: the cascaded sum, unchanged
        summed = conv._sum(g, (0,) + tuple(range(2, g.ndim)), False)
        np.testing.assert_array_equal(fast, summed)
