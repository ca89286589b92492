"""``functional_call`` and ``stack_module_state``: modules as functions of their state.

>>> import backprop as bp
>>> layer = bp.nn.Linear(2, 1)
>>> params = {"weight": bp.ones(1, 2), "bias": bp.zeros(1)}
>>> bp.func.functional_call(layer, params, (bp.tensor([[1.0, 2.0]]),)).tolist()
[[3.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..tensor import Tensor


def _owner(module: Any, name: str) -> tuple[Any, str]:
    parts = name.split(".")
    owner = module
    for part in parts[:-1]:
        children = owner.__dict__.get("_modules", {})
        if part not in children:
            raise AttributeError(f"functional_call: {type(owner).__name__} has no submodule "
                                 f"{part!r} (in the name {name!r})")
        owner = children[part]
    return owner, parts[-1]


def _store(owner: Any, attribute: str) -> dict | None:
    for store in ("_parameters", "_buffers"):
        table = owner.__dict__.get(store)
        if table is not None and attribute in table:
            return table
    return None


def functional_call(module: Any, parameter_and_buffer_dicts: Any, args: Any = None,
                    kwargs: dict | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """Call ``module`` with the tensors of ``parameter_and_buffer_dicts`` (a dict by name, or
    a tuple of dicts) in place of its parameters and buffers, restored afterwards even on an
    error (PyTorch's ``torch.func.functional_call``). With ``tie_weights`` a tensor given for
    one name of a shared parameter serves its other names too; ``strict`` requires exactly
    the module's names.

    >>> import backprop as bp
    >>> layer = bp.nn.Linear(1, 1, bias=False)
    >>> bp.func.functional_call(layer, {"weight": bp.full((1, 1), 3.0)}, bp.ones(1)).tolist()
    [3.0]
    """
    dicts = (parameter_and_buffer_dicts if isinstance(parameter_and_buffer_dicts, (tuple, list))
             else (parameter_and_buffer_dicts,))
    given: dict[str, Any] = {}
    for d in dicts:
        if not isinstance(d, dict):
            raise TypeError(f"functional_call: expected a dict of tensors by name (or a tuple "
                            f"of them), got {type(d).__name__}")
        for name, value in d.items():
            if name in given:
                raise ValueError(f"functional_call: {name!r} appeared in more than one of the "
                                 "dicts; give each name once")
            given[name] = value
    known = dict(module.named_parameters(remove_duplicate=False))
    known.update(dict(module.named_buffers(remove_duplicate=False)))
    if strict:
        missing = sorted(set(known) - set(given))
        unexpected = sorted(set(given) - set(known))
        if missing or unexpected:
            raise RuntimeError(f"functional_call: with strict=True the names must be the "
                               f"module's; missing {missing}, unexpected {unexpected}")
    if tie_weights:
        by_identity: dict[int, Any] = {id(known[n]): v for n, v in given.items() if n in known}
        for name, original in known.items():
            if name not in given and id(original) in by_identity:
                given[name] = by_identity[id(original)]
    swapped: list[tuple[dict, str, Any]] = []
    try:
        for name, value in given.items():
            owner, attribute = _owner(module, name)
            table = _store(owner, attribute)
            if table is None:
                if not strict and name not in known:
                    raise AttributeError(f"functional_call: {type(module).__name__} has no "
                                         f"parameter or buffer {name!r}")
                continue
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"functional_call: {name!r} must be a tensor, got "
                                f"{type(value).__name__}")
            swapped.append((table, attribute, table[attribute]))
            table[attribute] = value
            # Modules keep their parameters in their __dict__ too, for fast attribute reads.
            if attribute in owner.__dict__:
                swapped.append((owner.__dict__, attribute, owner.__dict__[attribute]))
                owner.__dict__[attribute] = value
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for table, attribute, original in reversed(swapped):
            table[attribute] = original


def stack_module_state(models: Sequence[Any]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """The parameters and buffers of ``models`` (of one architecture) stacked along a new dim
    0, by name: with ``vmap(functional_call(...), in_dims=(0, 0, None))`` an ensemble runs as
    one call (PyTorch's ``torch.func.stack_module_state``). The stacked parameters are new
    leaves that require grad where the models' did.

    >>> import backprop as bp
    >>> params, buffers = bp.func.stack_module_state([bp.nn.Linear(3, 2) for _ in range(4)])
    >>> params["weight"].shape, params["bias"].requires_grad
    ((4, 2, 3), True)
    """
    from ..ops.join import stack

    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: expected at least one model, got none")
    kinds = {type(m) for m in models}
    if len(kinds) != 1:
        raise RuntimeError(f"stack_module_state: the models must be of one class, got "
                           f"{sorted(k.__name__ for k in kinds)}")
    params = {}
    for name, first in models[0].named_parameters():
        stacked = stack([dict(m.named_parameters())[name].detach() for m in models])
        params[name] = stacked.requires_grad_(first.requires_grad)
    buffers = {name: stack([dict(m.named_buffers())[name] for m in models])
               for name, _ in models[0].named_buffers()}
    return params, buffers


__all__ = ["functional_call", "stack_module_state"]
