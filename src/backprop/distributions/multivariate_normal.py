"""``MultivariateNormal``, parameterised by a covariance, a precision or a lower Cholesky
factor; every computation goes through the factor ``scale_tril``."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .. import backend
from ..ops import elementwise as ew
from ..ops.linalg import matmul
from ..tensor import Tensor
from . import constraints
from ._linalg import cholesky, solve_triangular
from .distribution import Distribution
from .utils import lazy_property, standard_draw


def _eye(n: int, like: Tensor) -> Tensor:
    return Tensor._wrap(backend.on_device_of(np.eye(n, dtype=like.dtype), like._data))


def _diagonal(matrix: Tensor) -> Tensor:
    return (matrix * _eye(matrix.shape[-1], matrix)).sum(-1)


def _mT(x: Tensor) -> Tensor:
    return x.transpose(-1, -2)


class MultivariateNormal(Distribution):
    """The normal distribution over vectors with mean ``loc`` and a covariance given as one of
    ``covariance_matrix``, ``precision_matrix`` or ``scale_tril`` (``L`` with ``L L^T`` the
    covariance).

    >>> import backprop as bp
    >>> from backprop.distributions import MultivariateNormal
    >>> d = MultivariateNormal(bp.zeros(2), covariance_matrix=bp.eye(2))
    >>> d.event_shape, round(d.log_prob(bp.zeros(2)).item(), 4)
    ((2,), -1.8379)
    """

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Tensor, covariance_matrix: Tensor | None = None,
                 precision_matrix: Tensor | None = None, scale_tril: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        if not isinstance(loc, Tensor) or loc.ndim < 1:
            raise ValueError("MultivariateNormal: loc must be at least one-dimensional.")
        given = [(name, m) for name, m in (("covariance_matrix", covariance_matrix),
                                           ("precision_matrix", precision_matrix),
                                           ("scale_tril", scale_tril)) if m is not None]
        if len(given) != 1:
            raise ValueError("MultivariateNormal: exactly one of covariance_matrix or "
                             "precision_matrix or scale_tril may be specified.")
        name, matrix = given[0]
        if matrix.ndim < 2:
            raise ValueError(f"MultivariateNormal: {name} must be at least two-dimensional, "
                             "with optional leading batch dimensions")
        if matrix.shape[-1] != loc.shape[-1] or matrix.shape[-2] != loc.shape[-1]:
            raise ValueError(f"MultivariateNormal: {name} of shape {matrix.shape} does not "
                             f"match loc of shape {loc.shape} (event size {loc.shape[-1]})")
        batch_shape = tuple(np.broadcast_shapes(matrix.shape[:-2], loc.shape[:-1]))
        n = loc.shape[-1]
        setattr(self, name, matrix.expand(batch_shape + (n, n)))
        self.loc = loc.expand(batch_shape + (n,))
        super().__init__(batch_shape, (n,), validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:  # Sigma = P^-1 = L_P^-T L_P^-1 with P = L_P L_P^T
            inverse = solve_triangular(cholesky(precision_matrix),
                                       _eye(n, precision_matrix), upper=False)
            self._unbroadcasted_scale_tril = cholesky(matmul(_mT(inverse), inverse))

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> MultivariateNormal:
        new = self._expanded(MultivariateNormal, batch_shape,
                             ("loc", "covariance_matrix", "precision_matrix", "scale_tril"),
                             _instance)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        return new

    @lazy_property
    def scale_tril(self) -> Tensor:
        n = self.event_shape[0]
        return self._unbroadcasted_scale_tril.expand(self.batch_shape + (n, n))

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return matmul(L, _mT(L)).expand(self.batch_shape + self.event_shape * 2)

    @lazy_property
    def precision_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        inverse = solve_triangular(L, _eye(L.shape[-1], L), upper=False)
        return matmul(_mT(inverse), inverse).expand(self.batch_shape + self.event_shape * 2)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return (self._unbroadcasted_scale_tril ** 2).sum(-1).expand(
            self.batch_shape + self.event_shape)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        eps = standard_draw(self._extended_shape(sample_shape), self.loc,
                            lambda rng, s: rng.standard_normal(s))
        return self.loc + matmul(self._unbroadcasted_scale_tril, eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self) -> Tensor:
        return ew.log(_diagonal(self._unbroadcasted_scale_tril)).sum(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        diff = (value - self.loc).unsqueeze(-1)
        M = (solve_triangular(self._unbroadcasted_scale_tril, diff, upper=False) ** 2).sum(
            (-2, -1))
        n = self.event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + M) - self._half_log_det()

    def entropy(self) -> Tensor:
        n = self.event_shape[0]
        H = 0.5 * n * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return H.expand(self.batch_shape) if H.shape != self.batch_shape else H
