"""``RMSprop``: gradients divided by a running root-mean-square of their recent magnitudes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .optimizer import (
    Optimizer,
    ParamsT,
    _bump_version,
    _check_nonnegative,
    _check_unsupported,
    _zeros_like,
)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture notes), optionally centered and with momentum (PyTorch's form).

    For each parameter :math:`\theta` with gradient :math:`g_t`:

    .. math::

        g_t &\leftarrow -g_t \text{ if maximize}; \quad g_t \leftarrow g_t + \lambda\theta_{t-1} \\
        v_t &= \alpha v_{t-1} + (1 - \alpha) g_t^2 \\
        \bar g_t &= \alpha \bar g_{t-1} + (1 - \alpha) g_t \quad \text{(centered only)} \\
        d_t &= \sqrt{v_t - \bar g_t^2} + \epsilon \text{ if centered, else } \sqrt{v_t} + \epsilon \\
        b_t &= \mu b_{t-1} + g_t / d_t, \quad \theta_t = \theta_{t-1} - \gamma b_t
            \quad \text{if } \mu > 0 \\
        \theta_t &= \theta_{t-1} - \gamma\, g_t / d_t \quad \text{otherwise}

    State per parameter: ``step``, ``square_avg`` (:math:`v`), ``momentum_buffer`` (:math:`b`,
    when ``momentum > 0``) and ``grad_avg`` (:math:`\bar g`, when ``centered``).

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: learning rate :math:`\gamma` (default ``1e-2``).
        alpha: smoothing constant :math:`\alpha` (default 0.99).
        eps: :math:`\epsilon` added to the denominator (default ``1e-8``).
        weight_decay: L2 penalty :math:`\lambda` (default 0).
        momentum: momentum factor :math:`\mu` (default 0).
        centered: normalise by an estimate of the gradient's variance instead of its second
            moment.
        maximize: ascend the objective instead of descending it.
        capturable, foreach: accepted for PyTorch compatibility and ignored.
        differentiable: must be False.

    >>> import backprop as bp
    >>> from backprop import optim
    >>> w = bp.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward(); opt.step()   # first step: lr / sqrt(1 - alpha) per weight
    >>> [round(v, 4) for v in w.tolist()]
    [0.9, -1.9]
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _check_nonnegative("RMSprop", lr=lr, eps=eps, momentum=momentum,
                           weight_decay=weight_decay, alpha=alpha)
        _check_unsupported("RMSprop", differentiable)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay, "capturable": capturable,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s loss if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            momentum = float(group["momentum"])
            centered = group["centered"]
            hyper = (float(group["lr"]), float(group["alpha"]), float(group["eps"]),
                     float(group["weight_decay"]), momentum, group["maximize"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                data = p._data
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["square_avg"] = _zeros_like(data)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(data)
                    if centered:
                        state["grad_avg"] = _zeros_like(data)
                state["step"] += 1
                buf = state["momentum_buffer"]._data if momentum > 0 else None
                grad_avg = state["grad_avg"]._data if centered else None
                arrays = (data, p.grad._data, state["square_avg"]._data)
                arrays += tuple(a for a in (buf, grad_avg) if a is not None)
                self._chunked(self._update, arrays, buf is not None, grad_avg is not None, hyper)
                _bump_version(p)
        return loss

    def _update(self, data: np.ndarray, grad: np.ndarray, square_avg: np.ndarray,
                *rest: Any) -> None:
        *extra, has_buf, centered, hyper = rest
        lr, alpha, eps, weight_decay, momentum, maximize = hyper
        buf = extra[0] if has_buf else None
        grad_avg = extra[-1] if centered else None
        grad = self._effective_grad(data, grad, weight_decay, maximize)
        avg = self._scratch.get(data, 0)
        square_avg *= alpha
        np.multiply(grad, 1.0 - alpha, out=avg)
        avg *= grad
        square_avg += avg
        if grad_avg is not None:
            self._lerp_(grad_avg, grad, 1.0 - alpha)
            np.multiply(grad_avg, grad_avg, out=avg)
            np.subtract(square_avg, avg, out=avg)
            np.sqrt(avg, out=avg)
        else:
            np.sqrt(square_avg, out=avg)
        avg += eps
        update = self._scratch.get(data, 2)
        if buf is not None:
            buf *= momentum
            np.divide(grad, avg, out=update)
            buf += update
            np.multiply(buf, -lr, out=update)
        else:
            np.multiply(grad, -lr, out=update)
            update /= avg
        data += update
