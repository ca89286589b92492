"""A tiny tree flatten/unflatten for the nested tuples, lists and dicts ``bp.func`` accepts.

>>> from backprop.func.pytree import tree_flatten, tree_unflatten
>>> leaves, spec = tree_flatten((1, [2, {"a": 3}]))
>>> leaves, tree_unflatten([x * 10 for x in leaves], spec)
([1, 2, 3], (10, [20, {'a': 30}]))
"""

from __future__ import annotations

from typing import Any


def tree_flatten(tree: Any) -> tuple[list, Any]:
    """The leaves of ``tree`` (depth first, dict keys in insertion order) and its structure."""
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree: Any, leaves: list) -> Any:
    if type(tree) is tuple or type(tree) is list:
        return (type(tree), [_flatten(t, leaves) for t in tree])
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):  # a named tuple (values, indices)
        return (type(tree), [_flatten(t, leaves) for t in tree], True)
    if isinstance(tree, dict):
        return (dict, [(k, _flatten(v, leaves)) for k, v in tree.items()])
    leaves.append(tree)
    return None


def tree_unflatten(leaves: list, spec: Any) -> Any:
    """The tree of structure ``spec`` (from ``tree_flatten``) holding ``leaves``."""
    it = iter(leaves)
    return _build(spec, it)


def _build(spec: Any, it: Any) -> Any:
    if spec is None:
        return next(it)
    kind, children = spec[0], spec[1]
    if len(spec) == 3:
        return kind(*[_build(c, it) for c in children])
    if kind is dict:
        return {k: _build(c, it) for k, c in children}
    return kind(_build(c, it) for c in children)


__all__ = ["tree_flatten", "tree_unflatten"]
