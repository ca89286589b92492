"""Random sampling ops: ``multinomial``, ``bernoulli``, ``normal``, ``poisson`` and the in-place
fills ``uniform_``, ``normal_``, ``exponential_``, ``bernoulli_``, ``random_``, ``geometric_``,
``cauchy_``, ``log_normal_``.

Every draw goes through ``_host_draw``: the numbers come from the generator on the host (as
``randn``'s do, so one seed gives the same values on every device) and are then copied to the
device of the tensor they belong to, where the parameters transform them with that device's
array module. As in PyTorch, ``normal``, ``bernoulli`` and ``poisson`` give an output that
requires grad when a parameter does, with a zero gradient (the sample is not reparameterised;
``bp.distributions`` has ``rsample`` for that).
"""

from __future__ import annotations

import numbers
from typing import Any, Callable, Sequence

import numpy as np

from .. import backend, dtypes
from ..autograd import grad_mode
from ..backend import xp_of
from ..errors import DTypeError, ShapeError, format_shape
from ..random import Generator, get_rng, standard_normal
from ..tensor import Tensor
from .gamma_numerics import standard_gamma_grad_array
from .inplace import _copy, apply_inplace
from .primitive import primitive


def _host_draw(like: Any, generator: Generator | None,
               draw: Callable[[np.random.Generator], np.ndarray]) -> Any:
    """``draw(rng)`` made on the host with ``generator`` (or the default one), on the device of
    ``like`` (an array or tensor)."""
    return backend.on_device_of(np.asarray(draw(get_rng(generator))), like)


def _host(array: Any) -> np.ndarray:
    """A host copy of a parameter array that a NumPy sampler must read (rates, weights)."""
    return backend.to_device(array, backend.CPU) if type(array) is not np.ndarray else array


def _zero(g: Any, out: Any, *inputs: Any, **params: Any) -> Any:
    return g * 0


def _as_float_tensor(op: str, name: str, value: Any) -> Tensor:
    t = value if isinstance(value, Tensor) else Tensor._wrap(np.asarray(value))
    if t.dtype.kind not in "fV":
        raise DTypeError(f"{op}: {name} must be a floating-point tensor, got {t.dtype}")
    return t


def _store(op: str, result: Tensor, out: Tensor | None) -> Tensor:
    """``result`` written into ``out`` when given (PyTorch's ``out=``), else ``result``."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}: out must be a Tensor, got {type(out).__name__}")
    if out.shape != result.shape:
        raise ShapeError(f"{op}: out has shape {format_shape(out.shape)} but the result has "
                         f"shape {format_shape(result.shape)}")
    with grad_mode.no_grad():
        out.copy_(result)
    return out


# -- multinomial ----------------------------------------------------------------------------------

def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None, out: Tensor | None = None) -> Tensor:
    """Indices drawn from the categories of each row of ``input`` (1-D or 2-D, non-negative
    weights that need not sum to 1). Without ``replacement`` each row's draws are sequential
    draws without replacement (a drawn category leaves the urn), with ``replacement`` they are
    independent.

    >>> import backprop as bp
    >>> bp.multinomial(bp.tensor([0.0, 1.0, 0.0]), 2, replacement=True).tolist()
    [1, 1]
    >>> sorted(bp.multinomial(bp.tensor([1.0, 2.0, 3.0]), 3).tolist())
    [0, 1, 2]
    """
    weights = input._data if isinstance(input, Tensor) else np.asarray(input)
    if weights.dtype.kind not in "fV":
        raise DTypeError(f"multinomial: input must be a floating-point tensor of weights, got "
                         f"{weights.dtype}")
    if weights.ndim not in (1, 2):
        raise ShapeError(f"multinomial: input must be 1-D or 2-D (one row of weights per "
                         f"distribution), got shape {format_shape(weights.shape)}")
    if not isinstance(num_samples, numbers.Integral) or num_samples <= 0:
        raise ValueError(f"multinomial: cannot sample num_samples={num_samples!r} <= 0 samples")
    categories = weights.shape[-1]
    if not replacement and num_samples > categories:
        raise ValueError(f"multinomial: cannot sample num_samples={num_samples} > "
                         f"{categories} categories without replacement")
    if categories > 2 ** 24:
        raise ValueError(f"multinomial: number of categories ({categories}) cannot exceed 2^24")
    rows = _host(weights).reshape(-1, categories).astype(np.float64)
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError("multinomial: probability tensor contains either `inf`, `nan` or "
                         "element < 0")
    totals = rows.sum(axis=1)
    if (totals <= 0).any():
        raise ValueError(f"multinomial: invalid distribution: the weights of row "
                         f"{int(np.argmax(totals <= 0))} sum to 0")
    draw = _with_replacement if replacement else _without_replacement
    drawn = _host_draw(weights, generator, lambda rng: draw(rng, rows, totals, int(num_samples)))
    result = Tensor._wrap(drawn.reshape(weights.shape[:-1] + (int(num_samples),)))
    return _store("multinomial", result, out)


def _with_replacement(rng: np.random.Generator, rows: np.ndarray, totals: np.ndarray,
                      n: int) -> np.ndarray:
    """Inverse-CDF draws for every row at once: each row's CDF is shifted by twice its row
    number, so one sorted search serves all rows."""
    cdf = np.cumsum(rows, axis=1) / totals[:, None]
    # The last category with weight (and the zero-weight ones after it) end the row: above any
    # uniform, so rounding in the sum can never select a category of weight 0.
    cdf[cdf >= cdf[:, -1:]] = 1.5
    shift = 2.0 * np.arange(len(rows))[:, None]
    found = np.searchsorted((cdf + shift).ravel(), (rng.random((len(rows), n)) + shift).ravel(),
                            side="right")
    return (found.reshape(len(rows), n) - rows.shape[1] * np.arange(len(rows))[:, None]
            ).astype(np.int64)


def _without_replacement(rng: np.random.Generator, rows: np.ndarray, totals: np.ndarray,
                         n: int) -> np.ndarray:
    """The exponential race: category i finishes at time E_i / w_i (E_i standard exponential);
    the order of finishing is exactly a sequence of draws without replacement, each with
    probability proportional to the remaining weights (the Gumbel-top-k trick). Zero-weight
    categories never finish, so they come last, in index order, as in PyTorch."""
    keys = rows / rng.standard_exponential(rows.shape)
    return np.argsort(-keys, axis=1, kind="stable")[:, :n].astype(np.int64)


# -- bernoulli, normal, poisson --------------------------------------------------------------------

@primitive("bernoulli", grads={"input": _zero})
def _bernoulli(input: Any, *, p: float | None, generator: Generator | None) -> Any:
    uniforms = _host_draw(input, generator, lambda rng: rng.random(input.shape))
    return (uniforms < (input if p is None else p)).astype(input.dtype)


def bernoulli(input: Tensor, p: float | None = None, *, generator: Generator | None = None,
              out: Tensor | None = None) -> Tensor:
    """1 with probability ``input`` (element-wise), else 0, in ``input``'s dtype; with ``p``,
    the probability is ``p`` for every element and ``input`` gives only the shape and dtype.

    >>> import backprop as bp
    >>> bp.bernoulli(bp.tensor([0.0, 1.0, 1.0])).tolist()
    [0.0, 1.0, 1.0]
    """
    input = _as_float_tensor("bernoulli", "input", input)
    if p is None:
        _check_probabilities("bernoulli", "input", input._data)
    else:
        _check_probability("bernoulli", p)
    return _store("bernoulli", _bernoulli(input, p=p, generator=generator), out)


def _check_probability(op: str, p: float) -> None:
    if not 0 <= p <= 1:
        raise ValueError(f"{op}: expects p to be in [0, 1], but got p={p}")


def _check_probabilities(op: str, name: str, p: Any) -> None:
    xp = xp_of(p)
    if p.size and not bool(xp.all((p >= 0) & (p <= 1))):
        raise ValueError(f"{op}: every probability in {name} must be in [0, 1], but got values "
                         f"from {float(xp.nanmin(p))} to {float(xp.nanmax(p))}")


@primitive("normal", grads={"mean": _zero, "std": _zero})
def _normal(mean: Any, std: Any, *, generator: Generator | None) -> Any:
    xp = xp_of(mean, std)
    shape = np.broadcast_shapes(np.shape(mean), np.shape(std))
    dtype = xp.result_type(mean, std)
    noise = _host_draw(mean, generator, lambda rng: standard_normal(rng, shape, dtype))
    return (mean + std * noise).astype(dtype, copy=False)


def normal(mean: Tensor | float, std: Tensor | float = 1.0, size: Sequence[int] | None = None,
           *, generator: Generator | None = None, out: Tensor | None = None, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Normal samples with the given ``mean`` and ``std``, in PyTorch's four forms: two tensors
    (broadcast), a tensor and a number either way round, or two numbers and a ``size``.

    >>> import backprop as bp
    >>> bp.normal(bp.zeros(2, 3), 1.0).shape
    (2, 3)
    >>> bp.normal(2.0, 0.0, size=(2,)).tolist()
    [2.0, 2.0]
    """
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal: with a number for both mean and std, give the size of the "
                            "result (normal(mean, std, size))")
        if std < 0:
            raise ValueError(f"normal: expects std >= 0.0, but found std {std}")
        dtype = dtypes.as_dtype(dtype, "normal") if dtype is not None else dtypes.get_default_dtype()
        target = backend.as_device(device, "normal")
        values = mean + std * get_rng(generator).standard_normal(tuple(size))
        result = Tensor._wrap(backend.to_device(np.asarray(values, dtype), target)
                              if target is not None else np.asarray(values, dtype))
        if requires_grad:
            result.requires_grad = True
        return _store("normal", result, out)
    like = mean if isinstance(mean, Tensor) else std

    def as_tensor(value: Any) -> Any:  # a number takes the tensor's dtype and device
        return value if isinstance(value, Tensor) else Tensor._wrap(
            backend.on_device_of(np.asarray(value, like.dtype), like._data))

    mean = _as_float_tensor("normal", "mean", as_tensor(mean))
    std = _as_float_tensor("normal", "std", as_tensor(std))
    xp = xp_of(std._data)
    if std._data.size and not bool(xp.all(std._data >= 0)):
        raise ValueError(f"normal: expects all elements of std >= 0.0, but found "
                         f"{float(xp.min(std._data))}")
    try:
        np.broadcast_shapes(mean.shape, std.shape)
    except ValueError:
        raise ShapeError(f"normal: mean of shape {format_shape(mean.shape)} and std of shape "
                         f"{format_shape(std.shape)} cannot be broadcast together") from None
    return _store("normal", _normal(mean, std, generator=generator), out)


@primitive("poisson", grads={"input": _zero})
def _poisson(input: Any, *, generator: Generator | None) -> Any:
    return _host_draw(input, generator, lambda rng: rng.poisson(_host(input))).astype(input.dtype)


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    """Poisson counts with element-wise rates ``input``, in ``input``'s (floating) dtype.

    >>> import backprop as bp
    >>> bp.poisson(bp.tensor([0.0, 0.0])).tolist()
    [0.0, 0.0]
    """
    input = _as_float_tensor("poisson", "input", input)
    rates = input._data
    if rates.size and not bool(xp_of(rates).all(rates >= 0)):
        raise ValueError("poisson: invalid Poisson rate, expected every rate in input to be "
                         "non-negative")
    return _poisson(input, generator=generator)


def _standard_gamma_grad(alpha: Any, sample: Any) -> Any:
    """``d sample / d alpha`` for standard Gamma samples (see ``gamma_numerics``), as a
    constant: like PyTorch's ``_standard_gamma_grad`` it has no derivative of its own."""
    return standard_gamma_grad_array(getattr(alpha, "_data", alpha),
                                     getattr(sample, "_data", sample))


@primitive("standard_gamma", save=("alpha", "out"), grads={
    "alpha": lambda g, out, alpha, generator: g * _standard_gamma_grad(alpha, out),
})
def _standard_gamma(alpha: Any, *, generator: Generator | None) -> Any:
    """Standard Gamma(alpha) samples (scale 1), reparameterised: the gradient is the implicit
    one, the change of the sample at a fixed value of its CDF (``torch._standard_gamma``)."""
    drawn = _host_draw(alpha, generator, lambda rng: rng.standard_gamma(_host(alpha)))
    # A sample that rounds to 0 would make log-densities infinite: the smallest normal number
    # instead, as PyTorch clamps.
    return xp_of(alpha).maximum(drawn.astype(alpha.dtype), np.finfo(alpha.dtype).tiny)


# -- in-place fills --------------------------------------------------------------------------------

def _fill_with(self: Tensor, op: str, values: Any) -> Tensor:
    """Write drawn ``values`` (host or device array) into ``self`` in place. The old values get
    a zero gradient: they are overwritten, as in PyTorch."""
    if type(values) is np.ndarray:  # drawn on the host
        values = backend.on_device_of(values, self._data)
    return apply_inplace(self, op, lambda old: _copy(old, Tensor._wrap(values)))


def _require_float(self: Tensor, op: str) -> None:
    if self.dtype.kind not in "fV":
        raise DTypeError(f"{op}: expects a floating-point tensor, got {self.dtype}")


def _fill_float(self: Tensor, op: str, generator: Generator | None,
                draw: Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]) -> Tensor:
    _require_float(self, op)
    return _fill_with(self, op, draw(get_rng(generator), self.shape).astype(self.dtype))


def uniform_(self: Tensor, from_: float = 0.0, to: float = 1.0, *,
             generator: Generator | None = None) -> Tensor:
    """Fill with uniform samples from ``[from, to)``.

    >>> import backprop as bp
    >>> bool((bp.empty(100).uniform_(2, 3) >= 2).all())
    True
    """
    if from_ > to:
        raise ValueError(f"uniform_: expects to return a [from, to) range, but found "
                         f"from={from_} > to={to}")
    return _fill_float(self, "uniform_", generator,
                       lambda rng, shape: from_ + (to - from_) * rng.random(shape))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *,
            generator: Generator | None = None) -> Tensor:
    """Fill with normal samples of the given ``mean`` and ``std``."""
    if std < 0:
        raise ValueError(f"normal_: expects std >= 0.0, but found std {std}")
    return _fill_float(self, "normal_", generator,
                       lambda rng, shape: mean + std * rng.standard_normal(shape))


def exponential_(self: Tensor, lambd: float = 1.0, *,
                 generator: Generator | None = None) -> Tensor:
    """Fill with exponential samples of rate ``lambd`` (density ``lambd * exp(-lambd x)``)."""
    if not lambd > 0:
        raise ValueError(f"exponential_: expects lambda > 0.0, but found lambda={lambd}")
    return _fill_float(self, "exponential_", generator,
                       lambda rng, shape: rng.standard_exponential(shape) / lambd)


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *,
            generator: Generator | None = None) -> Tensor:
    """Fill with Cauchy samples of the given ``median`` and scale ``sigma``."""
    if not sigma > 0:
        raise ValueError(f"cauchy_: expects sigma > 0.0, but found sigma={sigma}")
    return _fill_float(self, "cauchy_", generator,
                       lambda rng, shape: median + sigma * rng.standard_cauchy(shape))


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *,
                generator: Generator | None = None) -> Tensor:
    """Fill with ``exp(N(mean, std))`` samples."""
    if not std > 0:
        raise ValueError(f"log_normal_: expects std > 0.0, but found std={std}")
    return _fill_float(self, "log_normal_", generator,
                       lambda rng, shape: np.exp(mean + std * rng.standard_normal(shape)))


def bernoulli_(self: Tensor, p: float | Tensor = 0.5, *,
               generator: Generator | None = None) -> Tensor:
    """Fill with 1 with probability ``p`` (a number, or a tensor broadcast to ``self``), else 0.

    >>> import backprop as bp
    >>> bp.zeros(3).bernoulli_(1.0).tolist()
    [1.0, 1.0, 1.0]
    """
    if isinstance(p, Tensor):
        _check_probabilities("bernoulli_", "p", p._data)
        probability = backend.on_device_of(_host(p._data), self._data)
    else:
        _check_probability("bernoulli_", p)
        probability = p
    uniforms = _host_draw(self._data, generator, lambda rng: rng.random(self.shape))
    return _fill_with(self, "bernoulli_", uniforms < probability)


def geometric_(self: Tensor, p: float, *, generator: Generator | None = None) -> Tensor:
    """Fill with the number of Bernoulli(``p``) trials up to and including the first success
    (1, 2, 3, ...).

    >>> import backprop as bp
    >>> bool((bp.empty(50).geometric_(0.3) >= 1).all())
    True
    """
    if not 0 < p < 1:
        raise ValueError(f"geometric_: expects p to be in (0, 1), but got p={p}")
    return _fill_with(self, "geometric_", get_rng(generator).geometric(p, self.shape))


def random_(self: Tensor, from_: int = 0, to: int | None = None, *,
            generator: Generator | None = None) -> Tensor:
    """Fill with integers drawn uniformly from ``[from, to)``; ``random_(to)`` means
    ``[0, to)``; without bounds the range is ``[0, largest]`` inclusive, where ``largest`` is
    the dtype's largest value, or for floating dtypes ``2**digits`` (up to which every integer
    is exact), as in PyTorch.

    >>> import backprop as bp
    >>> sorted(set(bp.zeros(200, dtype=bp.int64).random_(3).tolist()))
    [0, 1, 2]
    """
    if to is None and from_ != 0:  # ``random_(n)``: PyTorch reads a single bound as the end
        from_, to = 0, from_
    low, high = _random_range(self.dtype, from_, to)
    values = get_rng(generator).integers(low, high, size=self.shape, endpoint=True)
    return _fill_with(self, "random_", values.astype(self.dtype))


def _random_range(dtype: np.dtype, from_: int, to: int | None) -> tuple[int, int]:
    """The inclusive range ``random_`` draws from for ``dtype``."""
    if dtype.kind == "b":
        top = 1
    elif dtype.kind in "fV":
        top = 2 ** (np.finfo(dtype).nmant + 1)
    else:
        low_limit, top = int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
        if from_ < low_limit:
            raise ValueError(f"random_: from={from_} is out of bounds for {dtype}")
        if to is not None and not low_limit <= to - 1 <= top:
            raise ValueError(f"random_: to - 1 = {to - 1} is out of bounds for {dtype}")
    if to is None:
        return int(from_), top
    if from_ >= to:
        raise ValueError(f"random_: expects 'from' to be less than 'to', but got from={from_} "
                         f">= to={to}")
    return int(from_), int(to) - 1


__all__ = ["multinomial", "bernoulli", "normal", "poisson"]
