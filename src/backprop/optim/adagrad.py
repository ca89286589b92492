"""``Adagrad``: per-coordinate learning rates shrinking with the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, _bump_version, _check_nonnegative, _check_unsupported

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), with PyTorch's learning-rate decay.

    For each parameter :math:`\theta` with gradient :math:`g_t`, at step :math:`t = 1, 2, \dots`:

    .. math::

        g_t &\leftarrow -g_t \text{ if maximize}; \quad g_t \leftarrow g_t + \lambda\theta_{t-1} \\
        \tilde\gamma_t &= \gamma / (1 + (t - 1)\,\eta) \\
        s_t &= s_{t-1} + g_t^2, \quad s_0 = \text{initial\_accumulator\_value} \\
        \theta_t &= \theta_{t-1} - \tilde\gamma_t\, \frac{g_t}{\sqrt{s_t} + \epsilon}

    with learning rate :math:`\gamma`, ``lr_decay`` :math:`\eta` and weight decay :math:`\lambda`.
    State per parameter: ``step`` and ``sum`` (:math:`s`), created when the optimizer is built
    (as PyTorch does), so ``state_dict()`` holds them from the start.

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: learning rate :math:`\gamma` (default ``1e-2``).
        lr_decay: learning-rate decay :math:`\eta` (default 0).
        weight_decay: L2 penalty :math:`\lambda` (default 0).
        initial_accumulator_value: starting value of the sum of squares (default 0).
        eps: :math:`\epsilon` added to the denominator (default ``1e-10``).
        foreach, fused: any value gives the same update, backprop's one vectorized
            pass (the fused update); ``foreach=True`` with ``fused=True`` is refused, as
            in PyTorch.
        maximize: ascend the objective instead of descending it.
        differentiable: must be False.

    >>> import backprop as bp
    >>> from backprop import optim
    >>> w = bp.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.Adagrad([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()   # first step: lr * sign(g)
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -1.9]
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check_nonnegative("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                           initial_accumulator_value=initial_accumulator_value, eps=eps)
        _check_unsupported("Adagrad", differentiable, foreach, fused)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = self.state[p]
        state["step"] = 0
        state["sum"] = Tensor._wrap(np.full_like(p._data, float(group["initial_accumulator_value"])))
        return state

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s loss if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            lr_decay = float(group["lr_decay"])
            hyper = (float(group["eps"]), float(group["weight_decay"]), group["maximize"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:  # a group added after construction
                    state = self._init_state(p, group)
                step = state["step"] + 1
                state["step"] = step
                clr = lr / (1 + (step - 1) * lr_decay)
                self._chunked(self._update, (p._data, p.grad._data, state["sum"]._data), clr,
                              hyper)
                _bump_version(p)
        return loss

    def _update(self, data: np.ndarray, grad: np.ndarray, total: np.ndarray, clr: float,
                hyper: tuple) -> None:
        eps, weight_decay, maximize = hyper
        grad = self._effective_grad(data, grad, weight_decay, maximize)
        std = self._scratch.get(data, 0)
        np.multiply(grad, grad, out=std)
        total += std
        np.sqrt(total, out=std)
        std += eps
        update = self._scratch.get(data, 2)
        np.multiply(grad, -clr, out=update)
        update /= std
        data += update
