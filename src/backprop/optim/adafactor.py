"""``Adafactor``: Adam-like steps whose second moment of a matrix is kept as row and column means."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, _zeros_like

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    r"""Adafactor (Shazeer & Stern, 2018) in PyTorch's form: no first moment, a factored second
    moment for parameters of two or more dimensions, relative step sizes and update clipping.

    For each parameter :math:`\theta` with gradient :math:`G_t` (negated if maximize), at step
    :math:`t = 1, 2, \dots`:

    .. math::

        \hat\beta_{2,t} &= 1 - t^{\tau}, \quad \rho_t = \min(\gamma, 1/\sqrt t), \quad
            \alpha_t = \max(\epsilon_2, \operatorname{RMS}(\theta_{t-1}))\, \rho_t \\
        \theta_{t-1} &\leftarrow (1 - \gamma\lambda)\,\theta_{t-1} \\
        R_t &= \hat\beta_{2,t} R_{t-1} + (1 - \hat\beta_{2,t})\,
            \operatorname{mean}_{\text{cols}}(G_t^2), \quad
        C_t = \hat\beta_{2,t} C_{t-1} + (1 - \hat\beta_{2,t})\,
            \operatorname{mean}_{\text{rows}}(G_t^2) \\
        \hat V_t &= \frac{R_t C_t}{\max(\operatorname{mean}(R_t), \epsilon_1)}
            \quad \text{(one or no dimension: }
            \hat V_t = \hat\beta_{2,t} \hat V_{t-1} + (1 - \hat\beta_{2,t}) G_t^2) \\
        U_t &= G_t / \sqrt{\max(\hat V_t, \epsilon_1^2)}, \quad
        \theta_t = \theta_{t-1} - \frac{\alpha_t}{\max(1, \operatorname{RMS}(U_t) / d)}\, U_t

    The rows and columns are the last two dimensions (leading ones are a batch of matrices).
    State per parameter: ``step``, and ``row_var`` (:math:`R`, the last dimension kept as 1) and
    ``col_var`` (:math:`C`, the second-last kept as 1), or ``variance`` (:math:`\hat V`).

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: the cap :math:`\gamma` of the relative step size (default ``1e-2``).
        beta2_decay: :math:`\tau \le 0`, the decay exponent of the second moment (default -0.8).
        eps: :math:`(\epsilon_1, \epsilon_2)`; :math:`\epsilon_1` guards divisions (``None``:
            the parameter dtype's machine epsilon), :math:`\epsilon_2` is the smallest relative
            scale (default ``(None, 1e-3)``).
        d: the clipping threshold on the update's RMS, at least 1 (default 1).
        weight_decay: decoupled weight decay :math:`\lambda` (default 0).
        foreach: accepted for PyTorch compatibility: every value gives the same update.
        maximize: ascend the objective instead of descending it.

    >>> import backprop as bp
    >>> from backprop import optim
    >>> w = bp.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.Adafactor([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()   # first step: the clipped update times lr * RMS(w)
    >>> [round(v, 4) for v in w.tolist()]
    [0.8419, -1.8419]
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0,
                 weight_decay: float = 0.0, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        checks = [(lr >= 0, f"invalid learning rate lr={lr}; it must be >= 0"),
                  (beta2_decay <= 0, f"invalid beta2_decay={beta2_decay}; it must be <= 0"),
                  (eps[0] is None or eps[0] >= 0, f"invalid eps[0]={eps[0]}; it must be >= 0"),
                  (eps[1] >= 0, f"invalid eps[1]={eps[1]}; it must be >= 0"),
                  (d >= 1, f"invalid clipping threshold d={d}; it must be >= 1"),
                  (weight_decay >= 0, f"invalid weight_decay={weight_decay}; it must be >= 0")]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"Adafactor: {message}")
        defaults = {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s loss if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, d = float(group["lr"]), float(group["d"])
            beta2_decay, weight_decay = float(group["beta2_decay"]), float(group["weight_decay"])
            eps1, eps2 = group["eps"]
            for p, state, step in self._stepped(group, _init_state):
                data = p._data
                grad = -p.grad._data if group["maximize"] else p.grad._data
                epsilon1 = float(np.finfo(data.dtype).eps) if eps1 is None else float(eps1)
                weight = float(step) ** beta2_decay    # 1 - beta2 at this step
                rho = min(lr, 1.0 / float(step) ** 0.5)
                alpha = max(float(eps2), _rms(data)) * rho
                if weight_decay != 0:
                    data *= 1.0 - lr * weight_decay
                if data.ndim > 1:
                    row_var, col_var = state["row_var"]._data, state["col_var"]._data
                    square = grad * grad
                    self._lerp_(row_var, square.mean(axis=-1, keepdims=True), weight)
                    self._lerp_(col_var, square.mean(axis=-2, keepdims=True), weight)
                    variance = row_var * col_var
                    variance /= np.maximum(row_var.mean(axis=-2, keepdims=True), epsilon1)
                else:
                    self._lerp_(state["variance"]._data, grad * grad, weight)
                    variance = state["variance"]._data.copy()
                update = np.maximum(variance, epsilon1 * epsilon1, out=variance)
                update **= -0.5
                update *= grad
                denom = max(1.0, _rms(update) / d)
                update *= -alpha / denom
                data += update
        return loss


def _rms(array: np.ndarray) -> float:
    """The root mean square of ``array``'s entries, as a Python float."""
    return float((array * array).sum()) ** 0.5 / array.size ** 0.5


def _init_state(p: Tensor) -> dict[str, Any]:
    data = p._data
    if data.ndim > 1:
        return {"step": 0,
                "row_var": _zeros_like(data[..., :1]),
                "col_var": _zeros_like(data[..., :1, :])}
    return {"step": 0, "variance": _zeros_like(data)}
