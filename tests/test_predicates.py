"""equal and allclose: whole-tensor predicates that return a Python bool, as in PyTorch."""

from __future__ import annotations

import pytest

import backprop as bp


@pytest.mark.parametrize("a,b,expected", [
    (bp.ones(2), bp.ones(2), True),
    (bp.ones(2), bp.ones(3), False),
    (bp.ones(2), bp.ones(1, 2), False),  # same values, different shape
    (bp.tensor([1.0, 2.0]), bp.tensor([1.0, 2.5]), False),
])
def test_equal_compares_shape_and_values(a: bp.Tensor, b: bp.Tensor, expected: bool) -> None:
    assert bp.equal(a, b) is expected
    assert a.equal(b) is expected


@pytest.mark.parametrize("b,kwargs,expected", [
    ([1.0, 2.0 + 1e-9], {}, True),
    ([1.0, 2.1], {}, False),
    ([1.0, 2.1], {"atol": 0.2}, True),
    ([1.0, float("nan")], {}, False),
])
def test_allclose(b: list[float], kwargs: dict, expected: bool) -> None:
    a = bp.tensor([1.0, float("nan") if b[1] != b[1] else 2.0])
    assert bp.allclose(a, bp.tensor(b), **kwargs) is expected
    assert bp.allclose(bp.tensor([float("nan")]), bp.tensor([float("nan")]), equal_nan=True)
