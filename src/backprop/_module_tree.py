"""Whole modules in a checkpoint, as data: ``save(model, f)`` and ``load(f)`` without pickle.

A module is written as one tagged node naming its class (``module.qualname``, a string), its
``training`` flag, its parameters, buffers (and which are not persistent) and submodules in
registration order, and its other attributes, each encoded as any checkpoint value::

    {"$module": "__main__.Net", "id": 0, "training": true,
     "parameters": [["weight", {"$tensor": ...}], ...], "buffers": [...],
     "non_persistent": ["mask"], "modules": [["fc", {"$module": ...}], ...],
     "attributes": [["hidden", 32], ...]}
    {"$moduleref": 0}                      the same module object again (shared, or a cycle)
    {"$global": "backprop.nn.functional.relu"}     a function or class stored as an attribute
    {"$dtype": "float32"}   {"$device": "cuda:0"}   {"$size": [2, 3]}
    {"$dataclass": "backprop.models.gpt.GPTConfig", "fields": [["n_layer", 2], ...]}

Loading builds a module with ``cls.__new__(cls)`` and ``Module.__init__`` (never the class's
own ``__init__``, so a model whose constructor takes arguments comes back) and fills in the
saved state; the class comes only from ``_safe_globals.Resolver`` (backprop's classes and the
user's allowlist), so nothing a file names is imported or run. Tensors shared between modules
(tied weights) are one safetensors entry and load as one Parameter.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from . import backend
from ._checkpoint_format import COMPLEX_PARTS, MAX_NESTING, STORABLE
from ._safe_globals import Resolver, name_to_save, qualified_name, refusal
from .tensor import Tensor

__all__ = ["MODULE_TAG_FIELDS", "Attribute", "decode_tagged", "encode_special",
           "names_to_resolve"]

# The fields each node may have; the reader refuses any other.
MODULE_TAG_FIELDS = {
    "$module": {"$module", "id", "training", "parameters", "buffers", "non_persistent",
                "modules", "attributes"},
    "$moduleref": {"$moduleref"}, "$global": {"$global"}, "$dtype": {"$dtype"},
    "$device": {"$device"}, "$size": {"$size"}, "$dataclass": {"$dataclass", "fields"},
}
# Module.__init__'s own entries: written as the fields above, never as attributes.
_MODULE_SLOTS = frozenset({"training", "_parameters", "_buffers", "_non_persistent_buffers",
                           "_modules", "_forward_hooks", "_forward_pre_hooks",
                           "_backward_hooks"})
_HOOKS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks")
MODULE_FORMAT_VERSION = 2  # the first version with these tags


class Attribute(str):
    """A module attribute's name in an error's path: shown as ``.name``, not ``['name']``."""

    def __repr__(self) -> str:
        return f".{self!s}"


# -- saving ---------------------------------------------------------------------------------------


def encode_special(writer: Any, value: Any, trail: tuple) -> Any:
    """The node for a module, dtype, device, Size or named function/class; ``NotImplemented``
    for anything else (the writer then refuses it)."""
    from .nn.module import Module  # nn sits above serialization
    from .ops.shape_more import Size

    if isinstance(value, Module):
        return _encode_module(writer, value, trail)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        _check_depth(writer, trail, "dataclasses")
        writer.version = max(writer.version, MODULE_FORMAT_VERSION)
        return {"$dataclass": qualified_name(type(value)),
                "fields": [[field.name, writer.encode(getattr(value, field.name),
                                                      trail + (Attribute(field.name),))]
                           for field in dataclasses.fields(value)]}
    if isinstance(value, Size):
        writer.version = max(writer.version, MODULE_FORMAT_VERSION)
        return {"$size": [int(n) for n in value]}
    if isinstance(value, np.dtype):
        if value not in STORABLE and value not in COMPLEX_PARTS:
            raise TypeError(f"save: {writer.where(trail)} is the dtype {value}, which a "
                            "checkpoint cannot hold; backprop's dtypes (bp.float32, ...) can")
        writer.version = max(writer.version, MODULE_FORMAT_VERSION)
        return {"$dtype": value.name}
    if isinstance(value, backend.device):
        writer.version = max(writer.version, MODULE_FORMAT_VERSION)
        return {"$device": str(value)}
    if callable(value):
        name = name_to_save(value)
        if name is None:
            label = getattr(value, "__qualname__", type(value).__name__)
            raise TypeError(f"save: {writer.where(trail)} is a {type(value).__name__} "
                            f"({label}), which a checkpoint cannot hold: only backprop's own "
                            "functions and classes, and functions and classes defined at the top "
                            "level of a module, are saved (by name); lambdas and nested "
                            "functions are not. Make it a module-level function or an nn.Module")
        writer.version = max(writer.version, MODULE_FORMAT_VERSION)
        return {"$global": name}
    return NotImplemented


def _encode_module(writer: Any, module: Any, trail: tuple) -> dict[str, Any]:
    writer.version = max(writer.version, MODULE_FORMAT_VERSION)
    _check_depth(writer, trail, "modules")
    if id(module) in writer.module_ids:  # the same module again: one object after loading
        return {"$moduleref": writer.module_ids[id(module)]}
    writer.module_ids[id(module)] = len(writer.module_ids)
    writer.kept.append(module)  # no id may be reused while saving
    state = module.__dict__
    for hooks in _HOOKS:
        if state.get(hooks):
            raise TypeError(f"save: {writer.where(trail)} ({type(module).__name__}) has "
                            f"{hooks.strip('_').replace('_', ' ')}, which a checkpoint cannot "
                            "hold (hooks are code); remove them before saving, or save the "
                            "state_dict()")
    registered = set(module._parameters) | set(module._buffers) | set(module._modules)
    for name in state:
        if not isinstance(name, str) or (name.startswith("__") and name.endswith("__")):
            raise TypeError(f"save: {writer.where(trail)} has the attribute {name!r:.60}, which "
                            "a checkpoint does not restore (names like __x__ are Python's own)")

    def members(store: dict) -> list:
        return [[name, writer.encode(value, trail + (Attribute(name),))]
                for name, value in store.items()]

    return {"$module": qualified_name(type(module)), "id": writer.module_ids[id(module)],
            "training": bool(module.training),
            "parameters": members(module._parameters), "buffers": members(module._buffers),
            "non_persistent": sorted(module._non_persistent_buffers),
            "modules": members(module._modules),
            "attributes": [[name, writer.encode(value, trail + (Attribute(name),))]
                           for name, value in state.items()
                           if name not in _MODULE_SLOTS and name not in registered]}


def _check_depth(writer: Any, trail: tuple, what: str) -> None:
    # Also what stops a dataclass that holds itself: its trail grows until this refuses it.
    if len(trail) >= MAX_NESTING:
        raise ValueError(f"save: {writer.where(trail[:4])}... nests {what} more than "
                         f"{MAX_NESTING} deep, more than a checkpoint holds")


# -- loading --------------------------------------------------------------------------------------


def names_to_resolve(tree: Any) -> list[str]:
    """Every class and function name in a document's tree, in order, each once (walked with a
    stack: the tree's depth is not checked yet)."""
    names: dict[str, None] = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            for tag in ("$module", "$global", "$dataclass"):
                if isinstance(node.get(tag), str):
                    names[node[tag]] = None
            stack.extend(reversed(list(node.values())))
    return list(names)


def check_names(reader: Any, tree: Any) -> None:
    """Refuse, before anything is built, every name that neither table holds, all at once."""
    names = names_to_resolve(tree)
    if not names:
        return
    reader.resolver = Resolver()
    unknown = [name for name in names if reader.resolver.find(name) is None]
    if unknown:
        raise reader.error(refusal(unknown))


def decode_tagged(reader: Any, tag: str, node: dict[str, Any], depth: int) -> Any:
    """Rebuild a node with one of ``MODULE_TAG_FIELDS``' tags."""
    value = node[tag]
    if tag == "$dtype":
        reader.expect(isinstance(value, str) and value in reader.dtypes_by_name, tag, value)
        return reader.dtypes_by_name[value]
    if tag == "$device":
        reader.expect(isinstance(value, str) and reader.is_device_name(value), tag, value)
        return backend.device(value)
    if tag == "$size":
        from .ops.shape_more import Size  # ops sit above serialization

        reader.expect(isinstance(value, list) and all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value),
            tag, value)
        return Size(value)
    if tag == "$global":
        reader.expect(isinstance(value, str), tag, value)
        return _resolve(reader, value)
    if tag == "$dataclass":
        reader.expect(isinstance(value, str), tag, value)
        cls = _resolve(reader, value)
        if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
            raise reader.error(f"names {value} as a dataclass, but it is not one")
        instance = cls.__new__(cls)
        names = {field.name for field in dataclasses.fields(cls)}
        for key, item in _pairs(reader, node.get("fields"), "fields", depth):
            reader.expect(key in names, tag, key)
            object.__setattr__(instance, key, item)  # frozen ones too; __init__ is not run
        return instance
    if tag == "$moduleref":
        reader.expect(isinstance(value, int) and not isinstance(value, bool)
                      and value in reader.modules_by_id, tag, value)
        return reader.modules_by_id[value]
    return _decode_module(reader, node, depth)


def _resolve(reader: Any, name: str) -> Any:
    resolver = getattr(reader, "resolver", None) or Resolver()
    reader.resolver = resolver
    found = resolver.find(name)
    if found is None:  # check_names has refused it already; kept for a reader used alone
        raise reader.error(refusal([name]))
    return found


def _decode_module(reader: Any, node: dict[str, Any], depth: int) -> Any:
    from .nn.module import Module  # nn sits above serialization
    from .nn.parameter import Parameter

    name = node["$module"]
    reader.expect(isinstance(name, str), "$module", name)
    cls = _resolve(reader, name)
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise reader.error(f"names {name} as a module's class, but it is "
                           f"{'a class that is not an nn.Module' if isinstance(cls, type) else 'not a class'}")
    ident, training = node.get("id"), node.get("training")
    reader.expect(isinstance(ident, int) and not isinstance(ident, bool)
                  and ident not in reader.modules_by_id, "$module", ident)
    reader.expect(isinstance(training, bool), "$module", training)
    module = cls.__new__(cls)
    Module.__init__(module)  # the base's own setup only: the saved state does the rest
    reader.modules_by_id[ident] = module  # before the children: they may refer back to it
    state = module.__dict__
    state["training"] = training
    stores = (("parameters", module._parameters, Parameter), ("buffers", module._buffers, None),
              ("modules", module._modules, Module))
    for field, store, kind in stores:
        for key, value in _pairs(reader, node.get(field), field, depth):
            if key in _MODULE_SLOTS or key in state:
                raise reader.error(f"has malformed metadata ({name} has {key!r:.60} twice or "
                                   "in place of a module's own field)")
            if value is not None and not isinstance(value, kind or Tensor):
                raise reader.error(f"has malformed metadata ({name}'s {field} entry {key!r:.60} "
                                   f"is a {type(value).__name__})")
            store[key] = state[key] = value
    persistent_not = node.get("non_persistent")
    reader.expect(isinstance(persistent_not, list)
                  and all(isinstance(n, str) and n in module._buffers for n in persistent_not),
                  "$module", persistent_not)
    module._non_persistent_buffers.update(persistent_not)
    for key, value in _pairs(reader, node.get("attributes"), "attributes", depth):
        if key in _MODULE_SLOTS or key in state:
            raise reader.error(f"has malformed metadata ({name} has attribute {key!r:.60} twice "
                               "or in place of a module's own field)")
        state[key] = value
    return module


def _pairs(reader: Any, pairs: Any, field: str, depth: int) -> list[tuple[str, Any]]:
    reader.expect(isinstance(pairs, list), "$module", pairs)
    decoded = []
    for pair in pairs:
        reader.expect(isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
                      and not (pair[0].startswith("__") and pair[0].endswith("__")),
                      "$module", pair)
        decoded.append((pair[0], reader.decode(pair[1], depth)))
    names = [key for key, _ in decoded]
    if len(set(names)) != len(names):
        raise reader.error(f"has malformed metadata (a module's {field} repeat a name)")
    return decoded
