"""``Rprop``: resilient backpropagation, per-weight step sizes driven by gradient signs only."""

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

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""Rprop (Riedmiller & Braun, 1993), PyTorch's variant (no weight backtracking).

    For each weight, with gradient :math:`g_t` (negated if maximize) and step size :math:`s`:

    .. math::

        s_t &= \operatorname{clip}\big(s_{t-1} \cdot \eta, s_{\min}, s_{\max}\big), \quad
            \eta = \eta_+ \text{ if } g_t g_{t-1} > 0,\ \eta_- \text{ if } g_t g_{t-1} < 0,
            \text{ else } 1 \\
        g_t &\leftarrow 0 \text{ where } g_t g_{t-1} < 0 \\
        \theta_t &= \theta_{t-1} - \operatorname{sign}(g_t)\, s_t

    State per parameter: ``step``, ``prev`` (:math:`g_{t-1}` as stored) and ``step_size``
    (:math:`s`, starting at ``lr``).

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: the initial step size of every weight (default ``1e-2``).
        etas: :math:`(\eta_-, \eta_+)` with :math:`0 < \eta_- < 1 < \eta_+`
            (default ``(0.5, 1.2)``).
        step_sizes: :math:`(s_{\min}, s_{\max})` (default ``(1e-6, 50)``).
        capturable, foreach: accepted for PyTorch compatibility and ignored.
        maximize: ascend the objective instead of descending it.
        differentiable: must be False.

    >>> import backprop as bp
    >>> from backprop import optim
    >>> w = bp.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.Rprop([w], lr=0.1)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
    >>> [round(v, 4) for v in w.tolist()]   # steps of 0.1, then 0.1 * 1.2
    [0.78, -1.78]
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_nonnegative("Rprop", lr=lr)
        for name, pair in (("etas", etas), ("step_sizes", step_sizes)):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"Rprop: {name} must be a pair, got {pair!r}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Rprop: invalid eta values etas={tuple(etas)}; they must satisfy "
                             "0 < etas[0] < 1 < etas[1]")
        _check_unsupported("Rprop", differentiable)
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s loss if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            eta_minus, eta_plus = (float(e) for e in group["etas"])
            low, high = (float(s) for s in group["step_sizes"])
            hyper = (eta_minus, eta_plus, low, high, group["maximize"])
            lr = float(group["lr"])
            for p, state, _ in self._stepped(group, lambda p: {
                    "step": 0, "prev": _zeros_like(p._data),
                    "step_size": Tensor._wrap(np.full_like(p._data, lr))}):
                self._chunked(self._update, (p._data, p.grad._data, state["prev"]._data,
                                             state["step_size"]._data), hyper)
        return loss

    def _update(self, data: np.ndarray, grad: np.ndarray, prev: np.ndarray,
                step_size: np.ndarray, hyper: tuple) -> None:
        eta_minus, eta_plus, low, high, maximize = hyper
        grad = self._effective_grad(data, grad, 0.0, maximize)
        product = np.sign(grad * prev)
        factor = np.where(product > 0, eta_plus, np.where(product < 0, eta_minus, 1.0))
        step_size *= factor.astype(step_size.dtype, copy=False)
        np.clip(step_size, low, high, out=step_size)
        # A sign change: no step this time, and no sign comparison next time.
        np.copyto(prev, grad)
        prev[product < 0] = 0
        data -= np.sign(prev) * step_size
