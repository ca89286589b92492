"""``Adamax``: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .adam import _check_betas
from ..tensor import Tensor
from .optimizer import (
    Optimizer,
    ParamsT,
    _check_nonnegative,
    _check_unsupported,
    _zeros_like,
)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2015, section 7): Adam's update scaled by a decaying maximum of
    :math:`|g|`.

    .. math::

        g_t &\leftarrow -g_t \text{ if maximize}; \quad g_t \leftarrow g_t + \lambda\theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        u_t &= \max(\beta_2 u_{t-1}, |g_t| + \epsilon) \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}\, \frac{m_t}{u_t}

    State per parameter: ``step``, ``exp_avg`` (:math:`m`) and ``exp_inf`` (:math:`u`).

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: learning rate :math:`\gamma` (default ``2e-3``).
        betas: :math:`(\beta_1, \beta_2)`, each in ``[0, 1)`` (default ``(0.9, 0.999)``).
        eps: :math:`\epsilon` added to :math:`|g|` (default ``1e-8``).
        weight_decay: L2 penalty :math:`\lambda` (default 0).
        foreach, capturable: accepted for PyTorch compatibility and ignored.
        maximize: ascend the objective instead of descending it.
        differentiable: must be False.

    >>> import backprop as bp
    >>> from backprop import optim
    >>> w = bp.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.Adamax([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()   # the first step moves each weight by ~lr
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -1.9]
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_nonnegative("Adamax", lr=lr, eps=eps, weight_decay=weight_decay)
        _check_betas("Adamax", betas)
        _check_unsupported("Adamax", differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s loss if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            beta1, beta2 = (float(b) for b in group["betas"])
            hyper = (beta1, beta2, float(group["eps"]), float(group["weight_decay"]),
                     group["maximize"])
            for p, state, step in self._stepped(group, _init_state):
                clr = float(group["lr"]) / (1 - beta1 ** step)
                self._chunked(self._update, (p._data, p.grad._data, state["exp_avg"]._data,
                                             state["exp_inf"]._data), clr, hyper)
        return loss

    def _update(self, data: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                exp_inf: np.ndarray, clr: float, hyper: tuple) -> None:
        beta1, beta2, eps, weight_decay, maximize = hyper
        grad = self._effective_grad(data, grad, weight_decay, maximize)
        self._lerp_(exp_avg, grad, 1 - beta1)
        exp_inf *= beta2
        np.maximum(exp_inf, np.abs(grad) + eps, out=exp_inf)
        data += exp_avg / exp_inf * -clr


def _init_state(p: Tensor) -> dict[str, Any]:
    return {"step": 0, "exp_avg": _zeros_like(p._data), "exp_inf": _zeros_like(p._data)}
