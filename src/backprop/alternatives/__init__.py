"""``bp.alternatives``: alternatives to backpropagation that plug into the same modules and
optimizers, so they can be put side by side with backprop on one network.

Gradient estimators fill each parameter's ``.grad`` (``estimate_(model, loss_fn, batch)``), so
any ``bp.optim`` optimizer steps on their estimate:

- ``Backprop``: the exact gradient (one forward, one backward pass), the reference;
- ``EvolutionStrategies``: antithetic Gaussian perturbations with fitness shaping, the
  population run in batches and over MPI ranks;
- ``SPSA``: simultaneous-perturbation (Rademacher) central differences with decaying gains.

Learning rules that change the network's backward pass instead:

- ``with_feedback_alignment(model)``: every ``Linear`` sends its input gradient back through a
  fixed random matrix B instead of W^T (Lillicrap et al. 2016);
- ``ForwardForwardNet`` + ``ForwardForward``: layer-local goodness objectives, no backward pass
  through the network (Hinton 2022).

``backprop compare-methods`` trains one network with each of them under equal budgets.

>>> import backprop as bp
>>> model = bp.nn.Sequential(bp.nn.Linear(4, 8), bp.nn.ReLU(), bp.nn.Linear(8, 3))
>>> optimizer = bp.optim.Adam(model.parameters(), lr=0.01)
>>> batch = (bp.randn(16, 4), bp.tensor([0, 1, 2, 0] * 4))
>>> spent = bp.alternatives.SPSA(samples=4).estimate_(model, bp.nn.functional.cross_entropy, batch)
>>> optimizer.step(); spent.forward_evaluations
8
"""

from .base import Backprop, Estimate, GradientEstimator, assign_gradients, flat_parameters
from .evolution import EvolutionStrategies, centered_ranks
from .feedback_alignment import FeedbackAlignmentLinear, with_feedback_alignment
from .forward_forward import ForwardForward, ForwardForwardNet
from .population import population_losses
from .spsa import SPSA, spsa_gain

__all__ = ["SPSA", "Backprop", "Estimate", "EvolutionStrategies", "FeedbackAlignmentLinear",
           "ForwardForward", "ForwardForwardNet", "GradientEstimator", "assign_gradients",
           "centered_ranks", "flat_parameters", "population_losses", "spsa_gain",
           "with_feedback_alignment"]
