"""What PyTorch's OpInfo reference inputs found (``tests/test_opinfo.py``), as named cases in
float32 and float64 against PyTorch: values and gradients at NaN, and ops called on two Python
numbers. The op table checks the same NaN cases in float64 beside finite differences.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import backprop as bp
import backprop.nn.functional as F

NAN, INF = float("nan"), float("inf")
# NaN and infinities, then ordinary values: 16 elements, whole SIMD vectors in float32 and
# float64, so PyTorch's vectorised loop computes every element (see hardtanh below).
VALUES = [NAN, INF, -INF, 4.0, -3.5, 0.25, -0.75, 1.5, -1.25, 2.5, 0.5, -2.0, 3.0, -0.1, 0.9, 6.5]
OTHER = [1.0, NAN, NAN, 3.0, INF, -0.5, 0.75, 1.5, 0.0, -2.5, 0.5, 1.0, 2.0, -0.2, 1.1, 7.0]


def _unary(name: str, **kwargs: Any) -> Callable[[Any, Any], Any]:
    return lambda lib, x, other: getattr(lib.nn.functional, name)(x, **kwargs)


def _binary(name: str) -> Callable[[Any, Any], Any]:
    return lambda lib, x, other: getattr(lib, name)(x, other)


NAN_CASES = {
    # PyTorch zeroes relu's gradient where out <= 0, so a NaN passes it on.
    "issue-relu-nan": _unary("relu"),
    # hardsigmoid's gradient is g / 6 inside (-3, 3) only: 0 at NaN.
    "issue-hardsigmoid-nan": _unary("hardsigmoid"),
    # Gradient 0 at NaN: PyTorch's vectorised loop (its scalar loop gives g; see VALUES).
    "issue-hardtanh-nan": _unary("hardtanh"),
    "issue-relu6-nan": _unary("relu6"),
    # value only where x <= threshold (a NaN stays NaN, its gradient g); hardshrink alike.
    "issue-threshold-nan": _unary("threshold", threshold=0.25, value=-9.0),
    "issue-hardshrink-nan": lambda lib, x, other: lib.nn.functional.hardshrink(x, 0.5)
    * (x == x),  # its gradient at NaN is also loop-dependent in PyTorch: values only there
    # Where either side is NaN both get the gradient (PyTorch zeroes only the losing side).
    "issue-maximum-nan": _binary("maximum"),
    "issue-minimum-nan": _binary("minimum"),
    "issue-max-binary-nan": _binary("max"),
    "issue-min-binary-nan": _binary("min"),
    # clamp, not relu: a NaN difference gets gradient 0.
    "issue-margin-ranking-nan": lambda lib, x, other: lib.nn.functional.margin_ranking_loss(
        x, other, lib.ones_like(x), reduction="none"),
}

TOLERANCES = {"float32": (1.3e-6, 1e-5), "float64": (1e-10, 1e-12)}
# PyTorch's float64 hardsigmoid backward scales by the float32 constant 1.0f / 6.0f: 3e-8
# relative off the exact g / 6 we compute (tests/opinfo.py's LOOSER_FLOAT64).
LOOSER_FLOAT64 = {"issue-hardsigmoid-nan": (1e-7, 1e-12)}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", NAN_CASES)
def test_nan_values_and_gradients_match_pytorch(torch: Any, case: str, dtype: str) -> None:
    f = NAN_CASES[case]
    upstream = np.random.default_rng(0).standard_normal(len(VALUES))
    x, other = (torch.tensor(v, dtype=getattr(torch, dtype), requires_grad=True)
                for v in (VALUES, OTHER))
    theirs = f(torch, x, other)
    theirs_grads = torch.autograd.grad((theirs * torch.tensor(upstream).to(x.dtype)).sum(),
                                       [x, other], allow_unused=True)
    a, b = (bp.tensor(v, dtype=getattr(bp, dtype), requires_grad=True) for v in (VALUES, OTHER))
    ours = f(bp, a, b)
    ours_grads = bp.autograd.grad((ours * bp.tensor(upstream, dtype=ours.dtype)).sum(), [a, b],
                                  allow_unused=True)
    rtol, atol = LOOSER_FLOAT64.get(case, TOLERANCES[dtype]) if dtype == "float64" else \
        TOLERANCES[dtype]
    assert str(ours.dtype) == dtype
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol, atol)
    for mine, expected in zip(ours_grads, theirs_grads):
        mine = np.zeros(len(VALUES)) if mine is None else mine.numpy()
        expected = np.zeros(len(VALUES)) if expected is None else expected.numpy()
        np.testing.assert_allclose(mine, expected, rtol, atol)


NUMBER_OPS = ["add", "sub", "mul", "div", "true_divide", "floor_divide"]
NUMBER_PAIRS = [(2.5, 4.0), (-7, 2), (3, 0.5), (True, 2)]


@pytest.mark.parametrize("a,b", NUMBER_PAIRS, ids=[f"{a}-{b}" for a, b in NUMBER_PAIRS])
@pytest.mark.parametrize("name", NUMBER_OPS)
def test_issue_two_python_numbers_give_a_tensor(torch: Any, name: str, a: Any, b: Any) -> None:
    """``torch.mul(2.5, 4.0)`` is a 0-d tensor of the default dtype, float32 (int64 for two
    ints), not a Python number; ``bp.mul`` alike."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)  # the fixture sets float64
    try:
        theirs = getattr(torch, name)(a, b)
    except RuntimeError:  # True - 2: PyTorch refuses bool subtraction, and so do we
        with pytest.raises(bp.DTypeError, match=name):
            getattr(bp, name)(a, b)
        return
    finally:
        torch.set_default_dtype(before)
    ours = getattr(bp, name)(a, b)
    assert isinstance(ours, bp.Tensor) and ours.shape == ()
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
