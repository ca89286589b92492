"""Containers: ``Sequential``, ``ModuleList`` and ``ModuleDict``."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterable, Iterator, Mapping

from ..module import Module


def _index(op: str, index: int, length: int) -> int:
    if not -length <= index < length:
        raise IndexError(f"{op}: index {index} is out of range for {length} modules")
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

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
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
