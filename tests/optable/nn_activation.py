"""Op-table rows for bp.nn.functional: activation."""

from __future__ import annotations

import math

import numpy as np

import backprop as bp
import backprop.nn.functional as F

from .spec import ErrorInput, OpSpec, Sample, uniform

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SHAPES = ((), (3,), (2, 3), (2, 1, 3))


def _torch_f(name):
    return lambda torch, *args, **kwargs: getattr(torch.nn.functional, name)(*args, **kwargs)


def _variants(domain=(-2.0, 2.0), *kwargs_list, shapes=_SHAPES):
    """The standard shapes with default arguments, then each kwargs variant on a (2, 3) input."""

    def samples(rng):
        result = [Sample((uniform(rng, s, *domain),), name=str(s)) for s in shapes]
        for kwargs in kwargs_list:
            result.append(Sample((uniform(rng, (2, 3), *domain),), dict(kwargs),
                                 name="-".join(f"{k}={v}" for k, v in kwargs.items())))
        return result

    return samples


def _extremes(*values, on_kink=False):
    return lambda rng: [Sample((np.array(values),), name="kinks" if on_kink else "extremes",
                               on_kink=on_kink)]


def _inplace(name):
    """The in-place form, applied to a non-leaf copy (a leaf that requires grad refuses it)."""
    return lambda x, **kwargs: getattr(F, name)(x * 1.0, inplace=True, **kwargs)


def _torch_inplace(name):
    return lambda torch, x, **kwargs: getattr(torch.nn.functional, name)(x * 1.0, inplace=True,
                                                                         **kwargs)


# -- NumPy references -----------------------------------------------------------------------------

_np_erf = np.vectorize(math.erf, otypes=[np.float64])


def _np_sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _np_leaky_relu(x, negative_slope=0.01):
    return np.where(x > 0, x, x * negative_slope)


def _np_elu(x, alpha=1.0, scale=1.0, input_scale=1.0):
    return np.where(x > 0, scale * x, scale * alpha * np.expm1(np.minimum(x, 0) * input_scale))


def _np_gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + _np_erf(x / math.sqrt(2)))


def _np_softplus(x, beta=1.0, threshold=20.0):
    z = x * beta
    return np.where(z > threshold, x, np.logaddexp(0.0, z) / beta)


def _np_hardtanh(x, min_val=-1.0, max_val=1.0):
    return np.clip(x, min_val, max_val)


def _np_softmin(x, dim, dtype=None):
    e = np.exp(-x - np.max(-x, axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _np_glu(x, dim=-1):
    a, b = np.split(x, 2, axis=dim)
    return a * _np_sigmoid(b)


def _np_threshold(x, threshold, value):
    return np.where(x <= threshold, value, x)  # PyTorch's form: a NaN stays NaN


def _np_hardshrink(x, lambd=0.5):
    return np.where(np.abs(x) <= lambd, 0.0, x)  # PyTorch's form: a NaN stays NaN


def _np_softshrink(x, lambd=0.5):
    return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0.0))


# -- samples --------------------------------------------------------------------------------------

def _erf_samples(rng):
    # One point in each of Cody's three ranges (|x| <= 0.46875, up to 4, beyond) and both signs.
    return [Sample((uniform(rng, s, -3.0, 3.0),), name=str(s)) for s in _SHAPES] + [
        Sample((np.array([-5.0, -4.2, -1.3, -0.3, 0.0, 0.2, 0.47, 2.5, 3.9, 4.6]),),
               name="ranges")]


# NaN and infinities (PyTorch's OpInfo reference inputs), with values either side of 3.
_NAN_AND_INFS = np.array([np.nan, np.inf, -np.inf, 4.0, -3.5])


def _nan_samples(rng):
    return [Sample((_NAN_AND_INFS,), name="issue-nan", on_kink=True)]  # no derivative at NaN


def _threshold_samples(rng):
    x = uniform(rng, (2, 3))
    return [Sample((x, 0.5, -2.0), name="positional"), Sample((uniform(rng, (4,)), -0.3, 7.0),
                                                               name="vector")]


def _glu_samples(rng):
    return [Sample((uniform(rng, (2, 4)),), name="last"),
            Sample((uniform(rng, (4, 3)),), {"dim": 0}, name="dim0"),
            Sample((uniform(rng, (2, 2, 3)),), {"dim": 1}, name="3d")]


def _softmin_samples(rng):
    return [Sample((uniform(rng, (2, 3)),), {"dim": 1}, name="dim1"),
            Sample((uniform(rng, (2, 3, 2)),), {"dim": 0}, name="dim0"),
            Sample((uniform(rng, (4,)),), {"dim": -1}, name="vector")]


# -- errors ---------------------------------------------------------------------------------------

def _gelu_errors():
    return [ErrorInput(lambda: F.gelu(bp.ones(2), approximate="fast"), ValueError,
                       r"gelu: approximate must be 'none' or 'tanh', got 'fast'")]


def _hardtanh_errors():
    return [ErrorInput(lambda: F.hardtanh(bp.ones(2), 1.0, -1.0), ValueError,
                       r"hardtanh: min_val \(1.0\) cannot be greater than max_val \(-1.0\)")]


def _glu_errors():
    return [ErrorInput(lambda: F.glu(bp.ones(2, 3)), bp.ShapeError,
                       r"glu: halving dimension must be even, but dimension -1 of input of shape "
                       r"\(2, 3\) has size 3"),
            ErrorInput(lambda: F.glu(bp.tensor(1.0)), bp.ShapeError, "glu: does not support scalars"),
            ErrorInput(lambda: F.glu(bp.ones(2, 4), dim=2), bp.DimError,
                       r"glu: dim 2 is out of range")]


def _celu_errors():
    return [ErrorInput(lambda: F.celu(bp.ones(2), alpha=0.0), ValueError, r"celu: alpha cannot be 0")]


def _softshrink_errors():
    return [ErrorInput(lambda: F.softshrink(bp.ones(2), -1.0), ValueError,
                       r"softshrink: lambd must be at least 0, got -1.0")]


def _inplace_leaf_errors():
    return [ErrorInput(lambda: F.leaky_relu(bp.ones(2, requires_grad=True), inplace=True),
                       bp.GraphError, r"leaky_relu_: a leaf tensor that requires grad")]


ROWS = [
    OpSpec("erf", bp.erf, _np_erf, _erf_samples, torch=lambda torch, x: torch.erf(x)),
    OpSpec("relu", _inplace("relu"), lambda x: np.maximum(x, 0),
           _variants((-2.0, 2.0), shapes=((2, 3),)), torch=_torch_inplace("relu"), kinks=True),
    OpSpec("leaky_relu", F.leaky_relu, _np_leaky_relu,
           _variants((-2.0, 2.0), {"negative_slope": 0.2}, {"negative_slope": -0.5}),
           torch=_torch_f("leaky_relu"), kinks=True, error_inputs=_inplace_leaf_errors),
    OpSpec("leaky_relu", _inplace("leaky_relu"), _np_leaky_relu,
           _variants((-2.0, 2.0), {"negative_slope": 0.3}, shapes=((2, 3),)),
           torch=_torch_inplace("leaky_relu"), kinks=True),
    OpSpec("elu", F.elu, _np_elu, _variants((-3.0, 2.0), {"alpha": 0.5}, {"alpha": 2.0}),
           torch=_torch_f("elu"), kinks=True),
    OpSpec("elu", F.elu, _np_elu, _extremes(-800.0, -30.0, -0.5, 0.5, 30.0, 800.0),
           torch=_torch_f("elu"), gradgrad=False),
    OpSpec("elu", _inplace("elu"), _np_elu, _variants((-3.0, 2.0), shapes=((2, 3),)),
           torch=_torch_inplace("elu")),
    OpSpec("selu", F.selu, lambda x: _np_elu(x, _SELU_ALPHA, _SELU_SCALE), _variants((-3.0, 2.0)),
           torch=_torch_f("selu"), kinks=True),
    OpSpec("celu", F.celu, lambda x, alpha=1.0: _np_elu(x, alpha, 1.0, 1.0 / alpha),
           _variants((-3.0, 2.0), {"alpha": 0.5}, {"alpha": 2.0}), torch=_torch_f("celu"),
           kinks=True, error_inputs=_celu_errors),
    OpSpec("gelu", F.gelu, _np_gelu,
           _variants((-3.0, 3.0), {"approximate": "tanh"}, {"approximate": "none"}),
           torch=_torch_f("gelu"), error_inputs=_gelu_errors),
    OpSpec("gelu", F.gelu, _np_gelu, _extremes(-40.0, -9.0, -4.5, 4.5, 9.0, 40.0),
           torch=_torch_f("gelu"), gradgrad=False),
    OpSpec("gelu", F.gelu, lambda x, approximate: _np_gelu(x, approximate),
           lambda rng: [Sample((np.array([-40.0, -9.0, -4.5, 4.5, 9.0, 40.0]),),
                               {"approximate": "tanh"}, name="extremes-tanh")],
           torch=_torch_f("gelu"), gradgrad=False),
    OpSpec("silu", F.silu, lambda x: x * _np_sigmoid(x), _variants((-4.0, 4.0)),
           torch=_torch_f("silu")),
    OpSpec("silu", _inplace("silu"), lambda x: x * _np_sigmoid(x), _variants(shapes=((2, 3),)),
           torch=_torch_inplace("silu")),
    OpSpec("mish", F.mish, lambda x: x * np.tanh(_np_softplus(x)), _variants((-4.0, 4.0)),
           torch=_torch_f("mish")),
    OpSpec("softplus", F.softplus, _np_softplus,
           _variants((-4.0, 4.0), {"beta": 2.0}, {"beta": 0.5, "threshold": 1.0}),
           torch=_torch_f("softplus")),
    OpSpec("softplus", F.softplus, _np_softplus, _extremes(-800.0, -30.0, 0.0, 19.0, 21.0, 800.0),
           torch=_torch_f("softplus"), gradgrad=False),
    OpSpec("logsigmoid", F.logsigmoid, lambda x: -np.logaddexp(0.0, -x), _variants((-4.0, 4.0)),
           torch=_torch_f("logsigmoid")),
    OpSpec("logsigmoid", F.logsigmoid, lambda x: -np.logaddexp(0.0, -x),
           _extremes(-800.0, -30.0, 0.0, 30.0, 800.0), torch=_torch_f("logsigmoid"),
           gradgrad=False),
    OpSpec("softsign", F.softsign, lambda x: x / (1 + np.abs(x)), _variants((-3.0, 3.0)),
           torch=_torch_f("softsign")),
    OpSpec("hardtanh", F.hardtanh, _np_hardtanh,
           _variants((-2.0, 2.0), {"min_val": -0.5, "max_val": 1.5}),
           torch=_torch_f("hardtanh"), kinks=True, error_inputs=_hardtanh_errors),
    # On the bounds themselves the gradient is zero (PyTorch's convention; clamp's is one).
    OpSpec("hardtanh", F.hardtanh, _np_hardtanh, _extremes(-1.0, -0.5, 0.5, 1.0, on_kink=True),
           torch=_torch_f("hardtanh"), kinks=True, gradgrad=False),
    OpSpec("relu6", F.relu6, lambda x: np.clip(x, 0.0, 6.0), _variants((-3.0, 8.0)),
           torch=_torch_f("relu6"), kinks=True),
    # Gradient 0 at NaN: PyTorch's vectorised loop (its scalar loop, for the elements past the
    # last whole SIMD vector, gives g); 16 elements are whole vectors in float32 and float64.
    OpSpec("hardtanh", F.hardtanh, _np_hardtanh,
           lambda rng: [Sample((np.concatenate([_NAN_AND_INFS, uniform(rng, (11,))]),),
                               name="issue-hardtanh-nan", on_kink=True)],
           torch=_torch_f("hardtanh"), kinks=True),
    # PyTorch's own hardsigmoid backward scales by a float32 1/6 (off by 1e-8 in float64), so
    # the row compares with its defining formula relu6(x + 3) / 6 instead.
    OpSpec("hardsigmoid", F.hardsigmoid, lambda x: np.clip(x + 3.0, 0.0, 6.0) / 6.0,
           _variants((-4.0, 4.0)),
           torch=lambda torch, x: torch.nn.functional.relu6(x + 3.0) / 6.0, kinks=True),
    # Outside (-3, 3) and at NaN its gradient is 0: nothing for the float32 1/6 to round.
    OpSpec("hardsigmoid", F.hardsigmoid, lambda x: np.clip(x + 3.0, 0.0, 6.0) / 6.0,
           _nan_samples, torch=_torch_f("hardsigmoid"), kinks=True),
    OpSpec("hardswish", F.hardswish, lambda x: x * np.clip(x + 3.0, 0.0, 6.0) / 6.0,
           _variants((-4.5, 4.5)), torch=_torch_f("hardswish"), kinks=True),
    OpSpec("hardswish", F.hardswish, lambda x: x * np.clip(x + 3.0, 0.0, 6.0) / 6.0,
           _extremes(-3.0, 3.0, on_kink=True), torch=_torch_f("hardswish"), kinks=True,
           gradgrad=False),
    OpSpec("tanhshrink", F.tanhshrink, lambda x: x - np.tanh(x), _variants((-3.0, 3.0)),
           torch=_torch_f("tanhshrink")),
    OpSpec("hardshrink", F.hardshrink, _np_hardshrink, _variants((-2.0, 2.0), {"lambd": 1.0}),
           torch=_torch_f("hardshrink"), kinks=True),
    OpSpec("hardshrink", F.hardshrink, _np_hardshrink, _nan_samples, torch=_torch_f("hardshrink"),
           grad=False),
    OpSpec("softshrink", F.softshrink, _np_softshrink, _variants((-2.0, 2.0), {"lambd": 1.0}),
           torch=_torch_f("softshrink"), kinks=True, error_inputs=_softshrink_errors),
    OpSpec("threshold", F.threshold, _np_threshold, _threshold_samples,
           torch=_torch_f("threshold"), kinks=True),
    OpSpec("threshold", F.threshold, _np_threshold,
           lambda rng: [Sample((_NAN_AND_INFS, 0.25, -9.0), name="issue-threshold-nan",
                                on_kink=True)],
           torch=_torch_f("threshold"), kinks=True),
    OpSpec("glu", F.glu, _np_glu, _glu_samples, torch=_torch_f("glu"), error_inputs=_glu_errors),
    OpSpec("softmin", F.softmin, _np_softmin, _softmin_samples, torch=_torch_f("softmin")),
]
