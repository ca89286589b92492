"""PyTorch's own op database as our oracle: ``tests/test_opinfo.py`` runs every entry of
``torch.testing._internal.common_methods_invocations.op_db`` that we have on all its samples.

Here are the parts a reader looks up: how an entry finds our function (``our_op``,
``ALIASES``) and method (``METHODS``), how a sample crosses over (``to_backprop``), the one table
of samples we do not support (``UNSUPPORTED``), the entries whose values are random
(``RANDOM_VALUES``), and the tolerances.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F


def _import_op_db() -> tuple[Any, list]:
    """torch and its op database. Importing PyTorch's test utilities loads a Hypothesis profile
    of its own (10 examples a test), which we undo so our property tests keep their settings."""
    import hypothesis

    before = hypothesis.settings.default
    try:
        import torch
        from torch.testing._internal.common_methods_invocations import op_db
    except ImportError:
        if os.environ.get("BACKPROP_REQUIRE_TORCH") == "1":
            raise
        pytest.skip("PyTorch or expecttest is not installed; the OpInfo oracle is skipped",
                    allow_module_level=True)
    hypothesis.settings.register_profile("backprop", parent=before)
    hypothesis.settings.load_profile("backprop")
    return torch, op_db


torch, OP_DB = _import_op_db()


def entry_id(entry: Any) -> str:
    """``name`` or ``name:variant``, e.g. ``max:reduction_with_dim``."""
    return f"{entry.name}:{entry.variant_test_name}" if entry.variant_test_name else entry.name


# ---------------------------------------------------------------------------------------------
# Which entries we have.

# Entries whose OpInfo name or calling convention is not ours one to one, and why.
ALIASES: dict[str, tuple[Callable[..., Any], str]] = {
    "__rdiv__": (lambda x, other: x.__rtruediv__(other),
                 "Python 3 calls it __rtruediv__; PyTorch keeps Python 2's name as an alias"),
    "nn.functional.one_hot": (bp.one_hot, "we export one_hot at the top level only"),
    "einsum": (lambda operands, equation: bp.einsum(equation, *operands),
               "OpInfo's op takes (operands, equation) so that the tensors come first"),
    "where": (lambda x, condition, other, **kw: bp.where(condition, x, other, **kw),
              "OpInfo's op takes (x, condition, other) so that a tensor comes first"),
    "nn.functional.embedding": (lambda weight, idx, **kw: F.embedding(idx, weight, **kw),
                                "OpInfo's op takes (weight, indices): weight is the float input"),
    "zero_": (lambda x: x.clone().zero_(), "OpInfo's op zeroes a clone, not its input"),
    "polygamma": (lambda x, n, **kw: bp.polygamma(n, x, **kw),
                  "OpInfo's op takes (x, n) so that the tensor comes first"),
    "resize_": (lambda x, shape: x.clone().resize_(shape),
                "OpInfo's op resizes a clone, not its input"),
    "svd_lowrank": (lambda a, b, **kw: bp.svd_lowrank(a @ b.mT, **kw),
                    "OpInfo's op takes factors (a, b) of a low-rank a @ b.mT"),
    "pca_lowrank": (lambda a, b, **kw: bp.pca_lowrank(a @ b.mT, **kw),
                    "OpInfo's op takes factors (a, b) of a low-rank a @ b.mT"),
    "special.polygamma": (lambda x, n, **kw: bp.special.polygamma(n, x, **kw),
                          "OpInfo's op takes (x, n) so that the tensor comes first"),
}


# Variants whose op differs from their entry's function, by entry id.
VARIANT_ALIASES: dict[str, tuple[Callable[..., Any], str]] = {
    "normal:in_place": (lambda x, *args, **kw: x.normal_(*args, **kw),
                        "OpInfo's in-place variant of normal calls x.normal_(mean, std)"),
    "linalg.pinv:singular": (lambda a, b: bp.linalg.pinv(a @ b.mT),
                             "OpInfo's op takes factors (a, b) of a singular a @ b.mT"),
    "linalg.lstsq:grad_oriented": (lambda a, b, driver: bp.linalg.lstsq(a, b, driver=driver)[:2],
                                   "OpInfo's op keeps lstsq's differentiable outputs"),
}

# Entries named after a distribution whose op fills its input in place (x.cauchy_(0, 1)).
for _name in ("cauchy", "exponential", "geometric", "log_normal", "uniform"):
    ALIASES[_name] = (lambda x, *args, _method=f"{_name}_", **kw: getattr(x, _method)(*args, **kw),
                      f"OpInfo's {_name} entry calls x.{_name}_(...)")
# Entries whose results are unique only up to the sign of each singular vector or eigenvector
# (LAPACK builds differ: PyTorch's MKL and NumPy's OpenBLAS choose differently): both sides'
# outputs are compared through the sample's output_process_fn_grad, the gauge-invariant function
# of them (|U|, U @ Vh, S) that PyTorch's own gradient tests check.
GAUGE_INVARIANT = {"svd", "linalg.svd", "linalg.eigh", "svd_lowrank", "pca_lowrank"}


def _through_gauge(entry: Any, sample: Any, outputs: Any) -> Any:
    """``outputs``, or their gauge-invariant function for a GAUGE_INVARIANT entry."""
    return sample.output_process_fn_grad(outputs) if entry.name in GAUGE_INVARIANT else outputs


def _resolve(root: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        root = getattr(root, part, None)
        if root is None:
            return None
    return root


def _function(value: Any) -> Any:
    """``value`` if it is a function (``bp.float`` and ``torch.float`` are dtypes)."""
    return value if callable(value) and not isinstance(value, (type, np.dtype, torch.dtype)) \
        else None


def our_op(entry: Any) -> Callable[..., Any] | None:
    """Our callable for an OpInfo entry, or None where we lack it.

    ``bp.<dotted name>`` where PyTorch has ``torch.<dotted name>`` (``bp.nn.functional.relu``);
    otherwise the Tensor's method or attribute of that name, as PyTorch's op calls it
    (``x.sum_to_size(1, 5)``, ``x.T``, ``x.double()``).
    """
    if entry_id(entry) in VARIANT_ALIASES:
        return VARIANT_ALIASES[entry_id(entry)][0]
    if entry.name in ALIASES:
        return ALIASES[entry.name][0]
    function = _function(_resolve(bp, entry.name))
    if function is not None and _function(_resolve(torch, entry.name)) is not None:
        return function
    attribute = getattr(bp.Tensor, entry.name, None) if "." not in entry.name else None
    if isinstance(attribute, property):
        return lambda x: getattr(x, entry.name)
    if callable(attribute):
        # Unbound, as PyTorch's op (torch.Tensor.__rpow__) is: a reference sample's input may be
        # a Python number (``Tensor.__rpow__(2.0, x)`` is ``x ** 2.0``).
        return attribute
    return function


# Entries that run their complex samples (complex64 and complex128, gradients in complex128):
# the complex numbers' ops and the Fourier transforms, whose rules follow PyTorch's convention
# for complex gradients (ops/complex_ops.py). Other entries keep the "complex dtypes" row.
COMPLEX_ENTRIES = {
    "real", "imag", "conj", "conj_physical", "resolve_conj", "resolve_neg", "angle", "polar",
    "complex", "view_as_real", "view_as_complex", "cfloat", "cdouble",
    "fft.fft", "fft.ifft", "fft.rfft", "fft.irfft", "fft.fft2", "fft.ifft2", "fft.rfft2",
    "fft.irfft2", "fft.fftn", "fft.ifftn", "fft.rfftn", "fft.irfftn", "fft.hfft", "fft.ihfft",
    "fft.hfft2", "fft.ihfft2", "fft.hfftn", "fft.ihfftn", "fft.fftshift", "fft.ifftshift",
    "stft", "istft", "linalg.eig", "linalg.eigvals",
}


def dtypes_to_run(entry: Any) -> list[Any]:
    """float32 and float64 where the entry takes them; otherwise its first integer or bool dtype
    (bitwise ops, one_hot), or what it takes (a complex-only variant, skipped by its reason)."""
    supported = entry.supported_dtypes("cpu")
    floats = [d for d in (torch.float32, torch.float64) if d in supported]
    if entry.name in COMPLEX_ENTRIES:  # also their complex samples
        floats += [d for d in (torch.complex64, torch.complex128) if d in supported]
    if floats:
        return floats
    return [d for d in (torch.int64, torch.bool, *sorted(supported, key=str))
            if d in supported][:1]


ENTRIES = {entry_id(e): e for e in OP_DB}
HAVE = [name for name, e in ENTRIES.items() if our_op(e) is not None]
# What the test runs: all we have but entries PyTorch tests on CUDA only (no CPU dtype).
OURS = [name for name in HAVE if dtypes_to_run(ENTRIES[name])]


def _method_variant(entry: Any) -> bool:
    """PyTorch has a Tensor method beside the function we run as ``bp.<name>``."""
    return (entry.method_variant is not None and entry.name not in ALIASES
            and "." not in entry.name and _function(_resolve(bp, entry.name)) is not None)


# The Tensor methods also checked, by entry (``x.sum`` beside ``bp.sum``), and PyTorch's method
# variants of functions we have that our Tensor lacks.
METHODS = {name: ENTRIES[name].name for name in OURS if _method_variant(ENTRIES[name])
           and callable(getattr(bp.Tensor, ENTRIES[name].name, None))}
METHODS_WE_LACK = sorted({ENTRIES[name].name for name in OURS
                          if _method_variant(ENTRIES[name]) and name not in METHODS})


# ---------------------------------------------------------------------------------------------
# Samples we do not support, and how the rest cross over.

def _paths(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(path, value) for every value inside nested lists, tuples and dicts."""
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _paths(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, f"{path}[{k!r}]" if path else k)
    else:
        yield path, value


def sample_paths(sample: Any) -> Iterator[tuple[str, Any]]:
    """Every value in a sample with where it sits: ``input``, ``args[1]``, ``weight``."""
    yield from _paths(sample.input, "input")
    yield from _paths(list(sample.args), "args")
    yield from _paths(sample.kwargs, "")


def _dtypes_in(sample: Any) -> set[Any]:
    return {v.dtype if isinstance(v, torch.Tensor) else v for _, v in sample_paths(sample)
            if isinstance(v, (torch.Tensor, torch.dtype))}


def _dtype_name(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")


@dataclass
class Unsupported:
    """A row of the table of samples we do not support: a feature we lack (or a call torch
    declines), never a wrong number.
    ``applies(entry, sample)`` picks the samples."""

    reason: str
    applies: Callable[[Any, Any], bool]


UNSUPPORTED = [
    Unsupported("complex dtypes: backprop computes in real numbers",
                lambda e, s: e.name not in COMPLEX_ENTRIES
                and any(d.is_complex for d in _dtypes_in(s))
                or any(isinstance(v, complex) for _, v in sample_paths(s))),
    Unsupported("bfloat16 tensors (in mixed-dtype reference samples): NumPy has no bfloat16",
                lambda e, s: torch.bfloat16 in _dtypes_in(s)),
    Unsupported("memory_format=torch.channels_last: our arrays are C-ordered; PyTorch code that "
                "asks for NHWC gets a clear refusal",
                lambda e, s: any(isinstance(v, torch.memory_format)
                                 and v in (torch.channels_last, torch.channels_last_3d)
                                 for _, v in sample_paths(s))),
    Unsupported("embedding(sparse=True): sparse gradients are a torch.sparse feature",
                lambda e, s: e.name == "nn.functional.embedding" and s.kwargs.get("sparse")),
    Unsupported("normal(..., layout=...): backprop has no layouts (every tensor is strided)",
                lambda e, s: e.name == "normal" and "layout" in s.kwargs),
    Unsupported("digamma's gradient at a pole (0 or a negative integer): trigamma is +inf there, "
                "which ours gives; PyTorch's reflection divides by a rounded sin(pi x) and "
                "gives a large finite number",
                lambda e, s: e.name == "digamma" and isinstance(s.input, torch.Tensor)
                and s.input.requires_grad and bool(((s.input <= 0)
                                                    & (s.input == s.input.floor())).any())),
    Unsupported("Tensor.__rsub__(number, tensor), called unbound: torch answers NotImplemented "
                "(Python's operators never make this call), so there is no result to compare",
                lambda e, s: e.name == "__rsub__" and not isinstance(s.input, torch.Tensor)),
    Unsupported("signal.windows.kaiser in float32 with beta > 88: PyTorch computes I0(beta) in "
                "float32, where it overflows (I0(100) is 1e42), and returns 0 or NaN; ours "
                "computes in float64 and returns the window",
                lambda e, s: e.name == "signal.windows.kaiser" and s.kwargs.get("beta", 12.0) > 88
                and s.kwargs.get("dtype", torch.float32) == torch.float32),
    Unsupported("triplet_margin_with_distance_loss(distance_function=<a torch callable>): a "
                "PyTorch function or module cannot take our tensors",
                lambda e, s: e.name == "nn.functional.triplet_margin_with_distance_loss"
                and s.kwargs.get("distance_function") is not None),
    Unsupported("as_strided(..., storage_offset=k) on a view into a larger tensor: each sample's "
                "input crosses over as a tensor of its own, so the storage around the view "
                "(which PyTorch's sample reads) is not there on our side",
                lambda e, s: e.name == "as_strided" and e.variant_test_name == "partial_views"
                and "storage_offset" in s.kwargs),
    Unsupported("as_strided_scatter's gradient: PyTorch's is wrong (its own OpInfo marks "
                "test_fn_grad an expected failure: the input's gradient lands on the overwritten "
                "positions); ours is checked against finite differences in the op table",
                lambda e, s: e.name == "as_strided_scatter" and s.input.requires_grad),
    Unsupported("istft(window=<a view made under no_grad, window[:8] or window.real[:8]>): "
                "torch's autograd finds that view unused (no gradient), while a copy of the "
                "same values gets the gradient ours gives; no torch gradient to compare",
                lambda e, s: e.name == "istft" and isinstance(s.kwargs.get("window"), torch.Tensor)
                and s.kwargs["window"].requires_grad and s.kwargs["window"]._is_view()),
    Unsupported("laguerre_polynomial_l of degree above a million in float64: five million steps "
                "of the recurrence round differently from PyTorch's (whose compiler fuses "
                "multiply-adds), ending ~1e-10 relative apart, beyond the float64 tolerance",
                lambda e, s: e.name == "special.laguerre_polynomial_l"
                and isinstance(s.input, torch.Tensor) and s.input.dtype == torch.float64
                and any(isinstance(a, torch.Tensor) and bool((a.abs() > 1e6).any())
                        and bool((a.abs() < 2.0 ** 63).any()) for a in s.args)),
]


def unsupported_reason(entry: Any, sample: Any) -> str | None:
    return next((row.reason for row in UNSUPPORTED if row.applies(entry, sample)), None)


def _dropout_on(p: float, training: bool) -> bool:
    """Dropout draws a mask (p = 0 keeps everything and p = 1 drops everything: no draw)."""
    return 0 < p < 1 and training


# Entries whose values are random (or uninitialised) on some samples: PyTorch's generator is not
# ours, so only their shapes and dtypes are compared (PyTorch's own test across devices skips
# them the same way: "output is non-deterministic").
RANDOM_VALUES: dict[str, Callable[[Any], bool]] = {
    "randn": lambda s: True,
    "randn_like": lambda s: True,
    "rand_like": lambda s: True,
    "randint": lambda s: True,
    "randint_like": lambda s: True,
    "multinomial": lambda s: True,
    "normal": lambda s: True,
    "bernoulli": lambda s: True,
    "empty": lambda s: True,
    "empty_like": lambda s: True,
    "new_empty": lambda s: True,
    "cauchy": lambda s: True,
    "exponential": lambda s: True,
    "geometric": lambda s: True,
    "log_normal": lambda s: True,
    "uniform": lambda s: True,
    "nn.functional.dropout": lambda s: _dropout_on(s.kwargs.get("p", 0.5),
                                                    s.kwargs.get("training", True)),
    "nn.functional.dropout2d": lambda s: _dropout_on(s.kwargs.get("p", 0.5),
                                                      s.kwargs.get("training", True)),
    "nn.functional.scaled_dot_product_attention":
        lambda s: _dropout_on(s.kwargs.get("dropout_p", 0.0), True),
    # multi_head_attention_forward(query, key, value, embed_dim, num_heads, in_proj_weight,
    # in_proj_bias, bias_k, bias_v, add_zero_attn, dropout_p, ...): args[9] is dropout_p.
    "nn.functional.multi_head_attention_forward":
        lambda s: _dropout_on(s.args[9], s.kwargs.get("training", True)),
    "nn.functional.dropout3d": lambda s: _dropout_on(s.kwargs.get("p", 0.5),
                                                      s.kwargs.get("training", True)),
    "nn.functional.alpha_dropout": lambda s: _dropout_on(s.kwargs.get("p", 0.5),
                                                          s.kwargs.get("training", False)),
    "nn.functional.feature_alpha_dropout": lambda s: _dropout_on(
        s.kwargs.get("p", 0.5), s.kwargs.get("training", False)),
    # Random slopes while training (lower < upper).
    "nn.functional.rrelu": lambda s: s.kwargs.get("training", False)
    and s.kwargs.get("lower", 1 / 8) != s.kwargs.get("upper", 1 / 3),
    # Pooling windows drawn at random unless the sample fixes them.
    "nn.functional.fractional_max_pool2d": lambda s: s.kwargs.get("_random_samples") is None,
    "nn.functional.fractional_max_pool3d": lambda s: s.kwargs.get("_random_samples") is None,
    "empty_strided": lambda s: True,
    "empty_permuted": lambda s: True,
    "new_empty_strided": lambda s: True,
    # A - M is of full rank: its rank-q approximation depends on the random range finder's draw.
    "svd_lowrank": lambda s: s.kwargs.get("M") is not None,
}


def to_backprop(value: Any, tensors: dict[int, Any]) -> Any:
    """``value`` with every torch tensor, dtype and device in backprop's terms; other values
    unchanged. ``tensors`` maps each torch tensor's id to its copy, so a tensor used twice is one
    tensor on our side too (and its gradient accumulates)."""
    if isinstance(value, torch.Tensor):
        if id(value) not in tensors:
            tensors[id(value)] = bp.tensor(_plain_numpy(value).copy(),
                                           requires_grad=value.requires_grad)
        return tensors[id(value)]
    if isinstance(value, torch.dtype):
        return getattr(bp, _dtype_name(value))
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, torch.memory_format):
        # preserve_format and contiguous_format become ours once bp names them (issue 15).
        return getattr(bp, _dtype_name(value), value)
    if isinstance(value, (list, tuple)):  # torch.Size becomes a tuple
        items = [to_backprop(v, tensors) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {k: to_backprop(v, tensors) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------------------------
# Comparing results.

# float64: the op table's tolerance against PyTorch (rtol 1e-10, atol 1e-12): both sides compute
# in double precision, so this leaves room for another summation order and none for a float32
# step (a float32 rounding anywhere is ~3e-8 relative off).
# float32: torch.testing.assert_close's defaults for float32 (rtol 1.3e-6, about 11 float32
# ulps; atol 1e-5), the tolerance PyTorch's own OpInfo tests start from; compare_float32 explains
# the one allowance beyond it. float16 (only from .half()): assert_close's defaults for half.
TOLERANCES = {"float64": (1e-10, 1e-12), "float32": (1.3e-6, 1e-5), "float16": (1e-3, 1e-5)}
# Complex numbers: their parts' tolerances (a complex64 is two float32s).
TOLERANCES.update(complex128=TOLERANCES["float64"], complex64=TOLERANCES["float32"])

# Where PyTorch's float64 is the less exact side, with why.
LOOSER_FLOAT64 = {
    # Its float64 backward multiplies by the float32 constant 1.0f / 6.0f: 3e-8 relative off
    # the exact g / 6 we compute.
    "nn.functional.hardsigmoid": (1e-7, 1e-12),
    # Its backward takes input_scale = 1.0 / alpha.toFloat(): alpha rounded to float32 (0.8 is
    # 1.5e-8 relative off), so exp(x * input_scale) is |x| * 1.9e-8 relative off the exact
    # exp(x / alpha) we compute; |x| reaches 10 in the reference inputs.
    "nn.functional.celu": (5e-7, 1e-12),
    # PyTorch's trigamma (polygamma(1, x), and digamma's derivative) is ~1e-9 relative off:
    # its trigamma(1) is 7.9e-10 off pi^2 / 6, which ours gives to rounding.
    "digamma": (5e-9, 1e-12),
    "polygamma": (5e-9, 1e-12),
    "special.polygamma": (5e-9, 1e-12),  # the same trigamma as polygamma's
    # PyTorch's float64 Bessel and Airy functions lose up to seven digits just past the points
    # where they switch to their asymptotic forms (|x| = 5, x = -2.09): at x = 5.0001 its J0 is
    # 3.8e-7 off mpmath's value at 30 digits, J1 4.7e-7, Y0 2.1e-7, Y1 8.7e-7; its Ai(-2.0901)
    # 3.0e-6. Ours are within 1e-15 of mpmath's there; the allowance is twice PyTorch's error.
    "special.bessel_j0": (1e-10, 8e-7),
    "special.bessel_j1": (1e-10, 1e-6),
    "special.bessel_y0": (1e-10, 5e-7),
    "special.bessel_y1": (1e-10, 2e-6),
    "special.airy_ai": (1e-10, 6e-6),
    # PyTorch's float64 incomplete gamma functions are up to 4.1e-10 off where a is near x and
    # above 20 (its asymptotic series): P(23.8897, 23.5809) = 0.50194810765271445 (mpmath, 30
    # digits; ours ...2715), PyTorch 0.5019481072736154. For a in the millions its series is
    # up to 2.6e-4 relative off small values (P(2500086.84, 2491015.90) = 4.6340703131e-09,
    # PyTorch 4.6328764e-09): 1.2e-12 absolute, inside this atol too.
    "igamma": (1e-10, 1e-9),
    "igammac": (1e-10, 1e-9),
}

# Entries whose float64 gradient at a NaN input PyTorch computes two ways: its vectorised loop
# (the elements in whole SIMD vectors) and its scalar loop (the rest) test the NaN differently,
# so torch's own answer depends on where the NaN sits (hardtanh of one NaN: 1; of 64: 0).
# Gradients at NaN inputs are not compared for these (ours are one of torch's two).
NAN_GRADIENT_VARIES = {
    "nn.functional.hardtanh", "nn.functional.relu6", "nn.functional.softshrink",
    "nn.functional.hardshrink", "nn.functional.elu", "nn.functional.selu", "nn.functional.celu",
}


def flatten(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in flatten(v)]
    return [value]


def describe(value: Any) -> str:
    """A short picture of a sample's argument: ``f64[2, 3]`` for a tensor."""
    if isinstance(value, (torch.Tensor, bp.Tensor)):
        dtype = _dtype_name(value.dtype)
        short = {"float64": "f64", "float32": "f32", "int64": "i64", "bool": "b"}.get(dtype, dtype)
        return f"{short}{list(value.shape)}" if value.ndim else f"{short}({value.item():.4g})"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, dict):
        return ", ".join(f"{k}={describe(v)}" for k, v in value.items())
    return repr(value)


def describe_sample(sample: Any) -> str:
    parts = [describe(sample.input)] + [describe(a) for a in sample.args]
    if sample.kwargs:
        parts.append(describe(sample.kwargs))
    return f"({', '.join(parts)})"


def compare_values(ours: Any, theirs: Any, what: str, tolerances: dict) -> str | None:
    """None when ``ours`` (backprop) equals ``theirs`` (torch), else what differs."""
    if isinstance(theirs, torch.Tensor):
        if not isinstance(ours, bp.Tensor):
            return f"{what}: ours is {type(ours).__name__}, torch's a Tensor"
        if tuple(ours.shape) != tuple(theirs.shape):
            return f"{what}: shape {tuple(ours.shape)}, torch {tuple(theirs.shape)}"
        if str(ours.dtype) != _dtype_name(theirs.dtype):
            return f"{what}: dtype {ours.dtype}, torch {_dtype_name(theirs.dtype)}"
        return compare_arrays(_ours_numpy(ours), _plain_numpy(theirs), what, tolerances)
    if isinstance(theirs, (bool, int, float)):
        if type(ours) is not type(theirs):
            return f"{what}: ours is {type(ours).__name__}, torch's {type(theirs).__name__}"
        return compare_arrays(np.asarray(ours), np.asarray(theirs), what, tolerances)
    if ours != theirs:
        return f"{what}: {ours!r}, torch {theirs!r}"
    return None


def compare_arrays(ours: np.ndarray, theirs: np.ndarray, what: str,
                   tolerances: dict) -> str | None:
    """Integers and booleans exactly; floats within ``tolerances[dtype]`` (TOLERANCES), NaN and
    inf in the same places."""
    if theirs.dtype.kind in "fc":
        if ours.shape == theirs.shape and np.array_equal(ours, theirs, equal_nan=True):
            return None  # most results are equal: under a third of np.isclose's time
        rtol, atol = tolerances[str(theirs.dtype)]
        wide = np.float64 if theirs.dtype.kind == "f" else np.complex128
        differ = ~np.isclose(ours.astype(wide), theirs.astype(wide), rtol=rtol,
                             atol=atol, equal_nan=True)
    else:
        differ = ours != theirs
    if not differ.any():
        return None
    index = tuple(int(i) for i in np.argwhere(differ)[0])
    return f"{what}: at {list(index)} {ours[index]!r}, torch {theirs[index]!r}"


def float64_answer(entry: Any, sample: Any) -> list[Any]:
    """PyTorch's outputs for the sample with its float32 tensors in float64 (dtype arguments
    unchanged): the nearly exact answer float32 results are measured against. Empty where
    PyTorch refuses the float64 sample."""
    def upcast(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            wider = {torch.float32: torch.float64, torch.complex64: torch.complex128}
            return value.detach().to(wider[value.dtype]) if value.dtype in wider else value
        if type(value) in (list, tuple):
            return type(value)(upcast(v) for v in value)
        if isinstance(value, dict):
            return {k: upcast(v) for k, v in value.items()}
        return value

    try:
        with torch.no_grad():
            return flatten(_through_gauge(entry, sample, entry.op(
                upcast(sample.input), *upcast(sample.args), **upcast(sample.kwargs))))
    except Exception:  # noqa: BLE001 - then torch's float32 result is the only reference
        return []


def compare_float32(ours: np.ndarray, theirs: np.ndarray, exact: Any, failure: str) -> str | None:
    """A float32 result further from PyTorch's than the tolerance still agrees when it is as
    accurate: no element further from the float64 answer than twice PyTorch's largest error.
    Float32 rounding of large terms that cancel leaves both results further apart than the
    tolerance (a matmul of values near 9 that sum to 2.3: 2e-5 apart, each 1e-5 off)."""
    if not isinstance(exact, torch.Tensor) or tuple(exact.shape) != theirs.shape:
        return failure
    exact = _plain_numpy(exact).astype(np.complex128 if theirs.dtype.kind == "c" else np.float64)
    finite = np.isfinite(theirs)
    if not (np.array_equal(ours[~finite], theirs[~finite], equal_nan=True)
            and np.isfinite(ours[finite]).all()):
        return failure
    ours_error = np.abs(ours[finite].astype(exact.dtype) - exact[finite])
    theirs_error = np.abs(theirs[finite].astype(exact.dtype) - exact[finite])
    rtol, atol = TOLERANCES["float32"]
    allowed = atol + rtol * np.abs(exact[finite]) + 2 * theirs_error.max(initial=0.0)
    if (ours_error <= allowed).all():
        return None
    return (f"{failure} (off the float64 answer by {ours_error.max():.3g}, "
            f"torch by {theirs_error.max():.3g})")


# ---------------------------------------------------------------------------------------------
# Running an entry.

NO_GRADIENT = object()  # compare_gradients: nothing to compare


@dataclass
class EntryResult:
    """What running one entry found: samples run and skipped (by reason), failures."""

    samples: int = 0
    gradients: int = 0  # samples whose input gradients were compared
    skipped: collections.Counter = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)
    too_large: int = 0  # reference samples left out by REFERENCE_MAX_NUMEL


@contextlib.contextmanager
def pytorch_defaults() -> Iterator[None]:
    """PyTorch's default dtype (float32) and one thread while an entry runs, whatever another
    test set; both random generators as they were afterwards; no warnings in the output."""
    dtype, torch_state = torch.get_default_dtype(), torch.get_rng_state()
    our_state, threads = bp.default_generator.get_state(), torch.get_num_threads()
    torch.set_default_dtype(torch.float32)
    # The samples are small: one thread is fastest, and several slow down tenfold on a busy
    # machine (threads waiting on each other for cores other processes hold).
    torch.set_num_threads(1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        torch.set_default_dtype(dtype)
        torch.set_num_threads(threads)
        torch.set_rng_state(torch_state)
        bp.default_generator.set_state(our_state)


# Reference inputs with a tensor of more elements than this are left out: the elementwise
# entries' large cases (1029 x 917, 1024 x 1024, 357 x 789: about 510 samples) would take 40 s of
# the test's time, and their values (random, plus the extremal ones of the 9-element cases)
# test nothing the cases up to 128 x 128 do not.
REFERENCE_MAX_NUMEL = 20_000


def _too_large(sample: Any) -> bool:
    return any(isinstance(v, torch.Tensor) and v.numel() > REFERENCE_MAX_NUMEL
               for _, v in sample_paths(sample))


def _samples(entry: Any, dtype: Any, grad: bool, reference: bool) -> Any:
    """The entry's sample inputs, or its reference inputs (wider: NaN, inf, -0.0, larger
    shapes, Python numbers on either side)."""
    if not reference:
        return entry.sample_inputs_func(entry, "cpu", dtype, grad)
    try:
        return list(entry.reference_inputs_func(entry, "cpu", dtype, grad))
    except ValueError:  # clamp's and where's make integer tensors, which cannot require grad
        torch.manual_seed(0)
        return list(entry.reference_inputs_func(entry, "cpu", dtype, False))


def _own_memory(value: Any) -> Any:
    """A leaf tensor as a fresh clone: some reference inputs overlap in memory (expanded, or
    strides (1, 1, 7)), and torch's gradient for such a leaf is laid out on the same memory,
    which keeps one of the values that share an address. Cloning only those leaves torch's
    gradients of some other samples (permute, flatten, clone, cat) zero, a cause not tracked
    down; so every leaf is cloned. A clone is dense where it overlapped; a transposed or sliced
    tensor keeps its strides."""
    if isinstance(value, torch.Tensor) and value.is_leaf:
        return value.detach().clone().requires_grad_(value.requires_grad)
    return value


def run_entry(name: str, reference: bool = False) -> EntryResult:
    """Run entry ``name`` (an ``entry_id``) on all its samples in each dtype, or on its reference
    inputs (its samples where it has none); cached."""
    if reference and ENTRIES[name].reference_inputs_func is None:
        reference = False
    return _run_entry(name, reference)  # one cache key however the caller spells it


@functools.cache
def _run_entry(name: str, reference: bool) -> EntryResult:
    entry = ENTRIES[name]
    ours = our_op(entry)
    assert ours is not None, f"{name}: we do not have it"
    result = EntryResult()
    with pytorch_defaults():
        for dtype in dtypes_to_run(entry):
            grad = dtype in (torch.float64, torch.complex128) and entry.supports_autograd
            # Seeded once per entry and dtype. The generator is called directly: the public
            # entry.sample_inputs wraps it in an iterator that walks the call stack with
            # inspect.stack() (looking for a unittest method to tag) twice per call, which
            # took 70% of this test's time under pytest's deep stack.
            torch.manual_seed(0)
            for i, sample in enumerate(_samples(entry, dtype, grad, reference)):
                if reference:
                    if _too_large(sample):
                        result.too_large += 1
                        continue
                    sample = sample.transform(_own_memory)  # after the size test: no big copies
                failure = run_sample(entry, ours, sample, result, seed=i)
                if failure:
                    result.failures.append(f"{_dtype_name(dtype)} {describe_sample(sample)}: "
                                           f"{failure}")
    return result


def run_sample(entry: Any, ours_op: Callable[..., Any], sample: Any, result: EntryResult,
               seed: int) -> str | None:
    """Run one sample on both sides (our function, then our method where PyTorch has both);
    None when they agree, else what differs."""
    reason = unsupported_reason(entry, sample)
    if reason:
        result.skipped[reason] += 1
        return None
    # Copied before PyTorch runs: batch_norm updates its running statistics in place.
    tensors: dict[int, Any] = {}
    args = to_backprop([sample.input, *sample.args], tensors)
    kwargs = to_backprop(sample.kwargs, tensors)
    result.samples += 1
    try:
        theirs = _through_gauge(entry, sample,
                                entry.op(sample.input, *sample.args, **sample.kwargs))
    except Exception as err:  # noqa: BLE001 - then we must refuse it too
        try:
            ours_op(*args, **kwargs)
        except Exception:  # noqa: BLE001 - both refuse: they agree
            return None
        return f"torch raises {type(err).__name__}: {str(err)[:120]}; ours returns"
    try:
        ours = _through_gauge(entry, sample, ours_op(*args, **kwargs))
    except Exception as err:  # noqa: BLE001 - our error is a disagreement to record
        return f"raises {type(err).__name__}: {str(err)[:200]}"
    random = entry.name in RANDOM_VALUES and RANDOM_VALUES[entry.name](sample)
    tolerances = dict(TOLERANCES)
    if entry.name in LOOSER_FLOAT64:
        tolerances["float64"] = LOOSER_FLOAT64[entry.name]
    exact: list[Any] = []  # PyTorch's float64 answer, computed once where needed
    ours_out, theirs_out = flatten(ours), flatten(theirs)
    # A random op's in-place result (normal_) is random too: its input is not compared.
    failure = (compare_outputs(entry, sample, ours_out, theirs_out, random, tolerances, exact)
               or (None if random else compare_arguments(sample, tensors, tolerances)))
    if failure:
        return failure
    method = METHODS.get(entry_id(entry))
    if method and isinstance(args[0], bp.Tensor):  # not where the input is a Python number
        # Our method is a one-line delegation to the function, but with a signature of its own:
        # its values (not its gradients, the same graph) are checked on every sample too.
        try:
            by_method = _through_gauge(entry, sample,
                                       getattr(args[0], method)(*args[1:], **kwargs))
        except Exception as err:  # noqa: BLE001 - our error is a disagreement to record
            return f"x.{method}(...) raises {type(err).__name__}: {str(err)[:200]}"
        failure = compare_outputs(entry, sample, flatten(by_method), theirs_out, random,
                                  tolerances, exact)
        if failure:
            return f"x.{method}(...): {failure}"
    if random:
        return None
    failure = compare_gradients(sample, tensors, ours_out, theirs_out, seed, tolerances,
                                entry.name in NAN_GRADIENT_VARIES)
    if failure is NO_GRADIENT:
        return None
    result.gradients += 1
    return failure


def inplace_method(entry: Any) -> str | None:
    """The name of PyTorch's in-place method for the entry (``exp_``) where our Tensor has it
    and its out-of-place form (``exp``)."""
    name = getattr(entry.inplace_variant, "__name__", None)
    return (name if name and name.endswith("_") and hasattr(bp.Tensor, name)
            and hasattr(bp.Tensor, name[:-1]) else None)


# Entries whose in-place method we check against PyTorch's on every sample.
INPLACE = [name for name in OURS if inplace_method(ENTRIES[name])
           and ENTRIES[name].name not in RANDOM_VALUES]


@functools.cache
def run_inplace(name: str) -> EntryResult:
    """PyTorch's ``x.<op>_(...)`` and ours on a copy of each sample's input, in each dtype: the
    tensor's values afterwards must agree, the method must return the tensor itself, and a
    sample PyTorch refuses (a float result into an integer tensor) we must refuse too."""
    entry, result = ENTRIES[name], EntryResult()
    method = inplace_method(entry)
    with pytorch_defaults():
        for dtype in dtypes_to_run(entry):
            torch.manual_seed(0)
            for sample in entry.sample_inputs_func(entry, "cpu", dtype, False):
                if not isinstance(sample.input, torch.Tensor) or unsupported_reason(entry, sample):
                    continue
                result.samples += 1
                failure = _compare_inplace(entry, method, sample)
                if failure:
                    result.failures.append(f"{_dtype_name(dtype)} {describe_sample(sample)}: "
                                           f"{failure}")
    return result


def _compare_inplace(entry: Any, method: str, sample: Any) -> str | None:
    tensors: dict[int, Any] = {}
    ours_input = to_backprop(sample.input.clone(), tensors)
    args = to_backprop(list(sample.args), tensors)
    kwargs = to_backprop(sample.kwargs, tensors)
    theirs_input = sample.input.clone()
    try:
        entry.inplace_variant(theirs_input, *sample.args, **sample.kwargs)
    except Exception as err:  # noqa: BLE001 - then we must refuse it too
        try:
            getattr(ours_input, method)(*args, **kwargs)
        except Exception:  # noqa: BLE001 - both refuse: they agree
            return None
        return f"torch's {method} raises {type(err).__name__}: {str(err)[:120]}; ours writes"
    if theirs_input.shape != sample.input.shape:
        # PyTorch resized its input (addbmm_ grows a broadcastable (1,) input to the result's
        # shape, a legacy of out=); ours keeps the tensor's shape, as PyTorch's other in-place
        # ops do, and refuses. Nothing to compare.
        return None
    try:
        returned = getattr(ours_input, method)(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - our error is a disagreement to record
        return f"{method} raises {type(err).__name__}: {str(err)[:200]}"
    if returned is not ours_input:
        return f"{method} returns a new tensor, not its input"
    if theirs_input.dtype == torch.float32:
        # float32 results may differ from PyTorch's by rounding (the out-of-place check judges
        # those against float64); in place we must write exactly what out of place returns.
        out_of_place = getattr(to_backprop(sample.input.clone(), {}), method[:-1])(*args, **kwargs)
        expected = out_of_place.to(ours_input.dtype).detach().numpy()
        return compare_values(ours_input, torch.from_numpy(expected), f"the input after {method}",
                              {**TOLERANCES, "float32": (0, 0)})
    tolerances = {**TOLERANCES, "float64": LOOSER_FLOAT64.get(entry.name, TOLERANCES["float64"])}
    return compare_values(ours_input, theirs_input, f"the input after {method}", tolerances)


def compare_arguments(sample: Any, tensors: dict[int, Any], tolerances: dict) -> str | None:
    """The sample's tensors after the op on both sides: what PyTorch updates in place
    (batch_norm's running statistics) we update alike, and we change nothing it keeps."""
    for path, theirs in sample_paths(sample):
        if isinstance(theirs, torch.Tensor) and id(theirs) in tensors:
            failure = compare_arrays(tensors[id(theirs)].detach().numpy(),
                                     theirs.detach().numpy(), f"{path} after the op", tolerances)
            if failure:
                return failure
    return None


def compare_outputs(entry: Any, sample: Any, ours_out: list[Any], theirs_out: list[Any],
                    random: bool, tolerances: dict, exact: list[Any]) -> str | None:
    """None when our outputs equal torch's (shapes and dtypes only where ``random``), else the
    first difference. ``exact`` caches PyTorch's float64 answer (filled on first need)."""
    if len(ours_out) != len(theirs_out):
        return f"{len(ours_out)} outputs, torch {len(theirs_out)}"
    for i, (a, b) in enumerate(zip(ours_out, theirs_out)):
        if random and isinstance(b, torch.Tensor):  # shapes and dtypes only
            a = (tuple(a.shape), str(a.dtype)) if isinstance(a, bp.Tensor) else a
            b = (tuple(b.shape), _dtype_name(b.dtype))
        failure = compare_values(a, b, f"output {i}", tolerances)
        if failure and _float32_values_differ(a, b):
            if not exact:
                exact.extend(float64_answer(entry, sample))
            failure = compare_float32(a.detach().numpy(), _plain_numpy(b),
                                      exact[i] if len(exact) == len(theirs_out) else None,
                                      failure)
        if failure:
            return failure
    return None


def _float32_values_differ(ours: Any, theirs: Any) -> bool:
    """Both float32 (or complex64) tensors of one shape: they differ in values, not in kind."""
    return (isinstance(theirs, torch.Tensor) and theirs.dtype in (torch.float32, torch.complex64)
            and isinstance(ours, bp.Tensor) and str(ours.dtype) == _dtype_name(theirs.dtype)
            and tuple(ours.shape) == tuple(theirs.shape))


def compare_gradients(sample: Any, tensors: dict[int, Any], ours_out: list[Any],
                      theirs_out: list[Any], seed: int, tolerances: dict,
                      skip_nan_inputs: bool = False) -> Any:
    """The inputs' gradients of <u, outputs> for the same random upstream u on both sides: None
    when they agree, else what differs. A gradient that is None (input unused) counts as zeros,
    as in the op table. NO_GRADIENT where there is nothing to compare. ``skip_nan_inputs``:
    not at elements where the input is NaN (NAN_GRADIENT_VARIES)."""
    inputs = {id(v): (path, v) for path, v in sample_paths(sample)
              if isinstance(v, torch.Tensor) and v.requires_grad}
    outputs = [i for i, o in enumerate(theirs_out)
               if isinstance(o, torch.Tensor) and o.requires_grad]
    if not inputs or not outputs:
        return NO_GRADIENT
    rng = np.random.default_rng(seed)
    # Rounded to the output's dtype by torch, and the same values on our side: torch rounds
    # float64 to float16 through float32 (twice), 1 ulp off NumPy's in 5 of 10^5 values.
    upstream = {i: torch.from_numpy(_upstream(rng, theirs_out[i])).to(theirs_out[i].dtype)
                for i in outputs}
    theirs_loss = sum(_real_inner(theirs_out[i], u) for i, u in upstream.items())
    try:
        theirs_grads = torch.autograd.grad(theirs_loss, [v for _, v in inputs.values()],
                                           allow_unused=True)
    except RuntimeError:  # "derivative for aten::remainder is not implemented"
        return NO_GRADIENT
    for i in outputs:
        if not ours_out[i].requires_grad:
            return f"output {i} does not require grad"
    try:
        ours_loss = sum(_real_inner(ours_out[i], _ours_like(u)) for i, u in upstream.items())
        ours_grads = bp.autograd.grad(ours_loss, [tensors[key] for key in inputs],
                                      allow_unused=True)
    except Exception as err:  # noqa: BLE001 - a backward that raises is a disagreement
        return f"backward raises {type(err).__name__}: {str(err)[:200]}"
    for (path, t), a, b in zip(inputs.values(), ours_grads, theirs_grads):
        if a is not None and b is not None and str(a.dtype) != _dtype_name(b.dtype):
            return f"gradient of {path}: dtype {a.dtype}, torch {_dtype_name(b.dtype)}"
        a = np.zeros(tuple(t.shape), _plain_numpy(t).dtype) if a is None else a.numpy()
        b = (np.zeros(tuple(t.shape), _plain_numpy(t).dtype) if b is None
             else b.numpy(force=True))  # force: a ZeroTensor (sgn of reals), a lazy conjugate
        if a.shape != b.shape:
            return f"gradient of {path}: shape {a.shape}, torch {b.shape}"
        if skip_nan_inputs:
            nan = np.isnan(_plain_numpy(t))
            a, b = np.where(nan, 0.0, a), np.where(nan, 0.0, b)
        failure = compare_arrays(a, b, f"gradient of {path}", tolerances)
        if failure:
            return failure
    return None


def _upstream(rng: np.random.Generator, out: Any) -> np.ndarray:
    """A random upstream gradient for ``out``: complex for a complex output."""
    u = rng.standard_normal(tuple(out.shape))
    return np.asarray(u + 1j * rng.standard_normal(tuple(out.shape)) if out.is_complex() else u)


def _real_inner(out: Any, u: Any) -> Any:
    """<u, out> as real vectors (Re(conj(u) out)), a real loss: PyTorch differentiates only
    real ones, and its gradient of a complex output is then u (its convention)."""
    if not out.is_complex():
        return (out * u).sum()
    return (out.real * u.real + out.imag * u.imag).sum()


def _plain_numpy(value: Any) -> np.ndarray:
    """A torch tensor's values in NumPy, its lazy conjugate or negation carried out (bfloat16,
    which NumPy lacks, as float32: exact)."""
    if value.dtype == torch.bfloat16:
        return value.detach().float().numpy()
    return value.detach().resolve_conj().resolve_neg().numpy()


def _ours_like(value: Any) -> Any:
    """A torch tensor as ours, of its dtype (bfloat16 included)."""
    if value.dtype == torch.bfloat16:
        return bp.tensor(value.detach().float().numpy()).bfloat16()
    return bp.tensor(value.detach().numpy())


def _ours_numpy(value: Any) -> np.ndarray:
    """Our tensor's values in NumPy (bfloat16 as float32, exact, as ``_plain_numpy``)."""
    array = value.detach().numpy()
    return array.astype(np.float32) if array.dtype.kind == "V" else array


# ---------------------------------------------------------------------------------------------
# Counts and the report.

def reference_summary(results: dict[str, EntryResult]) -> str:
    """The line about the reference inputs (``results``: ``run_entry(name, reference=True)``)."""
    have = [n for n in results if ENTRIES[n].reference_inputs_func is not None]
    agree = [n for n, r in results.items() if r.samples and not r.failures]
    return (f"  reference inputs: {len(have)} of the entries have their own (the rest run their "
            f"samples), {len(agree)} fully agree; "
            f"{sum(results[n].samples for n in have)} reference samples run, "
            f"{sum(results[n].too_large for n in have)} left out (a tensor over "
            f"{REFERENCE_MAX_NUMEL} elements), "
            f"{sum(sum(results[n].skipped.values()) for n in have)} unsupported; "
            f"{sum(len(r.failures) for r in results.values())} disagree")


def summary(results: dict[str, EntryResult]) -> list[str]:
    """The lines printed at the end of the test session."""
    agree = [n for n, r in results.items() if r.samples and not r.failures]
    nothing_run = [n for n, r in results.items() if not r.samples and not r.failures]
    skipped = sum((r.skipped for r in results.values()), collections.Counter())
    no_cpu = sorted(set(HAVE) - set(OURS))
    lines = [f"PyTorch OpInfo: {len(ENTRIES)} entries, we have {len(HAVE)}, "
             f"{len(agree)} fully agree, "
             f"{len(nothing_run)} with no sample we support ({', '.join(nothing_run)}), "
             f"{len(no_cpu)} CUDA-only ({', '.join(no_cpu)})",
             f"  samples: {sum(r.samples for r in results.values())} run, "
             f"{sum(r.gradients for r in results.values())} of them with gradients; "
             f"{sum(len(r.failures) for r in results.values())} disagree; "
             f"{len(METHODS)} Tensor methods checked beside their functions"
             + (f", {len(METHODS_WE_LACK)} lacking ({', '.join(METHODS_WE_LACK)})"
                if METHODS_WE_LACK else "")]
    lines += [f"  skipped {count}: {reason}" for reason, count in skipped.most_common()]
    return lines


def markdown_report(results: dict[str, EntryResult]) -> str:
    """The per-entry table (written where BACKPROP_OPINFO_REPORT says)."""
    lines = ["# PyTorch OpInfo entries against backprop", ""]
    lines += [f"- {line.strip()}" for line in summary(results)]
    lines += ["", "| entry | samples | with gradients | skipped | result |",
              "|---|---|---|---|---|"]
    for name, r in results.items():
        skipped = "; ".join(f"{c} {reason.split(':')[0]}" for reason, c in r.skipped.items())
        verdict = ("agrees" if not r.failures else
                   f"{len(r.failures)} differ, first: {r.failures[0]}".replace("|", "\\|"))
        lines.append(f"| `{name}` | {r.samples} | {r.gradients} | {skipped} | {verdict} |")
    lacking = [n for n in ENTRIES if n not in HAVE]
    lines += ["", f"## The {len(lacking)} entries we lack", "",
              ", ".join(f"`{n}`" for n in lacking), ""]
    return "\n".join(lines)
