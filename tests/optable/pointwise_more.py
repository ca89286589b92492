"""Op-table rows for issue 17's pointwise family (``backprop.ops.pointwise_more``)."""

from __future__ import annotations

import numpy as np

import backprop as bp

from .spec import OpSpec, Sample, binary, unary, uniform


def _torch_name(name: str):
    return lambda torch, *args, **kwargs: getattr(torch, name)(*args, **kwargs)


def _unary_row(name: str, ref, domain=(-2.0, 2.0), **options) -> OpSpec:
    return OpSpec(name, getattr(bp, name), ref, unary(domain), torch=_torch_name(name), **options)


def _binary_row(name: str, ref, domain=(-2.0, 2.0), other_domain=None, **options) -> OpSpec:
    return OpSpec(name, getattr(bp, name), ref, binary(domain, other_domain),
                  torch=_torch_name(name), broadcast=True, **options)


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
]
