"""The import hook that serves ``import torch`` (and ``torchvision``) from backprop.

Module ``torch`` is the ``backprop`` module object itself and ``torch.A.B`` is the very module
``backprop.A.B``: never a second copy, so classes are identical and ``isinstance`` checks and
registries keyed by class keep working. A finder placed first on ``sys.meta_path`` wins over
an installed PyTorch.

>>> import backprop
>>> with torch_served():
...     import torch.nn.functional as F
>>> F is backprop.nn.functional
True
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Iterator, Mapping, Sequence
from types import ModuleType

# PyTorch's top-level packages and the packages of ours that serve them (longest prefix wins).
SERVED: Mapping[str, str] = {"torch": "backprop", "torchvision": "backprop.vision"}


class NotServed(ModuleNotFoundError):
    """A PyTorch module path that backprop does not have (yet)."""

    def __init__(self, torch_name: str) -> None:
        super().__init__(f"{torch_name} is not in backprop yet", name=torch_name)
        self.torch_name = torch_name


def served_name(name: str, table: Mapping[str, str] = SERVED) -> str | None:
    """Our module path for PyTorch's module path ``name``, or None if the table does not serve it.

    >>> served_name("torch.nn.functional"), served_name("torchvision.datasets")
    ('backprop.nn.functional', 'backprop.vision.datasets')
    >>> served_name("numpy") is None
    True
    """
    for prefix in sorted(table, key=len, reverse=True):
        if name == prefix or name.startswith(prefix + "."):
            return table[prefix] + name[len(prefix):]
    return None


def torch_name(module_name: str, table: Mapping[str, str] = SERVED) -> str:
    """PyTorch's spelling of one of our module paths (the reverse of ``served_name``).

    >>> torch_name("backprop.nn.functional"), torch_name("backprop.vision.transforms")
    ('torch.nn.functional', 'torchvision.transforms')
    """
    for prefix, ours in sorted(table.items(), key=lambda item: len(item[1]), reverse=True):
        if module_name == ours or module_name.startswith(ours + "."):
            return prefix + module_name[len(ours):]
    return module_name


class _Alias(importlib.abc.Loader):
    """Loads a served name by putting our module in its place in ``sys.modules``; the import
    system returns whatever that entry holds, so the throwaway module it made is dropped and
    our module's own ``__spec__`` and ``__name__`` stay untouched."""

    def __init__(self, ours: str) -> None:
        self.ours = ours

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the default (throwaway) module; exec_module replaces it

    def exec_module(self, module: ModuleType) -> None:
        sys.modules[module.__name__] = importlib.import_module(self.ours)


# PyTorch splits torch.nn.modules into files differently from us (its LayerNorm lives in
# normalization.py, ours in norm.py; its MultiheadAttention in activation.py), and programs name
# classes by those paths: `torch.serialization.safe_globals([torch.nn.modules.sparse.Embedding])`,
# `isinstance(m, torch.nn.modules.batchnorm._BatchNorm)`. Each of these paths is served by a
# module that finds a name wherever we keep it.
NN_MODULE_FILES = frozenset((
    "activation", "adaptive", "batchnorm", "channelshuffle", "container", "conv", "distance",
    "dropout", "flatten", "fold", "instancenorm", "lazy", "linear", "loss", "module",
    "normalization", "padding", "pixelshuffle", "pooling", "rnn", "sparse", "transformer",
    "upsampling", "utils"))
_NN_MODULES = "torch.nn.modules."
_ABSENT = object()


class _GatheredModule(ModuleType):
    """``torch.nn.modules.<file>``: each name looked up in our same-named file, then ``nn``, then
    every file of ``nn.modules`` (where the private bases such as ``_BatchNorm`` live)."""

    def __getattr__(self, name: str) -> object:
        nn = importlib.import_module("backprop.nn")
        places = [sys.modules.get("backprop.nn.modules." + self.__name__[len(_NN_MODULES):]),
                  nn, importlib.import_module("backprop.nn.module")]
        places += [module for key, module in list(sys.modules.items())
                   if key.startswith("backprop.nn.modules.")]
        for place in places:
            if place is not None and name in vars(place):
                return vars(place)[name]
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}", name=name,
                             obj=self)


class _Gather(importlib.abc.Loader):
    """Makes a ``_GatheredModule``. The import system then sets it as an attribute of its parent,
    ``backprop.nn.modules``, where it may hide our same-named file: ``displaced`` remembers what
    was there, for ``torch_served`` to put back."""

    def __init__(self) -> None:
        self.displaced: dict[str, object] = {}

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        parent = importlib.import_module("backprop.nn.modules")
        child = spec.name[len(_NN_MODULES):]
        self.displaced.setdefault(child, vars(parent).get(child, _ABSENT))
        return _GatheredModule(spec.name)

    def exec_module(self, module: ModuleType) -> None:
        pass


class TorchFinder(importlib.abc.MetaPathFinder):
    """Finds ``torch[.X]`` and ``torchvision[.X]`` as ``backprop[.X]`` and ``backprop.vision[.X]``;
    a path we lack raises ``NotServed`` rather than falling through to an installed PyTorch."""

    def __init__(self, table: Mapping[str, str] = SERVED) -> None:
        self.table = dict(table)
        self.gather = _Gather()

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        ours = served_name(fullname, self.table)
        if ours is None:
            return None
        if (fullname.startswith(_NN_MODULES) and ours == "backprop" + fullname[len("torch"):]
                and fullname[len(_NN_MODULES):] in NN_MODULE_FILES):
            return importlib.util.spec_from_loader(fullname, self.gather)
        try:
            found = importlib.util.find_spec(ours)
        except ModuleNotFoundError:  # a parent of ours is a plain module, or missing
            found = None
        if found is None:
            raise NotServed(fullname)
        return importlib.util.spec_from_loader(fullname, _Alias(ours))


def _served_entries(table: Mapping[str, str]) -> list[str]:
    return [name for name in sys.modules if served_name(name, table) is not None]


@contextlib.contextmanager
def torch_served(table: Mapping[str, str] = SERVED) -> Iterator[TorchFinder]:
    """Serve ``import torch`` / ``torchvision`` from backprop inside the block.

    Modules already imported under those names (a real PyTorch) are set aside and put back on
    leaving; the aliases the block created are dropped. Nested blocks share the outer finder.

    >>> import backprop
    >>> with torch_served():
    ...     import torch
    ...     torch.Tensor is backprop.Tensor
    True
    """
    for finder in sys.meta_path:
        if isinstance(finder, TorchFinder):  # an outer block already serves: leave it be
            yield finder
            return
    set_aside = {name: sys.modules.pop(name) for name in _served_entries(table)}
    finder = TorchFinder(table)
    sys.meta_path.insert(0, finder)
    try:
        if served_name("torch.nn.modules", table) == "backprop.nn.modules":
            # PyTorch imports all of them, so programs reach them as attributes, never importing:
            # `torch.nn.modules.activation.MultiheadAttention`.
            for name in sorted(NN_MODULE_FILES):
                importlib.import_module(_NN_MODULES + name)
        yield finder
    finally:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(finder)
        for name in _served_entries(table):
            del sys.modules[name]
        sys.modules.update(set_aside)
        parent = sys.modules.get("backprop.nn.modules")
        for child, value in finder.gather.displaced.items():
            if value is _ABSENT:
                vars(parent).pop(child, None)
            else:
                setattr(parent, child, value)
