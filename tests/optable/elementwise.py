"""Op-table rows for elementwise ops."""

from __future__ import annotations

from typing import Callable

import numpy as np

import backprop as bp

from .spec import ErrorInput, OpSpec, Sample, binary, unary, uniform


def _detached(value):
    return value.detach() if hasattr(value, "detach") else value


def _torch_name(name: str):
    return lambda torch, *args, **kwargs: getattr(torch, name)(*args, **kwargs)


def _round_trip(x: bp.Tensor) -> bp.Tensor:
    away = "strict:0" if x.device != "strict:0" else "strict:1"
    return x.to(away).to(x.device)


def _unary_row(name: str, ref, domain=(-2.0, 2.0), **options) -> OpSpec:
    return OpSpec(name, getattr(bp, name), ref, unary(domain), torch=_torch_name(name), **options)


def _binary_row(name: str, ref, domain=(-2.0, 2.0), other_domain=None, **options) -> OpSpec:
    return OpSpec(name, getattr(bp, name), ref, binary(domain, other_domain),
                  torch=_torch_name(name), broadcast=True, **options)


def _scalar_operand_samples(rng: np.random.Generator) -> list[Sample]:
    """A Python scalar or NumPy array on either side of a tensor."""
    x = uniform(rng, (2, 3), 0.5, 2.0)
    return [Sample((x, 1.5), name="tensor-scalar"), Sample((2.5, x), name="scalar-tensor"),
            Sample((x, rng.uniform(0.5, 2, (3,)).astype(np.float64)), grad_args=(0,),
                   name="tensor-array")]


def _sigmoid(x):
    with np.errstate(over="ignore"):  # exp(800) = inf gives the right limit, 0
        return 1 / (1 + np.exp(-x))


def _pow_samples(rng: np.random.Generator) -> list[Sample]:
    samples = binary((0.5, 2.0), (-1.5, 1.5))(rng)
    samples.append(Sample((uniform(rng, (2, 3)), 2), name="integer-exponent"))
    samples.append(Sample((3.0, uniform(rng, (3,))), name="scalar-base"))
    return samples


# Bases at 0, -0 and below 0 with the exponents PyTorch's rule treats apart (issue 15, item 7):
# x ** 0 is the constant 1 (gradient 0, not 0 * 0**-1 = nan), and integer powers of negatives.
_SPECIAL_BASES = np.array([0.0, -0.0, -2.0, 2.0, -0.5])


def _pow_at_zero_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((_SPECIAL_BASES, 0.0), name="issue-pow-float-zero-at-zero"),
            Sample((_SPECIAL_BASES, 0), name="issue-pow-int-zero-at-zero"),
            Sample((_SPECIAL_BASES, 1), name="int-one"),
            Sample((_SPECIAL_BASES, 2), name="int-two"),
            Sample((_SPECIAL_BASES, 3.0), name="float-three"),
            # The exponent's gradient at base 0 is on a kink: the next rows check it.
            Sample((_SPECIAL_BASES, np.zeros(5)), grad_args=(0,),
                   name="issue-pow-tensor-zero-at-zero"),
            Sample((_SPECIAL_BASES, np.full(5, 2.0)), grad_args=(0,), name="tensor-two")]


def _pow_singular_samples(rng: np.random.Generator) -> list[Sample]:
    """Where pow or its derivative is infinite or undefined (so on a kink for the numerical
    checks): the exponent's gradient at base 0 (0 for exponents >= 0, the limit of 0**b log 0;
    0**b has no derivative in b at b = 0), and square roots at signed zeros, where PyTorch
    computes x ** -0.5 as 1 / sqrt(x) (-inf at -0.0)."""
    zero_base = np.array([0.0, 0.0, 0.0, -0.0, 2.0, -2.0])
    exponent = np.array([0.0, 1.0, 2.5, -1.0, 0.0, 2.0])
    return [Sample((zero_base, exponent), name="issue-pow-exponent-grad-at-zero", on_kink=True),
            Sample((0.0, np.array([0.0, 1.0, 2.5, -1.0])), name="scalar-zero-base",
                   on_kink=True),
            Sample((_SPECIAL_BASES, 0.5), name="square-root-at-signed-zero", on_kink=True),
            Sample((_SPECIAL_BASES, -0.5), name="reciprocal-root-at-signed-zero",
                   on_kink=True)]


def _np_pow(x, exponent):
    """NumPy's power, with PyTorch's x ** -0.5 = 1 / sqrt(x) (-inf at -0.0)."""
    if type(exponent) is float and exponent == -0.5:
        return 1 / np.sqrt(x)
    return np.power(x, exponent)


def _np_sign(x: np.ndarray) -> np.ndarray:
    """PyTorch's sign: NumPy's, but 0 for nan and a bool tensor's own values."""
    if x.dtype == bool:
        return x.copy()
    return np.where(np.isnan(x), 0.0, np.sign(x)) if x.dtype.kind == "f" else np.sign(x)


def _relu_nan_samples(rng: np.random.Generator) -> list[Sample]:
    """PyTorch zeroes relu's gradient where the output is <= 0: a NaN passes it on (PyTorch's
    OpInfo reference inputs). NaN has no derivative: on_kink leaves out the directional test."""
    return [Sample((np.array([np.nan, np.inf, -np.inf, 2.0, -3.0]),), name="issue-relu-nan",
                   on_kink=True)]


def _extremum_nan_samples(rng: np.random.Generator) -> list[Sample]:
    """Where either side is NaN, both get the whole gradient (PyTorch's rule zeroes only the
    side that is smaller for maximum, larger for minimum)."""
    return [Sample((np.array([np.nan, 1.0, np.nan, 2.0, -np.inf]),
                    np.array([1.0, np.nan, np.nan, 3.0, np.inf])), name="issue-maximum-nan",
                   on_kink=True)]


def _sign_specials(rng: np.random.Generator) -> list[Sample]:
    return [Sample((np.array([np.nan, np.inf, -np.inf, 2.0, -3.0]),), name="issue-sign-nan-infs")]


def _sign_zeros(rng: np.random.Generator) -> list[Sample]:
    """Values only: a step at 0 has no derivative finite differences can check."""
    return [Sample((np.array([0.0, -0.0, np.nan]),), name="issue-sign-zeros")]


def _sign_integers(rng: np.random.Generator) -> list[Sample]:
    return [Sample((np.array([True, False]),), name="issue-sign-bool"),
            Sample((np.array([3, 0, -2]),), name="int64"),
            Sample((np.array([3, 0, 255], dtype=np.uint8),), name="uint8")]


# -- arguments PyTorch code passes (issue 15, item 8) ------------------------------------------

def _np_add(a, b, alpha=1):
    return a + alpha * b


def _np_sub(a, b, alpha=1):
    return a - alpha * b


def _alpha_samples(rng: np.random.Generator) -> list[Sample]:
    x = uniform(rng, (2, 3))
    return [Sample((x, uniform(rng, (3,))), {"alpha": 2.5}, name="issue-alpha"),
            Sample((x, uniform(rng, (2, 1))), {"alpha": -1}, name="int-alpha"),
            Sample((x, 1.5), {"alpha": 0.5}, name="scalar-other"),
            Sample((np.array([1, 2]), np.array([10, 20])), {"alpha": 3}, name="int64")]


def _alpha_errors() -> list[ErrorInput]:
    ints = bp.tensor([1, 2])
    return [ErrorInput(lambda: bp.add(ints, ints, alpha=0.5), bp.DTypeError,
                       r"add: alpha=0.5 is a float but the inputs are integers"),
            ErrorInput(lambda: ints.sub(1, alpha=1.5), bp.DTypeError,
                       r"sub: alpha=1.5 is a float but the inputs are integers")]


def _np_div(a, b, rounding_mode=None):
    if rounding_mode is None:
        return a / b
    if rounding_mode == "floor":
        return np.floor_divide(a, b)
    if np.result_type(a, b).kind == "f":
        return np.trunc(a / b)
    return np.sign(a) * np.sign(b) * (np.abs(a) // np.abs(b))


def _rounding_samples(rng: np.random.Generator) -> list[Sample]:
    x, y = uniform(rng, (2, 3), -5, 5), uniform(rng, (3,), 0.5, 2) * np.array([1, -1, 1])
    return [Sample((x, y), {"rounding_mode": "trunc"}, name="issue-trunc"),
            Sample((x, y), {"rounding_mode": "floor"}, name="floor"),
            Sample((x, y), {"rounding_mode": None}, name="none"),
            Sample((x, -1.5), {"rounding_mode": "trunc"}, name="trunc-scalar")]


def _integer_rounding_samples(rng: np.random.Generator) -> list[Sample]:
    a, b = np.array([-7, 7, -8, 8, 0, 5, -5]), np.array([2, -2, 2, -2, 3, -3, 3])
    return [Sample((a, b), {"rounding_mode": mode}, name=f"int64-{mode}")
            for mode in ("trunc", "floor")] + [
        Sample((a.astype(np.uint8), 2), {"rounding_mode": "trunc"}, name="uint8-trunc")]


def _rounding_errors() -> list[ErrorInput]:
    return [ErrorInput(lambda: bp.div(bp.ones(2), 2, rounding_mode="round"), ValueError,
                       r"div: rounding_mode must be None, 'trunc' or 'floor', got 'round'")]


def _where_condition_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((rng.uniform(size=(2, 3)) > 0.5,), name="issue-where-one-argument"),
            Sample((np.array([[0.0, 1.5], [-2.0, 0.0]]),), name="float"),
            Sample((np.array(True),), name="0d")]


def _where_errors() -> list[ErrorInput]:
    return [ErrorInput(lambda: bp.where(bp.ones(2) > 0, bp.ones(2)), TypeError,
                       r"where: give both input and other, or neither")]


def _memory_format_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((uniform(rng, (2, 3)),), {"memory_format": bp.contiguous_format},
                   name="contiguous_format"),
            Sample((uniform(rng, (2, 3)),), {"memory_format": bp.preserve_format},
                   name="preserve_format")]


def _torch_format(torch, kwargs: dict) -> dict:
    """A sample's keywords with its memory_format as PyTorch's object of the same name."""
    return {key: getattr(torch, value.name) if key == "memory_format" else value
            for key, value in kwargs.items()}


def _clone_errors() -> list[ErrorInput]:
    return [ErrorInput(lambda: bp.ones(2).clone(memory_format=bp.channels_last), ValueError,
                       r"clone: memory_format=bp.channels_last is not supported: backprop stores "
                       r"every tensor in row-major"),
            ErrorInput(lambda: bp.clone(bp.ones(2), memory_format="C"), TypeError,
                       r"clone: memory_format must be bp.contiguous_format or "
                       r"bp.preserve_format, got 'C'")]


def _where_samples(rng: np.random.Generator) -> list[Sample]:
    result = []
    for shape in [(3,), (2, 3), (2, 1, 3)]:
        cond = rng.uniform(size=shape) > 0.5
        result.append(Sample((cond, uniform(rng, shape), uniform(rng, (3,))), name=str(shape)))
    result.append(Sample((rng.uniform(size=(2, 3)) > 0.5, uniform(rng, (2, 3)), 0.0),
                         name="scalar-other"))
    return result


def _clamp_samples(rng: np.random.Generator) -> list[Sample]:
    x = uniform(rng, (2, 3))
    return [Sample((x,), {"min": -0.5, "max": 0.5}, name="both"),
            Sample((x,), {"min": 0.1}, name="min"), Sample((x,), {"max": -0.1}, name="max"),
            Sample((x, uniform(rng, (3,), -1, 0), uniform(rng, (2, 1), 0, 1)), name="tensors"),
            # min > max: the result is max (applied last), which gets the gradient (issue 15).
            Sample((x, uniform(rng, (3,), 0.2, 1), uniform(rng, (2, 1), -1, -0.2)),
                   name="issue-clamp-min-above-max"),
            Sample((uniform(rng, (3, 4)), uniform(rng, (3, 4), -1, 1), uniform(rng, (3, 4), -1, 1)),
                   name="bounds-either-way"),
            Sample((x, uniform(rng, (2, 3), 0.2, 1), None), name="tensor-min"),
            Sample((x, None, uniform(rng, (2, 3), -1, -0.2)), name="tensor-max")]


def _comparison_row(name: str, ref) -> OpSpec:
    return OpSpec(name, getattr(bp, name), ref, binary(), torch=_torch_name(name), grad=False,
                  broadcast=True)


def _logical_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((rng.uniform(size=s) > 0.5, rng.uniform(size=(3,)) > 0.5), name=str(s))
            for s in [(3,), (2, 3)]]


def _logical_row(name: str, ref, arity: int = 2) -> OpSpec:
    def samples(rng):
        return [Sample(s.args[:arity], name=s.name) for s in _logical_samples(rng)]

    return OpSpec(name, getattr(bp, name), ref, samples, torch=_torch_name(name), grad=False)


def _float_check_samples(rng: np.random.Generator) -> list[Sample]:
    return [Sample((np.array([0.0, np.inf, -np.inf, np.nan, 1.5]),), name="specials")]


def _matmul_shape_errors() -> list[ErrorInput]:
    return [
        ErrorInput(lambda: bp.ones(2, 3) + bp.ones(4), bp.ShapeError,
                   r"add: cannot broadcast shapes \(2, 3\) and \(4,\)"),
        ErrorInput(lambda: bp.ones(2, 3) * bp.ones(2, 4), ValueError, r"mul: .*\(2, 3\).*\(2, 4\)"),
    ]


def _int_pow_errors() -> list[ErrorInput]:
    return [ErrorInput(lambda: bp.tensor([2, 3]) ** -1, ValueError, r"pow: .*negative")]


def _integer_division_by_zero_errors(name: str, op) -> Callable[[], list[ErrorInput]]:
    """Integer division by zero raises, as in PyTorch (NumPy gives 0); issue 15's examples."""
    return lambda: [
        ErrorInput(lambda: op(bp.tensor([5, -5]), 0), ZeroDivisionError,
                   rf"{name}: integer division by zero \(the divisor is 0\)"),
        ErrorInput(lambda: op(bp.tensor([5, -5]), bp.tensor([0, 1])), ZeroDivisionError,
                   rf"{name}: integer division by zero \(the \(2,\) int64 divisor holds a 0\)"),
        ErrorInput(lambda: op(bp.tensor([5], dtype=bp.uint8), bp.tensor(0, dtype=bp.uint8)),
                   RuntimeError, rf"{name}: integer division by zero"),
    ]


def _clamp_errors() -> list[ErrorInput]:
    return [ErrorInput(lambda: bp.clamp(bp.ones(2)), ValueError, "clamp: at least one")]


ROWS = [
    _binary_row("add", np.add, error_inputs=_matmul_shape_errors),
    OpSpec("add", lambda a, b: a + b, np.add, _scalar_operand_samples,
           torch=lambda torch, a, b: a + b, aliases=("__add__", "__radd__")),
    _binary_row("sub", np.subtract, aliases=("subtract",)),
    OpSpec("sub", lambda a, b: a - b, np.subtract, _scalar_operand_samples,
           torch=lambda torch, a, b: a - b, aliases=("__sub__", "__rsub__")),
    OpSpec("add", lambda a, b, **kw: bp.add(a, b, **kw), _np_add, _alpha_samples,
           torch=_torch_name("add"), error_inputs=_alpha_errors),
    OpSpec("sub", lambda a, b, **kw: bp.sub(a, b, **kw), _np_sub, _alpha_samples,
           torch=_torch_name("sub")),
    OpSpec("add_", lambda a, b, **kw: (a * 1).add_(b, **kw), _np_add, _alpha_samples,
           torch=lambda torch, a, b, **kw: (a * 1).add_(b, **kw)),
    OpSpec("sub_", lambda a, b, **kw: (a * 1).sub_(b, **kw), _np_sub, _alpha_samples,
           torch=lambda torch, a, b, **kw: (a * 1).sub_(b, **kw)),
    _binary_row("mul", np.multiply, aliases=("multiply",)),
    OpSpec("mul", lambda a, b: a * b, np.multiply, _scalar_operand_samples,
           torch=lambda torch, a, b: a * b),
    _binary_row("div", np.divide, other_domain=(0.5, 2.0),
                aliases=("true_divide", "divide")),
    OpSpec("div", lambda a, b: a / b, np.divide, _scalar_operand_samples,
           torch=lambda torch, a, b: a / b),
    # Rounded quotients are piecewise constant: gradient 0 (PyTorch's), kinks at integers.
    OpSpec("div", bp.div, _np_div, _rounding_samples, torch=_torch_name("div"), kinks=True,
           aliases=("divide",), error_inputs=_rounding_errors),
    OpSpec("div", bp.div, _np_div, _integer_rounding_samples, torch=_torch_name("div"),
           grad=False, float32=False),
    OpSpec("div_", lambda a, b, **kw: (a * 1).div_(b, **kw), _np_div, _rounding_samples,
           torch=lambda torch, a, b, **kw: (a * 1).div_(b, **kw), kinks=True),
    # PyTorch defines no derivative for floor_divide, so its side runs on detached inputs (no
    # gradient, compared with our zeros).
    OpSpec("floor_divide", bp.floor_divide, np.floor_divide, binary(other_domain=(0.5, 2.0)),
           torch=lambda torch, a, b: torch.floor_divide(a.detach(), b.detach()), kinks=True,
           error_inputs=_integer_division_by_zero_errors("floor_divide", lambda a, b: a // b)),
    OpSpec("floor_divide", lambda a, b: a // b, np.floor_divide, _scalar_operand_samples,
           torch=lambda torch, a, b: _detached(a) // _detached(b), kinks=True),
    _binary_row("remainder", np.remainder, other_domain=(0.5, 2.0), kinks=True,
                error_inputs=_integer_division_by_zero_errors("remainder", lambda a, b: a % b)),
    OpSpec("pow", bp.pow, np.power, _pow_samples, torch=_torch_name("pow"),
           error_inputs=_int_pow_errors),
    OpSpec("pow", lambda a, b: a ** b, np.power, lambda rng: _pow_samples(rng)[-2:],
           torch=lambda torch, a, b: a ** b),
    OpSpec("pow", lambda a, b: a ** b, np.power, _pow_at_zero_samples,
           torch=lambda torch, a, b: a ** b),
    OpSpec("pow", bp.pow, _np_pow, _pow_singular_samples, torch=_torch_name("pow"), kinks=True,
           gradgrad=False),
    _unary_row("neg", np.negative, aliases=("negative",)),
    _unary_row("abs", np.abs, kinks=True, aliases=("absolute",)),
    _unary_row("exp", np.exp),
    _unary_row("exp2", np.exp2),
    _unary_row("expm1", np.expm1),
    _unary_row("log", np.log, domain=(0.2, 3.0)),
    _unary_row("log2", np.log2, domain=(0.2, 3.0)),
    _unary_row("log1p", np.log1p, domain=(-0.5, 3.0)),
    _unary_row("sqrt", np.sqrt, domain=(0.2, 3.0)),
    _unary_row("rsqrt", lambda x: 1 / np.sqrt(x), domain=(0.2, 3.0)),
    _unary_row("reciprocal", np.reciprocal, domain=(0.3, 3.0)),
    _unary_row("sin", np.sin),
    _unary_row("cos", np.cos),
    _unary_row("tan", np.tan, domain=(-1.2, 1.2)),
    _unary_row("tanh", np.tanh),
    _unary_row("sigmoid", _sigmoid),
    OpSpec("sigmoid", bp.sigmoid, _sigmoid,
           lambda rng: [Sample((np.array([-800.0, -30.0, 0.0, 30.0, 800.0]),), name="extremes")],
           torch=_torch_name("sigmoid"), gradgrad=False),
    _unary_row("relu", lambda x: np.maximum(x, 0), kinks=True),
    OpSpec("relu", bp.relu, lambda x: np.maximum(x, 0), _relu_nan_samples,
           aliases=("threshold_backward",),
           torch=_torch_name("relu"), kinks=True),
    OpSpec("clamp", bp.clamp, lambda x, min=None, max=None: np.clip(x, min, max), _clamp_samples,
           torch=_torch_name("clamp"), kinks=True, aliases=("clip",), error_inputs=_clamp_errors),
    _binary_row("maximum", np.maximum, kinks=True),
    OpSpec("maximum", bp.maximum, np.maximum, _extremum_nan_samples, torch=_torch_name("maximum"),
           kinks=True),
    OpSpec("maximum", bp.maximum, np.maximum,
           lambda rng: [Sample((np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 3.0])),
                               name="ties")], torch=_torch_name("maximum"), kinks=True,
           gradgrad=False),
    _binary_row("minimum", np.minimum, kinks=True),
    OpSpec("minimum", bp.minimum, np.minimum, _extremum_nan_samples, torch=_torch_name("minimum"),
           kinks=True),
    OpSpec("minimum", bp.minimum, np.minimum,
           lambda rng: [Sample((np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 3.0])),
                               name="ties")], torch=_torch_name("minimum"), kinks=True,
           gradgrad=False),
    OpSpec("where", bp.where, np.where, _where_samples, torch=_torch_name("where")),
    OpSpec("where", bp.where, lambda c: np.nonzero(np.atleast_1d(c)), _where_condition_samples,
           torch=_torch_name("where"), grad=False, error_inputs=_where_errors),
    _unary_row("sign", np.sign, aliases=("sgn",)),
    OpSpec("sign", bp.sign, _np_sign, _sign_specials, torch=_torch_name("sign")),
    OpSpec("sgn", bp.sgn, _np_sign, _sign_specials, torch=_torch_name("sgn")),
    OpSpec("sign", bp.sign, _np_sign, _sign_zeros, torch=_torch_name("sign"), grad=False),
    OpSpec("sign", bp.sign, _np_sign, _sign_integers, torch=_torch_name("sign"), grad=False,
           float32=False),
    _unary_row("floor", np.floor),
    _unary_row("ceil", np.ceil),
    _unary_row("round", np.round),
    OpSpec("round", lambda x: bp.round(x, decimals=1), lambda x: np.round(x, 1), unary(),
           torch=lambda torch, x: torch.round(x, decimals=1)),
    _comparison_row("eq", np.equal),
    OpSpec("eq", bp.eq, np.equal, lambda rng: [Sample((np.array([1.0, 2.0]), np.array([1.0, 3.0])),
                                                      name="equal-values")],
           torch=_torch_name("eq"), grad=False),
    OpSpec("isclose", bp.isclose, np.isclose,
           lambda rng: [Sample((np.array([1.0, 2.0, np.nan]), np.array([1.0 + 1e-9, 2.1, np.nan])),
                               name="near-far-nan"),
                        Sample((np.array([1.0, np.nan]), np.array([1.1, np.nan])),
                               {"rtol": 0.2, "equal_nan": True}, name="loose")],
           torch=_torch_name("isclose"), grad=False),
    _comparison_row("ne", np.not_equal),
    _comparison_row("lt", np.less),
    _comparison_row("le", np.less_equal),
    _comparison_row("gt", np.greater),
    _comparison_row("ge", np.greater_equal),
    OpSpec("gt", lambda a, b: a > b, np.greater, binary(), torch=lambda torch, a, b: a > b,
           grad=False, aliases=("greater", "greater_equal", "less", "less_equal", "not_equal")),
    _logical_row("logical_and", np.logical_and),
    _logical_row("logical_or", np.logical_or),
    _logical_row("logical_xor", np.logical_xor),
    _logical_row("logical_not", np.logical_not, arity=1),
    _logical_row("bitwise_and", np.bitwise_and),
    _logical_row("bitwise_or", np.bitwise_or),
    _logical_row("bitwise_xor", np.bitwise_xor),
    _logical_row("bitwise_not", np.invert, arity=1),
    OpSpec("isnan", bp.isnan, np.isnan, _float_check_samples, torch=_torch_name("isnan"),
           grad=False),
    OpSpec("isinf", bp.isinf, np.isinf, _float_check_samples, torch=_torch_name("isinf"),
           grad=False),
    OpSpec("isfinite", bp.isfinite, np.isfinite, _float_check_samples,
           torch=_torch_name("isfinite"), grad=False),
    _unary_row("clone", np.copy),
    OpSpec("clone", bp.clone, lambda x, **kw: x.copy(), _memory_format_samples,
           torch=lambda torch, x, **kw: torch.clone(x, **_torch_format(torch, kw)),
           error_inputs=_clone_errors),
    OpSpec("to", lambda x: x.to(bp.float32), lambda x: x.astype(np.float32), unary(),
           torch=lambda torch, x: x.to(torch.float32), float32=False, aliases=("to_dtype",),
           eps=1e-3),
    # PyTorch's positional non_blocking and copy, and memory_format (issue 15).
    OpSpec("to", lambda x: x.to(bp.float64, False, True), lambda x: x.copy(), unary(),
           torch=lambda torch, x: x.to(torch.float64, False, True), float32=False),
    OpSpec("to", lambda x, **kw: x.to(x, True, **kw), lambda x, **kw: x, _memory_format_samples,
           torch=lambda torch, x, **kw: x.to(x, True, **_torch_format(torch, kw))),
    # A round trip through another device (the strict stand-in): the value and the gradient are
    # the identity, and the gradient must come back to where the input lives.
    OpSpec("to(device)", _round_trip, lambda x: x, unary(),
           torch=lambda torch, x: x.to("cpu") * 1, aliases=("to_device",)),
]
