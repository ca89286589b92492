"""``Normal`` and ``LogNormal``."""

from __future__ import annotations

import math
from typing import Any, Sequence

from ..ops import elementwise as ew
from ..ops.special import erf
from ..tensor import Tensor
from . import constraints
from .distribution import LocationScale
from .transforms import ExpTransform, TransformedDistribution
from .utils import standard_draw
from ._special import ndtri

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class Normal(LocationScale):
    """The normal distribution ``N(loc, scale^2)``.

    >>> import backprop as bp
    >>> from backprop.distributions import Normal
    >>> round(Normal(0.0, 1.0).log_prob(bp.tensor(0.0)).item(), 4)
    -0.9189
    """

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale ** 2

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = standard_draw(shape, self.loc, lambda rng, s: rng.standard_normal(s))
        return self.loc + eps * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -((value - self.loc) ** 2) / (2 * self.scale ** 2) - ew.log(self.scale) \
            - _HALF_LOG_2PI

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def icdf(self, value: Tensor) -> Tensor:
        return self.loc + self.scale * ndtri(value)

    def entropy(self) -> Tensor:
        return 0.5 + _HALF_LOG_2PI + ew.log(self.scale)


class LogNormal(TransformedDistribution):
    """``exp(X)`` for ``X ~ Normal(loc, scale)``.

    >>> import backprop as bp
    >>> from backprop.distributions import LogNormal
    >>> round(LogNormal(0.0, 1.0).mean.item(), 4)
    1.6487
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        base = Normal(loc, scale, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> LogNormal:
        new = self._get_checked_instance(LogNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def loc(self) -> Tensor:
        return self.base_dist.loc

    @property
    def scale(self) -> Tensor:
        return self.base_dist.scale

    @property
    def mean(self) -> Tensor:
        return ew.exp(self.loc + self.scale ** 2 / 2)

    @property
    def mode(self) -> Tensor:
        return ew.exp(self.loc - self.scale ** 2)

    @property
    def variance(self) -> Tensor:
        scale_sq = self.scale ** 2
        return ew.expm1(scale_sq) * ew.exp(2 * self.loc + scale_sq)

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() + self.loc
