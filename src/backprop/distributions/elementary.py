"""The elementary continuous families: ``Laplace``, ``Uniform`` and ``Exponential``."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..errors import format_shape
from ..ops import elementwise as ew
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution, LocationScale
from .utils import broadcast_all, standard_draw


class Laplace(LocationScale):
    """The Laplace distribution, density ``exp(-|x - loc| / scale) / (2 scale)``.

    >>> import backprop as bp
    >>> from backprop.distributions import Laplace
    >>> round(Laplace(0.0, 1.0).log_prob(bp.tensor(1.0)).item(), 4)
    -1.6931
    """

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale ** 2

    @property
    def stddev(self) -> Tensor:
        return math.sqrt(2) * self.scale

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        # u in (-1, 1): PyTorch's open lower end keeps log1p(-|u|) finite.
        low = float(np.finfo(self.loc.dtype).eps) - 1
        u = standard_draw(self._extended_shape(sample_shape), self.loc,
                          lambda rng, s: rng.uniform(low, 1.0, s))
        return self.loc - self.scale * ew.sign(u) * ew.log1p(-ew.abs(u))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -ew.log(2 * self.scale) - ew.abs(value - self.loc) / self.scale

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * ew.sign(value - self.loc) * ew.expm1(-ew.abs(value - self.loc)
                                                                / self.scale)

    def icdf(self, value: Tensor) -> Tensor:
        term = value - 0.5
        return self.loc - self.scale * ew.sign(term) * ew.log1p(-2 * ew.abs(term))

    def entropy(self) -> Tensor:
        return 1 + ew.log(2 * self.scale)


class Uniform(Distribution):
    """The uniform distribution on ``[low, high)``.

    >>> import backprop as bp
    >>> from backprop.distributions import Uniform
    >>> round(Uniform(0.0, 4.0).log_prob(bp.tensor(1.0)).item(), 4)
    -1.3863
    """

    arg_constraints = {"low": constraints.dependent(is_discrete=False, event_dim=0),
                       "high": constraints.dependent(is_discrete=False, event_dim=0)}
    has_rsample = True

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, validate_args=validate_args)
        if self._validate_args and not bool((self.low < self.high).all()):
            raise ValueError(f"Uniform: expected parameter low (Tensor of shape "
                             f"{format_shape(self.low.shape)}) to satisfy the constraint "
                             f"LessThan(upper_bound=high), but found invalid values: "
                             f"low={self.low.detach().tolist()}, "
                             f"high={self.high.detach().tolist()}")

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> Uniform:
        return self._expanded(Uniform, batch_shape, ("low", "high"), _instance)

    @property
    def support(self) -> constraints.Constraint:  # type: ignore[override]
        return constraints.half_open_interval(self.low, self.high)

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def mode(self) -> Tensor:
        return self.high * float("nan")

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        u = standard_draw(self._extended_shape(sample_shape), self.low,
                          lambda rng, s: rng.random(s))
        return self.low + u * (self.high - self.low)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        inside = ((self.low <= value) & (self.high > value)).to(self.low.dtype)
        return ew.log(inside) - ew.log(self.high - self.low)

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value: Tensor) -> Tensor:
        return value * (self.high - self.low) + self.low

    def entropy(self) -> Tensor:
        return ew.log(self.high - self.low)


class Exponential(Distribution):
    """The exponential distribution of rate ``rate`` (density ``rate exp(-rate x)``).

    >>> import backprop as bp
    >>> from backprop.distributions import Exponential
    >>> Exponential(2.0).mean.item()
    0.5
    """

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> Exponential:
        return self._expanded(Exponential, batch_shape, ("rate",), _instance)

    @property
    def mean(self) -> Tensor:
        return 1 / self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate * 0

    @property
    def stddev(self) -> Tensor:
        return 1 / self.rate

    @property
    def variance(self) -> Tensor:
        return self.rate ** -2

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        e = standard_draw(self._extended_shape(sample_shape), self.rate,
                          lambda rng, s: rng.standard_exponential(s))
        return e / self.rate

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return ew.log(self.rate) - self.rate * value

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 1 - ew.exp(-self.rate * value)

    def icdf(self, value: Tensor) -> Tensor:
        return -ew.log1p(-value) / self.rate

    def entropy(self) -> Tensor:
        return 1.0 - ew.log(self.rate)
