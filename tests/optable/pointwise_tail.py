"""Op-table rows for ``backprop.ops.pointwise_tail``."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .elementwise import _torch_name, _unary_row
from .spec import ErrorInput, OpSpec, Sample, uniform


def _integer_samples(rng: np.random.Generator) -> list[Sample]:
    a = rng.integers(-20, 20, size=(2, 3))
    a[0, 0] = 0
    b = rng.integers(-20, 20, size=(3,))
    b[0] = 0
    return [Sample((a, b), name="broadcast")]  # (torch.gcd takes no number)


def _shift_samples(rng: np.random.Generator) -> list[Sample]:
    a = np.array([5, -5, 1, -1, 7, 100], dtype=np.int64)
    b = np.array([1, 2, 63, 64, -1, 3], dtype=np.int64)  # out of range: PyTorch's values
    return [Sample((a, b), name="in-and-out-of-range"),
            Sample((rng.integers(-50, 50, size=(2, 3)), 2), name="number")]


def _left_shift(a, b):
    b = np.broadcast_to(b, np.broadcast_shapes(np.shape(a), np.shape(b)))
    out = np.left_shift(a, np.where((b < 0) | (b >= 64), 0, b))
    return np.where((b < 0) | (b >= 64), 0, out)


def _right_shift(a, b):
    b = np.broadcast_to(b, np.broadcast_shapes(np.shape(a), np.shape(b)))
    return np.right_shift(a, np.where((b < 0) | (b >= 64), 63, b))


def _fmax_samples(rng: np.random.Generator) -> list[Sample]:
    a, b = uniform(rng, (2, 3)), uniform(rng, (3,))
    with_nan = a.copy()
    with_nan[0, 1] = np.nan
    return [Sample((a, b), name="broadcast"),
            Sample((with_nan, b), grad_args=(1,), name="nan")]


def _nextafter_samples(rng: np.random.Generator) -> list[Sample]:
    # (Where input equals other the gradient is 0, a jump that finite differences cannot see:
    # OpInfo's reference inputs check it against PyTorch.)
    return [Sample((uniform(rng, (2, 3)), uniform(rng, (3,))), name="broadcast")]


def _frexp_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((uniform(rng, (2, 3), -40.0, 40.0),), name="(2, 3)"),
            Sample((np.array([0.0, -0.0, np.inf, np.nan, 1e-300]),), grad_args=(), name="specials")]


def _frexp(x):
    mantissa, exponent = np.frexp(x)
    return mantissa, exponent.astype(np.int32)


def _entr(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, np.where(x < 0, -np.inf, -x * np.log(x)))


def _entr_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((uniform(rng, s, 0.1, 3.0),), name=str(s)) for s in [(), (3,), (2, 3)]] + [
        Sample((np.array([0.0, -1.0, 2.0]),), grad_args=(), name="zero-negative")]


def _xlog1py(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((x == 0) & ~np.isnan(y), 0.0, x * np.log1p(y))


def _xlog1py_samples(rng: np.random.Generator) -> list[Sample]:
    x = uniform(rng, (2, 3))
    x[0, 0] = 0.0
    return [Sample((x, uniform(rng, (2, 3), -0.8, 2.0)), name="zeros", on_kink=True),
            Sample((uniform(rng, (2, 3)), uniform(rng, (3,), -0.8, 2.0)), name="broadcast"),
            Sample((uniform(rng, (3,)), 0.5), name="number")]


def _integer_errors() -> list[ErrorInput]:
    return [ErrorInput(lambda: bp.gcd(bp.ones(2), bp.ones(2)), TypeError, "gcd: .*float32"),
            ErrorInput(lambda: bp.bitwise_left_shift(bp.ones(2), 1), TypeError,
                       "bitwise_left_shift: .*float32")]


def _float_errors() -> list[ErrorInput]:
    return [ErrorInput(lambda: bp.frexp(bp.tensor([1, 2])), bp.DTypeError, "frexp: input"),
            ErrorInput(lambda: bp.nextafter(bp.tensor([1]), bp.tensor([2])), bp.DTypeError,
                       "nextafter: input")]


ROWS = [
    _unary_row("sinh", np.sinh),
    _unary_row("cosh", np.cosh),
    OpSpec("fmax", bp.fmax, np.fmax, _fmax_samples, torch=_torch_name("fmax"), kinks=True),
    OpSpec("fmin", bp.fmin, np.fmin, _fmax_samples, torch=_torch_name("fmin"), kinks=True),
    OpSpec("gcd", bp.gcd, np.gcd, _integer_samples, torch=_torch_name("gcd"), grad=False,
           error_inputs=_integer_errors),
    OpSpec("lcm", bp.lcm, np.lcm, _integer_samples, torch=_torch_name("lcm"), grad=False),
    OpSpec("bitwise_left_shift", bp.bitwise_left_shift, _left_shift, _shift_samples,
           torch=_torch_name("bitwise_left_shift"), grad=False),
    OpSpec("bitwise_right_shift", bp.bitwise_right_shift, _right_shift, _shift_samples,
           torch=_torch_name("bitwise_right_shift"), grad=False),
    OpSpec("nextafter", bp.nextafter, np.nextafter, _nextafter_samples,
           torch=_torch_name("nextafter"), gradgrad=False, float32=False,
           error_inputs=_float_errors),
    OpSpec("frexp", bp.frexp, _frexp, _frexp_samples, torch=_torch_name("frexp"),
           gradgrad=False, float32=False),
    OpSpec("special.entr", bp.special.entr, _entr, _entr_samples,
           torch=lambda torch, x: torch.special.entr(x)),
    OpSpec("special.xlog1py", bp.special.xlog1py, _xlog1py, _xlog1py_samples,
           torch=lambda torch, x, y: torch.special.xlog1py(x, y)),
]
