"""Tests generated from the module table (tests/moduletable): one row per module configuration.

For every row: PyTorch's module and ours are built from the same arguments; the printed module,
the parameter names and shapes and the ``state_dict`` keys must be PyTorch's; PyTorch's state
dict is loaded into ours by name; then outputs, input gradients, parameter gradients and buffers
are compared in float64 and in float32. Float64 finite differences check our gradients on their
own, and the strict stand-in device runs every row (``test_device_strict.py``). Every public
module class must have a row and PyTorch's constructor signature.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest

import backprop as bp
from moduletable import CASES
from moduletable.spec import ATOL32, Case, arguments, assert_close, copy_weights, flatten, run, \
    upstream

# PyTorch's own notes: performance of padding='same' with even kernels, KLDivLoss's 'mean',
# a TransformerEncoder that cannot use nested tensors (ours says the same).
pytestmark = [pytest.mark.filterwarnings("ignore:Using padding='same'"),
              pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss"),
              pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")]

# Public module classes that need no row, each with why.
NO_ROW = {
    "Module": "the base class; every row exercises it",
    "ModuleList": "a container without forward(); tested in test_module.py",
    "ModuleDict": "a container without forward(); tested in test_module.py",
    "ParameterList": "a container without forward(); tested in test_parameter_containers.py",
    "ParameterDict": "a container without forward(); tested in test_parameter_containers.py",
    "Container": "deprecated, without forward(); tested in test_nn_tail.py",
    "RNNBase": "the recurrent layers' base class; PyTorch's has no forward() (see RNN's rows)",
    "RNNCellBase": "the cells' base class, without forward(); its rows are the three cells'",
}


def by_id(cases: list[Case]) -> Any:
    return pytest.mark.parametrize("case", cases, ids=[c.id for c in cases])


def compare(ours: Any, theirs: Any, case: Case, torch: Any, dtype: Any, rtol: float,
            atol: float) -> None:
    """Runs both modules on the row's inputs and compares everything a step touches."""
    our_out, our_inputs = run(bp, ours, case, 0, dtype)
    their_out, their_inputs = run(torch, theirs, case, 0, dtype)
    assert len(our_out) == len(their_out), f"{len(our_out)} outputs, PyTorch {len(their_out)}"
    scale = max([1.0] + [float(np.abs(o.detach().numpy()).max()) for o in their_out
                         if o is not None and o.numel() and o.is_floating_point()])
    for i, (a, b) in enumerate(zip(our_out, their_out)):
        assert_close(a, b, f"output {i}", rtol, atol * scale)
    for i, (a, b) in enumerate(zip(our_inputs, their_inputs)):
        if isinstance(b, torch.Tensor) and b.requires_grad:
            assert_close(a.grad, b.grad, f"gradient of input {i}", rtol, atol * scale)
    ours_by_name = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        assert_close(ours_by_name[name].grad, p.grad, f"gradient of {name}", rtol, atol * scale)
    for name, value in theirs.state_dict().items():  # running statistics, in-place updates
        assert_close(ours.state_dict()[name], value, f"state {name}", rtol, atol * scale)


@by_id(CASES)
def test_float64_matches_torch(torch: Any, case: Case) -> None:
    theirs = case.build(torch).double()
    ours = case.build(bp).double()
    assert repr(ours) == repr(theirs)
    assert ([(n, tuple(p.shape)) for n, p in ours.named_parameters()]
            == [(n, tuple(p.shape)) for n, p in theirs.named_parameters()])
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_weights(ours, theirs)
    compare(ours, theirs, case, torch, np.float64, case.rtol, 1e-12)


@by_id(CASES)
def test_float32_matches_torch(torch32: Any, case: Case) -> None:
    theirs = case.build(torch32).float()
    ours = case.build(bp).float()
    copy_weights(ours, theirs)
    compare(ours, theirs, case, torch32, np.float32, case.rtol32, ATOL32)


def directional_derivatives(case: Case, directions: int = 2,
                            eps: float = 1e-6) -> list[tuple[float, float]]:
    """(backward's, central differences') derivative of the row's weighted output sum along
    random directions in (inputs, parameters) space, in float64."""
    bp.manual_seed(0)
    module = case.build(bp).double().train(case.train)
    leaves, args, kwargs = arguments(bp, case, np.random.default_rng(0))
    variables = [t for t in dict.fromkeys(leaves) if isinstance(t, bp.Tensor) and t.requires_grad]
    variables += [p for p in module.parameters() if p.requires_grad]

    def loss() -> Any:
        bp.manual_seed(0)  # the same random draws in every evaluation
        return upstream(bp, flatten(module(*case.wrap(bp, leaves) if case.wrap else args,
                                           **kwargs)), 0)

    loss().backward()
    grads = [np.zeros(v.shape) if v.grad is None else v.grad.numpy() for v in variables]

    def shift(directions: list[np.ndarray], step: float) -> None:
        with bp.no_grad():
            for v, d in zip(variables, directions):
                v.add_(bp.tensor(d * step))

    rng = np.random.default_rng(2)
    results = []
    for _ in range(directions):
        vs = [rng.standard_normal(v.shape) for v in variables]
        shift(vs, eps)
        up = float(loss())
        shift(vs, -2 * eps)
        down = float(loss())
        shift(vs, eps)
        analytic = sum(float((g * d).sum()) for g, d in zip(grads, vs))
        results.append((analytic, (up - down) / (2 * eps)))
    return results


@by_id([c for c in CASES if c.gradcheck])
def test_gradients_match_finite_differences(case: Case) -> None:
    for analytic, numeric in directional_derivatives(case):
        assert abs(analytic - numeric) <= 1e-5 * max(1.0, abs(numeric)), (analytic, numeric)


def public_module_classes() -> dict[str, type]:
    return {name: value for name, value in vars(bp.nn).items()
            if not name.startswith("_") and isinstance(value, type)
            and issubclass(value, bp.nn.Module)}


def test_every_public_module_has_a_row() -> None:
    covered = {type(case.build(bp)) for case in CASES}
    missing = sorted(name for name, cls in public_module_classes().items()
                     if cls not in covered and name not in NO_ROW)
    assert not missing, f"public modules without a module-table row: {missing}"


def test_constructor_signatures_are_pytorchs(torch: Any) -> None:
    """Parameter names, order, kinds and defaults of every public module class that PyTorch
    also has (``nn.Identity``'s ``*args, **kwargs`` included)."""

    def described(cls: type) -> list[tuple[str, Any, Any]]:
        # A function default (the Transformer layers' activation=F.relu) is each library's own
        # function: compare it by name.
        return [(p.name, p.kind, p.default.__name__ if inspect.isfunction(p.default)
                 else p.default) for p in inspect.signature(cls.__init__).parameters.values()]

    differ = [f"{name}: ours {described(cls)}, PyTorch's {described(getattr(torch.nn, name))}"
              for name, cls in sorted(public_module_classes().items())
              if hasattr(torch.nn, name) and described(cls) != described(getattr(torch.nn, name))]
    assert not differ, "\n".join(differ)
