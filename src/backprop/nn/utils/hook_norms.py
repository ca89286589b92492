"""The older, hook-based ``weight_norm`` / ``spectral_norm`` of ``torch.nn.utils`` and their
``remove_*``: a forward pre-hook recomputes ``module.<name>`` (a plain tensor attribute) from
the parameters ``<name>_g``/``<name>_v`` (weight norm) or ``<name>_orig`` and the buffers
``<name>_u``/``<name>_v`` (spectral norm), PyTorch's names. PyTorch deprecates the weight-norm
one in favour of ``parametrizations.weight_norm``, and so do we."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from ...autograd import grad_mode
from ...ops.linalg import mv
from ...ops.reduction import sum
from ...random import get_rng
from ...tensor import Tensor
from ..functional import normalize
from ..module import Module
from ..parameter import Parameter
from .parametrizations import norm_except_dim, weight_norm_value

__all__ = ["remove_spectral_norm", "remove_weight_norm", "spectral_norm", "weight_norm"]


class _WeightNormHook:
    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def compute_weight(self, module: Module) -> Tensor:
        return weight_norm_value(getattr(module, self.name + "_v"),
                                 getattr(module, self.name + "_g"), self.dim)

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


class _SpectralNormHook:
    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float) -> None:
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: n_power_iterations must be positive, got "
                             f"{n_power_iterations}")
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.movedim(self.dim, 0)
        return weight.flatten(1)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        matrix = self.matrix(weight)
        if do_power_iteration:
            # v first, then u (the reverse of parametrizations.spectral_norm), in place.
            with grad_mode.no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(normalize(mv(matrix.T, u), dim=0, eps=self.eps))
                    u.copy_(normalize(mv(matrix, v), dim=0, eps=self.eps))
            u, v = u.clone(), v.clone()
        return weight / sum(u * mv(matrix, v))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module, module.training))


def _find_hook(module: Module, kind: type, name: str) -> Any:
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, kind) and hook.name == name:
            return key
    return None


def _replace_parameter(module: Module, name: str) -> Tensor:
    weight = module._parameters.get(name)
    if not isinstance(weight, Parameter):
        raise ValueError(f"module {type(module).__name__} has no parameter named {name!r}")
    delattr(module, name)
    return weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Split ``module.<name>`` into a magnitude ``<name>_g`` and a direction ``<name>_v``,
    recombined before each forward (deprecated: use ``parametrizations.weight_norm``).

    >>> import warnings, backprop as bp
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     layer = bp.nn.utils.weight_norm(bp.nn.Linear(3, 2))
    >>> list(layer.state_dict())
    ['bias', 'weight_g', 'weight_v']
    """
    warnings.warn("torch.nn.utils.weight_norm is deprecated in favor of "
                  "torch.nn.utils.parametrizations.weight_norm.", FutureWarning, stacklevel=2)
    if _find_hook(module, _WeightNormHook, name) is not None:
        raise RuntimeError(f"weight_norm: cannot register two weight_norm hooks on the same "
                           f"parameter {name!r}")
    hook = _WeightNormHook(name, -1 if dim is None else dim)
    weight = _replace_parameter(module, name)
    module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, hook.dim).detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    setattr(module, name, hook.compute_weight(module))
    module.register_forward_pre_hook(hook)
    return module


def _remove(op: str, module: Module, kind: type, name: str, suffixes: tuple[str, ...],
            final_weight: Callable[[Any, Module], Tensor]) -> Module:
    """Drop the hook and its tensors; ``<name>`` becomes a parameter holding
    ``final_weight(hook, module)``."""
    key = _find_hook(module, kind, name)
    if key is None:
        raise ValueError(f"remove_{op}: {op} of {name!r} not found in {type(module).__name__}")
    hook = module._forward_pre_hooks.pop(key)
    with grad_mode.no_grad():
        weight = final_weight(hook, module)
    for suffix in suffixes:
        delattr(module, name + suffix)
    module.register_parameter(name, Parameter(weight.detach()))
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Fold ``<name>_g`` and ``<name>_v`` back into one parameter ``<name>``."""
    return _remove("weight_norm", module, _WeightNormHook, name, ("", "_g", "_v"),
                   lambda hook, m: hook.compute_weight(m))


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Divide ``module.<name>`` by its largest singular value before each forward, estimated
    by power iteration in training mode (``<name>_orig``, ``<name>_u``, ``<name>_v``).

    >>> import backprop as bp
    >>> list(bp.nn.utils.spectral_norm(bp.nn.Linear(3, 2)).state_dict())
    ['bias', 'weight_orig', 'weight_u', 'weight_v']
    """
    if _find_hook(module, _SpectralNormHook, name) is not None:
        raise RuntimeError(f"spectral_norm: cannot register two spectral_norm hooks on the same "
                           f"parameter {name!r}")
    if dim is None:
        dim = 1 if "ConvTranspose" in type(module).__name__ else 0
    hook = _SpectralNormHook(name, n_power_iterations, dim, eps)
    weight = _replace_parameter(module, name)
    h, w = hook.matrix(weight).shape

    def unit(n: int) -> Tensor:
        draw = Tensor._wrap(get_rng().standard_normal(n).astype(weight.dtype)).to(weight.device)
        return normalize(draw, dim=0, eps=eps)

    module.register_parameter(name + "_orig", weight)
    setattr(module, name, weight.detach())
    module.register_buffer(name + "_u", unit(h))
    module.register_buffer(name + "_v", unit(w))
    module.register_forward_pre_hook(hook)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Make ``module.<name>`` a plain parameter again, holding the normalised weight."""
    return _remove("spectral_norm", module, _SpectralNormHook, name, ("", "_u", "_v", "_orig"),
                   lambda hook, m: hook.compute_weight(m, do_power_iteration=False))
