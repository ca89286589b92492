"""``bp.nn.init``: fill a tensor in place with initial values, as ``torch.nn.init``.

Every function writes into the tensor's storage without recording a graph (a parameter that
requires grad can be initialised outside ``no_grad``), draws from ``generator`` or the default
generator (``bp.manual_seed`` repeats it), and returns the tensor. The scales follow PyTorch's
formulas, so a ported model starts from the same distributions.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from ..autograd.graph import VersionCounter
from ..backend import device_of, to_device
from ..errors import format_shape
from ..random import Generator, get_rng
from ..tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "sparse_"]

_LINEAR_GAIN = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid"}


def _check_tensor(op: str, tensor: Any) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init.{op}: expected a bp.Tensor (or Parameter) to fill, got "
                        f"{type(tensor).__name__}")


def _write(tensor: Tensor, values: Any, op: str) -> Tensor:
    """Write ``values`` into ``tensor``'s storage (cast to its dtype) and bump its version, so a
    graph that saved the old values refuses to backward through them.

    The values are drawn on the host (so a seed gives the same values on every device) and, for
    a tensor on a device, copied there."""
    data = tensor._data
    if type(data) is not np.ndarray and type(values) is np.ndarray:
        values = to_device(values.astype(data.dtype, copy=False), device_of(data))
    data[...] = values
    if tensor._version is None:
        tensor._version = VersionCounter()
    tensor._version.bump(op)
    return tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale of the weights feeding ``nonlinearity`` (PyTorch's table):
    1 for linear/conv/sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for
    leaky_relu (slope ``param``, default 0.01), 3/4 for selu.

    >>> round(calculate_gain("leaky_relu", 0.2), 6)
    1.38675
    """
    if nonlinearity in _LINEAR_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1.0 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; use one of "
                     f"{sorted(_LINEAR_GAIN | {'tanh', 'relu', 'leaky_relu', 'selu'})}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight: ``size(1)`` and ``size(0)`` times the receptive field
    (the product of the remaining dims, for conv kernels)."""
    if tensor.ndim < 2:
        raise ValueError(f"nn.init: fan in and fan out cannot be computed for a tensor of shape "
                         f"{format_shape(tensor.shape)}: it needs at least 2 dimensions")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"nn.init: mode {mode!r} is not supported, use 'fan_in' or 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Generator | None = None) -> Tensor:
    """Fill with draws from U(a, b).

    >>> import backprop as bp
    >>> w = bp.nn.init.uniform_(bp.empty(1000), -2, 2)
    >>> bool((w >= -2).all() and (w < 2).all())
    True
    """
    _check_tensor("uniform_", tensor)
    return _write(tensor, get_rng(generator).uniform(a, b, tensor.shape), "uniform_")


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    """Fill with draws from N(mean, std^2).

    >>> import backprop as bp
    >>> round(bp.nn.init.normal_(bp.empty(100000), 3.0, 0.5).mean().item(), 1)
    3.0
    """
    _check_tensor("normal_", tensor)
    return _write(tensor, get_rng(generator).normal(mean, std, tensor.shape), "normal_")


def _truncated_standard_normal(rng: np.random.Generator, n: int, lo: float,
                               hi: float) -> np.ndarray | None:
    """``n`` exact draws of N(0, 1) restricted to [lo, hi] by rejection, from whichever proposal
    accepts most often: N(0, 1) itself (wide intervals), uniform on [lo, hi] (narrow ones) or a
    shifted exponential (Robert 1995; intervals far in a tail). None if [lo, hi] holds
    (numerically) no probability."""
    mirrored = hi <= 0  # work in the upper half: then hi > 0
    if mirrored:
        lo, hi = -hi, -lo
    root2 = math.sqrt(2.0)
    if lo >= 0:  # erfc keeps the tail probability accurate
        mass = 0.5 * (math.erfc(lo / root2) - math.erfc(hi / root2))
    else:
        mass = 0.5 * (math.erf(hi / root2) - math.erf(lo / root2))
    peak = max(lo, 0.0)  # where the density is highest on [lo, hi]
    rates = {"normal": mass}
    if math.isfinite(lo) and math.isfinite(hi):
        rates["uniform"] = (mass * math.sqrt(2 * math.pi) * math.exp(min(peak * peak / 2, 700.0))
                            / (hi - lo))
    if lo > 0:
        lam = (lo + math.sqrt(lo * lo + 4.0)) / 2.0  # the optimal exponential rate
        rates["exponential"] = (lam * math.sqrt(2 * math.pi) * mass
                                * math.exp(min(lam * lo - lam * lam / 2.0, 700.0)))
    method = max(rates, key=rates.get)
    rate = min(rates[method], 1.0)
    if rate < 1e-6:
        return None
    kept: list[np.ndarray] = []
    missing = n
    while missing > 0:
        size = min(int(missing / rate * 1.2) + 16, 1 << 24)
        if method == "normal":
            z = rng.standard_normal(size)
            z = z[(z >= lo) & (z <= hi)]
        elif method == "uniform":
            z = rng.uniform(lo, hi, size)
            z = z[rng.random(size) <= np.exp((peak * peak - z * z) / 2.0)]
        else:
            z = lo + rng.exponential(1.0 / lam, size)
            z = z[(rng.random(size) <= np.exp(-((z - lam) ** 2) / 2.0)) & (z <= hi)]
        kept.append(z[:missing])
        missing -= kept[-1].size
    values = np.concatenate(kept) if kept else np.zeros(0)
    return -values if mirrored else values


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Generator | None = None) -> Tensor:
    """Fill with draws from N(mean, std^2) truncated to [a, b]. Sampling is exact rejection
    sampling, also far in a tail (where PyTorch's inverse-CDF method warns it may be off).

    >>> import backprop as bp
    >>> w = bp.nn.init.trunc_normal_(bp.empty(1000), std=1.0, a=-0.5, b=0.5)
    >>> bool((w.abs() <= 0.5).all())
    True
    """
    _check_tensor("trunc_normal_", tensor)
    if not a < b:
        raise ValueError(f"trunc_normal_: the lower bound a={a} must be below the upper bound "
                         f"b={b}")
    if not std > 0:
        raise ValueError(f"trunc_normal_: std must be positive, got {std}")
    z = _truncated_standard_normal(get_rng(generator), tensor.numel(), (a - mean) / std,
                                   (b - mean) / std)
    if z is None:
        raise ValueError(f"trunc_normal_: [a, b] = [{a}, {b}] holds no probability under "
                         f"N({mean}, {std}^2) in float64; widen the interval or move the mean")
    # Clipping only guards against rounding in mean + std * z; the draws are inside already.
    values = np.clip(mean + std * z, a, b)
    return _write(tensor, values.reshape(tensor.shape), "trunc_normal_")


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``.

    >>> import backprop as bp
    >>> bp.nn.init.constant_(bp.empty(2), 0.3).tolist() == [bp.tensor(0.3).item()] * 2
    True
    """
    _check_tensor("constant_", tensor)
    return _write(tensor, val, "constant_")


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones."""
    _check_tensor("ones_", tensor)
    return _write(tensor, 1, "ones_")


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros."""
    _check_tensor("zeros_", tensor)
    return _write(tensor, 0, "zeros_")


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal), keeping a linear layer's
    inputs as they are.

    >>> import backprop as bp
    >>> bp.nn.init.eye_(bp.empty(2, 3)).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    _check_tensor("eye_", tensor)
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape "
                         f"{format_shape(tensor.shape)}")
    return _write(tensor, np.eye(*tensor.shape), "eye_")


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-D conv weight with the Dirac delta, so the convolution passes its
    input channels through (per group).

    >>> import backprop as bp
    >>> w = bp.nn.init.dirac_(bp.empty(2, 2, 3))
    >>> w[:, :, 1].tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    _check_tensor("dirac_", tensor)
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only tensors with 3, 4 or 5 dimensions are supported, got "
                         f"shape {format_shape(tensor.shape)}")
    out_channels = tensor.shape[0]
    if out_channels % groups != 0:
        raise ValueError(f"dirac_: dim 0 (size {out_channels}) must be divisible by groups="
                         f"{groups}")
    per_group = out_channels // groups
    channels = min(per_group, tensor.shape[1])
    values = np.zeros(tensor.shape)
    centre = tuple(k // 2 for k in tensor.shape[2:])
    rows = (np.arange(groups)[:, None] * per_group + np.arange(channels)).ravel()
    cols = np.tile(np.arange(channels), groups)
    values[(rows, cols, *centre)] = 1
    return _write(tensor, values, "dirac_")


def xavier_uniform_(tensor: Tensor, gain: float = 1.0,
                    generator: Generator | None = None) -> Tensor:
    """Glorot uniform: U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    >>> import backprop as bp
    >>> w = bp.nn.init.xavier_uniform_(bp.empty(3, 5))
    >>> bool((w.abs() <= (6 / 8) ** 0.5).all())
    True
    """
    _check_tensor("xavier_uniform_", tensor)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if fan_in + fan_out == 0:
        return tensor
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _write(tensor, get_rng(generator).uniform(-bound, bound, tensor.shape),
                  "xavier_uniform_")


def xavier_normal_(tensor: Tensor, gain: float = 1.0,
                   generator: Generator | None = None) -> Tensor:
    """Glorot normal: N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    _check_tensor("xavier_normal_", tensor)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if fan_in + fan_out == 0:
        return tensor
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _write(tensor, get_rng(generator).normal(0.0, std, tensor.shape), "xavier_normal_")


def _kaiming_std(op: str, tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    _check_tensor(op, tensor)
    if 0 in tensor.shape:
        warnings.warn(f"{op}: initializing a zero-element tensor is a no-op", stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """He uniform: U(-bound, bound) with ``bound = gain * sqrt(3 / fan)``, ``gain`` from
    ``calculate_gain(nonlinearity, a)`` and ``fan`` the fan_in or fan_out (``mode``).

    >>> import backprop as bp
    >>> w = bp.nn.init.kaiming_uniform_(bp.empty(4, 6), nonlinearity="relu")
    >>> bool((w.abs() <= 1.0).all())
    True
    """
    std = _kaiming_std("kaiming_uniform_", tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return _write(tensor, get_rng(generator).uniform(-bound, bound, tensor.shape),
                  "kaiming_uniform_")


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """He normal: N(0, std^2) with ``std = gain / sqrt(fan)``."""
    std = _kaiming_std("kaiming_normal_", tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return _write(tensor, get_rng(generator).normal(0.0, std, tensor.shape), "kaiming_normal_")


def orthogonal_(tensor: Tensor, gain: float = 1.0,
                generator: Generator | None = None) -> Tensor:
    """A (semi-)orthogonal matrix times ``gain``: the Q of a Gaussian matrix's QR decomposition
    with signs fixed by R's diagonal, so it is uniform over orthogonal matrices. Dims after the
    first are flattened.

    >>> import backprop as bp, numpy as np
    >>> w = bp.nn.init.orthogonal_(bp.empty(3, 5, dtype=bp.float64)).numpy()
    >>> np.allclose(w @ w.T, np.eye(3))
    True
    """
    _check_tensor("orthogonal_", tensor)
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {format_shape(tensor.shape)}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = get_rng(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diagonal(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (q * gain).reshape(tensor.shape), "orthogonal_")


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01,
            generator: Generator | None = None) -> Tensor:
    """A 2-D matrix of N(0, std^2) values with ``ceil(sparsity * rows)`` zeros in each column.

    >>> import backprop as bp
    >>> w = bp.nn.init.sparse_(bp.empty(4, 3), sparsity=0.5)
    >>> (w == 0).sum(0).tolist()
    [2, 2, 2]
    """
    _check_tensor("sparse_", tensor)
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: only 2-D tensors are supported, got shape "
                         f"{format_shape(tensor.shape)}")
    rows, cols = tensor.shape
    zeros = math.ceil(sparsity * rows)
    rng = get_rng(generator)
    values = rng.normal(0.0, std, (rows, cols))
    # One random permutation of the rows per column; its first `zeros` rows are zeroed.
    order = np.argsort(rng.random((rows, cols)), axis=0)[:zeros]
    values[order, np.arange(cols)] = 0.0
    return _write(tensor, values, "sparse_")
