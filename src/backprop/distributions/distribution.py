"""``Distribution``: the base of every family (``torch.distributions.Distribution``)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import ShapeError, format_shape
from ..tensor import Tensor
from . import constraints
from .utils import broadcast_all, lazy_property


class Distribution:
    """A batch of probability distributions of shape ``batch_shape``, each over events of shape
    ``event_shape``. Parameters are checked against ``arg_constraints`` and values passed to
    ``log_prob`` against ``support`` unless ``validate_args=False`` (or
    ``Distribution.set_default_validate_args(False)``).

    >>> import backprop as bp
    >>> from backprop.distributions import Normal
    >>> d = Normal(bp.zeros(3), 1.0)
    >>> d.batch_shape, d.event_shape, d.sample((2,)).shape
    ((3,), (), (2, 3))
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = True
    arg_constraints: dict[str, constraints.Constraint] = {}
    support: Any = None

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected a bool, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape: Sequence[int] = (), event_shape: Sequence[int] = (),
                 validate_args: bool | None = None) -> None:
        self._batch_shape = tuple(batch_shape)
        self._event_shape = tuple(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if not self._validate_args:
            return
        for name, constraint in self.arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue
            if name not in self.__dict__ and isinstance(getattr(type(self), name, None),
                                                        lazy_property):
                continue  # probs given as logits (or the other way): checked in its own form
            value = getattr(self, name)
            valid = constraint.check(value)
            if not bool(valid.all()):
                raise ValueError(
                    f"{type(self).__name__}: expected parameter {name} (Tensor of shape "
                    f"{format_shape(tuple(value.shape))}) to satisfy the constraint "
                    f"{constraint!r}, but found invalid values: {value.detach().tolist()}")

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return self._batch_shape

    @property
    def event_shape(self) -> tuple[int, ...]:
        return self._event_shape

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> Distribution:
        """This distribution with its parameters broadcast to ``batch_shape`` (no copies)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement expand")

    def _get_checked_instance(self, cls: type, _instance: Any) -> Any:
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(f"Subclass {type(self).__name__} of {cls.__name__} that "
                                      "defines a custom __init__ method must also define a "
                                      "custom .expand() method.")
        return cls.__new__(type(self)) if _instance is None else _instance

    def _expanded(self, cls: type, batch_shape: Sequence[int], names: Sequence[str],
                  _instance: Any) -> Any:
        """``expand`` for a family whose parameters ``names`` all have the batch shape (plus
        the event shape): each is broadcast, and the copy validates nothing again."""
        new = self._get_checked_instance(cls, _instance)
        batch_shape = tuple(batch_shape)
        for name in names:
            if name in self.__dict__:
                value = self.__dict__[name]
                new.__dict__[name] = value.expand(batch_shape + value.shape[len(self.batch_shape):])
        return self._expanded_shapes(new, batch_shape)

    def _expanded_shapes(self, new: Any, batch_shape: Sequence[int]) -> Any:
        """``new`` (an expanded copy whose parameters are set) given ``batch_shape``, this
        event shape and this validation setting, without validating again."""
        Distribution.__init__(new, tuple(batch_shape), self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """Samples of shape ``sample_shape + batch_shape + event_shape``, outside the graph."""
        from ..autograd import grad_mode
        with grad_mode.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """Reparameterised samples: gradients flow to the parameters."""
        raise NotImplementedError(f"{type(self).__name__} does not implement rsample")

    def sample_n(self, n: int) -> Tensor:
        return self.sample((n,))

    def log_prob(self, value: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement log_prob")

    def cdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement cdf")

    def icdf(self, value: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement icdf")

    def entropy(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement entropy")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement "
                                  "enumerate_support")

    def perplexity(self) -> Tensor:
        return self.entropy().exp()

    def _extended_shape(self, sample_shape: Sequence[int] = ()) -> tuple[int, ...]:
        return tuple(sample_shape) + self._batch_shape + self._event_shape

    def _validate_sample(self, value: Any) -> None:
        """PyTorch's checks of a value given to ``log_prob``: a tensor whose right-most dims are
        the event shape, broadcastable with the batch, inside the support."""
        name = type(self).__name__
        if not isinstance(value, Tensor):
            raise ValueError(f"{name}: the value argument to log_prob must be a Tensor")
        event_dims = len(self._event_shape)
        if value.shape[value.ndim - event_dims:] != self._event_shape:
            raise ShapeError(f"{name}: the right-most size of value must match event_shape: "
                             f"{format_shape(value.shape)} vs {format_shape(self._event_shape)}")
        try:
            np.broadcast_shapes(value.shape, self._batch_shape + self._event_shape)
        except ValueError:
            raise ShapeError(f"{name}: value of shape {format_shape(value.shape)} is not "
                             "broadcastable with batch_shape+event_shape: "
                             f"{format_shape(self._batch_shape + self._event_shape)}") from None
        support = self.support
        if support is None or constraints.is_dependent(support):
            return
        valid = support.check(value)
        if not bool(valid.all()):
            raise ValueError(f"{name}: expected value argument (Tensor of shape "
                             f"{format_shape(value.shape)}) to be within the support "
                             f"({support!r}) of the distribution, but found invalid values: "
                             f"{value.detach().tolist()}")

    def __repr__(self) -> str:
        shown = []
        for name in (k for k in self.arg_constraints if k in self.__dict__):
            value = self.__dict__[name]
            shown.append(f"{name}: {value.item() if value.numel() == 1 else value.shape}")
        shown = ", ".join(shown)
        return f"{type(self).__name__}({shown})"


class LocationScale(Distribution):
    """The shared part of ``Normal`` and ``Laplace``: a real ``loc`` (the mean and the mode)
    and a positive ``scale``, broadcast together."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape: Sequence[int], _instance: Any = None) -> Any:
        return self._expanded(type(self), batch_shape, ("loc", "scale"), _instance)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc
