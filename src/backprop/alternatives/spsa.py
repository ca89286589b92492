"""Simultaneous-perturbation stochastic approximation (Spall 1992): a gradient estimate from two
loss evaluations per sample, whatever the number of parameters.

Each sample draws a Rademacher direction Delta (every entry +1 or -1) and evaluates the loss at
theta + c_k Delta and theta - c_k Delta; component i of the estimate is

    g_i = (F(theta + c_k Delta) - F(theta - c_k Delta)) / (2 c_k Delta_i),

averaged over ``samples`` directions. The perturbation size decays as c_k = c / (k + 1)^gamma
(gamma = 0.101, Spall's practical value) so the finite difference sharpens as training settles.
On a quadratic with gradient g the central difference is exact and, since Delta_i^2 = 1, the
error is E||g_hat - g||^2 = (d - 1) ||g||^2 / n for d parameters and n samples.

The step size a_k = a / (k + 1 + A)^alpha is the optimizer's business: ``spsa_gain(A, alpha)``
is the factor for ``bp.optim.lr_scheduler.LambdaLR``, with the optimizer's ``lr`` as a / (1 + A)^alpha.

>>> import backprop as bp
>>> model = bp.nn.Linear(3, 1)
>>> batch = (bp.randn(8, 3), bp.randn(8, 1))
>>> spsa = SPSA(samples=2, c=0.01, seed=0)
>>> spsa.estimate_(model, bp.nn.functional.mse_loss, batch).forward_evaluations
4
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .base import Estimate, GradientEstimator, LossFn, assign_gradients, flat_parameters
from .population import population_losses

__all__ = ["SPSA", "spsa_gain"]


def spsa_gain(A: float = 0.0, alpha: float = 0.602) -> Callable[[int], float]:
    """Spall's step-size decay as a ``LambdaLR`` factor: ((1 + A) / (k + 1 + A)) ** alpha
    (1 at step 0; alpha = 0.602 and A about a tenth of the steps are Spall's advice).

    >>> round(spsa_gain(A=9.0)(10), 4)
    0.6588
    """
    if A < 0 or not 0 < alpha <= 1:
        raise ValueError(f"spsa_gain: need A >= 0 and 0 < alpha <= 1; got A={A}, alpha={alpha}")
    return lambda k: ((1.0 + A) / (k + 1.0 + A)) ** alpha


class SPSA(GradientEstimator):
    """SPSA gradient estimates; see the module docstring. ``samples`` directions per step
    (2 * samples loss evaluations), perturbation c_k = c / (k + 1) ** gamma."""

    def __init__(self, samples: int = 1, c: float = 0.01, gamma: float = 0.101, seed: int = 0,
                 chunk: int = 64) -> None:
        if samples < 1:
            raise ValueError(f"SPSA: samples must be at least 1; got {samples}")
        if not c > 0 or gamma < 0:
            raise ValueError(f"SPSA: need c > 0 and gamma >= 0; got c={c}, gamma={gamma}")
        self.samples = samples
        self.c = float(c)
        self.gamma = float(gamma)
        self.seed = seed
        self.chunk = chunk
        self.step = 0

    def estimate_(self, model: Any, loss_fn: LossFn, batch: tuple[Tensor, Tensor]) -> Estimate:
        """Fill ``.grad`` with the SPSA estimate; ``loss`` is the mean of the 2n losses."""
        theta = flat_parameters(model)
        c_k = self.c / (self.step + 1) ** self.gamma
        rng = np.random.default_rng([self.seed, self.step])
        self.step += 1
        delta = rng.integers(0, 2, size=(self.samples, theta.size)) * 2.0 - 1.0
        points = np.concatenate([theta + c_k * delta, theta - c_k * delta])
        losses = population_losses(model, loss_fn, batch, points, self.chunk)
        differences = losses[:self.samples] - losses[self.samples:]
        # 1 / Delta_i equals Delta_i for entries of +-1, so the division is a product
        gradient = differences @ delta / (2 * c_k * self.samples)
        assign_gradients(model, gradient)
        return Estimate(float(losses.mean()), 2 * self.samples, 0)
