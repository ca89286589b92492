"""Numerical safety at extreme inputs (issue 8, part 5).

Every op here has a formulation that overflows or cancels when written naively (``exp(x)`` at
x = 1e4, ``E[x^2] - E[x]^2`` at an offset of 1e4). We run each in float32 on values up to
|x| = 1e4 and compare value and gradient with a float64 NumPy reference written in a stable closed
form. The reference is computed from the float32 inputs cast up to float64, so only the op's own
rounding is measured, not the rounding of the inputs.

Tolerance, one rule for all (``assert_close32``): ``|ours - ref| <= RTOL |ref| + ATOL_ULPS *
eps32 * scale``. ``RTOL = 1e-5`` is about 80 float32 ulps (eps32 = 1.19e-7): room for a few
roundings per element plus exp/log's own ~1-ulp errors, still 100x tighter than any real bug.
``scale`` is the largest |input| that feeds the output: ops like ``x - logsumexp(x)`` subtract
values near 1e4, and float32 cannot hold their difference better than a few ulps *of 1e4*. That
is the problem's conditioning, not instability; an unstable formula gives inf, nan or an O(1)
error, far outside this band.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F

EPS32 = float(np.finfo(np.float32).eps)
RTOL = 1e-5
ATOL_ULPS = 8

# The extreme values every elementwise op sees, both signs, around each regime change.
EXTREMES = np.array([-1e4, -1e3, -100.0, -88.0, -30.0, -20.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 20.0,
                     30.0, 88.0, 100.0, 1e3, 1e4], dtype=np.float32)

# Rows for the softmax family: huge spreads, huge common offsets, ties at the top.
ROWS = np.array([[1e4, 0.0, -1e4],
                 [1e4, 1e4 - 1.0, 1e4 - 2.0],
                 [-1e4, -1e4 + 1.0, -1e4 + 2.0],
                 [-1e4, -1e4, -1e4],
                 [1e4, 1e4, -1e4],
                 [0.5, -0.25, 1.0]], dtype=np.float32)


def assert_close32(got: np.ndarray, ref: np.ndarray, scale: float = 1.0, what: str = "",
                   rtol: float = RTOL) -> None:
    """``got`` (float32) is finite and within the module's float32 tolerance of ``ref``."""
    got = np.asarray(got, dtype=np.float64)
    assert np.all(np.isfinite(got)), f"{what}: non-finite values {got}"
    bound = rtol * np.abs(ref) + ATOL_ULPS * EPS32 * scale
    bad = np.abs(got - ref) > bound
    assert not bad.any(), (f"{what}: at {np.argwhere(bad).tolist()} got {got[bad]} expected "
                           f"{ref[bad]} (bound {bound[bad]})")


# -- float64 references in stable closed forms ----------------------------------------------------

def ref_softplus(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def ref_sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def ref_logsumexp(x: np.ndarray, axis: int = -1) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def ref_log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return x - np.expand_dims(ref_logsumexp(x, axis), axis)


_erfc = np.vectorize(math.erfc)


def ref_phi_cdf(x: np.ndarray) -> np.ndarray:
    return 0.5 * _erfc(-x / math.sqrt(2.0))  # erfc keeps the far-left tail (erf would give 0)


def ref_gelu(x: np.ndarray) -> np.ndarray:
    return x * ref_phi_cdf(x)


def ref_gelu_grad(x: np.ndarray) -> np.ndarray:
    with np.errstate(under="ignore"):
        return ref_phi_cdf(x) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def ref_gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def ref_gelu_tanh_grad(x: np.ndarray) -> np.ndarray:
    k = math.sqrt(2 / math.pi)
    t = np.tanh(k * (x + 0.044715 * x ** 3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)


@pytest.fixture(params=["numpy", "numba"])
def kernels(request: Any, monkeypatch: Any) -> str:
    """Run a test on the NumPy code and, where Numba is installed, on its kernels (which only
    take arrays of ``min_size`` elements or more: lowered to 0 so these small inputs qualify)."""
    numba = bp.backends.numba
    if request.param == "numba":
        if not numba.is_available():
            pytest.skip("Numba is not installed")
        monkeypatch.setattr(numba, "enabled", True)
        monkeypatch.setattr(numba, "min_size", 0)
    else:
        monkeypatch.setattr(numba, "enabled", False)
    return request.param


# -- elementwise activations: value and gradient --------------------------------------------------

# name -> (our op, float64 value, float64 derivative)
ELEMENTWISE: dict[str, tuple[Callable[[Any], Any], Callable, Callable]] = {
    "sigmoid": (bp.sigmoid, ref_sigmoid, lambda x: ref_sigmoid(x) * ref_sigmoid(-x)),
    "tanh": (bp.tanh, np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    # PyTorch's softplus returns x itself past threshold 20; log1p(e^-20) = 2e-9 is < 1 ulp there.
    "softplus": (F.softplus, ref_softplus, ref_sigmoid),
    "logsigmoid": (F.logsigmoid, lambda x: -ref_softplus(-x), lambda x: ref_sigmoid(-x)),
    "silu": (F.silu, lambda x: x * ref_sigmoid(x),
             lambda x: ref_sigmoid(x) * (1 + x * ref_sigmoid(-x))),
    "gelu": (F.gelu, ref_gelu, ref_gelu_grad),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), ref_gelu_tanh, ref_gelu_tanh_grad),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_value_and_gradient_at_extremes(name: str, kernels: str) -> None:
    op, ref, dref = ELEMENTWISE[name]
    x = bp.tensor(EXTREMES, requires_grad=True)
    out = op(x)
    assert out.dtype == bp.float32
    x64 = EXTREMES.astype(np.float64)
    with np.errstate(under="ignore", over="ignore"):
        expected, slope = ref(x64), dref(x64)
    # Elementwise outputs carry relative error only; the absolute term covers outputs near 0.
    assert_close32(out.detach().numpy(), expected, what=name)
    out.sum().backward()
    assert x.grad is not None and x.grad.dtype == bp.float32
    assert_close32(x.grad.numpy(), slope, what=f"d{name}/dx")


# -- softmax family -------------------------------------------------------------------------------

def _row_scale(rows: np.ndarray) -> np.ndarray:
    return float(np.abs(rows).max())


def test_logsumexp_at_extremes() -> None:
    x = bp.tensor(ROWS, requires_grad=True)
    out = bp.logsumexp(x, dim=1)
    r = ROWS.astype(np.float64)
    assert_close32(out.detach().numpy(), ref_logsumexp(r), scale=1.0, what="logsumexp")
    out.sum().backward()
    # The gradient is exp(x - lse) with lse rounded to float32: near 1e4 that rounding is up to
    # half an ulp of 1e4 (5e-4), which exp turns into the same *relative* error. PyTorch computes
    # it the same way and gets the same digits (0.66549 for the [1e4, 1e4-1, 1e4-2] row).
    assert_close32(x.grad.numpy(), np.exp(ref_log_softmax(r)), what="dlogsumexp",
                   rtol=RTOL + EPS32 * _row_scale(ROWS))


def test_log_softmax_and_softmax_at_extremes(kernels: str) -> None:
    r = ROWS.astype(np.float64)
    u = np.random.default_rng(0).standard_normal(ROWS.shape)
    x = bp.tensor(ROWS, requires_grad=True)
    out = F.log_softmax(x, dim=1)
    # x - lse(x) with |x| ~ 1e4: absolute error is a few ulps of 1e4 (the module docstring).
    assert_close32(out.detach().numpy(), ref_log_softmax(r), scale=_row_scale(ROWS),
                   what="log_softmax")
    (out * bp.tensor(u.astype(np.float32))).sum().backward()
    s = np.exp(ref_log_softmax(r))
    assert_close32(x.grad.numpy(), u - s * u.sum(1, keepdims=True), scale=4.0,
                   what="dlog_softmax")

    x = bp.tensor(ROWS, requires_grad=True)
    out = F.softmax(x, dim=1)
    assert_close32(out.detach().numpy(), s, what="softmax")
    np.testing.assert_allclose(out.detach().numpy().sum(1), 1.0, rtol=1e-6)
    (out * bp.tensor(u.astype(np.float32))).sum().backward()
    assert_close32(x.grad.numpy(), s * (u - (u * s).sum(1, keepdims=True)), scale=4.0,
                   what="dsoftmax")


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_at_extremes(smoothing: float) -> None:
    r = ROWS.astype(np.float64)
    target = np.array([2, 2, 0, 1, 2, 0])
    x = bp.tensor(ROWS, requires_grad=True)
    loss = F.cross_entropy(x, bp.tensor(target), label_smoothing=smoothing)
    logp = ref_log_softmax(r)
    classes = r.shape[1]
    # The smoothed target: (1 - s) on the label plus s / C everywhere.
    q = (1 - smoothing) * np.eye(classes)[target] + smoothing / classes
    expected = -(q * logp).sum(1).mean()  # about 3.3e3: a wrong class ahead by 1e4
    assert_close32(loss.detach().numpy(), np.array(expected), scale=_row_scale(ROWS),
                   what="cross_entropy")
    loss.backward()
    assert_close32(x.grad.numpy(), (np.exp(logp) - q) / len(target), what="dcross_entropy")


def test_binary_cross_entropy_with_logits_at_extremes() -> None:
    target = (np.arange(len(EXTREMES)) % 2).astype(np.float32)
    x64 = EXTREMES.astype(np.float64)
    x = bp.tensor(EXTREMES, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, bp.tensor(target), reduction="none")
    expected = np.maximum(x64, 0) - x64 * target + np.log1p(np.exp(-np.abs(x64)))
    assert_close32(loss.detach().numpy(), expected, scale=1.0, what="bce_with_logits")
    loss.sum().backward()
    assert_close32(x.grad.numpy(), ref_sigmoid(x64) - target, what="dbce_with_logits")


def test_binary_cross_entropy_with_logits_pos_weight_at_extremes() -> None:
    x64 = EXTREMES.astype(np.float64)
    x = bp.tensor(EXTREMES, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, bp.ones(len(EXTREMES), dtype=bp.float32),
                                              pos_weight=bp.tensor(np.float32(3.0)),
                                              reduction="sum")
    expected = 3.0 * ref_softplus(-x64).sum()  # y = 1: pos_weight * log(1 + e^-x)
    assert_close32(loss.detach().numpy(), np.array(expected), what="bce pos_weight")
    loss.backward()
    assert_close32(x.grad.numpy(), -3.0 * ref_sigmoid(-x64), what="dbce pos_weight")


def test_mse_loss_at_extremes() -> None:
    a = np.array([1e4, -1e4, 1e4, 0.5], dtype=np.float32)
    b = np.array([-1e4, 1e4, 1e4 - 1.0, 0.25], dtype=np.float32)
    x = bp.tensor(a, requires_grad=True)
    loss = F.mse_loss(x, bp.tensor(b))
    d = a.astype(np.float64) - b.astype(np.float64)
    assert_close32(loss.detach().numpy(), np.array((d ** 2).mean()), what="mse")
    loss.backward()
    assert_close32(x.grad.numpy(), 2 * d / len(d), what="dmse")


# -- variance in norm layers under a large common offset ------------------------------------------

OFFSET = 1e4


def _offset_batch(shape: tuple[int, ...], spread: float) -> np.ndarray:
    """1e4 + noise of std ``spread``, rounded to float32 (the values the op really sees)."""
    noise = np.random.default_rng(1).standard_normal(shape) * spread
    return (OFFSET + noise).astype(np.float32)


def _normalised(x: np.ndarray, axes: tuple[int, ...], eps: float) -> np.ndarray:
    mean = x.mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(((x - mean) ** 2).mean(axis=axes, keepdims=True) + eps)


@pytest.mark.parametrize("spread", [1.0, 0.1])
def test_layer_norm_variance_with_large_offset(spread: float, kernels: str) -> None:
    """E[x^2] - E[x]^2 in float32 at 1e4 cancels to 0 or a negative number (sqrt gives nan); the
    two-pass (x - mean)^2 keeps the variance right."""
    data = _offset_batch((4, 64), spread)
    x = bp.tensor(data, requires_grad=True)
    out = F.layer_norm(x, (64,))
    expected = _normalised(data.astype(np.float64), (1,), 1e-5)
    # Centring subtracts two numbers near 1e4: each x - mean carries a few ulps of 1e4 absolute
    # error, i.e. ulp(1e4)/spread after dividing by the std.
    assert_close32(out.detach().numpy(), expected, scale=OFFSET / spread, what="layer_norm")
    np.testing.assert_allclose(out.detach().numpy().astype(np.float64).std(axis=1), 1.0,
                               rtol=1e-2)
    u = np.random.default_rng(2).standard_normal(data.shape).astype(np.float32)
    (out * bp.tensor(u)).sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    # Layer norm's gradient is invariant to the offset: grad = (u - mean(u) - y mean(u y)) / std.
    y = expected
    std = np.sqrt(((data - data.astype(np.float64).mean(1, keepdims=True)) ** 2).mean(1)
                  + 1e-5)[:, None]
    ref = (u - u.mean(1, keepdims=True) - y * (u * y).mean(1, keepdims=True)) / std
    assert_close32(x.grad.numpy(), ref, scale=OFFSET / spread ** 2, what="dlayer_norm")


@pytest.mark.parametrize("spread", [1.0, 0.1])
def test_batch_norm_variance_with_large_offset(spread: float, kernels: str) -> None:
    data = _offset_batch((32, 3, 2), spread)
    running_mean = bp.zeros(3, dtype=bp.float32)
    running_var = bp.ones(3, dtype=bp.float32)
    x = bp.tensor(data, requires_grad=True)
    out = F.batch_norm(x, running_mean, running_var, training=True, momentum=1.0)
    d64 = data.astype(np.float64)
    assert_close32(out.detach().numpy(), _normalised(d64, (0, 2), 1e-5), scale=OFFSET / spread,
                   what="batch_norm")
    # momentum=1: the running stats are this batch's mean and *unbiased* variance.
    count = data.shape[0] * data.shape[2]
    var = d64.var(axis=(0, 2)) * count / (count - 1)
    got_var = running_var.numpy().astype(np.float64)
    assert np.all(got_var > 0), f"batch_norm running_var not positive: {got_var}"
    # The variance of float32 values near 1e4 is known to ~ulp(1e4) * spread relative to spread^2.
    np.testing.assert_allclose(got_var, var, rtol=1e-5 + 8 * EPS32 * OFFSET / spread)
    np.testing.assert_allclose(running_mean.numpy(), d64.mean(axis=(0, 2)), rtol=1e-6)
    u = np.random.default_rng(2).standard_normal(data.shape).astype(np.float32)
    (out * bp.tensor(u)).sum().backward()
    y = _normalised(d64, (0, 2), 1e-5)
    std = np.sqrt(d64.var(axis=(0, 2), keepdims=True) + 1e-5)
    ref = (u - u.mean((0, 2), keepdims=True) - y * (u * y).mean((0, 2), keepdims=True)) / std
    # As for layer norm: y carries ulp(1e4)/spread of error, and the 1/std factor another 1/spread.
    assert_close32(x.grad.numpy(), ref, scale=OFFSET / spread ** 2, what="dbatch_norm")


def test_var_and_std_with_large_offset() -> None:
    data = _offset_batch((1000,), 0.5)
    x = bp.tensor(data, requires_grad=True)
    var = bp.var(x)
    expected = data.astype(np.float64).var(ddof=1)
    assert float(var.item()) > 0
    np.testing.assert_allclose(float(var.item()), expected, rtol=1e-5 + 8 * EPS32 * OFFSET / 0.5)
    var.backward()
    d64 = data.astype(np.float64)
    assert_close32(x.grad.numpy(), 2 * (d64 - d64.mean()) / (len(d64) - 1),
                   scale=OFFSET / len(d64), what="dvar")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("exponent", [2, 3, -1, -2, 2.0, 3.0, -1.0, -2.0])
def test_pow_by_small_integer_exponents_rounds_as_pytorch(torch: Any, dtype: Any,
                                                          exponent: float) -> None:
    """PyTorch computes these exponents by products (x * x * x), not C's pow: ours must give the
    same bits, which NumPy's general power does not (it is also ~100x slower)."""
    x = np.random.default_rng(0).standard_normal((7, 192)).astype(dtype)
    ours = (bp.tensor(x) ** exponent).numpy()
    theirs = (torch.tensor(x) ** exponent).numpy()
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)
