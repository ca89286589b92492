"""Evolution strategies (Salimans et al. 2017, "Evolution Strategies as a Scalable Alternative
to Reinforcement Learning"): a gradient estimate from the loss alone, no backward pass.

Each step draws ``population // 2`` Gaussian directions eps_j and evaluates the loss at the
antithetic pairs theta + sigma eps_j and theta - sigma eps_j. Without fitness shaping the estimate
is the averaged central difference

    g = 1 / (2 sigma n) * sum_j (F(theta + sigma eps_j) - F(theta - sigma eps_j)) eps_j,

an unbiased estimate of the gradient of the Gaussian-smoothed loss (of the loss itself on a
quadratic, where the central difference is exact). Its error on a quadratic with gradient g is
E||g_hat - g||^2 = (d + 1) ||g||^2 / n for d parameters and n pairs: about d / n times ||g||^2,
which is why ES needs many more evaluations than backprop as the network grows.

With ``fitness_shaping=True`` (the default, as in the paper) the 2n losses are replaced by their
centred ranks in [-0.5, 0.5] before the sum, which makes the step immune to the scale and
outliers of the loss; the estimate then points along the gradient but is not in the loss's
units, so pair it with a scale-free optimizer (Adam). The population runs in batches (see
``population_losses``) and, when ``bp.distributed`` is initialised with several ranks, each rank
evaluates every world_size-th pair: all ranks draw the same directions from a shared seed, so
only the 2n losses are summed across ranks (one ``all_reduce``), never the parameters.

>>> import backprop as bp
>>> model = bp.nn.Linear(3, 1)
>>> batch = (bp.randn(8, 3), bp.randn(8, 1))
>>> es = EvolutionStrategies(population=20, sigma=0.05, seed=0)
>>> estimate = es.estimate_(model, bp.nn.functional.mse_loss, batch)
>>> estimate.forward_evaluations, estimate.backward_evaluations, model.weight.grad.shape
(20, 0, (1, 3))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .base import Estimate, GradientEstimator, LossFn, assign_gradients, flat_parameters
from .population import population_losses

__all__ = ["EvolutionStrategies", "centered_ranks"]


def centered_ranks(values: np.ndarray) -> np.ndarray:
    """The ranks of ``values`` scaled to [-0.5, 0.5] (smallest -> -0.5), same shape.

    >>> centered_ranks(np.array([3.0, -1.0, 10.0])).tolist()
    [0.0, -0.5, 0.5]
    """
    flat = values.ravel()
    ranks = np.empty(len(flat))
    ranks[np.argsort(flat, kind="stable")] = np.arange(len(flat))
    if len(flat) > 1:
        ranks = ranks / (len(flat) - 1) - 0.5
    else:
        ranks[:] = 0.0
    return ranks.reshape(values.shape)


class EvolutionStrategies(GradientEstimator):
    """Antithetic Gaussian evolution strategies; see the module docstring.

    ``population`` is the number of loss evaluations per step (even: ``population // 2``
    antithetic pairs), ``sigma`` the perturbation size, ``chunk`` how many members run in one
    batched call, ``seed`` the directions' seed (the same on every MPI rank).
    """

    def __init__(self, population: int = 50, sigma: float = 0.02, fitness_shaping: bool = True,
                 seed: int = 0, chunk: int = 64) -> None:
        if population < 2 or population % 2:
            raise ValueError(f"EvolutionStrategies: population must be an even number >= 2 "
                             f"(antithetic pairs); got {population}")
        if not sigma > 0:
            raise ValueError(f"EvolutionStrategies: sigma must be positive; got {sigma}")
        self.population = population
        self.sigma = float(sigma)
        self.fitness_shaping = fitness_shaping
        self.seed = seed
        self.chunk = chunk
        self.step = 0  # advances the shared seed, so every step draws new directions

    def estimate_(self, model: Any, loss_fn: LossFn, batch: tuple[Tensor, Tensor]) -> Estimate:
        """Fill ``.grad`` with the ES estimate; ``loss`` is the mean loss of the population
        (the pairs bracket theta, so no extra evaluation is spent on theta itself)."""
        theta = flat_parameters(model)
        pairs = self.population // 2
        rng = np.random.default_rng([self.seed, self.step])
        self.step += 1
        directions = rng.standard_normal((pairs, theta.size))
        rank, world = _rank_and_world()
        mine = np.arange(rank, pairs, world)
        losses = np.zeros((pairs, 2))
        if len(mine):
            points = np.concatenate([theta + self.sigma * directions[mine],
                                     theta - self.sigma * directions[mine]])
            values = population_losses(model, loss_fn, batch, points, self.chunk)
            losses[mine, 0], losses[mine, 1] = values[:len(mine)], values[len(mine):]
        if world > 1:
            losses = _sum_over_ranks(losses)
        fitness = centered_ranks(losses) if self.fitness_shaping else losses
        gradient = (fitness[:, 0] - fitness[:, 1]) @ directions / (2 * self.sigma * pairs)
        assign_gradients(model, gradient)
        return Estimate(float(losses.mean()), self.population, 0)


def _rank_and_world() -> tuple[int, int]:
    from .. import distributed

    if distributed.is_initialized():
        return distributed.get_rank(), distributed.get_world_size()
    return 0, 1


def _sum_over_ranks(losses: np.ndarray) -> np.ndarray:
    from .. import distributed

    total = Tensor._wrap(losses.copy())
    distributed.all_reduce(total)
    return np.asarray(total.numpy(), dtype=np.float64)
