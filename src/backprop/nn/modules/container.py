"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList`` and
``ParameterDict``."""

from __future__ import annotations

import operator
from collections import OrderedDict
from typing import Any, Collection, Iterable, Iterator, Mapping

from ...tensor import Tensor
from ..module import Module
from ..parameter import Parameter


def _index(op: str, index: int, length: int, items: str = "modules") -> int:
    if not -length <= index < length:
        raise IndexError(f"{op}: index {index} is out of range for {length} {items}")
    return index % length


def _renumber(container: Module, modules: list[Module]) -> None:
    """Replace the container's children by ``modules`` named "0", "1", ..."""
    for name in list(container._modules):
        delattr(container, name)
    for i, module in enumerate(modules):
        container.add_module(str(i), module)


class Sequential(Module):
    """Modules applied one after another; built from modules or an ``OrderedDict`` of them.

    >>> import backprop as bp
    >>> model = bp.nn.Sequential(bp.nn.Linear(2, 3), bp.nn.ReLU())
    >>> model(bp.ones(4, 2)).shape, len(model)
    ((4, 3), 2)
    """

    def __init__(self, *args: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], Mapping):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def forward(self, input: Any) -> Any:
        for module in self._modules.values():
            input = module(input)
        return input

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        return items[_index("Sequential", index, len(items))][1]

    def __setitem__(self, index: int, module: Module) -> None:
        name = list(self._modules)[_index("Sequential", index, len(self._modules))]
        self.add_module(name, module)

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self._modules.values())
        del modules[index]
        _renumber(self, modules)  # names stay 0..n-1, as in PyTorch

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self._modules)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (plain lists are invisible to
    ``parameters()``).

    >>> import backprop as bp
    >>> layers = bp.nn.ModuleList([bp.nn.Linear(2, 2) for _ in range(3)])
    >>> len(list(layers.parameters()))
    6
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(modules[index])
        return modules[_index("ModuleList", index, len(modules))]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(str(_index("ModuleList", index, len(self._modules))), module)

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self._modules.values())
        del modules[index]
        _renumber(self, modules)

    def __repr__(self) -> str:
        """Runs of identical children fold into one line, ``(0-2): 3 x Linear(...)``."""
        if not self._modules:
            return "ModuleList()"
        lines, runs = [], []
        for name, child in self._modules.items():
            body = repr(child)
            if runs and runs[-1][2] == body:
                runs[-1][1] = name
            else:
                runs.append([name, name, body])
        for first, last, body in runs:
            body = body.replace("\n", "\n  ")
            if first == last:
                lines.append(f"({first}): {body}")
            else:
                count = int(last) - int(first) + 1
                lines.append(f"({first}-{last}): {count} x {body}")
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, module)
        _renumber(self, modules)


class ModuleDict(Module):
    """A dict of modules whose parameters are registered.

    >>> import backprop as bp
    >>> heads = bp.nn.ModuleDict({"a": bp.nn.Linear(2, 1), "b": bp.nn.Linear(2, 3)})
    >>> sorted(heads.keys()), heads["b"](bp.ones(2)).shape
    (['a', 'b'], (3,))
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None
                 ) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no module {key!r} (keys: {list(self._modules)})")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def pop(self, key: str) -> Module:
        module = self[key]
        delattr(self, key)
        return module

    def clear(self) -> None:
        for key in list(self._modules):
            delattr(self, key)

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for key, module in pairs:
            self.add_module(key, module)


# The legacy tensor type names that ParameterDict's repr prints (PyTorch's torch.typename).
_LEGACY_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                 "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
                 "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
                 "bool": "BoolTensor", "complex64": "ComplexFloatTensor",
                 "complex128": "ComplexDoubleTensor"}


def _entry_line(key: Any, value: Any, legacy_name: bool = False) -> str:
    """One line of a ParameterList's or ParameterDict's repr, in PyTorch's words: the list
    names the dtype, the dict the legacy type name (``FloatTensor``)."""
    if not isinstance(value, Tensor):
        return f"  ({key}): Object of type: {type(value).__name__}"
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    dtype = _LEGACY_NAMES.get(str(value.dtype), str(value.dtype)) if legacy_name else value.dtype
    size = "x".join(str(n) for n in value.shape)
    where = "" if value.device.type == "cpu" else f" ({value.device})"
    return f"  ({key}): {kind} containing: [{dtype} of size {size}{where}]"


def _as_parameter(value: Any) -> Any:
    # A plain tensor put in the list or dict becomes a Parameter (so it trains); other objects
    # are kept as they are, as in PyTorch.
    return Parameter(value) if isinstance(value, Tensor) and not isinstance(value, Parameter) \
        else value


class ParameterList(Module):
    """A list of parameters registered under the names "0", "1", ... (a plain list of
    parameters is invisible to ``parameters()`` and ``state_dict()``); tensors put in it become
    Parameters.

    >>> import backprop as bp
    >>> weights = bp.nn.ParameterList([bp.ones(2, 3), bp.zeros(3)])
    >>> weights.append(bp.nn.Parameter(bp.ones(1)))
    ParameterList(
        (0): Parameter containing: [float32 of size 2x3]
        (1): Parameter containing: [float32 of size 3]
        (2): Parameter containing: [float32 of size 1]
    )
    >>> list(weights.state_dict()), weights[-1].requires_grad
    (['0', '1', '2'], True)
    """

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def _position(self, index: int) -> str:
        try:
            index = operator.index(index)
        except TypeError:
            raise TypeError(f"ParameterList: indices must be integers or slices, got "
                            f"{type(index).__name__}") from None
        return str(_index("ParameterList", index, self._size, "entries"))

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return type(self)(self[i] for i in range(*index.indices(self._size)))
        return getattr(self, self._position(index))

    def __setitem__(self, index: int, value: Any) -> None:
        setattr(self, self._position(index), _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(self._size))

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def __dir__(self) -> list[str]:
        return [key for key in super().__dir__() if not key.isdigit()]

    def append(self, value: Any) -> ParameterList:
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        # A Tensor is iterable, but extending by its rows is never what was meant.
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend: values must be an iterable of parameters, "
                            f"got {type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_entry_line(i, value) for i, value in enumerate(self))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """A dict of parameters registered under their keys; tensors put in it become Parameters.
    A plain ``dict`` is added in sorted key order, an ``OrderedDict``, ``ParameterDict`` or
    sequence of pairs in its own order (as in PyTorch).

    >>> import backprop as bp
    >>> scales = bp.nn.ParameterDict({"b": bp.ones(2), "a": bp.zeros(1)})
    >>> scales["c"] = bp.ones(3)
    >>> list(scales.keys()), list(scales.state_dict())
    (['a', 'b', 'c'], ['a', 'b', 'c'])
    >>> scales
    ParameterDict(
        (a): Parameter containing: [FloatTensor of size 1]
        (b): Parameter containing: [FloatTensor of size 2]
        (c): Parameter containing: [FloatTensor of size 3]
    )
    """

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _attribute(key: Any) -> str:
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be strings, got {type(key).__name__} "
                            f"{key!r}")
        return key

    def __getitem__(self, key: str) -> Any:
        if self._attribute(key) not in self._keys:
            raise KeyError(f"ParameterDict has no parameter {key!r} (keys: {list(self._keys)})")
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, self._attribute(key), _as_parameter(value))
        self._keys[key] = None

    def __delitem__(self, key: str) -> None:
        self[key]  # the KeyError naming the keys
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __reversed__(self) -> Iterator[str]:
        return reversed(list(self._keys))

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def keys(self) -> Iterable[str]:
        return self._keys.keys()

    def values(self) -> Iterator[Any]:
        return (self[k] for k in self._keys)

    def items(self) -> Iterator[tuple[str, Any]]:
        return ((k, self[k]) for k in self._keys)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key: str) -> Any:
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple[str, Any]:
        if not self._keys:
            raise KeyError("ParameterDict.popitem: the dictionary is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def clear(self) -> None:
        for key in list(self._keys):
            del self[key]

    def copy(self) -> ParameterDict:
        return ParameterDict(OrderedDict(self.items()))

    def fromkeys(self, keys: Iterable[str], default: Any = None) -> ParameterDict:
        return ParameterDict((k, default) for k in keys)

    def update(self, parameters: Any) -> None:
        if not isinstance(parameters, Iterable):
            raise TypeError(f"ParameterDict.update: parameters must be a mapping or an iterable "
                            f"of (key, value) pairs, got {type(parameters).__name__}")
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs: Iterable = parameters.items()
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items())  # PyTorch sorts a plain dict's keys
        else:
            pairs = list(parameters)
            for j, pair in enumerate(pairs):
                if not isinstance(pair, Collection) or isinstance(pair, str) or len(pair) != 2:
                    raise ValueError(f"ParameterDict.update: element #{j} must be a (key, value) "
                                     f"pair, got {pair!r}")
        for key, value in pairs:
            self[key] = value

    def __or__(self, other: ParameterDict) -> ParameterDict:
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other: ParameterDict) -> ParameterDict:
        merged = other.copy()
        merged.update(self)
        return merged

    def __ior__(self, other: ParameterDict) -> ParameterDict:
        self.update(other)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_entry_line(k, value, legacy_name=True) for k, value in self.items())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterDict should not be called.")
