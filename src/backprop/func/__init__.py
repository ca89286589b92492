"""``bp.func``: function transforms, as ``torch.func``.

``vmap`` maps a function over a batch dim with a batching rule per op; ``grad``,
``grad_and_value``, ``vjp`` and ``jacrev`` differentiate functions of tensors (and compose with
``vmap``: ``vmap(grad(loss), in_dims=(None, 0, 0))`` gives per-sample gradients);
``functional_call`` runs a module with other parameters, and ``stack_module_state`` stacks the
states of several models for an ensemble under ``vmap``.

>>> import backprop as bp
>>> x = bp.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> bp.func.vmap(bp.func.grad(lambda r: (r ** 2).sum()))(x).tolist()
[[2.0, 4.0], [6.0, 8.0]]
"""

from . import batched_losses  # noqa: F401 - nn.functional's losses reach it under vmap
from .forward_transforms import hessian, jacfwd, jvp
from .grad_transforms import grad, grad_and_value, jacrev, vjp
from .module_state import functional_call, stack_module_state
from .vmap import vmap

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "stack_module_state", "vjp", "vmap"]
