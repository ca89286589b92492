"""The fast paths added for speed (issue 17) compute what the general code and PyTorch do:
cosine windows by a quarter period and Clenshaw, stride-1 transposed convolution as a
convolution, max pooling without indices, global and tiling average pooling."""

from __future__ import annotations

import importlib
import itertools
import math

import numpy as np
import pytest

import backprop as bp
from backprop.ops import conv, pooling
from backprop.signal import windows


@pytest.mark.parametrize("span", [*range(1, 40), 99, 100, 1001, 1002, 99999, 100000])
def test_cosines_match_direct_evaluation(span):
    for M in {1, max(1, span // 2), span, span + 1}:
        direct = np.cos(np.arange(M) * (2 * math.pi / span))
        np.testing.assert_allclose(windows._cosines(M, span), direct, rtol=0, atol=2e-15)


@pytest.mark.parametrize("a", [[1.0], [0.5, 0.5], [0.54, 0.46], [0.42, 0.5, 0.08],
                               [0.3635819, 0.4891775, 0.1365995, 0.0106411],
                               [0.2, -0.3, 0.1, 0.05, -0.02]])
def test_general_cosine_matches_the_sum_of_cosines(a):
    for M, sym in itertools.product([1, 2, 3, 4, 5, 10, 257, 1000], [True, False]):
        span = M - 1 if sym else M
        k = np.arange(M) * 2 * math.pi / max(span, 1)
        direct = (sum((-1) ** i * c * np.cos(i * k) for i, c in enumerate(a)) if M > 1
                  else np.ones(1))
        got = bp.signal.windows.general_cosine(M, a=a, sym=sym, dtype=bp.float64).numpy()
        np.testing.assert_allclose(got, direct, rtol=0, atol=1e-14)
        got32 = bp.signal.windows.general_cosine(M, a=a, sym=sym).numpy()
        assert got32.dtype == np.float32
        np.testing.assert_allclose(got32, direct.astype(np.float32), rtol=0, atol=1.2e-7)


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window"])
def test_top_level_windows_match_torch(name, torch):
    for M, periodic in itertools.product([1, 2, 7, 8, 1000, 1001], [True, False]):
        ours = getattr(bp, name)(M, periodic, dtype=bp.float64).numpy()
        theirs = getattr(torch, name)(M, periodic, dtype=torch.float64).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-14)


def test_stride_one_transposed_convolution_takes_the_convolution_path(monkeypatch):
    # The NumPy path's choice: the compiled kernel (backends.numba_conv), when on, takes 1-d
    # and 2-d transposed convolutions before it.
    monkeypatch.setattr(bp.backends.numba, "enabled", False)
    calls = []
    forward = conv._conv.forward

    def spy(*args, **kwargs):
        calls.append(args[3])
        return forward(*args, **kwargs)

    monkeypatch.setattr(conv._conv, "forward", spy)
    x, w = bp.randn(2, 4, 6, 6), bp.randn(4, 3, 3, 3)
    bp.nn.functional.conv_transpose2d(x, w, padding=1)
    assert calls == [(1, 1)]


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_transposed_convolution_matches_torch(nd, torch):
    rng = np.random.default_rng(nd)
    ours_f = getattr(bp.nn.functional, f"conv_transpose{nd}d")
    theirs_f = getattr(torch.nn.functional, f"conv_transpose{nd}d")
    for groups, k, d, p, op, s in itertools.product((1, 2), (1, 3), (1, 2), (0, 1, 2), (0, 1),
                                                    (1, 2)):
        if op >= max(s, d):
            continue
        x = rng.standard_normal((2, 4) + (5,) * nd)
        w = rng.standard_normal((4, 3) + (k,) * nd)
        b = rng.standard_normal(3 * groups)
        args = {"stride": s, "padding": p, "output_padding": op, "groups": groups,
                "dilation": d}
        try:
            theirs = theirs_f(torch.tensor(x), torch.tensor(w), torch.tensor(b), **args).numpy()
        except RuntimeError:  # an output size PyTorch refuses
            continue
        ours = ours_f(bp.tensor(x), bp.tensor(w), bp.tensor(b), **args).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def _special_values(shape, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    flat[::17] = np.nan
    flat[5::23] = np.inf
    flat[7::29] = -np.inf
    flat[3::31] = -0.0
    flat[4::37] = 0.0
    flat[11::41] = 1e30 if dtype == np.float32 else 1e300
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nan", [False, True])
def test_max_pool_without_indices_gives_the_same_maxima(dtype, nan):
    x = _special_values((2, 3, 9, 8), dtype) if nan else \
        np.random.default_rng(1).standard_normal((2, 3, 9, 8)).astype(dtype)
    for kernel, stride, padding, ceil in [(2, None, 0, False), (3, 1, 1, False),
                                          (3, 2, 1, True), ((2, 3), (1, 2), (1, 0), False)]:
        plain = bp.max_pool2d(bp.tensor(x), kernel, stride, padding, ceil_mode=ceil)
        leaf = bp.tensor(x, requires_grad=True)
        graded = bp.max_pool2d(leaf, kernel, stride, padding, ceil_mode=ceil)
        np.testing.assert_array_equal(plain.numpy(), graded.detach().numpy())
        assert np.array_equal(np.signbit(plain.numpy()), np.signbit(graded.detach().numpy()))
        values, _ = bp.max_pool2d(bp.tensor(x), kernel, stride, padding, ceil_mode=ceil,
                                        return_indices=True)
        np.testing.assert_array_equal(values.numpy(), plain.numpy())


def test_max_pool_skips_the_indices_only_without_gradient(monkeypatch):
    # The NumPy path's saving; the compiled one (backends.numba_pool) finds both in one pass.
    monkeypatch.setattr(bp.backends.numba, "enabled", False)
    asked = []
    argmax = pooling._max_pool_argmax

    def spy(*args):
        asked.append(args[-1])
        return argmax(*args)

    monkeypatch.setattr(pooling, "_max_pool_argmax", spy)
    x = bp.randn(1, 2, 8)
    bp.max_pool1d(x, 2)
    bp.max_pool1d(x.requires_grad_(), 2)
    with bp.no_grad():
        bp.max_pool1d(x, 2)
    assert asked == [False, True, False]


def test_pooling_fast_paths_match_torch(torch):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 40, 24))
    for ours, theirs in [
            (lambda a: bp.nn.functional.adaptive_avg_pool2d(a, 1),
             lambda a: torch.nn.functional.adaptive_avg_pool2d(a, 1)),
            (lambda a: bp.nn.functional.adaptive_avg_pool2d(a, (4, 2)),
             lambda a: torch.nn.functional.adaptive_avg_pool2d(a, (4, 2))),
            (lambda a: bp.nn.functional.avg_pool2d(a, (4, 3)),
             lambda a: torch.nn.functional.avg_pool2d(a, (4, 3))),
            (lambda a: bp.adaptive_avg_pool1d(a.reshape(2, 3, -1), 12),
             lambda a: torch.adaptive_avg_pool1d(a.reshape(2, 3, -1), 12))]:
        a, t = bp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, expected = ours(a), theirs(t)
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12,
                                   atol=1e-14)
        g = rng.standard_normal(tuple(expected.shape))
        out.backward(bp.tensor(g))
        expected.backward(torch.tensor(g))
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)


# -- the exact float32 GELU's Numba kernels ------------------------------------------------------

def _gelu_inputs() -> np.ndarray:
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.standard_normal(5000) * 4, np.linspace(-20, 20, 4001),
                        rng.uniform(-1e-6, 1e-6, 500), np.geomspace(1e-30, 1e30, 300),
                        -np.geomspace(1e-30, 1e30, 300),
                        [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 3.4e38, -3.4e38,
                         1e-45, -1e-45, 13.0, -13.0, 5.5, -5.5]])
    return x.astype(np.float32)


def _gelu_both_ways(x: np.ndarray, g: np.ndarray) -> tuple:
    leaf = bp.tensor(x, requires_grad=True)
    out = bp.nn.functional.gelu(leaf)
    out.backward(bp.tensor(g))
    return out.detach().numpy(), leaf.grad.numpy()


def test_exact_gelu_kernels_agree_with_the_numpy_kernels(monkeypatch):
    if not bp.backends.numba.is_available():
        pytest.skip("Numba is not installed")
    from backprop.nn.functional import _gelu_kernels
    ran = []
    for name in ("gelu_exact32", "gelu_exact32_backward"):
        kernel = getattr(_gelu_kernels, name)
        monkeypatch.setattr(_gelu_kernels, name,
                            lambda *a, _k=kernel, _n=name: (ran.append(_n), _k(*a))[1])
    x = _gelu_inputs()
    g = np.random.default_rng(4).standard_normal(x.shape).astype(np.float32)
    monkeypatch.setattr(bp.backends.numba, "enabled", True)
    fast = _gelu_both_ways(x, g)
    assert ran == ["gelu_exact32", "gelu_exact32_backward"]
    monkeypatch.setattr(bp.backends.numba, "enabled", False)
    slow = _gelu_both_ways(x, g)
    assert ran == ["gelu_exact32", "gelu_exact32_backward"]  # not run when switched off
    # An ulp from exp's rounding (below float32's smallest normal the kernels' exp is 0), and
    # the kernels' fused multiply-adds, which round each polynomial step once where NumPy rounds
    # twice: up to 6.4e-7 relative where 1 - h cancels (see _gelu_kernels); the gradient
    # g (Phi(x) + x phi(x)) adds terms of size 1 that cancel near x = -0.75: an ulp of 1.
    for ours, reference, atol in zip(fast, slow, (3e-38, 1e-6)):
        assert ours.dtype == np.float32
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference))
        np.testing.assert_allclose(ours, reference, rtol=8e-7, atol=atol)


def test_exact_gelu_kernels_leave_float64_and_tanh_to_others(monkeypatch):
    gelu_module = importlib.import_module("backprop.nn.functional.gelu")
    x = np.linspace(-3, 3, 1000)
    assert gelu_module._gelu_compiled(x, "none") is None
    assert gelu_module._gelu_compiled(x.astype(np.float32), "tanh") is None
    monkeypatch.setattr(bp.backends.numba, "enabled", False)
    assert gelu_module._gelu_compiled(x.astype(np.float32), "none") is None


def test_exact_gelu_kernels_match_a_float64_reference():
    x = _gelu_inputs()
    x = x[np.isfinite(x) & (np.abs(x) < 1e18)]
    ours = bp.nn.functional.gelu(bp.tensor(x)).numpy()
    exact = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x.astype(np.float64)])
    np.testing.assert_allclose(ours, exact, rtol=1e-5, atol=1.2e-38)


# -- batch norm in evaluation mode ---------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eval_batch_norm_fused_path_equals_the_recorded_ops(dtype, monkeypatch):
    norm = importlib.import_module("backprop.nn.functional.norm")
    fused = norm._fused_affine
    ran = []

    def spy(*args):
        out = fused(*args)
        ran.append(out is not None)
        return out

    monkeypatch.setattr(norm, "_fused_affine", spy)
    rng = np.random.default_rng(5)
    x = _special_values((4, 3, 5, 6), dtype) * 3
    mean, var = rng.standard_normal(3).astype(dtype), rng.uniform(0.1, 2, 3).astype(dtype)
    weight, bias = rng.standard_normal(3).astype(dtype), rng.standard_normal(3).astype(dtype)
    for w, b in [(None, None), (weight, None), (None, bias), (weight, bias)]:
        args = [bp.tensor(mean), bp.tensor(var), None if w is None else bp.tensor(w),
                None if b is None else bp.tensor(b)]
        plain = bp.nn.functional.batch_norm(bp.tensor(x), *args, eps=1e-3)
        leaf = bp.tensor(x, requires_grad=True)
        recorded = bp.nn.functional.batch_norm(leaf, *args, eps=1e-3)
        assert recorded.requires_grad and plain.dtype == recorded.dtype == dtype
        np.testing.assert_array_equal(plain.numpy(), recorded.detach().numpy())
    assert ran == [True, False] * 4


# -- split and chunk without a gradient ----------------------------------------------------------

def test_plain_split_pieces_are_views_like_the_recorded_ones(monkeypatch):
    join = importlib.import_module("backprop.ops.join")
    plain = join._plain_pieces
    ran = []
    monkeypatch.setattr(join, "_plain_pieces", lambda *a: (ran.append(1), plain(*a))[1])
    x = bp.arange(24.0).reshape(4, 6)
    pieces = x.split([1, 2, 3], dim=1)
    recorded = bp.arange(24.0).reshape(4, 6).requires_grad_().split([1, 2, 3], dim=1)
    assert ran == [1]
    for ours, theirs in zip(pieces, recorded):
        np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())
        assert ours._version is x._version and ours._view.base is x._view.base
    pieces[1][0, 0] = 100.0  # writing through a piece writes the input and is counted
    assert x[0, 1].item() == 100.0 and x._version.value == 1
    assert [p.shape for p in x.chunk(4, 1)] == [(4, 2), (4, 2), (4, 2)]
    assert [p.shape for p in bp.zeros(0, 3).split(2, 1)] == [(0, 2), (0, 1)]
    assert [p.shape for p in bp.zeros(3, 0).chunk(2, 1)] == [(3, 0), (3, 0)]


# -- constant padding fills only the frame --------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_constant_pad_matches_a_full_fill(dtype):
    join = importlib.import_module("backprop.ops.join")
    rng = np.random.default_rng(6)
    x = (rng.standard_normal((3, 4, 5)) * 10).astype(dtype)
    for _ in range(60):
        widths = tuple((int(rng.integers(-2, 3)), int(rng.integers(-2, 3))) for _ in range(3))
        if any(n + lo + hi <= 0 for n, (lo, hi) in zip(x.shape, widths)):
            continue
        value = 7 if dtype is not np.bool_ else True
        got = join._constant_pad.forward(x, widths, value)
        cropped = x[tuple(slice(max(-lo, 0), n - max(-hi, 0))
                          for n, (lo, hi) in zip(x.shape, widths))]
        expected = np.pad(cropped, [(max(lo, 0), max(hi, 0)) for lo, hi in widths],
                          constant_values=value)
        assert got.dtype == x.dtype
        np.testing.assert_array_equal(got, expected)
