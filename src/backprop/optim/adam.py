"""``Adam`` and ``AdamW``: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import kernels
from ..tensor import Tensor
from .optimizer import (
    Optimizer,
    ParamsT,
    _check_nonnegative,
    _check_unsupported,
    _zeros_like,
)

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), optionally AMSGrad and decoupled weight decay (PyTorch's).

    For each parameter :math:`\theta` with gradient :math:`g_t`, at step :math:`t = 1, 2, \dots`:

    .. math::

        g_t &\leftarrow -g_t \quad \text{if maximize} \\
        \theta_{t-1} &\leftarrow (1 - \gamma\lambda)\,\theta_{t-1} \text{ if decoupled, else }
            g_t \leftarrow g_t + \lambda\theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \text{ if amsgrad, else } v_t \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}\,
            \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    State per parameter: ``step`` (an int), ``exp_avg`` (:math:`m`), ``exp_avg_sq`` (:math:`v`)
    and, with ``amsgrad``, ``max_exp_avg_sq`` (:math:`\hat v`).

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: learning rate :math:`\gamma` (default ``1e-3``).
        betas: :math:`(\beta_1, \beta_2)`, each in ``[0, 1)`` (default ``(0.9, 0.999)``).
        eps: :math:`\epsilon` added to the denominator (default ``1e-8``).
        weight_decay: :math:`\lambda` (default 0): an L2 term added to the gradient, or, with
            ``decoupled_weight_decay=True``, a shrink of the weights (that is ``AdamW``).
        amsgrad: use the running maximum of :math:`v` (AMSGrad).
        maximize: ascend the objective instead of descending it.
        capturable, foreach, fused: any value gives the same update, backprop's one vectorized
            pass (the fused update); ``foreach=True`` with ``fused=True`` is refused, as
            in PyTorch.
        differentiable: must be False.

    >>> import backprop as bp
    >>> from backprop import optim
    >>> w = bp.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()   # the first step moves each weight by ~lr
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -1.9]
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        name = type(self).__name__
        _check_nonnegative(name, lr=lr, eps=eps, weight_decay=weight_decay)
        _check_betas(name, betas)
        _check_unsupported(name, differentiable, foreach, fused)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s loss if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            beta1, beta2 = (float(b) for b in group["betas"])
            amsgrad = group["amsgrad"]
            hyper = (lr, beta1, beta2, float(group["eps"]), float(group["weight_decay"]),
                     group["maximize"], group.get("decoupled_weight_decay", False))
            init = _init_amsgrad_state if amsgrad else _init_state
            for p, state, step in self._stepped(group, init):
                step_size = lr / (1.0 - beta1 ** step)
                bias_correction2_sqrt = (1.0 - beta2 ** step) ** 0.5
                arrays = (p._data, p.grad._data, state["exp_avg"]._data,
                          state["exp_avg_sq"]._data)
                if amsgrad:
                    arrays += (state["max_exp_avg_sq"]._data,)
                self._chunked(self._update, arrays, step_size, bias_correction2_sqrt, hyper)
        return loss

    def _update(self, data: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                exp_avg_sq: np.ndarray, *rest: Any) -> None:
        *max_exp_avg_sq, step_size, bias_correction2_sqrt, hyper = rest
        lr, beta1, beta2, eps, weight_decay, maximize, decoupled = hyper
        # One compiled pass (Numba on the CPU, a CuPy kernel on a GPU), the arithmetic below.
        for fused in kernels.kernels_for("adam_update", data):
            if fused(data, grad, exp_avg, exp_avg_sq,
                     max_exp_avg_sq[0] if max_exp_avg_sq else None, lr=lr, beta1=beta1,
                     beta2=beta2, eps=eps, weight_decay=weight_decay, maximize=maximize,
                     decoupled=decoupled, step_size=step_size,
                     bias_correction2_sqrt=bias_correction2_sqrt):
                return
        if weight_decay != 0 and decoupled:
            data *= 1.0 - lr * weight_decay
            grad = self._effective_grad(data, grad, 0.0, maximize)
        else:
            grad = self._effective_grad(data, grad, weight_decay, maximize)
        self._lerp_(exp_avg, grad, 1.0 - beta1)
        denom = self._scratch.get(data, 0)
        exp_avg_sq *= beta2
        np.multiply(grad, 1.0 - beta2, out=denom)
        denom *= grad
        exp_avg_sq += denom
        if max_exp_avg_sq:
            second = max_exp_avg_sq[0]
            np.maximum(second, exp_avg_sq, out=second)
        else:
            second = exp_avg_sq
        np.sqrt(second, out=denom)
        denom /= bias_correction2_sqrt
        denom += eps
        # The effective gradient (slot 1) is no longer needed: reuse its slot.
        update = self._scratch.get(data, 1)
        np.multiply(exp_avg, -step_size, out=update)
        update /= denom
        data += update


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Identical to ``Adam(..., decoupled_weight_decay=True)``: before the Adam update the weights
    shrink, :math:`\theta \leftarrow (1 - \gamma\lambda)\theta`, instead of :math:`\lambda\theta`
    being added to the gradient; the default ``weight_decay`` is ``1e-2``.

    .. math::

        \theta_{t-1} &\leftarrow (1 - \gamma\lambda)\,\theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t}\,
            \frac{m_t}{\sqrt{v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    >>> import backprop as bp
    >>> from backprop import optim
    >>> w = bp.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * w).sum().backward(); opt.step()   # shrink by 1 - 0.1 * 0.5, then the Adam step
    >>> [round(v, 4) for v in w.tolist()]
    [0.85, -1.8]
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)


def _check_betas(optimizer: str, betas: Any) -> None:
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"{optimizer}: betas must be a pair (beta1, beta2), got {betas!r}") from None
    for index, beta in enumerate((beta1, beta2)):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"{optimizer}: invalid beta parameter at index {index}: "
                             f"betas[{index}]={beta}; each beta must be in [0, 1)")


def _init_state(p: Tensor) -> dict[str, Any]:
    return {"step": 0, "exp_avg": _zeros_like(p._data), "exp_avg_sq": _zeros_like(p._data)}


def _init_amsgrad_state(p: Tensor) -> dict[str, Any]:
    return {**_init_state(p), "max_exp_avg_sq": _zeros_like(p._data)}
