"""``Adadelta``: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import (
    Optimizer,
    ParamsT,
    _check_nonnegative,
    _check_unsupported,
    _zeros_like,
)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), with PyTorch's learning rate and weight decay.

    For each parameter :math:`\theta` with gradient :math:`g_t`:

    .. math::

        g_t &\leftarrow -g_t \text{ if maximize}; \quad g_t \leftarrow g_t + \lambda\theta_{t-1} \\
        v_t &= \rho v_{t-1} + (1 - \rho) g_t^2 \\
        \Delta x_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t \\
        u_t &= \rho u_{t-1} + (1 - \rho) \Delta x_t^2 \\
        \theta_t &= \theta_{t-1} - \gamma \Delta x_t

    State per parameter: ``step``, ``square_avg`` (:math:`v`) and ``acc_delta`` (:math:`u`).

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: learning rate :math:`\gamma` scaling the update (default ``1.0``).
        rho: decay :math:`\rho` of both running averages, in ``[0, 1]`` (default ``0.9``).
        eps: :math:`\epsilon` inside both square roots (default ``1e-6``).
        weight_decay: L2 penalty :math:`\lambda` (default 0).
        foreach, capturable: accepted for PyTorch compatibility and ignored.
        maximize: ascend the objective instead of descending it.
        differentiable: must be False.

    >>> import backprop as bp
    >>> from backprop import optim
    >>> w = bp.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.Adadelta([w], lr=1.0)
    >>> (w * w).sum().backward(); opt.step()   # the first step is about sqrt(eps / 0.1) * sign(g)
    >>> [round(v, 4) for v in w.tolist()]
    [0.9968, -1.9968]
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_nonnegative("Adadelta", lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        if rho > 1.0:
            raise ValueError(f"Adadelta: invalid rho value rho={rho}; it must be in [0, 1]")
        _check_unsupported("Adadelta", differentiable)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s loss if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            hyper = (float(group["lr"]), float(group["rho"]), float(group["eps"]),
                     float(group["weight_decay"]), group["maximize"])
            for p, state, _ in self._stepped(group, _init_state):
                self._chunked(self._update, (p._data, p.grad._data, state["square_avg"]._data,
                                             state["acc_delta"]._data), hyper)
        return loss

    def _update(self, data: np.ndarray, grad: np.ndarray, square_avg: np.ndarray,
                acc_delta: np.ndarray, hyper: tuple) -> None:
        lr, rho, eps, weight_decay, maximize = hyper
        grad = self._effective_grad(data, grad, weight_decay, maximize)
        square_avg *= rho
        square_avg += grad * grad * (1 - rho)
        delta = np.sqrt(acc_delta + eps)
        delta /= np.sqrt(square_avg + eps)
        delta *= grad
        acc_delta *= rho
        acc_delta += delta * delta * (1 - rho)
        delta *= -lr
        data += delta


def _init_state(p: Tensor) -> dict[str, Any]:
    return {"step": 0, "square_avg": _zeros_like(p._data), "acc_delta": _zeros_like(p._data)}
