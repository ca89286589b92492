"""The row format of the module table, and how a row is run in either library.

A row (``Case``) says how to build the module and what to feed it; ``build(lib)`` is called with
``backprop`` or ``torch`` so both libraries build the same module from the same arguments. The
checks that run every row live in ``tests/test_module_table.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

RTOL, ATOL = 1e-8, 1e-12
# float32 against float32: both libraries round each op to float32, in different orders, so
# results differ by a few units in the last place of the largest term they sum.
RTOL32, ATOL32 = 1e-4, 1e-5


class Const:
    """An input that gets no gradient (targets, masks, indices)."""

    def __init__(self, value: Any) -> None:
        self.value = value


@dataclass
class Case:
    """One module-table row.

    ``build(lib)`` makes the module in bp or torch; ``inputs(rng)`` the positional arguments
    (float arrays get requires_grad unless wrapped in ``Const``; the single string ``"self"``
    means one (3, 2, 4) tensor passed three times); ``kwargs(rng)`` the keyword ones, by the same
    rules. ``wrap(lib, args)``, if given, turns the converted arguments into what the module
    takes (a ``PackedSequence``, say); gradients are still checked at the arguments.
    ``gradcheck`` runs float64 finite differences (keep such rows tiny); a row whose forward
    changes its own parameters (``max_norm``) or draws random numbers per call turns it off.
    """

    id: str
    build: Callable[[Any], Any]
    inputs: Callable[[np.random.Generator], list]
    kwargs: Callable[[np.random.Generator], dict] = field(default=lambda rng: {})
    train: bool = True
    rtol: float = RTOL
    rtol32: float = RTOL32
    gradcheck: bool = True
    wrap: Callable[[Any, list], list] | None = None


def x(*shape: int, scale: float = 1.0) -> Callable[[np.random.Generator], list]:
    """A single float input."""
    return lambda rng: [rng.standard_normal(shape) * scale]


def softmax(a: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


# -- running a row ------------------------------------------------------------------------------

def to_lib(lib: Any, value: Any, dtype: Any = np.float64) -> Any:
    """A NumPy input as a bp or torch tensor (floats in ``dtype``, requiring grad unless
    ``Const``)."""
    if isinstance(value, Const):
        value = value.value
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            value = value.astype(dtype)
        return lib.tensor(value) if isinstance(value, np.ndarray) else value
    if isinstance(value, np.ndarray):
        floating = value.dtype.kind == "f"
        return lib.tensor(value.astype(dtype) if floating else value, requires_grad=floating)
    return value


def to_numpy(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy()


def flatten(value: Any) -> list:
    """Every tensor (or None) in a nested output, depth first: ``(out, (h, c))`` is three."""
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in flatten(item)]
    return [value] if value is None or hasattr(value, "requires_grad") else []


def arguments(lib: Any, case: Case, rng: np.random.Generator,
              dtype: Any = np.float64) -> tuple[list, list, dict]:
    """(leaf inputs, positional arguments, keyword arguments) of a row in ``lib``."""
    raw = case.inputs(rng)
    if len(raw) == 1 and isinstance(raw[0], str):  # "self"
        leaves = [to_lib(lib, rng.standard_normal((3, 2, 4)), dtype)] * 3
    else:
        leaves = [to_lib(lib, v, dtype) for v in raw]
        if len(raw) == 3 and all(v is raw[0] for v in raw):  # the same array three times
            leaves = [leaves[0]] * 3
    kwargs = {k: to_lib(lib, v, dtype) for k, v in case.kwargs(rng).items()}
    args = case.wrap(lib, leaves) if case.wrap else leaves
    return leaves, args, kwargs


def upstream(lib: Any, outputs: list, seed: int) -> Any:
    """The scalar whose gradient is checked: each float output against fixed random weights."""
    rng = np.random.default_rng(seed + 1)
    total = None
    for o in outputs:
        if o is None or not o.is_floating_point() or not o.requires_grad:
            continue
        weights = lib.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype, device=o.device)
        term = (o * weights).sum()
        total = term if total is None else total + term
    return total


def run(lib: Any, module: Any, case: Case, seed: int,
        dtype: Any = np.float64) -> tuple[list, list]:
    """Forward, then backward from random upstream weights; returns (outputs, leaf inputs)."""
    leaves, args, kwargs = arguments(lib, case, np.random.default_rng(seed), dtype)
    module.train(case.train)
    outputs = flatten(module(*args, **kwargs))
    total = upstream(lib, outputs, seed)
    if total is not None:
        total.backward()
    return outputs, leaves


def assert_close(ours: Any, theirs: Any, what: str, rtol: float = RTOL,
                 atol: float = ATOL) -> None:
    if theirs is None:
        assert ours is None, what
        return
    assert ours is not None, f"{what}: backprop gave None, PyTorch a value"
    a, b = to_numpy(ours), to_numpy(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs PyTorch's {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} vs PyTorch's {b.dtype}"
    if b.dtype.kind in "iub":
        np.testing.assert_array_equal(a, b, err_msg=what)
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def copy_weights(ours: Any, theirs: Any) -> None:
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
