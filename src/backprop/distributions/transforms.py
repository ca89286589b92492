"""Transforms and ``TransformedDistribution`` (the pieces ``LogNormal`` is made of)."""

from __future__ import annotations

from typing import Any, Sequence

from ..ops import elementwise as ew
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution


class Transform:
    """An invertible map ``y = T(x)`` with ``log |dy/dx|``."""

    domain: constraints.Constraint = constraints.real
    codomain: constraints.Constraint = constraints.real

    def __call__(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def _inverse(self, y: Tensor) -> Tensor:
        raise NotImplementedError

    @property
    def inv(self) -> Transform:
        return _InverseTransform(self)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__ + "()"


class _InverseTransform(Transform):
    def __init__(self, transform: Transform) -> None:
        self._inv = transform
        self.domain, self.codomain = transform.codomain, transform.domain

    def __call__(self, x: Tensor) -> Tensor:
        return self._inv._inverse(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return self._inv(y)

    @property
    def inv(self) -> Transform:
        return self._inv

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -self._inv.log_abs_det_jacobian(y, x)


class ExpTransform(Transform):
    """``y = exp(x)``.

    >>> import backprop as bp
    >>> ExpTransform()(bp.tensor(0.0)).item()
    1.0
    """

    codomain = constraints.positive

    def __call__(self, x: Tensor) -> Tensor:
        return ew.exp(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return ew.log(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x


class TransformedDistribution(Distribution):
    """``base_distribution`` pushed through ``transforms`` (applied in order), elementwise
    transforms only.

    >>> import backprop as bp
    >>> from backprop.distributions import Normal
    >>> d = TransformedDistribution(Normal(0.0, 1.0), [ExpTransform()])
    >>> round(d.log_prob(bp.tensor(1.0)).item(), 4)
    -0.9189
    """

    arg_constraints: dict = {}

    def __init__(self, base_distribution: Distribution, transforms: Transform | Sequence[Transform],
                 validate_args: bool | None = None) -> None:
        self.base_dist = base_distribution
        self.transforms = [transforms] if isinstance(transforms, Transform) else list(transforms)
        super().__init__(base_distribution.batch_shape, base_distribution.event_shape,
                         validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> Distribution:
        new = self._get_checked_instance(TransformedDistribution, _instance)
        new.base_dist = self.base_dist.expand(batch_shape)
        new.transforms = self.transforms
        return self._expanded_shapes(new, batch_shape)

    @property
    def has_rsample(self) -> bool:  # type: ignore[override]
        return self.base_dist.has_rsample

    @property
    def support(self) -> constraints.Constraint:  # type: ignore[override]
        return self.transforms[-1].codomain if self.transforms else self.base_dist.support

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        x = self.base_dist.rsample(sample_shape)
        for transform in self.transforms:
            x = transform(x)
        return x

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        x = self.base_dist.sample(sample_shape)
        for transform in self.transforms:
            x = transform(x)
        return x

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_prob = 0.0
        y = value
        for transform in reversed(self.transforms):
            x = transform.inv(y)
            log_prob = log_prob - transform.log_abs_det_jacobian(x, y)
            y = x
        return log_prob + self.base_dist.log_prob(y)

    def cdf(self, value: Tensor) -> Tensor:
        for transform in reversed(self.transforms):
            value = transform.inv(value)
        return self.base_dist.cdf(value)

    def icdf(self, value: Tensor) -> Tensor:
        x = self.base_dist.icdf(value)
        for transform in self.transforms:
            x = transform(x)
        return x
