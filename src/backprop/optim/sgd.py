"""``SGD``: stochastic gradient descent with optional momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import kernels
from ..backends import numba_sgd  # noqa: F401 - registers the compiled update
from ..tensor import Tensor
from .optimizer import (_CHUNK_BYTES, Optimizer, ParamsT, _bump_version, _check_nonnegative,
                        _check_unsupported)

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum (PyTorch's formulation).

    For each parameter :math:`\theta` with gradient :math:`g_t`:

    .. math::

        g_t &\leftarrow -g_t \quad \text{if maximize} \\
        g_t &\leftarrow g_t + \lambda \theta_{t-1} \quad \text{(weight decay } \lambda) \\
        b_t &= \begin{cases} g_t & t = 1 \\
                              \mu b_{t-1} + (1 - \tau) g_t & t > 1 \end{cases} \\
        g_t &\leftarrow g_t + \mu b_t \text{ if nesterov, else } b_t \quad (\text{when } \mu \ne 0) \\
        \theta_t &= \theta_{t-1} - \gamma g_t

    with learning rate :math:`\gamma` (``lr``), momentum :math:`\mu` and dampening :math:`\tau`.
    Note that this momentum differs from Sutskever et al.'s (the learning rate multiplies the
    whole velocity, not each gradient). The buffer is kept in ``state[p]["momentum_buffer"]``.

    Args:
        params: tensors or parameter-group dicts to optimize.
        lr: learning rate :math:`\gamma` (default ``1e-3``).
        momentum: momentum factor :math:`\mu` (default 0).
        dampening: dampening :math:`\tau` for momentum (default 0).
        weight_decay: L2 penalty :math:`\lambda` (default 0).
        nesterov: use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
        maximize: ascend the objective instead of descending it.
        foreach, fused: any value gives the same update, backprop's one vectorized
            pass (the fused update); ``foreach=True`` with ``fused=True`` is refused, as
            in PyTorch.
        differentiable: must be False.

    >>> import backprop as bp
    >>> from backprop import optim
    >>> w = bp.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()        # gradient 2w
    ...     opt.step()
    >>> [round(v, 4) for v in w.tolist()]
    [0.46, -0.92]
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check_nonnegative("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        _check_unsupported("SGD", differentiable, foreach, fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: Nesterov momentum requires a momentum and zero dampening, got "
                             f"momentum={momentum}, dampening={dampening}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s loss if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            hyper = (float(group["lr"]), float(group["momentum"]), float(group["dampening"]),
                     float(group["weight_decay"]), group["nesterov"], group["maximize"])
            lr, momentum, _, weight_decay, _, maximize = hyper
            plain = momentum == 0 and weight_decay == 0 and not maximize
            for p in group["params"]:
                if p.grad is None:
                    continue
                data = p._data
                if plain and data.nbytes <= _CHUNK_BYTES:
                    # Plain descent on a small parameter: the general kernel's calls would cost
                    # more than the arithmetic (and the same float32 products are added).
                    data += p.grad._data * -lr
                elif momentum == 0:
                    self._fused_or_chunked(data, p.grad._data, None, False, hyper)
                else:
                    state = self.state[p]
                    buffer = state.get("momentum_buffer")
                    first = buffer is None
                    if first:  # the first buffer is the gradient itself (no dampening)
                        buffer = Tensor._wrap(np.empty_like(data))
                        state["momentum_buffer"] = buffer
                    self._fused_or_chunked(data, p.grad._data, buffer._data, first, hyper)
                _bump_version(p)
        return loss

    def _fused_or_chunked(self, data: np.ndarray, grad: np.ndarray, buf: np.ndarray | None,
                          first: bool, hyper: tuple) -> None:
        """One compiled pass (Numba on the CPU) where a kernel applies, else ``_update``'s
        NumPy passes over cache-sized slices."""
        lr, momentum, dampening, weight_decay, nesterov, maximize = hyper
        for fused in kernels.kernels_for("sgd_update", data):
            if fused(data, grad, buf, first=first, lr=lr, momentum=momentum,
                     dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                     maximize=maximize):
                return
        if buf is None:
            self._chunked(self._update, (data, grad), None, first, hyper)
        else:
            self._chunked(self._update, (data, grad, buf), first, hyper)

    def _update(self, data: np.ndarray, grad: np.ndarray, buf: np.ndarray | None, first: bool,
                hyper: tuple) -> None:
        lr, momentum, dampening, weight_decay, nesterov, maximize = hyper
        grad = self._effective_grad(data, grad, weight_decay, maximize)
        update = self._scratch.get(data, 0)
        if buf is not None:
            if first:
                np.copyto(buf, grad)
            else:
                buf *= momentum
                if dampening != 0:
                    np.multiply(grad, 1.0 - dampening, out=update)
                    buf += update
                else:
                    buf += grad
            if nesterov:
                np.multiply(buf, momentum, out=update)
                np.add(grad, update, out=update)
                grad = update
            else:
                grad = buf
        np.multiply(grad, -lr, out=update)
        data += update
