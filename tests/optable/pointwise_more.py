"""Op-table rows for issue 17's pointwise family (``backprop.ops.pointwise_more``)."""

from __future__ import annotations

import math

import numpy as np

import backprop as bp

from .elementwise import _binary_row, _torch_name, _unary_row
from .spec import OpSpec, Sample, binary, unary, uniform


def _ternary_samples(third_domain=(-2.0, 2.0)):
    """Three broadcast operands, and a ``value`` keyword."""

    def samples(rng: np.random.Generator) -> list[Sample]:
        shapes = [((2, 3), (2, 3), (2, 3)), ((3,), (2, 1), (2, 3)), ((), (2, 3), (3,))]
        result = [Sample((uniform(rng, a), uniform(rng, b), uniform(rng, c, *third_domain)),
                         name=f"{a}x{b}x{c}") for a, b, c in shapes]
        result.append(Sample((uniform(rng, (2, 3)), uniform(rng, (2, 3)),
                              uniform(rng, (3,), *third_domain)), {"value": -0.5}, name="value"))
        return result

    return samples


def _lerp_samples(rng: np.random.Generator) -> list[Sample]:
    """Weights either side of 0.5 (PyTorch computes from ``end`` from 0.5 up), as a number or a
    tensor."""
    a, b = uniform(rng, (2, 3)), uniform(rng, (3,))
    return [Sample((a, b, 0.25), name="small-weight"), Sample((a, b, 0.75), name="large-weight"),
            Sample((a, b, 1.0), name="weight-one"),
            Sample((a, b, uniform(rng, (2, 3), -1.5, 1.5)), name="tensor-weight"),
            Sample((uniform(rng, ()), b, uniform(rng, (2, 1), -1.5, 1.5)), name="broadcast")]


def _one_sided_clamp_samples(rng: np.random.Generator) -> list[Sample]:
    x = uniform(rng, (2, 3))
    return [Sample((x, 0.1), name="number"), Sample((x, uniform(rng, (3,), -1, 1)), name="tensor")]


def _lerp(a, b, w):
    return np.where(np.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1 - w))


def _frac(x):
    return x - np.trunc(x)


def _with_zeros(rng: np.random.Generator) -> list[Sample]:
    """Zeros in the first operand, where xlogy's rule takes PyTorch's convention (copysign's
    and sinc's conventions at 0 are checked against PyTorch by the OpInfo samples)."""
    x = uniform(rng, (2, 3))
    x[0, 0] = 0.0
    return [Sample((x, uniform(rng, (2, 3), 0.2, 2.0)), name="zeros-positive-other",
                   on_kink=True),
            Sample((uniform(rng, (2, 3)), uniform(rng, (3,), 0.2, 2.0)), name="broadcast")]


def _logit_samples(rng: np.random.Generator) -> list[Sample]:
    p = uniform(rng, (2, 3), 0.05, 0.95)
    return [Sample((p,), name="no-eps"), Sample((p, 0.1), name="eps", on_kink=True)]


def _nan_to_num_samples(rng: np.random.Generator) -> list[Sample]:
    x = uniform(rng, (2, 3))
    special = np.array([np.nan, np.inf, -np.inf, 1.5])
    return [Sample((x,), name="finite"),
            Sample((special,), {"nan": 2.0, "posinf": 9.0, "neginf": -9.0}, name="replaced")]


def _signed_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((np.array([-np.inf, -0.0, 0.0, 1.0, np.inf, np.nan]),), name="specials")]


def _heaviside_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((np.array([-1.0, 0.0, 2.0, np.nan, -0.0]), uniform(rng, (5,))),
                   name="zeros-nan")]


def _xlogy(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(y))


def _logit(p, eps=None):
    if eps is not None:
        p = np.clip(p, eps, 1 - eps)
    return np.log(p / (1 - p))


def _heaviside(x, values):
    return np.where(x == 0, values, x > 0).astype(np.float64)


def _erfc(x):
    return np.vectorize(math.erfc)(x)


ROWS = [
    _unary_row("asin", np.arcsin, domain=(-0.9, 0.9), aliases=("arcsin",)),
    _unary_row("acos", np.arccos, domain=(-0.9, 0.9), aliases=("arccos",)),
    _unary_row("atan", np.arctan, aliases=("arctan",)),
    _unary_row("asinh", np.arcsinh, aliases=("arcsinh",)),
    _unary_row("acosh", np.arccosh, domain=(1.2, 3.0), aliases=("arccosh",)),
    _unary_row("atanh", np.arctanh, domain=(-0.9, 0.9), aliases=("arctanh",)),
    _unary_row("log10", np.log10, domain=(0.2, 3.0)),
    _unary_row("square", np.square),
    _unary_row("trunc", np.trunc, kinks=True, aliases=("fix",)),
    _unary_row("frac", _frac, kinks=True),
    _unary_row("deg2rad", np.deg2rad),
    _unary_row("rad2deg", np.rad2deg),
    _binary_row("atan2", np.arctan2, aliases=("arctan2",)),
    _binary_row("hypot", np.hypot, domain=(0.3, 2.0)),
    _binary_row("logaddexp", np.logaddexp),
    _binary_row("logaddexp2", np.logaddexp2),
    OpSpec("clamp_min", bp.clamp_min, np.maximum, _one_sided_clamp_samples,
           torch=_torch_name("clamp_min"), kinks=True),
    OpSpec("clamp_max", bp.clamp_max, np.minimum, _one_sided_clamp_samples,
           torch=_torch_name("clamp_max"), kinks=True),
    OpSpec("addcmul", bp.addcmul, lambda a, b, c, value=1: a + value * b * c, _ternary_samples(),
           torch=_torch_name("addcmul")),
    OpSpec("addcdiv", bp.addcdiv, lambda a, b, c, value=1: a + value * b / c,
           _ternary_samples((0.5, 2.0)), torch=_torch_name("addcdiv")),
    OpSpec("lerp", bp.lerp, _lerp, _lerp_samples, torch=_torch_name("lerp")),
    OpSpec("copysign", bp.copysign, np.copysign, binary(), torch=_torch_name("copysign"),
           kinks=True),
    OpSpec("xlogy", bp.xlogy, _xlogy, _with_zeros, torch=_torch_name("xlogy")),
    OpSpec("sinc", bp.sinc, np.sinc, unary(), torch=_torch_name("sinc")),
    OpSpec("logit", bp.logit, _logit, _logit_samples, torch=_torch_name("logit"), kinks=True),
    OpSpec("float_power", bp.float_power, np.float_power, binary((0.5, 2.0), (-1.5, 1.5)),
           torch=_torch_name("float_power"), broadcast=True, float32=False),
    _binary_row("fmod", np.fmod, other_domain=(0.5, 2.0), kinks=True),
    _unary_row("positive", np.positive),
    OpSpec("nan_to_num", bp.nan_to_num, np.nan_to_num, _nan_to_num_samples,
           torch=_torch_name("nan_to_num")),
    OpSpec("signbit", bp.signbit, np.signbit, _signed_samples, torch=_torch_name("signbit"),
           grad=False),
    OpSpec("isposinf", bp.isposinf, np.isposinf, _signed_samples, torch=_torch_name("isposinf"),
           grad=False),
    OpSpec("isneginf", bp.isneginf, np.isneginf, _signed_samples, torch=_torch_name("isneginf"),
           grad=False),
    OpSpec("heaviside", bp.heaviside, _heaviside, _heaviside_samples,
           torch=_torch_name("heaviside"), grad=False),
    OpSpec("erfc", bp.erfc, _erfc, unary((-3.0, 3.0)), torch=_torch_name("erfc")),
    # Integer exponents are OpInfo's samples (the table hands PyTorch float64 arrays only).
    _binary_row("ldexp", lambda x, e: x * 2.0 ** e),
    OpSpec("isreal", bp.isreal, np.isreal, _signed_samples, torch=_torch_name("isreal"),
           grad=False),
]
