"""``NAdam`` and ``RAdam``: Adam with Nesterov momentum, and Adam with a rectified variance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import backend
from ..tensor import Tensor
from .adam import _check_betas
from .optimizer import (
    Optimizer,
    ParamsT,
    _check_nonnegative,
    _check_unsupported,
    _zeros_like,
)

__all__ = ["NAdam", "RAdam"]


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016): Adam with Nesterov momentum and PyTorch's momentum-decay schedule.

    .. math::

        g_t &\leftarrow -g_t \text{ if maximize}; \quad
            \theta_{t-1} \leftarrow (1 - \gamma\lambda)\theta_{t-1} \text{ if decoupled, else }
            g_t \leftarrow g_t + \lambda\theta_{t-1} \\
        \mu_t &= \beta_1 (1 - \tfrac12\, 0.96^{t\psi}), \quad
            \Pi_t = \textstyle\prod_{i \le t} \mu_i \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
            v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \theta_t &= \theta_{t-1} - \gamma \Big(\frac{1 - \mu_t}{1 - \Pi_t} g_t
            + \frac{\mu_{t+1}}{1 - \Pi_t\mu_{t+1}} m_t\Big)
            \Big/ \Big(\sqrt{v_t / (1 - \beta_2^t)} + \epsilon\Big)

    State per parameter: ``step``, ``mu_product`` (:math:`\Pi`, a float32 scalar as in PyTorch),
    ``exp_avg`` (:math:`m`) and ``exp_avg_sq`` (:math:`v`).

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: learning rate :math:`\gamma` (default ``2e-3``).
        betas: :math:`(\beta_1, \beta_2)`, each in ``[0, 1)`` (default ``(0.9, 0.999)``).
        eps: :math:`\epsilon` added to the denominator (default ``1e-8``).
        weight_decay: :math:`\lambda` (default 0), an L2 term or, with
            ``decoupled_weight_decay=True``, a shrink of the weights (NAdamW).
        momentum_decay: :math:`\psi` (default ``4e-3``).
        foreach, capturable: accepted for PyTorch compatibility and ignored.
        maximize: ascend the objective instead of descending it.
        differentiable: must be False.

    >>> import backprop as bp
    >>> from backprop import optim
    >>> w = bp.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.NAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()   # gradient and look-ahead momentum, ~1.06 * lr
    >>> [round(v, 4) for v in w.tolist()]
    [0.8944, -1.8944]
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_nonnegative("NAdam", lr=lr, eps=eps, weight_decay=weight_decay,
                           momentum_decay=momentum_decay)
        _check_betas("NAdam", betas)
        _check_unsupported("NAdam", differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s loss if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            beta1, beta2 = (float(b) for b in group["betas"])
            psi = float(group["momentum_decay"])
            hyper = (lr, beta2, float(group["eps"]), float(group["weight_decay"]),
                     group["decoupled_weight_decay"], group["maximize"])
            for p, state, step in self._stepped(group, _init_nadam_state):
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
                # Updated with the rounding of its own dtype, as PyTorch does.
                product = state["mu_product"]._data
                product = product * product.dtype.type(mu)
                state["mu_product"] = Tensor._wrap(product)
                product = float(backend.to_host(product))
                grad_scale = -lr * (1.0 - mu) / (1.0 - product)
                avg_scale = -lr * mu_next / (1.0 - product * mu_next)
                self._chunked(self._update, (p._data, p.grad._data, state["exp_avg"]._data,
                                             state["exp_avg_sq"]._data),
                              (1 - beta1, 1 - beta2 ** step, grad_scale, avg_scale), hyper)
        return loss

    def _update(self, data: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                exp_avg_sq: np.ndarray, scales: tuple, hyper: tuple) -> None:
        lerp_weight, bias_correction2, grad_scale, avg_scale = scales
        grad = _update_moments(self, data, grad, exp_avg, exp_avg_sq, lerp_weight, hyper)
        eps = hyper[2]
        denom = np.sqrt(exp_avg_sq / bias_correction2)
        denom += eps
        data += grad / denom * grad_scale
        data += exp_avg / denom * avg_scale


class RAdam(Optimizer):
    r"""RAdam (Liu et al., 2020): Adam whose adaptive step is switched on, and rectified, once the
    variance of the adaptive learning rate is tractable.

    .. math::

        g_t &\leftarrow -g_t \text{ if maximize}; \quad
            \theta_{t-1} \leftarrow (1 - \gamma\lambda)\theta_{t-1} \text{ if decoupled, else }
            g_t \leftarrow g_t + \lambda\theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
            v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \quad
            \hat m_t = m_t / (1 - \beta_1^t) \\
        \rho_\infty &= \frac{2}{1 - \beta_2} - 1, \quad
            \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t} \\
        \theta_t &= \theta_{t-1} - \gamma \hat m_t\, r_t
            \frac{\sqrt{1 - \beta_2^t}}{\sqrt{v_t} + \epsilon} \text{ if } \rho_t > 5,
            \text{ else } \theta_{t-1} - \gamma \hat m_t, \quad
            r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}
                              {(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}}

    State per parameter: ``step``, ``exp_avg`` (:math:`m`) and ``exp_avg_sq`` (:math:`v`).

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: learning rate :math:`\gamma` (default ``1e-3``).
        betas: :math:`(\beta_1, \beta_2)`, each in ``[0, 1)`` (default ``(0.9, 0.999)``).
        eps: :math:`\epsilon` added to the denominator (default ``1e-8``).
        weight_decay: :math:`\lambda` (default 0), an L2 term or, with
            ``decoupled_weight_decay=True``, a shrink of the weights (RAdamW).
        foreach, capturable: accepted for PyTorch compatibility and ignored.
        maximize: ascend the objective instead of descending it.
        differentiable: must be False.

    >>> import backprop as bp
    >>> from backprop import optim
    >>> w = bp.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.RAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()   # early steps are plain momentum: lr * g
    >>> [round(v, 4) for v in w.tolist()]
    [0.8, -1.6]
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_nonnegative("RAdam", lr=lr, eps=eps, weight_decay=weight_decay)
        _check_betas("RAdam", betas)
        _check_unsupported("RAdam", differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s loss if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            beta1, beta2 = (float(b) for b in group["betas"])
            hyper = (lr, beta2, float(group["eps"]), float(group["weight_decay"]),
                     group["decoupled_weight_decay"], group["maximize"])
            for p, state, step in self._stepped(group, _init_radam_state):
                bias_correction2 = 1 - beta2 ** step
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                rect = None
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                self._chunked(self._update, (p._data, p.grad._data, state["exp_avg"]._data,
                                             state["exp_avg_sq"]._data),
                              (1 - beta1, 1 - beta1 ** step, bias_correction2, rect), hyper)
        return loss

    def _update(self, data: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                exp_avg_sq: np.ndarray, scales: tuple, hyper: tuple) -> None:
        lerp_weight, bias_correction1, bias_correction2, rect = scales
        _update_moments(self, data, grad, exp_avg, exp_avg_sq, lerp_weight, hyper)
        lr, eps = hyper[0], hyper[2]
        update = exp_avg / bias_correction1 * lr
        if rect is not None:
            denom = np.sqrt(exp_avg_sq)
            denom += eps
            update *= bias_correction2 ** 0.5 / denom
            update *= rect
        data -= update


def _init_radam_state(p: Tensor) -> dict[str, Any]:
    return {"step": 0, "exp_avg": _zeros_like(p._data), "exp_avg_sq": _zeros_like(p._data)}


def _init_nadam_state(p: Tensor) -> dict[str, Any]:
    # mu_product has PyTorch's scalar dtype, float32 whatever the parameters' dtype, and lives
    # with the other state on the parameter's device.
    product = backend.to_device(np.ones((), dtype=np.float32), backend.device_of(p._data))
    return {"step": 0, "mu_product": Tensor._wrap(product), **_init_radam_state(p)}


def _update_moments(optimizer: Optimizer, data: np.ndarray, grad: np.ndarray,
                    exp_avg: np.ndarray, exp_avg_sq: np.ndarray, lerp_weight: float,
                    hyper: tuple) -> np.ndarray:
    """Apply weight decay (decoupled decay shrinks ``data``) and update both moments in place,
    as NAdam and RAdam share; return the gradient they used."""
    lr, beta2, _, weight_decay, decoupled, maximize = hyper
    if weight_decay != 0 and decoupled:
        data *= 1.0 - lr * weight_decay
        weight_decay = 0.0
    grad = optimizer._effective_grad(data, grad, weight_decay, maximize)
    optimizer._lerp_(exp_avg, grad, lerp_weight)
    exp_avg_sq *= beta2
    exp_avg_sq += grad * grad * (1 - beta2)
    return grad
