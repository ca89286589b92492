"""Constraints: the sets a distribution's parameters and samples live in (``torch.distributions
.constraints``). ``check(value)`` gives a boolean tensor, one entry per event.

>>> import backprop as bp
>>> positive.check(bp.tensor([1.0, -1.0])).tolist()
[True, False]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend
from ..tensor import Tensor


def _tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._wrap(np.asarray(value))


class Constraint:
    """A set of values; ``event_dim`` dims on the right make up one event."""

    is_discrete = False
    event_dim = 0

    def check(self, value: Any) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__.lstrip("_") + "()"


class _Dependent(Constraint):
    """A constraint that depends on other parameters (Uniform's bounds): not checked alone."""

    def __init__(self, *, is_discrete: bool = False, event_dim: int = 0) -> None:
        self.is_discrete, self.event_dim = is_discrete, event_dim

    def __call__(self, *, is_discrete: bool = False, event_dim: int = 0) -> _Dependent:
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, value: Any) -> Tensor:
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint: Any) -> bool:
    return isinstance(constraint, _Dependent)


class _Real(Constraint):
    def check(self, value: Any) -> Tensor:
        value = _tensor(value)
        return value == value  # False at NaN only


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value: Any) -> Tensor:
        value = _tensor(value)
        return (value == 0) | (value == 1)


class _IntegerInterval(Constraint):
    is_discrete = True

    def __init__(self, lower_bound: int, upper_bound: int) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value: Any) -> Tensor:
        value = _tensor(value)
        return ((value % 1) == 0) & (value >= self.lower_bound) & (value <= self.upper_bound)

    def __repr__(self) -> str:
        return (f"IntegerInterval(lower_bound={self.lower_bound}, "
                f"upper_bound={self.upper_bound})")


class _IntegerGreaterThan(Constraint):
    is_discrete = True

    def __init__(self, lower_bound: int) -> None:
        self.lower_bound = lower_bound

    def check(self, value: Any) -> Tensor:
        value = _tensor(value)
        return ((value % 1) == 0) & (value >= self.lower_bound)

    def __repr__(self) -> str:
        return f"IntegerGreaterThan(lower_bound={self.lower_bound})"


class _GreaterThan(Constraint):
    def __init__(self, lower_bound: Any, *, strict: bool = True) -> None:
        self.lower_bound, self.strict = lower_bound, strict

    def check(self, value: Any) -> Tensor:
        value = _tensor(value)
        return value > self.lower_bound if self.strict else value >= self.lower_bound

    def __repr__(self) -> str:
        name = "GreaterThan" if self.strict else "GreaterThanEq"
        return f"{name}(lower_bound={self.lower_bound})"


class _LessThan(Constraint):
    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def check(self, value: Any) -> Tensor:
        return _tensor(value) < self.upper_bound

    def __repr__(self) -> str:
        return f"LessThan(upper_bound={self.upper_bound})"


class _Interval(Constraint):
    def __init__(self, lower_bound: Any, upper_bound: Any, *, half_open: bool = False) -> None:
        self.lower_bound, self.upper_bound, self.half_open = lower_bound, upper_bound, half_open

    def check(self, value: Any) -> Tensor:
        value = _tensor(value)
        upper = value < self.upper_bound if self.half_open else value <= self.upper_bound
        return (value >= self.lower_bound) & upper

    def __repr__(self) -> str:
        name = "HalfOpenInterval" if self.half_open else "Interval"
        return f"{name}(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _Simplex(Constraint):
    event_dim = 1

    def check(self, value: Any) -> Tensor:
        value = _tensor(value)
        return (value >= 0).all(dim=-1) & ((value.sum(-1) - 1).abs() < 1e-6)


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def check(self, value: Any) -> Tensor:
        value = _tensor(value)
        return ((value == 0) | (value == 1)).all(dim=-1) & (value.sum(-1) == 1)


class _IndependentConstraint(Constraint):
    """``base`` with ``reinterpreted_batch_ndims`` more dims read as one event."""

    def __init__(self, base: Constraint, reinterpreted_batch_ndims: int) -> None:
        self.base_constraint, self.reinterpreted_batch_ndims = base, reinterpreted_batch_ndims
        self.is_discrete = base.is_discrete
        self.event_dim = base.event_dim + reinterpreted_batch_ndims

    def check(self, value: Any) -> Tensor:
        result = self.base_constraint.check(value)
        for _ in range(self.reinterpreted_batch_ndims):
            result = result.all(dim=-1)
        return result

    def __repr__(self) -> str:
        return (f"IndependentConstraint({self.base_constraint!r}, "
                f"{self.reinterpreted_batch_ndims})")


class _LowerCholesky(Constraint):
    event_dim = 2

    def check(self, value: Any) -> Tensor:
        value = _tensor(value)
        lower = (value.tril() == value).all(dim=-1).all(dim=-1)
        eye = backend.on_device_of(np.eye(value.shape[-1], dtype=value.dtype), value._data)
        diagonal = value * Tensor._wrap(eye)
        positive = ((diagonal.sum(-1) > 0)).all(dim=-1)
        return lower & positive


class _PositiveDefinite(Constraint):
    event_dim = 2

    def check(self, value: Any) -> Tensor:
        value = _tensor(value)
        data = np.asarray(value.detach().cpu().numpy())
        symmetric = np.isclose(data, np.swapaxes(data, -1, -2), atol=1e-6).all(axis=(-2, -1))
        with np.errstate(all="ignore"):
            smallest = np.linalg.eigvalsh(np.where(np.isfinite(data), data, 0.0))[..., 0]
        return Tensor._wrap(np.asarray(symmetric & (smallest > 0)))


dependent = _Dependent()
boolean = _Boolean()
real = _Real()
real_vector = _IndependentConstraint(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThan(0.0, strict=False)
unit_interval = _Interval(0.0, 1.0)
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
simplex = _Simplex()
one_hot = _OneHot()
lower_cholesky = _LowerCholesky()
positive_definite = _PositiveDefinite()
integer_interval = _IntegerInterval
greater_than = _GreaterThan
less_than = _LessThan
interval = _Interval
independent = _IndependentConstraint


def half_open_interval(lower_bound: Any, upper_bound: Any) -> Constraint:
    return _Interval(lower_bound, upper_bound, half_open=True)


__all__ = ["Constraint", "dependent", "is_dependent", "boolean", "real", "real_vector",
           "positive", "nonnegative", "unit_interval", "nonnegative_integer", "positive_integer",
           "simplex", "one_hot", "lower_cholesky", "positive_definite", "integer_interval",
           "greater_than", "less_than", "interval", "half_open_interval", "independent"]
