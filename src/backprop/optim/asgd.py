"""``ASGD``: SGD with a decaying step size and a running (Polyak) average of the iterates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import backend
from ..tensor import Tensor
from .optimizer import (
    Optimizer,
    ParamsT,
    _check_nonnegative,
    _check_unsupported,
    _zeros_like,
)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    r"""Averaged SGD (Polyak & Juditsky, 1992; Bottou, 2012), as PyTorch implements it.

    .. math::

        g_t &\leftarrow -g_t \text{ if maximize}; \quad g_t \leftarrow g_t + \lambda_w\theta_{t-1} \\
        \theta_t &= (1 - \lambda\eta_{t-1})\,\theta_{t-1} - \eta_{t-1} g_t \\
        \bar\theta_t &= \bar\theta_{t-1} + \mu_{t-1}(\theta_t - \bar\theta_{t-1})
            \quad (\bar\theta_t = \theta_t \text{ while } \mu = 1) \\
        \eta_t &= \gamma / (1 + \lambda\gamma t)^\alpha, \quad \mu_t = 1 / \max(1, t - t_0)

    The averaged weights :math:`\bar\theta` are ``state["ax"]``; the parameters themselves follow
    the SGD iterates. State per parameter: ``step``, ``eta`` and ``mu`` (float32 scalars, as in
    PyTorch) and ``ax``.

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: learning rate :math:`\gamma` (default ``1e-2``).
        lambd: decay term :math:`\lambda` (default ``1e-4``).
        alpha: power :math:`\alpha` of the step-size decay (default ``0.75``).
        t0: the step :math:`t_0` at which averaging starts (default ``1e6``).
        weight_decay: L2 penalty :math:`\lambda_w` (default 0).
        foreach, capturable: accepted for PyTorch compatibility and ignored.
        maximize: ascend the objective instead of descending it.
        differentiable: must be False.

    >>> import backprop as bp
    >>> from backprop import optim
    >>> w = bp.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.ASGD([w], lr=0.1, lambd=0.0)
    >>> (w * w).sum().backward(); opt.step()   # the first step is SGD's
    >>> [round(v, 4) for v in w.tolist()]
    [0.8, -1.6]
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_nonnegative("ASGD", lr=lr, weight_decay=weight_decay)
        _check_unsupported("ASGD", differentiable)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s loss if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lambd = float(group["lr"]), float(group["lambd"])
            alpha, t0 = float(group["alpha"]), float(group["t0"])
            hyper = (lambd, float(group["weight_decay"]), group["maximize"])
            for p, state, step in self._stepped(group, lambda p: {
                    "step": 0, "eta": _scalar(lr, p), "mu": _scalar(1.0, p),
                    "ax": _zeros_like(p._data)}):
                eta = float(backend.to_host(state["eta"]._data))
                mu = float(backend.to_host(state["mu"]._data))
                self._chunked(self._update, (p._data, p.grad._data, state["ax"]._data), eta,
                              mu, hyper)
                state["eta"] = _scalar(lr / (1 + lambd * lr * step) ** alpha, p)
                state["mu"] = _scalar(1 / max(1, step - t0), p)
        return loss

    def _update(self, data: np.ndarray, grad: np.ndarray, ax: np.ndarray, eta: float, mu: float,
                hyper: tuple) -> None:
        lambd, weight_decay, maximize = hyper
        grad = self._effective_grad(data, grad, weight_decay, maximize)
        data *= 1 - lambd * eta
        data -= grad * eta
        if mu != 1:
            ax += (data - ax) * mu
        else:
            np.copyto(ax, data)


def _scalar(value: float, param: Tensor) -> Tensor:
    """``value`` as PyTorch keeps ``eta`` and ``mu``: a float32 scalar on the parameter's device."""
    return Tensor._wrap(backend.to_device(np.asarray(value, dtype=np.float32),
                                          backend.device_of(param._data)))
