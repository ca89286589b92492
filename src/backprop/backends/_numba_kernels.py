"""The Numba kernels behind ``backprop.backends.numba``. Importing this module imports Numba, so
``backends.numba`` imports it on the first kernel call, never with ``import backprop``.

Every kernel writes into arrays its caller allocated: C-contiguous float32 or float64, flat or
2-D (rows, n). Elementwise arithmetic runs in the arrays' own dtype and in the NumPy path's
order, without fast-math (no reassociation, no fused multiply-adds), so results equal the NumPy
path's up to the rounding of ``exp`` and ``tanh``, evaluated here rather than by NumPy, and of
row sums (accumulated in float64, reordered: see below). The tanh GELU's kernels are the
exception: they let the compiler fuse multiply-adds (see there). Kept in one file on purpose:
Numba's disk cache notices changes to a kernel's own file only, not to the helpers it calls.

Why our own exp and tanh: Numba calls the C library's ``exp``/``tanh`` one element at a time,
several times slower than NumPy's SIMD loops. The versions below are branch-free arithmetic
that the compiler turns into SIMD code (``error_model="numpy"`` lets it: Python's error model
tests every division for a zero divisor, which keeps a loop from vectorising).

Why one thread: with Numba's thread pool (prange, OpenMP layer) a W4 training step took 27.4
ms instead of 28.5 on an idle 2-core machine (4% better), but whenever another process held a
core a parallel region waited for its second thread to be scheduled: 0.5 ms kernels took 16-20
ms (median) with OpenMP's default spin-then-sleep policy; OMP_WAIT_POLICY=PASSIVE and Numba's
workqueue layer gained nothing there. The single pass is where the gain is (fewer trips through
memory), and one thread also halves the first compilation (~5 s of CPU instead of ~14).
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit
from numba.core import types
from numba.extending import intrinsic, overload

# One thread (see the module docstring); no fast-math; NumPy's error model (no zero-divisor
# tests, which would keep the loops from vectorising); machine code cached on disk; the GIL
# released, so other Python threads (a data loader) run meanwhile.
_OPTIONS = {"fastmath": False, "error_model": "numpy", "cache": True, "nogil": True}


# -- 2^k from a rounded sum ------------------------------------------------------------------------

@intrinsic
def _power_of_two(typingctx, shifted):
    """2^k as a float, for ``shifted`` = k + 1.5 * 2^52 (float64) or k + 1.5 * 2^23 (float32),
    |k| below the exponent's range: k sits in the low bits of the sum, so the result's bit
    pattern is (bits(shifted) + bias) << mantissa bits. In IR of the float's own width (Numba's
    own integer arithmetic would widen int32 to int64, which vectorises worse)."""
    if shifted not in (types.float32, types.float64):
        return None
    width, bias, mantissa = (32, 127, 23) if shifted == types.float32 else (64, 1023, 52)

    def codegen(context, builder, signature, args):
        integer = ir.IntType(width)
        bits = builder.bitcast(args[0], integer)
        bits = builder.shl(builder.add(bits, ir.Constant(integer, bias)),
                           ir.Constant(integer, mantissa))
        return builder.bitcast(bits, context.get_value_type(signature.return_type))
    return shifted(shifted), codegen


# -- exp(z) for z <= 0 ----------------------------------------------------------------------------
# exp(z) = 2^k exp(r) with k = round(z / ln 2) and r = z - k ln 2, ln 2 split in two parts (Cody
# and Waite: k * hi is exact), |r| <= ln(2)/2; exp(r) by its Taylor polynomial, to r^13 / 13! in
# float64 and r^7 / 7! in float32 (the first term left out is below 5e-18 and 6e-9 relative).
# Adding 1.5 * 2^52 (2^23) rounds to an integer and leaves k in the low bits of the sum, from
# which 2^k is assembled as a bit pattern. Below the smallest normal float the result is 0 (the
# true value is under 3.3e-308, or 1.7e-38 in float32); NaN stays NaN.

def _inverse_factorials(dtype: type, degree: int) -> tuple:
    return tuple(dtype(1.0 / math.factorial(n)) for n in range(degree + 1))


_F64_TERMS = _inverse_factorials(np.float64, 13)
_F32_TERMS = _inverse_factorials(np.float32, 7)
_F64_LN2 = (np.float64(6.93147180369123816490e-01), np.float64(1.90821492927058770002e-10))
_F32_LN2 = (np.float32(0.693359375), np.float32(-2.12194440e-4))
_F64_LOG2E, _F32_LOG2E = np.float64(1.4426950408889634), np.float32(1.442695)
_F64_MAGIC, _F32_MAGIC = np.float64(6755399441055744.0), np.float32(12582912.0)
_F64_FLOOR, _F32_FLOOR = np.float64(-708.0), np.float32(-87.0)


def _exp_nonpositive(z):
    """exp(z) for z <= 0, within about one unit in the last place (compiled: see the overload)."""
    raise NotImplementedError("compiled by Numba only")


@overload(_exp_nonpositive)
def _exp_nonpositive_impl(z):
    if z == types.float32:
        return _exp32
    if z == types.float64:
        return _exp64
    return None


def _exp64(z):
    floor = _F64_FLOOR
    clamped = z if not z < floor else floor  # written so that NaN passes through
    shifted = clamped * _F64_LOG2E + _F64_MAGIC
    k = shifted - _F64_MAGIC
    r = clamped - k * _F64_LN2[0]
    r = r - k * _F64_LN2[1]
    c = _F64_TERMS
    p = c[13]
    p = p * r + c[12]
    p = p * r + c[11]
    p = p * r + c[10]
    p = p * r + c[9]
    p = p * r + c[8]
    p = p * r + c[7]
    p = p * r + c[6]
    p = p * r + c[5]
    p = p * r + c[4]
    p = p * r + c[3]
    p = p * r + c[2]
    p = p * r + c[1]
    p = p * r + c[0]
    result = p * _power_of_two(shifted)
    return result if not z < floor else np.float64(0.0)


def _exp32(z):
    floor = _F32_FLOOR
    clamped = z if not z < floor else floor
    shifted = clamped * _F32_LOG2E + _F32_MAGIC
    k = shifted - _F32_MAGIC
    r = clamped - k * _F32_LN2[0]
    r = r - k * _F32_LN2[1]
    c = _F32_TERMS
    p = c[7]
    p = p * r + c[6]
    p = p * r + c[5]
    p = p * r + c[4]
    p = p * r + c[3]
    p = p * r + c[2]
    p = p * r + c[1]
    p = p * r + c[0]
    result = p * _power_of_two(shifted)
    return result if not z < floor else np.float32(0.0)


def _tanh(u):
    """tanh(u) within about one unit of 1, absolute (compiled: see the overload)."""
    raise NotImplementedError("compiled by Numba only")


@overload(_tanh)
def _tanh_impl(u):
    # 1 - 2 e / (1 + e) with e = exp(-2|u|), sign put back; |u| is capped where tanh rounds to 1.
    # Near 0 its relative error is larger than the C library's; the GELU only uses 1 + tanh and
    # 1 - tanh^2, whose accuracy depends on the absolute error alone.
    if u not in (types.float32, types.float64):
        return None
    cast = np.float32 if u == types.float32 else np.float64
    cap = cast(10.0 if u == types.float32 else 20.0)

    def impl(u):
        a = abs(u)
        a = a if not a > cap else cap  # NaN passes through
        e = _exp_nonpositive(a * cast(-2.0))
        t = cast(1.0) - cast(2.0) * e / (cast(1.0) + e)
        return t if u >= cast(0.0) else -t
    return impl


def _like(value, constant):
    """``constant`` in ``value``'s float type (compiled: see the overload)."""
    raise NotImplementedError("compiled by Numba only")


@overload(_like)
def _like_impl(value, constant):
    cast = np.float32 if value == types.float32 else np.float64
    return lambda value, constant: cast(constant)


# -- tanh GELU: activation.py's formulas, one pass instead of ~10 ---------------------------------

_GELU_CUBIC = 0.044715
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)

# Fused multiply-adds (fast-math's "contract" flag, nothing else of it) round each a * b + c once
# instead of twice: on W4's 524,288 elements the forward went 626 -> 507 us and the backward
# 748 -> 565, results moving by at most 2.4e-7 (forward) and 9.5e-7 (backward) absolute from the
# NumPy path's, the size of the tanh approximation's own rounding.
_CONTRACTED = {**_OPTIONS, "fastmath": {"contract"}}


@njit(**_CONTRACTED)
def gelu_tanh(x, out):
    """out = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as (1 + t) x / 2."""
    for i in range(x.size):
        v = x[i]
        u = v * v * v * _like(v, _GELU_CUBIC) + v
        u = u * _like(v, _SQRT_2_OVER_PI)
        out[i] = (_tanh(u) + _like(v, 1.0)) * v * _like(v, 0.5)


@njit(**_CONTRACTED)
def gelu_tanh_backward(g, x, out):
    """out = g ((1 + t)/2 + x/2 (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)), t the forward's
    tanh."""
    for i in range(x.size):
        v = x[i]
        square = v * v
        t = square * _like(v, _GELU_CUBIC) * v + v
        t = _tanh(t * _like(v, _SQRT_2_OVER_PI))
        slope = square * _like(v, 3.0 * _GELU_CUBIC) + _like(v, 1.0)
        slope = slope * _like(v, _SQRT_2_OVER_PI)
        term = (_like(v, 1.0) - t * t) * v * _like(v, 0.5) * slope
        out[i] = ((t + _like(v, 1.0)) * _like(v, 0.5) + term) * g[i]


# -- row reductions -------------------------------------------------------------------------------
# Sums accumulate in float64 and may be reordered (fast-math's "reassoc" flag, on these
# functions only, and nothing else of fast-math): the compiler then keeps several partial sums
# in SIMD registers, 4-5x faster than one running sum that waits on each addition. NumPy's own
# sums are reordered too (pairwise summation); neither order is more faithful than the other.

_SUM = {"error_model": "numpy", "fastmath": {"reassoc"}}


@njit(**_SUM)
def _row_sum(row):
    total = 0.0
    for j in range(row.size):
        total += np.float64(row[j])
    return total


@njit(**_SUM)
def _row_dot(a, b):
    total = 0.0
    for j in range(a.size):
        total += np.float64(a[j]) * np.float64(b[j])
    return total


@njit(**_SUM)
def _row_dot3(a, b, c):
    """sum(float64(a * b) * c): a * b rounded in the arrays' dtype, as the NumPy path forms it."""
    total = 0.0
    for j in range(a.size):
        total += np.float64(a[j] * b[j]) * np.float64(c[j])
    return total


@njit(**_SUM)
def _row_centered_squares(row, center):
    """sum((row - center)^2) in float64 (the variance's second pass)."""
    total = 0.0
    for j in range(row.size):
        d = np.float64(row[j]) - center
        total += d * d
    return total


@njit(error_model="numpy")
def _row_max(row):
    """The row's largest value other than NaN (-inf if none). A NaN in the row is not reported
    here: it reaches the sum of exponentials, which makes the whole row NaN, as NumPy's max
    followed by the same steps does."""
    n = row.size
    m0 = m1 = m2 = m3 = -np.inf
    j = 0
    while j + 4 <= n:
        v0, v1, v2, v3 = row[j], row[j + 1], row[j + 2], row[j + 3]
        m0 = v0 if v0 > m0 else m0
        m1 = v1 if v1 > m1 else m1
        m2 = v2 if v2 > m2 else m2
        m3 = v3 if v3 > m3 else m3
        j += 4
    while j < n:
        v0 = row[j]
        m0 = v0 if v0 > m0 else m0
        j += 1
    m0 = m1 if m1 > m0 else m0
    m2 = m3 if m3 > m2 else m2
    return m2 if m2 > m0 else m0


# -- layer norm over the last axis (norm.py's _normalize_forward and its input VJP) ---------------

@njit(**_OPTIONS)
def layer_norm(x, weight, bias, eps, out, mean, var, rstd):
    """Rows of ``x`` (rows, n): out = (x - mean) * rstd * weight + bias, rstd = 1/sqrt(var + eps)
    (biased variance, two passes); ``mean``, ``var`` and ``rstd`` (rows,) receive the
    statistics. An empty ``weight`` or ``bias`` means none."""
    rows, n = x.shape
    for i in range(rows):
        row = x[i]
        m = _row_sum(row) / n
        variance = _row_centered_squares(row, m) / n
        # The statistics in the input's dtype, as the NumPy path keeps them, and used as such.
        mean[i] = m
        var[i] = variance
        rstd[i] = 1.0 / math.sqrt(variance + eps)
        mi = mean[i]
        ri = rstd[i]
        o = out[i]
        for j in range(n):
            v = (row[j] - mi) * ri
            if weight.size:
                v = v * weight[j]
            if bias.size:
                v = v + bias[j]
            o[j] = v


@njit(**_OPTIONS)
def layer_norm_backward(g, x, mean, rstd, weight, dx, sum_g_x_hat, sum_g):
    """dx = rstd (g_hat - mean(g_hat) - x_hat mean(g_hat x_hat)) per row, g_hat = g * weight
    (``weight`` empty: none), x_hat = (x - mean) rstd. ``sum_g_x_hat`` and ``sum_g`` (float64,
    (n,), zeroed; empty: not wanted) receive the column sums of g * x_hat and of g, the weight's
    and the bias's gradients, in the pass that already reads each row (summing the full
    products afterwards took two more trips through memory)."""
    rows, n = x.shape
    for i in range(rows):
        xr, gr, d = x[i], g[i], dx[i]
        mi = mean[i]
        ri = rstd[i]
        # x_hat in dx's row, then g_hat's sums.
        for j in range(n):
            d[j] = (xr[j] - mi) * ri
        if weight.size:
            s_g = _row_dot(gr, weight)
            s_gx = _row_dot3(gr, weight, d)
        else:
            s_g = _row_sum(gr)
            s_gx = _row_dot(gr, d)
        if sum_g_x_hat.size:
            for j in range(n):
                sum_g_x_hat[j] += np.float64(gr[j] * d[j])  # the product rounded as NumPy's
        if sum_g.size:
            for j in range(n):
                sum_g[j] += np.float64(gr[j])
        mean_g = _like(mi, s_g / n)
        mean_gx = _like(mi, s_gx / n)
        for j in range(n):
            g_hat = gr[j] * weight[j] if weight.size else gr[j]
            d[j] = (g_hat - mean_g - d[j] * mean_gx) * ri


# -- softmax and log_softmax over the last axis (fused.py) ----------------------------------------
# The row's maximum is subtracted first, so exp's argument is <= 0, or NaN, which spreads to the
# whole row through the sum, as in NumPy: a row of -inf, or one holding +inf or NaN, gives NaN.

@njit(**_OPTIONS)
def softmax(x, out):
    """out = exp(x - max) / sum(exp(x - max)) per row of ``x`` (rows, n)."""
    rows, n = x.shape
    for i in range(rows):
        row, o = x[i], out[i]
        top = _like(row[0], _row_max(row))
        for j in range(n):
            o[j] = _exp_nonpositive(row[j] - top)
        total = _like(top, _row_sum(o))
        for j in range(n):
            o[j] = o[j] / total


@njit(**_OPTIONS)
def softmax_backward(g, out, dx):
    """dx = out * (g - sum(g * out)) per row."""
    rows, n = out.shape
    for i in range(rows):
        gr, o, d = g[i], out[i], dx[i]
        dot = _like(o[0], _row_dot(gr, o))
        for j in range(n):
            d[j] = o[j] * (gr[j] - dot)


@njit(**_OPTIONS)
def log_softmax(x, out):
    """out = (x - max) - log(sum(exp(x - max))) per row."""
    rows, n = x.shape
    for i in range(rows):
        row, o = x[i], out[i]
        top = _like(row[0], _row_max(row))
        for j in range(n):  # exp(x - max) in out's row, for the sum (exp stays unreordered)
            o[j] = _exp_nonpositive(row[j] - top)
        log_total = _like(top, math.log(_row_sum(o)))
        for j in range(n):
            o[j] = (row[j] - top) - log_total


@njit(**_OPTIONS)
def log_softmax_backward(g, out, dx):
    """dx = g - exp(out) * sum(g) per row."""
    rows, n = out.shape
    for i in range(rows):
        gr, o, d = g[i], out[i], dx[i]
        total = _like(o[0], _row_sum(gr))
        for j in range(n):
            d[j] = gr[j] - _exp_nonpositive(o[j]) * total


@njit(**_OPTIONS)
def attention_softmax(x, scale, causal, queries, out):
    """out = softmax(x * scale) per row of ``x`` (rows, n), the rows being blocks of
    ``queries`` query rows; with ``causal``, row i of a block keeps keys 0..i only and writes 0
    for the rest (exp(-inf)), which are never read."""
    rows, n = x.shape
    for r in range(rows):
        row, o = x[r], out[r]
        valid = min(r % queries + 1, n) if causal else n
        s = _like(row[0], scale)
        for j in range(valid):  # the scaled scores in out's row, rounded as x * scale is
            o[j] = row[j] * s
        top = _like(row[0], _row_max(o[:valid]))
        for j in range(valid):
            o[j] = _exp_nonpositive(o[j] - top)
        total = _like(top, _row_sum(o[:valid]))
        for j in range(valid):
            o[j] = o[j] / total
        for j in range(valid, n):
            o[j] = 0.0


@njit(**_OPTIONS)
def attention_softmax_backward(g, out, scale, dx):
    """dx = out * (g - sum(g * out)) * scale per row."""
    rows, n = out.shape
    for i in range(rows):
        gr, o, d = g[i], out[i], dx[i]
        dot = _like(o[0], _row_dot(gr, o))
        s = _like(o[0], scale)
        for j in range(n):
            d[j] = o[j] * (gr[j] - dot) * s


# -- Adam / AdamW (adam.py's Adam._update, one pass instead of ~12) --------------------------------

@njit(**_OPTIONS)
def adam_update(data, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, hyper, flags):
    """Adam's update in place, operation for operation as adam.py's NumPy code (so the results
    are the same to the last bit). ``hyper`` (data's dtype) = (shrink, weight_decay, weight,
    1 - weight, beta2, 1 - beta2, -step_size, bias_correction2_sqrt, eps) with weight =
    1 - beta1; ``flags`` = (decay: 0 none, 1 shrink the weights (decoupled), 2 add to the
    gradient (L2); maximize; lerp's small-weight formula). An empty ``max_exp_avg_sq``: no
    AMSGrad."""
    shrink, decay, weight, weight_complement = hyper[0], hyper[1], hyper[2], hyper[3]
    beta2, beta2_complement, neg_step, correction, eps = (hyper[4], hyper[5], hyper[6],
                                                           hyper[7], hyper[8])
    mode, maximize, small = flags[0], flags[1] != 0, flags[2] != 0
    amsgrad = max_exp_avg_sq.size != 0
    for i in range(data.size):
        p = data[i]
        g = grad[i]
        if mode == 1:
            p = p * shrink
            if maximize:
                g = -g
        elif mode == 2:
            g = p * decay - g if maximize else g + p * decay
        elif maximize:
            g = -g
        # exp_avg.lerp_(g, weight) with PyTorch's two formulas
        m = exp_avg[i]
        delta = g - m
        if small:
            m = m + delta * weight
        else:
            m = g - delta * weight_complement
        exp_avg[i] = m
        v = exp_avg_sq[i] * beta2 + g * beta2_complement * g
        exp_avg_sq[i] = v
        if amsgrad:
            top = max_exp_avg_sq[i]
            v = v if (v > top or math.isnan(v)) else top  # np.maximum: NaN wins
            max_exp_avg_sq[i] = v
        denom = np.sqrt(v) / correction + eps
        data[i] = p + m * neg_step / denom


# -- one LSTM step (recurrent_layer.py's loop body), gates [i | f | g | o] -----------------------
# The cell's tanh(c) is as often near 0 as anywhere, where _tanh's error is large relative to the
# value, and the C library's tanh (math.tanh) is a call per element that keeps the loop from
# vectorising (the step then ran slower than NumPy's). _tanh_exact is accurate to about one unit
# in the last place over the whole range, branch-free: below |u| = 0.4 tanh's Taylor series (the
# ratio of successive terms is under 0.07 there), above it (1 - e) / (1 + e) with e = exp(-2|u|),
# where 1 - e >= 0.55 loses no accuracy to cancellation.

def _tanh_series(terms: int) -> tuple:
    """The first coefficients of tanh(u) = sum a_k u^(2k+1), from tanh' = 1 - tanh^2:
    (2k + 1) a_k = [k = 0] - sum_{i+j=k-1} a_i a_j."""
    from fractions import Fraction
    a: list = []
    for k in range(terms):
        total = Fraction(int(k == 0)) - sum((a[i] * a[k - 1 - i] for i in range(k)), Fraction(0))
        a.append(total / (2 * k + 1))
    return tuple(float(c) for c in a)


_F64_TANH, _F32_TANH = _tanh_series(16), _tanh_series(8)
_TANH_SERIES_BELOW = 0.4


def _tanh_exact(u):
    """tanh(u) within about one unit in the last place (compiled: see the overload)."""
    raise NotImplementedError("compiled by Numba only")


@overload(_tanh_exact)
def _tanh_exact_impl(u):
    if u not in (types.float32, types.float64):
        return None
    cast = np.float32 if u == types.float32 else np.float64
    # highest power first, for Horner's scheme
    reverse = tuple(cast(c) for c in (_F32_TANH if u == types.float32 else _F64_TANH)[::-1])
    terms = len(reverse)
    below = cast(_TANH_SERIES_BELOW)

    def impl(u):
        a = abs(u)
        square = a * a
        series = reverse[0]
        for k in range(1, terms):
            series = series * square + reverse[k]
        series = series * a
        e = _exp_nonpositive(a * cast(-2.0))
        t = series if a < below else (cast(1.0) - e) / (cast(1.0) + e)
        return t if u >= cast(0.0) else -t
    return impl


# The sigmoid from _exp_nonpositive of -|x|, so the exponential never overflows: 1 / (1 + e) for
# x >= 0, e / (1 + e) below.

@njit(**_OPTIONS)
def _sigmoid(x):
    e = _exp_nonpositive(-abs(x))
    one = _like(x, 1.0)
    return one / (one + e) if x >= _like(x, 0.0) else e / (one + e)


# Each loop below writes one or two arrays: LLVM vectorises a loop only when it can check at run
# time that its arrays do not overlap, and gives up beyond a few pairs (the step written as one
# loop over all six arrays ran 10x slower).

@njit(**_OPTIONS)
def lstm_step(gates, gates_x, c, h, c_next, h_next):
    """gates (rows, 4n), holding the hidden state's product: += gates_x, activated in place;
    c_next = f c + i g and h_next = o tanh(c_next), copied into the running c and h (their first
    rows)."""
    rows, n = c_next.shape
    for r in range(rows):
        a, x = gates[r], gates_x[r]
        sigmoid_if, tanh_g, sigmoid_o = a[:2 * n], a[2 * n:3 * n], a[3 * n:]
        x_if, x_g, x_o = x[:2 * n], x[2 * n:3 * n], x[3 * n:]
        for j in range(2 * n):
            sigmoid_if[j] = _sigmoid(sigmoid_if[j] + x_if[j])
        for j in range(n):
            tanh_g[j] = _tanh_exact(tanh_g[j] + x_g[j])
        for j in range(n):
            sigmoid_o[j] = _sigmoid(sigmoid_o[j] + x_o[j])
        i, f, g, o = a[:n], a[n:2 * n], a[2 * n:3 * n], a[3 * n:]
        cr, cn, hn = c[r], c_next[r], h_next[r]
        for j in range(n):
            cn[j] = f[j] * cr[j] + i[j] * g[j]
        for j in range(n):
            hn[j] = _tanh_exact(cn[j]) * o[j]
        cr[:] = cn
        h[r, :] = hn


@njit(**_OPTIONS)
def lstm_step_backward(grad, g_output, carry_h, carry_c, gates, c, c_next):
    """The cell's backward (recurrent.py's _lstm_cell_grads_into) over one step's rows:
    g_h = g_output + carry_h (an empty g_output: carry_h alone), g_c = carry_c; writes the
    pre-activations' gradient into grad and the previous cell state's over carry_c. carry_h is
    left holding g_h (the caller overwrites it with the next state gradient)."""
    rows, n = c.shape
    one = _like(grad[0, 0], 1.0)
    for r in range(rows):
        gh, gc, a, d = carry_h[r], carry_c[r], gates[r], grad[r]
        if g_output.size != 0:
            go = g_output[r]
            for j in range(n):
                gh[j] = go[j] + gh[j]
        i, f, g, o = a[:n], a[n:2 * n], a[2 * n:3 * n], a[3 * n:]
        d_i, d_f, d_g, d_o = d[:n], d[n:2 * n], d[2 * n:3 * n], d[3 * n:]
        cn, cr = c_next[r], c[r]
        for j in range(n):
            t = _tanh_exact(cn[j])
            d_o[j] = (one - o[j]) * o[j] * (gh[j] * t)
            gc[j] = (one - t * t) * o[j] * gh[j] + gc[j]
        for j in range(n):
            d_i[j] = (one - i[j]) * i[j] * g[j] * gc[j]
        for j in range(n):
            d_f[j] = (one - f[j]) * f[j] * cr[j] * gc[j]
        for j in range(n):
            d_g[j] = (one - g[j] * g[j]) * i[j] * gc[j]
        for j in range(n):
            gc[j] = gc[j] * f[j]
