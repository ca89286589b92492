"""Probability distributions with PyTorch's ``torch.distributions`` API: sampling
(``rsample`` reparameterised where PyTorch's is), ``log_prob``, ``entropy``, moments, ``cdf``
and ``icdf`` where defined, and ``kl_divergence``.

>>> import backprop as bp
>>> import backprop.distributions as D
>>> loc = bp.tensor(0.5, requires_grad=True)
>>> D.Normal(loc, 1.0).rsample((4,)).sum().backward()
>>> loc.grad.item()  # d/dloc of (loc + eps * scale) is 1 per sample
4.0
"""

from __future__ import annotations

from . import constraints
from .discrete import Bernoulli, Categorical, OneHotCategorical, Poisson
from .distribution import Distribution
from .gamma import Beta, Dirichlet, Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .elementary import Exponential, Laplace, Uniform
from .multivariate_normal import MultivariateNormal
from .normal import LogNormal, Normal
from .transforms import ExpTransform, Transform, TransformedDistribution

__all__ = ["Bernoulli", "Beta", "Categorical", "Dirichlet", "Distribution", "ExpTransform",
           "Exponential", "Gamma", "Independent", "Laplace", "LogNormal", "MultivariateNormal",
           "Normal", "OneHotCategorical", "Poisson", "Transform", "TransformedDistribution",
           "Uniform", "constraints", "kl_divergence", "register_kl"]
