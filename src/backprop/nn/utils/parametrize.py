"""``bp.nn.utils.parametrize`` (PyTorch's ``torch.nn.utils.parametrize``): a module's parameter
or buffer computed by small modules from stored originals.

``register_parametrization(module, "weight", p)`` keeps the weight as
``module.parametrizations.weight.original`` (or ``original0``, ``original1``, ... when ``p``'s
``right_inverse`` returns several tensors) and turns ``module.weight`` into a property that
evaluates ``p(original)`` on each read: the module's class is swapped for a subclass
``Parametrized<Class>`` that holds the property, so other modules of the class are untouched.
The state-dict names are PyTorch's, so a parametrized state dict moves between the libraries.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ...autograd import grad_mode
from ...tensor import Tensor
from ..module import Module
from ..modules.container import ModuleDict, ModuleList
from ..parameter import Parameter

__all__ = ["ParametrizationList", "cached", "is_parametrized", "register_parametrization",
           "remove_parametrizations", "type_before_parametrizations"]

_cache_depth = 0
_cache: dict[tuple[int, str], Tensor] = {}


@contextlib.contextmanager
def cached() -> Iterator[None]:
    """Evaluate each parametrized tensor once inside the block (the first read is kept).

    >>> import backprop as bp
    >>> from backprop.nn.utils import parametrize
    >>> layer = parametrize.register_parametrization(bp.nn.Linear(2, 2), "weight", bp.nn.Tanh())
    >>> with parametrize.cached():
    ...     layer.weight is layer.weight
    True
    """
    global _cache_depth
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if not _cache_depth:
            _cache.clear()


def _assign(target: Tensor, value: Tensor) -> None:
    """Write ``value`` into ``target`` in place, keeping the tensor object (optimizers that hold
    it keep working), as PyTorch's ``set_``."""
    with grad_mode.no_grad():
        if tuple(target.shape) == tuple(value.shape) and target.dtype == value.dtype:
            target.copy_(value)
        else:
            target.data = value.detach()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the ``original`` tensor(s) they
    start from."""

    def __init__(self, modules: list[Module], original: Tensor, unsafe: bool = False) -> None:
        super().__init__(modules)
        self.unsafe = unsafe
        with grad_mode.no_grad():
            new: Any = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    new = module.right_inverse(new)
                # without one, right_inverse is taken to be the identity (PyTorch's rule)
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            _assign(original, new)
            _store(self, "original", original)
        else:
            for i, value in enumerate(new):
                value = value.detach()
                if isinstance(original, Parameter):
                    value = Parameter(value, requires_grad=original.requires_grad)
                _store(self, f"original{i}", value)

    def right_inverse(self, value: Tensor) -> None:
        """Store ``value`` (what the parametrized tensor should now read) in the originals,
        through each parametrization's ``right_inverse``, last first."""
        with grad_mode.no_grad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    value = module.right_inverse(value)
                elif not self.unsafe:
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       "implement right_inverse")
            if self.is_tensor:
                _assign(self.original, value)
            else:
                for i, part in enumerate(value):
                    _assign(getattr(self, f"original{i}"), part)

    def forward(self) -> Tensor:
        modules = list(self)
        if self.is_tensor:
            x = modules[0](self.original)
        else:
            x = modules[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in modules[1:]:
            x = module(x)
        return x


def _store(module: Module, name: str, tensor: Tensor) -> None:
    if isinstance(tensor, Parameter):
        module.register_parameter(name, tensor)
    else:
        module.register_buffer(name, tensor)


def _parametrized_class(module: Module) -> None:
    """Give ``module`` a class of its own, a subclass of its class, to hold the properties."""
    base = type(module)

    def __setattr__(self: Module, name: str, value: Any) -> None:
        if is_parametrized(self, name):
            self.parametrizations[name].right_inverse(value)
        else:
            base.__setattr__(self, name, value)

    # object's setattr: Module.__setattr__ would store __class__ as an instance attribute.
    object.__setattr__(module, "__class__", type(
        f"Parametrized{base.__name__}", (base,),
        {"__setattr__": __setattr__, "__module__": base.__module__}))


def _add_property(module: Module, name: str) -> None:
    def read(self: Module) -> Tensor:
        if not _cache_depth:
            return self.parametrizations[name]()
        key = (id(self), name)
        if key not in _cache:
            _cache[key] = self.parametrizations[name]()
        return _cache[key]

    setattr(type(module), name, property(read))


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has any parametrization (or one on ``tensor_name``).

    >>> import backprop as bp
    >>> bp.nn.utils.parametrize.is_parametrized(bp.nn.Linear(2, 2))
    False
    """
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def type_before_parametrizations(module: Module) -> type:
    """The module's class before any parametrization was registered."""
    return type(module).__bases__[0] if is_parametrized(module) else type(module)


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Compute ``module.<tensor_name>`` as ``parametrization(original)`` from now on; a second
    registration on the same tensor is applied after the first.

    >>> import backprop as bp
    >>> from backprop.nn.utils import parametrize
    >>> class Symmetric(bp.nn.Module):
    ...     def forward(self, X):
    ...         return X.triu() + X.triu(1).transpose(0, 1)
    >>> layer = parametrize.register_parametrization(bp.nn.Linear(3, 3), "weight", Symmetric())
    >>> bool((layer.weight == layer.weight.T).all()), type(layer).__name__
    (True, 'ParametrizedLinear')
    >>> list(layer.state_dict())
    ['bias', 'parametrizations.weight.original']
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        chain = module.parametrizations[tensor_name]
        chain.append(parametrization)
        chain.unsafe |= unsafe
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ValueError(f"register_parametrization: module {type(module).__name__} has no "
                         f"parameter, buffer or parametrized tensor named {tensor_name!r}")
    original = getattr(module, tensor_name)
    chain = ParametrizationList([parametrization], original, unsafe=unsafe)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        _parametrized_class(module)
        module.parametrizations = ModuleDict()
    _add_property(module, tensor_name)
    module.parametrizations[tensor_name] = chain
    return module


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Undo the parametrizations of ``tensor_name``: it becomes a plain parameter (or buffer)
    again, holding its current parametrized value (``leave_parametrized``) or the original.

    >>> import backprop as bp
    >>> from backprop.nn.utils import parametrize
    >>> layer = parametrize.register_parametrization(bp.nn.Linear(2, 2), "weight", bp.nn.Tanh())
    >>> type(parametrize.remove_parametrizations(layer, "weight")).__name__
    'Linear'
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"remove_parametrizations: module {type(module).__name__} has no "
                         f"parametrization on {tensor_name!r}")
    chain = module.parametrizations[tensor_name]
    if chain.is_tensor:
        original = chain.original
        if leave_parametrized:
            with grad_mode.no_grad():
                value = getattr(module, tensor_name)
            _assign(original, value)
    else:
        if not leave_parametrized:
            raise ValueError("remove_parametrizations: cannot leave_parametrized=False a tensor "
                             "parametrized by several originals")
        with grad_mode.no_grad():
            value = getattr(module, tensor_name).detach()
        first = chain.original0
        original = (Parameter(value, requires_grad=first.requires_grad)
                    if isinstance(first, Parameter) else value)
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _store(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        object.__setattr__(module, "__class__", type(module).__bases__[0])
    return module

