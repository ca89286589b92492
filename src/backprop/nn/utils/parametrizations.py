"""``bp.nn.utils.parametrizations``: ``weight_norm`` and ``spectral_norm`` as parametrizations
(PyTorch's ``torch.nn.utils.parametrizations``), with PyTorch's state-dict names:
``parametrizations.weight.original0`` (g) and ``original1`` (v) for weight norm;
``parametrizations.weight.original`` and the power iteration's ``parametrizations.weight.0._u``
and ``_v`` buffers for spectral norm."""

from __future__ import annotations

from ...autograd import grad_mode
from ...ops.linalg import mv
from ...ops.reduction import norm, sum
from ...random import get_rng
from ...tensor import Tensor
from ..functional import normalize
from ..module import Module
from . import parametrize

__all__ = ["spectral_norm", "weight_norm"]


def norm_except_dim(v: Tensor, dim: int | None) -> Tensor:
    """The 2-norm of ``v`` over every dim but ``dim``, kept as size-1 dims (over all of ``v``,
    a 0-d result, when ``dim`` is None or -1)."""
    if dim is None or dim == -1:
        return norm(v)
    dim %= v.ndim
    return norm(v, 2, [d for d in range(v.ndim) if d != dim], keepdim=True)


def weight_norm_value(v: Tensor, g: Tensor, dim: int | None) -> Tensor:
    """``v * g / ||v||`` with the norm taken over every dim but ``dim``."""
    return v * (g / norm_except_dim(v, dim))


class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_norm_value(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize ``module.<name>`` as ``g * v / ||v||``: the magnitude ``g``
    (``original0``) and the direction ``v`` (``original1``) are learnt separately.

    >>> import backprop as bp
    >>> layer = bp.nn.utils.parametrizations.weight_norm(bp.nn.Linear(3, 2))
    >>> [(k, tuple(v.shape)) for k, v in layer.state_dict().items()]
    [('bias', (2,)), ('parametrizations.weight.original0', (2, 1)), ('parametrizations.weight.original1', (2, 3))]
    """
    return parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)


class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"spectral_norm: dim {dim} is out of range for a weight of "
                             f"{ndim} dims")
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: n_power_iterations must be positive, got "
                             f"{n_power_iterations}")
        self.dim = dim % ndim if ndim else 0
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            matrix = self._reshape_weight_to_matrix(weight)
            h, w = matrix.shape
            rows = Tensor._wrap(get_rng().standard_normal(h).astype(weight.dtype))
            cols = Tensor._wrap(get_rng().standard_normal(w).astype(weight.dtype))
            self.register_buffer("_u", normalize(rows.to(weight.device), dim=0, eps=eps))
            self.register_buffer("_v", normalize(cols.to(weight.device), dim=0, eps=eps))
            self._power_method(matrix, 15)  # start near the top singular vectors

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.movedim(self.dim, 0)
        return weight.flatten(1)

    def _power_method(self, matrix: Tensor, iterations: int) -> None:
        # In place, so the buffers keep their identity; u first, then v, as PyTorch does.
        with grad_mode.no_grad():
            for _ in range(iterations):
                self._u.copy_(normalize(mv(matrix, self._v), dim=0, eps=self.eps))
                self._v.copy_(normalize(mv(matrix.T, self._u), dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        matrix = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = sum(u * mv(matrix, v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        # The scale is not recoverable from the normalised weight: store the value itself.
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Divide ``module.<name>`` by its largest singular value, estimated by
    ``n_power_iterations`` steps of power iteration per training-mode read (the vectors are
    the ``_u``/``_v`` buffers). ``dim`` defaults to 1 for transposed convolutions, else 0.

    >>> import backprop as bp
    >>> layer = bp.nn.utils.parametrizations.spectral_norm(bp.nn.Linear(3, 2))
    >>> list(layer.state_dict())
    ['bias', 'parametrizations.weight.original', 'parametrizations.weight.0._u', 'parametrizations.weight.0._v']
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"spectral_norm: module {type(module).__name__} has no parameter or "
                         f"buffer named {name!r}")
    if dim is None:
        dim = 1 if "ConvTranspose" in type(module).__name__ else 0
    return parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
